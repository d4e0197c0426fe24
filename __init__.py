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


_SECRETS = __import__("re").compile(
    r"(?P<url>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]*(?=@)"              # scheme://user:PASSWORD@host
    r"|(?P<query>[?&](?:ssl)?password=)[^&#\s]*"                            # ...?password=PASSWORD&...
    r"|(?P<kw>\b(?:ssl)?password\s*=\s*)(?:'(?:\\.|[^'\\])*'?|[^\s']+)",    # keyword DSN: password=PASSWORD
    __import__("re").IGNORECASE)


def redact_secrets(text: object) -> str:
    """``text`` with every database password replaced by ``***``: in URLs (``postgresql://u:PW@h/db``),
    in their query (``?password=PW``) and in keyword DSNs (``host=h password=PW`` or ``password='P W'``).

    The one redaction used for everything Qamtu prints or stores about a database location.
    """
    return _SECRETS.sub(lambda m: (m.group("url") or m.group("query") or m.group("kw")) + "***", str(text))
