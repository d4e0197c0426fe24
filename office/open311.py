"""Open311 GeoReport v2 under ``/open311/v2/`` (JSON and XML; docs/office.md has the mapping).

A *service request* is a **case** (settlement x operator x service): what the inspection works on and
what the public may see. A complaint POSTed by a client is registered through cases' public API; the
client gets a random token (``tokens/{token}``) that leads to the case once the complaint is in one.
No answer carries personal data, complaint text or talon numbers: ``description`` is built from the
settlement, operator and service; ``address`` is the settlement's name, ``lat``/``long`` its point.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any, Optional
from xml.etree import ElementTree as ET

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from . import auth
from .public_cache import Answer
from .public_data import KZ, due_date, operator_name, operators, service_label, state_label
from .public_intake import PublicFormError, nearest_settlement, register
from .web import Ctx, route

FORMATS = ("json", "xml")
#: requests answered by default and at most (the spec's default volume is 1000)
MAX_REQUESTS = 1000
#: days a start/end window may span (the spec's limit), and the default window
MAX_DAYS = 90
#: status_notes and service names are in this language (the Open311 answer has one)
LANG = "ru"
#: seconds an answer to the same GET requests query may be kept by clients and proxies (the app keeps it as
#: long: :mod:`qamtu.office.public_cache`; a registration through the app drops it at once, a staff change
#: shows within this time plus one rebuild)
CACHE_SECONDS = 10.0
JSON = "application/json"


class Refusal(Exception):
    def __init__(self, status: int, code: int, text: str) -> None:
        super().__init__(text)
        self.status, self.code, self.text = status, code, text


def _format(ctx: Ctx) -> str:
    fmt = ctx.params.get("fmt", "")
    if fmt not in FORMATS:
        raise Refusal(400, 400, f"format {fmt!r} is not served; use one of: {', '.join(FORMATS)} (e.g. requests.json)")
    return fmt


def _xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for r in rows:
        el = ET.SubElement(top, item)
        for k, v in r.items():
            if isinstance(v, list):
                sub = ET.SubElement(el, k)
                for x in v:
                    child = ET.SubElement(sub, k[:-1] if k.endswith("s") else "item")
                    if isinstance(x, dict):
                        for kk, vv in x.items():
                            ET.SubElement(child, kk).text = "" if vv is None else str(vv)
                    else:
                        child.text = str(x)
            else:
                ET.SubElement(el, k).text = "" if v is None else (str(v).lower() if isinstance(v, bool) else str(v))
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def _answer(fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200) -> Response:
    if fmt == "xml":
        return Response(_xml(root, item, rows), status_code=status, media_type="text/xml; charset=utf-8")
    return Response(orjson.dumps(rows), status_code=status, media_type=JSON)


def _error(fmt: str, refusal: Refusal) -> Response:
    rows = [{"code": refusal.code, "description": refusal.text}]
    return _answer(fmt if fmt in FORMATS else "json", "errors", "error", rows, refusal.status)


def _guard(view):
    def wrapped(ctx: Ctx):
        fmt = ctx.params.get("fmt", "json")
        try:
            return view(ctx, _format(ctx))
        except Refusal as r:
            return _error(fmt, r)

    wrapped.__name__ = view.__name__
    return wrapped


# ------------------------------------------------------------------------------------ services
def _service_rows() -> list[dict[str, Any]]:
    from ..cases.models import SERVICES

    return [{"service_code": s, "service_name": service_label(s, LANG), "description":
             f"{service_label(s, 'kk')} / {service_label(s, 'ru')}", "metadata": True, "type": "batch",
             "keywords": "telecom, coverage, " + s.replace("_", " "), "group": "telecom"} for s in SERVICES]


def _definition(code: str) -> dict[str, Any]:
    ops = sorted(operators().items(), key=lambda kv: kv[1]["name"].lower())
    return {"service_code": code, "attributes": [
        {"variable": True, "code": "operator", "datatype": "singlevaluelist", "required": True,
         "datatype_description": "the operator complained about", "order": 1, "description": "Operator / Оператор",
         "values": [{"key": k, "name": v["name"]} for k, v in ops]},
        {"variable": True, "code": "postal_address", "datatype": "string", "required": True,
         "datatype_description": "the applicant's postal address for the answer (APPK art. 63); never published",
         "order": 2, "description": "Postal address / Почтовый адрес", "values": []},
        {"variable": True, "code": "iin", "datatype": "string", "required": False,
         "datatype_description": "12-digit IIN (APPK art. 63, if any); never published", "order": 3,
         "description": "IIN / ИИН", "values": []}]}


@route("/open311/v2/services.{fmt}", name="open311_services", example={"fmt": "json"})
@_guard
def services(ctx: Ctx, fmt: str):
    return _answer(fmt, "services", "service", _service_rows())


@route("/open311/v2/services/{code}.{fmt}", name="open311_service", example={"code": "mobile_internet", "fmt": "json"})
@_guard
def service(ctx: Ctx, fmt: str):
    from ..cases.models import SERVICES

    code = ctx.params["code"]
    if code not in SERVICES:
        raise Refusal(404, 404, f"service_code {code!r} is not a service (see services.{fmt})")
    d = _definition(code)
    if fmt == "xml":
        top = ET.Element("service_definition")
        ET.SubElement(top, "service_code").text = code
        attrs = ET.SubElement(top, "attributes")
        for a in d["attributes"]:
            el = ET.SubElement(attrs, "attribute")
            for k, v in a.items():
                if k == "values":
                    vs = ET.SubElement(el, "values")
                    for x in v:
                        ve = ET.SubElement(vs, "value")
                        ET.SubElement(ve, "key").text = x["key"]
                        ET.SubElement(ve, "name").text = x["name"]
                else:
                    ET.SubElement(el, k).text = str(v).lower() if isinstance(v, bool) else str(v)
        return Response(b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8"),
                        media_type="text/xml; charset=utf-8")
    return JSONResponse(d)


# ------------------------------------------------------------------------------------ requests
def _dt(day: Optional[str]) -> Optional[str]:
    """A day (YYYY-MM-DD) as the spec's W3C datetime at the start of the Kazakhstan day."""
    return f"{day}T00:00:00+05:00" if day else None


