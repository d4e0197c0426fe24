"""The application factory: :func:`create_app` builds the Starlette app over one store."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .. import package_path
from . import web
from .limits import FORM_LIMIT, UPLOAD_LIMIT, BodyLimit, RateLimiter
from .public_cache import PublicCache

log = logging.getLogger("qamtu.office")

#: the modules whose @route declarations make up the app (a new module adds one entry)
VIEW_MODULES: tuple[str, ...] = ("qamtu.office.staff", "qamtu.office.public", "qamtu.office.open311")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class Office:
    """Everything the views share: the store, templates, limits, settings and background jobs."""

    def __init__(self, store, *, behind_proxy: bool, max_upload: int, gazetteer=None, registers: Optional[Path] = None,
                 work_dir: Optional[Path] = None, demo: bool = False) -> None:
        self.store = store
        self.behind_proxy = behind_proxy
        self.max_upload = max_upload
        self.registers = registers
        self.demo = demo
        self._gazetteer = gazetteer
        self.work_dir = Path(work_dir) if work_dir else _default_work_dir(store)
        self.limiter = RateLimiter()
        self.jobs: dict[str, dict[str, Any]] = {}
        #: finished public answers (settlement pages, Open311 GET requests) served from memory
        self.public_cache = PublicCache()
        self.templates = Environment(loader=FileSystemLoader(str(package_path("office", "templates"))),
                                     autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                                     auto_reload=False)  # package data: no stat of every template per render
        from .staff import points_json, staff_nav

        self.templates.globals.update(staff_nav=staff_nav, points_json=points_json)

    @property
    def gazetteer(self):
        if self._gazetteer is None:
            from ..mapping.gazetteer import Gazetteer

            self._gazetteer = Gazetteer.load()
        return self._gazetteer

    def secure(self, request) -> bool:
        """Whether cookies get the Secure flag: the request came over TLS (as the proxy says, when trusted)."""
        return request.url.scheme == "https"


def _default_work_dir(store) -> Path:
    path = getattr(store, "path", None)
    base = Path(path).parent if path else Path.cwd()
    return base / "office-files"


#: the headers every response gets (encoded once)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"), (b"referrer-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"))


class SecurityHeaders:
    """ASGI middleware adding the security headers to every response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers += SECURITY_HEADERS
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(db, *, behind_proxy: bool = False, max_upload: int = UPLOAD_LIMIT, gazetteer=None,
               registers: Optional[Path] = None, work_dir: Optional[Path] = None,
               rates: Optional[dict] = None) -> Starlette:
    """The office web application over the store ``db`` (an open :class:`qamtu.store.Store`, a SQLite path
    or a ``postgresql://`` URL; a path or URL is opened read-write and migrated).

    ``behind_proxy``: trust ``X-Forwarded-Proto`` / ``X-Forwarded-For`` (only behind a TLS reverse proxy
    that sets them); ``max_upload``: bytes of a store file upload; ``rates``: overrides of
    :data:`qamtu.office.limits.RATES` by name."""
    from ..store import open_store
    from . import public_schema, schema  # noqa: F401  (register the office migrations)

    store = db if hasattr(db, "transaction") else open_store(db, create=True)
    for name in VIEW_MODULES:
        importlib.import_module(name)
    office = Office(store, behind_proxy=behind_proxy, max_upload=max_upload, gazetteer=gazetteer, registers=registers,
                    work_dir=work_dir)
    if rates:
        office.limiter.rates.update(rates)

    def size(p: web.Page) -> int:
        return max_upload if p.max_body < 0 else p.max_body

    limits = {p.path: size(p) for p in web.ROUTES}

    def limit_for(path: str) -> int:
        if path in limits:
            return limits[path]
        return max((size(p) for p in web.ROUTES if _matches(p.path, path)), default=FORM_LIMIT)

    routes: list[Any] = [Route(p.path, web.guarded(p, office), methods=list(p.methods), name=p.name)
                         for p in web.ROUTES]
    routes += [Mount("/static/leaflet", StaticFiles(directory=str(package_path("mapping", "data", "leaflet"))),
                     name="leaflet"),
               Mount("/static", StaticFiles(directory=str(package_path("office", "static"))), name="static"),
               Route("/", lambda request: RedirectResponse("/staff/", status_code=303))]

    async def not_found(request, exc):
        status = getattr(exc, "status_code", 404)
        return web.error_page(office, request, status, "error_not_found" if status == 404 else "error_refused")

    async def server_error(request, exc):
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return web.error_page(office, request, 500, "error_server")

    middleware = [Middleware(SecurityHeaders), Middleware(BodyLimit, limit_for=limit_for)]
    if behind_proxy:
        from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

        middleware.insert(0, Middleware(ProxyHeadersMiddleware, trusted_hosts="*"))
    app = Starlette(routes=routes, middleware=middleware,
                    exception_handlers={HTTPException: not_found, Exception: server_error, 500: server_error})
    app.state.office = office
    return app


def _matches(pattern: str, path: str) -> bool:
    a, b = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(a) == len(b) and all(x == y or x.startswith("{") for x, y in zip(a, b))


def serve(db: str, *, host: str = "127.0.0.1", port: int = 8080, behind_proxy: bool = False,
          max_upload: int = UPLOAD_LIMIT, work_dir: Optional[Path] = None) -> None:
    """Run the app under uvicorn (one worker: rate limits and upload jobs live in its memory)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(db, behind_proxy=behind_proxy, max_upload=max_upload, work_dir=work_dir)
    uvicorn.Server(server_config(app, host, port)).run()


def server_config(app, host: str, port: int, log_level: str = "info"):
    """The uvicorn settings of the office: no access log (it would hold query strings and addresses),
    no Server header, and uvicorn's own proxy-header handling off (uvicorn trusts X-Forwarded-* from
    127.0.0.1 by default; the app decides that itself with ``behind_proxy``)."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, access_log=False, proxy_headers=False, server_header=False,
                          log_level=log_level, lifespan="off")
