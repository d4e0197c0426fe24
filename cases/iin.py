"""Kazakhstan's individual identification number (IIN, ЖСН/ИИН): format, control digit, date part.

An IIN is 12 digits. The 12th is a control digit computed from the first 11:

1. first pass: weights 1, 2, ..., 11; control = (sum of digit x weight) mod 11;
2. if that remainder is 10, second pass: weights 3, 4, ..., 11, 1, 2; control = sum mod 11;
3. if the second remainder is 10 as well, no IIN is formed from these 11 digits: a number that
   would need it is invalid.

Source of the algorithm: the programme of transition to a single identification number approved by
Government Decree of the Republic of Kazakhstan No. 565 of 11 June 2003, and the Rules of forming
the identification number approved by Government Decree No. 406 of 22 May 2007 (under Law No. 223
of 12 January 2007 "On national registers of identification numbers", which defines the "control
bit", art. 1 p. 1 1)). [uncertain] The primary texts of the decrees were not retrieved here; the
weights above are as quoted from Decree No. 565 by the kz-iin-validator project
(https://pypi.org/project/kz-iin-validator/) and by independent validators (see
``cases/data/SOURCES.md``). They agree with each other; check against adilet.zan.kz before relying
on them in a legal document.

Date part: digits 1-6 were the date of birth (YYMMDD) and digit 7 the century and sex (1/2: 1800s,
3/4: 1900s, 5/6: 2000s; odd male, even female). Government Decree No. 853 of 26 August 2013 removed
the link between the number and personal data, so a number whose date part is not a plausible
birth date can still be a real IIN (Ministry of Justice, reported by nomad.su on 05.04.2019). The
date part is therefore reported as a *plausibility* flag, never as a reason to refuse the number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from .errors import CasesError

WEIGHTS_FIRST = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
WEIGHTS_SECOND = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}
_DIGITS = re.compile(r"^\d{12}$")


def control_digit(first11: str) -> int | None:
    """The control digit for 11 digits, or ``None`` when both passes leave a remainder of 10."""
    if len(first11) != 11 or not first11.isdigit() or not first11.isascii():
        raise CasesError(f"control digit: need 11 digits, got {first11!r}")
    digits = [int(c) for c in first11]
    for weights in (WEIGHTS_FIRST, WEIGHTS_SECOND):
        remainder = sum(d * w for d, w in zip(digits, weights)) % 11
        if remainder != 10:
            return remainder
    return None


@dataclass(frozen=True)
class IinCheck:
    """Result of checking one IIN. ``valid`` depends only on the format and the control digit."""

    iin: str
    valid: bool
    reason: str | None
    date_plausible: bool
    birth_date: date | None = None
    sex: Literal["male", "female"] | None = None


def _date_part(iin: str, today: date) -> tuple[date | None, Literal["male", "female"] | None]:
    century = _CENTURY.get(iin[6])
    if century is None:
        return None, None
    try:
        born = date(century + int(iin[0:2]), int(iin[2:4]), int(iin[4:6]))
    except ValueError:
        return None, None
    if born > today:
        return None, None
    return born, ("male" if int(iin[6]) % 2 else "female")


def check_iin(value: str, today: date | None = None) -> IinCheck:
    """Check an IIN: 12 ASCII digits (spaces ignored), control digit, and the date part's plausibility."""
    iin = "".join(str(value).split())
    if not _DIGITS.match(iin) or not iin.isascii():
        return IinCheck(iin, False, "an IIN is exactly 12 digits", False)
    expected = control_digit(iin[:11])
    if expected is None:
        return IinCheck(iin, False, "no IIN has these first 11 digits (remainder 10 in both passes)", False)
    born, sex = _date_part(iin, today or date.today())
    if expected != int(iin[11]):
        return IinCheck(iin, False, f"control digit is {iin[11]}, expected {expected}", born is not None, born, sex)
    return IinCheck(iin, True, None, born is not None, born, sex)


def is_valid_iin(value: str) -> bool:
    """Whether ``value`` is 12 digits with a correct control digit."""
    return check_iin(value).valid


def validate_iin(value: str, field: str = "iin") -> str:
    """The IIN as 12 digits, or CasesError naming the field and what is wrong (the number is not echoed:
    it is personal data and error messages end up in logs)."""
    result = check_iin(value)
    if not result.valid:
        reason = result.reason or "invalid"   # check_iin gives every invalid IIN a reason
        raise CasesError(f"field '{field}': not a valid IIN: {reason.replace(result.iin, '…')}; "
                         "check the number on the applicant's ID card")
    return result.iin


def iin_problem(value: str) -> str | None:
    """What is wrong with an IIN in words (without the number itself), or ``None`` when it is valid."""
    result = check_iin(value)
    if result.valid:
        return None
    return f"not a valid IIN: {result.reason}"
