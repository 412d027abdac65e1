"""Streaming SDMX-CSV 1.0 and 2.0 data writers.

One row per observation (every dimension, OBS_VALUE, then every selected attribute whatever its level,
series and dataset values repeated on each row, as both field guides say); with ``detail=serieskeysonly``
or ``nodata`` one row per series whose observation-level dimension cells are empty (SDMX-CSV 2.0 calls
these rows attributes attached to a partial key). Columns follow the DSD: dimensions in key order, the
time dimension, the measure, attributes in DSD order. UTF-8 without BOM, comma separator, CRLF line ends
and RFC 4180 quoting only where a cell needs it (a comma, a double quote or a line break).

A message may hold several data sets of one dataflow and layout (``write_csv_20_message``: the answers to
updatedAfter and includeHistory): one header row, then the rows of each data set in turn, each with its data
set's ACTION letter (``I``, ``R``, ``D``, ``A``) and dataset attribute values; the attribute columns are those
of all the data sets. SDMX-CSV 1.0 has no ACTION column and no validity dates: it carries one ``Information``
data set only (:class:`UnrepresentableMessage` otherwise).

Options (both field guides and the REST media-type parameters):

- ``labels=both``: ``ID: Name`` in the headers of components that have a name and in coded cells (dimension
  and coded-attribute values with a name); uncoded values, time periods and the SDMX-CSV 1.0 ``DATAFLOW`` and
  ``OBS_VALUE`` headers stay as they are. ``labels=name`` (SDMX-CSV 2.0 only): a ``STRUCTURE_NAME`` column
  after ``STRUCTURE_ID``, and after every component column a column headed by the component's name that
  holds the name of a coded value (empty for uncoded values, time periods and OBS_VALUE).
- ``timeFormat=normalized``: each period becomes the ISO 8601 date of its start (``2014-01`` →
  ``2014-01-01``, ``2020-Q3`` → ``2020-07-01``); date-times stay as they are, time ranges give their start.
- ``measures=False``: SDMX-CSV 2.0 drops the OBS_VALUE column; 1.0 keeps the mandatory column, empty.

Names come from ``WriteOptions.label``: ``label(component_id, code)`` names a code and, by convention,
``label(component_id, "")`` names the component itself; a name that is empty or repeats the id counts as no
name. Rendered cells, row prefixes of each series and the attribute part of each distinct pair of series
and observation attribute JSON strings are computed once and reused; rows are joined into ~64 KB chunks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from exchange.formats.data_message import DataSetInfo, SeriesBlock, WriteOptions
from exchange.structures.model import Component, DataStructure, Localised
from exchange.timeperiod import TimePeriodError, parse_period

MEDIA_TYPE_10 = "application/vnd.sdmx.data+csv;version=1.0.0"
MEDIA_TYPE_20 = "application/vnd.sdmx.data+csv;version=2.0.0"

CHUNK_BYTES = 64 * 1024
"""Approximate size of the chunks the writers yield."""
MEMO_LIMIT = 16384
"""Most entries a memo of rendered text keeps before it starts over (bounds memory on unique values)."""
DataSets = Sequence[tuple[DataSetInfo, Iterable[SeriesBlock]]]
"""The data sets of one message, each with its series, in message order."""
ACTION_LETTERS = {"Information": "I", "Append": "A", "Merge": "A", "Replace": "R", "Delete": "D"}
_EOL = "\r\n"
_BATCH_ROWS = 64
_SPECIAL_VALUES = {"nan": "", "inf": "INF", "-inf": "-INF"}
"""repr() of the float values that are not decimal numbers → SDMX-CSV cell (NaN is a missing value)."""


class Memo(dict[Any, Any]):
    """A dict that renders a missing entry with ``render`` (at most :data:`MEMO_LIMIT` are kept)."""

    __slots__ = ("_render",)

    def __init__(self, render: Callable[[Any], Any]) -> None:
        super().__init__()
        self._render = render

    def __missing__(self, key: Any) -> Any:
        value = self._render(key)
        if len(self) >= MEMO_LIMIT:
            self.clear()
        self[key] = value
        return value


class Names:
    """Localised names through ``WriteOptions.label``, asked once per component or code."""

    def __init__(self, options: WriteOptions) -> None:
        self._label = options.label
        self._cache: dict[tuple[str, str], str] = {}

    def _ask(self, component_id: str, code: str) -> str:
        key = (component_id, code)
        name = self._cache.get(key)
        if name is None:
            name = (self._label(component_id, code) or "") if self._label else ""
            if name in (code, component_id):
                name = ""
            self._cache[key] = name
        return name

    def code(self, component_id: str, code: str) -> str:
        """The code's name, or "" if there is none."""
        return self._ask(component_id, code)

    def component(self, component_id: str) -> str:
        """The component's name (``label(component_id, "")``), or "" if there is none."""
        return self._ask(component_id, "")


