"""What the public pages, the open data and the Open311 API read: settlement-level facts only.

Nothing here selects a column of ``cases_applicants``, a complaint's free text, a talon number of
someone else, or a staff name: the public sees counts, categories, states, order numbers and
deadlines, and the coverage status of the classification. Every query is indexed (see
:mod:`qamtu.office.public_schema`).

Coverage comes from :func:`qamtu.reports.coverage.classify_store` (the rule set in force), computed
once and kept for :data:`COVERAGE_SECONDS`; an old result is served while a new one is computed in
the background, so no visitor waits for a classification after the first.

Dates: a complaint is received on the Kazakhstan calendar day (UTC+5, the single time zone of
Kazakhstan since 2024-03-01); its legal due date comes from cases' working-day calendar
(:func:`qamtu.cases.deadlines.compute`), never from code.
"""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any, Callable, Optional

from .ttl_cache import TtlCache

log = logging.getLogger("qamtu.office")

#: Kazakhstan time (one zone, UTC+5, since 2024-03-01: Government decree No. 1035 of 2023-12-29)
KZ = timezone(timedelta(hours=5))
#: seconds a coverage classification is served before it is recomputed (in the background)
COVERAGE_SECONDS = 600.0
#: seconds the per-settlement case counts of the map are kept
COUNTS_SECONDS = 30.0

#: values kept at most: a summary per settlement x language, the coverage and the case counts per office
MAX_VALUES = 8192
_values = TtlCache(MAX_VALUES)


def today_kz(now: Optional[datetime] = None) -> date:
    """The calendar day in Kazakhstan (UTC+5)."""
    return (now or datetime.now(timezone.utc)).astimezone(KZ).date()


def _cached(key: tuple, seconds: float, build: Callable[[], Any], *, background: bool = False) -> Any:
    """``build()`` kept for ``seconds`` under ``key`` (whose first item is ``id(office)``); with
    ``background`` a stale value is served while a thread rebuilds it; :func:`forget` drops it."""
    return _values.get(key, seconds, build, background=background)


def forget(office) -> None:
    """Drop the cached case data of ``office`` and its finished public answers (after a write the pages must
    show it at once); the coverage classification and the legal terms stay (they do not depend on cases)."""
    _values.drop(lambda k: isinstance(k, tuple) and k[0] == id(office) and k[1] not in ("coverage", "terms"))
    kept = getattr(office, "public_cache", None)
    if kept is not None:
        kept.clear()


# ------------------------------------------------------------------------------ operators and labels
@lru_cache(maxsize=1)
def operators() -> dict[str, dict[str, Any]]:
    """Operator code -> ``{"name", "mcc_mnc"}`` (cases' extraction table)."""
    from ..cases.ports import operators_table

    return operators_table()


def operator_of_mcc_mnc(code: str) -> str:
    """``401-02`` -> ``kcell`` (the code itself when no operator lists it)."""
    for op, v in operators().items():
        if code in v["mcc_mnc"]:
            return op
    return code


@lru_cache(maxsize=256)
def operator_name(code: str) -> str:
    return operators().get(code, {}).get("name", code)


def lang_index(lang: str) -> int:
    return 0 if lang == "kk" else 1


@lru_cache(maxsize=256)
def state_label(state: str, lang: str) -> str:
    from ..cases.states import LABELS

    return LABELS.get(state, (state, state))[lang_index(lang)]


@lru_cache(maxsize=256)
def service_label(service: str, lang: str) -> str:
    from ..cases.models import SERVICE_LABELS

    return SERVICE_LABELS.get(service, (service, service))[lang_index(lang)]


def settlement_name(s, lang: str) -> str:
    return s.name_kk if lang == "kk" else s.name_ru


# ------------------------------------------------------------------------------ deadlines
def legal_terms(office) -> tuple[Any, dict[str, Any]]:
    """(working-day calendar, appeals.toml) of the office's registers folder, read once."""
    key = (id(office), "terms")

    def build():
        from ..cases.registers import appeals
        from ..cases.workdays import load_calendar

        return load_calendar(office.registers), appeals(office.registers)

    return _cached(key, 1e12, build)


