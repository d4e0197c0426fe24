"""The ``qamtu`` command: a thin typer layer over the four packages.

Each command parses its options, calls one library function and prints the result, as a rich
table for people or as JSON with ``--json``. Nothing here holds logic that a test of the library
could not reach. Three mechanisms hold for every command (new ones included):

* **Errors.** The root group (:class:`QamtuGroup`) turns any :class:`qamtu.QamtuError` raised by a
  command into one line ``error (qamtu <command>): <message>`` on stderr and exit status 1, inside
  the app, so ``typer.testing.CliRunner`` sees what users see. The prefix names the command from
  the registered command names, never from argv; database passwords are redacted. Anything else
  is a bug and keeps its traceback.
* **Choices.** An option whose value comes from a registry is declared with
  :func:`choice_option` and a :class:`Choice` (``DRIVER``, ``SIM_PROFILE``, ``EXPORT_FORMAT``, ...):
  the value is checked while the command line is parsed, before anything is opened or written,
  the error lists the valid values, and the help lists them from the registry (filled in lazily,
  so start-up does not import every registry).
* **Printing data.** Every value that comes from a store, a file or the command line goes through
  :func:`safe` (or :func:`cells` for table rows) before rich renders it: markup is escaped and
  terminal control characters are shown as ``\\xNN``; a database location goes through
  :func:`shown_db` (password redacted).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Callable, Optional, Sequence, cast

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from . import QamtuError, __version__, package_path
from .textsafe import printable, redact_secrets


# --------------------------------------------------------------------------- printing data safely
def safe(value: Any) -> str:
    """Every data value rich renders goes through it: markup escaped, control characters shown."""
    return printable(value, markup=True, keep_lines=True)


def cells(*values: Any) -> list[str]:
    """A table row of data values, each through :func:`safe`."""
    return [safe(v) for v in values]


def shown_db(db: Any) -> str:
    """How a ``--db`` value is printed: password redacted, then :func:`safe`."""
    return safe(redact_secrets(db))


# --------------------------------------------------------------------------- choices from registries
class Choice:
    """The values of an option taken from a registry by name.

    ``names`` is called lazily (when the option is parsed or its help shown), so listing a registry
    costs nothing at start-up. ``patterns`` are other accepted forms, shown in the help and checked
    by prefix (e.g. ``transcript:FILE``).
    """

    def __init__(self, key: str, names: Callable[[], Sequence[str]], patterns: Sequence[str] = ()):
        self.key = key
        self.names = names
        self.patterns = tuple(patterns)
        self.placeholder = f"{{choices:{key}}}"
        CHOICES[key] = self

    def valid(self) -> list[str]:
        return [*self.names(), *self.patterns]

    def listing(self) -> str:
        return ", ".join(self.valid())

    def check_one(self, value: str) -> str:
        prefixes = tuple(p.split(":", 1)[0] + ":" for p in self.patterns if ":" in p)
        if value in self.names() or (prefixes and value.startswith(prefixes)):
            return value
        raise typer.BadParameter(f"{value!r} is not one of: {self.listing()}")

    def callback(self, value: Any) -> Any:
        """Typer callback: check a value (or each value of a list; ``None`` passes)."""
        if value is None:
            return value
        if isinstance(value, (list, tuple)):
            return [self.check_one(v) for v in value]
        return self.check_one(value)


CHOICES: dict[str, Choice] = {}


def choice_option(default: Any, *decls: str, choice: Choice, help: str, **kwargs: Any) -> Any:
    """A typer option whose value must be one of ``choice``'s registry (checked at parse time)."""
    return typer.Option(default, *decls, help=f"{help} One of: {choice.placeholder}.", callback=choice.callback,
                        **kwargs)


def _driver_names() -> list[str]:
    from .device.drivers import driver_names

    return driver_names()


def _profile_names() -> list[str]:
    from .device.simulator import profile_names

    return profile_names()


def _method_names() -> list[str]:
    from .probe.speedtest import method_names

    return method_names()


def _exporter_names() -> list[str]:
    from .mapping.writers import exporter_names

    return exporter_names()


def _bundled_rule_sets() -> list[str]:
    return sorted(p.stem for p in package_path("mapping", "rules").glob("*.toml"))


def _live_languages() -> list[str]:
    from .probe.live import LANGUAGES

    return list(LANGUAGES)


def _document_languages() -> list[str]:
    from .reports.documents import LANGS

    return list(LANGS)


def _binding_modes() -> list[str]:
    from typing import get_args

    from .probe.speedtest.binding import BindingMode

    return list(get_args(BindingMode))


def _grounds() -> list[str]:
    from typing import get_args

    from .reports.inspections import Inspection

    return list(get_args(Inspection.model_fields["grounds"].annotation))


DRIVER = Choice("driver", _driver_names)
SIM_PROFILE = Choice("sim-profile", _profile_names, patterns=("transcript:FILE",))
EXPORT_FORMAT = Choice("export-format", _exporter_names)
SPEEDTEST_METHOD = Choice("speedtest-method", _method_names)
BINDING = Choice("binding", _binding_modes)
LIVE_LANGUAGE = Choice("live-language", _live_languages)
DOCUMENT_LANGUAGE = Choice("document-language", _document_languages)
GROUNDS = Choice("grounds", _grounds)
TEMPLATE_KIND = Choice("template-kind", lambda: ["plan", "survey"])


def _office_roles() -> list[str]:
    from .office.auth import ROLES

    return list(ROLES)


def _case_link_roles() -> list[str]:
    from .cases.records import LINK_ROLES

    return list(LINK_ROLES)


def _complaint_channels() -> list[str]:
    from .cases.models import CHANNELS

    return list(CHANNELS)


def _complaint_services() -> list[str]:
    from .cases.models import SERVICES

    return list(SERVICES)


def _case_states() -> list[str]:
    from .cases.states import STATES

    return list(STATES)


OFFICE_ROLE = Choice("office-role", _office_roles)
COMPLAINT_CHANNEL = Choice("complaint-channel", _complaint_channels)
COMPLAINT_SERVICE = Choice("complaint-service", _complaint_services)
CASE_STATE = Choice("case-state", _case_states)
CASE_LINK_ROLE = Choice("case-link-role", _case_link_roles)


def _fill_choice_help(command: Any) -> None:
    """Replace the ``{choices:KEY}`` placeholders in the help of ``command`` and its sub-commands."""
    for param in getattr(command, "params", ()):
        text = getattr(param, "help", None)
        if text and "{choices:" in text:
            for key, choice in CHOICES.items():
                if choice.placeholder in text:
                    text = text.replace(choice.placeholder, choice.listing())
            param.help = text
    for sub in getattr(command, "commands", {}).values():
        _fill_choice_help(sub)


# --------------------------------------------------------------------------- the app and its errors
err_console = Console(stderr=True)


def report_error(command: str, exc: QamtuError) -> None:
    """Print ``error (COMMAND): MESSAGE`` on stderr: markup and control characters escaped, passwords redacted."""
    err_console.print(f"[bold red]error[/] ({safe(command)}): {safe(redact_secrets(exc))}", highlight=False,
                      soft_wrap=True)


class QamtuGroup(TyperGroup):
    """The root command group: Qamtu errors become one line and exit 1 inside the app (see the module doc)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta["qamtu.args"] = list(args)
        return super().parse_args(ctx, args)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        _fill_choice_help(command)
        return command

    def command_path(self, ctx: Any) -> str:
        """``qamtu`` and the registered command names given on the command line (no values)."""
        words: list[str] = ["qamtu"]
        group: Any = self           # a TyperGroup, then whichever command the tokens name
        for token in ctx.meta.get("qamtu.args", []):
            sub = group.commands.get(token) if isinstance(group, TyperGroup) else None
            if sub is None:
                break
            words.append(token)
            group = sub
        return " ".join(words)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except QamtuError as exc:
            report_error(self.command_path(ctx), exc)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="qamtu",
    cls=QamtuGroup,
    help="Qamtu: measure mobile and internet quality in the field; build maps and evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()

JsonOpt = typer.Option(False, "--json", help="Print the result as JSON on stdout.")


def emit_json(data: Any) -> None:
    """Print ``data`` as UTF-8 JSON (Kazakh and Russian letters kept, not escaped)."""
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"qamtu {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True,
                                 callback=_print_version),
) -> None:
    """Qamtu: measure mobile and internet quality in the field; build maps and evidence."""


# --------------------------------------------------------------------------- settlements
settlements_app = typer.Typer(help="The settlement gazetteer: by default the inspection's territory (Shymkent 79, "
                              "Zhambyl 31, Turkistan 61, Kyzylorda 43).", no_args_is_help=True)
app.add_typer(settlements_app, name="settlements")

GazetteerOpt = typer.Option(None, "--gazetteer", help="Settlements GeoJSON (default: the bundled settlements.geojson).")
RegionOpt = typer.Option([], "--region", help="Only this region: KATO prefix (61) or name (Turkistan, Жамбыл); "
                                              "repeatable or comma-separated. Default: every region of the gazetteer.")


def _gazetteer(path: Optional[Path], region: Optional[list[str]] = None):
    from .mapping.gazetteer import Gazetteer

    return Gazetteer.load(path).select(region or None)


@settlements_app.command("build")
def settlements_build(
    sources: Optional[Path] = typer.Option(None, "--sources",
                                           help="Folder of source files (default: the bundled data/sources)."),
    out: Optional[Path] = typer.Option(None, "--out",
                                       help="Output GeoJSON (default: settlements.geojson of the package)."),
    regions: Optional[str] = typer.Option(None, "--regions", help="Comma-separated KATO region prefixes or names, or "
                                          "'all' (the whole country: needs national sources, see data/sources/"
                                          "SOURCES.md). Default: 79,31,61,43, the inspection's territory."),
    as_json: bool = JsonOpt,
) -> None:
    """Rebuild settlements.geojson, district and region polygons from KATO, OSM, GeoNames, geokz (same bytes every run).

    Example: qamtu settlements build --regions all --sources /tmp/kz-sources --out /tmp/kz/settlements.geojson
    """
    from .mapping.build import build_settlements

    result = build_settlements(sources, out, regions=regions)
    if as_json:
        emit_json(result)
    else:
        console.print(f"wrote {result['features']} settlements of regions {', '.join(result['regions'])} to "
                      f"{result['path']} (sha256 {result['sha256'][:16]}…); cities, towns and villages located: "
                      f"{result['populated_with_coordinates']} of {result['populated']}", highlight=False)
        console.print(f"wrote {result['districts']} district polygons to {result['districts_path']} "
                      f"({result['districts_approximate']} approximate)", highlight=False)
        if result["units_without_polygon"]:
            console.print(f"units without a polygon: {', '.join(result['units_without_polygon'])}", highlight=False)


@settlements_app.command("stats")
def settlements_stats(
    gazetteer: Optional[Path] = GazetteerOpt,
    all_kinds: bool = typer.Option(False, "--all-kinds", help="Count railway stations and other objects too."),
    region: list[str] = RegionOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Per region and district: settlements total, located, without coordinates, located share (%)."""
    from .mapping.gazetteer import district_stats

    rows = district_stats(_gazetteer(gazetteer, region), populated_only=not all_kinds)
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Settlements by region and district" + ("" if all_kinds else " (cities, towns, villages)"))
    for header in ("KATO", "Kazakh", "Russian", "total", "located", "no coords", "located %"):
        numeric = header in ("total", "located", "no coords", "located %")
        table.add_column(header, justify="right" if numeric else "left")
    for i, r in enumerate(rows):
        bold = r["level"] != "district"
        table.add_row(*cells(r["district_kato"], r["district_name_kk"], r["district_name_ru"],
                             r["total"], r["with_coords"], r["without_coords"], f"{r['located_pct']:.1f}"),
                      style="bold" if bold else None,
                      end_section=bold or (i + 1 < len(rows) and rows[i + 1]["level"] == "total"))
    console.print(table)


