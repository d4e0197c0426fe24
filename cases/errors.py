"""The exception tree of the ``cases`` package."""

from __future__ import annotations

from .. import QamtuError


class CasesError(QamtuError):
    """Bad complaint input, data table or case operation; the message names the file, row or field."""
