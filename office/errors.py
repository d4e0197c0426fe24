"""The office package's exception tree (under :class:`qamtu.QamtuError`)."""

from __future__ import annotations

from .. import QamtuError


class OfficeError(QamtuError):
    """Anything the office application refuses: a bad user name or role, a wrong password, a bad key."""


class AuthError(OfficeError):
    """Sign-in refused (unknown user, wrong password, inactive account)."""
