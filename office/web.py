"""The declarative route table and the one guard every route goes through.

A view module declares its routes with :func:`route`; the guard (:func:`guarded`) then does, in
order, for every request: size limit (already applied by :class:`~qamtu.office.limits.BodyLimit`),
rate limit (``rate=``), sign-in and role check (``roles=``: None is public, a tuple lists the staff
roles allowed), form parsing, CSRF check on POST (``csrf=False`` only for API-key routes), then
the view, with errors turned into pages without stack traces. ``tests/test_office_security.py``
walks :data:`ROUTES` with every role and signed out.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response

from .. import QamtuError
from . import auth, i18n
from .errors import AuthError
from .limits import FORM_LIMIT

log = logging.getLogger("qamtu.office")

SESSION_COOKIE = "qamtu_session"
CSRF_COOKIE = "qamtu_csrf"
#: every staff role
STAFF = auth.ROLES


@dataclass(frozen=True)
class Page:
    """One route: ``path`` (Starlette syntax), the view, methods, who may call it and its limits."""

    path: str
    view: Callable[..., Any]
    name: str
    methods: tuple[str, ...] = ("GET",)
    roles: Optional[tuple[str, ...]] = None
    rate: Optional[str] = None
    csrf: bool = True
    max_body: int = FORM_LIMIT
    #: example values of the path parameters, for the route-walking test
    example: dict[str, str] = field(default_factory=dict)


#: every route of the application, filled by the view modules' @route decorators
ROUTES: list[Page] = []


def route(path: str, *, name: str, methods: tuple[str, ...] = ("GET",), roles: Optional[tuple[str, ...]] = None,
          rate: Optional[str] = None, csrf: bool = True, max_body: int = FORM_LIMIT,
          example: Optional[dict[str, str]] = None) -> Callable:
    """Declare a view: ``def view(ctx: Ctx) -> Response`` (sync views run in a thread; async ones may be used)."""
    bad = set(roles or ()) - set(STAFF)
    if bad:
        raise ValueError(f"route {path}: unknown roles {sorted(bad)}")

    def deco(fn: Callable) -> Callable:
        if any(p.name == name for p in ROUTES):
            raise ValueError(f"route name {name!r} declared twice")
        ROUTES.append(Page(path, fn, name, tuple(methods), tuple(roles) if roles is not None else None, rate, csrf,
                           max_body, dict(example or {})))
        return fn

    return deco


class Ctx:
    """What a view gets: the request, the office (store, settings), the user, the language, the form."""

    def __init__(self, request: Request, office, page: Page, user: Optional[auth.SessionUser], lang: str,
                 csrf: str, form: Any) -> None:
        self.request, self.office, self.page, self.user = request, office, page, user
        self.lang, self.csrf, self.form = lang, csrf, form
        self.store = office.store
        self.params = request.path_params
        self.query = request.query_params

    def t(self, key: str) -> str:
        return i18n.t(key, self.lang)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        html = self.office.templates.get_template(template).render(
            t=self.t, lang=self.lang, user=self.user, csrf=self.csrf, request=self.request, page=self.page,
            path=self.request.url.path, url_for=url_for, **values)
        return HTMLResponse(html, status_code=status)

    def audit(self, action: str, target: str, detail: Optional[dict[str, Any]] = None) -> None:
        """Record a staff action in the append-only audit log."""
        user = self.staff_user
        auth.audit(self.store, user["name"], user["role"], action, target, detail or {})

    @property
    def staff_user(self) -> auth.SessionUser:
        """The signed-in user of a staff route (the guard lets no one else in); :class:`AuthError` if none."""
        if self.user is None:
            raise AuthError(f"{self.page.path}: sign in first (staff only)")
        return self.user

    @property
    def actor(self) -> str:
        return self.user["name"] if self.user else "public"

    def field(self, name: str, default: str = "") -> str:
        v = self.form.get(name) if self.form is not None else None
        return v.strip() if isinstance(v, str) else default

    def redirect(self, to: str) -> RedirectResponse:
        return RedirectResponse(to, status_code=303)


def url_for(route_name: str, /, **params: Any) -> str:
    """The path of the route ``route_name`` with its parameters filled in (quoted)."""
    for p in ROUTES:
        if p.name == route_name:
            path = p.path
            for k, v in params.items():
                path = path.replace("{" + k + "}", quote(str(v), safe=""))
            return path
    raise KeyError(route_name)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def error_page(office, request: Request, status: int, message_key: str, detail: str = "") -> Response:
    lang = i18n.pick(request)
    if "application/json" in request.headers.get("accept", "") or request.url.path.endswith(".json"):
        return JSONResponse({"error": i18n.t(message_key, lang), "detail": detail}, status_code=status)
    try:
        html = office.templates.get_template("error.html").render(
            t=lambda k: i18n.t(k, lang), lang=lang, user=None, csrf="", status=status,
            message=i18n.t(message_key, lang),
            detail=detail, path=request.url.path, url_for=url_for, page=None, request=request)
        return HTMLResponse(html, status_code=status)
    except Exception:  # the error page itself must never fail into a traceback
        return PlainTextResponse(f"{status}", status_code=status)


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame of ``exc`` inside qamtu (no values, no message)."""
    tb, where = exc.__traceback__, "?"
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if "qamtu" in name or "/office/" in name:
            where = f"{name.rsplit('/', 2)[-2]}/{name.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return where


