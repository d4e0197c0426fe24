"""Staff pages under ``/staff/``: sign-in, dashboard, cases, intake, inspections, uploads, maps, users."""

from __future__ import annotations

from datetime import date
from pathlib import Path
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
    ctx.audit("signed_out", ctx.staff_user["name"])
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
        if d["act_registered"] == today.isoformat():
            s = _settlement(ctx, d["kato"]) or {}
            out.append({**d, "day": d["act_registered"], "stops": [{"name": s.get("name", d["kato"])}]})
    return out


def _recent_uploads(ctx: Ctx) -> list[dict[str, Any]]:
    return ctx.store.query("SELECT time_utc, actor, target, detail FROM office_audit WHERE action = ? "
                           "ORDER BY time_utc DESC LIMIT 10", ("store_uploaded",))


@route("/staff/whoami.json", name="whoami", roles=ALL)
def whoami(ctx: Ctx):
    return JSONResponse({"name": ctx.staff_user["name"], "role": ctx.staff_user["role"]})


#: the staff menu: (route name, string key, roles that see it)
NAV: list[tuple[str, str, tuple[str, ...]]] = []


def staff_nav(user) -> list[tuple[str, str]]:
    if not user:
        return []
    return [(url_for(name), key) for name, key, roles in NAV if user["role"] in roles]


# ------------------------------------------------------------------------------------ helpers
def _cases_ready(ctx: Ctx) -> bool:
    return ctx.store.table_exists("cases_cases")


def _settlement(ctx: Ctx, kato: str | None) -> dict[str, Any] | None:
    if not kato:
        return None
    try:
        s = ctx.office.gazetteer.get(kato)
    except Exception:
        return {"kato": kato, "name": kato, "lat": None, "lon": None, "district": ""}
    name = s.name_kk if ctx.lang == "kk" else s.name_ru
    district = s.district_name_kk if ctx.lang == "kk" else s.district_name_ru
    return {"kato": kato, "name": name or s.name_ru or kato, "lat": s.lat if s.located else None,
            "lon": s.lon if s.located else None, "district": district or "", "district_kato": s.district_kato}


def _due(ctx: Ctx) -> dict[str, Any]:
    from ..cases.due import due_list
    from ..cases.registers import appeals
    from ..cases.workdays import load_calendar

    if not _cases_ready(ctx):
        return {"answers": [], "orders": [], "redirections": []}
    return due_list(ctx.store, date.today(), load_calendar(ctx.office.registers), appeals(ctx.office.registers))


def _operators() -> dict[str, str]:
    from ..cases.ports import operators_table

    return {k: v["name"] for k, v in operators_table().items()}


def _services() -> tuple[str, ...]:
    from ..cases.models import SERVICES

    return SERVICES


def points_json(settlement: dict[str, Any] | None, candidates: list[dict[str, Any]]) -> str:
    """The markers of the case map as JSON for a ``data-points`` attribute (escaped by the template)."""
    import json

    pts = []
    for kind, s in [("match", settlement)] + [("candidate", c) for c in candidates]:
        if s and s.get("lat") is not None:
            pts.append({"kind": kind, "name": s["name"], "kato": s["kato"], "lat": s["lat"], "lon": s["lon"]})
    return json.dumps(pts, ensure_ascii=False)


def _state_label(ctx: Ctx, state: str) -> str:
    from ..cases.states import LABELS

    kk, ru = LABELS.get(state, (state, state))
    return kk if ctx.lang == "kk" else ru


