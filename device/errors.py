"""Exception tree of :mod:`qamtu.device`."""

from .. import QamtuError


class DeviceError(QamtuError):
    """Root of every error raised by the device layer."""