def guarded(page: Page, office) -> Callable:
    """The Starlette endpoint of ``page``: every check of the module docstring, then the view."""

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        response = await _handle(page, office, request)
        log.info("%s %s -> %d (%.0f ms)", request.method, page.name, response.status_code,
                 (time.perf_counter() - started) * 1000)
        return response

    endpoint.__name__ = page.name
    return endpoint


async def _handle(page: Page, office, request: Request) -> Response:
    if page.rate and request.method == "POST":
        wait = office.limiter.take(page.rate, client_address(request))
        if wait:
            r = error_page(office, request, 429, "error_rate")
            r.headers["Retry-After"] = str(int(wait) + 1)
            return r
    token = request.cookies.get(SESSION_COOKIE, "")
    user = await run_in_threadpool(auth.session_user, office.store, token) if token else None
    if page.roles is not None:
        if user is None:
            if request.method == "GET" and not request.url.path.endswith(".json"):
                nxt = quote(request.url.path, safe="/")
                return RedirectResponse(f"{url_for('signin')}?next={nxt}", status_code=303)
            return error_page(office, request, 401, "error_signin")
        if user["role"] not in page.roles:
            return error_page(office, request, 403, "error_forbidden")
    new_cookie = None
    if user is not None:
        csrf = user["csrf"]
    else:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if not (20 <= len(csrf) <= 100):
            csrf = new_cookie = secrets.token_urlsafe(32)
    form = None
    if request.method == "POST":
        try:
            form = await request.form(max_files=4, max_fields=200)
        except Exception:
            return error_page(office, request, 400, "error_bad_form")
        if page.csrf:
            given = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
            if not isinstance(given, str) or not hmac.compare_digest(given.encode(), csrf.encode()) or new_cookie:
                return error_page(office, request, 403, "error_csrf")
    ctx = Ctx(request, office, page, user, i18n.pick(request), csrf, form)
    try:
        if asyncio.iscoroutinefunction(page.view):
            response = await page.view(ctx)
        else:
            response = await run_in_threadpool(page.view, ctx)
    except QamtuError as exc:
        # a refusal the person can act on: its message names the field; no traceback
        log.info("%s %s refused: %s", request.method, page.name, type(exc).__name__)
        response = error_page(office, request, 400, "error_refused", str(exc) if page.roles else "")
    except Exception as exc:
        # a bug: the log names the route and the exception type only (its message may hold personal data)
        log.error("%s %s failed: %s (%s)", request.method, page.name, type(exc).__name__, _where(exc))
        response = error_page(office, request, 500, "error_server")
    if new_cookie:
        response.set_cookie(CSRF_COOKIE, new_cookie, httponly=True, samesite="lax", secure=office.secure(request),
                            path="/")
    q = request.query_params.get("lang")
    if q in i18n.LANGS:
        response.set_cookie("lang", q, max_age=365 * 86400, samesite="lax", secure=office.secure(request), path="/")
    if page.roles is not None:
        response.headers["Cache-Control"] = "no-store"
    return response