# ------------------------------------------------------------------------------------ cases
@route("/staff/cases", name="cases", roles=READ)
def cases_list(ctx: Ctx):
    from ..cases import records
    from ..cases.models import SERVICES
    from ..cases.states import STATES

    rows = records.list_cases(ctx.store) if _cases_ready(ctx) else []
    f = {k: ctx.query.get(k, "").strip()[:100] for k in ("state", "district", "operator", "service", "q", "overdue")}
    overdue_cases = {c for r in _due(ctx)["answers"] if r["working_days_left"] < 0 for c in r["cases"]}
    out = []
    q = f["q"].lower()
    by_talon = set()
    if q.startswith("qt-") and _cases_ready(ctx):   # a talon number finds the cases of that complaint
        by_talon = {r["case_id"] for r in ctx.store.query(
            "SELECT case_id FROM cases_case_complaints WHERE complaint_id = ?", (f["q"].upper(),))}
    for c in rows:
        st = _settlement(ctx, c["kato"]) or {}
        c = {**c, "settlement": st.get("name", c["kato"]), "district_name": st.get("district", ""),
             "overdue": c["case_id"] in overdue_cases, "state_label": _state_label(ctx, c["state"])}
        if f["state"] and c["state"] != f["state"]:
            continue
        if f["district"] and c["district_kato"] != f["district"]:
            continue
        if f["operator"] and c["operator"] != f["operator"]:
            continue
        if f["service"] and c["service"] != f["service"]:
            continue
        if f["overdue"] and not c["overdue"]:
            continue
        if q and c["case_id"] not in by_talon and \
                q not in " ".join([c["case_id"], c["kato"], c["settlement"], c["district_name"]]).lower():
            continue
        out.append(c)
    districts = sorted({(c["district_kato"], (_settlement(ctx, c["kato"]) or {}).get("district", "")) for c in rows
                        if c["district_kato"]})
    return ctx.render("staff/cases.html", rows=out, f=f, states=[(s, _state_label(ctx, s)) for s in STATES],
                      operators=_operators(), services=SERVICES, districts=districts)


@route("/staff/cases/{case_id}", name="case", roles=READ, example={"case_id": "CASE-NONE"})
def case_page(ctx: Ctx):
    from ..cases import ports, records
    from ..cases.states import FIELDS

    case = records.get_case(ctx.store, ctx.params["case_id"])
    chain = records.verify(ctx.store, case["case_id"])[0]
    settlement = _settlement(ctx, case["kato"])
    candidates, seen, answers = [], {case["kato"]}, []
    for cid in case["complaints"]:
        c = records.complaint(ctx.store, cid)
        answers.append({"complaint_id": cid, "answer": c["answer"], "language": c["language"],
                        "blockers": records.answer_blockers(ctx.store, cid) if not c["answer"] else []})
        for cand in ports.match_address(c.get("address_text") or "", ctx.office.gazetteer).get("candidates") or []:
            k = cand.get("kato")
            if k and k not in seen:
                seen.add(k)
                st = _settlement(ctx, k)
                if st:
                    candidates.append({**st, "score": cand.get("score")})
    for h in case["history"]:
        h["label"] = _state_label(ctx, h["payload"].get("to", "")) if h["kind"] == "transition" else h["kind"]
    findings = [h for h in case["history"] if h["kind"] == "findings"]
    moves = [{"to": to, "label": _state_label(ctx, to), "required": FIELDS[to][0], "optional": FIELDS[to][1]}
             for to in case["allowed"] if to != "answered"]
    return ctx.render("staff/case.html", case=case, chain=chain, settlement=settlement, candidates=candidates[:8],
                      findings=findings, moves=moves, can_move=ctx.staff_user["role"] in DESK, answers=answers,
                      can_issue=ctx.staff_user["role"] in HEAD,
                      state_label=_state_label(ctx, case["state"]), operators=_operators())


@route("/staff/cases/{case_id}/move", name="case_move", methods=("POST",), roles=DESK, example={"case_id": "CASE-NONE"})
def case_move(ctx: Ctx):
    from ..cases import records
    from ..cases.states import FIELDS

    case_id, to = ctx.params["case_id"], ctx.field("to")
    if to not in FIELDS or to == "answered":
        from .errors import OfficeError

        raise OfficeError(f"to: {to!r} is not a state a person moves a case to")
    req, opt = FIELDS[to]
    fields = {k: ctx.field(k) for k in req + opt if ctx.field(k)}
    before = records.get_case(ctx.store, case_id)["state"]
    records.transition(ctx.store, case_id, to, by=ctx.staff_user["name"], fields=fields)
    ctx.audit("case_moved", case_id, {"from": before, "to": to})
    return ctx.redirect(url_for("case", case_id=case_id))


