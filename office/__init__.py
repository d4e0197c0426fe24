"""The office web application (issue 15): one system over the regional store for inspectors, the 109
desk, the head of office and the public. Starlette + Jinja2 (autoescape) under uvicorn.

It sits at the top of the import graph beside ``cli.py``: it may import cases, reports, probe,
mapping and store; only ``cli.py`` imports it. Entry points::

    from qamtu.office.app import create_app, serve
    app = create_app("qamtu.db")              # or an open Store, or "postgresql://..."; behind_proxy=, max_upload=

Layout: ``app.py`` (factory, middleware, static mounts), ``web.py`` (the route table and the guard
every request passes), ``auth.py`` (users, argon2id, sessions, API keys, audit log), ``limits.py``
(rate and size limits), ``i18n.py`` + ``data/strings.toml`` (kk/ru texts), ``schema.py`` (the
office tables), ``staff.py`` (staff pages), ``templates/`` (Jinja2), ``static/`` (CSS, JS).

How to add things
-----------------
**A route**: in a view module (``staff.py``, or a new module listed in ``app.VIEW_MODULES``)::

    from .web import Ctx, route

    @route("/staff/things/{thing_id}", name="thing", roles=("desk", "head"), example={"thing_id": "T-1"})
    def thing(ctx: Ctx):                      # sync views run in a worker thread (store calls block)
        row = ...ctx.store.query(...)...
        return ctx.render("staff/thing.html", row=row)

``roles=None`` makes a public route; a tuple lists the staff roles allowed (signed-out visitors of a
staff GET page are redirected to sign-in, of anything else get 401; other roles get 403).
``methods=("GET", "POST")``: a POST must carry the form field ``csrf_token`` (or the header
``X-CSRF-Token``) equal to ``ctx.csrf``; only API-key routes pass ``csrf=False``. ``rate="public_post"``
or ``"signin"`` applies a token bucket per client (``limits.RATES``); ``max_body=`` bytes (default
:data:`~qamtu.office.limits.FORM_LIMIT`; ``-1`` = the upload limit). ``example=`` gives path
parameter values for the test that walks every route with every role. Route names are unique;
templates link with ``url_for(name, **params)``. A view gets a :class:`~qamtu.office.web.Ctx`:
``ctx.store``, ``ctx.user`` (``{"name", "role", "csrf"}`` or None; staff views read ``ctx.staff_user``,
never None), ``ctx.lang``, ``ctx.t(key)``,
``ctx.form`` / ``ctx.field(name)``, ``ctx.query``, ``ctx.params``, ``ctx.render(template, **values)``,
``ctx.audit(action, target, detail)`` (every staff write must call it), ``ctx.redirect(url)``.
A :class:`qamtu.QamtuError` raised by a view becomes a 400 page with its message (staff routes) or
a generic one (public routes); anything else a 500 page; never a traceback.

**A template**: ``templates/<area>/<name>.html`` extending ``base.html`` (blocks ``title``,
``main``, ``head``, ``scripts``, ``nav``). Autoescape is on: never use ``|safe`` on data. Every
form has ``<input type="hidden" name="csrf_token" value="{{ csrf }}">``. No inline script or
``style=`` attributes (the CSP allows ``'self'`` only): put JS in ``static/`` and load it with
``<script src=... defer>`` in the ``scripts`` block; pass data through ``data-*`` attributes or a
JSON endpoint. Leaflet is served from ``/static/leaflet/`` (``leaflet.js``, ``leaflet.css``).

**A string**: a line in ``data/strings.toml``: ``key = { kk = "...", ru = "..." }`` (both
required); templates call ``t("key")``. English stays in code and logs only.

**Public pages** (``roles=None``): put them in a module of their own (e.g. ``office/public.py``,
added to ``app.VIEW_MODULES``) with templates under ``templates/public/``; override the ``nav``
block of ``base.html``. ``/`` currently redirects to ``/staff/``: a public route declared for ``/``
takes precedence (declared routes come before the fallback). Public POSTs take
``rate="public_post"`` and the CSRF field (the token then lives in the ``qamtu_csrf`` cookie);
API-key routes (Open311 POST) take ``csrf=False`` and check the key with
:func:`qamtu.office.auth.key_name`. Never render personal data (``cases_applicants``) on them.

**A role**: roles are :data:`qamtu.office.auth.ROLES` (inspector, desk, head, admin); what each may
do is only the ``roles=`` of each route (docs/office.md has the table). Adding a role means adding it
to ``ROLES``, a ``role_<name>`` string, and to the routes it may use; the route-walking test
covers it automatically. **A staff menu entry**: :data:`qamtu.office.staff.NAV`.
"""
