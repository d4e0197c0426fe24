"""Complaints and cases in the store: registration with a talon number, grouping into cases,
transitions with their hash-chained history, extensions, answers, and the chain check.

Every write is one store transaction: a complaint, its applicant row, its case links and the
history entries they cause commit together or not at all.

Grouping: a complaint with a settlement (KATO), operator(s) and service(s) joins, for each
operator x service, the case of the same settlement x operator x service whose latest complaint
was received at most ``grouping.window_days`` (appeals.toml) before it; a closed case found that
way is reopened (reason ``new_complaint``). Otherwise a new case is opened. A complaint without a
confirmed settlement, operator or service waits for staff (:func:`confirm_complaint`).
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from typing import Any, Iterable, Optional

from . import history, states
from .deadlines import check_extension, compute
from .errors import CasesError, TransitionError
from .models import Applicant, ComplaintFacts
from .ports import check_iin

TALON_PREFIX = "QT"


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True)


class Numbers:
    """Serial numbers (talons, case ids) inside one transaction: the store is read once per prefix,
    then counted in memory (a bulk import of 100,000 rows does not rescan the table for each row).

    With ``batch=True`` (bulk import) it also keeps the head (last seq, hash) of each case's history
    chain it has touched, and holds the plain INSERTs of complaints, applicants, case links and
    history entries until :meth:`flush`, which writes each table's rows with one ``executemany``
    (same transaction, so still all or nothing). Call :meth:`flush` before the transaction ends."""

    def __init__(self, batch: bool = False) -> None:
        self._last: dict[str, int] = {}
        self.batch = batch
        self.heads: dict[str, tuple[int, str]] = {}
        self._pending: dict[str, list[tuple]] = {}
        self._order: dict[str, int] = {}      # statement -> when first held: parents before children

    def next(self, tx, table: str, column: str, prefix: str, width: int) -> str:
        if prefix not in self._last:
            rows = tx.query(f"SELECT {column} AS v FROM {table} WHERE {column} LIKE ?", (prefix + "%",))
            pat = re.compile(re.escape(prefix) + r"(\d+)$")
            self._last[prefix] = max((int(m.group(1)) for r in rows if (m := pat.match(r["v"]))), default=0)
        self._last[prefix] += 1
        return f"{prefix}{self._last[prefix]:0{width}d}"

    def insert(self, tx, sql: str, row: tuple) -> None:
        """Run the INSERT now, or hold it for :meth:`flush` in batch mode."""
        if self.batch:
            self._order.setdefault(sql, len(self._order))
            self._pending.setdefault(sql, []).append(row)
        else:
            tx.execute(sql, row)

    def flush(self, tx) -> None:
        """Write every held INSERT, table by table in the order first held (complaints before links)."""
        pending, self._pending = self._pending, {}
        for sql in sorted(pending, key=self._order.__getitem__):
            tx.executemany(sql, pending[sql])


def _next_number(tx, table: str, column: str, prefix: str, width: int, numbers: Optional[Numbers] = None) -> str:
    return (numbers or Numbers()).next(tx, table, column, prefix, width)


def _append(tx, case_id: str, kind: str, payload: dict[str, Any], now: Optional[datetime],
            numbers: Optional[Numbers] = None) -> None:
    head = numbers.heads.get(case_id) if numbers is not None and numbers.batch else None
    if head is None:
        last = tx.query("SELECT seq, hash FROM cases_history WHERE case_id = ? ORDER BY seq DESC LIMIT 1", (case_id,))
        head = (int(last[0]["seq"]), last[0]["hash"]) if last else history.head([])
    seq, prev = head
    row = history.entry_row(case_id, seq + 1, prev, kind, payload, now)
    if numbers is not None and numbers.batch:
        numbers.heads[case_id] = (seq + 1, row[-1])
        numbers.insert(tx, history.INSERT, row)
    else:
        tx.execute(history.INSERT, row)


def _insert(tx, numbers: Optional[Numbers], sql: str, row: tuple) -> None:
    if numbers is not None:
        numbers.insert(tx, sql, row)
    else:
        tx.execute(sql, row)


def _case_history(q, case_id: str) -> list[dict[str, Any]]:
    return history.decode(q.query(history.SELECT, (case_id,)))


# ------------------------------------------------------------------------------------ complaints
def register_complaint(
    store,
    facts: ComplaintFacts,
    applicant: Applicant,
    *,
    by: str,
    appeals: dict[str, Any],
    gazetteer=None,
    now: Optional[datetime] = None,
) -> dict[str, Any]:
    """Register one complaint (idempotent by channel + external number); returns
    ``{"complaint_id", "created", "cases"}``. The talon number is the complaint id."""
    if not by.strip():
        raise CasesError("--by: say who registers the complaint (name of the official)")
    check_iin(applicant.iin, "applicant IIN")
    with store.transaction(f"registering complaint {facts.channel} {facts.external_number}") as tx:
        out = _register(tx, facts, applicant, by=by, appeals=appeals, gazetteer=gazetteer, now=now)
    return out


def _register(
    tx,
    facts: ComplaintFacts,
    applicant: Applicant,
    *,
    by: str,
    appeals: dict[str, Any],
    gazetteer,
    now: Optional[datetime],
    numbers: Optional[Numbers] = None,
) -> dict[str, Any]:
    found = tx.query(
        "SELECT complaint_id FROM cases_complaints WHERE channel = ? AND external_number = ?",
        (facts.channel, facts.external_number),
    )
    if found:
        cid = found[0]["complaint_id"]
        links = tx.query("SELECT case_id FROM cases_case_complaints WHERE complaint_id = ? ORDER BY case_id", (cid,))
        return {"complaint_id": cid, "created": False, "cases": [r["case_id"] for r in links]}
    year = facts.received[:4]
    numbers = numbers or Numbers()
    cid = _next_number(tx, "cases_complaints", "complaint_id", f"{TALON_PREFIX}-{year}-", 6, numbers)
    district = _district(gazetteer, facts.kato)
    numbers.insert(
        tx,
        "INSERT INTO cases_complaints (complaint_id, channel, external_number, received, registered_utc, "
        "registered_by, "
        "language, kato, district_kato, needs_person, operators, services, facts, demo) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            cid,
            facts.channel,
            facts.external_number,
            facts.received,
            history.now_text(now),
            by,
            facts.language,
            facts.kato,
            district,
            int(facts.needs_person),
            _json(facts.operators),
            _json(facts.services),
            _json(facts.model_dump()),
            int(facts.demo),
        ),
    )
    numbers.insert(
        tx,
        "INSERT INTO cases_applicants (complaint_id, name, iin, postal_address, phone, email) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (cid, applicant.name, applicant.iin, applicant.postal_address, applicant.phone, applicant.email),
    )
    cases = _group(tx, cid, facts, district, by=by, appeals=appeals, now=now, numbers=numbers)
    return {"complaint_id": cid, "created": True, "cases": cases}


def _district(gazetteer, kato: Optional[str]) -> Optional[str]:
    """District KATO of a settlement (the bundled gazetteer when none is given)."""
    if not kato:
        return None
    if gazetteer is None:
        from ..mapping.gazetteer import Gazetteer

        gazetteer = Gazetteer.load()
    try:
        return gazetteer.get(kato).district_kato
    except Exception as exc:  # the gazetteer's own error names the code
        raise CasesError(f"kato {kato}: {exc}") from None


def _group(
    tx,
    cid: str,
    facts: ComplaintFacts,
    district: Optional[str],
    *,
    by: str,
    appeals: dict[str, Any],
    now: Optional[datetime],
    numbers: Optional[Numbers] = None,
) -> list[str]:
    if facts.needs_person or not facts.kato or not facts.operators or not facts.services:
        return []
    window = timedelta(days=int(appeals["grouping"]["window_days"]))
    received = date.fromisoformat(facts.received)
    out = []
    for op in facts.operators:
        for service in facts.services:
            rows = tx.query(
                "SELECT case_id, state, opened, last_received FROM cases_cases WHERE kato = ? AND operator = ? "
                "AND service = ? ORDER BY case_id",
                (facts.kato, op, service),
            )
            near = sorted(((_distance(received, r), r["case_id"], r) for r in rows), key=lambda x: (x[0], x[1]))
            near = [x for x in near if x[0] <= window]
            case_id = None
            if near:
                best = near[0][2]
                case_id = best["case_id"]
                if best["state"] == "closed":
                    if numbers is not None:     # the transition reads the case's history: write what is held
                        numbers.flush(tx)
                        numbers.heads.pop(case_id, None)
                    _transition(tx, case_id, "reopened", by, {"reason": "new_complaint", "complaint_id": cid}, now)
            if case_id is None:
                case_id = _next_number(tx, "cases_cases", "case_id", f"CASE-{received.year}-", 4, numbers)
                tx.execute(
                    "INSERT INTO cases_cases (case_id, kato, district_kato, operator, service, opened, last_received, "
                    "state, outcome, fields, updated_utc, demo) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?)",
                    (
                        case_id,
                        facts.kato,
                        district,
                        op,
                        service,
                        facts.received,
                        facts.received,
                        "registered",
                        "{}",
                        history.now_text(now),
                        int(facts.demo),
                    ),
                )
                _append(
                    tx,
                    case_id,
                    "opened",
                    {
                        "by": by,
                        "to": "registered",
                        "complaint_id": cid,
                        "kato": facts.kato,
                        "operator": op,
                        "service": service,
                    },
                    now,
                    numbers,
                )
            else:
                # ``best`` was read just above: only a complaint outside the case's span changes a row
                if best["last_received"] < facts.received:
                    tx.execute(
                        "UPDATE cases_cases SET last_received = ?, updated_utc = ? WHERE case_id = ? "
                        "AND last_received < ?",
                        (facts.received, history.now_text(now), case_id, facts.received),
                    )
                if best["opened"] > facts.received:
                    tx.execute(
                        "UPDATE cases_cases SET opened = ? WHERE case_id = ? AND opened > ?",
                        (facts.received, case_id, facts.received),
                    )
                _append(tx, case_id, "complaint_joined", {"by": by, "complaint_id": cid}, now, numbers)
            _insert(tx, numbers, "INSERT INTO cases_case_complaints (case_id, complaint_id) VALUES (?, ?)",
                    (case_id, cid))
            out.append(case_id)
    return out


def _distance(received: date, case: dict[str, Any]) -> timedelta:
    """How far ``received`` lies outside the span of a case's complaints (0 inside it)."""
    first, last = date.fromisoformat(case["opened"]), date.fromisoformat(case["last_received"])
    if first <= received <= last:
        return timedelta(0)
    return min(abs(received - first), abs(received - last))


