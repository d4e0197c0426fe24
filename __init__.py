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


# ------------------------------------------------------------------------------ data files
def read_toml(path: Path | str, error: type[QamtuError], what: str = "data file") -> dict:
    """Parse the UTF-8 TOML file ``path``; any problem raises ``error`` naming the file (and line).

    ``error`` is the calling package's exception class, so each package keeps its own error tree;
    ``what`` names the file's role in messages ("rule-set file", "register file").
    """
    return _read_toml(Path(path), error, what)[1]


def _read_toml(p: Path, error: type[QamtuError], what: str) -> tuple[str, dict]:
    import tomllib

    try:
        text = p.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except FileNotFoundError:
        raise error(f"{p}: {what} not found; check the path") from None
    except IsADirectoryError:
        raise error(f"{p}: is a folder, not a {what}") from None
    except OSError as exc:
        raise error(f"{p}: cannot read the {what} ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise error(f"{p}: not valid UTF-8 TOML (byte {exc.start} is not UTF-8); save the file as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
        raise error(f"{p}: not valid UTF-8 TOML ({exc}); fix the syntax there") from None


def load_model(path: Path | str, model: type, error: type[QamtuError], what: str = "data file",
               extra: dict | None = None):
    """Read the TOML file ``path`` and validate it as the pydantic ``model``; returns the model.

    The first problem raises ``error`` with the file, the field path (``thresholds.LTE``), its
    line when the field is written in the file, and pydantic's reason. ``extra`` values are passed
    to the model besides (and over) the file's own (a ``path`` field, for example).
    """
    p = Path(path)
    text, data = _read_toml(p, error, what)
    return validate_model(data, model, error, where=str(p), text=text, extra=extra)


def validate_model(data: dict, model: type, error: type[QamtuError], where: str, text: str | None = None,
                   extra: dict | None = None):
    """Validate the mapping ``data`` as ``model``; the first problem raises ``error`` naming
    ``where`` (a file, a feature, a record), the field path and, given the TOML ``text``, its line."""
    from pydantic import ValidationError

    try:
        return model(**{**data, **(extra or {})})
    except ValidationError as exc:
        raise error(validation_message(exc, where, text)) from None
    except TypeError as exc:  # a table where the model wants keyword arguments, and the like
        raise error(f"{where}: {exc}") from None


def validation_message(exc, where: str, text: str | None = None, rename: dict[str, str] | None = None) -> str:
    """``<where>: field 'a.b' (line N): <reason>`` for the first error of pydantic's ``exc``."""
    err = exc.errors()[0]
    loc = tuple(err["loc"])
    field = ".".join(str(x) for x in loc) or "?"
    field = (rename or {}).get(field, field)
    line = toml_line(text, loc) if text else None
    at = f" (line {line})" if line else ""
    return f"{where}: field '{field}'{at}: {err['msg']}"


def toml_line(text: str, loc: tuple) -> int | None:
    """1-based line where the TOML key at ``loc`` (or, failing that, its nearest written parent)
    is written; None when it is nowhere (a missing table). Array indices in ``loc`` are skipped."""
    import re

    want = [str(x) for x in loc if not isinstance(x, int)]
    best: tuple[int, int] | None = None   # (matched depth, line)
    table: list[str] = []
    for n, line in enumerate(text.splitlines(), start=1):
        s = line.split("#", 1)[0].strip() if not line.lstrip().startswith(("'", '"')) else line.strip()
        head = re.match(r"^\[\[?\s*([^\]]+?)\s*\]\]?$", s)
        if head:
            table = [k.strip().strip("\"'") for k in head.group(1).split(".")]
            path = table
        else:
            key = re.match(r"^([A-Za-z0-9_\-\"'. ]+?)\s*=", s)
            if not key:
                continue
            path = table + [k.strip().strip("\"'") for k in key.group(1).split(".")]
        depth = len(path) if path == want[:len(path)] else 0
        if depth and (best is None or depth > best[0]):
            best = (depth, n)
            if depth == len(want):
                break
    return best[1] if best else None

