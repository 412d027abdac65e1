"""Writing validated data as a new release of a provider's dataset (inside the caller's transaction).

A release records only what changed: new observation versions get ``from_release = N``; versions
replaced or deleted get ``to_release = N``. Nothing is updated in place or deleted, so every earlier
release can still be served.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from exchange.store.schema import Dataset, Observation, Release, Series, SeriesAttributes, SeriesDimension, utcnow
from exchange.structures.model import Ref
from exchange.validation.validator import SeriesData, ValidatedData

Action = Literal["replace", "merge", "delete"]
CHUNK = 500


@dataclass(frozen=True)
class ReleaseSource:
    """Where a release came from."""

    name: str = ""
    format: str = ""
    sha256: str = ""
    created_by: str = ""


def attributes_json(values: dict[str, str]) -> str | None:
    """Canonical JSON of non-empty attribute values (None when there are none)."""
    kept = {k: v for k, v in values.items() if v}
    return json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False) if kept else None


def dataset_for(session: Session, dataflow: Ref, provider_agency: str, provider_id: str) -> Dataset:
    """The provider's dataset in the dataflow, created on first use."""
    query = select(Dataset).where(
        Dataset.dataflow_agency == dataflow.agency,
        Dataset.dataflow_id == dataflow.id,
        Dataset.dataflow_version == dataflow.version,
        Dataset.provider_agency == provider_agency,
        Dataset.provider_id == provider_id,
    )
    dataset = session.scalar(query.with_for_update())
    if dataset is None:
        dataset = Dataset(
            dataflow_agency=dataflow.agency,
            dataflow_id=dataflow.id,
            dataflow_version=dataflow.version,
            provider_agency=provider_agency,
            provider_id=provider_id,
        )
        session.add(dataset)
        session.flush()
    return dataset


def store_release(
    session: Session,
    dataset: Dataset,
    data: ValidatedData,
    *,
    action: Action,
    publish: bool,
    source: ReleaseSource,
) -> Release:
    """Write validated data as the dataset's next release and return it (not yet committed)."""
    number = (session.scalar(select(func.max(Release.number)).where(Release.dataset_id == dataset.id)) or 0) + 1
    now = utcnow()
    release = Release(
        dataset_id=dataset.id,
        number=number,
        status="published" if publish else "draft",
        action=action,
        created_at=now,
        published_at=now if publish else None,
        created_by=source.created_by,
        source_name=source.name,
        source_format=source.format,
        source_sha256=source.sha256,
        dataset_attributes=json.dumps(data.dataset_attributes, sort_keys=True, ensure_ascii=False),
    )
    session.add(release)
    session.flush()
    writer = _ReleaseWriter(session, dataset, number)
    series_ids = writer.ensure_series(data.series.values(), create=action != "delete")
    changed = 0
    for chunk in _chunks(list(data.series.values()), CHUNK):
        changed += writer.apply_chunk(chunk, series_ids, delete=action == "delete")
    if action == "replace":
        changed += writer.close_untouched(set(series_ids.values()))
    release.observation_count = changed
    release.series_count = len(data.series)
    return release


