"""Statuses, rules of time and the priority score of qamtu.mapping.problems, on hand-made frames
whose answers are known by construction (no store)."""

from __future__ import annotations

import pandas as pd
import pytest

from conftest import settlement_feature
from qamtu.mapping.gazetteer import Gazetteer
from qamtu.mapping.problems import (ProblemError, build_problems, load_problem_rules, parse_years,
                                    population_fallbacks)

A, B, C = "611010001", "611010002", "611010003"


@pytest.fixture
def small(write_gazetteer):
    feats = [settlement_feature(A, 43.30, 68.25, population=1000, name="Әулие"),
             settlement_feature(B, 43.35, 68.30, name="Қоңыр"),          # population unknown: estimated
             settlement_feature(C, 43.40, 68.35, population=3000, name="Шұбар"),
             settlement_feature("611010004", 43.45, 68.40, population=5000, name="Төрт")]
    return Gazetteer.load(write_gazetteer(feats))


def measured(rows: dict[str, tuple]) -> pd.DataFrame:
    """kato -> (mobile_status, mobile_judged, internet_status, internet_judged)"""
    return pd.DataFrame([{"kato": k, "mobile_status": m, "mobile_judged": mj, "internet_status": i,
                          "internet_judged": ij} for k, (m, mj, i, ij) in rows.items()])