@lru_cache(maxsize=4096)
def _due(cal_id: int, received: str, extended_until: Optional[str], decided: Optional[str]) -> str:
    cal, appeals = _terms_by_id[cal_id]
    from ..cases.deadlines import compute

    d = compute(cal, appeals, date.fromisoformat(received),
                extended_until=date.fromisoformat(extended_until) if extended_until else None,
                extension_decided=date.fromisoformat(decided) if decided else None)
    return d.due.isoformat()


_terms_by_id: dict[int, tuple[Any, dict[str, Any]]] = {}


def due_date(office, received: str, extended_until: Optional[str] = None, decided: Optional[str] = None) -> str:
    """The legal answer date in force (ISO) of a complaint received on ``received``."""
    cal, appeals = legal_terms(office)
    _terms_by_id[id(cal)] = (cal, appeals)
    return _due(id(cal), received, extended_until, decided)


# ------------------------------------------------------------------------------ coverage
def coverage(office) -> dict[str, dict[str, Any]]:
    """KATO -> ``{"mobile_status", "internet_status", "last_measured", "operators": [...]}`` of the
    current classification (an empty mapping when nothing was measured)."""
    return _cached((id(office), "coverage"), COVERAGE_SECONDS, lambda: _classify(office), background=True)


def _classify(office) -> dict[str, dict[str, Any]]:
    from ..probe.store import SampleStore
    from ..reports.coverage import classify_store

    try:
        cl, _ = classify_store(SampleStore(office.store), gazetteer=office.gazetteer)
    except Exception as exc:  # an empty or unreadable store: no coverage shown, the pages still work
        log.warning("public coverage: classification failed (%s)", type(exc).__name__)
        return {}
    out: dict[str, dict[str, Any]] = {}
    for r in cl.by_operator.to_dict("records"):
        last = r.get("last_visit_utc")
        last_text = None if last is None or str(last) in ("NaT", "nan") else str(last)[:10]
        s = out.setdefault(str(r["kato"]), {"mobile_status": "unmeasured", "internet_status": "not_measured",
                                            "last_measured": None, "operators": []})
        s["operators"].append({"operator": operator_of_mcc_mnc(str(r["operator"])), "mobile_status": r["mobile_status"],
                               "internet_status": r["internet_status"], "last_measured": last_text})
        if last_text and (s["last_measured"] is None or last_text > s["last_measured"]):
            s["last_measured"] = last_text
    for r in cl.settlements.to_dict("records"):
        kept = out.get(str(r["kato"]))
        if kept is not None:
            kept["mobile_status"] = str(r.get("mobile_status") or "unmeasured")
            kept["internet_status"] = str(r.get("internet_status") or "not_measured")
    for s in out.values():
        s["operators"].sort(key=lambda o: o["operator"])
    return out


# ------------------------------------------------------------------------------ cases, counted
def case_counts(office) -> dict[str, dict[str, int]]:
    """KATO -> ``{"open": n, "closed": n}`` over every case (cached :data:`COUNTS_SECONDS`)."""
    def build() -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for r in office.store.query("SELECT kato, state = 'closed' AS closed, COUNT(*) AS n FROM cases_cases "
                                    "GROUP BY kato, state = 'closed'"):
            d = out.setdefault(r["kato"], {"open": 0, "closed": 0})
            d["closed" if r["closed"] else "open"] += int(r["n"])
        return out

    return _cached((id(office), "counts"), COUNTS_SECONDS, build)


