"""SDMX-ML data messages, read in one streaming pass.

Supported: SDMX-ML 2.1 ``GenericData`` and ``GenericTimeSeriesData`` (series, or flat ``ObsKey``
observations for dimensionAtObservation=AllDimensions), SDMX-ML 2.1 ``StructureSpecificData`` and
``StructureSpecificTimeSeriesData`` and SDMX-ML 3.0 ``StructureSpecificData`` (any dimension at the
observation level, groups, 3.0 ``Atts`` and ``Comp`` elements). Only ``end`` events are used; every
``Obs``/``Series``/``Group`` is cleared and its processed siblings deleted, so memory stays flat.
A series without observations (attribute values only, or a deletion) gives one record without time
period and value, so that nothing in the message goes unseen.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from typing import IO

from lxml import etree

from exchange.formats.data_readers._common import (
    DATASET_ATTR,
    KEY,
    MEASURE,
    OBS_ATTR,
    SERIES_ATTR,
    TIME,
    Layout,
    PartialKeyAttributes,
    Parts,
    peek_head,
    set_dataset_attribute,
    structure_urn,
)
from exchange.formats.records import DataMessage, Location, MessageError, ObservationRecord
from exchange.formats.xml_safety import reject_unsafe_xml, safe_iterparse
from exchange.structures.model import DataStructure

_SDMX = "http://www.sdmx.org/resources/sdmxml/schemas/"
_MESSAGE_NS = {f"{_SDMX}v2_1/message": "2.1", f"{_SDMX}v3_0/message": "3.0"}
_DATA_MESSAGES = {
    ("2.1", "GenericData"),
    ("2.1", "GenericTimeSeriesData"),
    ("2.1", "StructureSpecificData"),
    ("2.1", "StructureSpecificTimeSeriesData"),
    ("3.0", "StructureSpecificData"),
}
_G = f"{{{_SDMX}v2_1/data/generic}}"
G_SERIES, G_OBS, G_GROUP, G_ATTRIBUTES = f"{_G}Series", f"{_G}Obs", f"{_G}Group", f"{_G}Attributes"
G_SERIES_KEY, G_GROUP_KEY, G_OBS_KEY = f"{_G}SeriesKey", f"{_G}GroupKey", f"{_G}ObsKey"
G_OBS_DIMENSION, G_OBS_VALUE, G_VALUE = f"{_G}ObsDimension", f"{_G}ObsValue", f"{_G}Value"
_G_PARTS = frozenset({G_OBS_DIMENSION, G_OBS_VALUE, G_VALUE, G_SERIES_KEY, G_GROUP_KEY, G_OBS_KEY, G_ATTRIBUTES})
"""Generic elements read through their parent (Obs, Series, Group, DataSet)."""

_STRUCTURE_KINDS = {
    "Structure": "datastructure",
    "StructureUsage": "dataflow",
    "ProvisionAgrement": "dataprovision",  # sic: the SDMX-ML 2.1 element name
    "ProvisionAgreement": "dataprovision",
}
_DATASET_XML_ATTRIBUTES = frozenset(
    {
        "structureRef",
        "setID",
        "action",
        "reportingBeginDate",
        "reportingEndDate",
        "validFromDate",
        "validToDate",
        "publicationYear",
        "publicationPeriod",
        "dataScope",
        "REPORTING_YEAR_START_DAY",
    }
)
"""Standard XML attributes of a data set (SDMX-ML qualifies them; some producers do not)."""
_STANDARD_XML_ATTRIBUTES = frozenset({"type", "REPORTING_YEAR_START_DAY"})
"""Standard unqualified XML attributes of structure-specific groups, series and observations."""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Reader:
    """State of one SDMX-ML data message being read."""

    def __init__(self, layout: Layout, message_tag: str) -> None:
        self.layout = layout
        self.dataset_tag = f"{message_tag.partition('}')[0]}}}DataSet"
        self.generic = _local(message_tag).startswith("Generic")
        self.structures: dict[str, tuple[str | None, str | None]] = {}
        """Header structures: structureID → (URN of the referenced structure, dimensionAtObservation)."""
        self.header_action: str | None = None
        self.structure_id: str | None = None
        self.action: str | None = None
        self.dataset_attributes: dict[str, str] = {}
        self.groups = PartialKeyAttributes(layout)
        self.dataset: etree._Element | None = None
        self.dataset_parts = Parts()
        self.obs_dimension: str | None = layout.time_id
        self.datasets = 0

    # -- header and data sets -------------------------------------------------------------------------

    def header(self, header: etree._Element) -> None:
        for child in header:
            name = _local(child.tag) if isinstance(child.tag, str) else ""
            if name == "DataSetAction":
                self.header_action = (child.text or "").strip() or None
            elif name == "Structure":
                urn = None
                for ref in child:
                    kind = _STRUCTURE_KINDS.get(_local(ref.tag)) if isinstance(ref.tag, str) else None
                    if kind:
                        urn = self._reference(kind, ref)
                self.structures[child.get("structureID", "")] = (urn, child.get("dimensionAtObservation"))

    def _reference(self, kind: str, element: etree._Element) -> str | None:
        location = Location(line=element.sourceline)
        text = (element.text or "").strip()
        if text:  # SDMX-ML 3.0: the URN is the element's content
            return text
        for ref in element:
            name = _local(ref.tag) if isinstance(ref.tag, str) else ""
            if name == "URN":
                return (ref.text or "").strip() or None
            if name == "Ref":
                reference = f"{ref.get('agencyID', '')}:{ref.get('id', '')}({ref.get('version', '1.0')})"
                return structure_urn(kind, reference, location)
        return None

    def enter_dataset(self, dataset: etree._Element) -> None:
        """Read a data set's own attributes (before its series), checking it agrees with earlier ones."""
        self.dataset = dataset
        self.datasets += 1
        location = Location(line=dataset.sourceline)
        standard = {_local(k): v for k, v in dataset.items() if k.startswith("{") or k in _DATASET_XML_ATTRIBUTES}
        ref = standard.get("structureRef")
        urn, dim_at_obs = self.structures.get(ref or "", (None, None))
        if urn is None and len(self.structures) == 1:
            urn, dim_at_obs = next(iter(self.structures.values()))
        structure_id = urn or ref
        action = standard.get("action") or self.header_action
        if self.datasets == 1:
            self.structure_id, self.action = structure_id, action
        elif structure_id != self.structure_id or action != self.action:
            raise MessageError(
                f"This data set ({structure_id}, action {action}) differs from the first one ({self.structure_id}, "
                f"action {self.action}): send data sets for different structures or actions as separate messages.",
                location,
            )
        self.obs_dimension = dim_at_obs if dim_at_obs and dim_at_obs != "AllDimensions" else self.layout.time_id
        parts = Parts()
        if self.generic:
            for child in dataset:
                if child.tag == G_ATTRIBUTES:
                    self.add_values(parts, child, "data set attributes")
        else:
            roles = self.layout.roles
            items = [(k, v) for k, v in dataset.items() if k not in _DATASET_XML_ATTRIBUTES or k in roles]
            self.add(parts, items, "DataSet", location)
            self.add_comps(parts, dataset)
        self.dataset_parts = parts

    # -- routing component values ------------------------------------------------------------------------

    def add(self, parts: Parts, items: list[tuple[str, str]], where: str, location: Location) -> None:
        """Route (component id, value) pairs; namespace-qualified and standard XML attributes are skipped."""
        unknown = [
            name
            for name, value in items
            if not parts.add(self.layout, name, value, self.dataset_attributes, location)
            and name[:1] != "{"
            and name not in _STANDARD_XML_ATTRIBUTES
        ]
        if unknown:
            raise self.layout.unknown(unknown, where, location)

    def add_comps(self, parts: Parts, element: etree._Element) -> None:
        """SDMX-ML 3.0 ``Comp`` children (multi-valued or localised values; joined with ';')."""
        for comp in element:
            if comp.tag == "Comp":
                values = ";".join((v.text or "") for v in comp if v.tag == "Value")
                self.add(parts, [(comp.get("id", ""), values)], "Comp", Location(line=comp.sourceline))

    def add_values(self, parts: Parts, container: etree._Element, where: str) -> None:
        """Generic ``Value id= value=`` children of a key or ``Attributes`` element."""
        items = []
        for value in container:
            if value.tag == G_VALUE:
                cid, text = value.get("id"), value.get("value")
                if cid is None or text is None:
                    raise MessageError(f"{where}: a Value needs both id and value.", Location(line=value.sourceline))
                items.append((cid, text))
        self.add(parts, items, where, Location(line=container.sourceline))

    def partial_key(self, parts: Parts) -> None:
        """Remember a group's (or 3.0 ``Atts``') attribute values for the series/observations it matches."""
        key = dict(parts.key)
        if parts.time is not None and self.layout.time_id:
            key[self.layout.time_id] = parts.time
        attributes = {**parts.series, **parts.obs}
        if attributes:
            self.groups.add(key, attributes)

    # -- the observations ----------------------------------------------------------------------------

    def records(self, events: Iterator[tuple[str, etree._Element]]) -> Iterator[ObservationRecord]:
        return self._generic(events) if self.generic else self._structure_specific(events)

    def _common_end(self, elem: etree._Element) -> None:
        """Handle the end of a message-level element (header, data set)."""
        tag = elem.tag
        if tag == self.dataset_tag:
            if elem is not self.dataset:
                self.enter_dataset(elem)
            elem.clear()
        elif isinstance(tag, str) and _local(tag) == "Header" and elem.getparent() is not None:
            self.header(elem)
        elif isinstance(tag, str) and _local(tag) in ("Obs", "Series", "Group", "Atts"):
            raise MessageError(
                f"Element {tag} is in the wrong namespace for this message, so its data cannot be read: "
                "structure-specific Series/Obs/Group are unqualified, generic ones are in the generic namespace.",
                Location(line=elem.sourceline),
            )

    def _structure_specific(self, events: Iterator[tuple[str, etree._Element]]) -> Iterator[ObservationRecord]:
        roles_get = self.layout.roles.get
        groups = self.groups
        time_id = self.layout.time_id
        dataset_attributes = self.dataset_attributes
        parent_seen = None
        base = self.dataset_parts
        for _event, elem in events:
            tag = elem.tag
            if tag == "Obs":
                parent = elem.getparent()
                if parent is not parent_seen:
                    parent_seen = parent
                    dataset = parent if parent.tag != "Series" else parent.getparent()
                    if dataset is not self.dataset:
                        self.enter_dataset(dataset)
                    base = self.dataset_parts
                    if parent.tag == "Series":
                        base = Parts(base)
                        self.add(base, parent.items(), "Series", Location(line=parent.sourceline))
                        self.add_comps(base, parent)
                line = elem.sourceline
                key = dict(base.key)
                series = dict(base.series)
                obs = dict(base.obs)
                time = base.time
                value = base.value
                unknown = None
                for name, text in elem.items():
                    role = roles_get(name)
                    if role == OBS_ATTR:
                        obs[name] = text
                    elif role == TIME:
                        time = text
                    elif role == MEASURE:
                        value = text
                    elif role == KEY:
                        key[name] = text
                    elif role == SERIES_ATTR:
                        series[name] = text
                    elif role == DATASET_ATTR:
                        set_dataset_attribute(dataset_attributes, name, text, Location(line=line))
                    elif name[:1] != "{" and name not in _STANDARD_XML_ATTRIBUTES:
                        unknown = [*(unknown or []), name]
                if unknown:
                    raise self.layout.unknown(unknown, "Obs", Location(line=line))
                if len(elem):
                    extra = Parts()
                    self.add_comps(extra, elem)
                    key.update(extra.key)
                    series.update(extra.series)
                    obs.update(extra.obs)
                    time = extra.time or time
                    value = extra.value if extra.value is not None else value
                if groups:
                    groups.apply({**key, time_id: time} if time_id and time else key, series, obs)
                elem.clear()
                while elem.getprevious() is not None:
                    del parent[0]
                yield ObservationRecord(key, time, value, obs, series, Location(line=line))
            elif tag == "Series":
                dataset = elem.getparent()
                if dataset is not self.dataset:
                    self.enter_dataset(dataset)
                if elem is not parent_seen:  # a series without observations (attributes only, or a deletion)
                    parts = Parts(self.dataset_parts)
                    self.add(parts, elem.items(), "Series", Location(line=elem.sourceline))
                    self.add_comps(parts, elem)
                    if groups:
                        groups.apply(parts.key, parts.series, parts.obs)
                    yield ObservationRecord(
                        parts.key, parts.time, None, parts.obs, parts.series, Location(line=elem.sourceline)
                    )
                elem.clear()
                while elem.getprevious() is not None:
                    del dataset[0]
            elif tag == "Group" or tag == "Atts":
                dataset = elem.getparent()
                if dataset is not self.dataset:
                    self.enter_dataset(dataset)
                parts = Parts()
                self.add(parts, elem.items(), tag, Location(line=elem.sourceline))
                self.add_comps(parts, elem)
                self.partial_key(parts)
                elem.clear()
            elif tag != "Comp" and tag != "Value":
                if isinstance(tag, str) and tag.startswith(_G):  # sdmx1 writes generic data under this root
                    self.generic = True
                    yield from self._generic(chain([(_event, elem)], events))
                    return
                self._common_end(elem)

    def _generic(self, events: Iterator[tuple[str, etree._Element]]) -> Iterator[ObservationRecord]:
        groups = self.groups
        time_id = self.layout.time_id
        roles_get = self.layout.roles.get
        parent_seen = None
        base = self.dataset_parts
        for _event, elem in events:
            tag = elem.tag
            if tag in _G_PARTS:
                continue
            if tag == G_OBS:
                parent = elem.getparent()
                if parent is not parent_seen:
                    parent_seen = parent
                    dataset = parent if parent.tag != G_SERIES else parent.getparent()
                    if dataset is not self.dataset:
                        self.enter_dataset(dataset)
                    base = self.dataset_parts
                    if parent.tag == G_SERIES:
                        base = Parts(base)
                        for child in parent:
                            if child.tag == G_SERIES_KEY:
                                self.add_values(base, child, "SeriesKey")
                            elif child.tag == G_ATTRIBUTES:
                                self.add_values(base, child, "Series Attributes")
                line = elem.sourceline
                parts = Parts(base)
                for child in elem:
                    ctag = child.tag
                    if ctag == G_OBS_VALUE:
                        parts.value = child.get("value")
                    elif ctag == G_OBS_DIMENSION:
                        dim = child.get("id") or self.obs_dimension or ""
                        if dim == time_id:
                            parts.time = child.get("value", "")
                        else:
                            self.add(parts, [(dim, child.get("value", ""))], "ObsDimension", Location(line=line))
                    elif ctag == G_ATTRIBUTES:
                        obs = parts.obs
                        for value in child:
                            name, text = value.get("id"), value.get("value")
                            if text is None or value.tag != G_VALUE or roles_get(name) != OBS_ATTR:
                                self.add_values(parts, child, "Obs Attributes")  # the general (slower) path
                                break
                            obs[name] = text
                    elif ctag == G_OBS_KEY:
                        self.add_values(parts, child, "ObsKey")
                if groups:
                    time = parts.time
                    groups.apply(
                        {**parts.key, time_id: time} if time_id and time else parts.key, parts.series, parts.obs
                    )
                elem.clear()
                while elem.getprevious() is not None:
                    del parent[0]
                yield ObservationRecord(
                    parts.key, parts.time, parts.value, parts.obs, parts.series, Location(line=line)
                )
            elif tag == G_SERIES:
                dataset = elem.getparent()
                if dataset is not self.dataset:
                    self.enter_dataset(dataset)
                if elem is not parent_seen:  # a series without observations (attributes only, or a deletion)
                    parts = Parts(self.dataset_parts)
                    for child in elem:
                        if child.tag in (G_SERIES_KEY, G_ATTRIBUTES):
                            self.add_values(parts, child, "Series")
                    if groups:
                        groups.apply(parts.key, parts.series, parts.obs)
                    yield ObservationRecord(
                        parts.key, parts.time, None, parts.obs, parts.series, Location(line=elem.sourceline)
                    )
                elem.clear()
                while elem.getprevious() is not None:
                    del dataset[0]
            elif tag == G_GROUP:
                dataset = elem.getparent()
                if dataset is not self.dataset:
                    self.enter_dataset(dataset)
                parts = Parts()
                for child in elem:
                    if child.tag in (G_GROUP_KEY, G_ATTRIBUTES):
                        self.add_values(parts, child, "Group")
                self.partial_key(parts)
                elem.clear()
            elif isinstance(tag, str) and not tag.startswith(_G):
                self._common_end(elem)