@route("/staff/complaints/{complaint_id}", name="complaint", roles=READ, example={"complaint_id": "QT-NONE"})
def complaint_page(ctx: Ctx):
    from ..cases import ports, records

    c = records.complaint(ctx.store, ctx.params["complaint_id"])
    person = None
    if ctx.staff_user["role"] in DESK:   # personal data: only the desk and the head see it
        person = records.applicant(ctx.store, c["complaint_id"]).model_dump()
    match = ports.match_address(c.get("address_text") or "", ctx.office.gazetteer) if not c.get("kato") else None
    candidates = [s for s in (_settlement(ctx, x.get("kato")) for x in (match or {}).get("candidates") or []) if s]
    blockers = records.answer_blockers(ctx.store, c["complaint_id"]) if not c["answer"] else []
    files = _answer_files(ctx, c["complaint_id"])
    return ctx.render("staff/complaint.html", c=c, person=person, settlement=_settlement(ctx, c.get("kato")),
                      candidates=candidates, blockers=blockers, files=files, can_desk=ctx.staff_user["role"] in DESK,
                      can_issue=ctx.staff_user["role"] in HEAD, operators=_operators(), services=_services())


def _answer_dir(ctx: Ctx, kind: str) -> Path:
    return ctx.office.work_dir / kind


def _answer_files(ctx: Ctx, complaint_id: str) -> list[dict[str, str]]:
    out = []
    for kind in ("answers", "drafts"):
        folder = _answer_dir(ctx, kind) / complaint_id
        if folder.is_dir():
            for p in sorted(folder.iterdir()):
                if p.is_file() and not p.name.startswith("."):
                    out.append({"kind": kind, "name": p.name,
                                "url": url_for("answer_file", complaint_id=complaint_id, kind=kind, name=p.name)})
    return out


@route("/staff/complaints/{complaint_id}/confirm", name="complaint_confirm", methods=("POST",), roles=DESK,
       example={"complaint_id": "QT-NONE"})
def complaint_confirm(ctx: Ctx):
    from ..cases import records
    from ..cases.registers import appeals

    cid = ctx.params["complaint_id"]
    kato = ctx.field("kato_other") or ctx.field("kato")
    if not kato:
        from .errors import OfficeError

        raise OfficeError("kato: pick the settlement from the candidates or give its 9-digit KATO code")
    _settlement_or_error(ctx, kato)
    ops = [o for o in ctx.form.getlist("operator") if isinstance(o, str) and o]
    svcs = [s for s in ctx.form.getlist("service") if isinstance(s, str) and s]
    out = records.confirm_complaint(ctx.store, cid, by=ctx.staff_user["name"], appeals=appeals(ctx.office.registers),
                                    gazetteer=ctx.office.gazetteer, **_confirm_kwargs(kato, ops, svcs))
    ctx.audit("complaint_confirmed", cid, {"kato": kato, "cases": out["cases"]})
    return ctx.redirect(url_for("complaint", complaint_id=cid))