def confirm_complaint(
    store,
    complaint_id: str,
    *,
    by: str,
    appeals: dict[str, Any],
    gazetteer=None,
    kato: Optional[str] = None,
    operators: Optional[list[str]] = None,
    services: Optional[list[str]] = None,
    now: Optional[datetime] = None,
) -> dict[str, Any]:
    """Staff confirm (or correct) the settlement, operators and services of a complaint not yet in a
    case; it is then grouped. Returns ``{"complaint_id", "cases"}``."""
    with store.transaction(f"confirming complaint {complaint_id}") as tx:
        row = _complaint_row(tx, complaint_id)
        if tx.query("SELECT 1 FROM cases_case_complaints WHERE complaint_id = ?", (complaint_id,)):
            raise CasesError(f"complaint {complaint_id} is already in a case; correct the case instead")
        facts = json.loads(row["facts"])
        facts.update(
            {k: v for k, v in (("kato", kato), ("operators", operators), ("services", services)) if v is not None}
        )
        facts["needs_person"] = False
        try:
            new = ComplaintFacts(**facts)
        except Exception as exc:
            raise CasesError(f"complaint {complaint_id}: {exc}") from None
        if not new.kato or not new.operators or not new.services:
            raise CasesError(
                f"complaint {complaint_id}: give --kato, --operator and --service (missing: "
                + ", ".join(k for k in ("kato", "operators", "services") if not getattr(new, k))
                + ")"
            )
        district = _district(gazetteer, new.kato)
        tx.execute(
            "UPDATE cases_complaints SET kato = ?, district_kato = ?, needs_person = 0, operators = ?, services = ?, "
            "facts = ? WHERE complaint_id = ?",
            (new.kato, district, _json(new.operators), _json(new.services), _json(new.model_dump()), complaint_id),
        )
        cases = _group(tx, complaint_id, new, district, by=by, appeals=appeals, now=now)
    return {"complaint_id": complaint_id, "cases": cases}


