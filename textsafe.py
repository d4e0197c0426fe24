"""Data text made safe where it leaves Qamtu: terminals, CSV files and spreadsheets.

* :func:`printable` escapes control characters (C0, C1, DEL) and bidirectional overrides, so a
  member name or a manifest field cannot move the cursor, recolour a line or reorder text; with
  ``markup=True`` it also escapes rich markup, so ``[bold]`` in data prints as ``[bold]``.
* :func:`redact_secrets` hides database passwords in every URL and DSN form before anything
  about a database location is printed or stored.
* :func:`csv_cell` / :func:`csv_frame`: a text cell starting with ``= + - @``, a tab or a carriage
  return is written with a leading apostrophe, so a spreadsheet opening the CSV shows it as text
  instead of running it as a formula (OWASP "CSV injection").
* :func:`xlsx_text_only`: in an openpyxl workbook, every cell that openpyxl took for a formula
  (a string starting with ``=``) is stored as a string again. Qamtu writes no formulas; stored
  strings are never evaluated, so the text stays exact.
"""

from __future__ import annotations

import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_CONTROL_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SECRETS = re.compile(
    r"(?P<url>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]*(?=@)"              # scheme://user:PASSWORD@host
    r"|(?P<query>[?&](?:ssl)?password=)[^&#\s]*"                            # ...?password=PASSWORD&...
    r"|(?P<kw>\b(?:ssl)?password\s*=\s*)(?:'(?:\\.|[^'\\])*'?|[^\s']+)",    # keyword DSN: password=PASSWORD
    re.IGNORECASE)


def _escape(m: re.Match) -> str:
    c = ord(m.group(0))
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


def printable(value: Any, *, markup: bool = False, keep_lines: bool = False) -> str:
    """``str(value)`` with control and bidi-override characters shown as ``\\xNN`` / ``\\uNNNN``;
    None becomes "". ``keep_lines`` keeps newlines and tabs (multi-line text in a table);
    ``markup`` also escapes rich markup, for text rich renders as markup (tables, titles, messages).

    The one escape for every value from a store, a file, a modem or the command line that reaches a
    terminal (``cli.py`` calls it as ``safe``).
    """
    if value is None:
        return ""
    text = (_CONTROL_KEEP_LINES if keep_lines else _CONTROL).sub(_escape, str(value))
    if markup:
        from rich.markup import escape

        text = escape(text)
    return text


def redact_secrets(text: Any) -> str:
    """``text`` with every database password replaced by ``***``: in URLs (``postgresql://u:PW@h/db``),
    in their query (``?password=PW``) and in keyword DSNs (``host=h password=PW`` or ``password='P W'``).

    The one redaction used for everything Qamtu prints or stores about a database location.
    """
    return _SECRETS.sub(lambda m: (m.group("url") or m.group("query") or m.group("kw")) + "***", str(text))


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: text that a spreadsheet would run as a formula gets a leading ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_frame(df):
    """A copy of a pandas DataFrame with :func:`csv_cell` applied to every text cell (and column name)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("string", "str"):
            out[col] = out[col].map(csv_cell)
    out.columns = [csv_cell(c) for c in out.columns]
    return out


def csv_row(values) -> list:
    """:func:`csv_cell` over one row for ``csv.writer``."""
    return [csv_cell(v) for v in values]


def xlsx_text_only(workbook) -> int:
    """Store every formula-looking cell of an openpyxl workbook as text; returns how many were fixed."""
    fixed = 0
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"
                    fixed += 1
    return fixed
