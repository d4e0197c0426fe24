"""Inspection records: grounds, operator, settlement and address, appointment act, inspectors, instruments.

Stored in the ``inspections`` table, which :mod:`qamtu.reports.schema` owns (migration 1); the
full record is kept as canonical JSON in ``record``.
``qamtu probe --inspection ID`` links the samples and speed tests it records to an inspection.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import validation_message
from ..store.chain import canonical_json
from ..probe.samples import time_text
from .common import is_synthetic
from .errors import ReportError
from .registers import Registers


class InspectionError(ReportError):
    """An inspection record is invalid, missing or cannot be stored; the message names the field."""


class Inspection(BaseModel):
    """One unscheduled inspection (Entrepreneurial Code art. 144-152)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    inspection_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    created_utc: str
    grounds: Literal["complaint", "prosecutor"]
    grounds_number: str = Field(min_length=1, description="complaint registration number or the demand's number")
    grounds_date: str
    operator: str = Field(pattern=r"^\d{3}-\d{2,3}$", description="MCC-MNC of the operator inspected")
    kato: str = Field(pattern=r"^\d{9}$")
    address: str = Field(min_length=1, description="exact address of the place measured")
    act_number: str = Field(min_length=1, description="appointment act number")
    act_registered: str = Field(description="date the appointment act was registered with the legal-statistics body")
    inspectors: list[str] = Field(min_length=1)
    instruments: list[str] = Field(min_length=1, description="ids in the instrument register")
    notes: str = ""

    @field_validator("grounds_date", "act_registered")
    @classmethod
    def _date(cls, v: str) -> str:
        try:
            date.fromisoformat(v)
        except ValueError:
            raise ValueError(f"{v!r} is not a date YYYY-MM-DD") from None
        return v

    @field_validator("inspectors", "instruments")
    @classmethod
    def _names(cls, v: list[str]) -> list[str]:
        v = [x.strip() for x in v]
        if any(not x for x in v):
            raise ValueError("empty name")
        return v


def _next_id(store, year: int) -> str:
    rows = store.query("SELECT inspection_id FROM inspections WHERE inspection_id LIKE ?", (f"INSP-{year}-%",))
    numbers = [int(m.group(1)) for r in rows if (m := re.fullmatch(rf"INSP-{year}-(\d+)", r["inspection_id"]))]
    return f"INSP-{year}-{max(numbers, default=0) + 1:04d}"


def create_inspection(store, registers: Registers, *, gazetteer=None, inspection_id: Optional[str] = None,
                      created: Optional[datetime] = None, **fields: Any) -> Inspection:
    """Validate and store a new inspection; returns it. Raises :class:`InspectionError` naming the field."""
    created = created or datetime.now(timezone.utc)
    ident = inspection_id or _next_id(store, created.year)
    try:
        insp = Inspection(inspection_id=ident, created_utc=time_text(created), **fields)
    except ValidationError as exc:
        raise InspectionError(validation_message(exc, f"inspection {ident}")) from None
    registers.operator(insp.operator)  # must be in the operator register
    for ins in insp.instruments:
        registers.instrument(ins)
    if gazetteer is not None:
        try:
            gazetteer.get(insp.kato)
        except Exception as exc:  # the gazetteer's own error names the code
            raise InspectionError(f"inspection {ident}: field 'kato': {exc}") from None
    if store.query("SELECT 1 FROM inspections WHERE inspection_id = ?", (ident,)):
        raise InspectionError(f"inspection {ident} already exists in {store.label}")
    store.execute(
        "INSERT INTO inspections (inspection_id, created_utc, grounds, operator, kato, act_number, act_registered, "
        "record) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (ident, insp.created_utc, insp.grounds, insp.operator, insp.kato, insp.act_number, insp.act_registered,
         canonical_json(insp.model_dump())), f"recording inspection {ident}")
    return insp


def list_inspections(store) -> list[Inspection]:
    rows = store.query("SELECT record FROM inspections ORDER BY created_utc, inspection_id")
    return [Inspection.model_validate_json(r["record"]) for r in rows]


def get_inspection(store, inspection_id: str) -> Inspection:
    rows = store.query("SELECT record FROM inspections WHERE inspection_id = ?", (inspection_id,))
    if not rows:
        known = [i.inspection_id for i in list_inspections(store)]
        raise InspectionError(f"{store.label}: no inspection {inspection_id!r}"
                              + (f" (known: {', '.join(known[-10:])})" if known
                                 else " (create one with `qamtu inspection new`)"))
    return Inspection.model_validate_json(rows[0]["record"])


def linked_sessions(store, inspection_id: str) -> list[dict[str, Any]]:
    """Sessions holding samples or speed tests of the inspection, oldest first."""
    ids = {r["session_id"] for r in store.query(
        "SELECT DISTINCT session_id FROM samples WHERE inspection_id = ? UNION "
        "SELECT DISTINCT session_id FROM speedtests WHERE inspection_id = ?", (inspection_id, inspection_id))}
    ids |= {r["session_id"] for r in store.query("SELECT session_id FROM sessions WHERE inspection_id = ?",
                                                 (inspection_id,))}
    sessions = [store.session(sid) for sid in sorted(ids)]
    return sorted(sessions, key=lambda s: (s["started_utc"], s["session_id"]))


def summary(store, insp: Inspection) -> dict[str, Any]:
    """The record plus what the store holds for it (sessions, samples, speed tests)."""
    sessions = linked_sessions(store, insp.inspection_id)
    n_samples = store.query("SELECT COUNT(*) AS n FROM samples WHERE inspection_id = ?", (insp.inspection_id,))[0]["n"]
    n_tests = store.query("SELECT COUNT(*) AS n FROM speedtests WHERE inspection_id = ?", (insp.inspection_id,))[0]["n"]
    return {**insp.model_dump(), "sessions": [s["session_id"] for s in sessions], "samples": int(n_samples),
            "speedtests": int(n_tests),
            "synthetic": any(is_synthetic(s["meta"]) for s in sessions)}
