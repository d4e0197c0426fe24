"""The complaints loop of ``qamtu demo``: simulated complaints (marked DEMO) through to answers.

Runs after the demo field day and the demo inspection (:func:`qamtu.reports.demo.run_demo`) on the
same store. ~30 simulated complaints in Kazakh and Russian with messy addresses are written to a
CSV in the shipped template's layout and imported with the shipped mapping; addresses are matched
(a person confirms those the matcher is unsure of); complaints are grouped into cases. Then:

* the main case (the demo inspection's village x Tele2 x mobile internet) is accepted, its
  appointment act recorded, linked to the demo inspection whose findings (a violation) flow into
  it, a protocol and an order are recorded, and its complainants' answer dates are extended by a
  reasoned decision while the order runs;
* a second case (another village x Beeline x mobile internet) is measured by a small demo
  inspection that finds no violation, answered (each applicant in their language) and closed;
* a TV/radio case outside the inspection's competence is redirected, answered and closed;
* what is due, the trip plan for the cases still waiting for a measurement, the 109-style district
  table (XLSX, PNG kk/ru), open data without personal data, and the history chain check.

All names, numbers and people are invented; every file says DEMO.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

from ..reports.common import add_months
from . import records
from .answers import write_answer
from .db import open_cases_store
from .due import due_list
from .exports import export_open_data
from .importer import import_file, load_mapping
from .links import flow_findings
from .plan import plan_trips, planning, write_trip_sheet
from .registers import appeals as load_appeals
from .report import district_report, write_report
from .workdays import load_calendar

BY = "DEMO оператор 109"
OPERATOR_WORDS = {"tele2_altel": "Tele2", "beeline": "Beeline", "kcell": "Kcell", "kazteleradio": "Казтелерадио"}
HEAD = [
    "Канал",
    "Номер обращения",
    "Дата регистрации",
    "Дата обращения",
    "ФИО заявителя",
    "ИИН",
    "Почтовый адрес",
    "Телефон",
    "Адресат",
    "Суть обращения",
    "Адрес (место)",
    "Язык",
    "Оператор",
    "Услуга",
]
NAMES_KK = [
    "Әсел Қайратқызы",
    "Нұрлан Сейітов",
    "Гүлнар Өтебаева",
    "Ерғали Құлмағамбетов",
    "Айгүл Жұмабекова",
    "Бақытжан Тілеуов",
    "Сәуле Нұрғалиева",
    "Қуаныш Әбдірахманов",
]
NAMES_RU = [
    "Ирина Ковалёва",
    "Сергей Пак",
    "Марат Ахметов",
    "Ольга Ким",
    "Тимур Исаев",
    "Наталья Лигай",
    "Руслан Бекмуратов",
]
SUBSTANCE = {
    ("tele2_altel", "mobile_internet", "kk"): "Tele2 мобильді интернеті {v} ауылында өте баяу, беттер ашылмайды",
    ("tele2_altel", "mobile_internet", "ru"): "Мобильный интернет Tele2 в {v} очень медленный, видео не грузится",
    ("beeline", "mobile_internet", "kk"): "Beeline интернеті кешке {v} ауылында үзіліп қалады",
    ("beeline", "mobile_internet", "ru"): "Интернет Beeline в {v} вечером пропадает",
    ("kcell", "mobile_voice", "ru"): "В {v} нет связи Kcell, звонки срываются",
    ("kazteleradio", "tv_radio", "kk"): "{v} ауылында цифрлық теледидар көрсетпейді",
    ("kazteleradio", "tv_radio", "ru"): "В {v} не показывает цифровое телевидение",
}
_LATIN = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sh",
        "ы": "y",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "ь": "",
        "ъ": "",
    }
)


def messy(s, n: int) -> str:
    """One of several ways residents write the place of ``s`` (a gazetteer settlement)."""
    variants = [
        f"{s.name_kk} ауылы",
        f"с. {s.name_ru}",
        f"село {s.name_ru.lower()}, {s.district_name_ru}",
        f"{s.name_ru.lower().translate(_LATIN).capitalize()} village",
        f"ауыл {s.name_kk}, {s.district_name_kk}",
        f"{s.name_ru} а., ул. Школьная 5",
        f"п.{s.name_ru}",
        f"{s.district_name_ru}, {s.name_ru}",
    ]
    return variants[n % len(variants)]


def _pick(gazetteer, avoid: set[str]) -> Any:
    villages = sorted(
        (s for s in gazetteer if s.located and s.kind == "village" and s.district_kato not in avoid),
        key=lambda s: s.kato,
    )
    return villages[len(villages) // 2]


def write_demo_csv(path: Path, plan: list[tuple[Any, str, str, str, date, int]]) -> Path:
    """The simulated complaints as a CSV in the shipped template's layout (``;``-separated, UTF-8)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEAD)
        for i, (s, op, service, lang, received, with_columns) in enumerate(plan, 1):
            names = NAMES_KK if lang == "kk" else NAMES_RU
            name = f"DEMO {names[i % len(names)]}"
            channel = ("E-Otinish", "109", "eGov", "Бумага")[i % 4]
            text = SUBSTANCE[(op, service, lang)].format(v=s.name_kk if lang == "kk" else s.name_ru)
            w.writerow(
                [
                    channel,
                    f"DEMO-{i:04d}",
                    received.strftime("%d.%m.%Y"),
                    received.strftime("%d.%m.%Y"),
                    name,
                    "",
                    f"DEMO: {s.name_ru}, {s.district_name_ru}",
                    "",
                    "Межрегиональная инспекция связи (DEMO)",
                    text,
                    messy(s, i),
                    "қаз" if lang == "kk" else "рус",
                    OPERATOR_WORDS[op] if with_columns else "",
                    service if with_columns else "",
                ]
            )
    return path


