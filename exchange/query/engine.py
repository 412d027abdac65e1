"""Running data queries against the observation store, streaming series blocks for the writers.

Visibility: each dataset is read at one release snapshot — its latest published release (or the
latest one published at ``asOf``). Series are found through the dimension index, observations are
streamed in (series, period) order and grouped into :class:`SeriesBlock` objects; only pivots for
``dimensionAtObservation`` other than TIME_PERIOD hold a whole result in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Engine, exists, func, or_, select
from sqlalchemy.orm import aliased

from exchange.formats.data_message import DataSetInfo, ObservationRow, SeriesBlock
from exchange.query.filters import RowPredicate, build_predicates
from exchange.query.params import DataQuery, QuerySyntaxError
from exchange.store.queries import matching_series
from exchange.store.schema import Dataset, Observation, Release, Series, SeriesAttributes
from exchange.structures.model import Dataflow, DataStructure
from exchange.structures.registry import Registry
from exchange.validation.constraints import ConstraintChecker
from mappings.global_view import GLOBAL_FLOW, PARTNERSHIP_FLOW, GlobalView, SourcedBlock

FETCH_ROWS = 5_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One dataset as visible to this query."""

    dataset_id: int
    provider: tuple[str, str]
    release: int
    updated_releases: frozenset[int] | None
    """With updatedAfter: the releases published after that moment (None: no such filter)."""
    last_modified: datetime
    published: tuple[tuple[int, datetime], ...] = ()
    """Every visible published release (number, publication time), oldest first."""


@dataclass(frozen=True, slots=True)
class Part:
    """Which observation versions one data set of the answer holds.

    ``current``: the snapshot; ``changed``: versions of the snapshot introduced by ``releases``;
    ``introduced``: every version introduced by ``releases`` (history); ``deleted``: versions removed by
    ``releases`` without a successor.
    """

    kind: str
    releases: frozenset[int] = frozenset()


@dataclass
class DataResult:
    """A query's answer: one or more data sets (info + series stream) and facts for HTTP caching.

    A plain query has one ``Information`` data set; updatedAfter adds a ``Delete`` data set for removed
    observations; includeHistory gives a ``Replace`` (and possibly a ``Delete``) data set per release.
    """

    datasets: list[tuple[DataSetInfo, Iterator[SeriesBlock]]]
    last_modified: datetime
    snapshot_tag: str
    """Identifies the visible releases (for ETags)."""


