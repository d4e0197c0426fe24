"""Exception tree of :mod:`qamtu.probe`."""

from .. import QamtuError


class ProbeError(QamtuError):
    """Root of every error raised while measuring or storing samples."""
