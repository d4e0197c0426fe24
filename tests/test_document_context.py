"""The typed document context against the DOCX templates: every placeholder of every bundled
template (kk and ru) is a field of its document's model; fields no template shows are exactly the
documented spare ones; the fields are listed in docs/inspections.md; the template maker agrees."""

from __future__ import annotations

import subprocess
import sys
import warnings
from datetime import date
from pathlib import Path

import pytest
from docx import Document

from conftest import REPO
from qamtu.reports.document_context import (LANGS, MODELS, RENDER_FIELDS, SPARE_FIELDS, IndicatorRow,
                                            InstrumentRow, limitation_passed, order_deadline, template_placeholders,
                                            templates_dir)
from qamtu.reports.template_maker import main as template_maker_main
from qamtu.reports.template_maker import write_templates

ITEMS = {"rows": IndicatorRow, "instruments": InstrumentRow}


def problems_of(path: Path, kind: str) -> tuple[list[str], set[str]]:
    """(placeholders the model lacks, model fields the template leaves unused as 'name' or 'list.item')."""
    model = MODELS[kind]
    names, loops = template_placeholders(path)
    fields = set(model.model_fields)
    unknown = sorted(names - fields - set(RENDER_FIELDS))
    for loop, attrs in loops.items():
        item = ITEMS.get(loop)
        if loop not in fields or (item is None and attrs):   # a list of words (notes) has no item fields
            unknown.append(f"{loop} (loop)")
            continue
        if item is None:
            continue
        unknown += [f"{loop}.{a}" for a in sorted(attrs - set(item.model_fields))]
    unused = {f for f in fields if f not in names}
    for loop, item in ITEMS.items():
        if loop in fields:
            unused |= {f"{loop}.{a}" for a in item.model_fields if a not in loops.get(loop, set())}
    return unknown, unused


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("lang", LANGS)
def test_every_placeholder_is_a_field_of_the_model(kind, lang):
    unknown, _ = problems_of(templates_dir() / f"{kind}_{lang}.docx", kind)
    assert unknown == [], f"{kind}_{lang}.docx: placeholders not in {MODELS[kind].__name__}: {unknown}"


def test_fields_no_template_shows_are_the_documented_spare_ones():
    unused: set[str] = set()
    for kind in MODELS:
        for lang in LANGS:
            unused |= problems_of(templates_dir() / f"{kind}_{lang}.docx", kind)[1]
    if unused:
        warnings.warn(f"model fields no bundled template shows: {sorted(unused)}")
    assert unused == SPARE_FIELDS, "update SPARE_FIELDS (and docs/inspections.md) or use the field in a template"


def test_the_check_catches_a_misspelt_placeholder_and_a_loop_field(tmp_path):
    doc = Document(str(templates_dir() / "order_ru.docx"))
    doc.add_paragraph("{{ operator_nme }}")
    bad = tmp_path / "order_ru.docx"
    doc.save(str(bad))
    assert problems_of(bad, "order")[0] == ["operator_nme"]
    # the act's instrument loop used in the order, whose model has no instruments
    doc = Document(str(templates_dir() / "act_kk.docx"))
    doc.save(str(tmp_path / "act_kk.docx"))
    assert "instruments" in problems_of(tmp_path / "act_kk.docx", "order")[0]


def test_every_field_is_in_the_docs_table():
    text = (REPO / "docs" / "inspections.md").read_text(encoding="utf-8")
    fields = {f for m in MODELS.values() for f in m.model_fields} | set(RENDER_FIELDS)
    fields |= {f for item in ITEMS.values() for f in item.model_fields}
    missing = sorted(f for f in fields if f"| `{f}` |" not in text)
    assert missing == [], f"docs/inspections.md has no table row for {missing}"


def test_template_maker_writes_elsewhere_only_and_its_templates_match_the_models(tmp_path):
    written = write_templates(tmp_path / "t")
    assert len(written) == 6 and all(p.parent == tmp_path / "t" for p in written)
    for p in written:
        kind = p.stem.split("_")[0]
        assert problems_of(p, kind)[0] == [], p.name
        assert template_placeholders(p) == template_placeholders(templates_dir() / p.name), p.name
    with pytest.raises(ValueError, match="installed package"):
        write_templates(templates_dir())
    assert template_maker_main([]) == 2                       # no folder given: usage, nothing written
    before = {p: p.stat().st_mtime_ns for p in templates_dir().glob("*.docx")}
    out = subprocess.run([sys.executable, "-m", "qamtu.reports.template_maker"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage" in out.stderr
    assert {p: p.stat().st_mtime_ns for p in templates_dir().glob("*.docx")} == before


def test_legal_rules_limitation_and_deadline():
    assert not limitation_passed(None, date(2026, 6, 5), 12)
    assert not limitation_passed("2025-06-05", date(2026, 6, 5), 12)       # exactly twelve months: not passed
    assert limitation_passed("2025-06-04", date(2026, 6, 5), 12)
    assert order_deadline(date(2026, 6, 5), 30) == date(2026, 7, 5)
