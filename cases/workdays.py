"""The working-day calendar of Kazakhstan (five-day week) from ``cases/data/calendar_kz.toml``.

Days off are Saturdays and Sundays, the fixed-date holidays of the Law on holidays, the dated
religious holidays (first day of Kurban ait), the days off moved to the next working day when a
non-religious holiday falls on a day off (Labour Code art. 85, the rule is in the data file), and
the transfers by decree (``working`` / ``off``). Years outside ``first_year``..``last_year`` are
refused: a deadline computed from a calendar that does not know the year would be a guess.

Every computed date can say whether it rests on an unconfirmed year (:meth:`WorkCalendar.doubts`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from .errors import CalendarError
from .registers import load_toml, need

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class DayOff:
    day: date
    why: str  # e.g. "Наурыз мейрамы", "moved: Наурыз мейрамы (2026-03-21)", "transfer"
    confirmed: bool = True


@dataclass
class WorkCalendar:
    """Working days of the years the data file covers. ``path`` is the file it was read from."""

    version: str
    path: str
    first_year: int
    last_year: int
    weekend: frozenset[int]
    days_off: dict[date, DayOff] = field(default_factory=dict)
    extra_working: dict[date, str] = field(default_factory=dict)
    year_notes: dict[int, tuple[bool, str]] = field(default_factory=dict)

    # -------------------------------------------------------------- queries
    def _check(self, day: date) -> None:
        if not self.first_year <= day.year <= self.last_year:
            raise CalendarError(
                f"{self.path}: the working-day calendar covers {self.first_year}-{self.last_year}, "
                f"not {day.isoformat()}; add the year's holidays and transfers (with sources) to "
                f"calendar_kz.toml in your --registers folder"
            )

    def is_working_day(self, day: date) -> bool:
        self._check(day)
        if day in self.extra_working:
            return True
        return day.weekday() not in self.weekend and day not in self.days_off

    def why_off(self, day: date) -> Optional[str]:
        """Why ``day`` is not a working day (None when it is one)."""
        if self.is_working_day(day):
            return None
        if day in self.days_off:
            return self.days_off[day].why
        return WEEKDAYS[day.weekday()]

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start`` (``start`` itself not counted; n >= 1)."""
        if n < 1:
            raise CalendarError(f"add_working_days: n must be >= 1 (got {n})")
        day, left = start, n
        while left:
            day += timedelta(days=1)
            if self.is_working_day(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]: 0 when end <= start."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def doubts(self, start: date, end: date) -> list[str]:
        """Notes of unconfirmed years between ``start`` and ``end`` (both included)."""
        out = []
        for y in range(min(start, end).year, max(start, end).year + 1):
            ok, note = self.year_notes.get(y, (False, "year not described in the calendar file"))
            if not ok:
                out.append(f"{y}: {note}")
        return out

    def year(self, y: int) -> list[dict[str, Any]]:
        """Every non-weekend day off and every working weekend day of year ``y``, in date order."""
        self._check(date(y, 1, 1))
        rows = [
            {"date": d.isoformat(), "working": False, "why": o.why, "confirmed": o.confirmed}
            for d, o in self.days_off.items()
            if d.year == y
        ]
        rows += [
            {"date": d.isoformat(), "working": True, "why": why, "confirmed": True}
            for d, why in self.extra_working.items()
            if d.year == y
        ]
        return sorted(rows, key=lambda r: r["date"])


def _parse_date(text: Any, where: str, path: Path) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise CalendarError(f"{path}: field '{where}': {text!r} is not a date YYYY-MM-DD") from None