class _ReleaseWriter:
    def __init__(self, session: Session, dataset: Dataset, number: int) -> None:
        self.session = session
        self.dataset = dataset
        self.number = number
        self.matched_ids: set[int] = set()

    def ensure_series(self, series: Iterable[SeriesData], create: bool) -> dict[tuple[str, ...], int]:
        """Ids of the release's series, creating (in bulk) those the dataset does not have yet."""
        existing = dict(
            self.session.execute(select(Series.series_key, Series.id).where(Series.dataset_id == self.dataset.id)).all()
        )
        ids: dict[tuple[str, ...], int] = {}
        missing: list[tuple[str, ...]] = []
        for data in series:
            found = existing.get(".".join(data.key))
            if found is not None:
                ids[data.key] = found
            elif create:
                missing.append(data.key)
        for chunk in _chunks(missing, CHUNK):
            created = self.session.execute(
                insert(Series).returning(Series.id, sort_by_parameter_order=True),
                [{"dataset_id": self.dataset.id, "series_key": ".".join(key)} for key in chunk],
            ).scalars()
            new_ids = dict(zip(chunk, created, strict=True))
            ids.update(new_ids)
            self.session.execute(
                insert(SeriesDimension),
                [
                    {"series_id": sid, "position": pos, "dataset_id": self.dataset.id, "value": code}
                    for key, sid in new_ids.items()
                    for pos, code in enumerate(key)
                ],
            )
        return ids

    def apply_chunk(self, chunk: list[SeriesData], series_ids: dict[tuple[str, ...], int], delete: bool) -> int:
        """Insert new/changed observation versions and close replaced or deleted ones."""
        ids = [series_ids[s.key] for s in chunk if s.key in series_ids]
        current = {
            (sid, start, end): (obs_id, value, attrs)
            for obs_id, sid, start, end, value, attrs in self.session.execute(
                select(
                    Observation.id,
                    Observation.series_id,
                    Observation.period_start,
                    Observation.period_end,
                    Observation.obs_value,
                    Observation.attributes,
                ).where(Observation.series_id.in_(ids), Observation.to_release.is_(None))
            )
        }
        to_close: list[int] = []
        rows: list[dict] = []
        if not delete:
            self._series_attributes({series_ids[s.key]: s.attributes for s in chunk if s.key in series_ids})
        for data in chunk:
            sid = series_ids.get(data.key)
            if sid is None:
                continue
            for (start, end), obs in data.observations.items():
                found = current.get((sid, start, end))
                attrs = attributes_json(obs.attributes)
                if found is not None:
                    self.matched_ids.add(found[0])
                    if not delete and _same(found[1], obs.value) and found[2] == attrs:
                        continue
                    to_close.append(found[0])
                if not delete:
                    rows.append(
                        {
                            "series_id": sid,
                            "time_period": obs.time_period,
                            "period_start": start,
                            "period_end": end,
                            "obs_value": obs.value,
                            "attributes": attrs,
                            "from_release": self.number,
                            "to_release": None,
                        }
                    )
        self._close(to_close)
        if rows:
            self.session.execute(insert(Observation), rows)
        return len(rows) + (len(to_close) if delete else 0)

    def close_untouched(self, touched_series: set[int]) -> int:
        """For a replace: close every current observation the release did not restate."""
        all_series = self.session.scalars(select(Series.id).where(Series.dataset_id == self.dataset.id)).all()
        stale: list[int] = []
        for chunk in _chunks(list(all_series), CHUNK):
            stale += [
                obs_id
                for obs_id in self.session.scalars(
                    select(Observation.id).where(
                        Observation.series_id.in_(chunk),
                        Observation.to_release.is_(None),
                        Observation.from_release < self.number,
                    )
                )
                if obs_id not in self.matched_ids
            ]
        self._close(stale)
        untouched = [sid for sid in all_series if sid not in touched_series]
        for chunk in _chunks(untouched, CHUNK):
            self.session.execute(
                update(SeriesAttributes)
                .where(SeriesAttributes.series_id.in_(chunk), SeriesAttributes.to_release.is_(None))
                .values(to_release=self.number)
            )
        return len(stale)

    def _close(self, obs_ids: list[int]) -> None:
        for chunk in _chunks(obs_ids, CHUNK):
            self.session.execute(update(Observation).where(Observation.id.in_(chunk)).values(to_release=self.number))

    def _series_attributes(self, values: dict[int, dict[str, str]]) -> None:
        """Version series attributes that changed (bulk: one read, one update, one insert)."""
        current = {
            sid: (row_id, text)
            for sid, row_id, text in self.session.execute(
                select(SeriesAttributes.series_id, SeriesAttributes.id, SeriesAttributes.attributes).where(
                    SeriesAttributes.series_id.in_(list(values)), SeriesAttributes.to_release.is_(None)
                )
            )
        }
        to_close: list[int] = []
        rows: list[dict] = []
        for sid, attrs in values.items():
            encoded = attributes_json(attrs) or "{}"
            row_id, text = current.get(sid, (None, None))
            if text == encoded:
                continue
            if row_id is not None:
                to_close.append(row_id)
            rows.append({"series_id": sid, "from_release": self.number, "to_release": None, "attributes": encoded})
        if to_close:
            self.session.execute(
                update(SeriesAttributes).where(SeriesAttributes.id.in_(to_close)).values(to_release=self.number)
            )
        if rows:
            self.session.execute(insert(SeriesAttributes), rows)


def _same(a: float | None, b: float | None) -> bool:
    return a == b or (a is None and b is None)


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class ReleaseStateError(ValueError):
    """A release cannot change state as asked (unknown, already published, earlier draft pending)."""


def publish_release(session: Session, dataset: Dataset, number: int) -> Release:
    """Make a draft release visible; earlier drafts of the dataset must be published first."""
    release = session.scalar(
        select(Release).where(Release.dataset_id == dataset.id, Release.number == number).with_for_update()
    )
    if release is None:
        raise ReleaseStateError(f"Release {number} does not exist")
    if release.status == "published":
        raise ReleaseStateError(f"Release {number} is already published")
    earlier = session.scalars(
        select(Release.number).where(
            Release.dataset_id == dataset.id, Release.number < number, Release.status == "draft"
        )
    ).all()
    if earlier:
        raise ReleaseStateError(
            f"Release {number} builds on draft release(s) {', '.join(map(str, earlier))}; publish those first"
        )
    release.status = "published"
    release.published_at = utcnow()
    return release
