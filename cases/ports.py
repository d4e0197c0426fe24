"""The one place where the cases workflow calls settlement matching, extraction, IIN checks and routing.

Those are built in :mod:`qamtu.cases.matching`, :mod:`qamtu.cases.extract`, :mod:`qamtu.cases.iin`
and :mod:`qamtu.cases.route`; the rest of the workflow calls these four functions only, so the
implementations can change without touching it.
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import CasesError


def match_address(text: str, gazetteer=None) -> dict[str, Any]:
    """``{"kato", "name_kk", "name_ru", "district_kato", "score", "needs_person", "candidates"}`` for free text."""
    from .matching import match_address as _match

    return _match(text, gazetteer).as_dict()


def extract(text: str) -> dict[str, list[str]]:
    """``{"operators": [...], "services": [...]}`` named in a complaint's text (candidates: staff confirm them)."""
    from .extract import extract_operators_services

    found = extract_operators_services(text)
    return {"operators": list(found["operators"]), "services": list(found["services"])}


def check_iin(iin: str, where: str = "iin") -> None:
    """Raise :class:`CasesError` naming ``where`` when ``iin`` is not a valid IIN (empty is allowed: art. 63
    asks for the IIN "if any")."""
    if not iin:
        return
    from .iin import iin_problem

    problem = iin_problem(iin)
    if problem:
        raise CasesError(f"{where}: {problem}")


def order_route(start: tuple[float, float], stops: Sequence[tuple[str, float, float]]) -> list[str]:
    """Ids of ``stops`` (id, lat, lon) in visiting order from ``start`` (lat, lon)."""
    from .route import plan_route

    return list(plan_route(start, list(stops)))


def operators_table() -> dict[str, dict[str, Any]]:
    """Operator code -> ``{"name", "mcc_mnc": [...]}`` from the extraction table (``cases/data/operators.toml``)."""
    from .extract import default_table

    t = default_table()
    return {e.code: {"name": e.name, "mcc_mnc": list(e.mcc_mnc)} for e in t.operators}


def operator_code(text: str, where: str = "operator") -> str:
    """An operator as a person typed it (``Tele2``, ``kcell``, ``Казпочта``) -> its code (``tele2_altel``)."""
    table = operators_table()
    key = text.strip().lower()
    if key in table:
        return key
    found = extract(text)["operators"]
    if len(found) == 1:
        return found[0]
    raise CasesError(
        f"{where}: {text!r} is not a known operator (codes: {', '.join(sorted(table))}; names and "
        f"brands in cases/data/operators.toml)"
    )