def _check_root(root: etree._Element) -> str:
    """The message type; anything but a supported data message raises :class:`MessageError`."""
    location = Location(line=root.sourceline)
    namespace, _, name = root.tag.rpartition("}")
    version = _MESSAGE_NS.get(namespace.lstrip("{"))
    if version and (version, name) in _DATA_MESSAGES:
        return f"SDMX-ML {version} {name}"
    if version and name in ("Structure", "RegistryInterface"):
        raise MessageError(f"This is an SDMX-ML {version} {name} message (structures), not a data message.", location)
    if version and name == "Error":
        raise MessageError(f"This is an SDMX-ML {version} Error message, not a data message.", location)
    if version:
        raise MessageError(
            f"SDMX-ML {version} {name} messages are not data messages this service reads; send GenericData, "
            "GenericTimeSeriesData, StructureSpecificData or StructureSpecificTimeSeriesData.",
            location,
        )
    if "sdmxml/schemas/v2_0" in namespace:
        raise MessageError(f"SDMX-ML 2.0 ({name}) is not supported: send SDMX-ML 2.1 or 3.0.", location)
    raise MessageError(f"Not an SDMX-ML message: the root element is {name} in namespace '{namespace[1:]}'.", location)


def read_sdmx_ml(stream: IO[bytes], dsd: DataStructure) -> DataMessage:
    """Read an SDMX-ML data message; header and data set facts are read before the first observation."""
    head, stream = peek_head(stream)
    reject_unsafe_xml(head)
    events = safe_iterparse(stream, events=("end",))
    try:
        first = next(events)
    except StopIteration:
        raise MessageError("Empty XML document.", Location(line=1)) from None
    tree = first[1].getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise MessageError("XML documents with a DOCTYPE declaration are refused: SDMX messages never need one.")
    root = tree.getroot()
    fmt = _check_root(root)
    reader = _Reader(Layout(dsd), root.tag)
    observations = reader.records(chain([first], events))
    pending = next(observations, None)
    if reader.generic:  # also generic data under a structure-specific root
        fmt = fmt.replace("StructureSpecific", "Generic")
    if reader.dataset is None and reader.structure_id is None:
        reader.structure_id = next((urn for urn, _ in reader.structures.values() if urn), None)
        reader.action = reader.header_action
    return DataMessage(
        observations=observations if pending is None else chain([pending], observations),
        structure_id=reader.structure_id,
        dataset_attributes=reader.dataset_attributes,
        action=reader.action,
        format=fmt,
    )
