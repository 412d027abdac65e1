"""Streaming SDMX-ML data writers: what SDMX-ML 2.1 (:mod:`data_ml21`) and 3.0 (:mod:`data_ml30`) share.

Each series is rendered into one string (long series in slices of :data:`OBS_SLICE` observations) and the
strings are handed out as UTF-8 chunks of about :data:`CHUNK_SIZE` characters, so memory stays flat whatever
the size of the message. What repeats is rendered once and looked up afterwards (:class:`Memo`, bounded so
that series with all-different comments cannot grow it without end): attribute sets, keyed by the canonical
JSON strings of :class:`SeriesBlock`, codes and periods.

Where components go is decided once per message (:class:`Plan`): the ``detail``, ``attributes`` and
``measures`` options apply; attributes the DSD does not define are left out; series attributes related to the
dimension at observation level (all of them for ``AllDimensions``) are written on each observation, as the
DSD-specific schemas want; dataset attributes go on the data set.

A message holds one or more data sets (updatedAfter: a ``Replace`` and a ``Delete`` set; includeHistory: one
or two per release) sharing the header and the layout; each is a ``message:DataSet`` with its own action,
validity dates, dataset attributes and series, written one after the other as its series arrive.

Values are Python floats, written as the shortest text that reads back to the same float (``repr``) without
a trailing ``.0`` (``12``, ``45.5``, ``0.30000000000000004``, ``1e+22``); NaN and infinities as the xs:double
literals ``NaN``, ``INF``, ``-INF``. A missing value (None) is left out (generic data: see :mod:`data_ml21`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from exchange.formats.data_message import DataSetInfo, ObservationRow, SeriesBlock, WriteOptions
from exchange.structures.model import Ref

CHUNK_SIZE = 65536
"""Characters collected before a chunk is encoded and handed out."""
OBS_SLICE = 256
"""Observations rendered into one string; longer series are written in slices."""
MEMO_LIMIT = 20000
"""Entries a memo holds before it starts again from empty."""
DataSets = Sequence[tuple[DataSetInfo, Iterable[SeriesBlock]]]
"""The data sets of one message, each with its series, in message order."""
ALL_DIMENSIONS = "AllDimensions"
ACTIONS = ("Append", "Replace", "Delete", "Information")
NUMBER_WORDS = {"nan": "NaN", "inf": "INF", "-inf": "-INF"}
"""``repr`` of non-finite floats → xs:double literals."""

_SDMX_ID = re.compile(r"[A-Za-z0-9_@$\-]+")
_FORBIDDEN = dict.fromkeys(
    (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000), 0xFFFE, 0xFFFF), "\ufffd"
)
_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&apos;",
        "\t": "&#9;",
        "\n": "&#10;",
        "\r": "&#13;",
        **_FORBIDDEN,
    }
)


def escape(text: str) -> str:
    """Escape ``text`` for an XML attribute value or element content.

    Markup characters and quotes become entities, tab/newline/carriage return character references (so that
    attribute-value normalisation keeps them); characters XML 1.0 forbids (other C0 controls, surrogates,
    U+FFFE/U+FFFF) become U+FFFD.
    """
    return text.translate(_ESCAPES)


class Memo(dict[Any, str]):
    """A bounded cache: ``memo[key]`` renders a missing key with ``render``; it keeps at most ``limit`` keys."""

    def __init__(self, render: Callable[[Any], str], limit: int = MEMO_LIMIT) -> None:
        super().__init__()
        self.render = render
        self.limit = limit

    def __missing__(self, key: Any) -> str:
        if len(self) >= self.limit:
            self.clear()
        value = self[key] = self.render(key)
        return value


def attribute_values(attributes: str | None) -> dict[str, str]:
    """Decode one canonical attribute JSON object; values that are not strings are written as JSON text."""
    if not attributes:
        return {}
    return {
        k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
        for k, v in json.loads(attributes).items()
        if v is not None
    }


class Plan:
    """What one message holds, decided once from the data set and the query options.

    Raises ValueError for what the schemas would refuse: header ids that are not SDMX ids, an unknown action,
    a naive preparation time, several dimensions at observation level.
    """

    def __init__(self, info: DataSetInfo, options: WriteOptions) -> None:
        for value in (info.message_id, info.sender):
            if not _SDMX_ID.fullmatch(value):
                raise ValueError(f"{value!r} is not an SDMX id ([A-Za-z0-9_@$-]+)")
        if info.action not in ACTIONS:
            raise ValueError(f"unknown data set action {info.action!r} (one of {', '.join(ACTIONS)})")
        if info.prepared is not None and info.prepared.utcoffset() is None:
            raise ValueError("DataSetInfo.prepared must be timezone-aware")
        structure = info.structure
        self.series_dimensions = info.series_dimensions
        self.observation_dimensions = info.observation_dimensions
        self.flat = not info.series_dimensions
        if self.flat:
            self.dimension_at_observation = ALL_DIMENSIONS
        elif len(info.observation_dimensions) == 1:
            self.dimension_at_observation = info.observation_dimensions[0]
        else:
            raise ValueError("series data need exactly one dimension at observation level")
        self.with_observations = options.detail in ("full", "dataonly")
        self.with_values = self.with_observations and options.measures
        with_attributes = options.detail in ("full", "nodata")
        self.measure = structure.measures[0].id if structure.measures else "OBS_VALUE"
        wanted = set(options.attributes) if options.attributes is not None else None
        self.order = {
            a.id: i
            for i, a in enumerate(structure.attributes)
            if with_attributes and (wanted is None or a.id in wanted)
        }
        """Attributes to write, with their DSD position (the order they are written in)."""
        key_dimensions = [d.id for d in structure.dimensions]
        at_observation = set(info.observation_dimensions)
        self.pushed_down = frozenset(
            a.id
            for a in structure.attributes
            if a.attachment in ("series", "group")
            and (self.flat or at_observation.intersection(a.related_to or key_dimensions))
        )
        """Series attributes that must be written on each observation."""
        self.dataset_attributes = self.select(info.dataset_attributes)

    def select(self, values: dict[str, str]) -> list[tuple[str, str]]:
        """The (id, value) pairs to write, in DSD order."""
        order = self.order
        return sorted(((k, v) for k, v in values.items() if k in order), key=lambda kv: order[kv[0]])

    def split(self, attributes: str | None) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """A series' attributes: (written on the series, written on each of its observations)."""
        pairs = self.select(attribute_values(attributes))
        pushed = self.pushed_down
        return [p for p in pairs if p[0] not in pushed], [p for p in pairs if p[0] in pushed]