def _utc_dt(text: Optional[str]) -> Optional[str]:
    if not text:
        return None
    return text.replace("Z", "+00:00") if text.endswith("Z") else text


def _parse_dt(name: str, text: str) -> date:
    if re.search(r"\d \d\d:?\d\d$", text):  # an unencoded "+" of the offset arrives as a space
        text = text[:-6] + "+" + text[-5:] if text[-3] == ":" else text[:-5] + "+" + text[-4:]
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Refusal(400, 400, f"{name} {text!r} is not a W3C datetime (e.g. 2026-11-01T00:00:00+05:00)") from None
    return t.astimezone(KZ).date() if t.tzinfo else t.date()


def _request_objects(ctx: Ctx, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Spec request objects of case rows (one query for the complaints' due dates of all of them)."""
    ids = [r["case_id"] for r in rows]
    due: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        marks = ", ".join("?" for _ in part)
        for r in ctx.store.query(
                f"SELECT k.case_id, m.received, m.extended_until, m.extension_decided FROM cases_case_complaints k "
                f"JOIN cases_complaints m ON m.complaint_id = k.complaint_id WHERE k.case_id IN ({marks}) "
                f"AND m.answered_on IS NULL", part):
            d = due_date(ctx.office, r["received"], r["extended_until"], r["extension_decided"])
            if r["case_id"] not in due or d < due[r["case_id"]]:
                due[r["case_id"]] = d
    g = ctx.office.gazetteer
    out = []
    for r in rows:
        try:
            s = g.get(r["kato"])
            address, lat, lon = f"{s.name_kk} / {s.name_ru}, {s.district_name_ru}", s.lat, s.lon
        except Exception:
            address, lat, lon = r["kato"], None, None
        closed = r["state"] == "closed"
        notes = f"{r['state']}: {state_label(r['state'], 'ru')} / {state_label(r['state'], 'kk')}"
        if closed and r["outcome"]:
            notes += f"; outcome {r['outcome']}"
        f = json.loads(r["fields"] or "{}")
        if f.get("order_number") and r["state"] in ("order_issued", "remedy_due", "re_measured"):
            notes += f"; order {f['order_number']} due {f.get('order_deadline')}"
        op = operator_name(r["operator"])
        out.append({"service_request_id": r["case_id"], "status": "closed" if closed else "open", "status_notes": notes,
                    "service_name": service_label(r["service"], LANG), "service_code": r["service"],
                    "description": f"{service_label(r['service'], LANG)}: {op}, {address}",
                    "agency_responsible": op, "service_notice": "",
                    "requested_datetime": _dt(r["opened"]), "updated_datetime": _utc_dt(r["updated_utc"]),
                    "expected_datetime": _dt(due.get(r["case_id"])), "address": address, "address_id": r["kato"],
                    "zipcode": "", "lat": lat, "long": lon, "media_url": ""})
    return out


_CASE_COLUMNS = "case_id, kato, operator, service, state, outcome, opened, updated_utc, fields"


def _query_requests(ctx: Ctx) -> list[dict[str, Any]]:
    q = ctx.query
    if q.get("service_request_id"):
        ids = [x.strip() for x in q["service_request_id"].split(",") if x.strip()][:MAX_REQUESTS]
        if not ids:
            return []
        marks = ", ".join("?" for _ in ids)
        sql = f"SELECT {_CASE_COLUMNS} FROM cases_cases WHERE case_id IN ({marks}) ORDER BY case_id"
        return ctx.store.query(sql, ids)
    where, params = [], []
    today = datetime.now(KZ).date()
    start = _parse_dt("start_date", q["start_date"]) if q.get("start_date") else None
    end = _parse_dt("end_date", q["end_date"]) if q.get("end_date") else None
    if start and end and end < start:
        raise Refusal(400, 400, "end_date is before start_date")
    if start and end and (end - start).days > MAX_DAYS:
        raise Refusal(400, 400, f"start_date..end_date spans more than {MAX_DAYS} days (the spec's limit)")
    if not start:
        start = (end or today) - timedelta(days=MAX_DAYS)
    where.append("opened >= ?")
    params.append(start.isoformat())
    if end:
        where.append("opened <= ?")
        params.append(end.isoformat())
    if q.get("service_code"):
        codes = [c.strip() for c in q["service_code"].split(",") if c.strip()]
        where.append("service IN (" + ", ".join("?" for _ in codes) + ")")
        params += codes
    status = q.get("status")
    if status:
        wanted = {x.strip() for x in status.split(",")}
        if not wanted <= {"open", "closed"}:
            raise Refusal(400, 400, f"status {status!r}: use open or closed")
        if wanted == {"open"}:
            where.append("state <> 'closed'")
        elif wanted == {"closed"}:
            where.append("state = 'closed'")
    try:
        limit = int(q.get("page_size") or q.get("limit") or MAX_REQUESTS)
        page = int(q.get("page") or 1)
    except ValueError:
        raise Refusal(400, 400, "page_size and page must be whole numbers") from None
    if not 1 <= limit <= MAX_REQUESTS or page < 1:
        raise Refusal(400, 400, f"page_size must be 1..{MAX_REQUESTS} and page at least 1")
    sql = (f"SELECT {_CASE_COLUMNS} FROM cases_cases WHERE {' AND '.join(where)} ORDER BY opened DESC, case_id DESC "
           f"LIMIT ? OFFSET ?")
    return ctx.store.query(sql, [*params, limit, (page - 1) * limit])


@route("/open311/v2/requests.{fmt}", name="open311_requests", methods=("GET", "POST"), rate="open311_post",
       csrf=False, example={"fmt": "json"})
async def requests_(ctx: Ctx):
    if ctx.request.method == "POST":
        return await run_in_threadpool(_guard(_post), ctx)
    fmt = ctx.params.get("fmt", "")
    key = ("open311", fmt, tuple(sorted(ctx.query.multi_items())))
    return await ctx.office.public_cache.serve(ctx.request, key, lambda: _requests_answer(ctx, fmt),
                                               f"public, max-age={int(CACHE_SECONDS)}")


def _requests_answer(ctx: Ctx, fmt: str) -> Answer:
    """The answer to a GET requests query (a refusal is answered, not kept)."""
    try:
        r = _answer(_format(ctx), "service_requests", "request", _request_objects(ctx, _query_requests(ctx)))
        return Answer(bytes(r.body), r.media_type or JSON)
    except Refusal as refusal:
        r = _error(fmt, refusal)
        return Answer(bytes(r.body), r.media_type or JSON, status=r.status_code, keep=False)


@route("/open311/v2/requests/{rid}.{fmt}", name="open311_request", example={"rid": "CASE-2026-0001", "fmt": "json"})
@_guard
def request_(ctx: Ctx, fmt: str):
    rows = ctx.store.query(f"SELECT {_CASE_COLUMNS} FROM cases_cases WHERE case_id = ?", (ctx.params["rid"][:40],))
    if not rows:
        raise Refusal(404, 404, f"no service request {ctx.params['rid'][:40]!r}")
    return _answer(fmt, "service_requests", "request", _request_objects(ctx, rows))


@route("/open311/v2/tokens/{token}.{fmt}", name="open311_token", example={"token": "t" * 20, "fmt": "json"})
@_guard
def token_(ctx: Ctx, fmt: str):
    token = ctx.params["token"][:64]
    rows = ctx.store.query("SELECT t.token, k.case_id FROM office_open311_tokens t LEFT JOIN cases_case_complaints k "
                           "ON k.complaint_id = t.complaint_id WHERE t.token = ? ORDER BY k.case_id", (token,))
    if not rows:
        raise Refusal(404, 404, "no such token")
    return _answer(fmt, "service_requests", "request",
                   [{"service_request_id": r["case_id"], "token": r["token"]} for r in rows])


def _post(ctx: Ctx, fmt: str) -> Response:
    key = ctx.field("api_key")
    name = auth.key_name(ctx.store, key)
    if name is None:
        raise Refusal(403, 403, "api_key missing or not valid (ask the inspection for a key: `qamtu office keys add`)")
    code = ctx.field("service_code")
    from ..cases.models import SERVICES

    if code not in SERVICES:
        raise Refusal(400, 400, f"service_code {code!r}: use one of {', '.join(SERVICES)}")
    kato = ctx.field("address_id")
    place = ctx.field("address_string")
    if not kato and not place and ctx.field("lat") and ctx.field("long"):
        try:
            kato = nearest_settlement(ctx.office, float(ctx.field("lat")), float(ctx.field("long"))) or ""
        except ValueError:
            raise Refusal(400, 400, "lat and long must be decimal degrees") from None
        if not kato:
            raise Refusal(400, 400, "lat/long: no settlement of the region within 5 km; give address_string")
    if not kato and not place:
        raise Refusal(400, 400, "give a location: lat and long, address_string or address_id (a KATO code)")
    name_text = " ".join(x for x in (ctx.field("first_name"), ctx.field("last_name")) if x)
    try:
        out = register(ctx.office, kato=kato, place=place, operator=ctx.field("attribute[operator]"), service=code,
                       description=ctx.field("description"), name=name_text, iin=ctx.field("attribute[iin]"),
                       postal_address=ctx.field("attribute[postal_address]"), phone=ctx.field("phone"),
                       email=ctx.field("email"), submission=secrets.token_hex(16), by=f"open311 key {name}")
    except PublicFormError as exc:
        names = {"name": "first_name/last_name", "postal_address": "attribute[postal_address]",
                 "operator": "attribute[operator]", "iin": "attribute[iin]", "kato": "address_id",
                 "place": "address_string"}
        raise Refusal(400, 400, "check field(s): " + ", ".join(names.get(f, f) for f in exc.fields)) from None
    token = secrets.token_urlsafe(24)
    with ctx.store.transaction("recording an Open311 token") as tx:
        tx.execute("INSERT INTO office_open311_tokens (token, complaint_id, key_name, created_utc) VALUES (?, ?, ?, ?)",
                   (token, out["talon"], name, auth.now_text()))
    row: dict[str, Any] = {"token": token}
    if len(out["cases"]) == 1:
        row["service_request_id"] = out["cases"][0]
    row.update({"service_notice": f"answer due by {out['due']} (APPK art. 76: 15 working days)", "account_id": None})
    return _answer(fmt, "service_requests", "request", [row], 201)
