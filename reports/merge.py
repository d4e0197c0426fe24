"""The reports package's merge step for ``qamtu db push``: inspection records travel from a laptop
to the office store with the sessions (registered by :mod:`qamtu.reports.schema`).

New inspections are added, identical ones skipped, and an inspection id the target holds with other
content is rejected and listed, never overwritten (ids are numbered per store). A record that does
not validate as an :class:`~qamtu.reports.inspections.Inspection`, or whose query columns disagree
with it, is rejected too: the office's pages and documents read every inspection record.
"""

from __future__ import annotations

from ..store import MergeResult, Store

#: The columns of the ``inspections`` table (reports migration 1), copied as they are.
INSPECTION_COLUMNS = ("inspection_id", "created_utc", "grounds", "operator", "kato", "act_number", "act_registered",
                      "record")
_COLS = ", ".join(INSPECTION_COLUMNS)


def _held(store: Store, inspection_id: str) -> dict | None:
    rows = store.query(f"SELECT {_COLS} FROM inspections WHERE inspection_id = ?", (inspection_id,))
    return rows[0] if rows else None


def _invalid(row: dict) -> str | None:
    """Why ``row`` may not be merged (its record does not validate, or its columns disagree), else None."""
    from pydantic import ValidationError

    from .. import validation_message
    from .inspections import Inspection

    try:
        insp = Inspection.model_validate_json(row["record"])
    except ValidationError as exc:
        return (f"its record does not validate as an inspection ({validation_message(exc, 'record')}); "
                "fix it in the source store or leave it out")
    derived = (insp.inspection_id, insp.created_utc, insp.grounds, insp.operator, insp.kato, insp.act_number,
               insp.act_registered)
    differ = [c for c, v in zip(INSPECTION_COLUMNS, derived) if row[c] != v]
    if differ:
        return (f"its columns {', '.join(differ)} differ from its record (the row was edited outside qamtu); "
                "fix it in the source store")
    return None


def merge_inspections(source: Store, target: Store) -> MergeResult:
    """Copy the source's inspection records into the target (nothing when the source has none)."""
    result = MergeResult()
    if not source.table_exists("inspections"):
        return result
    for row in source.query(f"SELECT {_COLS} FROM inspections ORDER BY inspection_id"):
        iid = row["inspection_id"]
        bad = _invalid(row)
        if bad is not None:
            result.rejected.append({"inspection_id": iid, "reason": bad})
            continue
        there = _held(target, iid)
        if there is None:
            target.execute(f"INSERT INTO inspections ({_COLS}) VALUES ({', '.join('?' * len(INSPECTION_COLUMNS))}) "
                           "ON CONFLICT DO NOTHING", tuple(row[c] for c in INSPECTION_COLUMNS),
                           f"adding inspection {iid}")
            there = _held(target, iid)
            if there == row:     # ours, or a concurrent push's identical row
                result.added += 1
                continue
        if there == row:
            result.skipped += 1
        else:
            result.rejected.append({
                "inspection_id": iid,
                "reason": "the target holds an inspection with this id and other content (ids are numbered per store: "
                          "renumber one of them before merging)"})
    return result


__all__ = ["INSPECTION_COLUMNS", "merge_inspections"]
