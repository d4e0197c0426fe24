"""Writes the default DOCX templates of the answer letter (``answer_kk.docx``, ``answer_ru.docx``).

The shipped templates in ``cases/data/templates/`` were made by :func:`write_templates`; the office
edits them in Word (placeholders ``{{ name }}``, paragraph loops ``{%p for x in list %}``; the list
of placeholders is in docs/cases.md). Re-create the defaults with
``python -m qamtu.cases.template_maker DIR``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from .. import package_path

T = {
    "kk": {
        "title": "Өтінішке ЖАУАП",
        "header": "{{ office_name }}, {{ office_address }}",
        "number": "Шығыс № {{ answer_number }}, {{ doc_date }}, {{ place }}",
        "to": "{{ applicant_name }}, {{ applicant_address }}",
        "intro": "Сіздің {{ received }} күнгі өтінішіңіз (талон № {{ talon }}; {{ channel }} № {{ external_number }}) "
        "{{ settlement }} елді мекеніндегі {{ operators }} байланыс қызметінің ({{ services }}) сапасы туралы "
        "қаралды. Өтініштің мәні: «{{ substance }}».",
        "facts": "Қабылданған шаралар мен анықталған мән-жайлар",
        "findings": "Өлшеу нәтижелері",
        "measures": "Қабылданған шаралар",
        "outcome": "Қорытынды",
        "legal": "Құқықтық негіз",
        "appeal": "Шағымдану тәртібі",
        "notes": "Ескертпелер",
        "sign": "Лауазымды адам: ____________________ {{ signer }}",
        "copy": "Жауап өтініш берушінің тілінде (қазақ тілінде) жасалды.",
    },
    "ru": {
        "title": "ОТВЕТ на обращение",
        "header": "{{ office_name }}, {{ office_address }}",
        "number": "Исх. № {{ answer_number }} от {{ doc_date }}, {{ place }}",
        "to": "{{ applicant_name }}, {{ applicant_address }}",
        "intro": "Ваше обращение от {{ received }} (талон № {{ talon }}; {{ channel }} № {{ external_number }}) "
        "о качестве "
        "услуг связи {{ operators }} ({{ services }}) в населённом пункте {{ settlement }} рассмотрено. "
        "Суть обращения: «{{ substance }}».",
        "facts": "Проведённые действия и установленные обстоятельства",
        "findings": "Результаты измерений",
        "measures": "Принятые меры",
        "outcome": "Итог",
        "legal": "Правовое основание",
        "appeal": "Порядок обжалования",
        "notes": "Примечания",
        "sign": "Должностное лицо: ____________________ {{ signer }}",
        "copy": "Ответ составлен на языке обращения (русском).",
    },
}


def _para(
    doc, text: str, *, style: str | None = None, bold: bool = False, centre: bool = False, size: float | None = None
):
    p = doc.add_paragraph(style=style)
    run = p.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if centre:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    return p


def _loop(doc, var: str) -> None:
    doc.add_paragraph("{%p for x in " + var + " %}")
    doc.add_paragraph("{{ x }}")
    doc.add_paragraph("{%p endfor %}")


def answer_template(lang: str) -> DocxDocument:
    t = T[lang]
    doc = Document()
    _para(doc, "{{ synthetic_banner }}", bold=True, centre=True)
    _para(doc, t["header"])
    _para(doc, t["number"])
    _para(doc, t["to"], bold=True)
    _para(doc, t["title"], style="Title")
    _para(doc, t["intro"])
    doc.add_heading(t["facts"], level=2)
    _loop(doc, "facts")
    doc.add_heading(t["findings"], level=2)
    _loop(doc, "findings")
    doc.add_heading(t["measures"], level=2)
    _loop(doc, "measures")
    doc.add_heading(t["outcome"], level=2)
    _para(doc, "{{ outcome_text }}")
    doc.add_heading(t["legal"], level=2)
    _loop(doc, "legal_basis")
    doc.add_heading(t["appeal"], level=2)
    _para(doc, "{{ appeal_text }}")
    doc.add_heading(t["notes"], level=2)
    _loop(doc, "notes")
    _para(doc, t["copy"])
    _para(doc, t["sign"])
    return doc


def templates_dir() -> Path:
    return package_path("cases", "data", "templates")


def write_templates(folder: Path | str) -> list[Path]:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for lang in T:
        path = out / f"answer_{lang}.docx"
        answer_template(lang).save(str(path))
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - developer tool
    for p in write_templates(sys.argv[1] if len(sys.argv) > 1 else templates_dir()):
        print(p)
