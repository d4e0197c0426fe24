"""``qamtu demo``: a simulated field day over real settlements, end to end, with no hardware.

Three simulated modems (Kcell on a Quectel EC25, Beeline on a Huawei ME909, Tele2 on a SIMCom
SIM7600) and a simulated NMEA receiver serve real ptys and follow the bundled route through
villages of Turkistan region, at accelerated time. The real capture loop records them into a new
store; speed tests run the real ``qamtu-http`` client against a real ``qamtu server`` on loopback,
each operator through a :class:`~qamtu.device.sim_link.SimLink` whose rate follows that operator's
simulated radio (no service = no connection). Then every output the toolkit has is produced from
the store, and the paths are printed.

This lives in ``reports`` because it is the one package allowed to use all the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from rich.console import Console

from ..device.scenario import Route, SimClock, load_route
from ..device.sim_link import SimLink, radio_rate
from ..device.simulator import SimGnss, SimModem
from ..mapping.gazetteer import Gazetteer
from ..probe.capture import Capture, CaptureConfig
from ..probe.clock import ScaledClock
from ..probe.store import Store

#: operator (MCC-MNC) -> simulated modem profile
DEMO_MODEMS = {"401-02": "quectel-ec25", "401-01": "huawei-me909", "401-77": "simcom-sim7600"}
#: Short measurement phases: the demo runs at accelerated time (recorded with every result).
DEMO_SPEEDTEST_PARAMS = {"warmup_s": 0.5, "download_s": 2.0, "upload_s": 2.0, "tail_s": 0.2, "ping_count": 10}


@dataclass
class DemoResult:
    """What the demo wrote."""

    out: Path
    db: Path
    summary: dict[str, Any]
    outputs: dict[str, Path] = field(default_factory=dict)


def demo_route() -> Route:
    """The bundled route, with the Tele2 modem unplugged for a minute (so the demo shows "modem lost")."""
    from ..device.scenario import Event as ScenarioEvent

    route = load_route()
    route.events.append(ScenarioEvent(kind="vanish", operator="401-77", from_s=1200.0, to_s=1260.0,
                                      note="demo: the Tele2 modem is unplugged for 60 s"))
    return route


def _rate_for(route: Route, clock: SimClock, operator: str):
    def rate():
        s = route.signal_at(clock.now_s(), operator)
        return radio_rate(s.tech, s.sinr_db)
    return rate


def record_field_day(db: Path, *, speed: float = 60.0, route: Route | None = None, inspector: str = "Demo inspector",
                     inspection_id: Optional[str] = None, speedtest_every_s: float = 600.0,
                     gazetteer: Gazetteer | None = None,
                     on_tick: Callable | None = None, link_dir: Path | None = None) -> dict[str, Any]:
    """Drive the route with simulated devices and record it into ``db``; returns the session summary."""
    from ..probe.speedtest import ServerThread, run_speedtest

    route = route or demo_route()
    clock = SimClock(speed=speed, start_utc=route.start_utc)
    devices, links = [], {}
    with ServerThread() as server, Store.open(db) as store:
        try:
            for op, profile in DEMO_MODEMS.items():
                modem = SimModem(profile, route, operator=op, clock=clock, name=f"modem-{op}",
                                 link_dir=link_dir).start()
                devices.append(modem)
                links[modem.path] = SimLink(_rate_for(route, clock, op), server.host, server.port).start()
            gnss = SimGnss(route, clock=clock, link_dir=link_dir).start()
            devices.append(gnss)

            def speedtest(port: str, interface: Optional[str]):
                return run_speedtest("qamtu-http", links[port].url, None, DEMO_SPEEDTEST_PARAMS)

            config = CaptureConfig(ports=[d.path for d in devices[:-1]], gnss=gnss.path, inspector=inspector,
                                   inspection_id=inspection_id, duration_s=route.duration_s,
                                   speedtest_on_entry=True, speedtest_every_s=speedtest_every_s,
                                   meta={"simulated": True, "route": route.name, "speed": speed,
                                         "speedtest_params": DEMO_SPEEDTEST_PARAMS})
            cap = Capture(store, config, gazetteer=gazetteer, clock=ScaledClock(clock), speedtest=speedtest)
            cap.start()
            return cap.run(on_tick=on_tick)
        finally:
            for link in links.values():
                link.stop()
            for d in devices:
                d.stop()


def run_demo(out: Path, *, speed: float = 90.0, console: Console | None = None) -> DemoResult:
    """The whole demo into folder ``out`` (replaced if it holds an earlier demo)."""
    console = console or Console()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "qamtu-demo.db"
    for stale in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if stale.exists():
            stale.unlink()
    route = demo_route()
    gazetteer = Gazetteer.load()
    t0 = time.monotonic()
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
                  TimeRemainingColumn(), console=console) as progress:
        task = progress.add_task(f"driving '{route.name}' at {speed:g}x", total=route.duration_s, info="")

        def tick(state) -> None:
            progress.update(task, completed=min(route.duration_s, (time.monotonic() - t0) * speed),
                            info=f"{state.samples} samples, {state.speedtests} speed tests, "
                                 f"{state.no_service} no service")

        summary = record_field_day(db, speed=speed, route=route, gazetteer=gazetteer, on_tick=tick)
        progress.update(task, completed=route.duration_s)
    result = DemoResult(out, db, summary, {"database": db})
    result.outputs.update(produce_outputs(db, out, gazetteer, console))
    return result


def produce_outputs(db: Path, out: Path, gazetteer: Gazetteer, console: Console) -> dict[str, Path]:
    """Every output the toolkit makes from a store: exports, inspection documents and bundle, coverage
    map and district summary (more appear here as capabilities land)."""
    from ..probe.export import export_session
    from .coverage import coverage_map_from_store
    from .districts import district_report_from_store
    from .inspection_demo import run_demo_inspection

    outputs: dict[str, Path] = {}
    with Store.open(db) as store:
        sid = store.sessions()[-1]["session_id"]  # the field day (the oldest session)
        for fmt in ("gpkg", "csv"):
            path = out / f"field-day.{fmt}"
            export_session(store, sid, path, fmt)
            outputs[f"field day export ({fmt})"] = path
    with console.status("inspection: findings, documents (kk/ru), signed evidence bundle…"):
        inspection = run_demo_inspection(db, out / "inspection", gazetteer=gazetteer)
    for key in ("findings", "bundle", "verify"):
        outputs[f"inspection {key}"] = Path(inspection[key])
    outputs["inspection office keys (demo)"] = Path(inspection["registers"]) / "office_keys.toml"
    for name, path in sorted(inspection.items()):
        if str(name).endswith(".pdf"):
            outputs[f"inspection {name}"] = Path(path)
    with console.status("regional store: the laptop's store merged into an office store (db push)…"):
        outputs.update(merge_into_office(db, out / "office-merged.db", out / "db-push.json"))
    with console.status("coverage map and district summary…"):
        coverage_map_from_store(db, out / "coverage-map.html", offline=True, exports=[out / "coverage.gpkg"])
        outputs["coverage map (offline HTML)"] = out / "coverage-map.html"
        outputs["coverage layers (GeoPackage)"] = out / "coverage.gpkg"
        district_report_from_store(db, out / "district-summary.xlsx", png_dir=out / "districts")
        outputs["district summary (XLSX)"] = out / "district-summary.xlsx"
        outputs["district maps (PNG)"] = out / "districts"
    with console.status("five-year problem map (demo survey and plans, 2023-2027)…"):
        from .problems import write_demo_problems

        five_year_db = out / "five-year-demo.db"
        for stale in (five_year_db, five_year_db.with_name(five_year_db.name + "-wal"),
                      five_year_db.with_name(five_year_db.name + "-shm")):
            if stale.exists():
                stale.unlink()
        for name, path in write_demo_problems(five_year_db, out / "five-year", gazetteer).items():
            outputs[f"five-year {name}"] = Path(path)
    return outputs


def merge_into_office(laptop: Path, office: Path, report: Path) -> dict[str, Path]:
    """What the regional office does with an inspector's store: ``db push`` it into the office store
    (``office``, made anew), sessions and, through the reports package's merge step, the inspection
    records; then push again, which adds nothing. Writes both push reports to ``report`` (JSON)."""
    import json

    from ..probe.push import push
    from ..probe.store import sample_store
    from ..safeio import write_text

    for stale in (office, office.with_name(office.name + "-wal"), office.with_name(office.name + "-shm")):
        stale.unlink(missing_ok=True)
    with sample_store(laptop, read_only=True) as source, sample_store(office, create=True) as target:
        first = push(source, target).as_dict()
        again = push(source, target).as_dict()
    write_text(report, json.dumps({"first": first, "again": again}, ensure_ascii=False, indent=2) + "\n")
    return {"regional store (db push)": office, "db push report (JSON)": report}