def map_data(office, lang: str) -> dict[str, Any]:
    """The region map's settlements: located populated places with coverage status and case counts."""
    cov, counts = coverage(office), case_counts(office)
    items = []
    for s in office.gazetteer:
        if not s.located or not s.populated:
            continue
        c, n = cov.get(s.kato), counts.get(s.kato, {"open": 0, "closed": 0})
        items.append({"kato": s.kato, "name": settlement_name(s, lang), "lat": round(s.lat, 5), "lon": round(s.lon, 5),
                      "mobile": c["mobile_status"] if c else "unmeasured",
                      "internet": c["internet_status"] if c else "not_measured",
                      "measured": c["last_measured"] if c else None, "open": n["open"], "closed": n["closed"]})
    return {"settlements": items}


#: seconds a settlement's summary is kept (a registration through the app drops it at once)
SUMMARY_SECONDS = 10.0


def settlement_summary(office, kato: str, lang: str, *, kept: bool = True) -> dict[str, Any]:
    """One settlement: coverage per operator, cases per operator x service x state, orders and deadlines
    (kept :data:`SUMMARY_SECONDS`; ``kept=False`` reads the store now, for an answer that is kept itself)."""
    s = office.gazetteer.get(kato)
    if not kept:
        return _summary(office, s, lang)
    return _cached((id(office), "summary", kato, lang), SUMMARY_SECONDS, lambda: _summary(office, s, lang))


def _summary(office, s, lang: str) -> dict[str, Any]:
    kato = s.kato
    cov = coverage(office).get(kato)
    rows = office.store.query(
        "SELECT operator, service, state, COUNT(*) AS n, SUM(CASE WHEN outcome = 'fixed_confirmed' THEN 1 ELSE 0 END) "
        "AS fixed FROM cases_cases WHERE kato = ? GROUP BY operator, service, state ORDER BY operator, service, state",
        (kato,))
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        g = groups.setdefault((r["operator"], r["service"]), {"operator": r["operator"], "operator_name":
                                                              operator_name(r["operator"]), "service": r["service"],
                                                              "service_label": service_label(r["service"], lang),
                                                              "open": 0, "closed": 0, "fixed": 0, "states": {}})
        n = int(r["n"])
        g["closed" if r["state"] == "closed" else "open"] += n
        g["fixed"] += int(r["fixed"] or 0)
        label = state_label(r["state"], lang)
        g["states"][label] = g["states"].get(label, 0) + n
    for g in groups.values():  # "label: n; label: n", labels in case-insensitive order (the page shows it as text)
        g["states_text"] = "; ".join(f"{label}: {n}" for label, n in sorted(g["states"].items(),
                                                                            key=lambda kv: kv[0].lower()))
    orders = []
    for r in office.store.query("SELECT operator, service, state, fields FROM cases_cases WHERE kato = ? "
                                "AND fields LIKE '%order_number%'", (kato,)):
        f = json.loads(r["fields"] or "{}")
        if f.get("order_number"):
            orders.append({"operator_name": operator_name(r["operator"]),
                           "service_label": service_label(r["service"], lang),
                           "order_number": str(f["order_number"]), "order_deadline": f.get("order_deadline"),
                           "state": state_label(r["state"], lang)})
    orders.sort(key=lambda o: (o["order_deadline"] or "", o["order_number"]))
    cov_rows = []
    for o in (cov or {}).get("operators", []):
        cov_rows.append({**o, "operator_name": operator_name(o["operator"])})
    return {"kato": kato, "name": settlement_name(s, lang), "district": s.district_name_kk if lang == "kk" else
            s.district_name_ru, "coverage": cov, "coverage_rows": cov_rows,
            "groups": [groups[k] for k in sorted(groups)], "orders": orders,
            "open": sum(g["open"] for g in groups.values()), "closed": sum(g["closed"] for g in groups.values())}


