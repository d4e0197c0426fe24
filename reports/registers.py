"""Registers the office edits without touching code: legal table, MCI, operators, instruments, keys.

Every file lives in ``reports/data/registers/`` and may be overridden file by file by a folder of
the office's own (``--registers DIR`` or ``QAMTU_REGISTERS``): a file present there wins over the
bundled one. Every value carries its source and valid-from date; a malformed file raises
:class:`RegisterError` naming the file and the field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .. import load_model, package_path, read_toml
from .errors import ReportError

REGISTER_FILES = ("art637", "mci", "operators", "instruments", "procedure", "office", "office_keys", "findings")
CATEGORIES = ("individual", "official", "small", "medium", "large")


class RegisterError(ReportError):
    """A register file is missing or malformed; the message names the file and the field."""


class _M(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _day(v: Any) -> str:
    if isinstance(v, date):
        return v.isoformat()
    try:
        date.fromisoformat(str(v))
    except ValueError:
        raise ValueError(f"{v!r} is not a date YYYY-MM-DD") from None
    return str(v)


class Part(_M):
    part: int
    valid_from: str
    valid_from_source: str = Field(min_length=1)
    valid_from_uncertainty: str = ""
    substance_ru: str
    substance_ru_note: str = ""
    substance_kk: str = ""
    substance_kk_note: str = ""
    source: str = Field(min_length=1)
    fine_mci: dict[str, float]
    notes: dict[str, str] = Field(default_factory=dict)

    _d = field_validator("valid_from", mode="before")(classmethod(lambda cls, v: _day(v)))

    @field_validator("fine_mci")
    @classmethod
    def _cats(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if k not in CATEGORIES:
                raise ValueError(f"unknown offender category {k!r} (use {', '.join(CATEGORIES)})")
            if not x > 0:
                raise ValueError(f"{k}: fine must be > 0 MCI")
        return v


class Repeat(_M):
    window_months: int = Field(gt=0)
    source: str = Field(min_length=1)
    uncertainty: str = ""


class Jurisdiction(_M):
    note_ru: str
    note_kk: str
    source: str


class Art637(_M):
    version: str
    code_ru: str
    code_kk: str
    article: int
    title_ru: str
    title_kk: str
    title_kk_source: str = ""
    source: str = Field(min_length=1)
    uncertainty: str = ""
    categories: list[str]
    parts: list[Part]
    earlier_values_note: str = ""
    repeat: Repeat
    jurisdiction: Jurisdiction

    def part(self, number: int, on: str) -> Optional[Part]:
        """The entry of part ``number`` valid on day ``on`` (ISO), or None before the first entry."""
        hits = sorted((p for p in self.parts if p.part == number and p.valid_from <= on), key=lambda p: p.valid_from)
        return hits[-1] if hits else None


class MciEntry(_M):
    valid_from: str
    tenge: float = Field(gt=0)
    source: str = Field(min_length=1)
    uncertain: str = ""

    _d = field_validator("valid_from", mode="before")(classmethod(lambda cls, v: _day(v)))


class Mci(_M):
    version: str
    which_date_ru: str
    which_date_kk: str
    which_date_source: str
    mci: list[MciEntry] = Field(min_length=1)

    def on(self, day: str) -> Optional[MciEntry]:
        hits = sorted((m for m in self.mci if m.valid_from <= day), key=lambda m: m.valid_from)
        return hits[-1] if hits else None


class Operator(_M):
    brand: str
    entity: str = Field(min_length=1)
    legal_name_ru: str = ""
    legal_name_ru_source: str = ""
    legal_name_kk: str = ""
    legal_name_kk_source: str = ""
    bin: str = ""
    bin_source: str = ""
    address: str = ""
    address_source: str = ""
    registration: str = ""
    bank_details: str = ""
    category: str = ""
    category_source: str = ""
    valid_from: str

    _d = field_validator("valid_from", mode="before")(classmethod(lambda cls, v: _day(v)))

    @field_validator("bin")
    @classmethod
    def _bin(cls, v: str) -> str:
        if v and not (v.isdigit() and len(v) == 12):
            raise ValueError("BIN must be 12 digits (or empty when not known)")
        return v

    @field_validator("category")
    @classmethod
    def _cat(cls, v: str) -> str:
        if v and v not in CATEGORIES:
            raise ValueError(f"unknown category {v!r} (use {', '.join(CATEGORIES)})")
        return v


class Operators(_M):
    version: str
    operators: dict[str, Operator]


class Instrument(_M):
    name: str = Field(min_length=1)
    model: str = Field(min_length=1)
    serial: str = Field(min_length=1)
    imei: str = ""
    verification_certificate: str = ""
    verification_date: Optional[str] = None
    verification_valid_until: Optional[str] = None
    verified_by: str = ""
    source: str = ""
    demo: bool = False

    _d = field_validator("verification_date", "verification_valid_until", mode="before")(
        classmethod(lambda cls, v: None if v in (None, "") else _day(v)))

    def problem_on(self, day: str) -> Optional[str]:
        """Why this instrument may not be used as evidence on ``day``, or None when it may."""
        if not self.verification_certificate or not self.verification_date or not self.verification_valid_until:
            return ("has no metrological verification in the register "
                    "(certificate number, date and valid-until are required)")
        if day < self.verification_date:
            return f"was verified only on {self.verification_date}, after the measurement on {day}"
        if day > self.verification_valid_until:
            return (f"verification {self.verification_certificate} expired on {self.verification_valid_until}, "
                    f"before the measurement on {day}")
        return None


class Instruments(_M):
    version: str
    instruments: dict[str, Instrument] = Field(default_factory=dict)


class OfficeKey(_M):
    name: str = Field(min_length=1)
    key_id: str = Field(min_length=16)
    public_key: str = Field(min_length=40)
    valid_from: str = ""  # YYYY-MM-DD: bundles created before it are not trusted ("" = no lower bound)
    valid_to: str = ""  # YYYY-MM-DD: bundles created after it are not trusted (a retired or lost key)

    _d = field_validator("valid_from", "valid_to", mode="before")(classmethod(lambda cls, v: _day(v) if v else ""))


class OfficeKeys(_M):
    version: str
    keys: list[OfficeKey] = Field(default_factory=list)


class Office(_M):
    version: str
    name_ru: str = ""
    name_kk: str = ""
    address_ru: str = ""
    address_kk: str = ""
    place_ru: str = ""
    place_kk: str = ""
    ministry_note: str = ""


class Findings(_M):
    version: str
    confidence: float = Field(gt=0, lt=1)
    method: str
    rule_en: str
    rule_ru: str
    rule_kk: str
    source: str
    offence_date: str = Field(pattern="^last_measurement$")
    offence_date_source: str


MODELS: dict[str, type[BaseModel]] = {"art637": Art637, "mci": Mci, "operators": Operators, "instruments": Instruments,
                                      "office": Office, "office_keys": OfficeKeys, "findings": Findings}


def bundled_dir() -> Path:
    return package_path("reports", "data", "registers")


def load_file(name: str, folder: Path | str | None = None) -> tuple[Any, Path]:
    """Parse register ``name`` (e.g. "mci") from ``folder`` if it holds one, else the bundled file."""
    folder = folder or os.environ.get("QAMTU_REGISTERS") or None
    candidates = ([Path(folder) / f"{name}.toml"] if folder else []) + [bundled_dir() / f"{name}.toml"]
    path = next((p for p in candidates if p.exists()), candidates[-1])
    model = MODELS.get(name)
    if model is None:
        return read_toml(path, RegisterError, "register file"), path
    return load_model(path, model, RegisterError, "register file"), path


@dataclass
class Registers:
    """All registers, with the file each came from (for documents and the evidence bundle)."""

    art637: Art637
    mci: Mci
    operators: Operators
    instruments: Instruments
    procedure: dict
    office: Office
    office_keys: OfficeKeys
    findings: Findings
    paths: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def load(cls, folder: Path | str | None = None) -> "Registers":
        values, paths = {}, {}
        for name in REGISTER_FILES:
            values[name], paths[name] = load_file(name, folder)
        return cls(**values, paths=paths)

    def operator(self, code: str) -> Operator:
        op = self.operators.operators.get(code)
        if op is None:
            raise RegisterError(f"{self.paths['operators']}: operator {code!r} is not in the register "
                                f"(known: {', '.join(sorted(self.operators.operators)) or 'none'}): add it to "
                                f"operators.toml in your --registers folder (or QAMTU_REGISTERS)")
        return op

    def instrument(self, ident: str) -> Instrument:
        ins = self.instruments.instruments.get(ident)
        if ins is None:
            raise RegisterError(f"{self.paths['instruments']}: instrument {ident!r} is not in the register "
                                f"(known: {', '.join(sorted(self.instruments.instruments)) or 'none'}): add it to "
                                f"instruments.toml in your --registers folder (or QAMTU_REGISTERS)")
        return ins

    def versions(self) -> dict[str, str]:
        out = {}
        for name in REGISTER_FILES:
            v = getattr(self, name)
            out[name] = v["version"] if isinstance(v, dict) else v.version
        return out
