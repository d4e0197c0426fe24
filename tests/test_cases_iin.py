"""IIN validation (cases/iin.py): control digit by the two-pass algorithm, date part as a flag."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qamtu.cases.errors import CasesError
from qamtu.cases.iin import WEIGHTS_FIRST, WEIGHTS_SECOND, check_iin, control_digit, is_valid_iin, validate_iin

eleven = st.text(alphabet="0123456789", min_size=11, max_size=11)


def test_published_example_is_valid():
    # the example IIN printed in the py-kz-validators documentation (pypi.org/project/py-kz-validators)
    r = check_iin("791028302728")
    assert r.valid and r.reason is None
    assert r.date_plausible and r.birth_date == date(1979, 10, 28) and r.sex == "male"
    assert not is_valid_iin("791028302729")


def test_second_pass_is_used_when_the_first_remainder_is_10():
    # first pass: 1*1 = 1 ... choose digits so that the first sum is 10 mod 11
    first11 = "10000000010"   # 1*1 + 1*10 = 11 -> 0: not this one
    assert control_digit(first11) == 0
    first11 = "00000000010"   # 1*10 = 10 -> second pass: 1*1 = 1
    assert control_digit(first11) == 1
    assert is_valid_iin(first11 + "1") and not is_valid_iin(first11 + "0")


def test_no_iin_when_both_remainders_are_10():
    # search the 11-digit numbers 0000000000x..: weights make this case exist; find one and check it
    for n in range(10**6):
        first11 = f"{n:011d}"
        if control_digit(first11) is None:
            break
    else:  # pragma: no cover
        pytest.fail("no number with remainder 10 in both passes among the first million")
    for last in "0123456789":
        r = check_iin(first11 + last)
        assert not r.valid and "both passes" in r.reason


@given(eleven)
def test_appended_control_digit_makes_a_valid_iin_and_others_do_not(first11):
    c = control_digit(first11)
    if c is None:
        assert not any(is_valid_iin(first11 + d) for d in "0123456789")
        return
    assert is_valid_iin(first11 + str(c))
    assert [d for d in "0123456789" if is_valid_iin(first11 + d)] == [str(c)]


@given(eleven)
def test_control_digit_satisfies_the_published_equations(first11):
    digits = [int(x) for x in first11]
    r1 = sum(d * w for d, w in zip(digits, WEIGHTS_FIRST)) % 11
    r2 = sum(d * w for d, w in zip(digits, WEIGHTS_SECOND)) % 11
    c = control_digit(first11)
    if r1 != 10:
        assert c == r1
    elif r2 != 10:
        assert c == r2
    else:
        assert c is None


@given(st.text(max_size=20))
def test_any_text_gets_an_answer_not_an_exception(text):
    r = check_iin(text)
    assert isinstance(r.valid, bool)
    if r.valid:
        assert len(r.iin) == 12 and r.iin.isdigit()


@pytest.mark.parametrize("value", ["", "79102830272", "7910283027288", "79102830272a", "７９１０２８３０２７２８"])
def test_wrong_format(value):
    r = check_iin(value)
    assert not r.valid and r.reason == "an IIN is exactly 12 digits"


def test_spaces_are_ignored():
    assert check_iin(" 791028 302728 ").valid


@given(st.dates(date(1900, 1, 1), date(2024, 12, 31)), st.sampled_from("3456"), st.text("0123456789", min_size=4,
                                                                                        max_size=4))
def test_date_part_read_back(born, century_sex, serial):
    if (born.year >= 2000) != (century_sex in "56"):
        century_sex = {"3": "5", "4": "6", "5": "3", "6": "4"}[century_sex]
    first11 = born.strftime("%y%m%d") + century_sex + serial
    c = control_digit(first11)
    if c is None:
        return
    r = check_iin(first11 + str(c), today=date(2026, 11, 29))
    assert r.valid and r.date_plausible and r.birth_date == born
    assert r.sex == ("male" if century_sex in "35" else "female")


def test_implausible_date_is_a_flag_not_a_refusal():
    # month 13, or century digit 0: since 2013 the number need not encode the birth date
    for first11 in ("791328302720"[:11], "79102800272"):
        c = control_digit(first11)
        if c is None:
            continue
        r = check_iin(first11 + str(c))
        assert r.valid and not r.date_plausible and r.birth_date is None
    future = "99123150001"       # 31.12.2099 is after "today"
    c = control_digit(future)
    assert c is not None and not check_iin(future + str(c), today=date(2026, 11, 29)).date_plausible


def test_validate_iin_names_the_field_and_does_not_echo_the_number():
    assert validate_iin("791028302728") == "791028302728"
    with pytest.raises(CasesError) as err:
        validate_iin("791028302729", field="applicant_iin")
    assert "applicant_iin" in str(err.value) and "791028302729" not in str(err.value)


def test_iin_problem_in_words():
    from qamtu.cases.iin import iin_problem

    assert iin_problem("791028302728") is None
    assert iin_problem("791028302729") == "not a valid IIN: control digit is 9, expected 8"
    assert "12 digits" in iin_problem("123")