class DataQueryEngine:
    """Answers data queries for one registry snapshot."""

    def __init__(self, engine: Engine, registry: Registry) -> None:
        self.engine = engine
        self.registry = registry

    def snapshots(self, flow: Dataflow, query: DataQuery) -> list[Snapshot]:
        """The visible release of every dataset of the flow matching the provider filter."""
        with self.engine.connect() as conn:
            datasets = conn.execute(
                select(Dataset.id, Dataset.provider_agency, Dataset.provider_id).where(
                    Dataset.dataflow_agency == flow.agency,
                    Dataset.dataflow_id == flow.id,
                    Dataset.dataflow_version == flow.version,
                )
            ).all()
            found: list[Snapshot] = []
            for dataset_id, agency, provider_id in datasets:
                if query.providers is not None and not any(
                    pid == provider_id and (pag is None or pag == agency) for pag, pid in query.providers
                ):
                    continue
                releases = conn.execute(
                    select(Release.number, Release.published_at)
                    .where(Release.dataset_id == dataset_id, Release.status == "published")
                    .order_by(Release.number)
                ).all()
                if query.as_of is not None:
                    releases = [r for r in releases if _aware(r.published_at) <= query.as_of]
                if not releases:
                    continue
                number, published = releases[-1]
                updated = None
                if query.updated_after is not None:
                    updated = frozenset(r.number for r in releases if _aware(r.published_at) > query.updated_after)
                    if not updated:
                        continue
                found.append(
                    Snapshot(
                        dataset_id,
                        (agency, provider_id),
                        number,
                        updated,
                        _aware(published),
                        tuple((r.number, _aware(r.published_at)) for r in releases),
                    )
                )
        return found

    def run(self, flow: Dataflow, query: DataQuery) -> DataResult | None:
        """Plan and start the query; None when no dataset is visible at all."""
        dsd = self.registry.structure_of(flow)
        dims = [d.id for d in dsd.dimensions]
        at_obs = query.dimension_at_observation
        if at_obs not in (*dims, "TIME_PERIOD", "AllDimensions"):
            raise QuerySyntaxError(
                f"dimensionAtObservation '{at_obs}' is not a dimension of {dsd.ref} (use TIME_PERIOD, "
                f"AllDimensions or one of {', '.join(dims)})"
            )
        unknown = [c for c in query.key if c not in dims]
        if unknown:
            raise QuerySyntaxError(f"Unknown dimension(s) {', '.join(unknown)} in the key")
        view = GlobalView(self.registry) if flow.ref == GLOBAL_FLOW else None
        source_flow, source_dims, source_query = flow, dims, query
        if view is not None:
            source_flow = self.registry.dataflow(PARTNERSHIP_FLOW)
            source_dims = [d.id for d in self.registry.structure_of(source_flow).dimensions]
            source_query = replace(query, key=view.partnership_key(query.key), filters=())
        snapshots = self.snapshots(source_flow, source_query)
        if not snapshots:
            return None
        predicates = build_predicates(query.filters, dsd)
        if at_obs == "TIME_PERIOD":
            series_dims, obs_dims = tuple(dims), ("TIME_PERIOD",)
        elif at_obs == "AllDimensions":
            series_dims, obs_dims = (), (*dims, "TIME_PERIOD")
        else:
            series_dims, obs_dims = (*tuple(d for d in dims if d != at_obs), "TIME_PERIOD"), (at_obs,)
        base = DataSetInfo(
            dataflow=flow,
            structure=dsd,
            series_dimensions=series_dims,
            observation_dimensions=obs_dims,
            provider=snapshots[0].provider if len(snapshots) == 1 else None,
            action="Information",
        )
        datasets = []
        for info, parts in self._plan_parts(base, snapshots, query):
            if view is None:
                blocks = self._time_series(dsd, dims, parts, query, predicates)
            else:
                blocks = self._global_view(view, source_dims, parts, source_query, query, predicates)
            if at_obs != "TIME_PERIOD":
                blocks = _pivot(blocks, dims, at_obs)
            datasets.append((info, _offset_limit(blocks, query.offset, query.limit)))
        last_modified = max(s.last_modified for s in snapshots)
        tag = ",".join(f"{s.dataset_id}:{s.release}" for s in snapshots)
        return DataResult(datasets, last_modified, tag)

    def _global_view(
        self,
        view: GlobalView,
        source_dims: list[str],
        parts: list[tuple[Snapshot, Part]],
        source_query: DataQuery,
        query: DataQuery,
        predicates: list[RowPredicate],
    ) -> Iterator[SeriesBlock]:
        """Partnership series through the published mapping, restricted to the global view's constraints."""
        source_dsd = self.registry.structure_of(self.registry.dataflow(PARTNERSHIP_FLOW))
        sourced = (
            SourcedBlock(block, snap.provider, snap.release)
            for snap, part in parts
            for block in self._dataset_series(source_dsd, source_dims, snap, part, source_query, [])
        )
        target = self.registry.structure_of(self.registry.dataflow(GLOBAL_FLOW))
        checker = ConstraintChecker(self.registry.constraints_for(GLOBAL_FLOW, target.ref))
        dims = [d.id for d in target.dimensions]
        for block in view.transform(sourced):
            values = dict(zip(dims, block.key, strict=True))
            if block.attributes:
                values.update(json.loads(block.attributes))
            if checker.violation(values):
                continue
            if predicates:
                block = _apply_predicates(block, predicates)
                if block is None:
                    continue
            yield block

    @staticmethod
    def _plan_parts(
        base: DataSetInfo, snapshots: list[Snapshot], query: DataQuery
    ) -> list[tuple[DataSetInfo, list[tuple[Snapshot, Part]]]]:
        """The data sets of the answer and, for each, which versions of which dataset it holds."""
        if query.include_history:
            plans = []
            events = sorted(
                (published, snap, number)
                for snap in snapshots
                for number, published in snap.published
                if snap.updated_releases is None or number in snap.updated_releases
            )
            for published, snap, number in events:
                stamp = published.isoformat()
                releases = frozenset({number})
                plans.append(
                    (
                        replace(base, action="Replace", provider=snap.provider, valid_from=stamp),
                        [(snap, Part("introduced", releases))],
                    )
                )
                plans.append(
                    (
                        replace(base, action="Delete", provider=snap.provider, valid_to=stamp),
                        [(snap, Part("deleted", releases))],
                    )
                )
            return plans
        if query.updated_after is not None:
            changed = [(s, Part("changed", s.updated_releases or frozenset())) for s in snapshots]
            deleted = [(s, Part("deleted", s.updated_releases or frozenset())) for s in snapshots]
            return [(replace(base, action="Replace"), changed), (replace(base, action="Delete"), deleted)]
        return [(base, [(s, Part("current")) for s in snapshots])]

    def count(self, flow: Dataflow, query: DataQuery) -> int:
        """Number of stored observation versions the query would read (an upper bound of the result)."""
        if flow.ref == GLOBAL_FLOW:
            query = replace(query, key=GlobalView(self.registry).partnership_key(query.key), filters=())
            flow = self.registry.dataflow(PARTNERSHIP_FLOW)
        dsd = self.registry.structure_of(flow)
        dims = [d.id for d in dsd.dimensions]
        total = 0
        snapshots = self.snapshots(flow, query)  # before connecting: never hold two pooled connections
        with self.engine.connect() as conn:
            for snap in snapshots:
                stmt = self._observation_select(snap, Part("current"), dims, query, [func.count()])
                total += conn.execute(stmt).scalar() or 0
        return total

    def _observation_select(self, snap: Snapshot, part: Part, dims: list[str], query: DataQuery, columns: list):  # type: ignore[no-untyped-def]
        positions = {dims.index(d): codes for d, codes in query.key.items()}
        series = matching_series([snap.dataset_id], positions, len(dims)).with_only_columns(Series.id)
        stmt = select(*columns).where(Observation.series_id.in_(series))
        visible = (
            Observation.from_release <= snap.release,
            or_(Observation.to_release.is_(None), Observation.to_release > snap.release),
        )
        releases = sorted(part.releases)
        if part.kind == "current":
            stmt = stmt.where(*visible)
            if snap.updated_releases is not None:
                stmt = stmt.where(Observation.from_release.in_(sorted(snap.updated_releases)))
        elif part.kind == "changed":
            stmt = stmt.where(*visible, Observation.from_release.in_(releases))
        elif part.kind == "introduced":
            stmt = stmt.where(Observation.from_release.in_(releases))
        else:
            successor = aliased(Observation)
            stmt = stmt.where(
                Observation.to_release.in_(releases),
                Observation.to_release <= snap.release,
                ~exists().where(
                    successor.series_id == Observation.series_id,
                    successor.period_start == Observation.period_start,
                    successor.from_release == Observation.to_release,
                ),
            )
        if query.start is not None:
            stmt = stmt.where(Observation.period_end > query.start)
        if query.end is not None:
            stmt = stmt.where(Observation.period_start < query.end)
        return stmt

    def _time_series(
        self,
        dsd: DataStructure,
        dims: list[str],
        parts: list[tuple[Snapshot, Part]],
        query: DataQuery,
        predicates: list[RowPredicate],
    ) -> Iterator[SeriesBlock]:
        for snap, part in parts:
            yield from self._dataset_series(dsd, dims, snap, part, query, predicates)

    def _dataset_series(
        self,
        dsd: DataStructure,
        dims: list[str],
        snap: Snapshot,
        part: Part,
        query: DataQuery,
        predicates: list[RowPredicate],
    ) -> Iterator[SeriesBlock]:
        positions = {dims.index(d): codes for d, codes in query.key.items()}
        with self.engine.connect() as conn:
            keys = {
                sid: tuple(key.split("."))
                for sid, _, key in conn.execute(matching_series([snap.dataset_id], positions, len(dims)))
            }
            if not keys:
                return
            series_attrs = self._series_attributes(conn, snap, list(keys))
            stmt = self._observation_select(
                snap,
                part,
                dims,
                query,
                [Observation.series_id, Observation.time_period, Observation.obs_value, Observation.attributes],
            ).order_by(Observation.series_id, Observation.period_start)
            result = conn.execution_options(stream_results=True, yield_per=FETCH_ROWS).execute(stmt)
            current: SeriesBlock | None = None
            current_id = None
            first_n, last_n = query.first_n, query.last_n
            for sid, period, value, attrs in result.tuples():
                if sid != current_id:
                    if current is not None and current.observations:
                        yield _trim(current, first_n, last_n)
                    current_id = sid
                    current = SeriesBlock(keys[sid], series_attrs.get(sid))
                    if predicates and not all(p.series(current.key, current.attributes) for p in predicates):
                        current = None
                if current is None:
                    continue
                if predicates and not all(p.observation(period, value, attrs) for p in predicates):
                    continue
                current.observations.append(((period,), value, attrs))
            if current is not None and current.observations:
                yield _trim(current, first_n, last_n)

    @staticmethod
    def _series_attributes(conn, snap: Snapshot, series_ids: list[int]) -> dict[int, str | None]:  # type: ignore[no-untyped-def]
        found: dict[int, str | None] = {}
        for start in range(0, len(series_ids), 5000):
            chunk = series_ids[start : start + 5000]
            rows = conn.execute(
                select(SeriesAttributes.series_id, SeriesAttributes.attributes).where(
                    SeriesAttributes.series_id.in_(chunk),
                    SeriesAttributes.from_release <= snap.release,
                    or_(SeriesAttributes.to_release.is_(None), SeriesAttributes.to_release > snap.release),
                )
            )
            for sid, attrs in rows:
                found[sid] = None if attrs in ("{}", "") else attrs
        return found