def _complaint_row(q, complaint_id: str) -> dict[str, Any]:
    rows = q.query("SELECT * FROM cases_complaints WHERE complaint_id = ?", (complaint_id,))
    if not rows:
        raise CasesError(
            f"no complaint {complaint_id!r} (talon numbers look like {TALON_PREFIX}-2026-000001; "
            f"list them with `qamtu cases list --complaints`)"
        )
    return rows[0]


def complaint(store, complaint_id: str) -> dict[str, Any]:
    """The facts of one complaint with its cases and answer (no personal data)."""
    row = _complaint_row(store, complaint_id)
    out = _complaint_dict(row)
    out["cases"] = [
        r["case_id"]
        for r in store.query(
            "SELECT case_id FROM cases_case_complaints WHERE complaint_id = ? ORDER BY case_id", (complaint_id,)
        )
    ]
    ans = store.query(
        "SELECT answer_number, lang, issued, issued_by, files FROM cases_answers WHERE complaint_id = ?",
        (complaint_id,),
    )
    out["answer"] = {**ans[0], "files": json.loads(ans[0]["files"])} if ans else None
    return out


def _complaint_dict(row: dict[str, Any]) -> dict[str, Any]:
    facts = json.loads(row["facts"])
    return {
        "complaint_id": row["complaint_id"],
        "talon": row["complaint_id"],
        **facts,
        "district_kato": row["district_kato"],
        "registered_utc": row["registered_utc"],
        "registered_by": row["registered_by"],
        "extended_until": row["extended_until"],
        "extension_decided": row["extension_decided"],
        "redirected_to": row["redirected_to"],
        "answered_on": row["answered_on"],
    }