def localised(text: Localised, language: str) -> str:
    """The text in ``language``, else English, else any language ("" for no text)."""
    return text.get(language) or text.get("en") or next(iter(text.values()), "")


def is_coded(component: Component) -> bool:
    """True if the component's values come from a codelist."""
    return component.representation is not None and component.representation.enumeration is not None


def parse_attributes(text: str | None) -> dict[str, str]:
    """Attribute values from their canonical JSON (null and "" are absent; non-strings become JSON text)."""
    if not text:
        return {}
    return {
        k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for k, v in json.loads(text).items()
        if v is not None and v != ""
    }


def dimension_order(dsd: DataStructure) -> list[str]:
    """Dimension ids in key order, the time dimension last."""
    time = dsd.time_dimension
    return [d.id for d in dsd.dimensions] + ([time.id] if time else [])


def selected_attributes(info: DataSetInfo, options: WriteOptions) -> list[Component]:
    """The DSD's attributes (in DSD order) that ``detail`` and ``attributes=`` let through.

    ``nodata`` keeps the attributes not attached to observations, plus any given at data set level.
    """
    if options.detail in ("dataonly", "serieskeysonly"):
        return []
    wanted = options.attributes
    return [
        a
        for a in info.structure.attributes
        if (wanted is None or a.id in wanted)
        and (options.detail != "nodata" or a.attachment != "observation" or a.id in info.dataset_attributes)
    ]


def message_attributes(infos: Iterable[DataSetInfo], options: WriteOptions) -> list[Component]:
    """:func:`selected_attributes` of every data set of a message, in DSD order."""
    infos = list(infos)
    ids = {a.id for info in infos for a in selected_attributes(info, options)}
    return [a for a in infos[0].structure.attributes if a.id in ids]


class UnrepresentableMessage(ValueError):
    """The message cannot be written in the requested format; another format can carry it (HTTP 406)."""


def write_csv_10(info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions) -> Iterator[bytes]:
    """SDMX-CSV 1.0 (``application/vnd.sdmx.data+csv;version=1.0.0``) in ~64 KB UTF-8 chunks.

    Raises :class:`UnrepresentableMessage` at once for ``labels=name``, which SDMX-CSV 1.0 does not define,
    and for a data set whose action is not ``Information`` (SDMX-CSV 1.0 has no ACTION column).
    """
    return write_csv_10_message([(info, blocks)], options)


def write_csv_20(info: DataSetInfo, blocks: Iterable[SeriesBlock], options: WriteOptions) -> Iterator[bytes]:
    """SDMX-CSV 2.0 (``application/vnd.sdmx.data+csv;version=2.0.0``) in ~64 KB UTF-8 chunks."""
    return write_csv_20_message([(info, blocks)], options)