def _apply_predicates(block: SeriesBlock, predicates: list[RowPredicate]) -> SeriesBlock | None:
    if not all(p.series(block.key, block.attributes) for p in predicates):
        return None
    block.observations = [
        row for row in block.observations if all(p.observation(row[0][0], row[1], row[2]) for p in predicates)
    ]
    return block if block.observations else None


def _aware(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _trim(block: SeriesBlock, first_n: int | None, last_n: int | None) -> SeriesBlock:
    if first_n is None and last_n is None:
        return block
    observations = block.observations
    if first_n is not None and last_n is not None:
        head, tail = observations[:first_n], observations[-last_n:]
        block.observations = head + [o for o in tail if o not in head]
    elif first_n is not None:
        block.observations = observations[:first_n]
    else:
        block.observations = observations[-last_n:]  # type: ignore[operator]
    return block


def _pivot(blocks: Iterator[SeriesBlock], dims: list[str], at_obs: str) -> Iterator[SeriesBlock]:
    """Regroup time series for another observation level.

    ``AllDimensions`` streams: each series becomes a block with an empty key whose observations carry the
    full key (writers put the series attributes on each observation). A cross-section on one dimension
    holds the result in memory: series attributes move to the observation level, as the observation
    dimension is now part of what they describe.
    """
    if at_obs == "AllDimensions":
        for block in blocks:
            rows = [((*block.key, period), value, attrs) for (period,), value, attrs in block.observations]
            yield SeriesBlock((), block.attributes, rows)
        return
    position = dims.index(at_obs)
    groups: dict[tuple[str, ...], list[ObservationRow]] = {}
    for block in blocks:
        for (period,), value, attrs in block.observations:
            key = (*block.key[:position], *block.key[position + 1 :], period)
            groups.setdefault(key, []).append(
                ((block.key[position],), value, _merge_attributes(block.attributes, attrs))
            )
    for key, observations in groups.items():
        yield SeriesBlock(key, None, observations)


@lru_cache(maxsize=4096)
def _merge_attributes(series_attrs: str | None, obs_attrs: str | None) -> str | None:
    if not series_attrs:
        return obs_attrs
    if not obs_attrs:
        return series_attrs
    merged = {**json.loads(series_attrs), **json.loads(obs_attrs)}
    return json.dumps(merged, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _offset_limit(blocks: Iterator[SeriesBlock], offset: int, limit: int | None) -> Iterator[SeriesBlock]:
    """REST 2.x offset/limit, counted in observations across series."""
    if not offset and limit is None:
        yield from blocks
        return
    skip, remaining = offset, limit
    for block in blocks:
        observations = block.observations
        if skip:
            dropped = min(skip, len(observations))
            observations = observations[dropped:]
            skip -= dropped
        if remaining is not None:
            observations = observations[:remaining]
            remaining -= len(observations)
        if observations:
            block.observations = observations
            yield block
        if remaining == 0:
            return