def build_calendar(data: dict[str, Any], path: Path | str) -> WorkCalendar:
    """Expand the data file into concrete days off for each covered year."""
    path = Path(path)
    try:
        weekend = frozenset(WEEKDAYS.index(w) for w in need(data, "weekend", path, list))
    except ValueError:
        raise CalendarError(f"{path}: field 'weekend': use day names {', '.join(WEEKDAYS)}") from None
    first, last = need(data, "first_year", path, int), need(data, "last_year", path, int)
    if first > last:
        raise CalendarError(f"{path}: first_year {first} is after last_year {last}")
    not_moved = set(need(data, "rule.not_moved_kinds", path, list))
    if need(data, "rule.weekend_coincidence", path, str) != "next_working_day":
        raise CalendarError(f"{path}: field 'rule.weekend_coincidence': only 'next_working_day' is known")
    cal = WorkCalendar(need(data, "version", path, str), str(path), first, last, weekend)
    holidays: list[tuple[date, str, str, bool]] = []  # day, name, kind, confirmed
    for i, h in enumerate(need(data, "holiday", path, list)):
        where = f"holiday[{i}]"
        for k in ("month", "day", "days", "kind", "name_ru", "name_kk", "valid_from", "source"):
            need(h, k, path)
        valid_from = _parse_date(h["valid_from"], f"{where}.valid_from", path)
        valid_to = _parse_date(h["valid_to"], f"{where}.valid_to", path) if "valid_to" in h else None
        for y in range(first, last + 1):
            for offset in range(int(h["days"])):
                try:
                    d = date(y, int(h["month"]), int(h["day"])) + timedelta(days=offset)
                except ValueError:
                    raise CalendarError(f"{path}: field '{where}': no such day {h['month']}/{h['day']}") from None
                if d >= valid_from and (valid_to is None or d <= valid_to):
                    holidays.append((d, h["name_ru"], h["kind"], True))
    for i, h in enumerate(data.get("dated", [])):
        for k in ("date", "kind", "name_ru", "source", "confirmed"):
            need(h, k, path)
        d = _parse_date(h["date"], f"dated[{i}].date", path)
        holidays.append((d, h["name_ru"], h["kind"], bool(h["confirmed"])))
    for d, name, _kind, ok in holidays:
        cal.days_off[d] = DayOff(d, name, ok)
    # a non-religious holiday on a weekend day moves the day off to the next day that is neither a
    # weekend day nor a holiday nor an earlier moved day (two weekend holidays -> two days, in order)
    for d, name, kind, ok in sorted(holidays):
        if kind in not_moved or d.weekday() not in weekend:
            continue
        nxt = d + timedelta(days=1)
        while nxt.weekday() in weekend or nxt in cal.days_off:
            nxt += timedelta(days=1)
        cal.days_off[nxt] = DayOff(nxt, f"перенос: {name} ({d.isoformat()})", ok)
    for i, t in enumerate(data.get("transfer", [])):
        for k in ("working", "off", "source", "confirmed"):
            need(t, k, path)
        w = _parse_date(t["working"], f"transfer[{i}].working", path)
        o = _parse_date(t["off"], f"transfer[{i}].off", path)
        cal.extra_working[w] = f"рабочий день по переносу на {o.isoformat()}"
        cal.days_off[o] = DayOff(o, f"перенос выходного с {w.isoformat()}", bool(t["confirmed"]))
    for y in range(first, last + 1):
        entry = data.get("years", {}).get(str(y))
        if entry is None:
            cal.year_notes[y] = (False, "year not described in the calendar file")
        else:
            cal.year_notes[y] = (bool(entry.get("confirmed", False)), str(entry.get("note", "")))
    return cal


def load_calendar(folder: Path | str | None = None) -> WorkCalendar:
    """The calendar from ``calendar_kz.toml`` (office folder first, then the bundled file)."""
    data, path = load_toml("calendar_kz.toml", folder)
    return _cached(str(path), path.stat().st_mtime_ns, _freeze(data))


def _freeze(data: Any) -> Any:
    import json

    return json.dumps(data, sort_keys=True, default=str)


@lru_cache(maxsize=8)
def _cached(path: str, _mtime: int, frozen: str) -> WorkCalendar:
    import json

    return build_calendar(json.loads(frozen), path)
