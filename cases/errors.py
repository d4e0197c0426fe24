"""The exception tree of :mod:`qamtu.cases` (under :class:`qamtu.QamtuError`)."""

from __future__ import annotations

from .. import QamtuError


class CasesError(QamtuError):
    """Bad complaint input, data table or case operation; the message names the command, file, row or field."""


class CalendarError(CasesError):
    """The working-day calendar is malformed or does not cover a date asked for."""


class TransitionError(CasesError):
    """A state transition that the case's current state does not allow (the message lists the allowed ones)."""


class ImportRowsError(CasesError):
    """An import was refused: every bad row is listed by its row number; nothing was written."""
