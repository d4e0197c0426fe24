"""The states of a case and the transitions allowed between them (issue 14 item 3).

::

    registered -> accepted | redirected
    accepted -> inspection_appointed            (act number, registration date)
    inspection_appointed -> measured            (inspection id; its findings)
    measured -> violation_found | no_violation
    violation_found -> order_issued             (protocol and order numbers, order deadline)
    order_issued -> remedy_due
    remedy_due -> re_measured                   (follow-up inspection, result fixed / not_fixed)
    re_measured -> answered | reopened          (a failed re-measurement reopens)
    no_violation -> answered
    redirected -> answered                      (the notice of redirection is the answer)
    answered -> closed                          (outcome recorded apart)
    closed -> reopened                          (a new complaint)
    reopened -> inspection_appointed

"Closed" is not "fixed": :data:`OUTCOMES` is recorded on its own when a case is closed, and an
outcome must be backed by the history (``fixed_confirmed`` needs a re-measurement that found it
fixed, ``no_violation`` a no-violation finding, ``outside_competence`` a redirection).
"""

from __future__ import annotations

from typing import Any

from .errors import TransitionError

STATES: tuple[str, ...] = (
    "registered",
    "accepted",
    "redirected",
    "inspection_appointed",
    "measured",
    "violation_found",
    "no_violation",
    "order_issued",
    "remedy_due",
    "re_measured",
    "answered",
    "closed",
    "reopened",
)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "registered": ("accepted", "redirected"),
    "accepted": ("inspection_appointed",),
    "redirected": ("answered",),
    "inspection_appointed": ("measured",),
    "measured": ("violation_found", "no_violation"),
    "violation_found": ("order_issued",),
    "no_violation": ("answered",),
    "order_issued": ("remedy_due",),
    "remedy_due": ("re_measured",),
    "re_measured": ("answered", "reopened"),
    "answered": ("closed",),
    "closed": ("reopened",),
    "reopened": ("inspection_appointed",),
}
OUTCOMES: tuple[str, ...] = ("fixed_confirmed", "not_fixed", "no_violation", "outside_competence")
OPEN_STATES = tuple(s for s in STATES if s != "closed")
#: states in which the case waits for a measurement (trip planning picks these)
NEEDS_MEASUREMENT = ("accepted", "inspection_appointed", "remedy_due", "reopened")

#: target state -> (required fields, optional fields) of the transition's payload
FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "accepted": ((), ("note",)),
    "redirected": (("to_body",), ("note",)),
    "inspection_appointed": (("act_number", "act_registered"), ("inspection_id", "note")),
    "measured": (("inspection_id",), ("verdict", "note")),
    "violation_found": ((), ("note",)),
    "no_violation": ((), ("note",)),
    "order_issued": (("protocol_number", "order_number", "order_deadline"), ("order_date", "note")),
    "remedy_due": ((), ("note",)),
    "re_measured": (("inspection_id", "result"), ("note",)),
    "answered": ((), ("note",)),
    "closed": (("outcome",), ("note",)),
    "reopened": (("reason",), ("complaint_id", "note")),
}
REOPEN_REASONS = ("new_complaint", "failed_remeasurement", "other")
DATE_FIELDS = ("act_registered", "order_deadline", "order_date")

LABELS: dict[str, tuple[str, str]] = {
    "registered": ("Тіркелді", "Зарегистрировано"),
    "accepted": ("Қабылданды", "Принято"),
    "redirected": ("Құзыретті органға жіберілді", "Перенаправлено по компетенции"),
    "inspection_appointed": ("Тексеру тағайындалды", "Назначена проверка"),
    "measured": ("Өлшенді", "Проведены измерения"),
    "violation_found": ("Бұзушылық анықталды", "Выявлено нарушение"),
    "no_violation": ("Бұзушылық анықталмады", "Нарушение не выявлено"),
    "order_issued": ("Хаттама мен нұсқама берілді", "Выданы протокол и предписание"),
    "remedy_due": ("Жою мерзімі", "Срок устранения"),
    "re_measured": ("Қайта өлшенді", "Проведены повторные измерения"),
    "answered": ("Жауап берілді", "Дан ответ"),
    "closed": ("Жабылды", "Закрыто"),
    "reopened": ("Қайта ашылды", "Открыто вновь"),
}
OUTCOME_LABELS: dict[str, tuple[str, str]] = {
    "fixed_confirmed": ("Жойылды, өлшеммен расталды", "Устранено, подтверждено измерением"),
    "not_fixed": ("Жойылмады", "Не устранено"),
    "no_violation": ("Бұзушылық жоқ", "Нарушения нет"),
    "outside_competence": ("Құзыреттен тыс", "Вне компетенции"),
}


