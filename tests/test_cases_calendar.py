"""Working-day calendar of Kazakhstan and the APPK deadlines computed from it."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from qamtu.cases.deadlines import compute, working_term
from qamtu.cases.errors import CalendarError, CasesError
from qamtu.cases.registers import appeals, bundled
from qamtu.cases.workdays import load_calendar


@pytest.fixture(scope="module")
def cal():
    return load_calendar()


def test_weekend_holidays_move_to_the_next_working_day(cal):
    # 2026: 8 March is a Sunday -> Monday 9 March off; Nauryz 21-22 March on the weekend -> 24 and 25 March
    assert not cal.is_working_day(date(2026, 3, 9))
    assert [cal.is_working_day(date(2026, 3, d)) for d in (23, 24, 25, 26)] == [False, False, False, True]
    # 2025: Republic Day 25 October (Saturday) -> Monday 27 October
    assert not cal.is_working_day(date(2025, 10, 27))
    assert cal.why_off(date(2025, 10, 27)).startswith("перенос: День Республики")


def test_religious_holidays_are_not_moved(cal):
    # Orthodox Christmas 7 January 2024 was a Sunday: Monday 8 January is a working day
    assert cal.is_working_day(date(2024, 1, 8))
    assert not cal.is_working_day(date(2025, 6, 6))  # Kurban ait 2025 (Friday)


def test_decree_transfers(cal):
    # 2025: the Sunday 5 January became a working day, Friday 3 January a day off
    assert cal.is_working_day(date(2025, 1, 5))
    assert not cal.is_working_day(date(2025, 1, 3))


def test_17_december_is_a_working_day_since_2022(cal):
    assert cal.is_working_day(date(2024, 12, 17))
    assert not cal.is_working_day(date(2024, 12, 16))


def test_years_outside_the_file_are_refused(cal):
    with pytest.raises(CalendarError, match="covers 2024-2027"):
        cal.is_working_day(date(2028, 1, 3))


def test_unconfirmed_years_are_reported(cal):
    doubts = cal.doubts(date(2027, 1, 10), date(2027, 2, 1))
    assert len(doubts) == 1 and "NOT CONFIRMED" in doubts[0]


def test_answer_due_is_15_working_days_after_registration(cal):
    a = appeals()
    # registered Monday 16 March 2026; 21-25 March are days off -> 15th working day is Thursday 9 April
    d = compute(cal, a, date(2026, 3, 16))
    assert d.answer_due == date(2026, 4, 9)
    assert cal.working_days_between(date(2026, 3, 16), d.answer_due) == 15
    assert d.redirect_due == date(2026, 3, 19)
    assert d.status(date(2026, 4, 9)) == "due" and d.status(date(2026, 4, 10)) == "overdue"
    assert d.deemed_refusal_from(date(2026, 4, 13)) == date(2026, 4, 10)
    assert d.deemed_refusal_from(date(2026, 4, 13), answered_on=date(2026, 4, 8)) is None


def test_counting_the_registration_day_is_a_data_switch(cal):
    # registered on a Saturday: day 1 is the next working day either way
    assert working_term(cal, date(2026, 4, 4), 1, True) == date(2026, 4, 6)
    assert working_term(cal, date(2026, 4, 6), 15, True) == working_term(cal, date(2026, 4, 6), 14, False)


def test_extension_limits(cal):
    a = appeals()
    d = compute(cal, a, date(2026, 4, 6), extended_until=date(2026, 6, 5), extension_decided=date(2026, 4, 20))
    assert d.due == date(2026, 6, 5)
    assert d.extension_notice_due == date(2026, 4, 23)
    with pytest.raises(CasesError, match="at most 2 months"):
        compute(cal, a, date(2026, 4, 6), extended_until=date(2026, 6, 7))
    with pytest.raises(CasesError, match="after the normal answer date"):
        compute(cal, a, date(2026, 4, 6), extended_until=date(2026, 4, 10))


def test_office_folder_overrides_the_calendar(tmp_path):
    text = bundled("calendar_kz.toml").read_text(encoding="utf-8")
    (tmp_path / "calendar_kz.toml").write_text(text.replace("last_year = 2027", "last_year = 2028"), encoding="utf-8")
    cal = load_calendar(tmp_path)
    # 1-2 January 2028 fall on the weekend: the days off move to Monday 3 and Tuesday 4 January
    assert [cal.is_working_day(date(2028, 1, d)) for d in (3, 4, 5)] == [False, False, True]
    assert "not described" in cal.doubts(date(2028, 1, 3), date(2028, 1, 3))[0]


def test_malformed_calendar_names_the_field(tmp_path):
    shutil.copy(bundled("calendar_kz.toml"), tmp_path / "calendar_kz.toml")
    p = tmp_path / "calendar_kz.toml"
    p.write_text(p.read_text(encoding="utf-8").replace('date = "2025-06-06"', 'date = "2025-13-06"'), encoding="utf-8")
    with pytest.raises(CalendarError, match=r"calendar_kz.toml: field 'dated\[1\].date'"):
        load_calendar(tmp_path)


def test_appeals_register_missing_field(tmp_path):
    p = tmp_path / "appeals.toml"
    p.write_text(bundled("appeals.toml").read_text(encoding="utf-8").replace("working_days = 15", ""), encoding="utf-8")
    with pytest.raises(CasesError, match="field 'answer.working_days' missing"):
        appeals(tmp_path)
