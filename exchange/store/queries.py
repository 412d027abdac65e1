"""Key queries on the observation store: partial keys with wildcards, OR-ed codes and time ranges.

Each constrained dimension becomes an ``IN`` sub-query on the ``series_dimension`` index
(dataset, position, value → series); observations are then read per series through the
(series, period_start) index. The visible content is a release snapshot per dataset (see
:mod:`exchange.store.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from itertools import product
from math import prod

from sqlalchemy import Select, and_, or_, select

from exchange.store.schema import Observation, Series, SeriesDimension

EXACT_KEYS_LIMIT = 500
"""A fully specified key expanding to at most this many series keys is looked up by key string."""


def matching_series(dataset_ids: Sequence[int], key: Mapping[int, Sequence[str]], dimension_count: int) -> Select:
    """Series of the datasets whose dimension at each given position has one of the given codes.

    Positions not in ``key`` are wildcards. A key that names every dimension (with few OR-ed codes) is
    answered from the unique (dataset, series_key) index instead.
    """
    query = select(Series.id, Series.dataset_id, Series.series_key).where(Series.dataset_id.in_(dataset_ids))
    if len(key) == dimension_count and prod(len(codes) for codes in key.values()) <= EXACT_KEYS_LIMIT:
        keys = [".".join(codes) for codes in product(*(key[p] for p in range(dimension_count)))]
        return query.where(Series.series_key.in_(keys))
    for position, codes in sorted(key.items()):
        query = query.where(
            Series.id.in_(
                select(SeriesDimension.series_id).where(
                    SeriesDimension.dataset_id.in_(dataset_ids),
                    SeriesDimension.position == position,
                    SeriesDimension.value.in_(list(codes)),
                )
            )
        )
    return query


def observations_in_snapshot(
    series_ids: Sequence[int],
    release: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Select:
    """Observation versions visible in release ``release`` of their dataset, overlapping [start, end)."""
    query = select(
        Observation.series_id,
        Observation.time_period,
        Observation.period_start,
        Observation.obs_value,
        Observation.attributes,
    ).where(
        Observation.series_id.in_(series_ids),
        Observation.from_release <= release,
        or_(Observation.to_release.is_(None), Observation.to_release > release),
    )
    if start is not None:
        query = query.where(Observation.period_end > start)
    if end is not None:
        query = query.where(and_(Observation.period_start < end))
    return query.order_by(Observation.series_id, Observation.period_start)