class ObservationWriter:
    """Renders slices of observations: the hot loop, shared by every SDMX-ML flavour.

    An observation is ``head``, its value of the dimension at observation level, ``close``, then its value
    (``value_open`` + number + ``value_close``, or ``missing``), its attributes and an ``end``. For flat data
    (``AllDimensions``) ``head`` is a :class:`Memo` rendering everything up to the last dimension value, per
    key without that value (see :meth:`flat`).
    """

    def __init__(
        self, plan: Plan, codes: Memo, head: str | Memo, close: str, value: tuple[str, str], missing: str = ""
    ) -> None:
        self.plan = plan
        self.codes = codes
        self.head = head
        self.close = close
        self.value_open, self.value_close = value
        self.missing = missing

    @staticmethod
    def flat(plan: Plan, codes: Memo, start: str, component: Callable[[str, str], str], last: str) -> Memo:
        """Heads of flat observations: ``start``, ``component(id, escaped code)`` for each dimension value of
        the key but the last, then ``last`` (which opens the last dimension value)."""
        ids = plan.observation_dimensions[:-1]
        return Memo(lambda key: start + "".join(component(i, codes[c]) for i, c in zip(ids, key, strict=True)) + last)

    def render(self, observations: list[ObservationRow], attributes: Memo, end: str) -> str:
        """The observations; ``attributes`` renders their attribute JSON."""
        codes, head, close, missing, words = self.codes, self.head, self.close, self.missing, NUMBER_WORDS
        value_open, value_close, with_values = self.value_open, self.value_close, self.plan.with_values
        if self.plan.flat:
            return "".join(
                [
                    f"{head[d[:-1]]}{codes[d[-1]]}{close}{value_open}"
                    f"{t if (t := repr(v).removesuffix('.0'))[-1] <= '9' else words[t]}"
                    f"{value_close}{attributes[a]}{end}"
                    if with_values and v is not None
                    else f"{head[d[:-1]]}{codes[d[-1]]}{close}{missing}{attributes[a]}{end}"
                    for d, v, a in observations
                ]
            )
        return "".join(
            [
                f"{head}{codes[d[0]]}{close}{value_open}"
                f"{t if (t := repr(v).removesuffix('.0'))[-1] <= '9' else words[t]}"
                f"{value_close}{attributes[a]}{end}"
                if with_values and v is not None
                else f"{head}{codes[d[0]]}{close}{missing}{attributes[a]}{end}"
                for d, v, a in observations
            ]
        )


def chunked(pieces: Iterable[str]) -> Iterator[bytes]:
    """Join string pieces into UTF-8 chunks of about :data:`CHUNK_SIZE` characters."""
    buffer: list[str] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK_SIZE:
            yield "".join(buffer).encode()
            buffer = []
            size = 0
    if buffer:
        yield "".join(buffer).encode()


