"""A data query, independent of the REST version that expressed it, and its parsing helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from exchange.formats.data_message import Detail
from exchange.structures.model import DataStructure
from exchange.timeperiod import TimePeriodError, parse_period


class QuerySyntaxError(ValueError):
    """The query does not comply with the REST API (HTTP 400, SDMX 140)."""


Condition = tuple[str, str]
"""(operator, value); operators: eq ne lt le gt ge co nc sw ew."""


@dataclass(frozen=True)
class ComponentFilter:
    """A REST 2.x ``c[COMPONENT]=…`` filter: alternatives separated by ``,`` (OR), each a list of
    conditions joined by ``+`` (AND)."""

    component: str
    alternatives: tuple[tuple[Condition, ...], ...]


@dataclass
class DataQuery:
    """What to return from one dataflow; None means 'no restriction'."""

    key: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Dimension id → allowed codes (OR). Dimensions absent are wildcards."""
    providers: tuple[tuple[str | None, str], ...] | None = None
    """(agency or None for any, provider id)."""
    start: datetime | None = None
    end: datetime | None = None
    """Exclusive end of the requested range."""
    updated_after: datetime | None = None
    first_n: int | None = None
    last_n: int | None = None
    dimension_at_observation: str = "TIME_PERIOD"
    detail: Detail = "full"
    include_history: bool = False
    as_of: datetime | None = None
    filters: tuple[ComponentFilter, ...] = ()
    attributes: tuple[str, ...] | None = None
    measures: bool = True
    offset: int = 0
    limit: int | None = None


def parse_key(text: str, dsd: DataStructure, separator_or: str) -> dict[str, tuple[str, ...]]:
    """Parse a dotted series key (``A.N..404+524``; ``*`` or empty for wildcards) for the DSD."""
    dims = dsd.dimensions
    if text in ("all", "*", ""):
        return {}
    parts = text.split(".")
    if len(parts) != len(dims):
        raise QuerySyntaxError(
            f"The key '{text}' has {len(parts)} position(s) but {dsd.ref} has {len(dims)} dimensions "
            f"({'.'.join(d.id for d in dims)})"
        )
    key: dict[str, tuple[str, ...]] = {}
    for dim, part in zip(dims, parts, strict=True):
        if part in ("", "*"):
            continue
        codes = tuple(part.split(separator_or))
        if any(not c or not re.fullmatch(r"[A-Za-z0-9_@$\-]+", c) for c in codes):
            raise QuerySyntaxError(f"'{part}' is not a valid value list for dimension {dim.id}")
        key[dim.id] = codes
    return key


def parse_period_bound(text: str, *, end: bool) -> datetime:
    """startPeriod/endPeriod: the start (or exclusive end) of any SDMX time period or date-time."""
    try:
        period = parse_period(text)
    except TimePeriodError as exc:
        raise QuerySyntaxError(f"{'endPeriod' if end else 'startPeriod'}: {exc}") from exc
    return period.end if end else period.start


def parse_timestamp(name: str, text: str) -> datetime:
    """An xs:dateTime parameter (``updatedAfter``, ``asOf``); naive values are taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip().replace(" ", "+").replace("Z", "+00:00"))
    except ValueError as exc:
        raise QuerySyntaxError(
            f"{name} must be an ISO 8601 date-time, e.g. 2025-01-31T12:00:00Z, not '{text}'"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_positive_int(name: str, text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise QuerySyntaxError(f"{name} must be a positive integer, not '{text}'")
    return int(text)


FILTER_OPERATORS = ("eq", "ne", "lt", "le", "gt", "ge", "co", "nc", "sw", "ew")


def parse_component_filter(component: str, text: str) -> ComponentFilter:
    """Parse ``op:value`` conditions: ``,`` separates alternatives, ``+`` (or a decoded space) joins conditions.

    A condition without an operator means ``eq``.
    """
    alternatives = []
    for alternative in text.split(","):
        conditions = []
        for part in re.split(r"[+ ]", alternative):
            op, sep, value = part.partition(":")
            if not sep:
                op, value = "eq", part
            if op not in FILTER_OPERATORS:
                raise QuerySyntaxError(f"c[{component}]: unknown operator '{op}' (use {', '.join(FILTER_OPERATORS)})")
            if not value:
                raise QuerySyntaxError(f"c[{component}]: empty value in '{text}'")
            conditions.append((op, value))
        alternatives.append(tuple(conditions))
    return ComponentFilter(component, tuple(alternatives))
