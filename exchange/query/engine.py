"""Running data queries against the observation store, streaming series blocks for the writers.

Visibility: each dataset is read at one release snapshot — its latest published release (or the
latest one published at ``asOf``). Series are found through the dimension index, observations are
streamed in (series, period) order and grouped into :class:`SeriesBlock` objects; only pivots for
``dimensionAtObservation`` other than TIME_PERIOD hold a whole result in memory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import Engine, func, or_, select

from exchange.formats.data_message import DataSetInfo, ObservationRow, SeriesBlock
from exchange.query.filters import RowPredicate, build_predicates
from exchange.query.params import DataQuery, QuerySyntaxError
from exchange.store.queries import matching_series
from exchange.store.schema import Dataset, Observation, Release, Series, SeriesAttributes
from exchange.structures.model import Dataflow, DataStructure
from exchange.structures.registry import Registry

FETCH_ROWS = 20_000


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One dataset as visible to this query."""

    dataset_id: int
    provider: tuple[str, str]
    release: int
    updated_releases: frozenset[int] | None
    """With updatedAfter: the releases published after that moment (None: no such filter)."""
    last_modified: datetime


@dataclass
class DataResult:
    """A query's answer: data set description, series stream and facts for HTTP caching."""

    info: DataSetInfo
    blocks: Iterator[SeriesBlock]
    last_modified: datetime
    snapshot_tag: str
    """Identifies the visible releases (for ETags)."""
    observation_estimate: int = 0
    extra: dict[str, object] = field(default_factory=dict)


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
                found.append(Snapshot(dataset_id, (agency, provider_id), number, updated, _aware(published)))
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
        snapshots = self.snapshots(flow, query)
        if not snapshots:
            return None
        predicates = build_predicates(query.filters, dsd)
        if at_obs == "TIME_PERIOD":
            series_dims, obs_dims = tuple(dims), ("TIME_PERIOD",)
        elif at_obs == "AllDimensions":
            series_dims, obs_dims = (), (*dims, "TIME_PERIOD")
        else:
            series_dims, obs_dims = (*tuple(d for d in dims if d != at_obs), "TIME_PERIOD"), (at_obs,)
        info = DataSetInfo(
            dataflow=flow,
            structure=dsd,
            series_dimensions=series_dims,
            observation_dimensions=obs_dims,
            provider=snapshots[0].provider if len(snapshots) == 1 else None,
            action="Information",
        )
        blocks = self._time_series(dsd, dims, snapshots, query, predicates)
        if at_obs != "TIME_PERIOD":
            blocks = _pivot(blocks, dims, at_obs)
        blocks = _offset_limit(blocks, query.offset, query.limit)
        last_modified = max(s.last_modified for s in snapshots)
        tag = ",".join(f"{s.dataset_id}:{s.release}" for s in snapshots)
        return DataResult(info, blocks, last_modified, tag)

    def count(self, flow: Dataflow, query: DataQuery) -> int:
        """Number of stored observation versions the query would read (an upper bound of the result)."""
        dsd = self.registry.structure_of(flow)
        dims = [d.id for d in dsd.dimensions]
        total = 0
        with self.engine.connect() as conn:
            for snap in self.snapshots(flow, query):
                stmt = self._observation_select(snap, dims, query, [func.count()]).order_by(None)
                total += conn.execute(stmt).scalar() or 0
        return total

    def _observation_select(self, snap: Snapshot, dims: list[str], query: DataQuery, columns: list):  # type: ignore[no-untyped-def]
        positions = {dims.index(d): codes for d, codes in query.key.items()}
        series = matching_series([snap.dataset_id], positions, len(dims)).with_only_columns(Series.id)
        stmt = select(*columns).where(
            Observation.series_id.in_(series),
            Observation.from_release <= snap.release,
            or_(Observation.to_release.is_(None), Observation.to_release > snap.release),
        )
        if snap.updated_releases is not None:
            stmt = stmt.where(Observation.from_release.in_(sorted(snap.updated_releases)))
        if query.start is not None:
            stmt = stmt.where(Observation.period_end > query.start)
        if query.end is not None:
            stmt = stmt.where(Observation.period_start < query.end)
        return stmt

    def _time_series(
        self,
        dsd: DataStructure,
        dims: list[str],
        snapshots: list[Snapshot],
        query: DataQuery,
        predicates: list[RowPredicate],
    ) -> Iterator[SeriesBlock]:
        for snap in snapshots:
            yield from self._dataset_series(dsd, dims, snap, query, predicates)

    def _dataset_series(
        self,
        dsd: DataStructure,
        dims: list[str],
        snap: Snapshot,
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
    """Regroup time series into cross-sections (one dimension at observation) or a flat table.

    Series attributes move to the observation level: once the observation dimension is part of the
    grouping, they no longer belong to one series of the output.
    """
    flat = at_obs == "AllDimensions"
    position = None if flat else dims.index(at_obs)
    groups: dict[tuple[str, ...], list[ObservationRow]] = {}
    for block in blocks:
        for (period,), value, attrs in block.observations:
            merged = _merge_attributes(block.attributes, attrs)
            if flat:
                groups.setdefault((), []).append(((*block.key, period), value, merged))
            else:
                assert position is not None
                key = (*block.key[:position], *block.key[position + 1 :], period)
                groups.setdefault(key, []).append(((block.key[position],), value, merged))
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