def document(head: str, datasets: Iterable[tuple[str, Iterable[str]]], tail: str) -> Iterator[str]:
    """``head``, then each data set (its opening ``message:DataSet`` tag, the pieces of its body and the
    closing tag), then ``tail``. Bodies are generators, so a data set is read only once its turn comes."""
    yield head
    for opening, body in datasets:
        yield opening
        yield from body
        yield "</message:DataSet>"
    yield tail


def plans(datasets: DataSets, options: WriteOptions) -> list[Plan]:
    """One :class:`Plan` per data set (checked now, before anything is written)."""
    if not datasets:
        raise ValueError("a data message needs at least one data set")
    return [Plan(info, options) for info, _ in datasets]


def slices(observations: list[ObservationRow]) -> Iterator[list[ObservationRow]]:
    """``observations`` in slices of at most :data:`OBS_SLICE`."""
    for start in range(0, len(observations), OBS_SLICE):
        yield observations[start : start + OBS_SLICE]


# -- header and data set ------------------------------------------------------------------------------------


def prepared(info: DataSetInfo) -> str:
    """The preparation time, with its offset (now, in UTC, when not given)."""
    return (info.prepared or datetime.now(UTC)).isoformat(timespec="seconds")


def structure_id(info: DataSetInfo) -> str:
    """The message-local id (xs:ID) linking the header's Structure to the DataSet."""
    flow = info.dataflow
    return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{flow.agency}_{flow.id}_{flow.version}")


def structure_namespace(info: DataSetInfo, plan: Plan) -> str:
    """The namespace of the DSD-specific schema (``…DataStructure=AG:ID(V):ObsLevelDim:TIME_PERIOD``)."""
    return escape(f"{info.structure.urn}:ObsLevelDim:{plan.dimension_at_observation}")


def provider_urn(info: DataSetInfo) -> str | None:
    """The URN of the data provider, if the data come from one."""
    if info.provider is None:
        return None
    agency, provider = info.provider
    return escape(Ref("dataproviderscheme", agency, "DATA_PROVIDERS", "1.0", item=provider).urn)


def xml_attributes(pairs: Iterable[tuple[str, str]]) -> str:
    """`` id="value"`` for each pair."""
    return "".join(f' {k}="{escape(v)}"' for k, v in pairs)


def set_attributes(info: DataSetInfo, prefix: str) -> str:
    """The data set's action and validity dates (``prefix``: ``ss:`` where they are qualified)."""
    pairs = (("action", info.action), ("validFromDate", info.valid_from), ("validToDate", info.valid_to))
    return "".join(f' {prefix}{k}="{escape(v)}"' for k, v in pairs if v)


def header(info: DataSetInfo, plan: Plan, structure: str, usage: str) -> str:
    """The message header; ``structure``: extra attributes of its Structure, ``usage``: the dataflow reference."""
    period = "".join(
        f"<message:{tag}>{escape(value)}</message:{tag}>"
        for tag, value in (("ReportingBegin", info.reporting_begin), ("ReportingEnd", info.reporting_end))
        if value
    )
    return (
        f"<message:Header><message:ID>{info.message_id}</message:ID><message:Test>false</message:Test>"
        f'<message:Prepared>{prepared(info)}</message:Prepared><message:Sender id="{info.sender}"/>'
        f'<message:Structure structureID="{structure_id(info)}"{structure}'
        f' dimensionAtObservation="{plan.dimension_at_observation}"><common:StructureUsage>{usage}'
        f"</common:StructureUsage></message:Structure>{period}</message:Header>"
    )


def structure_specific_series(blocks: Iterable[SeriesBlock], plan: Plan) -> Iterator[str]:
    """The Series (or, for ``AllDimensions``, Obs) elements of a structure-specific data set (2.1 and 3.0)."""
    codes = Memo(escape)
    attributes = Memo(lambda json_text: xml_attributes(plan.select(attribute_values(json_text))))
    series_attributes = Memo(lambda json_text: tuple(map(xml_attributes, plan.split(json_text))))
    if plan.flat:
        last = f' {plan.observation_dimensions[-1]}="'
        head: str | Memo = ObservationWriter.flat(plan, codes, "<Obs", lambda i, c: f' {i}="{c}"', last)
    else:
        head = f'<Obs {plan.dimension_at_observation}="'
    observations = ObservationWriter(plan, codes, head, '"', (f' {plan.measure}="', '"'))
    prefixes = [f' {d}="' for d in plan.series_dimensions]
    for block in blocks:
        own, pushed = series_attributes[block.attributes]
        end = pushed + "/>"
        if plan.flat:
            for part in slices(block.observations):
                yield observations.render(part, attributes, end)
            continue
        key = "".join([p + codes[c] + '"' for p, c in zip(prefixes, block.key, strict=True)])
        if not (plan.with_observations and block.observations):
            yield f"<Series{key}{own}/>"
            continue
        yield f"<Series{key}{own}>"
        for part in slices(block.observations):
            yield observations.render(part, attributes, end)
        yield "</Series>"