def _good_inspection(store_path: Path, registers_dir: Path, gazetteer, village, start: date) -> str:
    """A small demo inspection of Beeline in ``village`` that finds no violation (4G at ~18 Mbit/s)."""
    from ..probe.store import SampleStore
    from ..probe.synthetic import Campaign, Condition, write_campaign
    from ..reports.inspections import create_inspection
    from ..reports.registers import Registers

    registers = Registers.load(registers_dir)
    with SampleStore(store_path) as store:
        insp = create_inspection(
            store,
            registers,
            gazetteer=gazetteer,
            created=datetime.combine(start, time(4), timezone.utc),
            grounds="complaint",
            grounds_number="DEMO (cases)",
            grounds_date=start.isoformat(),
            operator="401-01",
            kato=village.kato,
            address=f"{village.kato_name_ru} (DEMO)",
            act_number="DEMO-4",
            act_registered=(start - timedelta(days=1)).isoformat(),
            inspectors=["Demo inspector"],
            instruments=["DEMO-MODEM-1"],
        )
        good = Condition("LTE", rsrp_dbm=-88.0, download_mbps=18.0, upload_mbps=6.0)
        write_campaign(
            store,
            Campaign(
                settlements={village.kato: (village.lat, village.lon)},
                condition=lambda k, o: good,
                start=datetime.combine(start, time(5), timezone.utc),
                days=3,
                operators=("401-01",),
                samples_per_visit=10,
                speedtests_per_visit=14,
                inspector="Demo inspector",
                inspection_id=insp.inspection_id,
                seed=63,
            ),
        )
    return insp.inspection_id


