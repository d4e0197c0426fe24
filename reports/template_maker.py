"""Writes the default DOCX templates (act, protocol, order; Kazakh and Russian).

A developer tool. The shipped templates in ``reports/data/templates/`` were made by
:func:`write_templates`; the office edits them in Word afterwards (placeholders ``{{ name }}``,
loops ``{%tr for ... %}``: the fields of :mod:`qamtu.reports.document_context`, listed in
docs/inspections.md), so this module only matters for re-creating the defaults:
``python -m qamtu.reports.template_maker DIR`` writes them into ``DIR``, never into the installed
package (copying them over ``reports/data/templates/`` is a deliberate step: it replaces the
office's Word edits).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from .. import package_path

DOCS = ("act", "protocol", "order")
LANGS = ("kk", "ru")

# Fixed wording per language: block texts (str), except the table headers "th" and "ih" (list[str]).
T: dict[str, dict[str, Any]] = {
    "kk": {
        "act_title": "Тексеру нәтижелері туралы АКТ",
        "act_sub": "(байланыс қызметтерінің сапасын жоспардан тыс тексеру; Кәсіпкерлік кодекстің 152-бабы)",
        "protocol_title": "Әкімшілік құқық бұзушылық туралы ХАТТАМА (жоба)",
        "protocol_sub": "(ӘҚБтК 803-бабы; ӘҚБтК {{ article_no }}-бабы)",
        "order_title": "Анықталған бұзушылықтарды жою туралы НҰСҚАМА",
        "order_sub": "(Кәсіпкерлік кодекстің 152-бабы 6–7-тармақтары)",
        "date_place": "Күні: {{ doc_date }}     Жасалған орны: {{ place }}",
        "office": "Мемлекеттік орган", "office_addr": "Органның мекенжайы",
        "inspection": "Тексеру (Qamtu)", "appointment": "Тағайындау туралы акт", "registered": "тіркелген күні",
        "grounds": "Тексеру негізі", "inspectors": "Тексерушілер", "subject": "Тексерілетін субъект",
        "bin": "БСН", "subject_addr": "Орналасқан жері", "registration": "Мемлекеттік тіркеу",
        "bank": "Банк деректемелері",
        "category": "Субъект санаты", "settlement": "Елді мекен (ӘАОЖ)", "address": "Өлшеу жүргізілген мекенжай",
        "period": "Өлшеу кезеңі", "days": "Өлшеу күндері",
        "results": "Өлшеу нәтижелері",
        "results_intro": "Көрсеткіш: {{ indicator }}. Шекті мәндер мен рұқсат етілген үлес — «{{ rule_set }}» ереже "
                         "жинағынан; бағалау ережесі: {{ verdict_rule }}",
        "th": ["Технология", "Шек, Мбит/с", "Өлшемдер", "Шектен төмен", "Үлес", "95 % аралық", "Кезең (UTC)",
               "Қорытынды"],
        "verdict": "Жалпы қорытынды", "instruments": "Өлшеу құралдары (ӘҚБтК 803-бап 2-т. 6-тт.)",
        "ih": ["Атауы", "Моделі", "Сериялық нөмірі / IMEI", "Салыстырып тексеру куәлігі", "Күні",
               "Жарамдылық мерзімі"],
        "map": "Өлшеу орындарының картасы (үзінді)", "notes": "Дереккөздер мен ескертпелер",
        "indicators_order": "Сапа көрсеткіштері", "legal_versions": "Пайдаланылған тізілімдер",
        "attached": "Қоса беріледі: өлшеу хаттамалары мен дәлелдемелер пакеті {{ inspection_id }}.zip "
                    "(SHA-256 манифесті, Ed25519 қолтаңбасы).",
        "forms": "{{ forms_note }}",
        "sign_inspector": "Тексерушінің қолы: ____________________ {{ inspectors }}",
        "sign_subject": "Субъект өкілінің қолы (танысқаны / бас тартуы): ____________________",
        "offence": "Құқық бұзушылықтың орны, уақыты және мәні",
        "offence_text": "{{ address }}, {{ settlement }}; {{ window_start }} – {{ window_end }} ({{ utc }}). "
                        "{{ operator_name }} пайдаланушыларға сапасы байланыс қызметтері сапасының көрсеткіштеріне "
                        "сәйкес келмейтін байланыс қызметтерін көрсетті: {{ violation_summary }}.",
        "article": "Жауапкершілік көзделген бап", "substance": "Бөліктің мәтіні",
        "fine": "Айыппұл (жоба)", "fine_text": "{{ fine_mci }} АЕК = {{ fine_tenge }} теңге; {{ mci_note }}",
        "repeat": "Қайталану",
        "explanation": "Заңды тұлға өкілінің түсініктемесі: ______________________________________________",
        "rights": "{{ language_note }}. {{ copy_note }}. "
                  "Хаттамаға қол қою кінәні мойындау болып табылмайды (ӘҚБтК 803-бап).",
        "jurisdiction": "Істі қарау", "hearing": "Істі қарау уақыты мен орны: ________ (инспекция толтырады)",
        "violations": "Анықталған бұзушылықтар", "instruction": "Нұсқау",
        "instruction_text": "{{ operator_name }} {{ address }} ({{ settlement }}) мекенжайы бойынша "
                            "{{ violated_techs }} технологиясы бойынша байланыс қызметтерінің сапа көрсеткіштеріне "
                            "сәйкестігін қамтамасыз етсін және бұзушылықтарды жою туралы инспекцияға хабарласын.",
        "deadline": "Орындау мерзімі", "deadline_basis": "Мерзім негізі",
        "extension": "Субъект мерзімді ұзартуды 3 жұмыс күні ішінде сұрай алады (КК 152-бап 7-т.).",
        "copies": "Үш данада жасалды (КК 152-бап 8-т.).",
    },
    "ru": {
        "act_title": "АКТ о результатах проверки",
        "act_sub": "(внеплановая проверка качества услуг связи; ст. 152 Предпринимательского кодекса)",
        "protocol_title": "ПРОТОКОЛ об административном правонарушении (проект)",
        "protocol_sub": "(ст. 803 КоАП РК; ст. {{ article_no }} КоАП РК)",
        "order_title": "ПРЕДПИСАНИЕ об устранении выявленных нарушений",
        "order_sub": "(п. 6–7 ст. 152 Предпринимательского кодекса)",
        "date_place": "Дата: {{ doc_date }}     Место составления: {{ place }}",
        "office": "Государственный орган", "office_addr": "Адрес органа",
        "inspection": "Проверка (Qamtu)", "appointment": "Акт о назначении проверки", "registered": "дата регистрации",
        "grounds": "Основание проверки", "inspectors": "Проверяющие", "subject": "Проверяемый субъект",
        "bin": "БИН", "subject_addr": "Место нахождения", "registration": "Государственная регистрация",
        "bank": "Банковские реквизиты", "category": "Категория субъекта", "settlement": "Населённый пункт (КАТО)",
        "address": "Адрес проведения измерений",
        "period": "Период измерений", "days": "Дни измерений",
        "results": "Результаты измерений",
        "results_intro": "Показатель: {{ indicator }}. Пороговые значения и допустимая доля — из набора правил "
                         "«{{ rule_set }}»; правило оценки: {{ verdict_rule }}",
        "th": ["Технология", "Порог, Мбит/с", "Измерений", "Ниже порога", "Доля", "95 % интервал", "Период (UTC)",
               "Вывод"],
        "verdict": "Общий вывод", "instruments": "Средства измерений (пп. 6 п. 2 ст. 803 КоАП)",
        "ih": ["Наименование", "Модель", "Серийный номер / IMEI", "Свидетельство о поверке", "Дата",
               "Действительно до"],
        "map": "Карта мест измерений (выкопировка)", "notes": "Источники и оговорки",
        "indicators_order": "Показатели качества", "legal_versions": "Использованные реестры",
        "attached": "Прилагается: протоколы измерений и пакет доказательств {{ inspection_id }}.zip "
                    "(манифест SHA-256, подпись Ed25519).",
        "forms": "{{ forms_note }}",
        "sign_inspector": "Подпись проверяющего: ____________________ {{ inspectors }}",
        "sign_subject": "Подпись представителя субъекта (ознакомлен / отказ): ____________________",
        "offence": "Место, время и существо правонарушения",
        "offence_text": "{{ address }}, {{ settlement }}; {{ window_start }} – {{ window_end }} ({{ utc }}). "
                        "{{ operator_name }} предоставлял пользователям услуги связи, не соответствующие по качеству "
                        "показателям качества услуг связи: {{ violation_summary }}.",
        "article": "Статья, предусматривающая ответственность", "substance": "Текст части",
        "fine": "Штраф (проект)", "fine_text": "{{ fine_mci }} МРП = {{ fine_tenge }} тенге; {{ mci_note }}",
        "repeat": "Повторность",
        "explanation": "Объяснение представителя юридического лица: ______________________________________________",
        "rights": "{{ language_note }}. {{ copy_note }}. "
                  "Подписание протокола не означает признания вины (ст. 803 КоАП).",
        "jurisdiction": "Рассмотрение дела",
        "hearing": "Время и место рассмотрения дела: ________ (заполняет инспекция)",
        "violations": "Выявленные нарушения", "instruction": "Требование",
        "instruction_text": "{{ operator_name }} обеспечить соответствие услуг связи показателям качества по "
                            "технологии {{ violated_techs }} по адресу {{ address }} ({{ settlement }}) и сообщить "
                            "инспекции об устранении нарушений.",
        "deadline": "Срок исполнения", "deadline_basis": "Основание срока",
        "extension": "Субъект вправе в течение 3 рабочих дней просить о продлении срока (п. 7 ст. 152 ПК).",
        "copies": "Составлено в трёх экземплярах (п. 8 ст. 152 ПК).",
    },
}


def _kv(doc, rows: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, value


def _loop_table(doc, headers: list[str], var: str, cells: list[str]) -> None:
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for c, h in zip(table.rows[0].cells, headers):
        c.text = h
        for r in c.paragraphs[0].runs:
            r.bold = True
    table.add_row().cells[0].text = f"{{%tr for r in {var} %}}"
    row = table.add_row().cells
    for c, expr in zip(row, cells):
        c.text = "{{ r.%s }}" % expr
    table.add_row().cells[0].text = "{%tr endfor %}"


def _para_list(doc, var: str) -> None:
    doc.add_paragraph(f"{{%p for u in {var} %}}")
    doc.add_paragraph("– {{ u }}")
    doc.add_paragraph("{%p endfor %}")


def _head(doc, t: dict, kind: str) -> None:
    doc.add_paragraph("{{ synthetic_banner }}").runs[0].bold = True
    title = doc.add_paragraph(style="Title")
    title.add_run(t[f"{kind}_title"])
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub = doc.add_paragraph(t[f"{kind}_sub"])
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.add_paragraph(t["date_place"])


def _common(doc, t: dict) -> None:
    _kv(doc, [(t["office"], "{{ office_name }}"), (t["office_addr"], "{{ office_address }}"),
              (t["inspection"], "{{ inspection_id }}"),
              (t["appointment"], "№ {{ act_number }}, " + t["registered"] + " {{ act_registered }}"),
              (t["grounds"], "{{ grounds_text }}: № {{ grounds_number }}, {{ grounds_date }}"),
              (t["inspectors"], "{{ inspectors }}")])
    doc.add_heading(t["subject"], level=2)
    _kv(doc, [(t["subject"], "{{ operator_name }} ({{ operator_brand }})"), (t["bin"], "{{ operator_bin }}"),
              (t["subject_addr"], "{{ operator_address }}"), (t["registration"], "{{ operator_registration }}"),
              (t["bank"], "{{ operator_bank }}"), (t["category"], "{{ operator_category }}"),
              (t["settlement"], "{{ settlement }} ({{ kato }})"), (t["address"], "{{ address }}"),
              (t["period"], "{{ window_start }} – {{ window_end }} ({{ utc }})"),
              (t["days"], "{{ measurement_days }}")])


def _findings(doc, t: dict) -> None:
    doc.add_heading(t["results"], level=2)
    doc.add_paragraph(t["results_intro"])
    _loop_table(doc, t["th"], "rows", ["tech", "threshold", "n", "n_below", "share", "ci", "window", "verdict"])
    doc.add_paragraph(t["verdict"] + ": {{ verdict_text }}").runs[0].bold = True


def _instruments(doc, t: dict) -> None:
    doc.add_heading(t["instruments"], level=2)
    _loop_table(doc, t["ih"], "instruments", ["name", "model", "serial", "certificate", "cert_date", "valid_until"])


def _notes(doc, t: dict) -> None:
    doc.add_heading(t["notes"], level=2)
    doc.add_paragraph(t["indicators_order"] + ": {{ indicators_order }}")
    doc.add_paragraph(t["legal_versions"] + ": {{ register_versions }}")
    _para_list(doc, "notes")
    doc.add_paragraph(t["forms"])


def build(kind: str, lang: str):
    t = T[lang]
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(11)
    _head(doc, t, kind)
    _common(doc, t)
    if kind == "act":
        _findings(doc, t)
        doc.add_paragraph(t["violations"] + ": {{ violation_summary }}")
        _instruments(doc, t)
        doc.add_heading(t["map"], level=2)
        doc.add_paragraph("{{ map_image }}")
        doc.add_paragraph("{{ checklist }}")
        doc.add_paragraph(t["attached"])
    elif kind == "protocol":
        doc.add_heading(t["offence"], level=2)
        doc.add_paragraph(t["offence_text"])
        _findings(doc, t)
        doc.add_heading(t["article"], level=2)
        doc.add_paragraph("{{ article_text }}")
        doc.add_paragraph(t["substance"] + ": {{ part_substance }}")
        doc.add_heading(t["fine"], level=2)
        doc.add_paragraph(t["fine_text"])
        doc.add_paragraph("{%p if repeat_text %}")
        doc.add_paragraph(t["repeat"] + ": {{ repeat_text }}")
        doc.add_paragraph("{%p endif %}")
        _instruments(doc, t)
        doc.add_heading(t["map"], level=2)
        doc.add_paragraph("{{ map_image }}")
        doc.add_heading(t["jurisdiction"], level=2)
        doc.add_paragraph("{{ jurisdiction_note }}")
        doc.add_paragraph(t["hearing"])
        doc.add_paragraph(t["explanation"])
        doc.add_paragraph(t["rights"])
    else:
        doc.add_heading(t["violations"], level=2)
        doc.add_paragraph("{{ violation_summary }}")
        _findings(doc, t)
        doc.add_heading(t["instruction"], level=2)
        doc.add_paragraph(t["instruction_text"])
        _kv(doc, [(t["deadline"], "{{ deadline_text }}"), (t["deadline_basis"], "{{ order_basis }}")])
        doc.add_paragraph(t["extension"])
        doc.add_paragraph(t["copies"])
    _notes(doc, t)
    doc.add_paragraph(t["sign_inspector"])
    doc.add_paragraph(t["sign_subject"])
    return doc


def write_templates(out: Path | str) -> list[Path]:
    """Write the six default templates into the folder ``out``; returns their paths."""
    out = Path(out)
    if out.resolve() == package_path("reports", "data", "templates").resolve():
        raise ValueError(f"{out}: is the installed package's template folder; write into another folder and "
                         "copy by hand")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in DOCS:
        for lang in LANGS:
            path = out / f"{kind}_{lang}.docx"
            build(kind, lang).save(path)
            written.append(path)
    return written


def main(argv: list[str]) -> int:
    """``python -m qamtu.reports.template_maker DIR``: exit status 0, or 2 with a usage line."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m qamtu.reports.template_maker DIR  (writes the default templates into DIR)\n")
        return 2
    try:
        paths = write_templates(argv[0])
    except (ValueError, OSError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    sys.stdout.write("".join(f"{p}\n" for p in paths))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