def write_csv_10_message(datasets: DataSets, options: WriteOptions) -> Iterator[bytes]:
    """:func:`write_csv_10` for a message: SDMX-CSV 1.0 carries exactly one ``Information`` data set.

    Raises :class:`UnrepresentableMessage` at once for several data sets or another action (updatedAfter and
    includeHistory answers), which only SDMX-CSV 2.0 and SDMX-ML can carry.
    """
    if not datasets:
        raise ValueError("a data message needs at least one data set")
    if options.labels == "name":
        raise UnrepresentableMessage("SDMX-CSV 1.0 has no labels=name (only id and both); use SDMX-CSV 2.0")
    actions = [info.action for info, _ in datasets]
    if actions != ["Information"]:
        what = f"{len(actions)} data sets" if len(actions) != 1 else f"a data set with action {actions[0]}"
        raise UnrepresentableMessage(
            f"SDMX-CSV 1.0 has no ACTION column, so it cannot carry {what} (the answer to updatedAfter or "
            "includeHistory: data to replace and data to delete); use SDMX-CSV 2.0 or SDMX-ML"
        )
    return _Writer([info for info, _ in datasets], options, "1.0").write(datasets)


def write_csv_20_message(datasets: DataSets, options: WriteOptions) -> Iterator[bytes]:
    """:func:`write_csv_20` for a message of one or more data sets: one header row, then the rows of each
    data set with its ACTION letter (I, R, D, A)."""
    if not datasets:
        raise ValueError("a data message needs at least one data set")
    return _Writer([info for info, _ in datasets], options, "2.0").write(datasets)


def _quote(text: str) -> str:
    """An RFC 4180 field: quoted (inner quotes doubled) only if it holds a comma, quote or line break."""
    if '"' in text or "," in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _normalized_period(text: str) -> str:
    """ISO 8601 start of a period: the date for calendar periods, date-times unchanged."""
    try:
        period = parse_period(text)
    except TimePeriodError:
        return text
    if period.kind == "DT":
        return text
    start = period.start
    return start.date().isoformat() if start.time() == start.min.time() else start.isoformat()


