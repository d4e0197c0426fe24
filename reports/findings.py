"""Findings of an inspection: per indicator and technology, the share of measurements below the
threshold with a Wilson interval, the counts, the window and a verdict; the legal qualification
(art. 637 part 14, or part 15 for a repeat offence) with the fine in MCI and in tenge.

Thresholds and the allowed share come from the coverage rule set (``mapping/rules``); the decision
rule and confidence from the ``findings`` register; fines and MCI from the legal registers. Code
holds no legal value.
"""

from __future__ import annotations

import math
from datetime import date
from statistics import NormalDist
from typing import Any, Optional

import pandas as pd

from ..mapping.rules import RuleSet
from .common import add_months, is_synthetic
from .errors import ReportError
from .inspections import Inspection, get_inspection, linked_sessions, list_inspections
from .registers import Registers

INDICATOR = "download_share_below"
INDICATOR_TEXT = {
    "en": "share of mobile-data download measurements below the technology's threshold",
    "ru": "доля измерений скорости загрузки данных ниже порогового значения технологии",
    "kk": "деректерді жүктеу жылдамдығы өлшемдерінің технология шегінен төмен үлесі",
}
TECH_LABEL = {"GSM": "2G (GSM)", "UMTS": "3G (UMTS)", "LTE": "4G (LTE)", "NR-NSA": "5G NSA", "NR-SA": "5G SA"}


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[Optional[float], Optional[float]]:
    """Wilson score interval of the proportion k/n at ``confidence``; (None, None) when n == 0."""
    if n <= 0:
        return None, None
    if not 0 <= k <= n:
        raise ValueError(f"k={k} must lie in 0..n={n}")
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: rounding must not exclude k/n
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


def verdict_of(k: int, n: int, days: int, allowed: float, rules: RuleSet, confidence: float) -> tuple[str, str]:
    """(verdict, reason): violation / no_violation / insufficient_data, by the findings register's rule."""
    lo, hi = wilson(k, n, confidence)
    if n < rules.evidence.min_speedtests:
        return "insufficient_data", f"{n} evidence tests, fewer than the minimum {rules.evidence.min_speedtests}"
    if days < rules.evidence.min_days:
        return "insufficient_data", f"measured on {days} day(s), fewer than the minimum {rules.evidence.min_days}"
    if lo is None or hi is None:   # n == 0, which the rule set's min_speedtests (>= 1) has already refused
        raise ReportError(f"findings: no evidence tests (n={n}) passed the minimum of {rules.evidence.min_speedtests}; "
                          "the rule set's evidence.min_speedtests must be at least 1")
    if lo > allowed:
        return "violation", f"lower bound {lo:.3f} > allowed share {allowed:.3f}"
    if hi <= allowed:
        return "no_violation", f"upper bound {hi:.3f} <= allowed share {allowed:.3f}"
    return "insufficient_data", f"interval {lo:.3f}..{hi:.3f} contains the allowed share {allowed:.3f}"


def _op(df: pd.DataFrame) -> pd.Series:
    return df["operator_mcc"].fillna("?") + "-" + df["operator_mnc"].fillna("?")


