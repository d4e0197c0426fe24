"""``qamtu cases import FILE``: complaints from a CSV or XLSX export with a column-mapping file.

E-Otinish and the 109 centre publish no export format, so the columns are named in a TOML mapping
(``cases/data/templates/complaints-mapping.toml`` documents every key and matches the shipped
``complaints-template.csv``). The import is all-or-nothing: every row is checked first (dates,
channel, language, IIN control digit, required fields, repeated numbers) and a refusal lists each
bad row by its spreadsheet row number (the header is row 1); only a clean file is written, in one
transaction. It is idempotent by channel + external number: a row already in the store is skipped.

Addresses are matched to settlements (:func:`qamtu.cases.ports.match_address`) and operators and
services extracted from the text (:func:`qamtu.cases.ports.extract`) unless the file has columns
for them; a row whose place is unsure waits for a person (``qamtu cases confirm``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Optional

from pydantic import ValidationError

from .errors import CasesError, ImportRowsError
from .models import CHANNELS, SERVICES, Applicant, ComplaintFacts
from .ports import check_iin, extract, match_address, operator_code
from .. import package_path

FIELDS = (
    "external_number",
    "received",
    "appeal_date",
    "applicant_name",
    "iin",
    "postal_address",
    "phone",
    "email",
    "addressee",
    "substance",
    "address_text",
    "language",
    "channel",
    "operators",
    "services",
    "kato",
)
REQUIRED = ("external_number", "received", "applicant_name", "postal_address", "substance", "address_text")
MAX_ERRORS_SHOWN = 50


def template_path(name: str) -> Path:
    """A shipped template: ``complaints-template.csv`` or ``complaints-mapping.toml``."""
    return package_path("cases", "data", "templates", name)


@dataclass
class Mapping:
    """A column-mapping file: field -> column header, value tables, defaults, date formats."""

    path: str
    columns: dict[str, str]
    date_formats: list[str]
    defaults: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    list_separator: str = ";"


def load_mapping(path: Path | str | None = None) -> Mapping:
    """Read and check a mapping file (default: the shipped template's mapping)."""
    import tomllib

    p = Path(path) if path is not None else template_path("complaints-mapping.toml")
    if True:

        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CasesError(
                f"--mapping {p}: file not found (start from cases/data/templates/complaints-mapping.toml)"
            ) from None
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CasesError(f"--mapping {p}: not valid UTF-8 TOML ({exc})") from None
    cols = data.get("columns")
    if not isinstance(cols, dict):
        raise CasesError(f'{p}: section [columns] missing (field = "column header")')
    unknown = sorted(set(cols) - set(FIELDS))
    if unknown:
        raise CasesError(f"{p}: [columns] has unknown field(s) {', '.join(unknown)} (fields: {', '.join(FIELDS)})")
    defaults = {k: str(v) for k, v in data.get("defaults", {}).items()}
    bad = sorted(set(defaults) - set(FIELDS))
    if bad:
        raise CasesError(f"{p}: [defaults] has unknown field(s) {', '.join(bad)}")
    missing = [f for f in REQUIRED + ("addressee", "channel", "language") if f not in cols and f not in defaults]
    if missing:
        raise CasesError(f"{p}: field(s) {', '.join(missing)} need a column in [columns] or a value in [defaults]")
    formats = data.get("date_formats", ["%Y-%m-%d"])
    if not isinstance(formats, list) or not formats:
        raise CasesError(f'{p}: date_formats must be a list of strptime formats such as ["%d.%m.%Y"]')
    values = {k: {str(a).strip().lower(): str(b) for a, b in v.items()} for k, v in data.get("values", {}).items()}
    return Mapping(
        str(p),
        {k: str(v) for k, v in cols.items()},
        [str(f) for f in formats],
        defaults,
        values,
        str(data.get("list_separator", ";")),
    )


def read_rows(path: Path | str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """(header, [(row number, cells)]) of a CSV (UTF-8, ``,`` or ``;``) or the first sheet of an XLSX."""
    p = Path(path)
    if not p.exists():
        raise CasesError(f"{p}: file not found")
    if p.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(p, read_only=True, data_only=True)
        except Exception as exc:
            raise CasesError(f"{p}: not a readable XLSX ({type(exc).__name__}: {exc})") from None
        ws = wb.worksheets[0]
        rows = [[_cell(c) for c in r] for r in ws.iter_rows(values_only=True)]
        wb.close()
    elif p.suffix.lower() == ".csv":
        try:
            text = p.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CasesError(f"{p}: not UTF-8 ({exc}); save the CSV as UTF-8") from None
        first = text.split("\n", 1)[0]
        delim = ";" if first.count(";") > first.count(",") else ","
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
    else:
        raise CasesError(f"{p}: give a .csv or .xlsx file")
    if not rows:
        raise CasesError(f"{p}: the file is empty (row 1 must be the header)")
    header = [h.strip() for h in rows[0]]
    body = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(str(c).strip() for c in r)]
    return header, body


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, datetime):
        return v.date().isoformat()
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


