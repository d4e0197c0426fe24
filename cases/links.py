"""Inspections and cases: link an inspection to its cases and let its findings flow into them.

The inspection lives in the same store (the ``inspections`` table of :mod:`qamtu.reports`); its
findings are computed by :func:`qamtu.reports.findings.compute_findings` and their numbers copied
into each case's history (entry ``findings``), which the answer letter cites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from . import records


def inspection_findings(
    store, inspection_id: str, *, rules_path: Optional[Path | str] = None, registers_folder: Optional[Path | str] = None
) -> dict[str, Any]:
    """The findings of an inspection recorded in ``store`` (samples and speed tests of the same store)."""
    from ..mapping.rules import load_rules
    from ..probe.store import SampleStore
    from ..reports.findings import compute_findings
    from ..reports.registers import Registers

    return compute_findings(SampleStore(store), inspection_id, load_rules(rules_path), Registers.load(registers_folder))


def link_with_findings(
    store,
    case_id: str,
    inspection_id: str,
    *,
    by: str,
    role: str = "measurement",
    with_findings: bool = True,
    rules_path=None,
    registers_folder=None,
) -> dict[str, Any]:
    """Link ``inspection_id`` to ``case_id`` and (``with_findings``) record its findings in the case.

    Returns the findings summary (``{}`` without findings)."""
    from ..reports.inspections import get_inspection
    from ..probe.store import SampleStore

    get_inspection(SampleStore(store), inspection_id)  # must exist: its error lists the known ones
    records.link_inspection(store, case_id, inspection_id, by=by, role=role)
    if not with_findings:
        return {}
    findings = inspection_findings(store, inspection_id, rules_path=rules_path, registers_folder=registers_folder)
    records.record_findings(store, case_id, inspection_id, findings, by=by)
    return records.findings_summary(findings)


def inspections_for_case(store, case_id: str) -> list[dict[str, Any]]:
    return store.query(
        "SELECT inspection_id, role FROM cases_case_inspections WHERE case_id = ? ORDER BY inspection_id", (case_id,)
    )


def flow_findings(
    store, inspection_id: str, *, by: str, rules_path=None, registers_folder=None
) -> list[dict[str, Any]]:
    """Bring an inspection's findings into every case linked to it and move each case on.

    A case waiting for its measurement (``inspection_appointed``) goes to ``measured`` and then to
    ``violation_found`` or ``no_violation`` by the findings' verdict; a follow-up inspection of a
    case in ``remedy_due`` gives ``re_measured`` with result ``fixed`` (no violation) or
    ``not_fixed`` (violation). "Insufficient data" records the findings and moves nothing beyond
    ``measured``: a person decides. Returns one row per case: case, verdict, states passed.
    """
    linked = store.query(
        "SELECT case_id, role FROM cases_case_inspections WHERE inspection_id = ? ORDER BY case_id", (inspection_id,)
    )
    if not linked:
        from .errors import CasesError

        raise CasesError(f"inspection {inspection_id} is linked to no case (`qamtu cases link CASE {inspection_id}`)")
    findings = inspection_findings(store, inspection_id, rules_path=rules_path, registers_folder=registers_folder)
    verdict = findings.get("verdict")
    out = []
    for row in linked:
        case_id = row["case_id"]
        records.record_findings(store, case_id, inspection_id, findings, by=by)
        state = records.get_case(store, case_id)["state"]
        moved = []
        if state == "inspection_appointed":
            records.transition(
                store, case_id, "measured", by=by, fields={"inspection_id": inspection_id, "verdict": verdict}
            )
            moved.append("measured")
            if verdict in ("violation", "no_violation"):
                target = "violation_found" if verdict == "violation" else "no_violation"
                records.transition(store, case_id, target, by=by)
                moved.append(target)
        elif state == "remedy_due" and verdict in ("violation", "no_violation"):
            result = "fixed" if verdict == "no_violation" else "not_fixed"
            records.transition(
                store, case_id, "re_measured", by=by, fields={"inspection_id": inspection_id, "result": result}
            )
            moved.append("re_measured")
        out.append(
            {"case_id": case_id, "verdict": verdict, "moved": moved, "synthetic": bool(findings.get("synthetic"))}
        )
    return out
