"""The ``qamtu`` command: a thin typer layer over the four packages.

Each command parses its options, calls one library function and prints the result, as a rich
table for people or as JSON with ``--json``. Errors derived from :class:`qamtu.QamtuError` are
printed as one line naming the command and exit with status 1; nothing here holds logic that a
test of the library could not reach.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import QamtuError, __version__

app = typer.Typer(
    name="qamtu",
    help="Qamtu: measure mobile and internet quality in the field; build maps and evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)

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
settlements_app = typer.Typer(help="The settlement gazetteer of Turkistan region (KATO 61).", no_args_is_help=True)
app.add_typer(settlements_app, name="settlements")

GazetteerOpt = typer.Option(None, "--gazetteer", help="Settlements GeoJSON (default: the bundled settlements.geojson).")


def _gazetteer(path: Optional[Path]):
    from .mapping.gazetteer import Gazetteer

    return Gazetteer.load(path)


@settlements_app.command("build")
def settlements_build(
    sources: Optional[Path] = typer.Option(None, "--sources", help="Folder of source files (default: the bundled data/sources)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output GeoJSON (default: settlements.geojson of the package)."),
    as_json: bool = JsonOpt,
) -> None:
    """Rebuild settlements.geojson from the bundled KATO, OSM and GeoNames sources (same bytes every run)."""
    from .mapping.build import build_settlements

    result = build_settlements(sources, out)
    if as_json:
        emit_json(result)
    else:
        console.print(f"wrote {result['features']} settlements to {result['path']} (sha256 {result['sha256'][:16]}…)")
        console.print(f"wrote {result['districts']} district polygons to {result['districts_path']}")


@settlements_app.command("stats")
def settlements_stats(
    gazetteer: Optional[Path] = GazetteerOpt,
    all_kinds: bool = typer.Option(False, "--all-kinds", help="Count railway stations and other objects too."),
    as_json: bool = JsonOpt,
) -> None:
    """Per district: settlements total, with and without coordinates."""
    from .mapping.gazetteer import district_stats

    rows = district_stats(_gazetteer(gazetteer), populated_only=not all_kinds)
    if as_json:
        emit_json(rows)
        return
    table = Table(title="Settlements by district" + ("" if all_kinds else " (cities, towns, villages)"))
    for header in ("KATO", "Kazakh", "Russian", "total", "located", "no coords"):
        table.add_column(header, justify="right" if header in ("total", "located", "no coords") else "left")
    for r in rows:
        table.add_row(r["district_kato"], r["district_name_kk"], r["district_name_ru"],
                      str(r["total"]), str(r["with_coords"]), str(r["without_coords"]),
                      end_section=r is rows[-2])
    console.print(table)


@settlements_app.command("search")
def settlements_search(
    text: str = typer.Argument(..., help="Name in Kazakh, Russian or Latin letters; case and Kazakh/Russian look-alikes ignored."),
    limit: int = typer.Option(20, "--limit", min=1, help="At most this many results."),
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Find settlements by name."""
    found = _gazetteer(gazetteer).search(text, limit=limit)
    if as_json:
        emit_json([s.as_dict() for s in found])
        return
    if not found:
        console.print(f"no settlement matches {text!r}")
        raise typer.Exit(1)
    table = Table()
    for col in ("kato", "name_kk", "name_ru", "name_latin", "kind", "district", "lat", "lon"):
        table.add_column(col)
    for s in found:
        table.add_row(s.kato, s.name_kk, s.name_ru, s.name_latin or "", s.kind, s.district_name_ru,
                      "" if s.lat is None else f"{s.lat:.5f}", "" if s.lon is None else f"{s.lon:.5f}")
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
    table = Table(show_header=False)
    for k, v in data.items():
        table.add_row(k, "" if v is None else str(v))
    console.print(table)


@settlements_app.command("qa")
def settlements_qa(
    out: Optional[Path] = typer.Option(None, "--out", help="Write the Markdown report here (e.g. docs/gazetteer-qa.md)."),
    limit_km: float = typer.Option(30.0, "--limit-km", help="List points further than this from their okrug's median (km)."),
    gazetteer: Optional[Path] = GazetteerOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Points to check in the field: far from their rural okrug, or without coordinates."""
    from .mapping.qa import okrug_outliers, qa_markdown

    g = _gazetteer(gazetteer)
    if as_json:
        emit_json(okrug_outliers(g, limit_km))
        return
    text = qa_markdown(g, limit_km)
    if out:
        out.write_text(text, encoding="utf-8")
        console.print(f"wrote {out}")
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
        console.print(f"no settlement: {tag.reason.text}")
        raise typer.Exit(1)
    console.print(f"{data['kato']} {data['name_kk']} / {data['name_ru']} — {data['distance_m']:.0f} m "
                  f"(reach {data['reach_m']:.0f} m)")


def main() -> None:
    """Console entry point: run the app, turning Qamtu errors into one clear line and exit code 1."""
    try:
        app()
    except QamtuError as exc:
        command = " ".join(["qamtu", *sys.argv[1:3]]).strip()
        err_console.print(f"[bold red]error[/] ({command}): {exc}", highlight=False)
        sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