@dataclass
class Parsed:
    row: int
    facts: ComplaintFacts
    applicant: Applicant


def parse(
    path: Path | str,
    mapping: Mapping,
    *,
    gazetteer=None,
    demo: bool = False,
    progress: Optional[Callable[[int, int], None]] = None,
) -> list[Parsed]:
    """Check every row; raise :class:`ImportRowsError` listing all bad rows, else return them parsed."""
    header, body = read_rows(path)
    index = {}
    for f, col in mapping.columns.items():
        if col not in header:
            raise CasesError(
                f"{path}: column {col!r} (field {f}, {mapping.path}) not in the header; "
                f"the header has: {', '.join(h for h in header if h)}"
            )
        index[f] = header.index(col)
    errors: list[str] = []
    out: list[Parsed] = []
    matches: dict[str, dict[str, Any]] = {}
    seen: dict[tuple[str, str], int] = {}
    for n, (rownum, cells) in enumerate(body, 1):
        if progress and n % 500 == 0:
            progress(n, len(body))
        raw = {f: (cells[i].strip() if i < len(cells) and cells[i] is not None else "") for f, i in index.items()}
        for f, v in mapping.defaults.items():
            if not raw.get(f):
                raw[f] = v
        try:
            out.append(_row(rownum, raw, mapping, gazetteer, demo, seen, matches))
        except _RowError as exc:
            errors.append(f"row {rownum}, {exc}")
    if progress:
        progress(len(body), len(body))
    if errors:
        shown = errors[:MAX_ERRORS_SHOWN]
        more = f"; … and {len(errors) - len(shown)} more" if len(errors) > len(shown) else ""
        raise ImportRowsError(f"{path}: {len(errors)} bad row(s), nothing imported: " + "; ".join(shown) + more)
    return out


class _RowError(Exception):
    pass


def _column(mapping: Mapping, f: str) -> str:
    return f"column '{mapping.columns[f]}'" if f in mapping.columns else f"default '{f}'"


def _date(text: str, mapping: Mapping, f: str) -> str:
    if not text:
        return ""
    for fmt in mapping.date_formats:
        for candidate in (text, text.replace("T", " ").split(" ")[0]):
            try:
                return datetime.strptime(candidate, fmt).date().isoformat()
            except ValueError:
                continue
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        raise _RowError(f"{_column(mapping, f)}: {text!r} is not a date ({', '.join(mapping.date_formats)})") from None


def _coded(text: str, mapping: Mapping, f: str, allowed: tuple[str, ...]) -> str:
    v = mapping.values.get(f, {}).get(text.strip().lower(), text.strip())
    if v not in allowed:
        raise _RowError(
            f"{_column(mapping, f)}: {text!r} is not one of {', '.join(allowed)} "
            f"(map it in [values.{f}] of {mapping.path})"
        )
    return v


