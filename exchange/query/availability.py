"""Data availability: which dimension values, which time range and how many observations a query has.

Answers with an *actual* content constraint (SDMX ``availableconstraint`` / ``availability``):
``mode=exact`` lists the values the data query would return; ``mode=available`` lists, for each
dimension, the values that remain valid selections given the other dimensions' selections.
Observation and series counts are given as ``sdmx_metrics`` annotations (as .Stat Suite does).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select

from exchange.query.engine import DataQueryEngine, Part, Snapshot
from exchange.query.params import DataQuery, QuerySyntaxError
from exchange.store.schema import Observation, SeriesDimension
from exchange.structures.model import Annotation, ContentConstraint, CubeRegion, Dataflow, TimeRange


class AvailabilityEngine(DataQueryEngine):
    """Availability queries over the same snapshots and filters as data queries."""

    def availability(
        self, flow: Dataflow, query: DataQuery, component: str | None, mode: str
    ) -> ContentConstraint | None:
        """The actual content constraint for the query, or None when no data match."""
        dsd = self.registry.structure_of(flow)
        dims = [d.id for d in dsd.dimensions]
        if component not in (None, "all", "*", "TIME_PERIOD", *dims):
            raise QuerySyntaxError(f"'{component}' is not a dimension of {dsd.ref}")
        if mode not in ("exact", "available"):
            raise QuerySyntaxError(f"mode must be exact or available, not '{mode}'")
        if query.filters:
            raise QuerySyntaxError("Only equality filters on dimensions (c[DIM]=A,B) are supported for availability")
        snapshots = self.snapshots(flow, query)
        if not snapshots:
            return None
        values, series_count = self._distinct_values(snapshots, dims, query)
        if not series_count:
            return None
        if mode == "available":
            for dim in query.key:
                relaxed = replace(query, key={d: c for d, c in query.key.items() if d != dim})
                values[dim] = self._distinct_values(snapshots, dims, relaxed)[0].get(dim, set())
        start, end, observations = self._time_range(snapshots, dims, query)
        wanted = dims if component in (None, "all", "*") else [c for c in (component,) if c != "TIME_PERIOD"]
        members = {d: sorted(values.get(d, set())) for d in wanted}
        ranges = {}
        if start is not None and end is not None and component in (None, "all", "*", "TIME_PERIOD"):
            ranges["TIME_PERIOD"] = TimeRange(
                start=start.date().isoformat(), end=(end - timedelta(days=1)).date().isoformat()
            )
        return ContentConstraint(
            agency=flow.agency,
            id=f"CC_{flow.id}",
            version="1.0",
            name={"en": f"Data available in {flow.name.get('en', flow.id)}"},
            role="actual",
            attachments=[flow.ref],
            cube_regions=[CubeRegion(include=True, members=members, time_ranges=ranges)],
            annotations=[
                Annotation(id="obs_count", title=str(observations), type="sdmx_metrics"),
                Annotation(id="series_count", title=str(series_count), type="sdmx_metrics"),
            ],
        )

    def _distinct_values(
        self, snapshots: list[Snapshot], dims: list[str], query: DataQuery
    ) -> tuple[dict[str, set[str]], int]:
        values: dict[str, set[str]] = {}
        series_total = 0
        with self.engine.connect() as conn:
            for snap in snapshots:
                with_data = self._observation_select(
                    snap, Part("current"), dims, query, [distinct(Observation.series_id)]
                ).subquery()
                rows = conn.execute(
                    select(SeriesDimension.position, SeriesDimension.value)
                    .where(SeriesDimension.series_id.in_(select(with_data.c[0])))
                    .distinct()
                ).all()
                for position, value in rows:
                    values.setdefault(dims[position], set()).add(value)
                series_total += conn.execute(select(func.count()).select_from(with_data)).scalar() or 0
        return values, series_total

    def _time_range(
        self, snapshots: list[Snapshot], dims: list[str], query: DataQuery
    ) -> tuple[datetime | None, datetime | None, int]:
        start: datetime | None = None
        end: datetime | None = None
        total = 0
        with self.engine.connect() as conn:
            for snap in snapshots:
                low, high, count = conn.execute(
                    self._observation_select(
                        snap,
                        Part("current"),
                        dims,
                        query,
                        [func.min(Observation.period_start), func.max(Observation.period_end), func.count()],
                    )
                ).one()
                total += count or 0
                if low is not None:
                    start = low if start is None else min(start, low)
                    end = high if end is None else max(end, high)
        return start, end, total
