"""Findings: Wilson intervals, verdicts with stated rules, exclusions, fines, and repeat offences."""

from __future__ import annotations

import math
from datetime import date

import pytest
from hypothesis import given, strategies as st

from qamtu.mapping.rules import load_rules
from qamtu.probe.store import Store
from qamtu.reports.findings import compute_findings, wilson
from qamtu.reports.registers import Registers
from test_inspection_helpers import measure, new_inspection, write_registers, a_village


def test_wilson_matches_published_values():
    # Newcombe (1998), Statistics in Medicine 17:857, table I, method 3 (Wilson score, no correction)
    lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    lo, hi = wilson(0, 10)
    assert lo == 0.0 and round(hi, 4) == 0.2775
    lo, hi = wilson(10, 10)
    assert round(lo, 4) == 0.7225 and hi == 1.0
    assert wilson(0, 0) == (None, None)
    with pytest.raises(ValueError):
        wilson(5, 3)


@given(st.integers(1, 5000), st.data())
def test_wilson_contains_the_share_and_narrows_with_n(n, data):
    k = data.draw(st.integers(0, n))
    lo, hi = wilson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    lo2, hi2 = wilson(4 * k, 4 * n)
    assert hi2 - lo2 < hi - lo + 1e-12
    lo99, hi99 = wilson(k, n, 0.99)
    assert lo99 <= lo + 1e-12 and hi99 >= hi - 1e-12


@pytest.fixture
def env(tmp_path, gazetteer):
    store = Store(tmp_path / "s.db")
    yield store, Registers.load(write_registers(tmp_path / "reg")), load_rules(), a_village(gazetteer)
    store.close()


def test_poor_4g_is_a_violation_with_counts_window_and_part_14_fine(env, gazetteer):
    store, regs, rules, v = env
    insp = new_inspection(store, regs, gazetteer, v)
    measure(store, insp.inspection_id, v, download=2.0, tests=8)
    f = compute_findings(store, insp.inspection_id, rules, regs)
    (row,) = f["indicators"]
    assert row["technology"] == "LTE" and row["threshold_mbps"] == rules.internet.download_min_mbps["LTE"]
    assert row["n"] == 24 and row["n_below"] == row["n"] and row["days"] == 3
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(wilson(24, 24))
    assert row["window_start_utc"].startswith("2026-06-01") and row["window_end_utc"].startswith("2026-06-03")
    assert row["verdict"] == "violation" and "lower bound" in row["reason"]
    assert f["verdict"] == "violation" and f["offence_date"] == "2026-06-03"
    assert f["synthetic"] is True and "Wilson" in f["findings_rule"]["method"]
    legal = f["legal"]
    p14 = regs.art637.part(14, "2026-06-03")
    assert legal["part"] == 14 and legal["repeat_of"] is None
    assert legal["fine_mci"] == p14.fine_mci["large"]
    assert legal["fine_tenge"] == p14.fine_mci["large"] * regs.mci.on("2026-06-03").tenge
    assert any("INFERENCE" in u for u in legal["uncertainties"])  # operator category is an inference


def test_good_4g_with_enough_tests_is_no_violation(env, gazetteer):
    store, regs, rules, v = env
    insp = new_inspection(store, regs, gazetteer, v)
    measure(store, insp.inspection_id, v, download=40.0, tests=15)  # 45 tests, none below: upper bound < 10 %
    f = compute_findings(store, insp.inspection_id, rules, regs)
    assert f["indicators"][0]["n_below"] == 0 and f["indicators"][0]["ci_high"] <= rules.internet.max_share_below
    assert f["verdict"] == "no_violation" and f["legal"] is None and f["offence_date"] is None


def test_too_few_tests_or_days_or_a_wide_interval_is_insufficient(env, gazetteer):
    store, regs, rules, v = env
    a = new_inspection(store, regs, gazetteer, v, ident="FEW")
    measure(store, "FEW", v, download=2.0, days=1, tests=2)
    f = compute_findings(store, "FEW", rules, regs)
    assert f["verdict"] == "insufficient_data" and "fewer than the minimum" in f["indicators"][0]["reason"]
    b = new_inspection(store, regs, gazetteer, v, ident="ONEDAY")
    measure(store, "ONEDAY", v, download=2.0, days=1, tests=10)
    assert "day(s)" in compute_findings(store, "ONEDAY", rules, regs)["indicators"][0]["reason"]
    c = new_inspection(store, regs, gazetteer, v, ident="GOODFEW")
    measure(store, "GOODFEW", v, download=40.0, days=2, tests=5)  # 10 tests, 0 below: upper bound 27.8 % > 10 %
    g = compute_findings(store, "GOODFEW", rules, regs)
    assert g["verdict"] == "insufficient_data" and "contains the allowed share" in g["indicators"][0]["reason"]
    assert a and b and c


