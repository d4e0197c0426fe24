"""The 109 desk's flow over HTTP: a complaint whose place cannot be matched waits for a person, who
confirms the settlement, operator and service on its page; it then joins the open case (grouping);
each step is in the case history and the audit log, and the applicant's data only shows to desk/head."""

from __future__ import annotations

import pytest

from office_support import EASY, app_for, csrf_of, make_store, running, signed_in
from qamtu.office import auth


@pytest.fixture(scope="module")
def office(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("office-intake")
    ids = make_store(tmp / "office.db", gazetteer)
    with running(app_for(ids["store"], tmp, gazetteer=gazetteer, rates=EASY)) as base:
        yield {**ids, "base": base}


def test_unmatched_place_is_confirmed_by_a_person_and_joins_the_open_case(office):
    from qamtu.cases import records

    desk = signed_in(office["base"], "desk")
    token = csrf_of(desk.get("/staff/intake").text)
    r = desk.post("/staff/intake", data={
        "csrf_token": token, "channel": "109", "number": "109-900", "received": "2026-11-10", "language": "kk",
        "place": "ауылда", "substance": "Kcell интернет жоқ", "name": "Сәуле Әбенова", "postal_address": "Абай к. 3",
        "iin": "", "phone": ""})
    assert r.status_code == 200 and 'id="intake-result"' in r.text
    talon = records.complaints(office["store"], unassigned=True)[-1]["complaint_id"]
    page = desk.get(f"/staff/complaints/{talon}").text
    assert 'id="confirm-kato-other"' in page and "Сәуле Әбенова" in page
    r = desk.post(f"/staff/complaints/{talon}/confirm", data={"csrf_token": token, "kato_other": "123"})
    assert r.status_code == 400 and "kato" in r.text.lower()
    r = desk.post(f"/staff/complaints/{talon}/confirm", data={
        "csrf_token": token, "kato_other": office["village"].kato, "operator": "kcell", "service": "mobile_internet"})
    assert r.status_code == 303
    assert records.complaint(office["store"], talon)["cases"] == [office["case0"]]
    case = records.get_case(office["store"], office["case0"])
    assert case["complainants"] == 2 and case["history"][-1]["kind"] == "complaint_joined"
    assert any(a["action"] == "complaint_confirmed" and a["target"] == talon for a in auth.audit_log(office["store"]))
    # the inspector reads the complaint, not the person
    inspector = signed_in(office["base"], "inspector")
    page = inspector.get(f"/staff/complaints/{talon}").text
    assert "Сәуле Әбенова" not in page and "Абай к. 3" not in page


def test_moving_a_case_is_recorded_in_history_and_audit(office):
    from qamtu.cases import records

    head = signed_in(office["base"], "head")
    case_id = office["case0"]
    token = csrf_of(head.get(f"/staff/cases/{case_id}").text)
    r = head.post(f"/staff/cases/{case_id}/move", data={"csrf_token": token, "to": "accepted", "note": "<i>ok</i>"})
    assert r.status_code == 303
    r = head.post(f"/staff/cases/{case_id}/move", data={"csrf_token": token, "to": "inspection_appointed"})
    assert r.status_code == 400 and "act_number" in r.text          # required fields are named
    case = records.get_case(office["store"], case_id)
    assert case["state"] == "accepted" and case["history"][-1]["payload"]["by"] == "head1"
    assert records.verify(office["store"], case_id)[0]["ok"]
    page = head.get(f"/staff/cases/{case_id}").text
    assert "&lt;i&gt;ok&lt;/i&gt;" in page and "badge good" in page
    assert any(a["action"] == "case_moved" and a["target"] == case_id for a in auth.audit_log(office["store"]))
