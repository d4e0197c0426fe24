"""The cases package's legal data files: ``appeals.toml`` (APPK deadlines, talon, appeal route) and
``calendar_kz.toml`` (working days). Bundled in ``cases/data/``; a folder of the office's own
(``--registers DIR`` or ``QAMTU_REGISTERS``) overrides them file by file, as for the inspection
registers (:mod:`qamtu.reports.registers`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from .. import package_path
from .errors import CasesError


def bundled(name: str) -> Path:
    return package_path("cases", "data", name)


def register_path(name: str, folder: Path | str | None = None) -> Path:
    """The file ``name`` (e.g. ``appeals.toml``) from ``folder`` when it holds one, else the bundled one."""
    folder = folder or os.environ.get("QAMTU_REGISTERS") or None
    if folder and (Path(folder) / name).exists():
        return Path(folder) / name
    return bundled(name)


def load_toml(name: str, folder: Path | str | None = None) -> tuple[dict[str, Any], Path]:
    path = register_path(name, folder)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8")), path
    except FileNotFoundError:
        raise CasesError(f"{path}: register file not found") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CasesError(
            f"{path}: not valid UTF-8 TOML ({exc}); fix the file or remove it from the --registers folder"
        ) from None


def need(data: dict, dotted: str, path: Path, kind: type | tuple = object) -> Any:
    """``data[a][b]`` for ``dotted`` = "a.b", or a :class:`CasesError` naming the file and the field."""
    cur: Any = data
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise CasesError(f"{path}: field '{dotted}' missing")
        cur = cur[part]
    if not isinstance(cur, kind) or (kind is int and isinstance(cur, bool)):
        raise CasesError(f"{path}: field '{dotted}' has the wrong type ({type(cur).__name__})")
    return cur


def appeals(folder: Path | str | None = None) -> dict[str, Any]:
    """``appeals.toml`` checked for the fields the code uses; ``_path`` holds the file it came from."""
    data, path = load_toml("appeals.toml", folder)
    for field, kind in (
        ("version", str),
        ("answer.working_days", int),
        ("answer.count_registration_day", bool),
        ("answer.source", str),
        ("extension.max_months", int),
        ("extension.notice_working_days", int),
        ("redirect.working_days", int),
        ("grouping.window_days", int),
        ("appeal.text_ru", str),
        ("appeal.text_kk", str),
        ("deemed_refusal.text_ru", str),
        ("deemed_refusal.text_kk", str),
        ("registration.talon_note", str),
    ):
        v = need(data, field, path, kind)
        if kind is int and v < 0:
            raise CasesError(f"{path}: field '{field}' must be >= 0 (got {v})")
    return {**data, "_path": str(path)}
