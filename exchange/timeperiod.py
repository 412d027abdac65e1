"""SDMX time periods: parsing every standard format into an interval, and checking them against FREQ.

An observation's period is stored as its original text plus ``[start, end)`` so that startPeriod /
endPeriod queries compare intervals (e.g. ``startPeriod=2020-Q2`` matches annual 2020 data).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("A", re.compile(r"(?a)^(\d{4})(?:-A1)?$")),
    ("S", re.compile(r"(?a)^(\d{4})-S([12])$")),
    ("T", re.compile(r"(?a)^(\d{4})-T([1-3])$")),
    ("Q", re.compile(r"(?a)^(\d{4})-Q([1-4])$")),
    ("M", re.compile(r"(?a)^(\d{4})-M?(0[1-9]|1[0-2])$")),
    ("W", re.compile(r"(?a)^(\d{4})-W(0[1-9]|[1-4]\d|5[0-3])$")),
    ("D", re.compile(r"(?a)^(\d{4})-(\d{2})-(\d{2})$")),
    ("DOY", re.compile(r"(?a)^(\d{4})-D(\d{3})$")),
    ("DT", re.compile(r"(?a)^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:\d{2})?$")),
]
_RANGE = re.compile(
    r"(?a)^([^/]+)/P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$"
)

FREQ_KINDS: dict[str, frozenset[str]] = {
    "A": frozenset({"A"}),
    "S": frozenset({"S"}),
    "Q": frozenset({"Q"}),
    "M": frozenset({"M"}),
    "W": frozenset({"W"}),
    "D": frozenset({"D", "DOY"}),
    "B": frozenset({"D", "DOY"}),
    "H": frozenset({"DT"}),
    "N": frozenset({"DT"}),
}
"""Which period formats each SDMX CL_FREQ code admits (time ranges are admitted for any frequency)."""

EXAMPLES = {
    "A": "2020",
    "S": "2020-S1",
    "Q": "2020-Q1",
    "M": "2020-01",
    "W": "2020-W01",
    "D": "2020-01-31",
    "B": "2020-01-31",
    "H": "2020-01-31T13:00:00",
    "N": "2020-01-31T13:05:00",
}


class TimePeriodError(ValueError):
    """Text that is not an SDMX time period."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: str
    start: datetime
    end: datetime
    """Exclusive end."""


def parse_period(text: str) -> Period:
    """Parse an SDMX time period (Gregorian, reporting period, date-time or time range)."""
    text = text.strip()
    range_match = _RANGE.match(text)
    if range_match:
        start = parse_period(range_match.group(1)).start
        years, months, weeks, days, hours, minutes, seconds = (int(g or 0) for g in range_match.groups()[1:])
        end = _add_months(start, years * 12 + months) + timedelta(
            weeks=weeks, days=days, hours=hours, minutes=minutes, seconds=seconds
        )
        if end <= start:
            raise TimePeriodError(f"'{text}' is a time range with an empty duration")
        return Period("RANGE", start, end)
    for kind, pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return _interval(kind, match)
            except ValueError as exc:
                raise TimePeriodError(f"'{text}' is not a valid date: {exc}") from exc
    raise TimePeriodError(
        f"'{text}' is not an SDMX time period (e.g. 2020, 2020-Q1, 2020-01, 2020-W05, 2020-01-31, 2020-S2)"
    )


def _interval(kind: str, match: re.Match[str]) -> Period:
    year = int(match.group(1)[:4])
    if kind == "A":
        return Period(kind, datetime(year, 1, 1), datetime(year + 1, 1, 1))
    if kind in ("S", "T", "Q", "M"):
        months = {"S": 6, "T": 4, "Q": 3, "M": 1}[kind]
        start = datetime(year, 1 + (int(match.group(2)) - 1) * months, 1)
        return Period(kind, start, _add_months(start, months))
    if kind == "W":
        start = datetime.combine(date.fromisocalendar(year, int(match.group(2)), 1), datetime.min.time())
        return Period(kind, start, start + timedelta(weeks=1))
    if kind == "D":
        start = datetime(year, int(match.group(2)), int(match.group(3)))
        return Period(kind, start, start + timedelta(days=1))
    if kind == "DOY":
        day = int(match.group(2))
        start = datetime(year, 1, 1) + timedelta(days=day - 1)
        if day < 1 or start.year != year:
            raise ValueError(f"day {day} does not exist in {year}")
        return Period(kind, start, start + timedelta(days=1))
    start = datetime.fromisoformat(match.group(1))
    return Period(kind, start, start + timedelta(seconds=1))


def _add_months(moment: datetime, months: int) -> datetime:
    total = moment.month - 1 + months
    return moment.replace(year=moment.year + total // 12, month=total % 12 + 1)


def consistent_with_freq(period: Period, freq: str) -> bool:
    """True if the period's format is the one FREQ implies (unknown FREQ codes accept anything)."""
    kinds = FREQ_KINDS.get(freq)
    return kinds is None or period.kind == "RANGE" or period.kind in kinds
