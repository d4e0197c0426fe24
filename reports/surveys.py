"""Import of survey observations and remediation plans (CSV or XLSX) into the store.

Templates: ``reports/data/templates/problems-survey-template.csv`` and
``problems-plan-template.csv`` (header row only; :func:`write_template` writes them, or an XLSX
with an instruction sheet in Kazakh and Russian). Columns and accepted values are in
docs/problems.md.

Every row is checked (KATO known to the gazetteer, year, dimension, yes/no answer, dates, a key
appearing twice in one file); when any row is bad the import raises :class:`SurveyImportError`
naming the file and each bad row (row 1 is the header, as a spreadsheet shows it) and writes
nothing. A good file is written in one transaction; a key imported again replaces the earlier row.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Optional

import pandas as pd

from .. import package_path
from ..mapping.gazetteer import Gazetteer
from ..mapping.problems import DIMENSIONS, load_problem_rules
from ..probe.samples import time_text
from ..safeio import write_bytes, write_text
from .errors import ReportError


class SurveyImportError(ReportError):
    """A survey or plan file was refused; the message names the file and every bad row."""


@dataclass(frozen=True)
class Column:
    name: str
    required: bool
    kk: str
    ru: str
    en: str


SURVEY_TEMPLATE_COLUMNS = (
    Column("kato", True, "Елді мекеннің 9 таңбалы ҚАТО коды", "9-значный код КАТО населённого пункта",
           "9-digit KATO code of the settlement"),
    Column("year", True, "Бақылау жылы (YYYY)", "Год наблюдения (YYYY)", "year observed (YYYY, not in the future)"),
    Column("dimension", True, "Не бақыланды: tv_domestic, tv_foreign_only, radio, post, fixed_internet",
           "Что наблюдалось: tv_domestic, tv_foreign_only, radio, post, fixed_internet",
           "what was observed: tv_domestic, tv_foreign_only, radio, post, fixed_internet"),
    Column("value", True, "Жауап: yes/no (иә/жоқ, да/нет)", "Ответ: yes/no (иә/жоқ, да/нет)", "answer: yes/no"),
    Column("observed_on", False, "Күні (YYYY-MM-DD), бос болуы мүмкін", "Дата (YYYY-MM-DD), можно пусто",
           "date observed (YYYY-MM-DD, in that year), optional"),
    Column("observer", False, "Кім бақылады (инспектор, әкімдік)", "Кто наблюдал (инспектор, акимат)",
           "who observed (inspector, akimat), optional"),
    Column("note", False, "Ескерту (мысалы, қабылданатын шетелдік арналар)",
           "Примечание (например, какие иностранные каналы принимаются)", "note, optional"),
    Column("settlement", False, "Елді мекен атауы (тек оқуға, тексерілмейді)",
           "Название НП (для чтения, не проверяется)", "settlement name, for readers only (not checked)"),
)
PLAN_TEMPLATE_COLUMNS = (
    Column("kato", True, "Елді мекеннің 9 таңбалы ҚАТО коды", "9-значный код КАТО населённого пункта",
           "9-digit KATO code of the settlement"),
    Column("dimension", True, "Бағыт: internet, mobile, tv_radio, post",
           "Направление: internet, mobile, tv_radio, post", "dimension: internet, mobile, tv_radio, post"),
    Column("planned_year", True, "Жоспарланған жыл (YYYY)", "Плановый год (YYYY)", "planned fix year (YYYY)"),
    Column("programme", False, "Бағдарлама (мысалы, «Қолжетімді интернет»)",
           "Программа (например, «Доступный интернет»)", "programme, optional"),
    Column("responsible", False, "Жауапты орган", "Ответственный орган", "responsible body, optional"),
    Column("note", False, "Ескерту", "Примечание", "note, optional"),
    Column("settlement", False, "Елді мекен атауы (тек оқуға, тексерілмейді)",
           "Название НП (для чтения, не проверяется)", "settlement name, for readers only (not checked)"),
)
#: informational columns accepted and ignored
INFO_COLUMNS = {"settlement", "name", "name_kk", "name_ru", "district"}
YES = {"yes", "y", "1", "true", "иә", "ия", "иа", "да", "д"}
NO = {"no", "n", "0", "false", "жоқ", "жок", "нет", "н"}
MAX_LISTED = 25
#: Largest survey/plan file read (bytes); a region's five-year survey is well under 1 MB.
MAX_FILE_BYTES = 16 << 20
#: Largest uncompressed content of an XLSX file (bytes): a small file can inflate a lot.
MAX_XLSX_UNCOMPRESSED_BYTES = 128 << 20
#: Longest value of one cell (characters).
MAX_CELL_CHARS = 4000
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def template_path(kind: str) -> Path:
    """The bundled CSV template: ``kind`` is ``survey`` or ``plan``."""
    if kind not in ("survey", "plan"):
        raise ReportError(f"template {kind!r}: give survey or plan")
    return package_path("reports", "data", "templates", f"problems-{kind}-template.csv")


def write_template(kind: str, out: Path | str) -> Path:
    """Write the import template: ``.csv`` (header row, UTF-8) or ``.xlsx`` (header row and an
    instruction sheet in Kazakh, Russian and English)."""
    cols = SURVEY_TEMPLATE_COLUMNS if kind == "survey" else PLAN_TEMPLATE_COLUMNS if kind == "plan" else None
    if cols is None:
        raise ReportError(f"template {kind!r}: give survey or plan")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_text(out, ",".join(c.name for c in cols) + "\n", what="template")
        return out
    if out.suffix.lower() != ".xlsx":
        raise ReportError(f"{out}: a template is .csv or .xlsx")
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "data"
    ws.append([c.name for c in cols])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        ws.column_dimensions[cell.column_letter].width = 16
    info = wb.create_sheet("Нұсқау - Инструкция")
    info.append(["column", "міндетті / обязательно", "қазақша", "по-русски", "English"])
    for c in cols:
        info.append([c.name, "иә / да" if c.required else "жоқ / нет", c.kk, c.ru, c.en])
    info.append([])
    info.append(["", "", "1-жол — тақырып; бір жол — бір жазба. Қате жол болса, ештеңе жүктелмейді.",
                 "Строка 1 — заголовок; одна строка — одна запись. Если есть ошибочная строка, не загружается ничего.",
                 "Row 1 is the header; one row per record. One bad row and nothing is imported."])
    for col, width in zip("ABCDE", (16, 18, 60, 60, 50)):
        info.column_dimensions[col].width = width
    buf = io.BytesIO()  # saved in memory first: openpyxl leaves its file open when a write fails
    wb.save(buf)
    write_bytes(out, buf.getvalue(), what="template")
    return out


# --------------------------------------------------------------------------- reading files
def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    """Header names (lower-case, stripped) and (row number, values) of every non-empty row."""
    if not path.exists():
        raise SurveyImportError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise SurveyImportError(f"{path}: {size} bytes, more than the {MAX_FILE_BYTES} a survey or plan file may have; "
                                "split it into several files")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        header, rows = _read_xlsx(path)
    elif suffix not in (".csv", ".txt"):
        raise SurveyImportError(f"{path}: give a .csv (UTF-8) or .xlsx file")
    else:
        header, rows = _read_csv(path)
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        raise SurveyImportError(f"{path}: row 1: column(s) {', '.join(dup)} given twice; keep one of each")
    for n, values in rows:
        for col, v in values.items():
            if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
                raise SurveyImportError(f"{path}: row {n}, column {col}: {len(v)} characters, more than the "
                                        f"{MAX_CELL_CHARS} a cell may have")
    return header, rows


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SurveyImportError(f"{path}: not UTF-8 (byte {exc.start}); save the CSV as 'CSV UTF-8'") from None
    first = text.split("\n", 1)[0]
    delim = max((";", ",", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=True)
    header: Optional[list[str]] = None
    rows = []
    line = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # an unclosed quote (strict mode), a NUL byte, a field over the csv limit
            raise SurveyImportError(f"{path}: row {line}: cannot be read as CSV ({exc}); check its quotes") from None
        if reader.line_num != line and any("\n" in v or "\r" in v for v in values):
            raise SurveyImportError(f"{path}: row {line}: a quoted value runs over rows {line}-{reader.line_num} "
                                    "(an unbalanced quote?); one row per record, values on one line")
        line = reader.line_num + 1
        if header is None:
            header = [v.strip().lower() for v in values]
            continue
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(header) and any(v.strip() for v in values[len(header):]):
            raise SurveyImportError(f"{path}: row {reader.line_num}: {len(values)} values for {len(header)} columns")
        rows.append((reader.line_num, dict(zip(header, values))))
    if header is None:
        raise SurveyImportError(f"{path}: the file is empty (row 1 must be the header)")
    return header, rows


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, dict[str, Any]]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(path) as zf:
            inflated = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise SurveyImportError(f"{path}: not a readable XLSX workbook ({exc})") from None
    if inflated > MAX_XLSX_UNCOMPRESSED_BYTES:
        raise SurveyImportError(f"{path}: the workbook unpacks to {inflated} bytes, more than the "
                                f"{MAX_XLSX_UNCOMPRESSED_BYTES} allowed; split it into several files")
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SurveyImportError(f"{path}: not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        for ws in wb.worksheets:
            it = ws.iter_rows(values_only=True)
            first = next(it, None)
            header = [str(v).strip().lower() if v is not None else "" for v in (first or ())]
            if "kato" not in header:
                continue
            rows = []
            for n, values in enumerate(it, start=2):
                if not any(v is not None and str(v).strip() for v in values):
                    continue
                rows.append((n, {h: v for h, v in zip(header, values) if h}))
            return [h for h in header if h], rows
    finally:
        wb.close()
    raise SurveyImportError(f"{path}: no sheet has a header row with a 'kato' column")


def _text(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (datetime, date)):
        return v.strftime("%Y-%m-%d")
    return str(v).strip()


def _check_header(path: Path, header: list[str], columns: tuple[Column, ...]) -> None:
    known = {c.name for c in columns} | INFO_COLUMNS
    unknown = [h for h in header if h and h not in known]
    if unknown:
        raise SurveyImportError(f"{path}: row 1: unknown column(s) {', '.join(unknown)} "
                                f"(expected: {', '.join(c.name for c in columns)})")
    missing = [c.name for c in columns if c.required and c.name not in header]
    if missing:
        raise SurveyImportError(f"{path}: row 1: missing column(s) {', '.join(missing)}")


def _year(v: Any, lo: int, hi: int, what: str) -> int:
    t = _text(v)
    if not t.isdigit() or len(t) != 4:
        raise ValueError(f"bad {what} {t!r} (give YYYY)")
    y = int(t)
    if not lo <= y <= hi:
        raise ValueError(f"bad {what} {y} (must be {lo}..{hi})")
    return y


def _kato(v: Any, gazetteer: Gazetteer) -> str:
    t = _text(v)
    if not t:
        raise ValueError("KATO is empty")
    if not (len(t) == 9 and t.isdigit()):
        raise ValueError(f"bad KATO {t!r} (9 digits)")
    try:
        gazetteer.get(t)
    except Exception:
        raise ValueError(f"unknown KATO {t} (not in the gazetteer of Turkistan region)") from None
    return t


def _fail(path: Path, errors: list[str], total: int) -> SurveyImportError:
    listed = errors[:MAX_LISTED]
    more = f"\n  … and {len(errors) - MAX_LISTED} more" if len(errors) > MAX_LISTED else ""
    return SurveyImportError(f"{path}: {len(errors)} bad row(s) of {total}; nothing imported:\n  "
                             + "\n  ".join(listed) + more)


def check_survey_file(path: Path | str, gazetteer: Gazetteer | None = None, *,
                      today: date | None = None) -> list[dict[str, Any]]:
    """Check every row of a survey file; returns the rows to store, or raises naming each bad row."""
    path = Path(path)
    g = gazetteer or Gazetteer.load()
    items = load_problem_rules().survey
    this_year = (today or datetime.now(timezone.utc).date()).year
    header, rows = _read_rows(path)
    _check_header(path, header, SURVEY_TEMPLATE_COLUMNS)
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, int, str], int] = {}  # (kato, year, dimension) -> row
    for n, r in rows:
        try:
            kato = _kato(r.get("kato"), g)
            year = _year(r.get("year"), 2000, this_year, "year")
            dim = _text(r.get("dimension")).lower()
            if dim not in items:
                raise ValueError(f"unknown dimension {dim!r} (known: {', '.join(items)})")
            ans = _text(r.get("value")).lower()
            if ans in YES:
                value = "yes"
            elif ans in NO:
                value = "no"
            else:
                raise ValueError(f"value {ans!r} is not yes/no (иә/жоқ, да/нет)")
            observed = _text(r.get("observed_on")) or None
            if observed:
                try:
                    if not _ISO_DAY.fullmatch(observed):
                        raise ValueError
                    d = date.fromisoformat(observed)
                except ValueError:
                    raise ValueError(f"observed_on {observed!r} is not a date YYYY-MM-DD") from None
                if d.year != year:
                    raise ValueError(f"observed_on {observed} is not in year {year}")
                observed = d.isoformat()
            key = (kato, year, dim)
            if key in seen:
                raise ValueError(f"{kato} {year} {dim} already given in row {seen[key]}")
            seen[key] = n
            out.append({"kato": kato, "year": year, "dimension": dim, "value": value, "observed_on": observed,
                        "observer": _text(r.get("observer")) or None, "note": _text(r.get("note")) or None,
                        "source_row": n})
        except ValueError as exc:
            errors.append(f"row {n}: {exc}")
    if errors:
        raise _fail(path, errors, len(rows))
    if not out:
        raise SurveyImportError(f"{path}: no data rows under the header")
    return out


def check_plan_file(path: Path | str, gazetteer: Gazetteer | None = None) -> list[dict[str, Any]]:
    """Check every row of a remediation-plan file; returns the rows, or raises naming each bad row."""
    path = Path(path)
    g = gazetteer or Gazetteer.load()
    header, rows = _read_rows(path)
    _check_header(path, header, PLAN_TEMPLATE_COLUMNS)
    errors: list[str] = []
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, int], int] = {}  # (kato, dimension, planned_year) -> row
    for n, r in rows:
        try:
            kato = _kato(r.get("kato"), g)
            dim = _text(r.get("dimension")).lower()
            if dim not in DIMENSIONS:
                raise ValueError(f"unknown dimension {dim!r} (known: {', '.join(DIMENSIONS)})")
            year = _year(r.get("planned_year"), 2000, 2100, "planned_year")
            key = (kato, dim, year)
            if key in seen:
                raise ValueError(f"{kato} {dim} {year} already given in row {seen[key]}")
            seen[key] = n
            out.append({"kato": kato, "dimension": dim, "planned_year": year,
                        "programme": _text(r.get("programme")) or None,
                        "responsible": _text(r.get("responsible")) or None, "note": _text(r.get("note")) or None,
                        "source_row": n})
        except ValueError as exc:
            errors.append(f"row {n}: {exc}")
    if errors:
        raise _fail(path, errors, len(rows))
    if not out:
        raise SurveyImportError(f"{path}: no data rows under the header")
    return out


# --------------------------------------------------------------------------- store
_SURVEY_SQL = ("INSERT INTO survey_observations (kato, year, dimension, value, observed_on, observer, note, "
               "source_file, source_row, imported_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
               "ON CONFLICT (kato, year, dimension) DO UPDATE SET value = excluded.value, "
               "observed_on = excluded.observed_on, observer = excluded.observer, note = excluded.note, "
               "source_file = excluded.source_file, source_row = excluded.source_row, "
               "imported_utc = excluded.imported_utc")
_PLAN_SQL = ("INSERT INTO remediation_plans (kato, dimension, planned_year, programme, responsible, note, source_file, "
             "source_row, imported_utc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
             "ON CONFLICT (kato, dimension, planned_year) DO UPDATE SET programme = excluded.programme, "
             "responsible = excluded.responsible, note = excluded.note, source_file = excluded.source_file, "
             "source_row = excluded.source_row, imported_utc = excluded.imported_utc")


def import_survey(store, path: Path | str, gazetteer: Gazetteer | None = None, *,
                  today: date | None = None) -> dict[str, Any]:
    """Check and import a survey file into ``store`` (all rows or none). Returns counts."""
    path = Path(path)
    rows = check_survey_file(path, gazetteer, today=today)
    existing = {(r["kato"], int(r["year"]), r["dimension"]) for r in
                store.query("SELECT kato, year, dimension FROM survey_observations")}
    now = time_text(datetime.now(timezone.utc))
    stmts = [(_SURVEY_SQL, (r["kato"], r["year"], r["dimension"], r["value"], r["observed_on"], r["observer"],
                            r["note"], path.name, r["source_row"], now)) for r in rows]
    with store.transaction(f"importing survey observations from {path.name}") as tx:
        for sql, params in stmts:
            tx.execute(sql, params)
    replaced = sum(1 for r in rows if (r["kato"], r["year"], r["dimension"]) in existing)
    return {"path": str(path), "rows": len(rows), "new": len(rows) - replaced, "replaced": replaced,
            "settlements": len({r["kato"] for r in rows}), "years": sorted({r["year"] for r in rows})}


def import_plans(store, path: Path | str, gazetteer: Gazetteer | None = None) -> dict[str, Any]:
    """Check and import a remediation-plan file into ``store`` (all rows or none). Returns counts."""
    path = Path(path)
    rows = check_plan_file(path, gazetteer)
    existing = {(r["kato"], r["dimension"], int(r["planned_year"])) for r in
                store.query("SELECT kato, dimension, planned_year FROM remediation_plans")}
    now = time_text(datetime.now(timezone.utc))
    stmts = [(_PLAN_SQL, (r["kato"], r["dimension"], r["planned_year"], r["programme"], r["responsible"], r["note"],
                          path.name, r["source_row"], now)) for r in rows]
    with store.transaction(f"importing remediation plans from {path.name}") as tx:
        for sql, params in stmts:
            tx.execute(sql, params)
    replaced = sum(1 for r in rows if (r["kato"], r["dimension"], r["planned_year"]) in existing)
    return {"path": str(path), "rows": len(rows), "new": len(rows) - replaced, "replaced": replaced,
            "settlements": len({r["kato"] for r in rows}), "planned_years": sorted({r["planned_year"] for r in rows})}


SURVEY_FRAME_COLUMNS = ["kato", "year", "dimension", "value", "observed_on", "observer", "note", "source_file",
                        "source_row", "imported_utc"]
PLAN_FRAME_COLUMNS = ["kato", "dimension", "planned_year", "programme", "responsible", "note", "source_file",
                      "source_row", "imported_utc"]


def survey_frame(store) -> pd.DataFrame:
    """Every stored survey observation (columns of :data:`SURVEY_FRAME_COLUMNS`)."""
    rows = store.query(f"SELECT {', '.join(SURVEY_FRAME_COLUMNS)} FROM survey_observations "
                       f"ORDER BY kato, year, dimension")
    df = pd.DataFrame(rows, columns=SURVEY_FRAME_COLUMNS)
    df["year"] = df["year"].astype(int)
    return df


def plans_frame(store) -> pd.DataFrame:
    """Every stored remediation plan (columns of :data:`PLAN_FRAME_COLUMNS`)."""
    rows = store.query(f"SELECT {', '.join(PLAN_FRAME_COLUMNS)} FROM remediation_plans "
                        "ORDER BY kato, dimension, planned_year")
    df = pd.DataFrame(rows, columns=PLAN_FRAME_COLUMNS)
    df["planned_year"] = df["planned_year"].astype(int)
    return df


__all__ = ["SurveyImportError", "check_plan_file", "check_survey_file", "import_plans", "import_survey",
           "plans_frame", "survey_frame", "template_path", "write_template"]