# ------------------------------------------------------------------------------ receipts
def receipt_status(office, talon: str, lang: str) -> Optional[dict[str, Any]]:
    """State(s) and legal due date of the complaint with talon ``talon``; None when there is none.

    Only the state labels, the due date and whether it was answered: no text, no place, no person."""
    rows = office.store.query("SELECT complaint_id, received, extended_until, extension_decided, answered_on "
                              "FROM cases_complaints WHERE complaint_id = ?", (talon,))
    if not rows:
        return None
    r = rows[0]
    states = [x["state"] for x in office.store.query(
        "SELECT c.state FROM cases_case_complaints k JOIN cases_cases c ON c.case_id = k.case_id "
        "WHERE k.complaint_id = ? ORDER BY c.case_id", (talon,))]
    labels = sorted({state_label(s, lang) for s in states}) or [state_label("registered", lang)]
    return {"talon": r["complaint_id"], "states": labels, "answered": bool(r["answered_on"]),
            "due": due_date(office, r["received"], r["extended_until"], r["extension_decided"])}


# ------------------------------------------------------------------------------ open data
def open_data_rows(office) -> list[dict[str, Any]]:
    """Settlement x operator x service rows: counts of cases by state, coverage status of the operator."""
    cov = coverage(office)
    from ..cases.states import STATES

    acc: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in office.store.query("SELECT kato, operator, service, state, COUNT(*) AS n FROM cases_cases "
                                "GROUP BY kato, operator, service, state ORDER BY kato, operator, service"):
        row = acc.setdefault((r["kato"], r["operator"], r["service"]), {"kato": r["kato"], "operator": r["operator"],
                                                                        "service": r["service"], "cases": 0,
                                                                        **{f"cases_{s}": 0 for s in STATES}})
        row["cases"] += int(r["n"])
        row[f"cases_{r['state']}"] += int(r["n"])
    out = []
    for (kato, op, _svc), row in sorted(acc.items()):
        c = next((o for o in cov.get(kato, {}).get("operators", []) if o["operator"] == op), None)
        try:
            s = office.gazetteer.get(kato)
            names = {"name_kk": s.name_kk, "name_ru": s.name_ru, "district_kato": s.district_kato}
        except Exception:
            names = {"name_kk": "", "name_ru": "", "district_kato": ""}
        out.append({"kato": kato, **names, "operator": op, "operator_name": operator_name(op),
                    "service": row["service"],
                    "mobile_status": c["mobile_status"] if c else "unmeasured",
                    "internet_status": c["internet_status"] if c else "not_measured",
                    "last_measured": c["last_measured"] if c else None,
                    **{k: v for k, v in row.items() if k.startswith("cases")}})
    return out


def open_data_columns() -> list[str]:
    from ..cases.states import STATES

    return ["kato", "name_kk", "name_ru", "district_kato", "operator", "operator_name", "service", "mobile_status",
            "internet_status", "last_measured", "cases", *[f"cases_{s}" for s in STATES]]


def open_geojson(office) -> dict[str, Any]:
    """Every located populated settlement as a point: coverage status and case counts (no personal data)."""
    cov, counts = coverage(office), case_counts(office)
    feats = []
    for s in office.gazetteer:
        if not s.located or not s.populated:
            continue
        c, n = cov.get(s.kato), counts.get(s.kato, {"open": 0, "closed": 0})
        point = {"type": "Point", "coordinates": [round(s.lon, 6), round(s.lat, 6)]}
        feats.append({"type": "Feature", "geometry": point,
                      "properties": {"kato": s.kato, "name_kk": s.name_kk, "name_ru": s.name_ru,
                                     "district_kato": s.district_kato,
                                     "mobile_status": c["mobile_status"] if c else "unmeasured",
                                     "internet_status": c["internet_status"] if c else "not_measured",
                                     "last_measured": c["last_measured"] if c else None,
                                     "cases_open": n["open"], "cases_closed": n["closed"]}})
    return {"type": "FeatureCollection", "features": feats,
            "properties": {"licence": "open data of the communications inspection; no personal data",
                           "generated_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}}


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(v: Any) -> Any:
    """A CSV cell that a spreadsheet will not run as a formula (text starting with = + - @ gets a ')."""
    if isinstance(v, str) and v.startswith(FORMULA_START):
        return "'" + v
    return "" if v is None else v
