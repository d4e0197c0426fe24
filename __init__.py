"""Qamtu (қамту, "coverage"): field measurement of mobile and internet quality for regulators.

The repository root is the ``qamtu`` package. Its four sub-packages import in one direction
only (see ``docs/architecture.md``)::

    device  <-  probe  ->  mapping
          \\       |       /
           '--  reports --'

``cli.py`` sits on top and nothing imports it.
"""

from importlib import resources
from pathlib import Path

__version__ = "0.1.0"


def package_path(*parts: str) -> Path:
    """Path of a file shipped inside the installed ``qamtu`` package."""
    return Path(str(resources.files(__name__).joinpath(*parts)))


class QamtuError(Exception):
    """Root of every error Qamtu raises on purpose; the CLI prints its message and exits 1."""