def allowed(state: str) -> tuple[str, ...]:
    return TRANSITIONS.get(state, ())


def check(
    case_id: str, current: str, target: str, payload: dict[str, Any], history: list[dict[str, Any]]
) -> dict[str, Any]:
    """Validate a transition; returns the payload restricted to known fields (strings stripped).

    Raises :class:`TransitionError` naming the allowed transitions, the missing field or the outcome
    that the history does not back.
    """
    if target not in STATES:
        raise TransitionError(f"case {case_id}: unknown state {target!r} (states: {', '.join(STATES)})")
    if target not in allowed(current):
        nxt = ", ".join(allowed(current)) or "none"
        raise TransitionError(
            f"case {case_id}: cannot go from '{current}' to '{target}'; allowed from '{current}': {nxt}"
        )
    required, optional = FIELDS[target]
    unknown = sorted(set(payload) - set(required) - set(optional))
    if unknown:
        raise TransitionError(
            f"case {case_id} -> {target}: unknown field(s) {', '.join(unknown)} "
            f"(fields: {', '.join(required + optional) or 'none'})"
        )
    clean = {k: str(v).strip() for k, v in payload.items() if v is not None and str(v).strip()}
    missing = [f for f in required if f not in clean]
    if missing:
        raise TransitionError(
            f"case {case_id} -> {target}: field(s) {', '.join(missing)} required " f"(give them with --set NAME=VALUE)"
        )
    from datetime import date

    for f in DATE_FIELDS:
        if f in clean:
            try:
                date.fromisoformat(clean[f])
            except ValueError:
                raise TransitionError(
                    f"case {case_id} -> {target}: field {f}: {clean[f]!r} is not a date YYYY-MM-DD"
                ) from None
    if target == "re_measured" and clean["result"] not in ("fixed", "not_fixed"):
        raise TransitionError(
            f"case {case_id} -> re_measured: field result must be fixed or not_fixed (got {clean['result']!r})"
        )
    if target == "reopened" and clean["reason"] not in REOPEN_REASONS:
        raise TransitionError(f"case {case_id} -> reopened: field reason must be one of {', '.join(REOPEN_REASONS)}")
    if target == "reopened" and current == "re_measured" and last_result(history) != "not_fixed":
        raise TransitionError(
            f"case {case_id} -> reopened: from re_measured only after a failed re-measurement " f"(result not_fixed)"
        )
    if target == "closed":
        _check_outcome(case_id, clean["outcome"], history)
    return clean


def last_result(history: list[dict[str, Any]]) -> str | None:
    for h in reversed(history):
        if h.get("kind") == "transition" and h["payload"].get("to") == "re_measured":
            return h["payload"].get("result")
    return None


def _since_last_reopen(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for h in history:
        if h.get("kind") == "transition" and h["payload"].get("to") == "reopened":
            out = []
        else:
            out.append(h)
    return out


def _check_outcome(case_id: str, outcome: str, history: list[dict[str, Any]]) -> None:
    if outcome not in OUTCOMES:
        raise TransitionError(
            f"case {case_id} -> closed: outcome must be one of {', '.join(OUTCOMES)} (got {outcome!r})"
        )
    states = [h["payload"].get("to") for h in _since_last_reopen(history) if h.get("kind") == "transition"]
    need = {
        "fixed_confirmed": ("re_measured", "fixed"),
        "no_violation": ("no_violation", None),
        "outside_competence": ("redirected", None),
    }.get(outcome)
    if need is None:
        return
    state, result = need
    if state not in states or (result and last_result(_since_last_reopen(history)) != result):
        why = {
            "fixed_confirmed": "a re-measurement with result fixed",
            "no_violation": "a no_violation finding",
            "outside_competence": "a redirection to the competent body",
        }[outcome]
        raise TransitionError(f"case {case_id} -> closed: outcome {outcome} needs {why} in the case history")