def complaints(store, *, unassigned: bool = False) -> list[dict[str, Any]]:
    rows = store.query("SELECT * FROM cases_complaints ORDER BY received, complaint_id")
    out = [_complaint_dict(r) for r in rows]
    if unassigned:
        linked = {r["complaint_id"] for r in store.query("SELECT DISTINCT complaint_id FROM cases_case_complaints")}
        out = [c for c in out if c["complaint_id"] not in linked]
    return out


def applicant(store, complaint_id: str) -> Applicant:
    """The applicant's personal data (for the answer letter only; never logged or published)."""
    rows = store.query(
        "SELECT name, iin, postal_address, phone, email FROM cases_applicants WHERE complaint_id = ?", (complaint_id,)
    )
    if not rows:
        raise CasesError(f"complaint {complaint_id}: no applicant record")
    return Applicant(**rows[0])


# ------------------------------------------------------------------------------------ cases
def _case_row(q, case_id: str) -> dict[str, Any]:
    rows = q.query("SELECT * FROM cases_cases WHERE case_id = ?", (case_id,))
    if not rows:
        raise CasesError(f"no case {case_id!r} (list them with `qamtu cases list`)")
    return rows[0]


def _case_dict(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "case_id": row["case_id"],
        "kato": row["kato"],
        "district_kato": row["district_kato"],
        "operator": row["operator"],
        "service": row["service"],
        "opened": row["opened"],
        "last_received": row["last_received"],
        "state": row["state"],
        "outcome": row["outcome"],
        "fields": json.loads(row["fields"]),
        "updated_utc": row["updated_utc"],
        "demo": bool(row["demo"]),
    }


def get_case(store, case_id: str) -> dict[str, Any]:
    """One case: its facts, complainants (count and complaint ids), inspections, allowed next states, history."""
    out = _case_dict(_case_row(store, case_id))
    comp = store.query(
        "SELECT complaint_id FROM cases_case_complaints WHERE case_id = ? ORDER BY complaint_id", (case_id,)
    )
    out["complaints"] = [r["complaint_id"] for r in comp]
    out["complainants"] = len(comp)
    out["inspections"] = store.query(
        "SELECT inspection_id, role FROM cases_case_inspections WHERE case_id = ? " "ORDER BY inspection_id", (case_id,)
    )
    out["allowed"] = list(states.allowed(out["state"]))
    out["history"] = _case_history(store, case_id)
    return out


