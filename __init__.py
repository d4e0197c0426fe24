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


_CONTROL = __import__("re").compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(value: object, markup: bool = True) -> str:
    """``value`` as text that rich prints literally: markup escaped (``[bold]`` stays ``[bold]``), and
    terminal control characters (ESC, CR, backspace, DEL, C1, bidi overrides) shown as ``\\xNN`` or
    ``\\uNNNN`` instead of reaching the terminal. None becomes ""; newlines and tabs are kept. With
    ``markup=False`` (text for ``rich.text.Text``, which does not parse markup) only the control
    characters are replaced.

    The one escape for every value from a store, a file, a modem or the command line that goes
    into a rich table, title or message (``cli.py`` calls it ``safe``).
    """
    from rich.markup import escape

    if value is None:
        return ""
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}",
                        str(value))
    return escape(text) if markup else text
