"""SQL text handling shared by both engines: statement splitting and placeholder translation.

Qamtu writes SQL with ``?`` placeholders (SQLite's qmark style). psycopg wants ``%s`` and treats
every other ``%`` as a format character. :func:`to_pyformat` rewrites a statement token by token:
a ``?`` inside a string literal (``'a?b'``, ``E'..'``), a quoted identifier (``"a?"``), a
dollar-quoted body (``$f$ ... $f$``) or a comment is left alone; outside them ``?`` becomes ``%s``.
Every ``%`` is doubled, inside literals too, since psycopg does not read SQL quoting.
:func:`split_statements` cuts a migration's text at the semicolons that end statements, with the
same rules, and drops comment-only pieces.
"""

from __future__ import annotations

import re
from typing import Iterator

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z_0-9]*)?\$")


def _tokens(sql: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pieces: kind is 'code', 'quoted' (literals, identifiers, dollar bodies) or 'comment'."""
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        if c in "'\"":
            if start < i:
                yield "code", sql[start:i]
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # doubled quote inside
                        j += 2
                        continue
                    break
                if c == "'" and sql[j] == "\\" and i > 0 and sql[i - 1] in "eE":  # E'..\'..' escapes
                    j += 2
                    continue
                j += 1
            yield "quoted", sql[i:j + 1]
            i = start = j + 1
        elif c == "-" and sql.startswith("--", i):
            if start < i:
                yield "code", sql[start:i]
            j = sql.find("\n", i)
            j = n if j < 0 else j
            yield "comment", sql[i:j]
            i = start = j
        elif c == "/" and sql.startswith("/*", i):
            if start < i:
                yield "code", sql[start:i]
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            yield "comment", sql[i:j]
            i = start = j
        elif c == "$" and (m := _DOLLAR.match(sql, i)) and not (i > 0 and (sql[i - 1].isalnum() or sql[i - 1] == "_")):
            if start < i:
                yield "code", sql[start:i]
            tag = m.group(0)
            j = sql.find(tag, m.end())
            j = n if j < 0 else j + len(tag)
            yield "quoted", sql[i:j]
            i = start = j
        else:
            i += 1
    if start < n:
        yield "code", sql[start:]


def to_pyformat(sql: str) -> str:
    """``sql`` with its ``?`` placeholders (outside quotes and comments) as ``%s``, and every ``%`` doubled
    (psycopg reads ``%`` as a format character everywhere, inside literals too)."""
    return "".join(text.replace("%", "%%").replace("?", "%s") if kind == "code" else text.replace("%", "%%")
                   for kind, text in _tokens(sql))


def count_placeholders(sql: str) -> int:
    """How many ``?`` placeholders ``sql`` has outside quotes and comments."""
    return sum(text.count("?") for kind, text in _tokens(sql) if kind == "code")


def split_statements(script: str) -> list[str]:
    """The statements of a script, without their terminating ``;``; comment-only pieces are dropped."""
    out: list[str] = []
    current: list[str] = []
    meaningful = False

    def flush() -> None:
        nonlocal meaningful
        text = "".join(current).strip()
        if meaningful and text:
            out.append(text)
        current.clear()
        meaningful = False

    for kind, text in _tokens(script):
        if kind != "code":
            current.append(text)
            meaningful = meaningful or kind == "quoted"
            continue
        parts = text.split(";")
        for k, part in enumerate(parts):
            if k:
                flush()
            current.append(part)
            meaningful = meaningful or bool(part.strip())
    flush()
    return out
