"""Small helpers shared by the report modules (kept free of heavy imports so any of them can use it)."""

from __future__ import annotations

import calendar
from datetime import date
from pathlib import Path
from typing import Any

from ..safeio import atomic_output


def is_synthetic(meta: dict[str, Any]) -> bool:
    """A session not measured in the field: ``probe.synthetic`` marks ``synthetic``, ``qamtu demo`` ``simulated``."""
    return bool(meta.get("synthetic") or meta.get("simulated"))


def add_months(day: date, n: int) -> date:
    """``day`` moved by ``n`` calendar months (``n`` may be negative), clamped to the end of the month."""
    y, m = divmod(day.year * 12 + day.month - 1 + n, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def save_png(fig, path: Path | str) -> None:
    """Write a matplotlib figure to ``path`` (all or nothing) and close it; a write error becomes an
    :class:`~qamtu.safeio.OutputError`."""
    import matplotlib.pyplot as plt

    try:
        with atomic_output(path, what="chart") as tmp:
            fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png")
    finally:
        plt.close(fig)
