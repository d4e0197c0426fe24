"""Documents: act, protocol and order in kk and ru, DOCX and PDF; Kazakh letters survive; refusals."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from docx import Document
from PIL import Image

from qamtu.mapping.rules import load_rules
from qamtu.probe.store import Store
from qamtu.reports.documents import DocumentError, generate_documents, templates_dir
from qamtu.reports.findings import compute_findings
from qamtu.reports.pdf import font_path
from qamtu.reports.registers import Registers
from test_inspection_helpers import a_village, instrument_toml, imei_of, measure, new_inspection, write_registers

KAZAKH = "әғқңөұүһіӘҒҚҢӨҰҮҺІ"
ADDRESS = "Һ. Әуезов көшесі 7, Ғ. Мүсірепов ұйы, Қоңырөлең ауылы, Іле"  # every Kazakh-specific letter
ISSUE = date(2026, 6, 5)


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True,
                          text=True, encoding="utf-8").stdout.replace("\u00a0", " ")


@pytest.fixture(scope="module")
def made(tmp_path_factory, gazetteer):
    tmp = tmp_path_factory.mktemp("docs")
    store = Store(tmp / "s.db")
    regs = Registers.load(write_registers(tmp / "reg"))
    rules = load_rules()
    v = a_village(gazetteer)
    new_inspection(store, regs, gazetteer, v, ident="DOC-1", address=ADDRESS)
    measure(store, "DOC-1", v, download=2.0)
    docs = generate_documents(store, "DOC-1", tmp / "out", rules=rules, registers=regs, gazetteer=gazetteer,
                              issue_date=ISSUE, deadline_days=14)
    yield {"store": store, "regs": regs, "rules": rules, "village": v, "docs": docs, "tmp": tmp}
    store.close()


def test_all_documents_in_both_languages(made):
    names = set(made["docs"])
    for kind in ("act", "protocol", "order"):
        for lang in ("kk", "ru"):
            assert {f"{kind}_{lang}.pdf", f"{kind}_{lang}.docx"} <= names
    assert not list((made["tmp"] / "out").glob(".partial*"))


def test_kazakh_letters_survive_in_pdf_text(made):
    for name in ("act_kk.pdf", "protocol_kk.pdf", "order_kk.pdf"):
        text = pdftotext(made["docs"][name])
        assert ADDRESS in text.replace("\n", " "), name  # user input with every Kazakh letter
        assert "Қазақстан" in text or "ӘҚБтК" in text or "Кәсіпкерлік" in text
        missing = [c for c in "әғқңөұүһі" if c not in text.lower()]
        assert not missing, f"{name}: letters lost {missing}"


def test_pdf_renders_to_a_page_with_ink(made, tmp_path):
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(made["docs"]["protocol_kk.pdf"]),
                    str(tmp_path / "page")], check=True)
    (png,) = tmp_path.glob("page*.png")
    img = Image.open(png).convert("L")
    dark = int((np.asarray(img) < 128).sum())
    assert img.size[0] > 300 and dark > 2000  # text, tables: not a blank page


def test_pdf_embeds_the_bundled_font(made):
    out = subprocess.run(["pdffonts", str(made["docs"]["act_kk.pdf"])], check=True, capture_output=True,
                         text=True).stdout
    rows = [line for line in out.splitlines() if "DejaVu" in line]
    assert rows and all(" yes " in line for line in rows), out


def test_the_bundled_font_has_every_kazakh_letter():
    from fontTools.ttLib import TTFont

    for bold in (False, True):
        cmap = TTFont(font_path(bold)).getBestCmap()
        assert all(ord(c) in cmap for c in KAZAKH)
    assert (font_path().parent / "LICENSE-DejaVu.txt").read_text(encoding="utf-8").count("Bitstream") > 2


def test_protocol_states_article_fine_mci_and_instrument_verification(made):
    regs, rules = made["regs"], made["rules"]
    f = compute_findings(made["store"], "DOC-1", rules, regs)
    text = pdftotext(made["docs"]["protocol_ru.pdf"]).replace("\n", " ")
    part = f["legal"]["part"]
    assert f"ч. {part} ст. 637 КоАП РК" in text
    tenge = f"{f['legal']['fine_tenge']:,.0f}".replace(",", " ")
    assert f"{f['legal']['fine_mci']:,.0f} МРП = {tenge} тенге".replace(",", " ") in text
    ins = regs.instrument("M40177")
    for value in (ins.serial, ins.verification_certificate, ins.verification_date, ins.verification_valid_until):
        assert value in text
    assert "СИНТЕТИЧЕСКИЕ ДАННЫЕ" in text  # synthetic measurements can never pass for evidence
    assert "ПРОВЕРИТЬ" in text  # the thresholds' uncertainty is printed
    kk = pdftotext(made["docs"]["protocol_kk.pdf"]).replace("\n", " ")
    assert f"ӘҚБтК 637-бабының {part}-бөлігі" in kk


def test_order_deadline_and_docx_placeholders_filled(made):
    text = pdftotext(made["docs"]["order_ru.pdf"]).replace("\n", " ")
    assert "до 2026-06-19" in text and "14 календарных дней" in text
    for name, path in made["docs"].items():
        if name.endswith(".docx"):
            body = "\n".join(p.text for p in Document(str(path)).paragraphs)
            body += "\n".join(c.text for t in Document(str(path)).tables for r in t.rows for c in r.cells)
            assert "{{" not in body and "{%" not in body, name
    act = Document(str(made["docs"]["act_kk.docx"]))
    assert act.inline_shapes, "the act carries the map excerpt"


def test_findings_table_in_act(made):
    f = compute_findings(made["store"], "DOC-1", made["rules"], made["regs"])
    row = f["indicators"][0]
    text = pdftotext(made["docs"]["act_ru.pdf"])
    assert "4G (LTE)" in text and f"{100 * row['ci_low']:.1f}–{100 * row['ci_high']:.1f} %" in text
    assert str(row["n"]) in text and "нарушение установлено" in text


def _refused(made, tmp_path, instruments: str, match: str):
    regs = Registers.load(write_registers(tmp_path / "reg2", instruments=instruments))
    out = tmp_path / "refused"
    with pytest.raises(DocumentError, match=match):
        generate_documents(made["store"], "DOC-1", out, rules=made["rules"], registers=regs, issue_date=ISSUE)
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".partial")]
    assert not out.exists() or not list(out.iterdir())


def test_refused_when_verification_expired_on_the_measurement_date(made, tmp_path):
    _refused(made, tmp_path, instrument_toml("M40177", imei_of("401-77"), valid_until="2026-06-02"),
             r"M40177 .*expired on 2026-06-02, before the measurement on 2026-06-03")


def test_refused_when_verification_missing(made, tmp_path):
    text = ('[instruments.M40177]\nname = "modem"\nmodel = "synthetic"\nserial = "S"\n'
            f'imei = "{imei_of("401-77")}"\n')
    _refused(made, tmp_path, text, r"M40177 .*has no metrological verification")


def test_refused_when_verified_after_the_measurement(made, tmp_path):
    _refused(made, tmp_path, instrument_toml("M40177", imei_of("401-77"), valid_from="2026-06-02"),
             r"verified only on 2026-06-02, after the measurement on 2026-06-01")


def test_refused_when_a_modem_that_measured_is_not_registered(made, tmp_path):
    _refused(made, tmp_path, instrument_toml("M40177", "123456789012345"),
             rf"IMEI {imei_of('401-77')} measured on 2026-06-01, 2026-06-02, 2026-06-03 but is not among")


def test_deadline_shorter_than_the_legal_minimum_is_refused(made, tmp_path):
    with pytest.raises(DocumentError, match="at least 10 calendar days"):
        generate_documents(made["store"], "DOC-1", tmp_path / "o", rules=made["rules"], registers=made["regs"],
                           deadline_days=9)


def test_no_violation_gives_only_the_act(made, tmp_path, gazetteer):
    store, regs = made["store"], made["regs"]
    new_inspection(store, regs, gazetteer, made["village"], ident="DOC-OK")
    measure(store, "DOC-OK", made["village"], download=40.0, tests=15, seed=5)
    docs = generate_documents(store, "DOC-OK", tmp_path / "ok", rules=made["rules"], registers=regs, langs=("ru",),
                              issue_date=ISSUE)
    assert sorted(docs) == ["act_ru.docx", "act_ru.pdf", "map_ru.png"]
    assert "нарушение не установлено" in pdftotext(docs["act_ru.pdf"])


def test_office_template_edit_is_used_and_bad_placeholder_is_named(made, tmp_path):
    from docx import Document as NewDoc

    tdir = tmp_path / "tpl"
    shutil.copytree(templates_dir(), tdir)
    doc = NewDoc(str(tdir / "act_ru.docx"))
    doc.add_paragraph("Отметка инспекции: {{ inspection_id }} проверено")
    doc.save(str(tdir / "act_ru.docx"))
    docs = generate_documents(made["store"], "DOC-1", tmp_path / "o1", rules=made["rules"], registers=made["regs"],
                              langs=("ru",), templates=tdir, issue_date=ISSUE)
    assert "Отметка инспекции: DOC-1 проверено" in pdftotext(docs["act_ru.pdf"])
    doc.add_paragraph("{{ no_such_value }}")
    doc.save(str(tdir / "act_ru.docx"))
    with pytest.raises(DocumentError, match=r"act_ru.docx: template error: .*no_such_value"):
        generate_documents(made["store"], "DOC-1", tmp_path / "o2", rules=made["rules"], registers=made["regs"],
                           langs=("ru",), templates=tdir, issue_date=ISSUE)
    assert not (tmp_path / "o2" / "act_ru.pdf").exists()


def test_late_documents_warn_about_the_limitation_period_and_protocol_has_the_map(made, tmp_path):
    docs = generate_documents(made["store"], "DOC-1", tmp_path / "late", rules=made["rules"], registers=made["regs"],
                              langs=("ru",), issue_date=date(2026, 8, 4))
    text = pdftotext(docs["protocol_ru.pdf"]).replace("\n", " ")
    assert "прошло более 2 мес." in text and "ст. 62 КоАП" in text
    assert "прошло более" not in pdftotext(made["docs"]["protocol_ru.pdf"])  # issued two days after: no warning
    assert Document(str(docs["protocol_ru.docx"])).inline_shapes
    act = pdftotext(docs["act_ru.pdf"]).replace("\n", " ")
    assert "№ 114/НҚ" in act and "НЕ ВНЕСЕНО" in act  # checklist named, its items left to the office
