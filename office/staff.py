"""Staff pages under ``/staff/``: sign-in, dashboard, cases, intake, inspections, uploads, maps, users."""

from __future__ import annotations

from datetime import date
from typing import Any

from starlette.responses import JSONResponse, RedirectResponse

from . import auth
from .errors import AuthError
from .web import SESSION_COOKIE, Ctx, route, url_for

ALL = auth.ROLES
READ = ("inspector", "desk", "head", "admin")
DESK = ("desk", "head")
HEAD = ("head",)
FIELD = ("inspector", "head")
ADMIN = ("admin",)


def _safe_next(value: str) -> str:
    """Only a local /staff/ path (never another site) after sign-in."""
    if value.startswith("/staff/") and not value.startswith("//") and "\\" not in value:
        return value
    return url_for("dashboard")


@route("/staff/signin", name="signin", methods=("GET", "POST"), rate="signin")
def signin(ctx: Ctx):
    if ctx.request.method == "GET":
        return ctx.render("staff/signin.html", next=_safe_next(ctx.query.get("next", "")), failed=False)
    try:
        user = auth.authenticate(ctx.store, ctx.field("name"), ctx.field("password"))
    except AuthError:
        return ctx.render("staff/signin.html", status=401, next=_safe_next(ctx.field("next")), failed=True)
    token, _ = auth.open_session(ctx.store, user["name"])
    auth.audit(ctx.store, user["name"], user["role"], "signed_in", user["name"], {})
    response = RedirectResponse(_safe_next(ctx.field("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, token, max_age=auth.SESSION_HOURS * 3600, httponly=True, samesite="lax",
                        secure=ctx.office.secure(ctx.request), path="/")
    return response


@route("/staff/signout", name="signout", methods=("POST",), roles=ALL)
def signout(ctx: Ctx):
    auth.close_session(ctx.store, ctx.request.cookies.get(SESSION_COOKIE, ""))
    ctx.audit("signed_out", ctx.user["name"])
    response = RedirectResponse(url_for("signin"), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@route("/staff/", name="dashboard", roles=READ)
def dashboard(ctx: Ctx):
    from ..cases.due import due_list
    from ..cases.registers import appeals
    from ..cases.workdays import load_calendar

    today = date.today()
    due = due_list(ctx.store, today, load_calendar(ctx.office.registers), appeals(ctx.office.registers)) \
        if ctx.store.table_exists("cases_complaints") else {"answers": [], "orders": [], "redirections": []}
    answers = sorted(due["answers"], key=lambda r: r["working_days_left"])
    overdue = [r for r in answers if r["working_days_left"] < 0]
    soon = [r for r in answers if 0 <= r["working_days_left"] <= 3]
    return ctx.render("staff/dashboard.html", overdue=overdue, soon=soon, orders=due["orders"],
                      trips=_todays_trips(ctx, today), uploads=_recent_uploads(ctx))


def _todays_trips(ctx: Ctx, today: date) -> list[dict[str, Any]]:
    if not ctx.store.table_exists("inspections"):
        return []
    from ..reports.inspections import list_inspections

    out = []
    for insp in list_inspections(ctx.store):
        d = insp.model_dump(mode="json")
        if str(d.get("planned_date") or d.get("date") or "")[:10] == today.isoformat():
            out.append(d)
    return out


def _recent_uploads(ctx: Ctx) -> list[dict[str, Any]]:
    return ctx.store.query("SELECT time_utc, actor, target, detail FROM office_audit WHERE action = ? "
                           "ORDER BY time_utc DESC LIMIT 10", ("store_uploaded",))


@route("/staff/whoami.json", name="whoami", roles=ALL)
def whoami(ctx: Ctx):
    return JSONResponse({"name": ctx.user["name"], "role": ctx.user["role"]})


#: the staff menu: (route name, string key, roles that see it)
NAV: list[tuple[str, str, tuple[str, ...]]] = []


def staff_nav(user) -> list[tuple[str, str]]:
    if not user:
        return []
    return [(url_for(name), key) for name, key, roles in NAV if user["role"] in roles]


# ------------------------------------------------------------------------------------ cases
@route("/staff/cases", name="cases", roles=READ)
def cases_list(ctx: Ctx):
    from ..cases import records

    rows = records.list_cases(ctx.store) if ctx.store.table_exists("cases_cases") else []
    return ctx.render("staff/cases.html", rows=rows)


@route("/staff/cases/{case_id}", name="case", roles=READ, example={"case_id": "CASE-NONE"})
def case_page(ctx: Ctx):
    from ..cases import records

    case = records.get_case(ctx.store, ctx.params["case_id"])
    return ctx.render("staff/case.html", case=case)


@route("/staff/complaints/{complaint_id}", name="complaint", roles=READ, example={"complaint_id": "QT-NONE"})
def complaint_page(ctx: Ctx):
    from ..cases import records

    c = records.complaint(ctx.store, ctx.params["complaint_id"])
    return ctx.render("staff/complaint.html", c=c)


NAV.extend([("cases", "nav_cases", READ)])
