"""Parts shared by the SDMX-JSON 1.0 and 2.0 structure writers.

Texts are written twice, as SDMX-JSON asks: the best match (``name``: English, else the first language)
and all languages (``names``). URNs go into ``links`` (``rel: self``); an annotation's URL is its own
``self`` link. Empty arrays are omitted (the 2.0 schema forbids them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from exchange.formats.structure_message import (
    Header,
    StructureEntry,
    TextContext,
    best_text,
    component_urn,
    constraint_attachment,
    grouped,
    item_urn,
    names,
    ref_urn,
    region_key_values,
    scheme_items,
    text_format,
    time_range_bounds,
)
from exchange.structures.model import (
    Annotation,
    Contact,
    ContentConstraint,
    CubeRegion,
    DataStructure,
    Item,
    Localised,
    Representation,
    TimeRange,
)

Json = dict[str, Any]

_NUMBER_FACETS = frozenset(
    {"minLength", "maxLength", "decimals", "interval", "startValue", "endValue", "minValue", "maxValue"}
)
_BOOLEAN_FACETS = frozenset({"isSequence", "isMultiLingual"})
_encoder = msgspec.json.Encoder()


def message(header: Header, schema: str, data: Json) -> bytes:
    """The encoded message: ``meta`` (the header, with the official schema's URL first), then ``data``."""
    meta = {
        "schema": schema,
        "id": header.id,
        "test": header.test,
        "prepared": header.prepared_text,
        "sender": {"id": header.sender},
    }
    return _encoder.encode({"meta": meta, "data": data})


def containers(
    entries: Sequence[StructureEntry], keys: dict[str, str], artefact: Callable[[StructureEntry], Json]
) -> Json:
    """``data``: for each artefact type in ``keys`` (type → container key), ``artefact(entry)`` of each."""
    return {keys[t]: [artefact(entry) for entry in group] for t, group in grouped(entries, tuple(keys))}


def localised(key: str, text: Localised) -> Json:
    """``key`` (best match) and ``key + 's'`` (all languages), or nothing for no text."""
    return {key: best_text(text), f"{key}s": text} if text else {}


def self_link(urn: str) -> Json:
    """``links`` holding the object's URN."""
    cls = urn.split("=", 1)[0].rsplit(".", 1)[-1]
    return {"links": [{"rel": "self", "urn": urn, "type": cls.lower()}]}


def nameable(obj_id: str, name: Localised, urn: str, description: Localised, annotations: list[Annotation]) -> Json:
    """Identification, names, description and annotations of a nameable object."""
    return {
        "id": obj_id,
        **self_link(urn),
        **localised("name", names(name, obj_id)),
        **localised("description", description),
        **annotations_json(annotations),
    }


def maintainable(entry: StructureEntry, urn: str) -> Json:
    """The common part of a maintainable artefact at the entry's detail level."""
    a = entry.artefact
    details = entry.has_details
    doc = nameable(a.id, a.name, urn, a.description if details else {}, a.annotations if details else [])
    doc |= {"agencyID": a.agency, "version": a.version, "isExternalReference": entry.is_stub}
    if a.valid_from:
        doc["validFrom"] = a.valid_from
    if a.valid_to:
        doc["validTo"] = a.valid_to
    return doc


def items(entry: StructureEntry, v3: bool, item: Callable[[Item, str | None], Json]) -> list[Json]:
    """The scheme's items (as :func:`scheme_items` selects them), each built by ``item(item, parent)``."""
    scheme = entry.ref
    return [
        nameable(i.id, i.name, item_urn(scheme, i.id, v3), i.description, i.annotations) | item(i, parent)
        for i, parent in scheme_items(entry)
    ]


def contacts(item: Item) -> Json:
    """``contacts`` of an organisation, if any."""
    return {"contacts": [_contact(c) for c in item.contacts]} if item.contacts else {}


def _contact(contact: Contact) -> Json:
    doc = localised("name", contact.name) | localised("department", contact.department)
    doc |= localised("role", contact.role)
    for key, values in (("telephones", contact.telephones), ("emails", contact.emails), ("uris", contact.uris)):
        if values:
            doc[key] = list(values)
    return doc


def annotations_json(annotations: list[Annotation]) -> Json:
    """``annotations``, if any."""
    return {"annotations": [_annotation(a) for a in annotations]} if annotations else {}


def _annotation(a: Annotation) -> Json:
    doc = {key: value for key, value in (("id", a.id), ("title", a.title), ("type", a.type)) if value is not None}
    doc |= localised("text", a.text)
    if a.url:
        doc["links"] = [{"rel": "self", "href": a.url}]
    return doc


def text_format_json(rep: Representation | None, context: TextContext, v3: bool, type_key: str) -> Json:
    """A text format object: data type under ``type_key`` and facets with JSON types."""
    text_type, facets = text_format(rep.text_format if rep else None, context, v3)
    doc: Json = {type_key: text_type} if text_type else {}
    for name, value in facets.items():
        doc[name] = _facet_value(name, value)
    return doc


def _facet_value(name: str, value: str) -> Any:
    if name in _BOOLEAN_FACETS:
        return value.lower() == "true"
    if name in _NUMBER_FACETS:
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


# --- parts of data structures and constraints --------------------------------------------------------


def dsd_urn(dsd: DataStructure, cls: str, component_id: str) -> str:
    """URN of a component or component list (``cls``) of a data structure."""
    return component_urn(dsd, f"datastructure.{cls}", component_id)


def descriptor(dsd: DataStructure, descriptor_id: str) -> Json:
    """Identification of a dimension, attribute or measure list."""
    return {"id": descriptor_id, **self_link(dsd_urn(dsd, descriptor_id, descriptor_id))}


def groups(dsd: DataStructure) -> Json:
    """``groups`` of a data structure, if any."""
    if not dsd.groups:
        return {}
    return {
        "groups": [
            {"id": g.id, **self_link(dsd_urn(dsd, "GroupDimensionDescriptor", g.id)), "groupDimensions": g.dimensions}
            for g in dsd.groups
        ]
    }


def attachment_and_key_sets(cc: ContentConstraint, attachment_keys: dict[str, str], v3: bool) -> Json:
    """``constraintAttachment`` (keys: attachment kind → JSON key) and ``dataKeySets`` of a constraint."""
    doc: Json = {}
    attachment = constraint_attachment(cc.attachments, tuple(attachment_keys))
    if attachment:
        kind, refs = attachment
        urns = [ref_urn(r, v3) for r in refs]
        doc["constraintAttachment"] = {attachment_keys[kind]: urns[0] if kind == "dataprovider" else urns}
    key_sets = [
        {"isIncluded": ks.include, "keys": [{"keyValues": [{"id": c, "value": v} for c, v in k.items()]} for k in keys]}
        for ks in cc.key_sets
        if (keys := [k for k in ks.keys if k])
    ]
    if key_sets:
        doc["dataKeySets"] = key_sets
    return doc


def cube_region_key_values(cc: ContentConstraint, region: CubeRegion, value: Callable[[str], Any]) -> list[Json]:
    """``keyValues`` of a cube region: ``values`` (each value as ``value`` writes it) or a ``timeRange``."""
    return [
        {"id": c, "timeRange": _time_range(selection)}
        if isinstance(selection, TimeRange)
        else {"id": c, "values": [value(v) for v in selection]}
        for c, selection in region_key_values(cc, region)
    ]


def _time_range(time_range: TimeRange) -> Json:
    return {
        element[:1].lower() + element[1:]: {"period": period, "isInclusive": inclusive}
        for element, period, inclusive in time_range_bounds(time_range)
    }
