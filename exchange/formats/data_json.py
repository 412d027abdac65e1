"""Streaming SDMX-JSON 1.0 and 2.0 data writers.

SDMX-JSON data refer to every dimension and attribute value by its index in the ``values`` list of the
structure section, which comes first in the message. The writers make one pass over the series: the data
set body is rendered straight away (an index never changes once given, in order of first appearance) into
a spooled temporary file, which stays in memory up to :data:`SPOOL_BYTES` and then moves to disk; only
the value tables (distinct codes and periods, plus distinct uncoded attribute values where they are
indexed) stay in memory. Then the message is streamed in ~64 KB chunks: ``meta``, the structure, the data
set header and the spooled body, in the order of the specification's examples, so clients that
stream-parse see the structure first. Peak memory does not grow with the number of observations; ``meta``
leaves at once, the structure and data only after the last series has been read.

A message may hold several data sets of one dataflow and layout (``write_json_*_message``: the answers to
updatedAfter and includeHistory): their bodies go one after the other into the same spool, indexing into the
one shared structure (whose ``values`` cover them all; SDMX-JSON 2.0 lists them all in ``dataSets``), and
``dataSets`` has one entry per data set with its ``action``, ``validFrom``/``validTo``, reporting period,
dataset attributes (null where a data set has no value for one the others have) and series. The dataProvider
link of the structure is written when every data set has the same provider.

Shapes:

- ``dimensionAtObservation=TIME_PERIOD`` (or any one dimension, or several): ``series`` keyed by the
  indexes of the series dimensions, observations keyed by the observation dimension(s); with no series
  dimensions (``AllDimensions``) a flat ``observations`` object keyed by every dimension's index.
- Observation arrays: OBS_VALUE first (a number, null when missing; SDMX-JSON 2.0 with ``measures=False``
  leaves it out and has an empty ``measures`` object; 1.0, which cannot, writes null), then the
  observation-level attributes; trailing absent attributes are left out, as both field guides allow.
- Attributes: those given in ``DataSetInfo.dataset_attributes`` at data set level; series level for those
  whose DSD attachment lies within the series dimensions; the rest at observation level, taking a value
  from the observation's attributes, else from its series'. Relationships state the DSD attachment.
  Components are listed even when no value is used (1.0: empty ``values``; 2.0: no ``values``), since
  the data arrays were written before that was known; dimensions without any value are left out.
- SDMX-JSON 2.0 writes uncoded observation-level attribute values directly into the observation arrays
  (no ``values`` list), so unique comments do not fill a table; 1.0 always uses indexes.
- Names: ``name``/``names`` of the dataflow from the model; of components and codes from
  ``WriteOptions.label`` (see :mod:`exchange.formats.data_csv`), else the id as ``name`` (which SDMX-JSON
  requires for values). Time period values carry their ``start`` and inclusive ``end``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from tempfile import SpooledTemporaryFile
from typing import Any

from exchange.formats.data_csv import (
    CHUNK_BYTES,
    DataSets,
    Memo,
    Names,
    dimension_order,
    is_coded,
    localised,
    message_attributes,
    parse_attributes,
    slices,
)
from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.structures.model import Component, DataStructure
from exchange.timeperiod import TimePeriodError, parse_period

MEDIA_TYPE_10 = "application/vnd.sdmx.data+json;version=1.0.0"
MEDIA_TYPE_20 = "application/vnd.sdmx.data+json;version=2.0.0"
SCHEMA_10 = "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/1.0/sdmx-json-data-schema.json"
SCHEMA_20 = "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/data-message/tools/schemas/2.0.0/sdmx-json-data-schema.json"
SPOOL_BYTES = 4 * 1024 * 1024
"""Rendered data kept in memory before the spool moves to a temporary file."""

Json = dict[str, Any]
_ID = re.compile(r"^[A-Za-z0-9_@$-]+$")
_ACTIONS = {"Merge": "Append"}
_PIECES_BATCH = 2048


def write_json_10(info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions) -> Iterator[bytes]:
    """SDMX-JSON 1.0 data (``application/vnd.sdmx.data+json;version=1.0.0``) in ~64 KB UTF-8 chunks."""
    return write_json_10_message([(info, blocks)], options)


def write_json_20(info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions) -> Iterator[bytes]:
    """SDMX-JSON 2.0 data (``application/vnd.sdmx.data+json;version=2.0.0``) in ~64 KB UTF-8 chunks."""
    return write_json_20_message([(info, blocks)], options)


def write_json_10_message(datasets: DataSets, options: WriteOptions) -> Iterator[bytes]:
    """:func:`write_json_10` for a message of one or more data sets sharing one structure."""
    return _Writer([info for info, _ in datasets], options, v2=False).write(datasets)


def write_json_20_message(datasets: DataSets, options: WriteOptions) -> Iterator[bytes]:
    """:func:`write_json_20` for a message of one or more data sets sharing one structure."""
    return _Writer([info for info, _ in datasets], options, v2=True).write(datasets)


class _Index(dict[str, int]):
    """Value → index in order of first appearance (the component's ``values`` list is the keys)."""

    def __missing__(self, value: str) -> int:
        index = self[value] = len(self)
        return index


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _period_bounds(text: str) -> Json:
    """``start`` and inclusive ``end`` of a time period, as UTC date-times (nothing if unparseable)."""
    try:
        period = parse_period(text)
    except TimePeriodError:
        return {}
    end = period.end - timedelta(seconds=1)
    return {"start": period.start.isoformat() + "Z", "end": end.isoformat() + "Z"}


def _related_dimensions(attribute: Component, dsd: DataStructure) -> list[str]:
    """Dimensions a series or group attribute depends on (all non-time dimensions if unstated)."""
    if attribute.attachment == "group":
        group_id = attribute.group or next(iter(attribute.related_to), None)
        group = next((g for g in dsd.groups if g.id == group_id), None)
        if group is not None:
            return list(group.dimensions)
    return list(attribute.related_to) or [d.id for d in dsd.dimensions]


class _Writer:
    def __init__(self, infos: list[DataSetInfo], options: WriteOptions, v2: bool) -> None:
        if not infos:
            raise ValueError("a data message needs at least one data set")
        info = self.info = infos[0]
        self.infos = infos
        self.provider = info.provider if all(i.provider == info.provider for i in infos) else None
        """The data provider of every data set (None if they differ)."""
        self.options = options
        self.v2 = v2
        self.names = Names(options)
        dsd = info.structure
        self.dsd = dsd
        self.by_id = {c.id: c for c in dsd.components}
        self.dims = dimension_order(dsd)
        self.flat = not info.series_dimensions
        self.series_dims = list(info.series_dimensions)
        obs_dims = set(info.observation_dimensions)
        self.obs_dims = [d for d in self.dims if d in obs_dims]
        order = [info.observation_dimensions.index(d) for d in self.obs_dims]
        self.order = None if order == list(range(len(order))) else order
        """Positions of the observation key's values in DSD order, when that is not their order."""
        self.with_observations = options.detail in ("full", "dataonly")
        self.with_value = options.measures or not v2

        selected = message_attributes(infos, options)
        given = {k for i in infos for k, v in i.dataset_attributes.items() if v is not None}
        self.dataset_attrs = [a for a in selected if a.id in given]
        rest = [a for a in selected if a.id not in given]
        series_set = set(self.series_dims)
        if self.flat:
            self.series_attrs: list[Component] = []
            self.obs_attrs = rest
        else:
            self.series_attrs = [
                a for a in rest if a.attachment != "observation" and set(_related_dimensions(a, dsd)) <= series_set
            ]
            self.obs_attrs = [a for a in rest if a not in self.series_attrs]
        if not self.with_observations:
            self.obs_attrs = []
        self.inline = {a.id for a in self.obs_attrs if v2 and not is_coded(a)}
        """Uncoded observation attributes that SDMX-JSON 2.0 writes as values rather than indexes."""
        self.indexes = {c: _Index() for c in self.dims}
        for a in self.dataset_attrs + self.series_attrs + self.obs_attrs:
            if a.id not in self.inline:
                self.indexes[a.id] = _Index()
        self.key_texts = {d: Memo(lambda v, index=self.indexes[d]: str(index[v])) for d in self.dims}

    # --- data set body -----------------------------------------------------------------------------------

    def _attribute_items(self, components: list[Component], values: dict[str, str]) -> list[str]:
        items = []
        for a in components:
            value = values.get(a.id)
            if value is None:
                items.append("null")
            elif a.id in self.inline:
                items.append(_dumps(value))
            else:
                items.append(str(self.indexes[a.id][value]))
        return items

    def _series_part(self, series_json: str | None) -> tuple[str, Memo]:
        """For a series' attribute JSON: its ``"attributes":[…]`` member (or "") and the memo of observation
        array endings (``,0,2]``) per observation attribute JSON."""
        series_values = parse_attributes(series_json)
        member = ""
        if self.series_attrs:
            member = '"attributes":[' + ",".join(self._attribute_items(self.series_attrs, series_values)) + "]"
        lead = "," if self.with_value else ""

        def ending(obs_json: str | None) -> str:
            items = self._attribute_items(self.obs_attrs, {**series_values, **parse_attributes(obs_json)})
            while items and items[-1] == "null":
                items.pop()
            return (lead + ",".join(items) if items else "") + "]"

        return member, Memo(ending)

    def _key_openings(self) -> Memo | None:
        """``"3":[`` per value of the single observation dimension (None when there are several)."""
        if len(self.obs_dims) != 1:
            return None
        texts = self.key_texts[self.obs_dims[0]]
        return Memo(lambda v: f'"{texts[v]}":[')

    def _observations(self, observations: list[Any], endings: Memo, openings: Memo | None) -> str:
        """Comma-separated ``"key":[value,attributes…]`` entries."""
        with_value = self.with_value
        measured = self.options.measures
        entries: list[str] = []
        append = entries.append
        if openings is not None:
            for key, value, obs_json in observations:
                if not with_value:
                    text = ""
                elif value is None or not measured:
                    text = "null"
                else:
                    text = repr(value)
                    if text[-2:] == ".0":
                        text = text[:-2]
                    elif text[-1] > "9":
                        text = "null"
                append(f"{openings[key[0]]}{text}{endings[obs_json]}")
            return ",".join(entries)
        key_memos = [self.key_texts[d] for d in self.obs_dims]
        last_memo = key_memos[-1]
        order = self.order
        previous: tuple[str, ...] | None = None
        head = ""
        for raw_key, value, obs_json in observations:
            key = tuple(raw_key[i] for i in order) if order else raw_key
            if key[:-1] != previous:
                previous = key[:-1]
                head = '"' + "".join(m[v] + ":" for m, v in zip(key_memos, previous, strict=False))
            if not with_value:
                text = ""
            elif value is None or not measured:
                text = "null"
            else:
                text = repr(value)
                if text[-2:] == ".0":
                    text = text[:-2]
                elif text[-1] > "9":
                    text = "null"
            append(f'{head}{last_memo[key[-1]]}":[{text}{endings[obs_json]}')
        return ",".join(entries)

    def body(self, blocks: Iterable[SeriesBlock]) -> Iterator[str]:
        """The text inside the data set's ``series`` (or flat ``observations``) object, in ~64 KB pieces."""
        series_parts = Memo(self._series_part)
        openings = self._key_openings()
        key_memos = [self.key_texts[d] for d in self.series_dims]
        pieces: list[str] = []
        size = 0
        separator = ""
        for block in blocks:
            member, endings = series_parts[block.attributes]
            if not self.flat:
                key = ":".join([m[v] for m, v in zip(key_memos, block.key, strict=True)])
                pieces.append(f'{separator}"{key}":{{{member}')
                separator = ","
                if self.with_observations:
                    pieces.append(',"observations":{' if member else '"observations":{')
            if self.with_observations:
                joiner = separator if self.flat else ""
                for part in slices(block.observations):
                    text = self._observations(part, endings, openings)
                    if text:
                        pieces.append(joiner + text)
                        joiner = ","
                        size += len(text)
                        if size >= CHUNK_BYTES:
                            yield "".join(pieces)
                            pieces, size = [], 0
                if self.flat:
                    separator = joiner
            if not self.flat:
                pieces.append("}}" if self.with_observations else "}")
            if len(pieces) >= _PIECES_BATCH:
                yield "".join(pieces)
                pieces, size = [], 0
        yield "".join(pieces)

    # --- structure -----------------------------------------------------------------------------------

    def _named(self, component_id: str) -> Json:
        name = self.names.component(component_id)
        doc: Json = {"id": component_id, "name": name or component_id}
        if name:
            doc["names"] = {self.options.language: name}
        return doc

    def _value(self, component: Component, value: str) -> Json:
        if is_coded(component):
            name = self.names.code(component.id, value)
            doc: Json = {"id": value, "name": name or value}
            if name:
                doc["names"] = {self.options.language: name}
            return doc
        if component.role == "time_dimension":
            doc = {"id": value, "name": value} if not self.v2 or _ID.match(value) else {"value": value}
            return doc | _period_bounds(value)
        if component.role == "dimension":
            return {"id": value, "name": value} if not self.v2 or _ID.match(value) else {"value": value}
        return {"value": value} if self.v2 else {"name": value}

    def _dimension(self, dim: str) -> Json | None:
        values = list(self.indexes[dim])
        if not values:
            return None
        component = self.by_id[dim]
        doc = self._named(dim) | {"keyPosition": self.dims.index(dim)}
        doc["values"] = [self._value(component, v) for v in values]
        return doc

    def _relationship(self, attribute: Component) -> Json:
        if attribute.attachment == "observation":
            return {"observation": {}} if self.v2 else {"primaryMeasure": self._measure_id()}
        if attribute.attachment in ("series", "group"):
            return {"dimensions": _related_dimensions(attribute, self.dsd)}
        return {"dataflow": {}} if self.v2 else {"none": {}}

    def _attribute(self, attribute: Component) -> Json:
        doc = self._named(attribute.id) | {"relationship": self._relationship(attribute)}
        if self.v2 and attribute.usage:
            doc["isMandatory"] = attribute.usage == "mandatory"
        if attribute.id in self.inline:
            return doc
        values = [self._value(attribute, v) for v in self.indexes[attribute.id]]
        if values or not self.v2:
            doc["values"] = values
        return doc

    def _measure_id(self) -> str:
        measures = self.dsd.measures
        return measures[0].id if measures else "OBS_VALUE"

    def _links(self) -> list[Json]:
        flow, dsd = self.info.dataflow, self.dsd
        links = [{"rel": "dataflow", "urn": flow.urn}, {"rel": "datastructure", "urn": dsd.urn}]
        if self.provider:
            agency, provider = self.provider
            urn = f"urn:sdmx:org.sdmx.infomodel.base.DataProvider={agency}:DATA_PROVIDERS(1.0).{provider}"
            links.append({"rel": "dataProvider", "urn": urn})
        return links

    def structure(self) -> Json:
        flow = self.info.dataflow
        doc: Json = {"links": self._links()}
        if flow.name:
            doc |= {"name": localised(flow.name, self.options.language), "names": dict(flow.name)}

        def dimensions(ids: list[str]) -> list[Json]:
            return [d for d in map(self._dimension, ids) if d is not None]

        doc["dimensions"] = {
            "dataSet": [],
            "series": dimensions(self.series_dims),
            "observation": dimensions(self.obs_dims if self.with_observations else []),
        }
        if self.v2:
            measure = self.by_id.get(self._measure_id())
            doc["measures"] = {"observation": [self._named(measure.id)]} if self.options.measures and measure else {}
        doc["attributes"] = {
            "dataSet": [self._attribute(a) for a in self.dataset_attrs],
            "series": [self._attribute(a) for a in self.series_attrs],
            "observation": [self._attribute(a) for a in self.obs_attrs],
        }
        if self.v2:
            doc["dataSets"] = list(range(len(self.infos)))
        return doc

    def meta(self) -> Json:
        prepared = self.info.prepared or datetime.now(UTC)
        if prepared.tzinfo is None:
            prepared = prepared.replace(tzinfo=UTC)
        return {
            "schema": SCHEMA_20 if self.v2 else SCHEMA_10,
            "id": self.info.message_id,
            "test": False,
            "prepared": prepared.isoformat(timespec="seconds"),
            "contentLanguages": [self.options.language],
            "sender": {"id": self.info.sender},
        }

    def dataset_head(self, info: DataSetInfo) -> Json:
        doc: Json = {"structure": 0} if self.v2 else {}
        doc |= {"action": _ACTIONS.get(info.action, info.action), "links": self._links()[:1]}
        if info.reporting_begin:
            doc["reportingBegin"] = info.reporting_begin
        if info.reporting_end:
            doc["reportingEnd"] = info.reporting_end
        if info.valid_from:
            doc["validFrom"] = info.valid_from
        if info.valid_to:
            doc["validTo"] = info.valid_to
        values = info.dataset_attributes
        if any(values.get(a.id) is not None for a in self.dataset_attrs):
            doc["attributes"] = [
                None if values.get(a.id) is None else self.indexes[a.id][values[a.id]] for a in self.dataset_attrs
            ]
        return doc

    # --- message -------------------------------------------------------------------------------------

    def write(self, datasets: DataSets) -> Iterator[bytes]:
        yield f'{{"meta":{_dumps(self.meta())},"data":{{'.encode()
        with SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            heads = [self.dataset_head(info) for info, _ in datasets]  # data set attribute values index first
            ends = []
            for _, blocks in datasets:
                for text in self.body(blocks):
                    spool.write(text.encode())
                ends.append(spool.tell())
            structure_key = "structures" if self.v2 else "structure"
            structure = [self.structure()] if self.v2 else self.structure()
            container = "observations" if self.flat else "series"
            pending = f'"{structure_key}":{_dumps(structure)},"dataSets":['.encode()
            spool.seek(0)
            position = 0
            for number, (head, end) in enumerate(zip(heads, ends, strict=True)):
                pending += f'{"," if number else ""}{_dumps(head)[:-1]},"{container}":{{'.encode()
                while position < end:
                    chunk = spool.read(min(CHUNK_BYTES, end - position))
                    position += len(chunk)
                    pending += chunk
                    if len(pending) >= CHUNK_BYTES:
                        yield pending
                        pending = b""
                pending += b"}}"
            yield pending + b"]}}"