def run_cases_demo(
    store_path: Path | str, out: Path | str, *, gazetteer, inspection_dir: Path | str, today: Optional[date] = None
) -> dict[str, Path]:
    """The complaints loop into folder ``out`` (``out/cases``); returns name -> path of what was written."""
    from ..probe.store import SampleStore
    from ..reports.inspections import list_inspections

    out = Path(out) / "cases"
    out.mkdir(parents=True, exist_ok=True)
    store_path = Path(store_path)
    registers_dir = Path(inspection_dir) / "registers"
    today = today or datetime.now(timezone.utc).date()
    appeals = load_appeals()
    cal = load_calendar()
    with SampleStore(store_path) as s:
        insp = list_inspections(s)[-1]  # the demo inspection (the latest one)
    main = gazetteer.get(insp.kato)
    start = date.fromisoformat(insp.created_utc[:10])
    second = _pick(gazetteer, {main.district_kato})
    third = _pick(gazetteer, {main.district_kato, second.district_kato})
    kcell_place = _pick(gazetteer, {main.district_kato, second.district_kato, third.district_kato})
    plan: list[tuple[Any, str, str, str, date, int]] = []
    for i in range(14):  # main case: Tele2 mobile internet in the inspected village
        plan.append(
            (main, "tele2_altel", "mobile_internet", "kk" if i % 2 else "ru", start - timedelta(days=12 - i // 2), 1)
        )
    for i in range(4):  # measured by a second demo inspection: no violation
        plan.append((second, "beeline", "mobile_internet", "kk" if i % 2 else "ru", start - timedelta(days=10 - i), 1))
    for i in range(3):  # TV/radio: outside the inspection's competence
        plan.append((third, "kazteleradio", "tv_radio", "kk" if i % 2 else "ru", start - timedelta(days=9 - i), 1))
    for i in range(9):  # still waiting: Kcell voice in a fourth village
        plan.append((kcell_place, "kcell", "mobile_voice", "ru", start - timedelta(days=3 - i // 3), i % 3 != 2))
    csv_path = write_demo_csv(out / "complaints-demo.csv", plan)
    written: dict[str, Path] = {"complaints (CSV, DEMO)": csv_path}
    good_id = _good_inspection(store_path, registers_dir, gazetteer, second, start - timedelta(days=3))
    with open_cases_store(store_path) as store:
        imported = import_file(
            store, csv_path, by=BY, appeals=appeals, mapping=load_mapping(), gazetteer=gazetteer, demo=True
        )
        # a person confirms what the matcher or the text left open (the true place of each row is known here)
        truth = {f"DEMO-{i:04d}": p for i, p in enumerate(plan, 1)}
        for c in records.complaints(store, unassigned=True):
            s, op, service, *_ = truth[c["external_number"]]
            records.confirm_complaint(
                store,
                c["complaint_id"],
                by="DEMO методист",
                appeals=appeals,
                gazetteer=gazetteer,
                kato=s.kato,
                operators=[op],
                services=[service],
            )
        cases = {(c["kato"], c["operator"], c["service"]): c["case_id"] for c in records.list_cases(store)}
        main_case = cases[(main.kato, "tele2_altel", "mobile_internet")]
        good_case = cases[(second.kato, "beeline", "mobile_internet")]
        tv_case = cases[(third.kato, "kazteleradio", "tv_radio")]
        kcell_case = cases[(kcell_place.kato, "kcell", "mobile_voice")]
        # main case: act registered, the demo inspection's findings flow in, protocol and order
        records.transition(store, main_case, "accepted", by="DEMO начальник")
        records.transition(
            store,
            main_case,
            "inspection_appointed",
            by="DEMO начальник",
            fields={"act_number": insp.act_number, "act_registered": insp.act_registered},
        )
        records.link_inspection(store, main_case, insp.inspection_id, by="DEMO инспектор")
        flow_findings(store, insp.inspection_id, by="DEMO инспектор", registers_folder=registers_dir)
        order_day = start + timedelta(days=3)
        records.transition(
            store,
            main_case,
            "order_issued",
            by="DEMO инспектор",
            fields={
                "protocol_number": "DEMO-П-1",
                "order_number": "DEMO-ПР-1",
                "order_deadline": (order_day + timedelta(days=10)).isoformat(),
                "order_date": order_day.isoformat(),
            },
        )
        for cid in records.get_case(store, main_case)["complaints"]:
            received = date.fromisoformat(records.complaint(store, cid)["received"])
            records.extend(
                store,
                cid,
                until=min(received + timedelta(days=55), add_months(received, 2)),
                decided=start + timedelta(days=3),
                by="DEMO начальник",
                reason="DEMO: re-measurement after the order's deadline is needed",
                cal=cal,
                appeals=appeals,
            )
        # second case: no violation, answered, closed
        records.transition(store, good_case, "accepted", by="DEMO начальник")
        records.transition(
            store,
            good_case,
            "inspection_appointed",
            by="DEMO начальник",
            fields={"act_number": "DEMO-4", "act_registered": (start - timedelta(days=4)).isoformat()},
        )
        records.link_inspection(store, good_case, good_id, by="DEMO инспектор")
        flow_findings(store, good_id, by="DEMO инспектор", registers_folder=registers_dir)
        letters = out / "answers"
        for cid in records.get_case(store, good_case)["complaints"]:
            for name, path in write_answer(
                store,
                cid,
                letters,
                by="DEMO начальник инспекции",
                issue_date=start + timedelta(days=2),
                registers_folder=registers_dir,
                gazetteer=gazetteer,
            ).items():
                written[f"answer {cid} {name}"] = path
        if records.get_case(store, good_case)["state"] == "answered":
            records.transition(store, good_case, "closed", by="DEMO начальник", fields={"outcome": "no_violation"})
        # TV/radio: redirected within 3 working days, the notice is the answer, closed outside competence
        records.transition(
            store,
            tv_case,
            "redirected",
            by="DEMO начальник",
            fields={"to_body": "DEMO: АО «Казтелерадио» / акимат района"},
        )
        for cid in records.get_case(store, tv_case)["complaints"]:
            for name, path in write_answer(
                store,
                cid,
                letters,
                by="DEMO начальник инспекции",
                issue_date=start - timedelta(days=5),
                registers_folder=registers_dir,
                gazetteer=gazetteer,
            ).items():
                written[f"answer {cid} {name}"] = path
        records.transition(store, tv_case, "closed", by="DEMO начальник", fields={"outcome": "outside_competence"})
        records.transition(store, kcell_case, "accepted", by="DEMO начальник")
        due = due_list(store, today, cal, appeals)
        (out / "due.json").write_text(json.dumps(due, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written["due and overdue (JSON)"] = out / "due.json"
        trips = plan_trips(store, start=today, cal=cal, gazetteer=gazetteer, settings=planning())
        written["trip sheet (XLSX)"] = write_trip_sheet(trips, out / "trips.xlsx", settings=planning())
        rep = district_report(store, today, cal, appeals, gazetteer=gazetteer)
        for k, v in write_report(rep, out / "complaints-districts.xlsx", out / "complaints-districts").items():
            written[f"109 district table ({k})"] = v
        written["open data (CSV, no personal data)"] = Path(
            export_open_data(store, out / "complaints-open-data.csv")["file"]
        )
        chain = records.verify(store)
        (out / "verify.json").write_text(json.dumps(chain, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        written["case history check (JSON)"] = out / "verify.json"
        if not all(r["ok"] for r in chain):  # the demo's own histories must verify; anything else is a bug
            raise RuntimeError(f"demo case history does not verify: {chain}")
        summary = {
            "imported": imported,
            "cases": len(records.list_cases(store)),
            "main_case": main_case,
            "answers": sum(1 for k in written if k.startswith("answer ") and k.endswith(".pdf")),
        }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    written["cases summary (JSON)"] = out / "summary.json"
    return written