def _row(rownum: int, raw: dict[str, str], mapping: Mapping, gazetteer, demo: bool, seen: dict,
         matches: dict[str, dict[str, Any]]) -> Parsed:
    for f in REQUIRED + ("addressee",):
        if not raw.get(f):
            raise _RowError(
                f"{_column(mapping, f)}: empty (required: APPK art. 63)"
                if f in mapping.columns or f in mapping.defaults
                else f"field {f}: empty"
            )
    channel = _coded(raw["channel"], mapping, "channel", CHANNELS)
    language = _coded(raw["language"], mapping, "language", ("kk", "ru"))
    key = (channel, raw["external_number"])
    if key in seen:
        raise _RowError(
            f"{_column(mapping, 'external_number')}: {channel} number {raw['external_number']!r} "
            f"repeats row {seen[key]}"
        )
    seen[key] = rownum
    received = _date(raw["received"], mapping, "received")
    appeal_date = _date(raw.get("appeal_date", ""), mapping, "appeal_date")
    try:
        check_iin(raw.get("iin", ""), _column(mapping, "iin"))
    except CasesError as exc:
        raise _RowError(str(exc)) from None
    sep = mapping.list_separator
    try:
        operators = [
            operator_code(o, _column(mapping, "operators")) for o in raw.get("operators", "").split(sep) if o.strip()
        ]
    except CasesError as exc:
        raise _RowError(str(exc)) from None
    services = [_coded(s, mapping, "services", SERVICES) for s in raw.get("services", "").split(sep) if s.strip()]
    found = extract(raw["substance"] + " " + raw["address_text"])
    operators = operators or found["operators"]
    services = services or found["services"]
    kato = raw.get("kato") or None
    score, needs_person = None, True
    if kato:
        needs_person = False
    else:
        # residents of one village write it the same way: one match per distinct text in a file
        m = matches.get(raw["address_text"])
        if m is None:
            m = matches[raw["address_text"]] = match_address(raw["address_text"], gazetteer)
        kato, score, needs_person = m["kato"], m["score"], bool(m["needs_person"])
        if needs_person:
            kato = None
    try:
        facts = ComplaintFacts(
            channel=channel,
            external_number=raw["external_number"],
            received=received,
            appeal_date=appeal_date,
            addressee=raw["addressee"],
            substance=raw["substance"],
            language=language,
            address_text=raw["address_text"],
            kato=kato,
            match_score=score,
            needs_person=needs_person or not operators or not services,
            operators=operators,
            services=services,
            demo=demo,
        )
        applicant = Applicant(
            name=raw["applicant_name"],
            iin=raw.get("iin", ""),
            postal_address=raw["postal_address"],
            phone=raw.get("phone", ""),
            email=raw.get("email", ""),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        f = str(err["loc"][0]) if err["loc"] else "?"
        f = {"name": "applicant_name"}.get(f, f)
        raise _RowError(f"{_column(mapping, f) if f in FIELDS else 'field ' + f}: {err['msg']}") from None
    return Parsed(rownum, facts, applicant)


def import_file(
    store,
    path: Path | str,
    *,
    by: str,
    appeals: dict[str, Any],
    mapping: Mapping | None = None,
    gazetteer=None,
    demo: bool = False,
    progress: Optional[Callable[[str, int, int], None]] = None,
) -> dict[str, Any]:
    """Import ``path``; returns counts ``{"rows", "created", "skipped", "needs_person", "cases"}``."""
    from .records import Numbers, _register

    if not by.strip():
        raise CasesError("--by: say who imports the file")
    mapping = mapping or load_mapping()
    parsed = parse(
        path,
        mapping,
        gazetteer=gazetteer,
        demo=demo,
        progress=(lambda i, n: progress("checking rows", i, n)) if progress else None,
    )
    created = skipped = unsure = 0
    cases: set[str] = set()
    numbers = Numbers(batch=True)      # inserts held and written with executemany, in this one transaction
    with store.transaction(f"importing {path}") as tx:
        for i, p in enumerate(parsed, 1):
            r = _register(
                tx, p.facts, p.applicant, by=by, appeals=appeals, gazetteer=gazetteer, now=None, numbers=numbers
            )
            if r["created"]:
                created += 1
                unsure += int(not r["cases"])
            else:
                skipped += 1
            cases.update(r["cases"])
            if progress and i % 500 == 0:
                progress("writing", i, len(parsed))
        numbers.flush(tx)
    if progress:
        progress("writing", len(parsed), len(parsed))
    return {
        "file": str(path),
        "rows": len(parsed),
        "created": created,
        "skipped": skipped,
        "needs_person": unsure,
        "cases": len(cases),
    }
