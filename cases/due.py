"""What is due and overdue on a day: answers to complaints (15 working days, extensions, deemed
refusal under APPK art. 91), redirections (3 working days) and operators' order deadlines.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from .deadlines import compute
from .workdays import WorkCalendar


def due_list(store, today: date, cal: WorkCalendar, appeals: dict[str, Any]) -> dict[str, Any]:
    """``{"date", "answers": [...], "redirections": [...], "orders": [...], "calendar": {...}}``.

    Answers: every unanswered complaint with its due date, working days left (negative = overdue)
    and, when missed, the day from which it counts as a refusal. Orders: cases in ``order_issued``
    or ``remedy_due`` with the order's deadline (calendar days).
    """
    answers, redirects, doubts = [], [], set()
    links: dict[str, list[str]] = {}
    for r in store.query("SELECT case_id, complaint_id FROM cases_case_complaints ORDER BY case_id"):
        links.setdefault(r["complaint_id"], []).append(r["case_id"])
    case_state = {r["case_id"]: r["state"] for r in store.query("SELECT case_id, state FROM cases_cases")}
    for r in store.query(
        "SELECT complaint_id, channel, received, kato, extended_until, extension_decided, redirected_to, "
        "answered_on, demo FROM cases_complaints WHERE answered_on IS NULL ORDER BY received, complaint_id"
    ):
        d = compute(
            cal,
            appeals,
            date.fromisoformat(r["received"]),
            extended_until=date.fromisoformat(r["extended_until"]) if r["extended_until"] else None,
            extension_decided=date.fromisoformat(r["extension_decided"]) if r["extension_decided"] else None,
        )
        doubts.update(d.doubts)
        left = _signed_working_days(cal, today, d.due)
        refusal = d.deemed_refusal_from(today)
        cases = links.get(r["complaint_id"], [])
        answers.append(
            {
                "complaint_id": r["complaint_id"],
                "channel": r["channel"],
                "received": r["received"],
                "kato": r["kato"],
                "cases": cases,
                "states": [case_state.get(c) for c in cases],
                "due": d.due.isoformat(),
                "extension_notice_due": d.extension_notice_due.isoformat() if d.extension_notice_due else None,
                "extended": r["extended_until"] is not None,
                "working_days_left": left,
                "status": d.status(today),
                "deemed_refusal_from": refusal.isoformat() if refusal else None,
                "deemed_refusal_text_ru": appeals["deemed_refusal"]["text_ru"] if refusal else None,
                "deemed_refusal_text_kk": appeals["deemed_refusal"]["text_kk"] if refusal else None,
                "demo": bool(r["demo"]),
            }
        )
        in_registered = not cases or any(case_state.get(c) == "registered" for c in cases)
        if in_registered and not r["redirected_to"]:
            redirects.append(
                {
                    "complaint_id": r["complaint_id"],
                    "redirect_due": d.redirect_due.isoformat(),
                    "working_days_left": _signed_working_days(cal, today, d.redirect_due),
                    "status": "overdue" if today > d.redirect_due else "due",
                }
            )
    orders = []
    for r in store.query(
        "SELECT case_id, state, fields, kato, operator FROM cases_cases "
        "WHERE state IN ('order_issued', 'remedy_due') ORDER BY case_id"
    ):
        f = json.loads(r["fields"])
        dl = f.get("order_deadline")
        if not dl:
            continue
        dd = date.fromisoformat(dl)
        orders.append(
            {
                "case_id": r["case_id"],
                "state": r["state"],
                "kato": r["kato"],
                "operator": r["operator"],
                "order_number": f.get("order_number"),
                "order_deadline": dl,
                "days_left": (dd - today).days,
                "status": "remedy_due" if today > dd else "running",
                "next": "re-measure (`qamtu cases plan`)" if today > dd else "wait for the deadline",
            }
        )
    return {
        "date": today.isoformat(),
        "answers": answers,
        "redirections": redirects,
        "orders": orders,
        "calendar": {"version": cal.version, "file": cal.path, "doubts": sorted(doubts)},
        "counting": appeals["answer"]["count_source"],
    }


def _signed_working_days(cal: WorkCalendar, today: date, due: date) -> int:
    """Working days from ``today`` to ``due``: positive before, 0 on the day, negative after."""
    if due >= today:
        return cal.working_days_between(today, due)
    return -cal.working_days_between(due, today)
