"""SDMX-JSON 1.0 and 2.0 data messages, parsed with the stdlib json module.

The ``structure`` (1.0) or ``structures`` (2.0) section lists each component's values; data sets refer to
them by index. Numbers keep their original text (``1.50`` stays ``"1.50"``). JSON has no line numbers
that survive parsing, so an observation's location is its path in the document, in ``Location.column``
(e.g. ``/data/dataSets/0/series/0:1:0/observations/3``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain
from typing import IO, Any

from exchange.formats.data_readers._common import Layout, PartialKeyAttributes, Parts
from exchange.formats.records import DataMessage, Location, MessageError, ObservationRecord
from exchange.structures.model import DataStructure

_STRUCTURE_MESSAGE_KEYS = ("dataStructures", "dataflows", "codelists", "conceptSchemes", "contentConstraints")
_LINK_PREFERENCE = ("dataflow", "provisionagreement", "datastructure")
_MISSING = object()


def _text(value: Any) -> str | None:
    """A component value as raw text: numbers keep their JSON spelling; localised texts give English."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return _text(value["en"] if "en" in value else next(iter(value.values()), None))
    if isinstance(value, list):
        return ";".join(t for t in map(_text, value) if t is not None)
    return str(value)


def _value_text(value: Any) -> str | None:
    """Text of an entry of a component's ``values`` list: id if coded, else value(s), else name (1.0)."""
    if not isinstance(value, dict):
        return _text(value)
    for field in ("id", "value", "values", "name"):
        if field in value:
            return _text(value[field])
    return None


class _Component:
    __slots__ = ("default", "id", "key_position", "values")

    def __init__(self, raw: Any, path: str) -> None:
        if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
            raise MessageError("A component needs an id.", Location(column=path))
        self.id: str = raw["id"]
        values = raw.get("values")
        self.values = [_value_text(v) for v in values] if isinstance(values, list) else None
        default = raw.get("default", _MISSING)
        self.default = _MISSING if default is _MISSING else _text(default)
        self.key_position = raw.get("keyPosition")

    def resolve(self, element: Any, path: str) -> str | None:
        """The value an index (or, without a values list, the value itself) stands for."""
        if element is _MISSING:
            return None if self.default is _MISSING else self.default  # type: ignore[return-value]
        if element is None or self.values is None:
            return _text(element)
        if isinstance(element, bool) or not isinstance(element, int) or not 0 <= element < len(self.values):
            raise MessageError(
                f"{element!r} is not an index into the {len(self.values)} values of {self.id}.", Location(column=path)
            )
        return self.values[element]


class _Structure:
    """One ``structure`` section: components per level, and the structure reference."""

    def __init__(self, raw: Any, path: str, layout: Layout) -> None:
        if not isinstance(raw, dict):
            raise MessageError("The structure section must be an object.", Location(column=path))

        def level(group: str, name: str) -> list[_Component]:
            items = _members(_members(raw, group, path), name, f"{path}/{group}", list)
            return [_Component(c, f"{path}/{group}/{name}/{i}") for i, c in enumerate(items)]

        self.dataset_dims = level("dimensions", "dataSet")
        self.series_dims = level("dimensions", "series")
        self.obs_dims = level("dimensions", "observation")
        self.dataset_attrs = level("attributes", "dataSet")
        self.group_attrs = level("attributes", "dimensionGroup")
        self.series_attrs = level("attributes", "series")
        self.obs_attrs = level("attributes", "observation")
        self.measures = level("measures", "observation") if "measures" in raw else None
        """None (SDMX-JSON 1.0, or 2.0 without ``measures``): one raw OBS_VALUE comes first."""
        dims = self.dataset_dims + self.series_dims + self.obs_dims
        self.all_dims = sorted(dims, key=lambda c: c.key_position if isinstance(c.key_position, int) else 0)
        components = dims + self.dataset_attrs + self.group_attrs + self.series_attrs + self.obs_attrs
        unknown = [c.id for c in components + (self.measures or []) if c.id not in layout.roles]
        if unknown:
            raise layout.unknown(unknown, "Structure section", Location(column=path))
        self.urn = _structure_reference(raw.get("links"))


