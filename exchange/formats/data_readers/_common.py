"""Pieces shared by the data-message readers: where each DSD component goes in a record, partial-key
attributes (groups), dataset-level attributes and structure references."""

from __future__ import annotations

import io
import re
from typing import IO, Any

from exchange.formats.records import Location, MessageError
from exchange.structures.model import DataStructure

# Where a component's value goes in an ObservationRecord (or the DataMessage).
KEY, TIME, MEASURE, SERIES_ATTR, OBS_ATTR, DATASET_ATTR = range(6)

HEAD_BYTES = 64 * 1024
"""How much of a message is read ahead to sniff its format and check its XML prologue (as reject_unsafe_xml)."""

_URN_CLASSES = {
    "dataflow": "datastructure.Dataflow",
    "datastructure": "datastructure.DataStructure",
    "dataprovision": "registry.ProvisionAgreement",
}
_REFERENCE = re.compile(r"^(?P<agency>[^:()\s]+):(?P<id>[^:()\s]+)(?:\((?P<version>[^()\s]*)\))?$")


class Layout:
    """How one DSD's components map onto :class:`ObservationRecord` fields.

    Attributes go where the DSD's attachment says, whatever level of the message carries them:
    ``observation`` → obs_attributes, ``dataset`` → the message's dataset_attributes, anything else
    (series, group, partial dimension sets) → series_attributes.
    """

    def __init__(self, dsd: DataStructure) -> None:
        self.name = f"{dsd.agency}:{dsd.id}({dsd.version})"
        self.dimension_ids = [d.id for d in dsd.dimensions]
        time = dsd.time_dimension
        self.time_id = time.id if time else None
        self.roles: dict[str, int] = {d: KEY for d in self.dimension_ids}
        if self.time_id:
            self.roles[self.time_id] = TIME
        for i, measure in enumerate(dsd.measures):  # a record has one value: further measures are kept as attributes
            self.roles[measure.id] = MEASURE if i == 0 else OBS_ATTR
        for attr in dsd.attributes:
            if attr.attachment == "observation":
                self.roles[attr.id] = OBS_ATTR
            elif attr.attachment == "dataset":
                self.roles[attr.id] = DATASET_ATTR
            else:
                self.roles[attr.id] = SERIES_ATTR
        self.coded = frozenset(
            c.id for c in dsd.components if c.representation is not None and c.representation.enumeration
        )

    def unknown(self, names: list[str], where: str, location: Location) -> MessageError:
        """The error for components that the DSD does not define."""
        listed = ", ".join(f"'{n}'" for n in names)
        return MessageError(
            f"{where}: {listed} {'is not a component' if len(names) == 1 else 'are not components'} of "
            f"{self.name}, whose components are {', '.join(self.roles)}.",
            location,
        )


class Parts:
    """Component values of one element, sorted by where they go in a record."""

    __slots__ = ("key", "obs", "series", "time", "value")

    def __init__(self, base: Parts | None = None) -> None:
        self.key: dict[str, str] = dict(base.key) if base else {}
        self.series: dict[str, str] = dict(base.series) if base else {}
        self.obs: dict[str, str] = dict(base.obs) if base else {}
        self.time: str | None = base.time if base else None
        self.value: str | None = base.value if base else None

    def add(self, layout: Layout, name: str, value: str, dataset: dict[str, str], location: Location) -> bool:
        """Put one component value where the DSD says (dataset-level ones into ``dataset``); False if unknown."""
        role = layout.roles.get(name)
        if role == OBS_ATTR:
            self.obs[name] = value
        elif role == KEY:
            self.key[name] = value
        elif role == SERIES_ATTR:
            self.series[name] = value
        elif role == TIME:
            self.time = value
        elif role == MEASURE:
            self.value = value
        elif role == DATASET_ATTR:
            set_dataset_attribute(dataset, name, value, location)
        else:
            return False
        return True


class PartialKeyAttributes:
    """Attribute values attached to partial keys (SDMX-ML groups and ``Atts``, SDMX-JSON dimension groups).

    Values are looked up by the observation's key, so they reach every matching series or observation.
    """

    def __init__(self, layout: Layout) -> None:
        self._layout = layout
        self._tables: dict[tuple[str, ...], dict[tuple[str, ...], tuple[dict[str, str], dict[str, str]]]] = {}

    def __bool__(self) -> bool:
        return bool(self._tables)

    def add(self, key: dict[str, str], attributes: dict[str, str]) -> None:
        """Record attribute values (DSD attachment decides series vs observation) for a partial key."""
        dims = tuple(sorted(key))
        series: dict[str, str] = {}
        obs: dict[str, str] = {}
        for name, value in attributes.items():
            (obs if self._layout.roles.get(name) == OBS_ATTR else series)[name] = value
        table = self._tables.setdefault(dims, {})
        values = tuple(key[d] for d in dims)
        previous = table.get(values)
        if previous:
            previous[0].update(series)
            previous[1].update(obs)
        else:
            table[values] = (series, obs)

    def apply(self, components: dict[str, str], series: dict[str, str], obs: dict[str, str]) -> None:
        """Add the values matching ``components`` (dimension → code) where the record has none of its own."""
        for dims, table in self._tables.items():
            hit = table.get(tuple(components.get(d, "") for d in dims))
            if hit:
                for name, value in hit[0].items():
                    series.setdefault(name, value)
                for name, value in hit[1].items():
                    obs.setdefault(name, value)


class _Replay(io.RawIOBase):
    """A binary stream that returns ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def peek_head(stream: IO[bytes], size: int = HEAD_BYTES) -> tuple[bytes, IO[bytes]]:
    """Read the first ``size`` bytes (fewer at end of stream) and a stream that still starts at byte 0."""
    chunks: list[bytes] = []
    got = 0
    while got < size:
        chunk = stream.read(size - got)
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    head = b"".join(chunks)
    return head, io.BufferedReader(_Replay(head, stream), buffer_size=1 << 16)


def set_dataset_attribute(target: dict[str, str], name: str, value: str, location: Location) -> None:
    """Store a dataset-level attribute value; a different second value cannot be represented."""
    previous = target.setdefault(name, value)
    if previous != value:
        raise MessageError(
            f"Dataset-level attribute {name} is '{value}' here but '{previous}' earlier: a dataset-level "
            "attribute has one value for the whole message.",
            location,
        )


def structure_urn(kind: str, reference: str, location: Location) -> str:
    """URN of ``AGENCY:ID(VERSION)`` (version optional) for a dataflow, data structure or provision agreement."""
    if kind not in _URN_CLASSES:
        raise MessageError(f"Structure type '{kind}' is not dataflow, datastructure or dataprovision.", location)
    match = _REFERENCE.match(reference)
    if match is None:
        raise MessageError(f"'{reference}' is not a structure reference of the form AGENCY:ID(VERSION).", location)
    version = match["version"]
    text = f"{match['agency']}:{match['id']}" + (f"({version})" if version else "")
    return f"urn:sdmx:org.sdmx.infomodel.{_URN_CLASSES[kind]}={text}"
