"""The one place where the cases workflow calls settlement matching, extraction, IIN checks and routing.

Those are built in :mod:`qamtu.cases.matching`, :mod:`qamtu.cases.extract`, :mod:`qamtu.cases.iin`
and :mod:`qamtu.cases.route`; everything else in the package calls these four functions only, so
the implementations can change without touching the workflow.
"""

from __future__ import annotations

from typing import Any, Sequence

from .errors import CasesError


def match_address(text: str, gazetteer=None) -> dict[str, Any]:
    """``{"kato", "name_kk", "name_ru", "district_kato", "score", "needs_person", "candidates"}`` for free text."""
    from .matching import match_address as _match

    return _match(text, gazetteer).as_dict()


def extract(text: str) -> dict[str, list[str]]:
    """``{"operators": [...], "services": [...]}`` named in a complaint's text (staff confirm them)."""
    try:
        from .extract import extract_operators_services  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - until the extraction tables are merged
        return {"operators": [], "services": []}
    found = extract_operators_services(text)
    return {"operators": list(found["operators"]), "services": list(found["services"])}


def check_iin(iin: str, where: str = "iin") -> None:
    """Raise :class:`CasesError` naming ``where`` when ``iin`` is not a valid 12-digit IIN (empty is allowed)."""
    if not iin:
        return
    try:
        from .iin import iin_problem  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - until the IIN module is merged
        if not (iin.isdigit() and len(iin) == 12):
            raise CasesError(f"{where}: {iin!r} is not a 12-digit IIN") from None
        return
    problem = iin_problem(iin)
    if problem:
        raise CasesError(f"{where}: {problem}")


def order_route(start: tuple[float, float], stops: Sequence[tuple[str, float, float]]) -> list[str]:
    """Ids of ``stops`` (id, lat, lon) in visiting order from ``start`` (lat, lon)."""
    try:
        from .route import plan_route  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - until the route module is merged
        return _interim_route(start, stops)
    return list(plan_route(start, stops))


def _interim_route(start: tuple[float, float], stops: Sequence[tuple[str, float, float]]) -> list[str]:
    import math

    left = list(stops)
    out, here = [], start
    while left:
        nxt = min(left, key=lambda s: math.dist(here, (s[1], s[2])))
        left.remove(nxt)
        out.append(nxt[0])
        here = (nxt[1], nxt[2])
    return out