def list_cases(store, *, state: Optional[str] = None) -> list[dict[str, Any]]:
    if state is not None and state not in states.STATES:
        raise CasesError(f"--state {state!r}: choose from {', '.join(states.STATES)}")
    rows = store.query(
        "SELECT c.*, (SELECT COUNT(*) FROM cases_case_complaints k WHERE k.case_id = c.case_id) AS n "
        "FROM cases_cases c ORDER BY c.case_id"
    )
    out = []
    for r in rows:
        if state is None or r["state"] == state:
            out.append({**_case_dict(r), "complainants": int(r["n"])})
    return out


def transition(
    store, case_id: str, to: str, *, by: str, fields: Optional[dict[str, Any]] = None, now: Optional[datetime] = None
) -> dict[str, Any]:
    """Move a case to state ``to`` (checked against :data:`~qamtu.cases.states.TRANSITIONS`), record who
    and when in its history; returns the case."""
    if not by.strip():
        raise CasesError("--by: say who makes the transition")
    with store.transaction(f"moving case {case_id} to {to}") as tx:
        _transition(tx, case_id, to, by, dict(fields or {}), now)
    return get_case(store, case_id)


def _transition(tx, case_id: str, to: str, by: str, fields: dict[str, Any], now: Optional[datetime]) -> None:
    row = _case_row(tx, case_id)
    hist = _case_history(tx, case_id)
    clean = states.check(case_id, row["state"], to, fields, hist)
    if to == "order_issued":
        _check_order_deadline(case_id, clean, now)
    if to == "answered":
        missing = [
            r["complaint_id"]
            for r in tx.query(
                "SELECT k.complaint_id FROM cases_case_complaints k "
                "JOIN cases_complaints c ON c.complaint_id = k.complaint_id "
                "WHERE k.case_id = ? AND c.answered_on IS NULL ORDER BY k.complaint_id",
                (case_id,),
            )
        ]
        if missing:
            raise TransitionError(
                f"case {case_id} -> answered: every complainant needs an answer first; not answered: "
                f"{', '.join(missing)} (`qamtu cases answer COMPLAINT ...`)"
            )
    _append(tx, case_id, "transition", {"by": by, "from": row["state"], "to": to, **clean}, now)
    merged = {**json.loads(row["fields"]), **{k: v for k, v in clean.items() if k not in ("note", "reason", "outcome")}}
    outcome = clean.get("outcome") if to == "closed" else (None if to == "reopened" else row["outcome"])
    tx.execute(
        "UPDATE cases_cases SET state = ?, outcome = ?, fields = ?, updated_utc = ? WHERE case_id = ?",
        (to, outcome, _json(merged), history.now_text(now), case_id),
    )
    if to in ("measured", "re_measured", "inspection_appointed") and clean.get("inspection_id"):
        role = "followup" if to == "re_measured" else "measurement"
        _link(tx, case_id, clean["inspection_id"], role, by, now)
    if to == "redirected":
        for r in tx.query("SELECT complaint_id FROM cases_case_complaints WHERE case_id = ?", (case_id,)):
            tx.execute(
                "UPDATE cases_complaints SET redirected_to = ? WHERE complaint_id = ?",
                (clean["to_body"], r["complaint_id"]),
            )


def _check_order_deadline(case_id: str, fields: dict[str, Any], now: Optional[datetime]) -> None:
    """The order's deadline must leave the operator at least the register's minimum (10 calendar days,
    PK art. 152 p.7) after the order's date (``order_date``, default: today)."""
    from ..reports.registers import load_file

    proc, path = load_file("procedure")
    minimum = int(proc["order"]["min_deadline_days"])
    issued = date.fromisoformat(fields["order_date"]) if "order_date" in fields else (now or datetime.now()).date()
    deadline = date.fromisoformat(fields["order_deadline"])
    if (deadline - issued).days < minimum:
        raise TransitionError(
            f"case {case_id} -> order_issued: order_deadline {deadline.isoformat()} is {(deadline - issued).days} days "
            f"after the order's date {issued.isoformat()}; at least {minimum} calendar days "
            f"({proc['order']['source']}; "
            f"{path})"
        )