def _confirm_kwargs(kato: str, operators: list[str], services: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if kato:
        out["kato"] = kato
    if operators:
        out["operators"] = operators
    if services:
        out["services"] = services
    return out


@route("/staff/complaints/{complaint_id}/answer", name="complaint_answer", methods=("POST",), roles=DESK,
       example={"complaint_id": "QT-NONE"})
def complaint_answer(ctx: Ctx):
    """Draft (desk, head) or issue (head) the reasoned answer letter through the cases API."""
    from ..cases.answers import write_answer
    from .errors import OfficeError

    cid, action = ctx.params["complaint_id"], ctx.field("action")
    lang = ctx.field("lang") or None
    if lang not in (None, "kk", "ru"):
        raise OfficeError("lang: kk or ru")
    if action == "issue" and ctx.staff_user["role"] not in HEAD:
        raise OfficeError("only the head of office issues answers")
    if action not in ("draft", "issue"):
        raise OfficeError("action: draft or issue")
    kind = "answers" if action == "issue" else "drafts"
    files = write_answer(ctx.store, cid, _answer_dir(ctx, kind), by=ctx.staff_user["name"], lang=lang,
                         answer_number=ctx.field("answer_number") or None, registers_folder=ctx.office.registers,
                         gazetteer=ctx.office.gazetteer, record=action == "issue")
    ctx.audit("answer_issued" if action == "issue" else "answer_drafted", cid, {"files": sorted(files)})
    return ctx.redirect(url_for("complaint", complaint_id=cid))


@route("/staff/complaints/{complaint_id}/files/{kind}/{name}", name="answer_file", roles=READ,
       example={"complaint_id": "QT-NONE", "kind": "drafts", "name": "answer_ru.pdf"})
def answer_file(ctx: Ctx):
    from starlette.responses import FileResponse

    from .errors import OfficeError

    cid, kind, name = ctx.params["complaint_id"], ctx.params["kind"], ctx.params["name"]
    folder = (_answer_dir(ctx, kind) / cid) if kind in ("answers", "drafts") else None
    if folder is None or "/" in cid or "\\" in cid or cid.startswith(".") or name not in {p.name for p in (
            folder.iterdir() if folder.is_dir() else [])}:
        raise OfficeError(f"no file {name!r} for {cid}")
    return FileResponse(folder / name, filename=name)


NAV.extend([("cases", "nav_cases", READ)])


# ------------------------------------------------------------------------------------ intake (109 desk)
@route("/staff/intake", name="intake", methods=("GET", "POST"), roles=DESK)
def intake(ctx: Ctx):
    from pydantic import ValidationError

    from ..cases import ports, records
    from ..cases.models import CHANNELS, SERVICES, Applicant, ComplaintFacts
    from ..cases.registers import appeals
    from .errors import OfficeError

    values = {"channel": "109", "received": date.today().isoformat(), "language": ctx.lang}
    if ctx.request.method == "GET":
        return ctx.render("staff/intake.html", v=values, channels=CHANNELS, services=SERVICES,
                          operators=_operators(), result=None)
    v = {k: ctx.field(k) for k in ("channel", "number", "received", "name", "iin", "phone", "postal_address", "place",
                                   "kato", "operator", "service", "substance", "language")}
    found = ports.extract(v["substance"] + " " + v["place"])
    kato = v["kato"] or None
    if kato:
        _settlement_or_error(ctx, kato)
        match = {"kato": kato, "score": None, "needs_person": False}
    else:
        match = ports.match_address(v["place"], ctx.office.gazetteer)
    ops = [ports.operator_code(v["operator"], "operator")] if v["operator"] else list(found["operators"])
    svcs = [v["service"]] if v["service"] else list(found["services"])
    try:
        facts = ComplaintFacts(channel=v["channel"], external_number=v["number"], received=v["received"],
                               addressee="inspection", substance=v["substance"], language=v["language"] or "ru",
                               address_text=v["place"], kato=None if match["needs_person"] else match["kato"],
                               match_score=match["score"], operators=ops, services=svcs,
                               needs_person=bool(match["needs_person"]) or not ops or not svcs)
        person = Applicant(name=v["name"], iin=v["iin"], postal_address=v["postal_address"], phone=v["phone"])
    except ValidationError as exc:
        err = exc.errors()[0]
        raise OfficeError(f"field {err['loc'][0]}: {err['msg']}") from None
    out = records.register_complaint(ctx.store, facts, person, by=ctx.staff_user["name"],
                                     appeals=appeals(ctx.office.registers),
                                     gazetteer=ctx.office.gazetteer)
    ctx.audit("complaint_registered", out["complaint_id"], {"created": out["created"], "cases": out["cases"],
                                                           "channel": v["channel"]})
    return ctx.render("staff/intake.html", v={**values, "language": v["language"]}, channels=CHANNELS,
                      services=SERVICES, operators=_operators(), result=out)


def _settlement_or_error(ctx: Ctx, kato: str) -> None:
    from .errors import OfficeError

    try:
        ctx.office.gazetteer.get(kato)
    except Exception:
        raise OfficeError(f"kato {kato!r}: not a settlement of the gazetteer (pick one from the list)") from None


@route("/staff/api/settlements.json", name="api_settlements", roles=READ)
def api_settlements(ctx: Ctx):
    """Settlement autocomplete: names in kk, ru or Latin (the gazetteer's folded search)."""
    q = ctx.query.get("q", "").strip()[:80]
    if len(q) < 2:
        return JSONResponse({"results": []})
    out = []
    for s in ctx.office.gazetteer.search(q, limit=10):
        out.append({"kato": s.kato, "name_kk": s.name_kk, "name_ru": s.name_ru,
                    "district": (s.district_name_kk if ctx.lang == "kk" else s.district_name_ru) or ""})
    return JSONResponse({"results": out})


@route("/staff/api/duplicates.json", name="api_duplicates", roles=READ)
def api_duplicates(ctx: Ctx):
    """Open cases for the same settlement x operator x service (shown before saving a new complaint)."""
    from ..cases.states import OPEN_STATES

    kato, op, svc = (ctx.query.get(k, "").strip()[:40] for k in ("kato", "operator", "service"))
    if not kato or not _cases_ready(ctx):
        return JSONResponse({"results": []})
    sql = "SELECT case_id, operator, service, state, last_received FROM cases_cases WHERE kato = ?"
    params: list[Any] = [kato]
    if op:
        sql += " AND operator = ?"
        params.append(op)
    if svc:
        sql += " AND service = ?"
        params.append(svc)
    rows = [r for r in ctx.store.query(sql + " ORDER BY case_id", tuple(params)) if r["state"] in OPEN_STATES]
    return JSONResponse({"results": [{**r, "state_label": _state_label(ctx, r["state"]),
                                      "url": url_for("case", case_id=r["case_id"])} for r in rows]})


# ------------------------------------------------------------------------------------ inspections
@route("/staff/inspections", name="inspections", roles=READ)
def inspections(ctx: Ctx):
    from ..reports.inspections import list_inspections

    rows = [i.model_dump() for i in list_inspections(ctx.store)] if ctx.store.table_exists("inspections") else []
    for r in rows:
        r["settlement"] = (_settlement(ctx, r["kato"]) or {}).get("name", r["kato"])
    return ctx.render("staff/inspections.html", rows=rows)


def _inspection_dir(ctx: Ctx, inspection_id: str) -> Path:
    from .errors import OfficeError

    if not inspection_id or "/" in inspection_id or "\\" in inspection_id or inspection_id.startswith("."):
        raise OfficeError(f"inspection {inspection_id!r}: not an inspection id")
    return ctx.office.work_dir / "inspections" / inspection_id


@route("/staff/inspections/{inspection_id}", name="inspection", roles=READ, example={"inspection_id": "INSP-NONE"})
def inspection(ctx: Ctx):
    from ..cases.links import inspection_findings
    from ..probe.store import SampleStore
    from ..reports.bundle import verify_bundle
    from ..reports.inspections import get_inspection, summary
    from ..reports.keys import load_office_keys

    iid = ctx.params["inspection_id"]
    insp = get_inspection(SampleStore(ctx.store), iid)
    info = summary(SampleStore(ctx.store), insp)
    try:
        findings, findings_error = inspection_findings(ctx.store, iid, registers_folder=ctx.office.registers), None
    except Exception as exc:   # no samples yet, etc.: say so on the page
        findings, findings_error = None, str(exc)
    folder = _inspection_dir(ctx, iid)
    docs, bundles = [], []
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            if not p.is_file() or p.name.startswith("."):
                continue
            item: dict[str, Any] = {"name": p.name, "url": url_for("inspection_file", inspection_id=iid, name=p.name)}
            if p.suffix == ".zip":
                keys, keys_path = load_office_keys(None, ctx.office.registers)
                item["verify"] = verify_bundle(p, keys, str(keys_path)).as_dict()
                bundles.append(item)
            else:
                docs.append(item)
    cases = ctx.store.query("SELECT case_id, role FROM cases_case_inspections WHERE inspection_id = ? ORDER BY case_id",
                            (iid,)) if _cases_ready(ctx) else []
    return ctx.render("staff/inspection.html", i=info, findings=findings, findings_error=findings_error, docs=docs,
                      bundles=bundles, cases=cases, settlement=_settlement(ctx, info["kato"]),
                      can_act=ctx.staff_user["role"] in FIELD)


@route("/staff/inspections/{inspection_id}/documents", name="inspection_documents", methods=("POST",), roles=FIELD,
       example={"inspection_id": "INSP-NONE"})
def inspection_documents(ctx: Ctx):
    from ..mapping.rules import load_rules
    from ..probe.store import SampleStore
    from ..reports.documents import generate_documents
    from ..reports.registers import Registers

    iid = ctx.params["inspection_id"]
    docs = generate_documents(SampleStore(ctx.store), iid, _inspection_dir(ctx, iid), rules=load_rules(None),
                              registers=Registers.load(ctx.office.registers), gazetteer=ctx.office.gazetteer,
                              langs=("kk", "ru"), issue_date=date.today(), deadline_days=None, templates=None)
    ctx.audit("documents_generated", iid, {"files": sorted(str(k) for k in docs)})
    return ctx.redirect(url_for("inspection", inspection_id=iid))


@route("/staff/inspections/{inspection_id}/bundle", name="inspection_bundle", methods=("POST",), roles=FIELD,
       max_body=64 * 2**20, example={"inspection_id": "INSP-NONE"})
async def inspection_bundle(ctx: Ctx):
    """Keep an evidence bundle (made and signed on the inspector's laptop) and show its verification."""
    from starlette.concurrency import run_in_threadpool

    from .errors import OfficeError

    iid = ctx.params["inspection_id"]
    upload = ctx.form.get("bundle")
    if upload is None or isinstance(upload, str):
        raise OfficeError("bundle: choose the .zip file")
    folder = _inspection_dir(ctx, iid)
    data = await upload.read()
    if data[:2] != b"PK":
        raise OfficeError("bundle: not a ZIP file")

    def save() -> str:
        import hashlib

        folder.mkdir(parents=True, exist_ok=True)
        name = f"bundle-{hashlib.sha256(data).hexdigest()[:16]}.zip"   # never the client's file name
        (folder / name).write_bytes(data)
        ctx.audit("bundle_uploaded", iid, {"file": name, "bytes": len(data)})
        return name

    await run_in_threadpool(save)
    return ctx.redirect(url_for("inspection", inspection_id=iid))


@route("/staff/inspections/{inspection_id}/files/{name}", name="inspection_file", roles=READ,
       example={"inspection_id": "INSP-NONE", "name": "act_kk.pdf"})
def inspection_file(ctx: Ctx):
    from starlette.responses import FileResponse

    from .errors import OfficeError

    folder, name = _inspection_dir(ctx, ctx.params["inspection_id"]), ctx.params["name"]
    if not folder.is_dir() or name not in {p.name for p in folder.iterdir() if p.is_file()}:
        raise OfficeError(f"no file {name!r}")
    return FileResponse(folder / name, filename=name)


NAV.extend([("intake", "nav_intake", DESK), ("inspections", "nav_inspections", READ)])


# ------------------------------------------------------------------------------------ store upload (= db push)
@route("/staff/upload", name="upload", methods=("GET", "POST"), roles=FIELD, max_body=-1)
async def upload(ctx: Ctx):
    """An inspector's store file, pushed into the office store by :func:`qamtu.probe.push.push` in a job."""
    from .errors import OfficeError
    from .jobs import start_push

    if ctx.request.method == "GET":
        return ctx.render("staff/upload.html", job=ctx.office.jobs.get(ctx.query.get("job", "")))
    upload = ctx.form.get("store")
    if upload is None or isinstance(upload, str):
        raise OfficeError("store: choose the store file (.db) from the inspector's laptop")
    job = await start_push(ctx.office, upload, by=ctx.staff_user["name"], role=ctx.staff_user["role"])
    if "application/json" in ctx.request.headers.get("accept", ""):
        return JSONResponse({"job": job["id"], "status_url": url_for("upload_job", job_id=job["id"])})
    return ctx.redirect(url_for("upload") + "?job=" + job["id"])


@route("/staff/upload/jobs/{job_id}.json", name="upload_job", roles=FIELD, example={"job_id": "none"})
def upload_job(ctx: Ctx):
    job = ctx.office.jobs.get(ctx.params["job_id"])
    if job is None or job["by"] != ctx.staff_user["name"] and ctx.staff_user["role"] != "head":
        return JSONResponse({"error": "no such job"}, status_code=404)
    return JSONResponse({k: v for k, v in job.items() if k != "by"})


# ------------------------------------------------------------------------------------ maps
@route("/staff/maps/coverage", name="coverage_map", roles=READ)
def coverage_map(ctx: Ctx):
    return ctx.render("staff/map.html", kind="coverage", data_url=url_for("coverage_data"),
                      title=ctx.t("nav_coverage_map"))


@route("/staff/maps/problems", name="problem_map", roles=READ)
def problem_map(ctx: Ctx):
    return ctx.render("staff/map.html", kind="problems", data_url=url_for("problem_data"),
                      title=ctx.t("nav_problem_map"))


@route("/staff/maps/coverage.json", name="coverage_data", roles=READ)
def coverage_data(ctx: Ctx):
    from .maps import coverage_json

    return JSONResponse(coverage_json(ctx.office, period=ctx.query.get("period") or None))


@route("/staff/maps/problems.json", name="problem_data", roles=READ)
def problem_data(ctx: Ctx):
    from .maps import problems_json

    return JSONResponse(problems_json(ctx.office, years=ctx.query.get("years") or None))


# ------------------------------------------------------------------------------------ users, audit (admin)
@route("/staff/users", name="users", methods=("GET", "POST"), roles=ADMIN)
def users_page(ctx: Ctx):
    if ctx.request.method == "POST":
        action, name = ctx.field("action"), ctx.field("name")
        if action == "add":
            auth.add_user(ctx.store, name, ctx.field("role"), ctx.form.get("password") or "", by=ctx.staff_user["name"])
        elif action == "change":
            if name == ctx.staff_user["name"] and (ctx.field("role") != "admin" or not ctx.field("active")):
                from .errors import OfficeError

                raise OfficeError("you cannot remove your own admin role or deactivate yourself")
            auth.set_role(ctx.store, name, ctx.field("role"), bool(ctx.field("active")), by=ctx.staff_user["name"],
                          by_role=ctx.staff_user["role"])
        return ctx.redirect(url_for("users"))
    return ctx.render("staff/users.html", rows=auth.users(ctx.store), roles=auth.ROLES)


@route("/staff/audit", name="audit", roles=("head", "admin"))
def audit_page(ctx: Ctx):
    return ctx.render("staff/audit.html", rows=auth.audit_log(ctx.store))


NAV.extend([("upload", "nav_upload", FIELD), ("coverage_map", "nav_coverage_map", READ),
            ("problem_map", "nav_problem_map", READ), ("users", "nav_users", ADMIN),
            ("audit", "nav_audit", ("head", "admin"))])
