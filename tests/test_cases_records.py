"""Complaints, grouping into cases, transitions and their hash-chained history, on SQLite and on a
real PostgreSQL (tests/pg.py starts a throwaway cluster)."""

from __future__ import annotations

import sqlite3
from datetime import date

import pytest

from pg import Cluster, pg_bin, postgis_available

from qamtu.cases import records
from qamtu.cases.db import open_cases_store
from qamtu.cases.due import due_list
from qamtu.cases.errors import CasesError, TransitionError
from qamtu.cases.models import Applicant, ComplaintFacts
from qamtu.cases.registers import appeals
from qamtu.cases.workdays import load_calendar

KATO = "611637200"
A = appeals()


def facts(n: int, received: str, **kw) -> ComplaintFacts:
    base = dict(
        channel="e_otinish",
        external_number=f"ЖТ-{n}",
        received=received,
        addressee="Инспекция",
        substance="интернет не работает",
        address_text="Шаян ауылы",
        kato=KATO,
        needs_person=False,
        operators=["tele2_altel"],
        services=["mobile_internet"],
    )
    base.update(kw)
    return ComplaintFacts(**base)


PERSON = Applicant(name="Асанов Бауыржан", iin="", postal_address="Шаян, Абай к. 1")

_cluster = None


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def engine(request):
    global _cluster
    if request.param == "postgresql":
        if pg_bin() is None or not postgis_available():
            pytest.skip("PostgreSQL/PostGIS not installed (apt: postgresql postgresql-15-postgis-3)")
        _cluster = Cluster().start()
        yield "postgresql"
        _cluster.stop()
        _cluster = None
    else:
        yield "sqlite"


_n = iter(range(10**6))


@pytest.fixture
def store(engine, tmp_path):
    target = _cluster.create_db(f"c{next(_n)}") if engine == "postgresql" else tmp_path / "cases.db"
    with open_cases_store(target) as s:
        assert s.engine == engine
        yield s


def test_registration_issues_talons_and_is_idempotent(store):
    r1 = records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="clerk", appeals=A)
    r2 = records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="clerk", appeals=A)
    r3 = records.register_complaint(store, facts(2, "2026-03-17"), PERSON, by="clerk", appeals=A)
    assert r1 == {"complaint_id": "QT-2026-000001", "created": True, "cases": ["CASE-2026-0001"]}
    assert r2["created"] is False and r2["complaint_id"] == r1["complaint_id"]
    assert r3["complaint_id"] == "QT-2026-000002" and r3["cases"] == r1["cases"]
    case = records.get_case(store, "CASE-2026-0001")
    assert case["complainants"] == 2
    assert [h["kind"] for h in case["history"]] == ["opened", "complaint_joined"]


def test_personal_data_is_kept_apart(store):
    records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="clerk", appeals=A)
    rows = store.query("SELECT * FROM cases_complaints")
    text = repr(rows)
    assert "Асанов" not in text and "Абай" not in text
    assert records.applicant(store, "QT-2026-000001").name == "Асанов Бауыржан"
    assert "Асанов" not in repr(records.complaint(store, "QT-2026-000001"))


def test_grouping_window_operator_and_service(store):
    records.register_complaint(store, facts(1, "2026-03-01"), PERSON, by="c", appeals=A)
    # beyond the 30-day window: a new case
    late = records.register_complaint(store, facts(2, "2026-04-15"), PERSON, by="c", appeals=A)
    # another operator and two services: one case per operator x service
    other = records.register_complaint(
        store,
        facts(3, "2026-03-02", operators=["kcell"], services=["mobile_internet", "mobile_voice"]),
        PERSON,
        by="c",
        appeals=A,
    )
    assert late["cases"] == ["CASE-2026-0002"]
    assert other["cases"] == ["CASE-2026-0003", "CASE-2026-0004"]
    # not yet matched: no case until staff confirm
    unsure = records.register_complaint(
        store, facts(4, "2026-03-03", kato=None, needs_person=True), PERSON, by="c", appeals=A
    )
    assert unsure["cases"] == []
    assert [c["complaint_id"] for c in records.complaints(store, unassigned=True)] == [unsure["complaint_id"]]
    done = records.confirm_complaint(store, unsure["complaint_id"], by="methodologist", appeals=A, kato=KATO)
    assert done["cases"] == ["CASE-2026-0001"]


def _walk(store, case_id, steps):
    for to, fields in steps:
        records.transition(store, case_id, to, by="inspector", fields=fields)


