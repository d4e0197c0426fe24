"""Exception tree of :mod:`qamtu.reports`."""

from .. import QamtuError


class ReportError(QamtuError):
    """Root of every error raised while building documents."""