class _Writer:
    def __init__(self, infos: list[DataSetInfo], options: WriteOptions, version: str) -> None:
        info = self.info = infos[0]
        self.options = options
        self.version = version
        self.names = Names(options)
        self.language = options.language
        dsd = info.structure
        self.by_id = {c.id: c for c in dsd.components}
        self.dims = dimension_order(dsd)
        self.time_id = dsd.time_dimension.id if dsd.time_dimension else None
        series_only = options.detail in ("serieskeysonly", "nodata")
        self.measure_column = version == "1.0" or (options.measures and not series_only)
        self.fill_values = options.measures and not series_only
        self.attributes = [a.id for a in message_attributes(infos, options)]
        obs_dims = set(info.observation_dimensions)
        self.obs_positions = [i for i, d in enumerate(self.dims) if d in obs_dims]
        self.series_index = {d: i for i, d in enumerate(info.series_dimensions)}
        order = [info.observation_dimensions.index(self.dims[p]) for p in self.obs_positions]
        self.reorder: Callable[[tuple[str, ...]], tuple[str, ...]] | None = (
            None if order == list(range(len(order))) else _getter(order)
        )
        self.cells = {c: Memo(self._cell_renderer(c)) for c in self.dims + self.attributes}
        self.empty_cell = "," if options.labels == "name" else ""
        self.plain_keys = (
            options.labels == "id"
            and self.obs_positions == [len(self.dims) - 1]
            and info.series_dimensions == tuple(self.dims[:-1])
        )
        """Series keys are written as they are (ids, the one observation-level dimension last)."""
        self.plain_tail = "," if self.measure_column else ""

    # --- cells ------------------------------------------------------------------------------------------

    def _cell_renderer(self, component_id: str) -> Callable[[str], str]:
        """Renders a value of the component as its cell(s), per labels and timeFormat."""
        labels = self.options.labels
        coded = is_coded(self.by_id[component_id])
        normalize = component_id == self.time_id and self.options.time_format == "normalized"

        def render(value: str) -> str:
            if normalize:
                value = _normalized_period(value)
            name = self.names.code(component_id, value) if coded and value else ""
            if labels == "both":
                return _quote(f"{value}: {name}" if name else value)
            if labels == "name":
                return f"{_quote(value)},{_quote(name)}"
            return _quote(value)

        return render

    def _header_cells(self, component_id: str) -> str:
        name = self.names.component(component_id)
        if self.options.labels == "both":
            return _quote(f"{component_id}: {name}" if name else component_id)
        if self.options.labels == "name":
            return f"{_quote(component_id)},{_quote(name or component_id)}"
        return _quote(component_id)

    def header(self) -> str:
        if self.version == "1.0":
            fixed = ["DATAFLOW"]
        else:
            fixed = ["STRUCTURE", "STRUCTURE_ID", *(["STRUCTURE_NAME"] if self.options.labels == "name" else [])]
            fixed.append("ACTION")
        cells = fixed + [self._header_cells(d) for d in self.dims]
        if self.measure_column:
            measure = self.info.structure.measures[0].id if self.info.structure.measures else "OBS_VALUE"
            cells.append("OBS_VALUE" if self.version == "1.0" else self._header_cells(measure))
        cells += [self._header_cells(a) for a in self.attributes]
        return ",".join(cells) + _EOL

    def structure_prefix(self, info: DataSetInfo) -> str:
        """The cells before the dimensions of the data set's rows, with their trailing separator."""
        flow = info.dataflow
        reference = f"{flow.agency}:{flow.id}({flow.version})"
        name = localised(flow.name, self.language)
        labels = self.options.labels
        identification = _quote(f"{reference}: {name}" if labels == "both" and name else reference)
        if self.version == "1.0":
            return identification + ","
        cells = ["dataflow", identification]
        if labels == "name":
            cells.append(_quote(name))
        cells.append(ACTION_LETTERS.get(info.action, "I"))
        return ",".join(cells) + ","

    def attribute_suffix(self, values: dict[str, str]) -> str:
        """Everything after the OBS_VALUE cell: its name cell (labels=name), the attribute cells, the EOL."""
        cells = self.cells
        parts = [self.empty_cell if self.measure_column else ""]
        for a in self.attributes:
            value = values.get(a)
            parts.append("," + (cells[a][value] if value else self.empty_cell))
        parts.append(_EOL)
        return "".join(parts)

    # --- rows ------------------------------------------------------------------------------------------

    def segments(self, prefix: str, key: tuple[str, ...]) -> list[str]:
        """The row text around the observation-level dimension cells, for one series key."""
        if self.plain_keys:
            text = ",".join(key)
            if text.count(",") == len(key) - 1 and '"' not in text and "\n" not in text and "\r" not in text:
                return [f"{prefix}{text},", self.plain_tail]
        segments: list[str] = []
        current = prefix
        last = len(self.dims) - 1
        positions = set(self.obs_positions)
        for i, dim in enumerate(self.dims):
            if i in positions:
                segments.append(current)
                current = ""
            else:
                current += self.cells[dim][key[self.series_index[dim]]]
            if i < last:
                current += ","
        segments.append(current + ("," if self.measure_column else ""))
        return segments

    def write(self, datasets: DataSets) -> Iterator[bytes]:
        yield self.header().encode()
        yield from _chunks(chain.from_iterable(self.rows(info, blocks) for info, blocks in datasets))

    def rows(self, info: DataSetInfo, blocks: Iterable[SeriesBlock]) -> Iterator[list[str]]:
        """The rows of one data set, in batches."""
        prefix = self.structure_prefix(info)
        dataset = {k: v for k, v in info.dataset_attributes.items() if k in self.attributes}

        def series_suffixes(series_json: str | None) -> Memo:
            values = {**dataset, **parse_attributes(series_json)}
            return Memo(lambda obs_json: self.attribute_suffix({**values, **parse_attributes(obs_json)}))

        suffixes = Memo(series_suffixes)
        if self.options.detail in ("serieskeysonly", "nodata"):
            return self._series_rows(prefix, blocks, suffixes)
        if len(self.obs_positions) == 1:
            return self._rows_one(prefix, blocks, suffixes)
        return self._rows_many(prefix, blocks, suffixes)

    def _series_rows(self, prefix: str, blocks: Iterable[SeriesBlock], suffixes: Memo) -> Iterator[list[str]]:
        """One row per series, observation-level dimensions empty."""
        empty = self.empty_cell
        rows: list[str] = []
        for block in blocks:
            rows.append(empty.join(self.segments(prefix, block.key)) + suffixes[block.attributes][None])
            if len(rows) >= _BATCH_ROWS:
                yield rows
                rows = []
        yield rows

    def _rows_one(self, prefix: str, blocks: Iterable[SeriesBlock], suffixes: Memo) -> Iterator[list[str]]:
        """Rows with one observation-level dimension (time series or a cross-section)."""
        cells = self.cells[self.dims[self.obs_positions[0]]]
        fill = self.fill_values
        special = _SPECIAL_VALUES
        rows: list[str] = []
        append = rows.append
        for block in blocks:
            head, tail = self.segments(prefix, block.key)
            attrs = suffixes[block.attributes]
            for part in slices(block.observations):
                for key, value, obs_json in part:
                    if value is None or not fill:
                        text = ""
                    else:
                        text = repr(value)
                        if text[-2:] == ".0":
                            text = text[:-2]
                        elif text[-1] > "9":
                            text = special[text]
                    append(f"{head}{cells[key[0]]}{tail}{text}{attrs[obs_json]}")
                if len(rows) >= _BATCH_ROWS:
                    yield rows
                    rows = []
                    append = rows.append
        yield rows

    def _rows_many(self, prefix: str, blocks: Iterable[SeriesBlock], suffixes: Memo) -> Iterator[list[str]]:
        """Rows with several observation-level dimensions (``AllDimensions``): the text up to the last one
        is reused while consecutive observations share it."""
        dim_cells = [self.cells[self.dims[p]] for p in self.obs_positions]
        last_cells = dim_cells[-1]
        reorder = self.reorder
        fill = self.fill_values
        special = _SPECIAL_VALUES
        rows: list[str] = []
        append = rows.append
        for block in blocks:
            segments = self.segments(prefix, block.key)
            tail = segments[-1]
            attrs = suffixes[block.attributes]
            previous: tuple[str, ...] | None = None
            head = ""
            for part in slices(block.observations):
                for raw_key, value, obs_json in part:
                    key = reorder(raw_key) if reorder else raw_key
                    if key[:-1] != previous:
                        previous = key[:-1]
                        head = "".join(s + c[v] for s, c, v in zip(segments, dim_cells, previous, strict=False))
                        head += segments[len(previous)]
                    if value is None or not fill:
                        text = ""
                    else:
                        text = repr(value)
                        if text[-2:] == ".0":
                            text = text[:-2]
                        elif text[-1] > "9":
                            text = special[text]
                    append(f"{head}{last_cells[key[-1]]}{tail}{text}{attrs[obs_json]}")
                if len(rows) >= _BATCH_ROWS:
                    yield rows
                    rows = []
                    append = rows.append
        yield rows


def _getter(indexes: list[int]) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    get = itemgetter(*indexes)
    return get if len(indexes) > 1 else lambda values: (get(values),)


def slices(observations: list[Any], size: int = 512) -> Iterator[list[Any]]:
    """A long observation list in slices, so that output is flushed inside one huge series too."""
    if len(observations) <= size:
        yield observations
    else:
        for start in range(0, len(observations), size):
            yield observations[start : start + size]


def _chunks(batches: Iterator[list[str]]) -> Iterator[bytes]:
    """Join batches of rows into UTF-8 chunks of about :data:`CHUNK_BYTES`."""
    pending: list[str] = []
    size = 0
    for rows in batches:
        if not rows:
            continue
        text = "".join(rows)
        pending.append(text)
        size += len(text)
        if size >= CHUNK_BYTES:
            yield "".join(pending).encode()
            pending = []
            size = 0
    if pending:
        yield "".join(pending).encode()