def test_other_operator_and_other_settlement_tests_are_excluded_and_counted(env, gazetteer):
    store, regs, rules, v = env
    insp = new_inspection(store, regs, gazetteer, v)
    measure(store, insp.inspection_id, v, download=2.0, tests=4)
    measure(store, insp.inspection_id, v, download=50.0, tests=4, operator="401-02", seed=3)
    measure(store, insp.inspection_id, v, download=50.0, tests=2, kato="611010000", seed=4)
    f = compute_findings(store, insp.inspection_id, rules, regs)
    assert f["excluded_tests"]["other_operator"] == 12 and f["excluded_tests"]["other_settlement"] == 6
    assert f["indicators"][0]["n"] == 12 and f["indicators"][0]["n_below"] == 12


def test_failed_tests_are_counted_apart_never_as_a_speed(env, gazetteer):
    store, regs, rules, v = env
    insp = new_inspection(store, regs, gazetteer, v)
    measure(store, insp.inspection_id, v, download=None, tests=3)
    f = compute_findings(store, insp.inspection_id, rules, regs)
    assert f["excluded_tests"]["failed_or_invalid"] == 9
    assert all(r["n"] == 0 for r in f["indicators"]) and f["verdict"] == "insufficient_data"


def test_repeat_offence_within_12_months_proposes_part_15_citing_the_earlier_inspection(env, gazetteer):
    store, regs, rules, v = env
    old = new_inspection(store, regs, gazetteer, v, ident="OLD", operator="401-07", created=date(2025, 9, 1),
                         grounds_date="2025-08-20", act_registered="2025-08-28")  # Altel: same entity as Tele2
    measure(store, "OLD", v, download=2.0, start=date(2025, 9, 1), operator="401-07")
    new = new_inspection(store, regs, gazetteer, v, ident="NEW")
    measure(store, "NEW", v, download=2.0, seed=7)
    f = compute_findings(store, "NEW", rules, regs)
    legal = f["legal"]
    assert legal["part"] == 15
    assert legal["repeat_of"]["inspection_id"] == "OLD" and legal["repeat_of"]["act_number"] == old.act_number
    assert legal["repeat_of"]["offence_date"] == "2025-09-03"
    p15 = regs.art637.part(15, f["offence_date"])
    assert legal["fine_mci"] == p15.fine_mci["large"]
    assert legal["fine_tenge"] == p15.fine_mci["large"] * regs.mci.on(f["offence_date"]).tenge
    assert any("NOT recorded" in u for u in legal["uncertainties"])
    # the earlier one itself is a first offence
    assert compute_findings(store, "OLD", rules, regs)["legal"]["part"] == 14
    assert new


@pytest.mark.parametrize("start, operator, download, expect", [
    (date(2025, 5, 25), "401-77", 2.0, 14),   # more than 12 months before 2026-06-03
    (date(2025, 12, 1), "401-77", 40.0, 14),  # earlier inspection without violation
    (date(2025, 12, 1), "401-02", 2.0, 14),   # another legal entity (Kcell)
])
def test_no_repeat_outside_window_without_violation_or_other_entity(env, gazetteer, start, operator, download, expect):
    store, regs, rules, v = env
    new_inspection(store, regs, gazetteer, v, ident="OLD", operator=operator, created=start)
    measure(store, "OLD", v, download=download, start=start, operator=operator, tests=15)
    new_inspection(store, regs, gazetteer, v, ident="NEW")
    measure(store, "NEW", v, download=2.0, seed=9)
    legal = compute_findings(store, "NEW", rules, regs)["legal"]
    assert legal["part"] == expect and legal["repeat_of"] is None


def test_offence_before_the_legal_table_gets_no_fine_and_says_why(env, gazetteer):
    store, regs, rules, v = env
    new_inspection(store, regs, gazetteer, v, ident="OLD22", created=date(2022, 8, 1), grounds_date="2022-07-20",
                   act_registered="2022-07-28",
                   instruments=["M40177"])
    measure(store, "OLD22", v, download=2.0, start=date(2022, 8, 1))
    legal = compute_findings(store, "OLD22", rules, regs)["legal"]
    assert legal["fine_mci"] is None and legal["fine_tenge"] is None and legal["part_valid_from"] is None
    assert any("no entry of art. 637 part 14 valid on 2022-08-03" in u for u in legal["uncertainties"])
    assert math.isclose(legal["mci_tenge"], regs.mci.on("2022-08-03").tenge)


def test_add_months_clamps_to_the_end_of_the_month_both_ways():
    from qamtu.reports.common import add_months

    assert add_months(date(2026, 3, 31), -1) == date(2026, 2, 28)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 6, 3), -12) == date(2025, 6, 3)
    assert add_months(date(2026, 11, 15), 3) == date(2027, 2, 15)