def _link(tx, case_id: str, inspection_id: str, role: str, by: str, now: Optional[datetime]) -> None:
    if tx.query(
        "SELECT 1 FROM cases_case_inspections WHERE case_id = ? AND inspection_id = ?", (case_id, inspection_id)
    ):
        return
    tx.execute(
        "INSERT INTO cases_case_inspections (case_id, inspection_id, role) VALUES (?, ?, ?)",
        (case_id, inspection_id, role),
    )
    _append(tx, case_id, "inspection_linked", {"by": by, "inspection_id": inspection_id, "role": role}, now)


#: how an inspection serves a case: the first measurement, or the re-measurement after the order's deadline
LINK_ROLES: tuple[str, ...] = ("measurement", "followup")


def link_inspection(
    store, case_id: str, inspection_id: str, *, by: str, role: str = "measurement", now: Optional[datetime] = None
) -> None:
    """Link an inspection to a case (recorded in its history; linking twice does nothing)."""
    if role not in LINK_ROLES:
        raise CasesError(f"--role {role!r}: choose one of {', '.join(LINK_ROLES)}")
    with store.transaction(f"linking inspection {inspection_id} to case {case_id}") as tx:
        _case_row(tx, case_id)
        _link(tx, case_id, inspection_id, role, by, now)


def record_findings(
    store, case_id: str, inspection_id: str, findings: dict[str, Any], *, by: str, now: Optional[datetime] = None
) -> None:
    """Copy an inspection's findings summary into the case history (what the answer letter cites)."""
    summary = findings_summary(findings)
    with store.transaction(f"recording findings of {inspection_id} in case {case_id}") as tx:
        _case_row(tx, case_id)
        _append(tx, case_id, "findings", {"by": by, "inspection_id": inspection_id, **summary}, now)


def findings_summary(findings: dict[str, Any]) -> dict[str, Any]:
    """The numbers of an inspection's findings that the answer letter needs (plain JSON)."""
    rows = []
    for r in findings.get("indicators", []):
        rows.append(
            {
                k: r.get(k)
                for k in (
                    "technology",
                    "technology_label",
                    "threshold_mbps",
                    "n",
                    "n_below",
                    "share_below",
                    "allowed_share",
                    "verdict",
                    "window_start_utc",
                    "window_end_utc",
                )
            }
        )
    return {
        "verdict": findings.get("verdict"),
        "synthetic": bool(findings.get("synthetic")),
        "measurement_days": list(findings.get("measurement_days", [])),
        "indicators": rows,
        "offence_date": findings.get("offence_date"),
    }


# ------------------------------------------------------------------------------------ extensions
def extend(
    store,
    complaint_id: str,
    *,
    until: date,
    decided: date,
    by: str,
    reason: str,
    cal,
    appeals: dict[str, Any],
    now: Optional[datetime] = None,
) -> dict[str, Any]:
    """Record a reasoned extension of the answer date (APPK art. 76); returns the new deadlines."""
    if not reason.strip():
        raise CasesError("--reason: an extension needs a reasoned decision (APPK art. 76)")
    with store.transaction(f"extending complaint {complaint_id}") as tx:
        row = _complaint_row(tx, complaint_id)
        if row["answered_on"]:
            raise CasesError(f"complaint {complaint_id} was answered on {row['answered_on']}; nothing to extend")
        received = date.fromisoformat(row["received"])
        base = compute(cal, appeals, received)
        check_extension(appeals, received, base.answer_due, until)
        if decided > base.answer_due:
            raise CasesError(
                f"--decided {decided.isoformat()}: the extension must be decided by the answer date "
                f"{base.answer_due.isoformat()}"
            )
        tx.execute(
            "UPDATE cases_complaints SET extended_until = ?, extension_decided = ? WHERE complaint_id = ?",
            (until.isoformat(), decided.isoformat(), complaint_id),
        )
        for r in tx.query("SELECT case_id FROM cases_case_complaints WHERE complaint_id = ?", (complaint_id,)):
            _append(
                tx,
                r["case_id"],
                "extension",
                {
                    "by": by,
                    "complaint_id": complaint_id,
                    "until": until.isoformat(),
                    "decided": decided.isoformat(),
                    "reason": reason,
                },
                now,
            )
    return compute(cal, appeals, received, extended_until=until, extension_decided=decided).as_dict()