def _structure_reference(links: Any) -> str | None:
    if not isinstance(links, list):
        return None
    by_rel = {link.get("rel"): link for link in links if isinstance(link, dict)}
    for rel in _LINK_PREFERENCE:
        link = by_rel.get(rel)
        if link and (link.get("urn") or link.get("href")):
            return link.get("urn") or link.get("href")
    return None


def _members(container: dict[str, Any], name: str, path: str, kind: type = dict) -> Any:
    """``container[name]`` if it is a ``kind`` (an empty one if absent); anything else is malformed."""
    value = container.get(name)
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise MessageError(f"{name} must be {'an object' if kind is dict else 'an array'}.", Location(column=path))
    return value


def _elements(array: Any, start: int, count: int) -> list[Any]:
    """``count`` elements of an observation/attribute array from ``start``; omitted ones are _MISSING."""
    if not isinstance(array, list):
        array = []
    return [array[i] if i < len(array) else _MISSING for i in range(start, start + count)]


class _Reader:
    def __init__(self, layout: Layout, data: dict[str, Any], structures: list[_Structure]) -> None:
        self.layout = layout
        self.data = data
        self.structures = structures
        self.dataset_attributes: dict[str, str] = {}
        self.action: str | None = None
        self.structure_id: str | None = None

    def _route(self, parts: Parts, components: list[_Component], elements: list[Any], path: str) -> None:
        location = Location(column=path)
        for component, element in zip(components, elements, strict=True):
            value = component.resolve(element, path)
            if value is not None:
                parts.add(self.layout, component.id, value, self.dataset_attributes, location)

    def _keys(self, parts: Parts, components: list[_Component], key: str, path: str) -> None:
        indexes = key.split(":") if components else []
        if len(indexes) != len(components) or not all(i.isdigit() for i in indexes):
            raise MessageError(
                f"Key '{key}' does not have one index for each of {', '.join(c.id for c in components)}.",
                Location(column=path),
            )
        self._route(parts, components, [int(i) for i in indexes], path)

    def dataset(self, index: int, dataset: Any) -> tuple[_Structure, Parts, PartialKeyAttributes]:
        """Check a data set's header facts and read its data-set-level values and dimension groups."""
        path = f"/data/dataSets/{index}"
        if not isinstance(dataset, dict):
            raise MessageError("A data set must be an object.", Location(column=path))
        number = dataset.get("structure", 0)
        if not isinstance(number, int) or not 0 <= number < len(self.structures):
            raise MessageError(
                f"The data set refers to structure {number!r}, which is not there.", Location(column=path)
            )
        structure = self.structures[number]
        urn = structure.urn or _structure_reference(dataset.get("links"))
        action = dataset.get("action")
        if index == 0:
            self.structure_id, self.action = urn, action
        elif (urn, action) != (self.structure_id, self.action):
            raise MessageError(
                f"This data set ({urn}, action {action}) differs from the first one ({self.structure_id}, action "
                f"{self.action}): send data sets for different structures or actions as separate messages.",
                Location(column=path),
            )
        parts = Parts()
        self._route(parts, structure.dataset_dims, [0] * len(structure.dataset_dims), f"{path}")
        attrs = structure.dataset_attrs
        self._route(parts, attrs, _elements(dataset.get("attributes"), 0, len(attrs)), f"{path}/attributes")
        groups = PartialKeyAttributes(self.layout)
        for key, values in _members(dataset, "dimensionGroupAttributes", path).items():
            where = f"{path}/dimensionGroupAttributes/{key}"
            indexes = key.split(":")
            if len(indexes) != len(structure.all_dims):
                raise MessageError(f"Key '{key}' needs one position for each dimension.", Location(column=where))
            group = Parts()
            self._keys(
                group,
                [d for d, i in zip(structure.all_dims, indexes, strict=True) if i],
                ":".join(i for i in indexes if i),
                where,
            )
            values_parts = Parts()
            self._route(values_parts, structure.group_attrs, _elements(values, 0, len(structure.group_attrs)), where)
            group_key = dict(group.key)
            if group.time is not None and self.layout.time_id:
                group_key[self.layout.time_id] = group.time
            groups.add(group_key, {**values_parts.series, **values_parts.obs})
        return structure, parts, groups

    def _observation(
        self, structure: _Structure, base: Parts, groups: PartialKeyAttributes, key: str, array: Any, path: str
    ) -> ObservationRecord:
        parts = Parts(base)
        self._keys(parts, structure.obs_dims, key, path)
        if structure.measures is None:
            first = _elements(array, 0, 1)[0]
            parts.value = None if first is _MISSING else _text(first)
            offset = 1
        else:
            offset = len(structure.measures)
            self._route(parts, structure.measures, _elements(array, 0, offset), path)
        self._route(parts, structure.obs_attrs, _elements(array, offset, len(structure.obs_attrs)), path)
        if groups:
            components = dict(parts.key)
            if parts.time and self.layout.time_id:
                components[self.layout.time_id] = parts.time
            groups.apply(components, parts.series, parts.obs)
        return ObservationRecord(parts.key, parts.time, parts.value, parts.obs, parts.series, Location(column=path))

    def records(self) -> Iterator[ObservationRecord]:
        datasets = self.data["dataSets"]
        if not isinstance(datasets, list):
            raise MessageError("data.dataSets must be an array.", Location(column="/data/dataSets"))
        for index, dataset in enumerate(datasets):
            structure, base, groups = self.dataset(index, dataset)
            path = f"/data/dataSets/{index}"
            for skey, series in _members(dataset, "series", path).items():
                spath = f"{path}/series/{skey}"
                if not isinstance(series, dict):
                    raise MessageError("A series must be an object.", Location(column=spath))
                sparts = Parts(base)
                self._keys(sparts, structure.series_dims, skey, spath)
                attrs = structure.series_attrs
                self._route(sparts, attrs, _elements(series.get("attributes"), 0, len(attrs)), f"{spath}/attributes")
                for okey, array in _members(series, "observations", spath).items():
                    yield self._observation(structure, sparts, groups, okey, array, f"{spath}/observations/{okey}")
            for okey, array in _members(dataset, "observations", path).items():
                yield self._observation(structure, base, groups, okey, array, f"{path}/observations/{okey}")


