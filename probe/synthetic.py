"""Synthetic measurement campaigns whose truth is known by construction.

For tests, benchmarks and demonstrations of everything downstream of the store (classification,
maps, district summaries, findings): samples and speed tests are written through the normal
:class:`~qamtu.probe.store.SessionWriter`, hash-chained like real ones, but every session is marked
``synthetic`` in its metadata, every reading has driver ``synthetic`` and every speed test has
method version ``synthetic``, so generated data can never pass for measured data.

A :class:`Condition` says what one operator offers in one settlement (technology, mean RSRP in dBm,
mean download and upload in Mbit/s); :func:`write_campaign` writes ``samples_per_visit`` samples
scattered within ``scatter_m`` metres of the settlement point and ``speedtests_per_visit`` speed tests
for every (settlement, operator, visit day).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Optional

import numpy as np

from ..device.models import Cell, FixMode, GnssFix, ModemReading, Rat, RegState, Technology
from .samples import Context, ModemIdentity, Sample, SampleStatus, SettlementTag, SpeedTestRecord
from .speedtest.models import PhaseResult, SpeedTestResult
from .store import Store

OPERATORS = {"401-02": "Kcell", "401-01": "Beeline", "401-77": "Tele2"}
RAT_OF = {"GSM": Rat.GSM, "UMTS": Rat.UMTS, "LTE": Rat.LTE, "NR-NSA": Rat.LTE, "NR-SA": Rat.NR}


@dataclass(frozen=True)
class Condition:
    """What one operator offers in one settlement. ``technology`` "none" means no service."""

    technology: str  # none, GSM, UMTS, LTE, NR-NSA, NR-SA
    rsrp_dbm: float = -95.0
    download_mbps: Optional[float] = None
    upload_mbps: Optional[float] = None


@dataclass
class Campaign:
    """What to generate: settlements (KATO -> (lat, lon)), operators, visit days and conditions."""

    settlements: dict[str, tuple[float, float]]
    condition: Callable[[str, str], Condition]
    start: datetime = field(default_factory=lambda: datetime(2026, 6, 1, 5, 0, tzinfo=timezone.utc))
    days: int = 3
    operators: tuple[str, ...] = tuple(OPERATORS)
    samples_per_visit: int = 20
    speedtests_per_visit: int = 2
    scatter_m: float = 300.0
    inspector: str = "synthetic"
    inspection_id: Optional[str] = None
    seed: int = 61


def default_condition(kato: str, operator: str) -> Condition:
    """A deterministic mix: about 8 % no service, 10 % 2G only, 20 % 3G, 55 % 4G, 7 % 5G NSA."""
    h = int(hashlib.sha256(f"{kato}:{operator}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    if h < 0.08:
        return Condition("none")
    if h < 0.18:
        return Condition("GSM", rsrp_dbm=-100)
    if h < 0.38:
        return Condition("UMTS", rsrp_dbm=-98, download_mbps=0.6 + 3 * h, upload_mbps=0.4)
    if h < 0.93:
        return Condition("LTE", rsrp_dbm=-118 + 40 * h, download_mbps=1 + 30 * (h - 0.38), upload_mbps=2 + 5 * h)
    return Condition("NR-NSA", rsrp_dbm=-85, download_mbps=120.0, upload_mbps=30.0)


def _reading(t: datetime, port: str, op: str, cond: Condition, rsrp: float) -> ModemReading:
    mcc, mnc = op.split("-")
    if cond.technology == "none":
        return ModemReading(time_utc=t, port=port, driver="synthetic", technology=Technology.NONE,
                            registration=RegState.SEARCHING, notes=["synthetic sample: generated, not measured"])
    rat = RAT_OF[cond.technology]
    signal = {"rsrp_dbm": rsrp, "rsrq_db": -10.0, "sinr_db": round((rsrp + 120) / 3, 1)} if rat in (Rat.LTE, Rat.NR) \
        else {"rscp_dbm": rsrp, "ecio_db": -8.0} if rat == Rat.UMTS else {"rssi_dbm": rsrp + 30}
    cells = [Cell(rat=rat, mcc=mcc, mnc=mnc, **signal)]
    if cond.technology == "NR-NSA":
        cells.append(Cell(rat=Rat.NR, mcc=mcc, mnc=mnc, rsrp_dbm=rsrp + 3, sinr_db=15.0))
    return ModemReading(time_utc=t, port=port, driver="synthetic", technology=Technology(cond.technology),
                        registration=RegState.HOME, operator_mcc=mcc, operator_mnc=mnc, operator_name=OPERATORS.get(op),
                        cells=cells, notes=["synthetic sample: generated, not measured"])


def _speed_result(t: datetime, cond: Condition, rng: np.random.Generator) -> SpeedTestResult:
    result = SpeedTestResult(method="qamtu-http", method_version="synthetic", params={}, server="synthetic://",
                             started_at=t, finished_at=t + timedelta(seconds=16),
                             notes=["synthetic: generated, not measured"])
    if cond.download_mbps is None:
        from .speedtest.models import Failure, FailureCause

        result.failure = Failure(cause=FailureCause.SERVER_UNREACHABLE, message="synthetic: no data connection",
                                 phase="connect", error_type="Synthetic")
        return result.finalize()
    for direction, mean in (("download", cond.download_mbps), ("upload", cond.upload_mbps or 1.0)):
        mbps = float(mean * rng.lognormal(0, 0.25))
        phase = PhaseResult(direction=direction, streams=3, warmup_s=2, planned_s=7, measured_s=7,
                            bytes=int(mbps * 7e6 / 8), total_bytes=int(mbps * 9e6 / 8), mbps=mbps,
                            series_mbps=[mbps] * 7, clock="client")
        setattr(result, direction, phase)
    return result.finalize()


def write_campaign(store: Store, campaign: Campaign) -> dict[str, int]:
    """Write the campaign (one session per visit day) and return counts."""
    rng = np.random.default_rng(campaign.seed)
    counts = {"sessions": 0, "samples": 0, "speedtests": 0}
    with store.batch():
        _write_days(store, campaign, rng, counts)
    return counts


def _write_days(store: Store, campaign: Campaign, rng: np.random.Generator, counts: dict[str, int]) -> None:
    ctx = Context(inspector=campaign.inspector, inspection_id=campaign.inspection_id)
    for day in range(campaign.days):
        t = campaign.start + timedelta(days=day)
        w = store.begin_session(campaign.inspector, campaign.inspection_id, {"synthetic": True, "seed": campaign.seed},
                                time_utc=t)
        counts["sessions"] += 1
        for kato, (lat, lon) in sorted(campaign.settlements.items()):
            for op in campaign.operators:
                cond = campaign.condition(kato, op)
                port = f"synthetic:{op}"
                mcc, mnc = op.split("-")
                modem = ModemIdentity(port=port, driver="synthetic", model="synthetic", imei=f"00000000000{mnc:0>4}",
                                      sim_mcc=mcc, sim_mnc=mnc, sim_operator=OPERATORS.get(op))
                for _ in range(campaign.samples_per_visit):
                    t += timedelta(seconds=1)
                    d, a = campaign.scatter_m * math.sqrt(rng.random()), rng.random() * 2 * math.pi
                    plat = lat + d * math.cos(a) / 111_195
                    plon = lon + d * math.sin(a) / (111_195 * math.cos(math.radians(lat)))
                    fix = GnssFix(time_utc=t, lat_deg=plat, lon_deg=plon, mode=FixMode.FIX_3D, satellites=9, hdop=0.9,
                                  source="synthetic")
                    tag = SettlementTag(kato=kato, distance_m=d, reason="tagged", rule_version="synthetic")
                    reading = _reading(t, port, op, cond, float(cond.rsrp_dbm + rng.normal(0, 4)))
                    status = SampleStatus.NO_SERVICE if cond.technology == "none" else SampleStatus.OK
                    w.sample(Sample(status=status, modem=modem, reading=reading, fix=fix, settlement=tag, context=ctx),
                             t)
                    counts["samples"] += 1
                for _ in range(campaign.speedtests_per_visit):
                    t += timedelta(seconds=20)
                    fix = GnssFix(time_utc=t, lat_deg=lat, lon_deg=lon, mode=FixMode.FIX_3D, source="synthetic")
                    rec = SpeedTestRecord(trigger="settlement", modem=modem,
                                          technology=None if cond.technology == "none" else cond.technology,
                                          operator_mcc=mcc, operator_mnc=mnc, fix=fix,
                                          settlement=SettlementTag(kato=kato, distance_m=0.0, reason="tagged",
                                                                   rule_version="synthetic"),
                                          context=ctx, result=_speed_result(t, cond, rng).model_dump(mode="json"))
                    w.speedtest(rec, t)
                    counts["speedtests"] += 1
        w.close({"synthetic": True}, time_utc=t)


def settlements_of(gazetteer, katos: Iterable[str] | None = None,
                   limit: int | None = None) -> dict[str, tuple[float, float]]:
    """KATO -> (lat, lon) of located populated settlements (all, the given ones, or the first ``limit``)."""
    wanted = set(katos) if katos is not None else None
    out = {}
    for s in gazetteer:
        if s.located and s.populated and (wanted is None or s.kato in wanted):
            out[s.kato] = (s.lat, s.lon)
    if limit is not None:
        out = dict(sorted(out.items())[:limit])
    return out
