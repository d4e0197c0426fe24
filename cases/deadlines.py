"""Legal deadlines of a complaint, in working days of :mod:`qamtu.cases.workdays`.

* answer: ``answer.working_days`` (15) after registration (APPK art. 76); whether the day of
  registration counts is the data value ``answer.count_registration_day`` (see appeals.toml);
* redirection to the competent body: ``redirect.working_days`` (3) after registration;
* extension: a reasoned decision may move the answer date to at most ``extension.max_months`` (2)
  calendar months after receipt; the applicant is told within ``extension.notice_working_days`` (3)
  working days of the decision;
* a missed answer date is a deemed refusal from the next day (APPK art. 91).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Optional

from ..reports.common import add_months
from .errors import CasesError
from .workdays import WorkCalendar


def working_term(cal: WorkCalendar, start: date, n: int, count_start: bool) -> date:
    """Last day of a term of ``n`` working days beginning with the event on ``start``.

    ``count_start`` False: day 1 is the first working day after ``start``. True: day 1 is ``start``
    itself when it is a working day (else the next working day).
    """
    if n < 1:
        raise CasesError(f"a term of {n} working days: must be at least 1")
    if not count_start:
        return cal.add_working_days(start, n)
    first = cal.next_working_day(start)
    return first if n == 1 else cal.add_working_days(first, n - 1)


@dataclass
class Deadlines:
    """Deadlines of one complaint (ISO dates in :meth:`as_dict`)."""

    registered: date
    answer_due: date
    redirect_due: date
    extended_until: Optional[date] = None
    extension_notice_due: Optional[date] = None
    doubts: list[str] = field(default_factory=list)

    @property
    def due(self) -> date:
        """The answer date in force (the extension's when there is one)."""
        return self.extended_until or self.answer_due

    def status(self, today: date, answered_on: Optional[date] = None) -> str:
        """``answered_on_time`` / ``answered_late`` / ``overdue`` (deemed refusal) / ``due`` (open)."""
        if answered_on is not None:
            return "answered_on_time" if answered_on <= self.due else "answered_late"
        return "overdue" if today > self.due else "due"

    def deemed_refusal_from(self, today: date, answered_on: Optional[date] = None) -> Optional[date]:
        """The day the missed deadline counts as refusal (art. 91): the day after ``due``; None when not missed."""
        if answered_on is None and today > self.due:
            return self.due + timedelta(days=1)
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "registered": self.registered.isoformat(),
            "answer_due": self.answer_due.isoformat(),
            "redirect_due": self.redirect_due.isoformat(),
            "extended_until": self.extended_until.isoformat() if self.extended_until else None,
            "extension_notice_due": self.extension_notice_due.isoformat() if self.extension_notice_due else None,
            "due": self.due.isoformat(),
            "calendar_doubts": list(self.doubts),
        }


def compute(
    cal: WorkCalendar,
    appeals: dict[str, Any],
    registered: date,
    *,
    extended_until: Optional[date] = None,
    extension_decided: Optional[date] = None,
) -> Deadlines:
    """The deadlines of a complaint registered on ``registered`` (and its extension, if any)."""
    count = bool(appeals["answer"]["count_registration_day"])
    answer = working_term(cal, registered, int(appeals["answer"]["working_days"]), count)
    redirect = working_term(cal, registered, int(appeals["redirect"]["working_days"]), count)
    notice = None
    if extended_until is not None:
        check_extension(appeals, registered, answer, extended_until)
        notice = cal.add_working_days(extension_decided or registered, int(appeals["extension"]["notice_working_days"]))
    last = max(d for d in (answer, redirect, extended_until, notice) if d is not None)
    return Deadlines(registered, answer, redirect, extended_until, notice, cal.doubts(registered, last))


def check_extension(appeals: dict[str, Any], registered: date, answer_due: date, until: date) -> None:
    """Refuse an extension that ends before the normal due date or beyond the legal maximum."""
    months = int(appeals["extension"]["max_months"])
    limit = add_months(registered, months)
    if until <= answer_due:
        raise CasesError(
            f"--until {until.isoformat()}: an extension must end after the normal answer date "
            f"{answer_due.isoformat()}"
        )
    if until > limit:
        raise CasesError(
            f"--until {until.isoformat()}: an extension may last at most {months} months from receipt "
            f"({registered.isoformat()} -> {limit.isoformat()}; {appeals['extension']['source']})"
        )
