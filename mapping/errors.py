"""Exception tree of :mod:`qamtu.mapping`."""

from .. import QamtuError


class MappingError(QamtuError):
    """Root of every error raised by the geography layer."""


class GazetteerError(MappingError):
    """A settlements file, or a source file it is built from, is malformed.

    The message names the file, the feature (or line) and the field.
    """
