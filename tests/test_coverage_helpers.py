"""Shared data for the coverage tests: a synthetic campaign whose expected statuses are known by
construction (imported by test_coverage_*.py and test_map_*.py; holds one self-check)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from qamtu.probe.synthetic import Campaign, Condition, write_campaign

KCELL, BEELINE, TELE2 = "401-02", "401-01", "401-77"

#: settlement role -> operator -> (condition, expected mobile status, expected internet status)
DESIGN = {
    "good4g": {KCELL: (Condition("LTE", rsrp_dbm=-90, download_mbps=20, upload_mbps=5), "4g", "meets_standard")},
    "weak4g": {KCELL: (Condition("LTE", rsrp_dbm=-127), "no_service", "none")},   # registered, below -115 dBm, no data
    "slow3g": {KCELL: (Condition("UMTS", rsrp_dbm=-95, download_mbps=0.4, upload_mbps=0.2), "3g", "below_standard")},
    "ok3g": {KCELL: (Condition("UMTS", rsrp_dbm=-95, download_mbps=3.0, upload_mbps=1.0), "3g", "meets_standard")},
    "only2g": {KCELL: (Condition("GSM", rsrp_dbm=-100), "2g", "none")},
    "nothing": {KCELL: (Condition("none"), "no_service", "none"),
                BEELINE: (Condition("none"), "no_service", "none")},
    "mixed": {KCELL: (Condition("none"), "no_service", "none"),
              BEELINE: (Condition("LTE", rsrp_dbm=-95, download_mbps=12, upload_mbps=4), "4g", "meets_standard"),
              TELE2: (Condition("NR-NSA", rsrp_dbm=-85, download_mbps=150, upload_mbps=30), "5g", "meets_standard")},
}
#: expected best-of-operators status per role
BEST = {"good4g": ("4g", "meets_standard"), "weak4g": ("no_service", "none"), "slow3g": ("3g", "below_standard"),
        "ok3g": ("3g", "meets_standard"), "only2g": ("2g", "none"), "nothing": ("no_service", "none"),
        "mixed": ("5g", "meets_standard")}


def pick_settlements(gazetteer) -> dict[str, str]:
    """Role -> KATO: located villages, all in one district (Arys city administration, 6116...) where possible."""
    villages = sorted(s.kato for s in gazetteer if s.located and s.kind == "village" and s.kato.startswith("6116"))
    if len(villages) < len(DESIGN):
        villages = sorted(s.kato for s in gazetteer if s.located and s.kind == "village")
    return dict(zip(DESIGN, villages))


def write_designed(store_path: Path, gazetteer, *, days: int = 2, start: datetime | None = None) -> dict[str, str]:
    """Write the designed campaign into a store; returns role -> KATO."""
    from qamtu.probe.store import Store

    roles = pick_settlements(gazetteer)
    by_kato = {kato: role for role, kato in roles.items()}
    pos = {kato: (gazetteer.get(kato).lat, gazetteer.get(kato).lon) for kato in by_kato}
    operators = sorted({op for ops in DESIGN.values() for op in ops})

    def condition(kato: str, op: str) -> Condition:
        return DESIGN[by_kato[kato]][op][0]

    # an operator not designed for a role is simply not measured there
    with Store(store_path) as store:
        for op in operators:
            sub = {k: v for k, v in pos.items() if op in DESIGN[by_kato[k]]}
            write_campaign(store, Campaign(sub, condition, days=days, operators=(op,), samples_per_visit=20,
                                           speedtests_per_visit=2,
                                           start=start or datetime(2026, 6, 1, 5, 0, tzinfo=timezone.utc)))
    return roles


def _expected_by_rules(cond: Condition, rules) -> tuple[str, str]:
    """What the rule set says a settlement x operator with this (uniform) condition is."""
    level = rules.mobile.levels[cond.technology]
    signal = rules.mobile.signal.get(cond.technology)
    if signal is not None and signal.coverage_min_dbm is not None and cond.rsrp_dbm < signal.coverage_min_dbm:
        level = 0                                  # every sample below the outdoor threshold: no coverage
    mobile = rules.mobile.status_names[level]
    if cond.download_mbps is None:
        internet = "none"                          # no data session at all
    elif cond.download_mbps >= rules.internet.download_min_mbps.get(cond.technology, float("inf")):
        internet = "meets_standard"
    else:
        internet = "below_standard"
    if level < rules.internet.min_level and internet != "meets_standard":
        internet = "none"
    return mobile, internet


def test_design_is_consistent_with_the_rule_set():
    """The design's expected statuses are what the default rule set's levels and thresholds give,
    and BEST is the best of its operators."""
    from qamtu.mapping.rules import load_rules

    rules = load_rules()
    internet_rank = ["none", "below_standard", "meets_standard"]
    for role, ops in DESIGN.items():
        for op, (cond, mobile, internet) in ops.items():
            assert (mobile, internet) == _expected_by_rules(cond, rules), (role, op)
        best_mobile = max((m for _c, m, _i in ops.values()), key=rules.mobile.status_names.index)
        best_internet = max((i for _c, _m, i in ops.values()), key=internet_rank.index)
        assert BEST[role] == (best_mobile, best_internet), role
