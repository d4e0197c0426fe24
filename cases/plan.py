"""``qamtu cases plan``: open cases that need a measurement, grouped into field trips.

One trip is one district on one working day (split when the day would run over
``workday_hours``). Its settlements are ordered from the office and back by
:func:`qamtu.cases.ports.order_route` (great-circle distance; no road network here); drive time is
great-circle km x ``road_factor`` / ``speed_kmh`` and each stop takes ``stop_base_min`` +
``stop_per_operator_min`` per operator (``cases/data/planning.toml``, Qamtu's assumptions).

Output: a trip sheet (XLSX, one sheet per trip, kk/ru headers) and, for each stop x mobile operator
of a case whose appointment act is registered (state ``inspection_appointed``), an inspection
record that ``qamtu probe --inspection ID`` takes; the record is linked back to its cases. Cases
without a registered act (``accepted``, ``reopened``, ``remedy_due``) are on the sheet marked
"appointment act needed" and get no record: an inspection starts only with a registered act.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

from ..safeio import atomic_output
from ..textsafe import xlsx_text_only
from . import records
from .errors import CasesError
from .ports import order_route
from .registers import load_toml, need
from .states import NEEDS_MEASUREMENT


@dataclass
class Stop:
    kato: str
    name_kk: str
    name_ru: str
    lat: float
    lon: float
    cases: list[dict[str, Any]] = field(default_factory=list)
    km_from_previous: float = 0.0
    arrive_min: float = 0.0
    stay_min: float = 0.0
    inspections: list[str] = field(default_factory=list)


@dataclass
class Trip:
    district_kato: str
    district_kk: str
    district_ru: str
    day: date
    stops: list[Stop]
    km: float = 0.0
    minutes: float = 0.0


def planning(folder=None) -> dict[str, Any]:
    data, path = load_toml("planning.toml", folder)
    for f, kind in (
        ("office_kato", str),
        ("road_factor", (int, float)),
        ("speed_kmh", (int, float)),
        ("stop_base_min", (int, float)),
        ("stop_per_operator_min", (int, float)),
        ("workday_hours", (int, float)),
    ):
        need(data, f, path, kind)
    return {**data, "_path": str(path)}


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between (lat, lon) points."""
    la1, lo1, la2, lo2 = map(math.radians, (*a, *b))
    h = math.sin((la2 - la1) / 2) ** 2 + math.cos(la1) * math.cos(la2) * math.sin((lo2 - lo1) / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def plan_trips(store, *, start: date, cal, gazetteer, settings: dict[str, Any]) -> list[Trip]:
    """Trips for every open case that needs a measurement, from the first working day on or after ``start``."""
    office = gazetteer.get(settings["office_kato"])
    if not office.located:
        raise CasesError(f"{settings['_path']}: office_kato {office.kato} has no coordinates in the gazetteer")
    home = (office.lat, office.lon)
    by_district: dict[str, dict[str, Stop]] = {}
    for c in records.list_cases(store):
        if c["state"] not in NEEDS_MEASUREMENT:
            continue
        s = gazetteer.get(c["kato"])
        if not s.located:
            continue
        stops = by_district.setdefault(s.district_kato, {})
        stop = stops.setdefault(s.kato, Stop(s.kato, s.name_kk, s.name_ru, s.lat, s.lon))
        stop.cases.append(c)
    trips: list[Trip] = []
    day = cal.next_working_day(start)
    limit = float(settings["workday_hours"]) * 60
    for district in sorted(by_district):
        stops = by_district[district]
        order = order_route(home, [(k, st.lat, st.lon) for k, st in stops.items()])
        sample = gazetteer.get(next(iter(stops)))
        current: list[Stop] = []
        for kato in order:
            current.append(stops[kato])
            if len(current) > 1 and _timing(home, current, settings)[1] > limit:
                last = current.pop()
                trips.append(_trip(sample, day, current, home, settings))
                day = cal.add_working_days(day, 1)
                current = [last]
        if current:
            trips.append(_trip(sample, day, current, home, settings))
            day = cal.add_working_days(day, 1)
    return trips


def _operators(stop: Stop) -> set[str]:
    return {c["operator"] for c in stop.cases}


def _timing(home, stops: list[Stop], settings) -> tuple[float, float]:
    """(km, minutes) of a day: office -> stops in order -> office."""
    km, minutes, here = 0.0, 0.0, home
    for st in stops:
        d = _km(here, (st.lat, st.lon)) * float(settings["road_factor"])
        km += d
        minutes += d / float(settings["speed_kmh"]) * 60
        minutes += float(settings["stop_base_min"]) + float(settings["stop_per_operator_min"]) * len(_operators(st))
        here = (st.lat, st.lon)
    back = _km(here, home) * float(settings["road_factor"])
    return km + back, minutes + back / float(settings["speed_kmh"]) * 60


def _trip(sample, day: date, stops: list[Stop], home, settings) -> Trip:
    here, clock = home, 0.0
    for st in stops:
        d = _km(here, (st.lat, st.lon)) * float(settings["road_factor"])
        st.km_from_previous = round(d, 1)
        clock += d / float(settings["speed_kmh"]) * 60
        st.arrive_min = round(clock)
        st.stay_min = float(settings["stop_base_min"]) + float(settings["stop_per_operator_min"]) * len(_operators(st))
        clock += st.stay_min
        here = (st.lat, st.lon)
    km, minutes = _timing(home, stops, settings)
    return Trip(
        sample.district_kato,
        sample.district_name_kk,
        sample.district_name_ru,
        day,
        list(stops),
        round(km, 1),
        round(minutes),
    )


def mcc_mnc(operator: str, registers) -> Optional[str]:
    """The network code of an operator key (``tele2`` -> ``401-77``) from the operator register, None for
    operators the probe cannot measure (fixed line, post, broadcasting)."""
    from .ports import operators_table

    codes = operators_table().get(operator, {}).get("mcc_mnc") or []
    for code in codes:
        if code in registers.operators.operators:
            return code
    return None


def create_inspections(
    store, trips: list[Trip], *, registers, gazetteer, inspectors: list[str], instruments: list[str], by: str
) -> list[dict[str, Any]]:
    """Inspection records for stops whose cases have a registered appointment act; linked to the cases."""
    from ..probe.store import SampleStore
    from ..reports.inspections import create_inspection

    made = []
    sample_store = SampleStore(store)
    for trip in trips:
        for st in trip.stops:
            for c in st.cases:
                f = c["fields"]
                code = mcc_mnc(c["operator"], registers)
                if c["state"] != "inspection_appointed" or not code:
                    continue
                linked = {
                    r["inspection_id"]
                    for r in store.query(
                        "SELECT inspection_id FROM cases_case_inspections WHERE case_id = ?", (c["case_id"],)
                    )
                }
                if linked:
                    st.inspections += sorted(linked)
                    continue
                complaints = records.get_case(store, c["case_id"])["complaints"]
                insp = create_inspection(
                    sample_store,
                    registers,
                    gazetteer=gazetteer,
                    grounds="complaint",
                    grounds_number=", ".join(complaints),
                    grounds_date=c["opened"],
                    operator=code,
                    kato=c["kato"],
                    address=f"{st.name_ru} ({st.name_kk})",
                    act_number=f["act_number"],
                    act_registered=f["act_registered"],
                    inspectors=inspectors,
                    instruments=instruments,
                    notes=f"planned trip {trip.day.isoformat()}, case {c['case_id']}",
                )
                records.link_inspection(store, c["case_id"], insp.inspection_id, by=by)
                st.inspections.append(insp.inspection_id)
                made.append(
                    {
                        "inspection_id": insp.inspection_id,
                        "case_id": c["case_id"],
                        "operator": code,
                        "kato": c["kato"],
                        "day": trip.day.isoformat(),
                    }
                )
    return made


HEAD_KK = (
    "№",
    "Елді мекен",
    "ӘАОЖ",
    "Алдыңғыдан км",
    "Келу (сағ:мин)",
    "Орында (мин)",
    "Істер",
    "Операторлар",
    "Қызметтер",
    "Тексеру",
    "Ескерту",
)
HEAD_RU = (
    "№",
    "Населённый пункт",
    "КАТО",
    "Км от предыдущего",
    "Прибытие (ч:мин)",
    "На месте (мин)",
    "Дела",
    "Операторы",
    "Услуги",
    "Проверка",
    "Примечание",
)


def write_trip_sheet(trips: list[Trip], out: Path | str, *, settings: dict[str, Any]) -> Path:
    """One sheet per trip, kk and ru headers; times from departure at 0:00 (add the start hour)."""

    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    if not trips:
        ws = wb.create_sheet("trips")
        ws.append(["Өлшеуді қажет ететін ашық істер жоқ / Нет открытых дел, требующих измерений"])
    for i, t in enumerate(trips, 1):
        ws = wb.create_sheet(f"{i:02d} {t.day.isoformat()}")
        ws.append(
            [
                f"{t.day.isoformat()} — {t.district_kk} / {t.district_ru} ({t.district_kato}); "
                f"{t.km} км, ~{t.minutes // 60:.0f} ч {t.minutes % 60:.0f} мин"
                + (" — бір жұмыс күнінен ұзақ, түнеу керек / дольше рабочего дня, нужна ночёвка"
                   if t.minutes > float(settings["workday_hours"]) * 60 else "")
            ]
        )
        ws["A1"].font = Font(bold=True)
        ws.append(list(HEAD_KK))
        ws.append(list(HEAD_RU))
        for n, st in enumerate(t.stops, 1):
            states = {c["state"] for c in st.cases}
            note = (
                ""
                if states <= {"inspection_appointed"}
                else "тағайындау актісі қажет / нужен акт о назначении: "
                + ", ".join(c["case_id"] for c in st.cases if c["state"] != "inspection_appointed")
            )
            ws.append(
                [
                    n,
                    f"{st.name_kk} / {st.name_ru}",
                    st.kato,
                    st.km_from_previous,
                    f"{int(st.arrive_min // 60)}:{int(st.arrive_min % 60):02d}",
                    st.stay_min,
                    ", ".join(c["case_id"] for c in st.cases),
                    ", ".join(sorted(_operators(st))),
                    ", ".join(sorted({c["service"] for c in st.cases})),
                    ", ".join(st.inspections),
                    note,
                ]
            )
        ws.append([])
        ws.append([f"Болжам / Допущения: {settings.get('source', '')} ({settings.get('version', '')})"])
    out = Path(out)
    xlsx_text_only(wb)  # settlement and complaint text is data, never a formula
    with atomic_output(out, what="trip sheet") as tmp:  # all or nothing, umask applied
        wb.save(tmp)
    return out


def trips_json(trips: list[Trip]) -> list[dict[str, Any]]:
    return [
        {
            "district_kato": t.district_kato,
            "district_kk": t.district_kk,
            "district_ru": t.district_ru,
            "day": t.day.isoformat(),
            "km": t.km,
            "minutes": t.minutes,
            "stops": [
                {
                    "kato": s.kato,
                    "name_kk": s.name_kk,
                    "name_ru": s.name_ru,
                    "km_from_previous": s.km_from_previous,
                    "arrive_min": s.arrive_min,
                    "stay_min": s.stay_min,
                    "cases": [c["case_id"] for c in s.cases],
                    "inspections": s.inspections,
                }
                for s in t.stops
            ],
        }
        for t in trips
    ]