@settlements_app.command("search")
def settlements_search(
    text: str = typer.Argument(..., help="Name in Kazakh, Russian or Latin letters; case and Kazakh/Russian "
                                         "look-alikes ignored."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many results."),
    region: list[str] = RegionOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Find settlements by name in every region (or --region); same-name places show their region and district."""
    found = _gazetteer(gazetteer, region).search(text, limit=limit)
    if as_json:
        emit_json([s.as_dict() for s in found])
        return
    if not found:
        console.print(f"no settlement matches {safe(repr(text))}")
        raise typer.Exit(1)
    table = Table()
    for col in ("kato", "name_kk", "name_ru", "name_latin", "kind", "region", "district", "lat", "lon"):
        table.add_column(col)
    for s in found:
        table.add_row(*cells(s.kato, s.name_kk, s.name_ru, s.name_latin, s.kind, s.region_name_ru, s.district_name_ru,
                             None if s.lat is None else f"{s.lat:.5f}", None if s.lon is None else f"{s.lon:.5f}"))
    console.print(table)


@settlements_app.command("show")
def settlements_show(
    kato: str = typer.Argument(..., help="9-digit KATO code."),
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """All properties of one settlement."""
    s = _gazetteer(gazetteer).get(kato)
    data = s.as_dict()
    if as_json:
        emit_json(data)
        return
    console.print(_kv_table(data))


@settlements_app.command("qa")
def settlements_qa(
    out: Optional[Path] = typer.Option(None, "--out",
                                       help="Write the Markdown report here (e.g. docs/gazetteer-qa.md)."),
    limit_km: float = typer.Option(30.0, "--limit-km",
                                   help="List points further than this from their okrug's median (km)."),
    region: list[str] = RegionOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Points to check in the field, per region: far from their rural okrug, outside their unit's polygon, unlocated."""
    from .mapping.qa import okrug_outliers, qa_markdown

    g = _gazetteer(gazetteer, region)
    if as_json:
        emit_json(okrug_outliers(g, limit_km))
        return
    text = qa_markdown(g, limit_km)
    if out:
        from .safeio import write_text

        write_text(out, text, what="QA page")
        console.print(f"wrote {safe(out)}", highlight=False)
    else:
        console.print(text, markup=False, highlight=False)


@settlements_app.command("locate")
def settlements_locate(
    lat: float = typer.Argument(..., help="Latitude, WGS84 degrees."),
    lon: float = typer.Argument(..., help="Longitude, WGS84 degrees."),
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The settlement a point lies in (nearest within its reach), with the distance in metres."""
    from .mapping.tagging import Tagger

    g = _gazetteer(gazetteer)
    tag = Tagger(g).tag_one(lat, lon)
    data = tag.as_dict(g)
    if as_json:
        emit_json(data)
        return
    if tag.kato is None:
        console.print(f"no settlement: {safe(tag.reason.text)}")
        raise typer.Exit(1)
    console.print(f"{safe(data['kato'])} {safe(data['name_kk'])} / {safe(data['name_ru'])} "
                  f"({safe(data['district_name_ru'])}, {safe(data['region_name_ru'])}) — "
                  f"{data['distance_m']:.0f} m (reach {data['reach_m']:.0f} m)", highlight=False)


# --------------------------------------------------------------------------- sessions
sessions_app = typer.Typer(help="Recorded probe sessions in a store: list, show, check, export.", no_args_is_help=True)
app.add_typer(sessions_app, name="sessions")

DbOpt = typer.Option("qamtu.db", "--db", envvar="QAMTU_DB",
                     help="Sample store: a SQLite file, or postgresql://user@host/db for a regional server.")


def _store(db, must_exist: bool = True):
    """Open the store named by --db: read-only when it must exist (read and verify commands never write
    or migrate), else for writing (a new file is created and migrated)."""
    from .probe.store import SampleStore
    from .store import open_store

    return SampleStore(open_store(db, create=not must_exist, read_only=must_exist))


@sessions_app.command("list")
def sessions_list(db: str = DbOpt, as_json: bool = JsonOpt) -> None:
    """Every session with its counts of samples, no-service samples and speed tests."""
    with _store(db) as store:
        rows = store.sessions()
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"Sessions in {shown_db(db)}")
    for header in ("session", "started UTC", "status", "inspector", "inspection", "samples", "no svc", "lost", "tests"):
        table.add_column(header, no_wrap=header in ("session", "started UTC"))
    for r in rows:
        table.add_row(*cells(r["session_id"][:8], r["started_utc"][:16].replace("T", " "), r["status"], r["inspector"],
                             r["inspection_id"], r["samples"], r["no_service"], r["modem_lost"], r["speedtests"]))
    console.print(table)


@sessions_app.command("show")
def sessions_show(session: str = typer.Argument(..., help="Session id (a unique prefix is enough)."),
                  db: str = DbOpt, as_json: bool = JsonOpt) -> None:
    """One session: who, when, counts, and per-operator signal medians."""
    with _store(db) as store:
        info = store.session(session)
        df = store.samples_frame(session=info["session_id"])
    per_op = []
    if len(df):
        df["operator"] = df["operator_mcc"].fillna("?") + "-" + df["operator_mnc"].fillna("?")
        for op, g in df.groupby("operator"):
            per_op.append({"operator": op, "samples": int(len(g)),
                           "no_service": int((g["status"] == "no_service").sum()),
                           "median_rsrp_dbm": None if g["rsrp_dbm"].isna().all() else float(g["rsrp_dbm"].median()),
                           "settlements": int(g["kato"].nunique())})
    info["operators"] = per_op
    if as_json:
        emit_json(info)
        return
    console.print(_kv_table({k: info[k] for k in ("started_utc", "ended_utc", "status", "inspector", "inspection_id",
                                                   "host", "qamtu_version", "samples", "no_service", "modem_lost",
                                                   "speedtests", "records")}, title=f"Session {info['session_id']}"))
    ops = Table(title="Per operator")
    for h in ("operator", "samples", "no_service", "median_rsrp_dbm", "settlements"):
        ops.add_column(h)
    for r in per_op:
        ops.add_row(*cells(*(r[h] for h in ("operator", "samples", "no_service", "median_rsrp_dbm", "settlements"))))
    console.print(ops)


@sessions_app.command("check")
def sessions_check(session: Optional[str] = typer.Argument(None, help="Session id or prefix (default: all)."),
                   db: str = DbOpt, as_json: bool = JsonOpt) -> None:
    """Verify hash chains and projections; report the first broken link. Exit 1 if any is broken."""
    with _store(db) as store:
        reports = [r.as_dict() for r in store.verify(session)]
    if as_json:
        emit_json(reports)
    else:
        for r in reports:
            if r["ok"]:
                console.print(f"[green]ok[/] {safe(r['session_id'])}: {r['records']} records, "
                              f"head {safe(r['head_hash'][:16])}…")
            else:
                console.print(f"[red]BROKEN[/] {safe(r['session_id'])} at record {r['broken_at']} "
                              f"({safe(r['record_id'])}): {safe(r['reason'])}")
    if not all(r["ok"] for r in reports):
        raise typer.Exit(1)


@sessions_app.command("export")
def sessions_export(session: str = typer.Argument(..., help="Session id or prefix."),
                    out: Path = typer.Option(..., "--out", help="Output file."),
                    fmt: str = choice_option("gpkg", "--format", choice=EXPORT_FORMAT,
                                             help="File format (gpkg: layers samples, speedtests, events; the others: "
                                                  "samples)."),
                    db: str = DbOpt, as_json: bool = JsonOpt) -> None:
    """Export a session for GIS staff or spreadsheets."""
    from .probe.export import export_session

    with _store(db) as store:
        result = export_session(store, session, out, fmt)
    if as_json:
        emit_json(result)
    else:
        console.print(f"wrote {safe(result['path'])} ({', '.join(f'{k}: {v}' for k, v in result['rows'].items())})",
                      highlight=False)


# --------------------------------------------------------------------------- db
db_app = typer.Typer(help="Stores: merge inspectors' files into the regional database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("push")
def db_push(
    source: str = typer.Option(..., "--from", help="Source store (an inspector's SQLite file, or a URL)."),
    target: str = typer.Option(..., "--to", help="Target store: postgresql://user@host/db or a SQLite file."),
    workers: int = typer.Option(2, "--workers", min=1, help="Sessions pushed at once, each in its own process."),
    as_json: bool = JsonOpt,
) -> None:
    """Copy every session whose hash chain is whole; skip what the target has, reject what differs.

    Idempotent and resumable. Exit 1 if anything was rejected.
    """
    from rich.progress import Progress

    from .probe.push import push

    with _store(source) as src, _store(target, must_exist=False) as dst:
        with Progress(console=err_console, transient=True, disable=as_json) as progress:
            task = progress.add_task("pushing", total=None)
            report = push(src, dst, workers=workers, progress=lambda sid, done, total: progress.update(
                task, description=f"session {sid[:8]}", completed=done, total=total))
    data = report.as_dict()
    if as_json:
        emit_json(data)
    else:
        table = Table(title=f"push {shown_db(data['source'])} -> {shown_db(data['target'])}")
        for h in ("session", "status", "records", "added", "skipped", "rejected", "reason"):
            table.add_column(h)
        for s in data["sessions"]:
            table.add_row(*cells(s["session_id"][:8], s["status"], s["records"], s["added"], s["skipped"],
                                 s["rejected"], s["reason"]))
        console.print(table)
        console.print(f"added {data['added']}, skipped {data['skipped']}, rejected {data['rejected']} records")
        for name, m in data["merged"].items():
            console.print(f"{name}: added {m['added']}, skipped {m['skipped']}, rejected {len(m['rejected'])}")
            for r in m["rejected"]:
                key = ", ".join(f"{k} {v}" for k, v in r.items() if k != "reason")
                console.print(f"  rejected {safe(key)}: {safe(r['reason'])}")
    if (data["rejected"] or any(m["rejected"] for m in data["merged"].values())
            or any(s["status"] == "rejected" for s in data["sessions"])):
        raise typer.Exit(1)


@db_app.command("aggregate")
def db_aggregate(db: str = DbOpt, as_json: bool = JsonOpt) -> None:
    """Recompute the daily sample aggregates from the samples (after a bulk load or a restored dump).

    Recording and pushing keep them current, and an upgrade fills them; this is the same SQL."""
    from .probe.aggregates import rebuild
    from .probe.store import SampleStore
    from .store import open_store

    with SampleStore(open_store(db)) as store:   # must exist; opened for writing
        counts = rebuild(store)
    if as_json:
        emit_json(counts)
    else:
        console.print(", ".join(f"{table}: {rows} rows" for table, rows in counts.items()))


# --------------------------------------------------------------------------- probe
@app.command("probe")
def probe_cmd(
    port: list[str] = typer.Option(..., "--port", help="Modem port (repeat for one modem per operator): "
                                   "/dev/ttyUSB2, COM7, socket://host:port, a pty path, modemmanager:0, "
                                   "qmi:/dev/cdc-wdm0, mbim:/dev/cdc-wdm0."),
    inspector: str = typer.Option(..., "--inspector", help="Name of the inspector recording."),
    gnss: Optional[str] = typer.Option(None, "--gnss", help="GNSS source: serial URL (NMEA), gpsd://host:port, "
                                       "modem:URL or fixed:LAT,LON."),
    driver: Optional[str] = choice_option(None, "--driver", choice=DRIVER,
                                          help="Force a modem driver (default: detected)."),
    inspection: Optional[str] = typer.Option(None, "--inspection", help="Inspection id these samples belong to."),
    interface: list[str] = typer.Option([], "--interface", help="Network interface of each --port, in the same order, "
                                        "for its speed tests (e.g. wwan0)."),
    interval: float = typer.Option(1.0, "--interval", min=0.0,
                                   help="Seconds between radio readings (0: as fast as the modem answers)."),
    speedtest_every: Optional[float] = typer.Option(None, "--speedtest-every", help="Speed test every N minutes."),
    speedtest_every_m: Optional[float] = typer.Option(None, "--speedtest-every-m",
                                                      help="Speed test every N metres driven."),
    speedtest_on_entry: bool = typer.Option(False, "--speedtest-on-entry", help="Speed test on entering a settlement."),
    speedtest_method: str = choice_option("qamtu-http", "--speedtest-method", choice=SPEEDTEST_METHOD,
                                          help="Speed-test method."),
    speedtest_server: Optional[str] = typer.Option(None, "--speedtest-server",
                                                   help="Server URL (e.g. http://host:8080). Without it triggers are "
                                                        "only recorded as events."),
    duration: Optional[float] = typer.Option(None, "--duration", help="Stop after this many seconds."),
    max_samples: Optional[int] = typer.Option(None, "--max-samples", help="Stop after this many samples."),
    db: str = DbOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    lang: Optional[str] = choice_option(None, "--lang", choice=LIVE_LANGUAGE,
                                        help="Language of the live view (default: the system locale)."),
    quiet: bool = typer.Option(False, "--quiet", help="No live view."),
    json_lines: bool = typer.Option(False, "--json-lines",
                                    help="Print each recorded sample/event/test as one JSON line."),
) -> None:
    """Record radio samples (and speed tests) from modems and GNSS until stopped with Ctrl-C."""
    from .probe.capture import CaptureConfig
    from .probe.live import default_language
    from .probe.runner import run_capture, speedtest_runner
    from .probe.workers import default_candidates

    if interface and len(interface) != len(port):
        raise typer.BadParameter(f"give one --interface per --port ({len(port)} ports, {len(interface)} interfaces)")
    config = CaptureConfig(ports=port, inspector=inspector, gnss=gnss, driver=driver, inspection_id=inspection,
                           interfaces=dict(zip(port, interface)), interval_s=interval,
                           speedtest_every_s=None if speedtest_every is None else speedtest_every * 60,
                           speedtest_every_m=speedtest_every_m, speedtest_on_entry=speedtest_on_entry,
                           duration_s=duration, max_samples=max_samples, candidates=default_candidates)
    runner = speedtest_runner(speedtest_method, speedtest_server) if speedtest_server else None
    with _store(db, must_exist=False) as store:
        run_capture(store, config, lang=lang or default_language(), quiet=quiet, json_lines=json_lines,
                    speedtest=runner, gazetteer=_gazetteer(gazetteer))


@app.command("demo")
def demo_cmd(
    out: Path = typer.Option(Path("qamtu-demo"), "--out", help="Folder for the database, maps and documents."),
    speed: float = typer.Option(90.0, "--speed", min=1.0, help="Simulated seconds per real second."),
    as_json: bool = JsonOpt,
) -> None:
    """A simulated field day over real settlements: database, map and report, with no hardware."""
    from .reports.demo import run_demo

    result = run_demo(out, speed=speed, console=err_console if as_json else console)
    from .cases.demo import run_cases_demo
    from .mapping.gazetteer import Gazetteer

    status = "complaints: import, matching, cases, answers (kk/ru), 109 table…"
    with (err_console if as_json else console).status(status):
        for name, path in run_cases_demo(result.db, out, gazetteer=Gazetteer.load(),
                                         inspection_dir=Path(out) / "inspection").items():
            result.outputs[f"cases: {name}"] = path
    from .office.demo import create_demo_users, office_command

    demo_users = create_demo_users(result.db)
    if as_json:
        emit_json({"out": str(result.out), "summary": result.summary,
                   "outputs": {k: str(v) for k, v in result.outputs.items()},
                   "office": {"command": office_command(result.db), "url": "http://127.0.0.1:8080/staff/",
                              "users": demo_users}})
        return
    table = Table(title="qamtu demo: outputs")
    table.add_column("what")
    table.add_column("where")
    for k, v in result.outputs.items():
        table.add_row(*cells(k, v))
    console.print(table)
    s = result.summary
    console.print(f"{s['samples']} samples ({s['no_service']} without service, {s['modem_lost']} with the modem lost), "
                  f"{s['speedtests']} speed tests in session {safe(s['session_id'])}")
    console.print(f"office: run `{safe(office_command(result.db))}` and open http://127.0.0.1:8080/staff/ "
                  f"(DEMO users; passwords shown once):", highlight=False)
    for u in demo_users:
        console.print(f"  DEMO {u['role']:9} {u['name']:16} {u['password'] or '(exists; password shown when made)'}",
                      highlight=False)


# --------------------------------------------------------------------------- speed tests
@app.command("speedtest")
def speedtest_cmd(
    server: str = typer.Option(..., "--server", envvar="QAMTU_SPEEDTEST_SERVER",
                               help="qamtu server URL http://host:port, or https://host:port with "
                                    "--param tls_pin_sha256=FINGERPRINT (iperf3: host[:port]; "
                                    "speedtest-cli: also speedtest.net:<id> for a pinned public server)."),
    method: str = choice_option("qamtu-http", "--method", choice=SPEEDTEST_METHOD,
                                help="Method (qamtu-http is the evidence; speedtest-cli secondary)."),
    interface: Optional[str] = typer.Option(None, "--interface", help="Send only through this interface (e.g. wwan0) "
                                            "and verify it by its byte counters."),
    param: list[str] = typer.Option([], "--param", help="Method parameter KEY=VALUE, repeatable "
                                    "(e.g. --param download_s=7 --param streams=3)."),
    binding: str = choice_option("auto", "--binding", choice=BINDING,
                                 help="How --interface binds: auto (SO_BINDTODEVICE on Linux), so_bindtodevice, or "
                                      "source_address (the interface's address; egress still verified)."),
    as_json: bool = JsonOpt,
) -> None:
    """Run one speed test and print its result; exit 1 if it failed or is invalid.

    Example: qamtu speedtest --server http://10.0.0.5:8080 --interface wwan0 --json
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from .probe.speedtest import run_speedtest
    from .probe.speedtest.binding import BindingMode
    from .probe.speedtest.registry import params_from_pairs

    try:
        params = params_from_pairs(method, param)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--param") from exc
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[rate]}"),
                  TimeElapsedColumn(), console=err_console, transient=True, disable=as_json) as bar:
        tasks: dict[str, Any] = {}

        def progress(phase: str, elapsed_s: float, planned_s: float, mbps: Optional[float]) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(f"{method} {phase}", total=planned_s, rate="")
            bar.update(tasks[phase], completed=min(elapsed_s, planned_s),
                       rate="" if mbps is None else f"{mbps:.1f} Mbit/s")

        result = run_speedtest(method, server, interface, params, binding_mode=cast(BindingMode, binding),
                               progress=progress)
    if as_json:
        emit_json(result.model_dump(mode="json"))
    else:
        console.print(_kv_table({k: ", ".join(v) if isinstance(v, list) else v for k, v in result.summary().items()
                                 if k not in ("test_id",) and v not in (None, [], "")},
                                title=f"Speed test {result.test_id}"))
    if not result.valid:
        raise typer.Exit(1)


@app.command("server")
def server_cmd(
    host: str = typer.Option("0.0.0.0", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    max_clients: int = typer.Option(8, "--max-clients", min=1, help="Client addresses testing at the same time."),
    max_streams: int = typer.Option(16, "--max-streams-per-client", min=1, help="Concurrent transfers per client."),
    max_transfer_s: float = typer.Option(30.0, "--max-transfer-s", min=0.1, help="Longest single transfer, seconds."),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", help="Serve HTTPS only, with this certificate (PEM; "
                                            "make one with `qamtu server-cert`). Probes pin its fingerprint."),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", help="Private key of --tls-cert (PEM)."),
    api_path: str = typer.Option("/qamtu/v1", "--api-path", help="Path of the qamtu-http API; probes pass the same "
                                 "as --param api_path=... (docs/measurement-method.md)."),
) -> None:
    """Run the measurement server (qamtu-http and Speedtest-Mini endpoints) until Ctrl-C.

    Example: qamtu server --host 0.0.0.0 --port 8443 --tls-cert office.crt --tls-key office.key
    """
    import asyncio

    from .probe.speedtest import ServerLimits, serve
    from .probe.speedtest.tls import cert_fingerprint, server_context

    limits = ServerLimits(max_clients=max_clients, max_streams_per_client=max_streams, max_transfer_s=max_transfer_s)
    if (tls_cert is None) != (tls_key is None):
        raise typer.BadParameter("give both --tls-cert and --tls-key, or neither", param_hint="--tls-cert")
    ctx = server_context(tls_cert, tls_key) if tls_cert is not None and tls_key is not None else None
    scheme = "https" if ctx else "http"
    pin = f"; probes pin --param tls_pin_sha256={cert_fingerprint(tls_cert)}" if tls_cert else ""
    err_console.print(f"qamtu server on {scheme}://{host}:{port} (limits: {limits.model_dump()}){pin}; Ctrl-C stops it",
                      markup=False, highlight=False)
    try:
        asyncio.run(serve(host, port, limits, ssl_context=ctx, api_path=api_path))
    except KeyboardInterrupt:
        err_console.print("stopped")
    except OSError as exc:
        err_console.print(f"[bold red]error[/] (qamtu server): cannot listen on {safe(host)}:{port}: "
                          f"{safe(exc.strerror or exc)}")
        raise typer.Exit(1) from exc


@app.command("server-cert")
def server_cert_cmd(
    name: list[str] = typer.Option(..., "--name", help="Host name or IP address the probes use (repeatable)."),
    out: Path = typer.Option(Path("."), "--out", help="Folder for server.crt and server.key (never overwritten)."),
    days: int = typer.Option(825, "--days", min=1, max=3650, help="Validity, days."),
) -> None:
    """Make the office's self-signed TLS certificate for `qamtu server` and print the fingerprint probes pin."""
    from .probe.speedtest.tls import make_self_signed

    pin = make_self_signed(out / "server.crt", out / "server.key", name, days)
    console.print(f"certificate: {out / 'server.crt'}\nkey: {out / 'server.key'} (mode 0600)\n"
                  f"probes: --server https://{name[0]}:PORT --param tls_pin_sha256={pin}",
                  markup=False, highlight=False)


# --------------------------------------------------------------------------- device
modem_app = typer.Typer(help="Read a USB modem over its AT port (any pyserial URL: /dev/ttyUSB2, COM7, socket://…).",
                        no_args_is_help=True)
gnss_app = typer.Typer(help="Read a position from a GNSS source.", no_args_is_help=True)
simulate_app = typer.Typer(help="Serve a simulated modem or GNSS receiver on a pty until stopped (Ctrl-C).",
                           no_args_is_help=True)
app.add_typer(modem_app, name="modem")
app.add_typer(gnss_app, name="gnss")
app.add_typer(simulate_app, name="simulate")

PortOpt = typer.Option(..., "--port", help="Serial port or pyserial URL (/dev/ttyUSB2, COM7, socket://host:port, "
                                           "a pty path), modemmanager:0 (see `qamtu devices`), qmi:/dev/cdc-wdm0 "
                                           "or mbim:/dev/cdc-wdm0.")
DriverOpt = choice_option(None, "--driver", choice=DRIVER,
                          help="Force a driver (default: chosen from ATI/+CGMI/+CGMM).")
TimeoutOpt = typer.Option(5.0, "--timeout", min=0.1, help="Per-command timeout, seconds.")


def _kv_table(rows: dict[str, Any], title: str | None = None) -> Table:
    """Two columns, key and value, every cell through :func:`safe`."""
    table = Table(show_header=False, title=None if title is None else safe(title))
    for k, v in rows.items():
        table.add_row(*cells(k, v))
    return table


@app.command("devices")
def devices_cmd(as_json: bool = JsonOpt) -> None:
    """Serial ports with USB VID:PID, known modem models and which port is AT or NMEA; modems ModemManager owns."""
    from .device import list_serial_ports
    from .device.modemmanager import list_mm_modems

    ports = list_serial_ports()
    mm = list_mm_modems()
    if as_json:
        emit_json({"serial_ports": [p.model_dump(mode="json") for p in ports], "modemmanager": mm})
        return
    if not ports and not mm:
        console.print("no serial ports and no ModemManager modems found "
                      "(is the modem plugged in? `lsusb` shows USB devices)")
        return
    if ports:
        table = Table(title="Serial ports")
        for col in ("device", "vid:pid", "if", "model", "driver", "role", "held by"):
            table.add_column(col)
        for p in ports:
            table.add_row(*cells(p.device, f"{p.vid}:{p.pid}" if p.vid else "", p.usb_interface,
                                 p.model or p.description, p.driver, p.role, ", ".join(p.holders)))
        console.print(table)
    if mm:
        table = Table(title="Modems owned by ModemManager (use these port strings with --port)")
        for col in ("port", "modem", "IMEI", "state", "its ports"):
            table.add_column(col)
        for m in mm:
            table.add_row(*cells(m["port"], f"{m['manufacturer'] or ''} {m['model'] or ''}".strip(), m["imei"],
                                 m["state"], ", ".join(m["ports"])))
        console.print(table)


@modem_app.command("read")
def modem_read(port: str = PortOpt, driver: Optional[str] = DriverOpt, timeout: float = TimeoutOpt,
               as_json: bool = JsonOpt) -> None:
    """One reading: technology, registration, operator, serving cell(s) and signal."""
    from .device import read_modem

    r = read_modem(port, driver, timeout_s=timeout)
    if as_json:
        emit_json(r.model_dump(mode="json"))
        return
    console.print(_kv_table({"time (UTC)": r.time_utc.isoformat(), "port": r.port, "driver": r.driver,
                             "technology": r.technology.value, "registration": r.registration.value,
                             "operator": f"{r.operator_mcc or '-'}-{r.operator_mnc or '-'} {r.operator_name or ''}"}))
    if r.cells:
        table = Table(title="Serving cells")
        table.add_column("field")
        dumps = [c.model_dump(mode="json") for c in r.cells]
        for d in dumps:
            table.add_column(safe(d["rat"]), justify="right")
        for k in dumps[0]:
            if k != "rat" and any(d[k] is not None for d in dumps):
                table.add_row(*cells(k, *(d[k] for d in dumps)))
        console.print(table)
    else:
        console.print("no serving cell (no service)")
    for n in r.notes:
        console.print(f"note: {safe(n)}", highlight=False)


@modem_app.command("info")
def modem_info_cmd(port: str = PortOpt, driver: Optional[str] = DriverOpt, timeout: float = TimeoutOpt,
                   as_json: bool = JsonOpt) -> None:
    """Manufacturer, model, firmware, IMEI and the SIM (IMSI, ICCID, home operator)."""
    from .device import modem_info

    info = modem_info(port, driver, timeout_s=timeout)
    if as_json:
        emit_json(info.model_dump(mode="json"))
        return
    d = info.model_dump(mode="json")
    d.pop("raw")
    console.print(_kv_table(d))


@gnss_app.command("read")
def gnss_read(source: str = typer.Option(..., "--source", help="NMEA port/URL, gpsd://host:port, modem:PORT "
                                                               "or fixed:LAT,LON[,ALT]."),
              timeout: float = typer.Option(3.0, "--timeout", min=0.1, help="Seconds to wait for a fix."),
              max_age: float = typer.Option(5.0, "--max-age", min=0.0, help="A fix older than this (s) is stale."),
              as_json: bool = JsonOpt) -> None:
    """One GNSS fix (a "no fix" answer is printed, not an error)."""
    from .device import read_gnss

    fix = read_gnss(source, timeout_s=timeout, max_age_s=max_age)
    if as_json:
        emit_json(fix.model_dump(mode="json"))
        return
    d = fix.model_dump(mode="json")
    d.pop("raw")
    console.print(_kv_table(d))


def _serve(device: Any, duration: Optional[float]) -> None:
    import signal
    import time as _time

    def _stop(*_: Any) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, _stop)  # `kill` cleans up like Ctrl-C (the pty link is removed)
    device.start()
    try:
        typer.echo(device.path)
        sys.stdout.flush()
        end = None if duration is None else _time.monotonic() + duration
        while end is None or _time.monotonic() < end:
            _time.sleep(0.1)
    except KeyboardInterrupt:
        pass
    finally:
        device.stop()
        signal.signal(signal.SIGTERM, old)


SpeedOpt = typer.Option(1.0, "--speed", min=0.001,
                        help="Scenario seconds per wall second (60: a 1-hour drive in a minute).")
DurationOpt = typer.Option(None, "--duration", min=0.0,
                           help="Stop after this many wall seconds (default: until Ctrl-C).")


@simulate_app.command("modem")
def simulate_modem(profile: str = choice_option("generic", "--profile", choice=SIM_PROFILE,
                                                help="Modem profile, or transcript:FILE to replay a recorded "
                                                     "transcript."),
                   scenario: Optional[Path] = typer.Option(None, "--scenario",
                                                           help="Route/scenario JSON (default: one point in "
                                                                "Turkestan, good LTE)."),
                   operator: str = typer.Option("401-02", "--operator", help="MCC-MNC of the simulated SIM."),
                   speed: float = SpeedOpt, duration: Optional[float] = DurationOpt) -> None:
    """Serve a simulated modem on a pty; prints the port path, then runs until stopped."""
    from .device import SimClock, SimModem, TranscriptModem, load_route, static_route

    if profile.startswith("transcript:"):
        _serve(TranscriptModem(profile.split(":", 1)[1]), duration)
        return
    route = load_route(scenario) if scenario else static_route()
    _serve(SimModem(profile, route, operator=operator, clock=SimClock(speed, route.start_utc)), duration)


@simulate_app.command("gnss")
def simulate_gnss(route_file: Optional[Path] = typer.Option(None, "--route", help="Route JSON (default: the bundled "
                                                                                   "demo route)."),
                  speed: float = SpeedOpt, duration: Optional[float] = DurationOpt) -> None:
    """Serve a simulated NMEA receiver on a pty following a route; prints the port path."""
    from .device import SimClock, SimGnss, load_route

    route = load_route(route_file)
    _serve(SimGnss(route, clock=SimClock(speed, route.start_utc)), duration)


# --------------------------------------------------------------------------- maps
map_app = typer.Typer(help="Maps of the region's settlements built from a store.", no_args_is_help=True)
coverage_app = typer.Typer(help="Coverage classification of settlements (rule set, per operator, districts).",
                           no_args_is_help=True)
report_app = typer.Typer(help="Documents for the office: district summaries.", no_args_is_help=True)
app.add_typer(map_app, name="map")
app.add_typer(coverage_app, name="coverage")
app.add_typer(report_app, name="report")

OperatorOpt = typer.Option([], "--operator", help="Only this operator (MCC-MNC such as 401-02, or a name: Kcell); "
                                                  "repeatable. Default: every operator in the store.")
PeriodOpt = typer.Option(None, "--period", help="2026, 2026-06, 2026-06-01..2026-08-31 or 90d "
                                                "(default: the rule set's window up to the latest record).")
RULE_SET = Choice("rule-set", _bundled_rule_sets, patterns=("a TOML file",))


def _rules_path(value: Optional[Path]) -> Optional[Path]:
    """--rules: a bundled rule set by name, or a TOML file that exists (checked before anything runs)."""
    if value is None:
        return None
    if str(value) in RULE_SET.names():
        return package_path("mapping", "rules", f"{value}.toml")
    if value.is_file():
        return value
    raise typer.BadParameter(f"{str(value)!r} is neither a bundled rule set nor a file; give one of: "
                             f"{RULE_SET.listing()}")


RulesOpt = typer.Option(None, "--rules", callback=_rules_path,
                        help=f"Coverage rule set (default: the bundled one in force). One of: {RULE_SET.placeholder}.")


def _export_files(value: list[Path]) -> list[Path]:
    """--export/--out FILE: the format named by each suffix must be a registered exporter."""
    from .mapping.writers import format_of

    for path in value:
        if format_of(path) not in EXPORT_FORMAT.names():
            raise typer.BadParameter(f"{str(path)!r}: the suffix names no export format; end it in one of: "
                                     + ", ".join(f".{n}" for n in EXPORT_FORMAT.names()))
    return value


def _coverage_progress(disabled: bool):
    """A rich progress bar on stderr and the callback that feeds it: (what, done, total)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console, transient=True, disable=disabled)
    tasks: dict[str, Any] = {}

    def update(what: str, done: int, total: int) -> None:
        if what not in tasks:
            tasks[what] = bar.add_task(f"reading {what}" if what in ("samples", "speedtests") else what, total=total)
        bar.update(tasks[what], completed=done, total=total)

    return bar, update


def _summary_table(rows: list[dict], title: str) -> Table:
    table = Table(title=title)
    for h in ("region", "scope", "settlements", "measured", "judged", "thin", "no mobile", "2G only", "no internet",
              "below std", "meets std"):
        table.add_column(h, justify="left" if h in ("region", "scope") else "right")
    for r in rows:
        table.add_row(*cells(r.get("district_name_ru", ""), r["scope_name"],
                             *(r[k] for k in ("settlements", "measured", "judged", "thin_data", "without_mobile",
                                              "only_2g", "without_internet", "internet_below_standard",
                                              "internet_meets_standard"))))
    return table


@map_app.command("coverage")
def map_coverage(
    out: Path = typer.Option(..., "--out", help="Output HTML file."),
    db: str = DbOpt,
    operator: list[str] = OperatorOpt,
    period: Optional[str] = PeriodOpt,
    offline: bool = typer.Option(False, "--offline", help="No tile server: one self-contained file that opens "
                                                          "without any network (plain background, district outlines)."),
    export: list[Path] = typer.Option([], "--export", callback=_export_files,
                                      help="Also write the classification to FILE, in the format its suffix names "
                                           f"({EXPORT_FORMAT.placeholder}); repeatable."),
    rules: Optional[Path] = RulesOpt,
    region: list[str] = RegionOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Coverage map of every settlement, coloured by mobile and mobile-internet status.

    Example: qamtu map coverage --db qamtu.db --out map.html --offline
    """
    from .reports.coverage import coverage_map_from_store

    bar, update = _coverage_progress(as_json)
    with bar:
        result = coverage_map_from_store(db, out, offline=offline, period=period, operators=operator or None,
                                         rules_path=rules, exports=export, progress=update,
                                         gazetteer=_gazetteer(None, region))
    if as_json:
        emit_json(result)
        return
    console.print(f"wrote {safe(result['path'])} ({result['bytes'] / 1e6:.2f} MB, {result['markers']} settlements, "
                  f"{result['hexagons']} hexagons, {'offline' if offline else 'online tiles'}); "
                  f"rule set {safe(result['rule_set'])}, period {safe(result['period'])}", highlight=False)
    for e in result["exports"]:
        console.print(f"wrote {safe(e['path'])} ({', '.join(f'{k}: {v}' for k, v in e['rows'].items())})",
                      highlight=False)
    console.print(_summary_table(result["summary"], "Regions (judged settlements only)"))


@coverage_app.command("classify")
def coverage_classify(
    db: str = DbOpt,
    operator: list[str] = OperatorOpt,
    period: Optional[str] = PeriodOpt,
    out: list[Path] = typer.Option([], "--out", callback=_export_files,
                                   help="Write the classification to FILE, in the format its suffix names "
                                        f"({EXPORT_FORMAT.placeholder}); repeatable."),
    rules: Optional[Path] = RulesOpt,
    region: list[str] = RegionOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Classify settlements x operators; print the region roll-up (or everything with --json)."""
    from .mapping.exports import export_classification
    from .mapping.hexes import hex_signal
    from .reports.coverage import classify_store, region_summary

    bar, update = _coverage_progress(as_json)
    with bar:
        cl, inputs = classify_store(db, period=period, operators=operator or None, rules_path=rules, progress=update,
                                    gazetteer=_gazetteer(None, region),
                                    keep_samples=bool(out))   # exports' hexagon layer needs sample positions
    written = []
    if out:
        hexes, res = hex_signal(inputs.samples, cl.rules)
        written = [export_classification(cl, p, hexes=hexes, hex_resolution=res) for p in out]
    if as_json:
        emit_json({**cl.as_dict(), "exports": written})
        return
    meta = cl.meta()
    console.print(f"rule set {safe(meta['rule_set']['version'])} (valid from {safe(meta['rule_set']['valid_from'])}), "
                  f"period {safe(meta['period']['label'])}; {meta['counts']['samples_in_period']} samples, "
                  f"{meta['counts']['speedtests_in_period']} speed tests", highlight=False)
    console.print(_summary_table(region_summary(cl), "Regions (judged settlements only)"))
    for e in written:
        console.print(f"wrote {safe(e['path'])}", highlight=False)


@report_app.command("districts")
def report_districts(
    out: Path = typer.Option(..., "--out", help="Output XLSX workbook."),
    db: str = DbOpt,
    png_dir: Optional[Path] = typer.Option(None, "--png-dir", help="Also write one PNG map per district here."),
    operator: list[str] = OperatorOpt,
    period: Optional[str] = PeriodOpt,
    rules: Optional[Path] = RulesOpt,
    region: list[str] = RegionOpt,
    as_json: bool = JsonOpt,
) -> None:
    """District summary (XLSX; Kazakh and Russian headers; a section with totals per region) and optional PNG map
    per district.

    Example: qamtu report districts --db qamtu.db --out summary.xlsx --png-dir districts/
    """
    from .reports.districts import district_report_from_store

    bar, update = _coverage_progress(as_json)
    with bar:
        result = district_report_from_store(db, out, png_dir=png_dir, period=period, operators=operator or None,
                                            rules_path=rules, progress=update, gazetteer=_gazetteer(None, region))
    if as_json:
        emit_json(result)
        return
    console.print(f"wrote {safe(result['path'])} (sheets: {safe(', '.join(result['sheets']))}); rule set "
                  f"{safe(result['rule_set'])}, period {safe(result['period'])}", highlight=False)
    if result["pngs"]:
        console.print(f"wrote {len(result['pngs'])} district maps to {safe(png_dir)}", highlight=False)
    table = Table(title="Districts, best of operators (judged settlements only)")
    for h in ("district", "settlements", "measured", "no mobile", "no internet", "unmeasured"):
        table.add_column(h, justify="left" if h == "district" else "right")
    for r in result["summary"]:
        table.add_row(*cells(r["district_name_ru"], *(r[k] for k in ("settlements", "measured", "without_mobile",
                                                                      "without_internet", "unmeasured"))))
    console.print(table)


# --------------------------------------------------------------------------- inspections
inspection_app = typer.Typer(help="Inspections under KoAP art. 637: records, findings, documents (kk/ru), evidence "
                             "bundles.", no_args_is_help=True)
keys_app = typer.Typer(help="Ed25519 signing keys of inspectors.", no_args_is_help=True)
app.add_typer(inspection_app, name="inspection")
app.add_typer(keys_app, name="keys")

RegistersOpt = typer.Option(None, "--registers", envvar="QAMTU_REGISTERS", help="Folder of the office's register files "
                            "(art637.toml, mci.toml, operators.toml, instruments.toml, ...); a file missing there is "
                            "taken from the bundled registers.")


def _registers(folder: Optional[Path]):
    from .reports.registers import Registers

    return Registers.load(folder)


def _rules(path: Optional[Path]):
    from .mapping.rules import load_rules

    return load_rules(path)


@inspection_app.command("new")
def inspection_new(
    grounds: str = choice_option(..., "--grounds", choice=GROUNDS,
                                 help="Grounds of the inspection (anonymous complaints are not grounds)."),
    grounds_number: str = typer.Option(..., "--grounds-number", help="Registration number of the complaint or demand."),
    grounds_date: str = typer.Option(..., "--grounds-date", help="Date of the complaint or demand, YYYY-MM-DD."),
    operator: str = typer.Option(..., "--operator", help="Operator inspected: MCC-MNC (401-77) or a name (Tele2)."),
    kato: str = typer.Option(..., "--kato", help="KATO code of the settlement."),
    address: str = typer.Option(..., "--address", help="Exact address of the place to measure."),
    act_number: str = typer.Option(..., "--act-number", help="Number of the appointment act."),
    act_registered: str = typer.Option(..., "--act-registered", help="Date the act was registered with the "
                                       "legal-statistics body, YYYY-MM-DD."),
    inspector: list[str] = typer.Option(..., "--inspector", help="Inspector (repeat for several)."),
    instrument: list[str] = typer.Option(..., "--instrument",
                                         help="Instrument id from the instrument register (repeat)."),
    inspection_id: Optional[str] = typer.Option(None, "--id", help="Inspection id (default: INSP-YEAR-NNNN)."),
    notes: str = typer.Option("", "--notes", help="Free text kept with the record."),
    db: str = DbOpt, registers: Optional[Path] = RegistersOpt, gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Record a new inspection; then measure with `qamtu probe --inspection ID`."""
    from .probe.store import parse_operator
    from .reports.inspections import create_inspection

    mcc, mnc = parse_operator(operator)
    with _store(db, must_exist=False) as store:
        insp = create_inspection(store, _registers(registers), gazetteer=_gazetteer(gazetteer),
                                 inspection_id=inspection_id, grounds=grounds, grounds_number=grounds_number,
                                 grounds_date=grounds_date, operator=f"{mcc}-{mnc}", kato=kato, address=address,
                                 act_number=act_number, act_registered=act_registered, inspectors=inspector,
                                 instruments=instrument, notes=notes)
    if as_json:
        emit_json(insp.model_dump())
    else:
        console.print(f"inspection {safe(insp.inspection_id)} recorded; measure with: qamtu probe --inspection "
                      f"{safe(insp.inspection_id)} ...", highlight=False)


@inspection_app.command("list")
def inspection_list(db: str = DbOpt, as_json: bool = JsonOpt) -> None:
    """Every inspection in the store with its counts of samples and speed tests."""
    from .reports.inspections import list_inspections, summary

    with _store(db) as store:
        rows = [summary(store, i) for i in list_inspections(store)]
    if as_json:
        emit_json(rows)
        return
    table = Table(title=f"Inspections in {shown_db(db)}")
    for h in ("id", "operator", "KATO", "act", "registered", "samples", "tests"):
        table.add_column(h)
    for r in rows:
        table.add_row(*cells(r["inspection_id"], r["operator"], r["kato"], r["act_number"], r["act_registered"],
                             r["samples"], r["speedtests"]))
    console.print(table)


@inspection_app.command("show")
def inspection_show(inspection_id: str = typer.Argument(..., help="Inspection id."), db: str = DbOpt,
                    as_json: bool = JsonOpt) -> None:
    """One inspection: the record and what the store holds for it."""
    from .reports.inspections import get_inspection, summary

    with _store(db) as store:
        info = summary(store, get_inspection(store, inspection_id))
    if as_json:
        emit_json(info)
        return
    console.print(_kv_table({k: ", ".join(map(str, v)) if isinstance(v, list) else v for k, v in info.items()},
                            title=f"Inspection {inspection_id}"))


@inspection_app.command("findings")
def inspection_findings(inspection_id: str = typer.Argument(..., help="Inspection id."), db: str = DbOpt,
                        rules: Optional[Path] = RulesOpt, registers: Optional[Path] = RegistersOpt,
                        as_json: bool = JsonOpt) -> None:
    """Per indicator and technology: share below the threshold, 95 % Wilson interval, counts, window, verdict."""
    from .reports.findings import compute_findings

    with _store(db) as store:
        f = compute_findings(store, inspection_id, _rules(rules), _registers(registers))
    if as_json:
        emit_json(f)
        return
    table = Table(title=f"Findings of {safe(inspection_id)} (rule set {safe(f['rule_set']['version'])})")
    for h in ("technology", "threshold", "tests", "below", "share", "95 % CI", "days", "verdict"):
        table.add_column(h)
    for r in f["indicators"]:
        ci = "" if r["ci_low"] is None else f"{100 * r['ci_low']:.1f}–{100 * r['ci_high']:.1f} %"
        threshold = None if r["threshold_mbps"] is None else f"{r['threshold_mbps']:g} Mbit/s"
        share = None if r["share_below"] is None else f"{100 * r['share_below']:.1f} %"
        table.add_row(*cells(r["technology_label"], threshold, r["n"], r["n_below"], share, ci, r["days"],
                             r["verdict"]))
    console.print(table)
    for r in f["indicators"]:
        console.print(f"{safe(r['technology_label'])}: {safe(r['verdict'])}: {safe(r['reason'])}", highlight=False)
    console.print(f"verdict: [bold]{safe(f['verdict'])}[/]; rule: {safe(f['findings_rule']['rule_en'])}")
    legal = f.get("legal")
    if legal:
        console.print(safe(f"proposed: art. {legal['article']} part {legal['part']}, fine {legal['fine_mci']} MCI = "
                           f"{legal['fine_tenge']} tenge (MCI {legal['mci_tenge']} from {legal['mci_valid_from']})"),
                      highlight=False)
        if legal["repeat_of"]:
            r = legal["repeat_of"]
            console.print(safe(f"repeat offence: earlier violation in {r['inspection_id']} (act {r['act_number']}, "
                               f"offence {r['offence_date']})"), highlight=False)
    if f["synthetic"]:
        console.print("[yellow]synthetic data: not evidence[/]")


def _iso_date(option: str, value: Optional[str]):
    """``value`` (YYYY-MM-DD) as a date, None when not given; a bad date is a usage error, not a traceback."""
    from datetime import date

    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise typer.BadParameter(f"{option} {value!r}: give YYYY-MM-DD") from None


@inspection_app.command("documents")
def inspection_documents(
    inspection_id: str = typer.Argument(..., help="Inspection id."),
    out: Path = typer.Option(..., "--out", help="Folder for the documents."),
    lang: str = typer.Option("kk,ru", "--lang", callback=lambda v: ",".join(DOCUMENT_LANGUAGE.callback(
                                 [x.strip() for x in v.split(",") if x.strip()])),
                             help=f"Languages, comma-separated: {DOCUMENT_LANGUAGE.placeholder}."),
    issue_date: Optional[str] = typer.Option(None, "--date",
                                             help="Date of the documents, YYYY-MM-DD (default: today, UTC)."),
    deadline_days: Optional[int] = typer.Option(None, "--deadline-days", help="Order deadline in calendar days "
                                                "(at least the register's minimum, 10)."),
    templates: Optional[Path] = typer.Option(None, "--templates", help="Folder of the office's DOCX templates."),
    db: str = DbOpt, rules: Optional[Path] = RulesOpt, registers: Optional[Path] = RegistersOpt,
    gazetteer: Optional[Path] = GazetteerOpt, as_json: bool = JsonOpt,
) -> None:
    """The act of results, the draft protocol and the order (DOCX and PDF, kk and ru) with the map excerpt."""
    from .reports.documents import generate_documents

    day = _iso_date("--date", issue_date)
    with _store(db) as store:
        docs = generate_documents(store, inspection_id, out, rules=_rules(rules), registers=_registers(registers),
                                  gazetteer=_gazetteer(gazetteer),
                                  langs=tuple(x.strip() for x in lang.split(",") if x.strip()),
                                  issue_date=day, deadline_days=deadline_days, templates=templates)
    if as_json:
        emit_json({k: str(v) for k, v in docs.items()})
    else:
        for name, path in docs.items():
            console.print(f"wrote {safe(path)}", highlight=False)


@inspection_app.command("bundle")
def inspection_bundle(
    inspection_id: str = typer.Argument(..., help="Inspection id."),
    out: Path = typer.Option(..., "--out", help="Bundle file, e.g. INSP-2026-0001.zip."),
    key: Path = typer.Option(..., "--key", help="The inspector's private key (from `qamtu keys new`)."),
    signer: str = typer.Option(..., "--signer", help="Name of the signing inspector."),
    issue_date: Optional[str] = typer.Option(None, "--date", help="Date of the documents, YYYY-MM-DD."),
    deadline_days: Optional[int] = typer.Option(None, "--deadline-days", help="Order deadline in calendar days "
                                                "(at least the register's minimum, 10)."),
    templates: Optional[Path] = typer.Option(None, "--templates", help="Folder of the office's DOCX templates."),
    db: str = DbOpt, rules: Optional[Path] = RulesOpt, registers: Optional[Path] = RegistersOpt,
    gazetteer: Optional[Path] = GazetteerOpt, as_json: bool = JsonOpt,
) -> None:
    """Signed evidence bundle: documents, samples, transcripts, speed tests, rule set, registers, manifest."""
    from .reports.bundle import bundle_inspection

    day = _iso_date("--date", issue_date)
    with _store(db) as store:
        result = bundle_inspection(store, inspection_id, out, key_path=key, signer=signer, rules=_rules(rules),
                                   registers=_registers(registers), gazetteer=_gazetteer(gazetteer),
                                   issue_date=day, deadline_days=deadline_days, templates=templates)
    if as_json:
        emit_json(result)
    else:
        console.print(f"wrote {safe(result['path'])}: {result['members']} members, signed by {safe(result['signer'])} "
                      f"(key {safe(result['key_id'])}), manifest SHA-256 {result['manifest_sha256']}", highlight=False)


@keys_app.command("new")
def keys_new(name: str = typer.Option(..., "--name", help="Inspector's name (also the file name)."),
             out: Path = typer.Option(Path("."), "--out", help="Folder for NAME.key (mode 0600) and NAME.pub."),
             as_json: bool = JsonOpt) -> None:
    """Create an Ed25519 key pair and print the entry for the office key list."""
    from .reports.keys import new_key

    result = new_key(name, out)
    if as_json:
        emit_json(result)
        return
    console.print(f"private key: {safe(result['private_key'])} (mode 0600: keep it secret)\npublic key: "
                  f"{safe(result['public_key_file'])}\nadd to the office key list (office_keys.toml):", highlight=False)
    sys.stdout.write(result["office_list_entry"])


@app.command("verify")
def verify_cmd(bundle: Path = typer.Argument(..., help="Evidence bundle (.zip)."),
               office_keys: Optional[Path] = typer.Option(None, "--office-keys",
                                                          help="Office key list TOML (default: office_keys.toml of "
                                                               "--registers, else the bundled list)."),
               registers: Optional[Path] = RegistersOpt, as_json: bool = JsonOpt) -> None:
    """Check every hash, hash chain and the signature of a bundle; exit 1 naming the first mismatch."""
    from .reports.bundle import verify_bundle
    from .reports.keys import load_office_keys

    keys, keys_path = load_office_keys(office_keys, registers)
    rep = verify_bundle(bundle, keys, str(keys_path))
    shown = rep.as_dict()  # control characters escaped: data cannot redraw the verdict line
    where = safe(bundle)
    if as_json:
        emit_json(shown)
    elif rep.ok:
        console.print(f"[green]OK[/] {where}: {rep.checked_files} files and {rep.checked_chains} hash chains intact; "
                      f"signed by {safe(shown['signer'].get('name'))} "
                      f"(key {safe(shown['signer'].get('key_id'))}, named so in the office key list)",
                      highlight=False, soft_wrap=True)
    else:
        label = "UNTRUSTED" if rep.intact else "FAILED"
        console.print(f"[red]{label}[/] {where}: {safe(shown['problem'])}", highlight=False, soft_wrap=True)
    if not rep.ok:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- problems
problems_app = typer.Typer(help="Five-year problem picture: survey observations and remediation plans (import, "
                                "templates).", no_args_is_help=True)
app.add_typer(problems_app, name="problems")
YearsOpt = typer.Option("2023-2027", "--years", help="Years of the picture: 2023-2027, 2023,2025 or 2024.")


def _problems_summary(rows: list[dict], title: str) -> Table:
    table = Table(title=title)
    for h in ("year", "internet", "mobile", "tv/radio", "post", "any", "overdue", "resolved"):
        table.add_column(h, justify="right")
    for r in rows:
        table.add_row(*cells(*(r[k] for k in ("year", "internet", "mobile", "tv_radio", "post", "any", "overdue",
                                              "resolved"))))
    return table


@map_app.command("problems")
def map_problems(
    out: Path = typer.Option(..., "--out", help="Output HTML file."),
    db: str = DbOpt,
    years: str = YearsOpt,
    offline: bool = typer.Option(False, "--offline", help="No tile server: one self-contained file that opens "
                                                          "without any network."),
    rules: Optional[Path] = RulesOpt,
    region: list[str] = RegionOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Problem map: year slider, a layer per dimension, overdue settlements highlighted, history popups (kk/ru).

    Example: qamtu map problems --db qamtu.db --years 2023-2027 --out problems.html --offline
    """
    from .reports.problems import problem_map_from_store

    bar, update = _coverage_progress(as_json)
    with bar:
        result = problem_map_from_store(db, out, years=years, offline=offline, rules_path=rules, progress=update,
                                        complaints=_complaint_observations(db),
                                        gazetteer=_gazetteer(None, region))
    if as_json:
        emit_json(result)
        return
    console.print(f"wrote {safe(result['path'])} ({result['bytes'] / 1e6:.2f} MB, {result['markers']} settlements, "
                  f"years {result['years'][0]}–{result['years'][-1]}, {'offline' if offline else 'online tiles'}); "
                  f"rules {safe(result['problem_rules'])}", highlight=False)
    for n in result["notes"]:
        console.print(f"note: {safe(n)}", highlight=False)
    console.print(_problems_summary(result["summary"], "Settlements with a problem (region)"))


@report_app.command("problems")
def report_problems(
    out: Path = typer.Option(..., "--out", help="Output XLSX workbook."),
    db: str = DbOpt,
    years: str = YearsOpt,
    png_dir: Optional[Path] = typer.Option(None, "--png-dir", help="Folder of the PNG charts (default: "
                                                                   "<out>-charts next to the workbook)."),
    rules: Optional[Path] = RulesOpt,
    region: list[str] = RegionOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Problem workbook: a sheet per year, plans by priority, district totals, PNG charts (kk/ru headings).

    Example: qamtu report problems --db qamtu.db --years 2023-2027 --out problems.xlsx
    """
    from .reports.problems import problem_report_from_store

    bar, update = _coverage_progress(as_json)
    with bar:
        result = problem_report_from_store(db, out, years=years, png_dir=png_dir, rules_path=rules, progress=update,
                                           complaints=_complaint_observations(db),
                                           gazetteer=_gazetteer(None, region))
    if as_json:
        emit_json(result)
        return
    console.print(f"wrote {safe(result['path'])} (sheets: {safe(', '.join(result['sheets']))}); rules "
                  f"{safe(result['problem_rules'])}", highlight=False)
    console.print(f"wrote {len(result['pngs'])} charts: {safe(', '.join(result['pngs']))}", highlight=False)
    for n in result["notes"]:
        console.print(f"note: {safe(n)}", highlight=False)
    console.print(_problems_summary(result["summary"], "Settlements with a problem (region)"))


def _import_result(result: dict, as_json: bool, what: str) -> None:
    if as_json:
        emit_json(result)
        return
    console.print(f"imported {result['rows']} {what} from {safe(result['path'])} ({result['new']} new, "
                  f"{result['replaced']} replaced; {result['settlements']} settlements)", highlight=False)


@problems_app.command("import-survey")
def problems_import_survey(
    file: Path = typer.Argument(..., help="Survey observations: CSV (UTF-8) or XLSX, see `qamtu problems template`."),
    db: str = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Import survey observations (TV, radio, post, fixed internet) per settlement and year: every row or none."""
    from .reports.surveys import import_survey

    with _store(db, must_exist=False) as store:
        _import_result(import_survey(store, file), as_json, "survey observations")


@problems_app.command("import-plan")
def problems_import_plan(
    file: Path = typer.Argument(..., help="Remediation plans: CSV (UTF-8) or XLSX, see `qamtu problems template`."),
    db: str = DbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Import remediation plans (settlement, dimension, planned year, programme, responsible): every row or none."""
    from .reports.surveys import import_plans

    with _store(db, must_exist=False) as store:
        _import_result(import_plans(store, file), as_json, "plans")


@problems_app.command("template")
def problems_template(
    kind: str = typer.Argument(..., callback=TEMPLATE_KIND.callback, help=f"One of: {TEMPLATE_KIND.placeholder}."),
    out: Path = typer.Option(..., "--out", help="FILE.csv (header row) or FILE.xlsx (header and an instruction "
                                                "sheet in Kazakh and Russian)."),
) -> None:
    """Write an empty import template."""
    from .reports.surveys import write_template

    console.print(f"wrote {safe(write_template(kind, out))}", highlight=False)


# --------------------------------------------------------------------------- cases
cases_app = typer.Typer(help="Residents' complaints: settlement matching, cases, deadlines, answers.",
                        no_args_is_help=True)
app.add_typer(cases_app, name="cases")


@cases_app.command("match")
def cases_match(
    text: str = typer.Argument(..., help="Free-text address as the resident wrote it (Kazakh, Russian or Latin)."),
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Match a free-text address to a settlement; "needs a person" with candidates when unsure."""
    from .cases.matching import match_address

    m = match_address(text, _gazetteer(gazetteer))
    if as_json:
        emit_json(m.as_dict())
        return
    if m.needs_person:
        console.print(f"needs a person ({m.reason}); candidates:", highlight=False)
    else:
        console.print(f"{safe(m.name_kk or '')} / {safe(m.name_ru or '')}  KATO {m.kato}  "
                      f"district {m.district_kato}  score {m.score:.1f}", highlight=False)
    if m.candidates:
        table = Table("KATO", "name (kk)", "name (ru)", "district", "score")
        for c in m.candidates:
            table.add_row(c.kato, safe(c.name_kk), safe(c.name_ru), c.district_kato, f"{c.score:.1f}")
        console.print(table)



CasesDbOpt = typer.Option(
    "qamtu.db",
    "--db",
    envvar="QAMTU_DB",
    help="Store holding the cases tables: a SQLite file or postgresql://user@host/db.",
)
ByOpt = typer.Option(..., "--by", help="Who does this (name of the official); recorded in the case history.")


def _cases_store(db: str, create: bool = False):
    from .cases.db import open_cases_store

    return open_cases_store(db, create=create)


def _cases_date(text: Optional[str], option: str = "--date"):
    from datetime import date, datetime, timezone

    if text is None:
        return datetime.now(timezone.utc).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise QamtuError(f"{option} {text!r}: give a date YYYY-MM-DD") from None


def _complaint_observations(db):
    """Residents' complaints of the store as observations of the problem picture (None without cases tables)."""
    from .cases.problems import observations_from_db

    return observations_from_db(db)


@cases_app.command("register")
def cases_register(
    channel: str = choice_option(..., "--channel", choice=COMPLAINT_CHANNEL, help="How the complaint came in."),
    number: str = typer.Option(..., "--number", help="The channel's own number (E-Otinish, 109, incoming mail)."),
    received: str = typer.Option(..., "--received", help="Day of receipt = registration (APPK art. 64), YYYY-MM-DD."),
    name: str = typer.Option(..., "--name", help="Applicant's full name (APPK art. 63)."),
    postal_address: str = typer.Option(..., "--postal-address", help="Applicant's postal address (APPK art. 63)."),
    substance: str = typer.Option(..., "--substance", help="What the complaint is about (APPK art. 63)."),
    place: str = typer.Option(..., "--place", help="The place as the applicant wrote it (matched to a settlement)."),
    addressee: str = typer.Option("inspection", "--addressee", help="Body or official addressed (APPK art. 63)."),
    iin: str = typer.Option("", "--iin", help="Applicant's IIN (12 digits, control digit checked)."),
    phone: str = typer.Option("", "--phone", help="Applicant's phone (personal data: never public, never logged)."),
    language: str = choice_option("ru", "--language", choice=DOCUMENT_LANGUAGE, help="The answer's language."),
    operator: Optional[list[str]] = typer.Option(None, "--operator", help="Operator (repeat); default: from the text."),
    service: Optional[list[str]] = choice_option(None, "--service", choice=COMPLAINT_SERVICE,
                                                 help="Service (repeat; default: from the text)."),
    kato: Optional[str] = typer.Option(None, "--kato", help="Settlement KATO when known (else matched from --place)."),
    by: str = ByOpt,
    db: str = CasesDbOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Register one complaint: issues its talon number and groups it into a case."""
    from pydantic import ValidationError

    from .cases import ports, records
    from .cases.models import CHANNELS, Applicant, ComplaintFacts
    from .cases.registers import appeals

    if channel not in CHANNELS:
        raise QamtuError(f"--channel {channel!r}: choose from {', '.join(CHANNELS)}")
    g = _gazetteer(gazetteer)
    found = ports.extract(substance + " " + place)
    m = {"kato": kato, "score": None, "needs_person": False} if kato else ports.match_address(place, g)
    ops = [ports.operator_code(o, "--operator") for o in operator] if operator else list(found["operators"])
    svcs = list(service or found["services"])
    try:
        facts = ComplaintFacts(
            channel=channel,
            external_number=number,
            received=received,
            addressee=addressee,
            substance=substance,
            language=language,
            address_text=place,
            kato=None if m["needs_person"] else m["kato"],
            match_score=m["score"],
            needs_person=bool(m["needs_person"]) or not ops or not svcs,
            operators=ops,
            services=svcs,
        )
        person = Applicant(name=name, iin=iin, postal_address=postal_address, phone=phone)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise QamtuError(f"--{str(err['loc'][0]).replace('_', '-')}: {err['msg']}") from None
    with _cases_store(db, create=True) as store:
        out = records.register_complaint(store, facts, person, by=by, appeals=appeals(), gazetteer=g)
    out["match"] = m
    if as_json:
        emit_json(out)
        return
    state = "registered" if out["created"] else "already registered"
    talon = out["complaint_id"]
    cases = ", ".join(out["cases"]) or (
        f"none yet (needs a person: `qamtu cases confirm {talon} --kato ... " f"--operator ... --service ...`)"
    )
    console.print(f"{state}: talon {talon}; cases: {cases}", highlight=False)


@cases_app.command("import")
def cases_import(
    file: Path = typer.Argument(..., help="CSV (UTF-8, , or ;) or XLSX export of complaints."),
    mapping: Optional[Path] = typer.Option(
        None,
        "--mapping",
        help="Column-mapping TOML (default: the shipped template's, " "cases/data/templates/complaints-mapping.toml).",
    ),
    by: str = ByOpt,
    db: str = CasesDbOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Import complaints: all or nothing, errors by row number, rows already imported are skipped."""
    from rich.progress import BarColumn, Progress, TextColumn

    from .cases.importer import import_file, load_mapping
    from .cases.registers import appeals

    m = load_mapping(mapping)
    g = _gazetteer(gazetteer)
    with _cases_store(db, create=True) as store, Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        console=err_console,
        disable=as_json,
    ) as progress:
        tasks: dict[str, Any] = {}

        def tick(what: str, i: int, n: int) -> None:
            if what not in tasks:
                tasks[what] = progress.add_task(what, total=n)
            progress.update(tasks[what], completed=i)

        out = import_file(store, file, by=by, appeals=appeals(), mapping=m, gazetteer=g, progress=tick)
    if as_json:
        emit_json(out)
        return
    console.print(
        f"{out['rows']} rows: {out['created']} new, {out['skipped']} already imported, "
        f"{out['needs_person']} need a person (`qamtu cases list --complaints --unassigned`); "
        f"{out['cases']} cases",
        highlight=False,
    )


@cases_app.command("confirm")
def cases_confirm(
    complaint: str = typer.Argument(..., help="Talon number (QT-YYYY-NNNNNN)."),
    kato: Optional[str] = typer.Option(None, "--kato", help="Settlement KATO confirmed by staff."),
    operator: Optional[list[str]] = typer.Option(None, "--operator", help="Operator confirmed by staff (repeat)."),
    service: Optional[list[str]] = choice_option(None, "--service", choice=COMPLAINT_SERVICE,
                                                 help="Service confirmed by staff (repeat)."),
    by: str = ByOpt,
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Staff confirm the settlement, operator(s) and service(s) of a complaint; it is then grouped into a case."""
    from .cases import ports, records
    from .cases.registers import appeals

    with _cases_store(db) as store:
        ops = [ports.operator_code(o, "--operator") for o in operator] if operator else None
        out = records.confirm_complaint(
            store, complaint, by=by, appeals=appeals(), kato=kato, operators=ops, services=service
        )
    if as_json:
        emit_json(out)
        return
    console.print(f"{complaint}: cases {', '.join(out['cases'])}", highlight=False)


@cases_app.command("list")
def cases_list(
    state: Optional[str] = choice_option(None, "--state", choice=CASE_STATE, help="Only cases in this state."),
    complaints_: bool = typer.Option(False, "--complaints", help="List complaints instead of cases."),
    unassigned: bool = typer.Option(False, "--unassigned", help="With --complaints: only those not yet in a case."),
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Cases (or complaints) without personal data."""
    from .cases import records
    from .cases.states import STATES

    if state is not None and state not in STATES:
        raise QamtuError(f"--state {state!r}: choose from {', '.join(STATES)}")
    with _cases_store(db) as store:
        rows = (
            records.complaints(store, unassigned=unassigned) if complaints_ else records.list_cases(store, state=state)
        )
    if as_json:
        emit_json(rows)
        return
    if complaints_:
        table = Table("talon", "channel", "number", "received", "KATO", "operators", "services", "answered")
        for r in rows:
            table.add_row(
                r["complaint_id"],
                r["channel"],
                safe(r["external_number"]),
                r["received"],
                r["kato"] or "?",
                safe(", ".join(r["operators"])),
                ", ".join(r["services"]),
                r["answered_on"] or "",
            )
    else:
        table = Table("case", "KATO", "operator", "service", "opened", "complainants", "state", "outcome")
        for r in rows:
            table.add_row(
                r["case_id"],
                r["kato"],
                safe(r["operator"]),
                r["service"],
                r["opened"],
                str(r["complainants"]),
                r["state"],
                r["outcome"] or "",
            )
    console.print(table)


@cases_app.command("show")
def cases_show(
    ident: str = typer.Argument(..., help="Case id (CASE-...) or talon number (QT-...)."),
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """One case with its history (who, when), or one complaint (no personal data)."""
    from .cases import records

    with _cases_store(db) as store:
        data = records.complaint(store, ident) if ident.startswith("QT-") else records.get_case(store, ident)
    if as_json:
        emit_json(data)
        return
    if "history" not in data:
        console.print_json(json.dumps(data, ensure_ascii=False, default=str))
        return
    console.print(
        f"{data['case_id']}  {data['kato']}  {safe(data['operator'])}  {data['service']}  state "
        f"[bold]{data['state']}[/]  outcome {data['outcome'] or '—'}  complainants {data['complainants']}  "
        f"next: {', '.join(data['allowed']) or '—'}"
    )
    table = Table("seq", "time (UTC)", "kind", "by", "details")
    for h in data["history"]:
        p = dict(h["payload"])
        who = p.pop("by", "")
        table.add_row(
            str(h["seq"]),
            h["time_utc"][:19],
            h["kind"],
            safe(who),
            safe(", ".join(f"{k}={v}" for k, v in sorted(p.items()))),
        )
    console.print(table)


@cases_app.command("move")
def cases_move(
    case: str = typer.Argument(..., help="Case id."),
    to: str = typer.Argument(..., help="Target state (see `qamtu cases show CASE` for the allowed ones)."),
    set_: Optional[list[str]] = typer.Option(
        None,
        "--set",
        help="Field of the transition, NAME=VALUE (repeat): e.g. "
        "act_number, act_registered, inspection_id, order_deadline, outcome.",
    ),
    by: str = ByOpt,
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Move a case to another state; refused (listing the allowed ones) when the state machine forbids it."""
    from .cases import records

    fields = {}
    for item in set_ or []:
        if "=" not in item:
            raise QamtuError(f"--set {item!r}: give NAME=VALUE")
        k, v = item.split("=", 1)
        fields[k.strip()] = v
    with _cases_store(db) as store:
        data = records.transition(store, case, to, by=by, fields=fields)
    if as_json:
        emit_json(data)
        return
    console.print(f"{case}: {data['state']} (next: {', '.join(data['allowed']) or '—'})", highlight=False)


@cases_app.command("extend")
def cases_extend(
    complaint: str = typer.Argument(..., help="Talon number."),
    until: str = typer.Option(..., "--until", help="New answer date (at most 2 months after receipt), YYYY-MM-DD."),
    decided: Optional[str] = typer.Option(None, "--decided", help="Day of the reasoned decision (default: today)."),
    reason: str = typer.Option(..., "--reason", help="Reason of the decision (APPK art. 76)."),
    by: str = ByOpt,
    db: str = CasesDbOpt,
    registers: Optional[Path] = RegistersOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Extend the answer date by a reasoned decision; prints the day the applicant must be told by."""
    from .cases import records
    from .cases.registers import appeals
    from .cases.workdays import load_calendar

    with _cases_store(db) as store:
        out = records.extend(
            store,
            complaint,
            until=_cases_date(until, "--until"),
            decided=_cases_date(decided, "--decided"),
            by=by,
            reason=reason,
            cal=load_calendar(registers),
            appeals=appeals(registers),
        )
    if as_json:
        emit_json(out)
        return
    console.print(
        f"{complaint}: answer due {out['due']}; tell the applicant by {out['extension_notice_due']}", highlight=False
    )


@cases_app.command("due")
def cases_due(
    date_: Optional[str] = typer.Option(None, "--date", help="Day to look from (default: today), YYYY-MM-DD."),
    db: str = CasesDbOpt,
    registers: Optional[Path] = RegistersOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Answers due and overdue (deemed refusal, APPK art. 91), redirections and operators' order deadlines."""
    from .cases.due import due_list
    from .cases.registers import appeals
    from .cases.workdays import load_calendar

    with _cases_store(db) as store:
        out = due_list(store, _cases_date(date_), load_calendar(registers), appeals(registers))
    if as_json:
        emit_json(out)
        return
    table = Table("talon", "received", "due", "working days left", "status", "cases", title=f"Answers ({out['date']})")
    for r in out["answers"]:
        status = r["status"] + (
            f" — deemed refusal since {r['deemed_refusal_from']}" if r["deemed_refusal_from"] else ""
        )
        table.add_row(
            r["complaint_id"],
            r["received"],
            r["due"] + (" (extended)" if r["extended"] else ""),
            str(r["working_days_left"]),
            status,
            ", ".join(r["cases"]) or "not grouped",
        )
    console.print(table)
    if out["redirections"]:
        t = Table(
            "talon",
            "redirect by",
            "working days left",
            "status",
            title="Not yet accepted: redirect within 3 working days if outside competence",
        )
        for r in out["redirections"]:
            t.add_row(r["complaint_id"], r["redirect_due"], str(r["working_days_left"]), r["status"])
        console.print(t)
    if out["orders"]:
        t = Table("case", "order", "deadline", "days left", "next", title="Orders to operators")
        for r in out["orders"]:
            t.add_row(r["case_id"], safe(str(r["order_number"])), r["order_deadline"], str(r["days_left"]), r["next"])
        console.print(t)
    for d in out["calendar"]["doubts"]:
        console.print(f"calendar not confirmed: {safe(d)}", highlight=False)


@cases_app.command("verify")
def cases_verify(
    case: Optional[str] = typer.Argument(None, help="Case id (default: every case)."),
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Check the hash chain of each case's history; exit 1 naming the first broken entry."""
    from .cases import records

    with _cases_store(db) as store:
        reports = records.verify(store, case)
    bad = [r for r in reports if not r["ok"]]
    if as_json:
        emit_json(reports)
    else:
        for r in bad:
            console.print(f"[bold red]BROKEN[/] {r['case_id']} at entry {r['broken_at']}: {safe(str(r['reason']))}")
        console.print(f"{len(reports) - len(bad)} of {len(reports)} case histories intact", highlight=False)
    if bad:
        raise typer.Exit(1)


@cases_app.command("link")
def cases_link(
    case: str = typer.Argument(...),
    inspection: str = typer.Argument(...),
    role: str = choice_option("measurement", "--role", choice=CASE_LINK_ROLE,
                              help="How the inspection serves the case (followup: the re-measurement after the "
                                   "order's deadline)."),
    findings: bool = typer.Option(
        True,
        "--findings/--no-findings",
        help="Copy the inspection's findings " "into the case (needs the inspection in the same store).",
    ),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Coverage rule set (default: the bundled one)."),
    registers: Optional[Path] = RegistersOpt,
    by: str = ByOpt,
    db: str = CasesDbOpt,
) -> None:
    """Link an inspection to a case and bring its findings into the case history."""
    from .cases import records
    from .cases.links import link_with_findings

    with _cases_store(db) as store:
        out = link_with_findings(
            store,
            case,
            inspection,
            by=by,
            role=role,
            with_findings=findings,
            rules_path=rules,
            registers_folder=registers,
        )
        data = records.get_case(store, case)
    console.print(
        f"{case}: linked {inspection} ({role}); findings verdict: {out.get('verdict') or '—'}; "
        f"state {data['state']}",
        highlight=False,
    )


@cases_app.command("answer")
def cases_answer(
    complaint: str = typer.Argument(..., help="Talon number."),
    out: Path = typer.Option(
        Path("answers"), "--out", help="Folder; the letter goes to OUT/<talon>/answer_<lang>.pdf/.docx."
    ),
    lang: Optional[str] = choice_option(None, "--lang", choice=DOCUMENT_LANGUAGE,
                                        help="Default: the applicant's language."),
    date_: Optional[str] = typer.Option(None, "--date", help="Date of the letter (default: today)."),
    number: Optional[str] = typer.Option(
        None, "--number", help="Outgoing number of the letter (default: ANS-<talon>)."
    ),
    templates: Optional[Path] = typer.Option(
        None, "--templates", help="Folder with edited answer_kk.docx / answer_ru.docx."
    ),
    registers: Optional[Path] = RegistersOpt,
    by: str = ByOpt,
    db: str = CasesDbOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Write the reasoned answer letter (DOCX + PDF) to one applicant and record that it was issued."""
    from .cases.answers import write_answer

    if lang is not None and lang not in ("kk", "ru"):
        raise QamtuError(f"--lang {lang!r}: choose kk or ru")
    with _cases_store(db) as store:
        files = write_answer(
            store,
            complaint,
            out,
            by=by,
            lang=lang,
            issue_date=_cases_date(date_),
            answer_number=number,
            registers_folder=registers,
            gazetteer=_gazetteer(gazetteer),
            templates=templates,
        )
    if as_json:
        emit_json({k: str(v) for k, v in files.items()})
        return
    for name, path in files.items():
        console.print(f"wrote {path}", highlight=False)


@cases_app.command("export")
def cases_export(
    out: Path = typer.Option(..., "--out", help="CSV file to write."),
    with_personal_data: bool = typer.Option(
        False, "--with-personal-data", help="Include names, IIN, addresses " "(logged: needs --by and --purpose)."
    ),
    by: str = typer.Option("", "--by", help="Who exports (required with --with-personal-data)."),
    purpose: str = typer.Option("", "--purpose", help="Why (required with --with-personal-data)."),
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Open data (counts per settlement x operator x service x month, no personal data) or, with the flag, the logged
    complaint list with personal data."""
    from .cases.exports import export_open_data, export_personal

    with _cases_store(db) as store:
        res = (
            export_personal(store, out, with_personal_data=True, by=by, purpose=purpose)
            if with_personal_data
            else export_open_data(store, out)
        )
    if as_json:
        emit_json(res)
        return
    console.print(
        f"wrote {res['file']} ({res['rows']} rows{', personal data, logged' if res['personal_data'] else ''})",
        highlight=False,
    )


@cases_app.command("exports-log")
def cases_exports_log(db: str = CasesDbOpt, as_json: bool = JsonOpt) -> None:
    """Every export that carried personal data: who, when, what, which file, why."""
    from .cases.exports import personal_export_log

    with _cases_store(db) as store:
        rows = personal_export_log(store)
    if as_json:
        emit_json(rows)
        return
    table = Table("time (UTC)", "by", "what", "file", "rows", "purpose")
    for r in rows:
        table.add_row(
            r["time_utc"][:19],
            safe(r["actor"]),
            safe(r["what"]),
            safe(r["target"]),
            str(r["n_rows"]),
            safe(r["purpose"]),
        )
    console.print(table)


@cases_app.command("calendar")
def cases_calendar(
    year: int = typer.Argument(..., help="Year (the calendar file covers 2024-2027)."),
    registers: Optional[Path] = RegistersOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Days off (holidays, moved days, decree transfers) of a year, and whether the year is confirmed."""
    from datetime import date

    from .cases.workdays import load_calendar

    cal = load_calendar(registers)
    rows = cal.year(year)
    doubts = cal.doubts(date(year, 1, 1), date(year, 12, 31))
    if as_json:
        emit_json({"year": year, "version": cal.version, "file": cal.path, "days": rows, "doubts": doubts})
        return
    table = Table("date", "working", "why", "confirmed", title=f"{year} ({cal.version})")
    for r in rows:
        table.add_row(r["date"], "yes" if r["working"] else "no", safe(r["why"]), "yes" if r["confirmed"] else "NO")
    console.print(table)
    for d in doubts:
        console.print(f"not confirmed: {safe(d)}", highlight=False)


@cases_app.command("findings")
def cases_findings(
    inspection: str = typer.Argument(..., help="Inspection id (recorded with `qamtu probe --inspection`)."),
    rules: Optional[Path] = typer.Option(None, "--rules", help="Coverage rule set (default: the bundled one)."),
    registers: Optional[Path] = RegistersOpt,
    by: str = ByOpt,
    db: str = CasesDbOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Bring an inspection's findings into its linked cases and move them on (measured, violation or not,
    re-measured)."""
    from .cases.links import flow_findings

    with _cases_store(db) as store:
        rows = flow_findings(store, inspection, by=by, rules_path=rules, registers_folder=registers)
    if as_json:
        emit_json(rows)
        return
    for r in rows:
        console.print(
            f"{r['case_id']}: verdict {r['verdict']}; moved to {', '.join(r['moved']) or 'nothing (a person decides)'}",
            highlight=False,
        )


@cases_app.command("plan")
def cases_plan(
    out: Path = typer.Option(Path("trips.xlsx"), "--out", help="Trip sheet (XLSX)."),
    date_: Optional[str] = typer.Option(None, "--date", help="First day of the trips (default: today)."),
    inspector: Optional[list[str]] = typer.Option(
        None,
        "--inspector",
        help="Inspector (repeat); with --instrument, "
        "inspection records are created for cases with a registered act.",
    ),
    instrument: Optional[list[str]] = typer.Option(
        None, "--instrument", help="Instrument id of the register (repeat)."
    ),
    registers: Optional[Path] = RegistersOpt,
    by: str = ByOpt,
    db: str = CasesDbOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Group open cases that need a measurement into trips by district and day; write the trip sheet and the
    inspection records `qamtu probe --inspection` takes."""
    from .cases.plan import create_inspections, plan_trips, planning, trips_json, write_trip_sheet
    from .cases.workdays import load_calendar
    from .reports.registers import Registers

    if bool(inspector) != bool(instrument):
        raise QamtuError("--inspector and --instrument go together (both are needed for inspection records)")
    g = _gazetteer(gazetteer)
    settings = planning(registers)
    with _cases_store(db) as store:
        trips = plan_trips(
            store, start=_cases_date(date_), cal=load_calendar(registers), gazetteer=g, settings=settings
        )
        made = (
            create_inspections(
                store,
                trips,
                registers=Registers.load(registers),
                gazetteer=g,
                inspectors=list(inspector),
                instruments=list(instrument or []),
                by=by,
            )
            if inspector
            else []
        )
    path = write_trip_sheet(trips, out, settings=settings)
    if as_json:
        emit_json({"trip_sheet": str(path), "trips": trips_json(trips), "inspections": made})
        return
    for t in trips:
        console.print(
            f"{t.day.isoformat()}  {safe(t.district_ru)}: {len(t.stops)} stops, {t.km} km, "
            f"~{t.minutes // 60:.0f} h {t.minutes % 60:.0f} min",
            highlight=False,
        )
    for m in made:
        console.print(
            f"inspection {m['inspection_id']} ({m['operator']}, {m['kato']}, {m['day']}) for {m['case_id']}: "
            f"`qamtu probe --inspection {m['inspection_id']} ...`",
            highlight=False,
        )
    console.print(f"wrote {path}", highlight=False)


@cases_app.command("report")
def cases_report(
    out: Path = typer.Option(Path("complaints-districts.xlsx"), "--out", help="XLSX workbook."),
    png_dir: Optional[Path] = typer.Option(None, "--png-dir", help="Folder of the PNG charts (default: <out>-charts)."),
    date_: Optional[str] = typer.Option(None, "--date", help="As of this day (default: today)."),
    start: Optional[str] = typer.Option(None, "--from", help="First day of receipt counted."),
    end: Optional[str] = typer.Option(None, "--to", help="Last day of receipt counted."),
    registers: Optional[Path] = RegistersOpt,
    db: str = CasesDbOpt,
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """The 109-style district table: received, closed on time, in progress, overdue; by channel, operator, service."""
    from .cases.registers import appeals
    from .cases.report import district_report, write_report
    from .cases.workdays import load_calendar

    with _cases_store(db) as store:
        rep = district_report(
            store,
            _cases_date(date_),
            load_calendar(registers),
            appeals(registers),
            gazetteer=_gazetteer(gazetteer),
            start=_cases_date(start, "--from") if start else None,
            end=_cases_date(end, "--to") if end else None,
        )
    files = write_report(rep, out, png_dir)
    if as_json:
        emit_json({**rep, "files": {k: str(v) for k, v in files.items()}})
        return
    table = Table("district", "received", "on time", "late", "in progress", "overdue", "on-time share")
    for r in rep["tables"]["district"]:
        share = "—" if r["on_time_share"] is None else f"{100 * r['on_time_share']:.0f} %"
        table.add_row(
            safe(r["name_ru"]),
            *(str(r[c]) for c in ("received", "closed_on_time", "closed_late", "in_progress", "overdue")),
            share,
        )
    console.print(table)
    for f in files.values():
        console.print(f"wrote {f}", highlight=False)


# --------------------------------------------------------------------------- office
office_app = typer.Typer(help="The office web application: staff pages, public pages, Open311 (docs/office.md).",
                         no_args_is_help=True)
office_users_app = typer.Typer(help="Staff accounts of the office application.", no_args_is_help=True)
office_keys_app = typer.Typer(help="Open311 API keys (only their hashes are stored).", no_args_is_help=True)
office_app.add_typer(office_users_app, name="users")
office_app.add_typer(office_keys_app, name="keys")
app.add_typer(office_app, name="office")
OfficeDbOpt = typer.Option("qamtu.db", "--db", help="The store: a SQLite file (created when missing) or "
                           "postgresql://user@host/db.")


@office_app.command("serve")
def office_serve(
    db: str = OfficeDbOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8080, "--port", help="TCP port."),
    behind_proxy: bool = typer.Option(False, "--behind-proxy", help="Trust X-Forwarded-Proto/-For from a TLS "
                                      "reverse proxy (only when one sits in front; docs/office.md)."),
    max_upload_mb: int = typer.Option(512, "--max-upload-mb", help="Largest store file upload, MiB."),
    files: Optional[Path] = typer.Option(None, "--files", help="Folder for answer letters, inspection documents "
                                         "and uploads (default: office-files/ beside a SQLite store, else here)."),
) -> None:
    """Serve the office application (one uvicorn worker) until Ctrl-C."""
    from .office.app import serve

    if not 1 <= port <= 65535:
        raise QamtuError(f"--port {port}: give 1-65535")
    if max_upload_mb < 1:
        raise QamtuError(f"--max-upload-mb {max_upload_mb}: give at least 1")
    console.print(f"office on http://{host}:{port}/staff/ (store {shown_db(db)}); Ctrl-C stops",
                  highlight=False)
    serve(db, host=host, port=port, behind_proxy=behind_proxy, max_upload=max_upload_mb * 2**20, work_dir=files)


def _new_password(name: str) -> str:
    password = typer.prompt(f"password for {name}", hide_input=True, confirmation_prompt=True)
    return password


@office_users_app.command("add")
def office_users_add(name: str = typer.Argument(..., help="User name (a-z, 0-9, '.', '_', '-')."),
                     role: str = choice_option(..., "--role", choice=OFFICE_ROLE, help="The user's role."),
                     db: str = OfficeDbOpt) -> None:
    """Add a staff account; the password is asked twice (never an option)."""
    from .office import auth
    from .store import open_store

    auth.check_role(role)
    name = auth.check_name(name)
    password = _new_password(name)
    with open_store(db, create=True) as store:
        auth.add_user(store, name, role, password)
    console.print(f"user {name} added with role {role}", highlight=False)


@office_users_app.command("list")
def office_users_list(db: str = OfficeDbOpt, as_json: bool = JsonOpt) -> None:
    """List staff accounts (names and roles; never hashes)."""
    from .office import auth
    from .store import open_store

    with open_store(db) as store:
        rows = auth.users(store)
    if as_json:
        emit_json(rows)
        return
    table = Table("name", "role", "active", "demo", "created", title="Office users")
    for r in rows:
        table.add_row(safe(r["name"]), r["role"], "yes" if r["active"] else "no", "DEMO" if r["demo"] else "",
                      r["created_utc"])
    console.print(table)


@office_keys_app.command("add")
def office_keys_add(name: str = typer.Argument(..., help="Name of the client (e.g. the akimat's 109 system)."),
                    db: str = OfficeDbOpt) -> None:
    """Create an Open311 API key and print it once (only its SHA-256 is stored)."""
    from .office import auth
    from .store import open_store

    with open_store(db, create=True) as store:
        key = auth.add_key(store, name)
    console.print(f"API key for {safe(name)} (shown once, store it now):", highlight=False)
    print(key)


def main() -> None:
    """Console entry point (``qamtu``): the app itself turns Qamtu errors into one line and exit 1."""
    app(prog_name="qamtu")


if __name__ == "__main__":  # pragma: no cover
    main()
