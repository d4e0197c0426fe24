"""Inspection pages of the office: findings, documents made on request, an evidence bundle uploaded
and verified against the office's key list, and a tampered bundle reported as such."""

from __future__ import annotations

import zipfile

import pytest

from office_support import EASY, app_for, csrf_of, make_store, running, signed_in


@pytest.fixture(scope="module")
def office(tmp_path_factory, gazetteer):
    from qamtu.reports.inspection_demo import run_demo_inspection

    tmp = tmp_path_factory.mktemp("office-insp")
    ids = make_store(tmp / "office.db", gazetteer)
    demo = run_demo_inspection(tmp / "office.db", tmp / "demo", gazetteer=gazetteer)
    iid = ids["store"].query("SELECT inspection_id FROM inspections")[0]["inspection_id"]
    app = app_for(ids["store"], tmp, gazetteer=gazetteer, registers=demo["registers"], rates=EASY)
    with running(app) as base:
        yield {**ids, "base": base, "tmp": tmp, "demo": demo, "iid": iid}


def test_inspection_page_documents_and_bundles(office):
    iid = office["iid"]
    insp = signed_in(office["base"], "inspector")
    page = insp.get(f"/staff/inspections/{iid}")
    assert page.status_code == 200 and 'id="verdict"' in page.text
    token = csrf_of(page.text)
    # documents on request (audited)
    r = insp.post(f"/staff/inspections/{iid}/documents", data={"csrf_token": token})
    assert r.status_code == 303
    page = insp.get(f"/staff/inspections/{iid}").text
    assert "act_kk.pdf" in page and "order_ru.docx" in page
    pdf = insp.get(f"/staff/inspections/{iid}/files/act_kk.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert insp.get(f"/staff/inspections/{iid}/files/..%2Foffice.db").status_code in (400, 404)
    # the signed bundle verifies; a tampered copy does not
    good = office["demo"]["bundle"].read_bytes()
    r = insp.post(f"/staff/inspections/{iid}/bundle", data={"csrf_token": token},
                  files={"bundle": ("<b>x</b>.zip", good, "application/zip")})
    assert r.status_code == 303
    bad = office["tmp"] / "bad.zip"
    with zipfile.ZipFile(office["demo"]["bundle"]) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.endswith(".csv"):
                data = data.replace(b"1", b"2", 1)
            dst.writestr(item, data)
    insp.post(f"/staff/inspections/{iid}/bundle", data={"csrf_token": token},
              files={"bundle": ("bad.zip", bad.read_bytes(), "application/zip")})
    page = insp.get(f"/staff/inspections/{iid}").text
    bundles = page[page.index('id="bundles"'):]
    assert bundles.count("badge good") == 1 and bundles.count("badge bad") == 1
    assert "<b>x</b>" not in page
    # the desk reads, but may not act
    desk = signed_in(office["base"], "desk")
    assert desk.get(f"/staff/inspections/{iid}").status_code == 200
    assert desk.post(f"/staff/inspections/{iid}/documents", data={"csrf_token": token}).status_code == 403