# ------------------------------------------------------------------------------------ answers
def answer_blockers(store, complaint_id: str) -> list[str]:
    """Why an answer to this complaint cannot be issued yet (empty list: it can)."""
    out = []
    links = store.query(
        "SELECT c.case_id, c.state FROM cases_case_complaints k JOIN cases_cases c ON c.case_id = k.case_id "
        "WHERE k.complaint_id = ? ORDER BY c.case_id",
        (complaint_id,),
    )
    if not links:
        out.append(f"complaint {complaint_id} is not in a case yet (confirm its settlement, operator and service)")
    for r in links:
        if r["state"] not in ("answered", "closed") and "answered" not in states.allowed(r["state"]):
            out.append(
                f"case {r['case_id']} is '{r['state']}' (an answer follows re_measured, no_violation or redirected)"
            )
    return out


def record_answer(
    store,
    complaint_id: str,
    *,
    answer_number: str,
    lang: str,
    issued: date,
    by: str,
    files: list[str],
    now: Optional[datetime] = None,
) -> list[str]:
    """Record that the answer letter was issued; each case whose complainants are all answered moves to
    ``answered``. Returns the cases moved."""
    moved = []
    with store.transaction(f"issuing the answer to complaint {complaint_id}") as tx:
        row = _complaint_row(tx, complaint_id)
        if row["answered_on"]:
            raise CasesError(f"complaint {complaint_id} was already answered on {row['answered_on']}")
        tx.execute(
            "INSERT INTO cases_answers (complaint_id, answer_number, lang, issued, issued_by, files) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (complaint_id, answer_number, lang, issued.isoformat(), by, _json(files)),
        )
        tx.execute(
            "UPDATE cases_complaints SET answered_on = ? WHERE complaint_id = ?", (issued.isoformat(), complaint_id)
        )
        for r in tx.query(
            "SELECT k.case_id, c.state FROM cases_case_complaints k JOIN cases_cases c ON c.case_id = k.case_id "
            "WHERE k.complaint_id = ? ORDER BY k.case_id",
            (complaint_id,),
        ):
            _append(
                tx,
                r["case_id"],
                "answer_issued",
                {
                    "by": by,
                    "complaint_id": complaint_id,
                    "answer_number": answer_number,
                    "lang": lang,
                    "issued": issued.isoformat(),
                },
                now,
            )
            pending = tx.query(
                "SELECT 1 FROM cases_case_complaints k JOIN cases_complaints c ON c.complaint_id = "
                "k.complaint_id WHERE k.case_id = ? AND c.answered_on IS NULL",
                (r["case_id"],),
            )
            if not pending and "answered" in states.allowed(r["state"]):
                _transition(tx, r["case_id"], "answered", by, {"note": f"answers issued ({answer_number})"}, now)
                moved.append(r["case_id"])
    return moved


def answered_numbers(store) -> set[str]:
    return {r["answer_number"] for r in store.query("SELECT answer_number FROM cases_answers")}


# ------------------------------------------------------------------------------------ chain check
def verify(store, case_id: Optional[str] = None) -> list[dict[str, Any]]:
    """Check the hash chain of one case or of all; one report per case (``ok``, ``broken_at``, ``reason``)."""
    ids = (
        [case_id]
        if case_id
        else [r["case_id"] for r in store.query("SELECT case_id FROM cases_cases ORDER BY case_id")]
    )
    if case_id:
        _case_row(store, case_id)
    out = []
    for cid in ids:
        rows = store.query(
            "SELECT seq, entry_id, kind, time_utc, payload, prev_hash, hash FROM cases_history "
            "WHERE case_id = ? ORDER BY seq",
            (cid,),
        )
        rep = history.verify(cid, rows).as_dict()
        rep["case_id"] = rep.pop("session_id")
        rep["entry_id"] = rep.pop("record_id")
        if rep["ok"] and rows:
            # the current state must be what the history says
            state = "registered"
            for h in history.decode(rows):
                if h["kind"] == "transition":
                    state = h["payload"]["to"]
            row = _case_row(store, cid)
            if row["state"] != state:
                rep.update(ok=False, reason=f"case table says '{row['state']}' but the history ends in '{state}'")
        elif not rows:
            rep.update(ok=False, reason="the case has no history")
        out.append(rep)
    return out


def iter_ids(values: Iterable[str]) -> list[str]:
    return [v for v in values if v]