FULL = [
    ("accepted", {}),
    ("inspection_appointed", {"act_number": "5", "act_registered": "2026-03-18"}),
    ("measured", {"inspection_id": "INSP-2026-0001"}),
    ("violation_found", {}),
    (
        "order_issued",
        {"protocol_number": "П-1", "order_number": "ПР-1", "order_deadline": "2026-04-01", "order_date": "2026-03-20"},
    ),
    ("remedy_due", {}),
    ("re_measured", {"inspection_id": "INSP-2026-0002", "result": "fixed"}),
]


def test_illegal_transition_lists_the_allowed_ones(store):
    records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="c", appeals=A)
    with pytest.raises(TransitionError, match="allowed from 'registered': accepted, redirected"):
        records.transition(store, "CASE-2026-0001", "measured", by="x", fields={"inspection_id": "I"})
    with pytest.raises(TransitionError, match="act_number, act_registered required"):
        _walk(store, "CASE-2026-0001", [("accepted", {}), ("inspection_appointed", {})])
    assert records.get_case(store, "CASE-2026-0001")["state"] == "accepted"


def test_full_path_answers_outcome_and_reopen(store):
    c1 = records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="c", appeals=A)["complaint_id"]
    c2 = records.register_complaint(store, facts(2, "2026-03-18", language="kk"), PERSON, by="c", appeals=A)[
        "complaint_id"
    ]
    _walk(store, "CASE-2026-0001", FULL)
    case = records.get_case(store, "CASE-2026-0001")
    assert {i["inspection_id"]: i["role"] for i in case["inspections"]} == {
        "INSP-2026-0001": "measurement",
        "INSP-2026-0002": "followup",
    }
    with pytest.raises(
        TransitionError,
        match="every complainant needs an answer first; not answered: QT-2026-000001, " "QT-2026-000002",
    ):
        records.transition(store, "CASE-2026-0001", "answered", by="head")
    assert (
        records.record_answer(
            store, c1, answer_number="A-1", lang="ru", issued=date(2026, 4, 8), by="head", files=["answer_ru.pdf"]
        )
        == []
    )
    assert records.record_answer(
        store, c2, answer_number="A-2", lang="kk", issued=date(2026, 4, 8), by="head", files=["answer_kk.pdf"]
    ) == ["CASE-2026-0001"]
    with pytest.raises(TransitionError, match="outcome no_violation needs a no_violation finding"):
        records.transition(store, "CASE-2026-0001", "closed", by="head", fields={"outcome": "no_violation"})
    case = records.transition(store, "CASE-2026-0001", "closed", by="head", fields={"outcome": "fixed_confirmed"})
    assert case["state"] == "closed" and case["outcome"] == "fixed_confirmed"
    # a new complaint within the window reopens the closed case
    again = records.register_complaint(store, facts(3, "2026-04-12"), PERSON, by="c", appeals=A)
    assert again["cases"] == ["CASE-2026-0001"]
    case = records.get_case(store, "CASE-2026-0001")
    assert case["state"] == "reopened" and case["outcome"] is None and case["complainants"] == 3
    assert case["allowed"] == ["inspection_appointed"]
    hist = [(h["kind"], h["payload"].get("to"), h["payload"]["by"]) for h in case["history"]]
    assert hist[-2:] == [("transition", "reopened", "c"), ("complaint_joined", None, "c")]
    assert all(r["ok"] for r in records.verify(store))


def test_order_deadline_below_the_minimum_is_refused(store):
    records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="c", appeals=A)
    _walk(store, "CASE-2026-0001", FULL[:4])
    short = {"protocol_number": "П-1", "order_number": "ПР-1", "order_deadline": "2026-03-25",
             "order_date": "2026-03-20"}
    with pytest.raises(TransitionError, match="5 days after the order's date 2026-03-20; at least 10 calendar days"):
        records.transition(store, "CASE-2026-0001", "order_issued", by="inspector", fields=short)
    assert records.get_case(store, "CASE-2026-0001")["state"] == "violation_found"


def test_fixed_outcome_needs_a_fixed_remeasurement(store):
    records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="c", appeals=A)
    steps = FULL[:-1] + [("re_measured", {"inspection_id": "INSP-2", "result": "not_fixed"})]
    _walk(store, "CASE-2026-0001", steps)
    # a failed re-measurement may reopen the case
    case = records.transition(store, "CASE-2026-0001", "reopened", by="head", fields={"reason": "failed_remeasurement"})
    assert case["state"] == "reopened"