def indicator_rows(insp: Inspection, tests: pd.DataFrame, rules: RuleSet,
                   registers: Registers) -> tuple[list[dict], dict]:
    """One row per technology seen in the evidence tests, and the counts of excluded tests."""
    conf = registers.findings.confidence
    allowed = rules.internet.max_share_below
    excluded = {"other_operator": 0, "other_settlement": 0, "consumer_comparable_only": 0, "failed_or_invalid": 0}
    if len(tests):
        mine = _op(tests) == insp.operator
        excluded["other_operator"] = int((~mine).sum())
        tests = tests[mine]
        here = tests["kato"] == insp.kato
        excluded["other_settlement"] = int((~here).sum())
        tests = tests[here]
        if rules.evidence.speedtests.exclude_consumer_comparable_only:
            cc = tests["consumer_comparable_only"].astype(bool)
            excluded["consumer_comparable_only"] = int(cc.sum())
            tests = tests[~cc]
        ok = tests["valid"].astype(bool) & tests["download_mbps"].notna()
        excluded["failed_or_invalid"] = int((~ok).sum())
        failed_by_tech = tests[~ok].groupby(tests["technology"].fillna("none")).size().to_dict()
        tests = tests[ok]
    else:
        failed_by_tech = {}
    rows = []
    techs = (sorted(set(tests["technology"].fillna("none")) | set(failed_by_tech)) if len(tests) or failed_by_tech
             else [])
    for tech in techs:
        g = tests[tests["technology"].fillna("none") == tech]
        threshold = rules.internet.download_min_mbps.get(tech)
        n = int(len(g))
        row: dict[str, Any] = {
            "indicator": INDICATOR, "technology": tech, "technology_label": TECH_LABEL.get(tech, tech),
            "threshold_mbps": threshold, "threshold_source": rules.internet.sources.get(tech),
            "allowed_share": allowed, "allowed_share_source": rules.internet.max_share_below_source,
            "n": n, "failed_tests": int(failed_by_tech.get(tech, 0)),
            "window_start_utc": None if not n else g["time_utc"].min().isoformat().replace("+00:00", "Z"),
            "window_end_utc": None if not n else g["time_utc"].max().isoformat().replace("+00:00", "Z"),
            "days": int(g["time_utc"].dt.date.nunique()) if n else 0,
            "median_download_mbps": None if not n else round(float(g["download_mbps"].median()), 3),
            "confidence": conf,
        }
        if threshold is None:
            row.update(n_below=None, share_below=None, ci_low=None, ci_high=None, verdict="not_judged",
                       reason=f"the rule set {rules.version} has no quality indicator for {tech}")
        else:
            k = int((g["download_mbps"] < threshold).sum())
            lo, hi = wilson(k, n, conf)
            verdict, reason = verdict_of(k, n, row["days"], allowed, rules, conf)
            row.update(n_below=k, share_below=None if not n else k / n, ci_low=lo, ci_high=hi, verdict=verdict,
                       reason=reason)
        rows.append(row)
    return rows, excluded


def _overall(rows: list[dict]) -> str:
    verdicts = [r["verdict"] for r in rows if r["verdict"] != "not_judged"]
    if "violation" in verdicts:
        return "violation"
    if not verdicts or "insufficient_data" in verdicts:
        return "insufficient_data"
    return "no_violation"


def compute_findings(store, inspection_id: str, rules: RuleSet, registers: Registers, *,
                     check_repeat: bool = True) -> dict[str, Any]:
    """The findings of one inspection as a JSON-ready dict (see docs/inspections.md)."""
    insp = get_inspection(store, inspection_id)
    tests = store.speedtests_frame(inspection=insp.inspection_id)
    samples = store.samples_frame(inspection=insp.inspection_id)
    rows, excluded = indicator_rows(insp, tests, rules, registers)
    overall = _overall(rows)
    sessions = linked_sessions(store, insp.inspection_id)
    times = (pd.concat([samples["time_utc"], tests["time_utc"]]) if len(samples) or len(tests)
             else pd.Series([], dtype="datetime64[ns, UTC]"))
    measurement_days = sorted({t.date().isoformat() for t in times})
    out: dict[str, Any] = {
        "inspection_id": insp.inspection_id, "operator": insp.operator, "kato": insp.kato,
        "rule_set": rules.describe(), "findings_rule": {"version": registers.findings.version,
                                                       "method": registers.findings.method,
                                                       "confidence": registers.findings.confidence,
                                                       "rule_en": registers.findings.rule_en,
                                                       "source": registers.findings.source},
        "evidence_minimums": {"min_speedtests": rules.evidence.min_speedtests, "min_days": rules.evidence.min_days,
                              "source": rules.evidence.source},
        "indicator_text": INDICATOR_TEXT, "indicators": rows, "excluded_tests": excluded, "verdict": overall,
        "samples": int(len(samples)), "speedtests": int(len(tests)), "measurement_days": measurement_days,
        "sessions": [s["session_id"] for s in sessions],
        "synthetic": any(is_synthetic(s["meta"]) for s in sessions),
        "uncertainties": [rules.internet.uncertainty or "", rules.internet.max_share_below_source],
    }
    if measurement_days and measurement_days[0] < rules.valid_from:
        out["uncertainties"].append(f"the rule set {rules.version} is valid from {rules.valid_from}, after the first "
                                    f"measurement ({measurement_days[0]}): check that its thresholds applied then")
    offence = None
    if overall == "violation":
        offence = max(r["window_end_utc"] for r in rows if r["verdict"] == "violation")[:10]
    out["offence_date"] = offence
    out["legal"] = legal_qualification(store, insp, offence, rules, registers, check_repeat) if offence else None
    return out