def survey(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kato", "year", "dimension", "value"])


def plans(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kato", "dimension", "planned_year", "programme", "responsible"])


def row(pic, kato, dim, year) -> dict:
    c = pic.cells
    return c[(c["kato"] == kato) & (c["dimension"] == dim) & (c["year"] == year)].iloc[0].to_dict()


def test_since_overdue_and_resolution_on_time_and_late(small):
    years = [2021, 2022, 2023, 2024, 2025]
    none = ("no_service", True, "none", True)
    ok = ("4g", True, "meets_standard", True)
    m = {2021: measured({A: none, C: none}), 2022: measured({A: none, C: none}), 2023: measured({A: none, C: ok}),
         2024: measured({A: ok, C: ok}), 2025: measured({A: ok, C: none})}
    p = plans([(A, "mobile", 2022, "Бағдарлама", "Әкімдік"), (C, "mobile", 2023, "", ""),
               (C, "mobile", 2026, "Жаңа / Новая", "Оператор")])
    pic = build_problems(small, years, measured=m, plans=p)
    # A: problem 2021-2023, plan 2022 -> overdue 2023, fixed 2024 (late)
    assert [pic.status(A, "mobile", y) for y in years] == ["problem", "problem", "overdue", "resolved", "resolved"]
    r = row(pic, A, "mobile", 2023)
    assert r["problem_since"] == 2021 and r["years_unresolved"] == 3 and r["planned_year"] == 2022 and r["overdue"]
    r = row(pic, A, "mobile", 2024)
    assert r["resolved_year"] == 2024 and r["resolved_on_time"] is False and r["planned_year"] == 2022
    assert row(pic, A, "mobile", 2025)["resolved_year"] == 2024
    # C: fixed 2023 on time (plan 2023); problem again in 2025: a new run, judged against the plan made after it
    assert [pic.status(C, "mobile", y) for y in years] == ["problem", "problem", "resolved", "resolved", "problem"]
    assert row(pic, C, "mobile", 2023)["resolved_on_time"] is True
    r = row(pic, C, "mobile", 2025)
    assert (r["problem_since"] == 2025 and r["planned_year"] == 2026 and not r["overdue"]
            and r["programme"] == "Жаңа / Новая")
    # plan sheet (as of 2025): A's plan was done late in 2024, C's 2023 plan done on time, its 2026 plan pending
    states = {(x["kato"], x["planned_year"]): (x["state"], x["state_year"])
              for x in pic.plans.to_dict(orient="records")}
    assert states == {(A, 2022): ("done_late", 2024), (C, 2023): ("done", 2023), (C, 2026): ("pending", 2025)}
    assert list(pic.plans["kato"]) == [C, C, A]                # C has a problem in 2025 (priority > 0), A none


def test_unknown_years_do_not_break_a_run_nor_count_as_overdue(small):
    years = [2021, 2022, 2023, 2024]
    none = ("no_service", True, "none", True)
    thin = ("no_service", False, "none", False)          # measured, not judged: says nothing
    m = {2021: measured({A: none}), 2022: measured({A: thin}), 2024: measured({A: none})}
    pic = build_problems(small, years, measured=m, plans=plans([(A, "mobile", 2021, "", "")]))
    assert [pic.status(A, "mobile", y) for y in years] == ["problem", "unknown", "unknown", "overdue"]
    assert row(pic, A, "mobile", 2022)["problem_since"] == 2021 and not row(pic, A, "mobile", 2022)["overdue"]
    assert row(pic, A, "mobile", 2024)["years_unresolved"] == 4


def test_survey_items_and_combining_rules(small):
    years = [2023, 2024]
    slow = ("3g", True, "below_standard", True)
    m = {2023: measured({A: slow, B: slow}), 2024: measured({A: slow, B: slow})}
    s = survey([(A, 2023, "fixed_internet", "yes"),            # any_service: fixed line beats slow mobile internet
                (B, 2023, "fixed_internet", "no"),             # "no" says nothing: measurement decides
                (A, 2023, "tv_domestic", "yes"), (A, 2023, "tv_foreign_only", "yes"),   # any_problem
                (B, 2023, "radio", "yes"),
                (A, 2024, "post", "no"), (B, 2024, "post", "yes"),
                (C, 2024, "tv_foreign_only", "no")])           # "no" alone: unknown
    pic = build_problems(small, years, measured=m, surveys=s)
    assert pic.status(A, "internet", 2023) == "no_problem" and pic.status(B, "internet", 2023) == "problem"
    assert pic.status(A, "internet", 2024) == "problem"      # no fixed line reported in 2024
    assert pic.status(A, "tv_radio", 2023) == "problem" and pic.status(B, "tv_radio", 2023) == "no_problem"
    assert pic.status(C, "tv_radio", 2024) == "unknown"
    assert pic.status(A, "post", 2024) == "problem" and pic.status(B, "post", 2024) == "no_problem"
    assert pic.status(A, "mobile", 2023) == "no_problem"     # 3G is service
    src = row(pic, A, "internet", 2023)["sources"]
    assert ("(fixed_internet=yes)" in src and "Сымды (тіркелген) интернет" in src
            and "өлшем / измерения: below_standard" in src)
    with pytest.raises(ProblemError, match="unknown dimension 'tv'"):
        build_problems(small, years, surveys=survey([(A, 2023, "tv", "yes")]))


def test_priority_is_population_times_dimensions_times_years(small):
    years = [2021, 2022, 2023]
    bad = ("no_service", True, "none", True)
    m = {y: measured({A: bad, B: bad}) for y in years}
    s = survey([(A, 2023, "post", "no")])
    pic = build_problems(small, years, measured=m, surveys=s)
    st = pic.settlements.set_index(["kato", "year"])
    # A: population 1000; 2023: 3 dimensions (internet, mobile, post), longest run 3 years
    assert st.loc[(A, 2023), "problems"] == 3 and st.loc[(A, 2023), "years_unresolved"] == 3
    assert st.loc[(A, 2023), "priority"] == 1000 * 3 * 3
    assert st.loc[(A, 2021), "priority"] == 1000 * 2 * 1
    # B: population unknown -> median of villages with a known one (1000, 3000, 5000 -> 3000), flagged
    assert population_fallbacks(small)["village"] == 3000
    assert bool(st.loc[(B, 2022), "population_estimated"]) and st.loc[(B, 2022), "priority"] == 3000 * 2 * 2
    assert st.loc[(C, 2022), "priority"] == 0
    # the year's rows are sorted by priority
    y23 = pic.settlements[pic.settlements["year"] == 2023]
    assert list(y23["priority"]) == sorted(y23["priority"], reverse=True)


def test_district_totals_count_settlements_not_cells(small):
    years = [2024]
    m = {2024: measured({A: ("no_service", True, "none", True), C: ("4g", True, "meets_standard", True)})}
    pic = build_problems(small, years, measured=m, surveys=survey([(A, 2024, "post", "no")]))
    d = pic.districts.set_index(["district_kato", "year", "dimension"])
    assert d.loc[("611000000", 2024, "any"), "problem"] == 1          # A has 3 problems: counted once
    assert d.loc[("611000000", 2024, "mobile"), "problem"] == 1
    assert d.loc[("611000000", 2024, "any"), "unknown"] == 2           # B and the fourth: nothing known
    assert d.loc[("611000000", 2024, "any"), "no_problem"] == 1        # C
    assert d.loc[("610000000", 2024, "any"), "settlements"] == 4


def test_years_option_and_rules_file(tmp_path):
    assert parse_years("2023-2027") == [2023, 2024, 2025, 2026, 2027]
    assert parse_years("2025,2023") == [2023, 2025]
    for bad in ("2027-2023", "20x3", "1990-1991"):
        with pytest.raises(ProblemError, match="--years"):
            parse_years(bad)
    rules = load_problem_rules()
    assert rules.version.startswith("qamtu-problems-") and set(rules.survey) == {
        "tv_domestic", "tv_foreign_only", "radio", "post", "fixed_internet"}
    broken = tmp_path / "p.toml"
    broken.write_text(load_problem_rules().path and open(rules.path, encoding="utf-8").read().replace(
        'dimension = "post"', 'dimension = "telegraph"'), encoding="utf-8")
    with pytest.raises(ProblemError, match="survey.post.dimension"):
        load_problem_rules(broken)