def _not_data(doc: dict[str, Any]) -> MessageError:
    errors = doc.get("errors")
    if isinstance(errors, list) and errors:
        first = errors[0] if isinstance(errors[0], dict) else {}
        return MessageError(
            f"This is an SDMX-JSON error message: {first.get('code', '')} {first.get('title', '')}".strip() + "."
        )
    data = doc.get("data")
    if isinstance(data, dict) and any(k in data for k in _STRUCTURE_MESSAGE_KEYS):
        return MessageError("This is an SDMX-JSON structure message, not a data message.")
    return MessageError("Not an SDMX-JSON data message: it has no data.dataSets.")


def read_sdmx_json(stream: IO[bytes], dsd: DataStructure) -> DataMessage:
    """Read an SDMX-JSON 1.0 or 2.0 data message (the whole document is parsed first)."""
    try:
        doc = json.loads(stream.read(), parse_float=str, parse_constant=str)
    except json.JSONDecodeError as exc:
        raise MessageError(f"Malformed JSON: {exc.msg} (column {exc.colno}).", Location(line=exc.lineno)) from exc
    except UnicodeDecodeError as exc:
        raise MessageError(f"The JSON document is not UTF-8 text ({exc.reason}).") from exc
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or "dataSets" not in data:
        raise _not_data(doc if isinstance(doc, dict) else {})
    layout = Layout(dsd)
    if "structures" in data:
        version = "2.0"
        raw = data["structures"] if isinstance(data["structures"], list) else []
        structures = [_Structure(s, f"/data/structures/{i}", layout) for i, s in enumerate(raw)]
    else:
        version = "1.0"
        structures = [_Structure(data.get("structure"), "/data/structure", layout)]
    reader = _Reader(layout, data, structures)
    observations = reader.records()
    first = next(observations, None)
    if reader.structure_id is None and structures:
        reader.structure_id = structures[0].urn
    return DataMessage(
        observations=observations if first is None else chain([first], observations),
        structure_id=reader.structure_id,
        dataset_attributes=reader.dataset_attributes,
        action=reader.action,
        format=f"SDMX-JSON {version}",
    )