def legal_qualification(store, insp: Inspection, offence: str, rules: RuleSet, registers: Registers,
                        check_repeat: bool) -> dict[str, Any]:
    """Part 14 or 15 of art. 637 with the fine in MCI and tenge on the offence date, and every doubt."""
    op = registers.operator(insp.operator)
    earlier = find_earlier_violation(store, insp, offence, rules, registers) if check_repeat else None
    part_no = 15 if earlier else 14
    part = registers.art637.part(part_no, offence)
    doubts = [registers.art637.uncertainty, registers.art637.repeat.uncertainty if earlier else "",
              op.category_source if op.category else "operator category missing in the register",
              rules.internet.uncertainty or ""]
    fine_mci = tenge = None
    mci = registers.mci.on(offence)
    if part is None:
        doubts.append(f"no entry of art. 637 part {part_no} valid on {offence} in the legal table: "
                      f"{registers.art637.earlier_values_note}")
    else:
        doubts.append(part.valid_from_uncertainty)
        fine_mci = part.fine_mci.get(op.category) if op.category else None
        if op.category and fine_mci is None:
            doubts.append(f"part {part_no} lists no fine for category {op.category!r}: "
                          f"{part.notes.get(op.category, '')}")
    if mci is None:
        doubts.append(f"no MCI in the register for {offence}")
    else:
        if mci.uncertain:
            doubts.append(f"MCI {mci.tenge:g} from {mci.valid_from}: {mci.uncertain}")
        if fine_mci is not None:
            tenge = fine_mci * mci.tenge
    doubts.append(registers.mci.which_date_source)
    return {
        "article": registers.art637.article, "part": part_no, "part_valid_from": part.valid_from if part else None,
        "part_source": part.source if part else None, "substance_ru": part.substance_ru if part else "",
        "substance_kk": part.substance_kk if part else "",
        "operator_category": op.category or None, "fine_mci": fine_mci,
        "mci_tenge": mci.tenge if mci else None, "mci_valid_from": mci.valid_from if mci else None,
        "mci_source": mci.source if mci else None, "fine_tenge": tenge, "offence_date": offence,
        "repeat_of": earlier, "legal_table_version": registers.art637.version, "mci_version": registers.mci.version,
        "uncertainties": [d for d in doubts if d],
    }


def find_earlier_violation(store, insp: Inspection, offence: str, rules: RuleSet,
                           registers: Registers) -> Optional[dict]:
    """The latest earlier inspection of the same legal entity with a part-14 violation within the repeat window."""
    entity = registers.operator(insp.operator).entity
    start = add_months(date.fromisoformat(offence), -registers.art637.repeat.window_months).isoformat()
    best = None
    for other in list_inspections(store):
        if other.inspection_id == insp.inspection_id:
            continue
        other_op = registers.operators.operators.get(other.operator)
        if other_op is None or other_op.entity != entity:
            continue
        f = compute_findings(store, other.inspection_id, rules, registers, check_repeat=False)
        d = f["offence_date"]
        if f["verdict"] == "violation" and d and start <= d < offence and (best is None or d > best["offence_date"]):
            best = {"inspection_id": other.inspection_id, "act_number": other.act_number,
                    "act_registered": other.act_registered, "offence_date": d, "kato": other.kato,
                    "window_months": registers.art637.repeat.window_months,
                    "window_source": registers.art637.repeat.source}
    return best
