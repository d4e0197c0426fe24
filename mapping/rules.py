"""Versioned coverage rule sets (``mapping/rules/*.toml``): loading and checking.

A rule set holds every regulatory or evidential value the classification uses (thresholds,
minimum counts, the period) with its source; code holds none of them. Every output of the
classification names the rule set's ``version``. A malformed file raises :class:`RuleSetError`
naming the file and the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .. import load_model, package_path
from .errors import MappingError

DEFAULT_RULES = "kz-coverage-2026.1.toml"
TECHNOLOGIES = ("GSM", "UMTS", "LTE", "NR-NSA", "NR-SA")


class RuleSetError(MappingError):
    """A coverage rule-set file is missing or malformed; the message names the file and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    days: int = Field(gt=0)
    source: str = Field(min_length=1)


class SpeedtestEvidence(_Strict):
    exclude_consumer_comparable_only: bool = True
    all_failed_means_none: bool = True
    source: str = Field(min_length=1)


class Evidence(_Strict):
    min_samples: int = Field(ge=1)
    min_speedtests: int = Field(ge=1)
    min_days: int = Field(ge=1)
    source: str = Field(min_length=1)
    speedtests: SpeedtestEvidence


class SignalRule(_Strict):
    metric: str = Field(pattern=r"^(rsrp_dbm|rscp_dbm|rssi_dbm|nr_rsrp_dbm)$")
    coverage_min_dbm: Optional[float] = Field(None, ge=-160, le=-20)
    good_min_dbm: Optional[float] = Field(None, ge=-160, le=-20)
    source: str = Field(min_length=1)
    uncertainty: Optional[str] = None


class Mobile(_Strict):
    levels: dict[str, int]
    status_names: list[str] = Field(min_length=2)
    min_share: float = Field(gt=0, le=1)
    min_share_source: str = Field(min_length=1)
    ignore_status: list[str] = Field(default_factory=list)
    signal: dict[str, SignalRule]

    @model_validator(mode="after")
    def _consistent(self) -> "Mobile":
        for tech in TECHNOLOGIES:
            if tech not in self.levels:
                raise ValueError(f"levels: technology {tech!r} has no level")
            if tech not in self.signal:
                raise ValueError(f"signal: technology {tech!r} has no [mobile.signal.{tech}] table")
        if self.levels.get("none") != 0:
            raise ValueError("levels: 'none' must be level 0")
        top = max(self.levels.values())
        if len(self.status_names) != top + 1:
            raise ValueError(f"status_names: needs {top + 1} names for levels 0..{top}, has {len(self.status_names)}")
        return self


class Internet(_Strict):
    max_share_below: float = Field(ge=0, lt=1)
    max_share_below_source: str = Field(min_length=1)
    min_level: int = Field(ge=0)
    min_level_source: str = Field(min_length=1)
    uncertainty: Optional[str] = None
    download_min_mbps: dict[str, float]
    sources: dict[str, str]

    @field_validator("download_min_mbps")
    @classmethod
    def _known(cls, v: dict[str, float]) -> dict[str, float]:
        for tech, mbps in v.items():
            if tech not in TECHNOLOGIES:
                raise ValueError(f"unknown technology {tech!r} (use one of {', '.join(TECHNOLOGIES)})")
            if not mbps > 0:
                raise ValueError(f"{tech}: threshold must be > 0 Mbit/s")
        return v

    @model_validator(mode="after")
    def _sourced(self) -> "Internet":
        missing = [t for t in self.download_min_mbps if not self.sources.get(t, "").strip()]
        if missing:
            raise ValueError(f"sources: no source for {', '.join(missing)}")
        return self


class BestOf(_Strict):
    expected_operators: list[str]
    source: str = Field(min_length=1)

    @field_validator("expected_operators")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        for code in v:
            mcc, _, mnc = code.partition("-")
            if not (mcc.isdigit() and mnc.isdigit() and len(mcc) == 3 and 2 <= len(mnc) <= 3):
                raise ValueError(f"operator {code!r} must be MCC-MNC such as 401-02")
        return v


class Aggregation(_Strict):
    h3_resolution: int = Field(ge=0, le=15)
    source: str = Field(min_length=1)


class RuleSet(_Strict):
    """One coverage rule set; ``version`` is named by every output built with it."""

    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    valid_from: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    title_en: str
    title_kk: str
    title_ru: str
    status: str
    window: Window
    evidence: Evidence
    mobile: Mobile
    internet: Internet
    best_of: BestOf
    aggregation: Aggregation
    path: Optional[str] = Field(None, description="file the rule set was read from (set by load_rules)")

    def status_name(self, level: int) -> str:
        return self.mobile.status_names[level]

    def describe(self) -> dict:
        """Short identification for outputs: id, version, valid_from, file name."""
        return {"id": self.id, "version": self.version, "valid_from": self.valid_from,
                "file": Path(self.path).name if self.path else None, "status": self.status}


def default_rules_path() -> Path:
    return package_path("mapping", "rules", DEFAULT_RULES)


def load_rules(path: Path | str | None = None) -> RuleSet:
    """Read and check a rule set (default: the bundled ``kz-coverage-2026.1.toml``)."""
    p = Path(path) if path is not None else default_rules_path()
    return load_model(p, RuleSet, RuleSetError, "rule-set file", extra={"path": str(p)})
