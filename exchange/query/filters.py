"""REST 2.x component filters (``c[COMP]=op:value``) on dimensions, TIME_PERIOD, attributes and measures.

Equality filters on dimensions are folded into the key (and so answered by the index); everything else
becomes a predicate evaluated on series keys and observations as they stream.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from exchange.query.params import ComponentFilter, Condition, QuerySyntaxError
from exchange.structures.model import DataStructure
from exchange.timeperiod import TimePeriodError, parse_period


def fold_equalities(filters: tuple[ComponentFilter, ...], dsd: DataStructure, key: dict[str, tuple[str, ...]]):  # type: ignore[no-untyped-def]
    """Move ``c[DIM]=A,B`` (only ``eq`` alternatives) into the key; returns (key, remaining filters)."""
    dims = {d.id for d in dsd.dimensions}
    key = dict(key)
    remaining = []
    for flt in filters:
        codes = [alt[0][1] for alt in flt.alternatives if len(alt) == 1 and alt[0][0] == "eq"]
        if flt.component in dims and len(codes) == len(flt.alternatives):
            allowed = tuple(c for c in codes if flt.component not in key or c in key[flt.component])
            key[flt.component] = allowed or ("\x00none",)
        else:
            remaining.append(flt)
    return key, tuple(remaining)


@dataclass(frozen=True)
class RowPredicate:
    """A filter as two checks: on a series (key, attributes JSON) and on an observation."""

    series: Callable[[tuple[str, ...], str | None], bool]
    observation: Callable[[str, float | None, str | None], bool]


def _always_series(_key: tuple[str, ...], _attrs: str | None) -> bool:
    return True


def _always_obs(_period: str, _value: float | None, _attrs: str | None) -> bool:
    return True


def build_predicates(filters: tuple[ComponentFilter, ...], dsd: DataStructure) -> list[RowPredicate]:
    """Predicates for the filters (unknown components are a syntax error)."""
    dims = [d.id for d in dsd.dimensions]
    attributes = {a.id: a for a in dsd.attributes}
    measures = {m.id for m in dsd.measures}
    predicates = []
    for flt in filters:
        test = _matcher(flt.alternatives, numeric=flt.component in measures, period=flt.component == "TIME_PERIOD")
        if flt.component in dims:
            position = dims.index(flt.component)
            predicates.append(RowPredicate(lambda key, _a, p=position, t=test: t(key[p]), _always_obs))
        elif flt.component == "TIME_PERIOD":
            predicates.append(RowPredicate(_always_series, lambda period, _v, _a, t=test: t(period)))
        elif flt.component in measures:
            predicates.append(RowPredicate(_always_series, lambda _p, value, _a, t=test: t(value)))
        elif flt.component in attributes:
            name = flt.component
            if attributes[name].attachment in ("series", "group", "dataset"):
                predicates.append(RowPredicate(lambda _k, a, n=name, t=test: t(_attr(a, n)), _always_obs))
            else:
                predicates.append(RowPredicate(_always_series, lambda _p, _v, a, n=name, t=test: t(_attr(a, n))))
        else:
            raise QuerySyntaxError(f"c[{flt.component}]: {flt.component} is not a component of {dsd.ref}")
    return predicates


@lru_cache(maxsize=8192)
def _decoded(attrs: str) -> dict[str, str]:
    return json.loads(attrs)


def _attr(attrs: str | None, name: str) -> str | None:
    return _decoded(attrs).get(name) if attrs else None


def _matcher(alternatives: tuple[tuple[Condition, ...], ...], numeric: bool, period: bool) -> Callable[[object], bool]:
    checks = [[_condition(op, value, numeric, period) for op, value in alt] for alt in alternatives]

    def test(actual: object) -> bool:
        return any(all(check(actual) for check in alt) for alt in checks)

    return test


def _condition(op: str, value: str, numeric: bool, period: bool) -> Callable[[object], bool]:
    if op in ("co", "nc", "sw", "ew"):
        text_test = {
            "co": lambda a: value in a,
            "nc": lambda a: value not in a,
            "sw": lambda a: a.startswith(value),
            "ew": lambda a: a.endswith(value),
        }[op]
        return lambda actual: actual is not None and text_test(str(actual))
    if period:
        return _period_condition(op, value)
    if numeric:
        try:
            number = float(value)
        except ValueError as exc:
            raise QuerySyntaxError(f"'{value}' is not a number") from exc
        return lambda actual: actual is not None and _compare(op, float(actual), number)  # type: ignore[arg-type]
    return lambda actual: actual is not None and _compare(op, _maybe_number(str(actual)), _maybe_number(value))


def _period_condition(op: str, value: str) -> Callable[[object], bool]:
    """Interval semantics: ge:X keeps periods ending after X starts, le:X those starting before X ends."""
    try:
        bound = parse_period(value)
    except TimePeriodError as exc:
        raise QuerySyntaxError(f"c[TIME_PERIOD]: {exc}") from exc

    def test(actual: object) -> bool:
        period = _parsed(str(actual))
        return {
            "eq": period.start == bound.start and period.end == bound.end,
            "ne": not (period.start == bound.start and period.end == bound.end),
            "ge": period.end > bound.start,
            "gt": period.start >= bound.end,
            "le": period.start < bound.end,
            "lt": period.end <= bound.start,
        }[op]

    return test


@lru_cache(maxsize=4096)
def _parsed(text: str):  # type: ignore[no-untyped-def]
    return parse_period(text)


def _maybe_number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text


def _compare(op: str, actual, expected) -> bool:  # type: ignore[no-untyped-def]
    if type(actual) is not type(expected):
        actual, expected = str(actual), str(expected)
    return {
        "eq": actual == expected,
        "ne": actual != expected,
        "lt": actual < expected,
        "le": actual <= expected,
        "gt": actual > expected,
        "ge": actual >= expected,
    }[op]