def test_history_is_append_only_and_tampering_is_found(store, engine, tmp_path):
    records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="c", appeals=A)
    _walk(store, "CASE-2026-0001", FULL[:3])
    with pytest.raises(Exception, match="append-only"):
        store.execute("UPDATE cases_history SET payload = '{}' WHERE seq = 2")
    with pytest.raises(Exception, match="append-only"):
        store.execute("DELETE FROM cases_history WHERE seq = 4")
    assert records.verify(store, "CASE-2026-0001")[0]["ok"]
    if engine != "sqlite":
        return
    # someone with the raw file drops the trigger and edits who made a transition
    path = tmp_path / "cases.db"
    con = sqlite3.connect(path)
    con.execute("DROP TRIGGER cases_history_no_update")
    con.execute("UPDATE cases_history SET payload = replace(payload, 'inspector', 'someone') WHERE seq = 3")
    con.commit()
    con.close()
    rep = records.verify(store, "CASE-2026-0001")[0]
    assert not rep["ok"] and rep["broken_at"] == 3 and "altered" in rep["reason"]


def test_due_list_and_deemed_refusal(store):
    cal = load_calendar()
    records.register_complaint(store, facts(1, "2026-03-16"), PERSON, by="c", appeals=A)
    cid = records.register_complaint(store, facts(2, "2026-03-20"), PERSON, by="c", appeals=A)["complaint_id"]
    out = due_list(store, date(2026, 4, 10), cal, A)
    by_id = {r["complaint_id"]: r for r in out["answers"]}
    assert by_id["QT-2026-000001"]["status"] == "overdue"
    assert by_id["QT-2026-000001"]["deemed_refusal_from"] == "2026-04-10"
    assert by_id[cid]["status"] == "due" and by_id[cid]["working_days_left"] > 0
    assert {r["complaint_id"] for r in out["redirections"]} == {"QT-2026-000001", cid}
    # a reasoned extension moves the due date
    new = records.extend(
        store,
        "QT-2026-000001",
        until=date(2026, 5, 15),
        decided=date(2026, 4, 1),
        by="head",
        reason="measurement needs a second trip",
        cal=cal,
        appeals=A,
    )
    assert new["due"] == "2026-05-15" and new["extension_notice_due"] == "2026-04-06"
    out = due_list(store, date(2026, 4, 10), cal, A)
    row = {r["complaint_id"]: r for r in out["answers"]}["QT-2026-000001"]
    assert row["status"] == "due" and row["extended"] and row["extension_notice_due"] == "2026-04-06"
    with pytest.raises(CasesError, match="at most 2 months"):
        records.extend(
            store, cid, until=date(2026, 6, 1), decided=date(2026, 4, 1), by="h", reason="r", cal=cal, appeals=A
        )


#: SHA-256 of the cases migrations as released (sqlite, postgresql): never edit one, add the next number
CASES_RELEASED = {
    1: (
        "b5777e85ba01369d5136a19433b87ac96c9a8e47e46978eb12a371c6a40e08a1",
        "c4f871d19b8836b4be2d30c164ab07ba2cafd4d05690b2b435e2511dc6dcd0a1",
    )
}


def test_cases_migrations_are_registered_and_frozen():
    from qamtu.store.migrations import registered

    mine = {m.number: m for m in registered() if m.owner == "cases"}
    assert set(CASES_RELEASED) <= set(mine)
    for n, (lite, pg) in CASES_RELEASED.items():
        assert (mine[n].sha256("sqlite"), mine[n].sha256("postgresql")) == (lite, pg), f"cases migration {n} was edited"


def test_complaints_become_observations_of_the_problem_picture():
    import pandas as pd

    from qamtu.mapping.gazetteer import Gazetteer
    from qamtu.mapping.problems import build_problems

    g = Gazetteer.load()
    obs = pd.DataFrame(
        [[KATO, 2026, "internet", 3], [KATO, 2026, "post", 1]], columns=["kato", "year", "dimension", "complaints"]
    )
    pic = build_problems(g, [2025, 2026], complaints=obs)
    assert pic.status(KATO, "internet", 2026) == "problem" and pic.status(KATO, "internet", 2025) == "unknown"
    cell = pic.cells[(pic.cells["kato"] == KATO) & (pic.cells["dimension"] == "internet") & (pic.cells["year"] == 2026)]
    assert "complaint" in cell["sources"].iloc[0] and "3" in cell["sources"].iloc[0]
    # a measurement showing service wins over complaints for a dimension combined with any_service
    measured = {
        2026: pd.DataFrame(
            [
                {
                    "kato": KATO,
                    "mobile_status": "covered",
                    "mobile_judged": True,
                    "internet_status": "meets_standard",
                    "internet_judged": True,
                }
            ]
        )
    }
    rules_internet = build_problems(g, [2026], complaints=obs, measured=measured).rules.combine["internet"]
    expected = "no_problem" if rules_internet == "any_service" else "problem"
    status = build_problems(g, [2026], complaints=obs, measured=measured).status(KATO, "internet", 2026)
    assert status in (expected, "resolved")
