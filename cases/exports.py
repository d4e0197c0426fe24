"""Exports of complaints: open data without personal data, and (only on request) with it, logged.

* :func:`export_open_data` writes counts per settlement x operator x service x month (CSV): no
  names, IINs, addresses, phones, free text or talon numbers: a talon or a quoted sentence can
  identify a resident in a village of 200 people.
* :func:`export_personal` writes the complaint list *with* the applicants' personal data. It needs
  ``with_personal_data=True`` (the CLI's ``--with-personal-data``), a person and a purpose, and
  every such export is first recorded in the append-only ``cases_pd_exports`` table (who, when,
  what, which file, how many rows, why); :func:`personal_export_log` lists them.
"""

from __future__ import annotations

import csv
import uuid
from pathlib import Path
from typing import Any

from ..safeio import atomic_output
from ..textsafe import csv_row
from .errors import CasesError
from .history import now_text

OPEN_COLUMNS = (
    "kato",
    "district_kato",
    "operator",
    "service",
    "month",
    "complaints",
    "cases",
    "closed",
    "fixed_confirmed",
)
PERSONAL_COLUMNS = (
    "complaint_id",
    "channel",
    "external_number",
    "received",
    "kato",
    "name",
    "iin",
    "postal_address",
    "phone",
    "email",
    "cases",
    "answered_on",
)


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """All or nothing (umask applied); a text cell a spreadsheet would run as a formula is written as text."""
    with atomic_output(path, what="complaints export") as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(columns)
            w.writerows(csv_row(r.get(c) for c in columns) for r in rows)


def open_data_rows(store) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT c.kato, c.district_kato, c.operator, c.service, substr(m.received, 1, 7) AS month, "
        "COUNT(DISTINCT m.complaint_id) AS complaints, COUNT(DISTINCT c.case_id) AS cases, "
        "COUNT(DISTINCT CASE WHEN c.state = 'closed' THEN c.case_id END) AS closed, "
        "COUNT(DISTINCT CASE WHEN c.outcome = 'fixed_confirmed' THEN c.case_id END) AS fixed_confirmed "
        "FROM cases_cases c JOIN cases_case_complaints k ON k.case_id = c.case_id "
        "JOIN cases_complaints m ON m.complaint_id = k.complaint_id "
        "GROUP BY c.kato, c.district_kato, c.operator, c.service, substr(m.received, 1, 7) "
        "ORDER BY c.kato, c.operator, c.service, month"
    )
    return [{k: r[k] for k in OPEN_COLUMNS} for r in rows]


def export_open_data(store, out: Path | str) -> dict[str, Any]:
    """Counts per settlement x operator x service x month, no personal data; returns ``{"file", "rows"}``."""
    rows = open_data_rows(store)
    _write_csv(Path(out), OPEN_COLUMNS, rows)
    return {"file": str(out), "rows": len(rows), "personal_data": False}


def export_personal(store, out: Path | str, *, with_personal_data: bool, by: str, purpose: str) -> dict[str, Any]:
    """The complaint list with applicants' personal data; logged before the file is written."""
    if not with_personal_data:
        raise CasesError(
            "this export carries personal data (names, IIN, addresses): give --with-personal-data, "
            "--by and --purpose; it will be logged"
        )
    if not by.strip() or not purpose.strip():
        raise CasesError("--by and --purpose are required for an export with personal data (they are logged)")
    links: dict[str, list[str]] = {}
    for r in store.query("SELECT case_id, complaint_id FROM cases_case_complaints ORDER BY case_id"):
        links.setdefault(r["complaint_id"], []).append(r["case_id"])
    rows = []
    for r in store.query(
        "SELECT m.complaint_id, m.channel, m.external_number, m.received, m.kato, m.answered_on, a.name, "
        "a.iin, a.postal_address, a.phone, a.email FROM cases_complaints m "
        "JOIN cases_applicants a ON a.complaint_id = m.complaint_id ORDER BY m.complaint_id"
    ):
        rows.append({**r, "cases": " ".join(links.get(r["complaint_id"], []))})
    path = Path(out)
    export_id = str(uuid.uuid4())
    with store.transaction("logging an export with personal data") as tx:
        tx.execute(
            "INSERT INTO cases_pd_exports (export_id, time_utc, actor, what, target, n_rows, purpose) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                export_id,
                now_text(),
                by,
                "complaints with applicants' personal data",
                str(path.resolve()),
                len(rows),
                purpose,
            ),
        )
        _write_csv(path, PERSONAL_COLUMNS, rows)  # inside the transaction: a failed write keeps no log row
    return {"file": str(path), "rows": len(rows), "personal_data": True, "export_id": export_id}


def personal_export_log(store) -> list[dict[str, Any]]:
    return store.query(
        "SELECT export_id, time_utc, actor, what, target, n_rows, purpose FROM cases_pd_exports " "ORDER BY time_utc"
    )
