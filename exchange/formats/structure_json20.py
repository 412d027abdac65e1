"""SDMX-JSON 2.0 structure message writer (the SDMX 3.0 information model in JSON).

It holds what SDMX-ML 3.0 holds (see :mod:`structure_ml30`): data constraints with a role, measures,
metadata attribute lists (no metadata structure targets), metadataflow targets, representation maps (free
text when no codelist is given) and structure maps.
"""

from __future__ import annotations

from collections.abc import Sequence

from exchange.formats.structure_json import (
    Json,
    annotations_json,
    attachment_and_key_sets,
    contacts,
    containers,
    cube_region_key_values,
    descriptor,
    dsd_urn,
    groups,
    items,
    maintainable,
    message,
    self_link,
    text_format_json,
)
from exchange.formats.structure_message import (
    Header,
    StructureEntry,
    TextContext,
    artefact_urn,
    attribute_relationship,
    check_cube_regions,
    component_urn,
    ref_urn,
    target_urn,
)
from exchange.structures.model import (
    Component,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataStructure,
    Item,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Representation,
    RepresentationMap,
    StructureMap,
)

_SCHEMA = "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/structure-message/tools/schemas/2.0.0/sdmx-json-structure-schema.json"
_KEYS = {
    "agencyscheme": "agencySchemes",
    "dataproviderscheme": "dataProviderSchemes",
    "codelist": "codelists",
    "conceptscheme": "conceptSchemes",
    "datastructure": "dataStructures",
    "dataflow": "dataflows",
    "metadatastructure": "metadataStructures",
    "metadataflow": "metadataflows",
    "contentconstraint": "dataConstraints",
    "representationmap": "representationMaps",
    "structuremap": "structureMaps",
}
_ITEM_KEYS = {
    "agencyscheme": "agencies",
    "dataproviderscheme": "dataProviders",
    "codelist": "codes",
    "conceptscheme": "concepts",
}
_ORGANISATION_SCHEMES = ("agencyscheme", "dataproviderscheme")
_ATTACHMENT_KEYS = {"dataprovider": "dataProvider", "datastructure": "dataStructures", "dataflow": "dataflows"}
_USAGE = {"mandatory": "mandatory", "conditional": "optional"}


def render(entries: Sequence[StructureEntry], header: Header) -> bytes:
    """Render ``entries`` as an SDMX-JSON 2.0 structure message."""
    return message(header, _SCHEMA, containers(entries, _KEYS, _artefact))


def _artefact(entry: StructureEntry) -> Json:
    a = entry.artefact
    doc = maintainable(entry, artefact_urn(a, True))
    if isinstance(a, ContentConstraint):
        doc["role"] = a.role.capitalize()
    if entry.is_stub:
        return doc
    if entry.type in _ITEM_KEYS:
        doc["isPartial"] = entry.is_partial
        written = items(entry, True, lambda item, parent: _item(entry, item, parent))
        if written:
            doc[_ITEM_KEYS[entry.type]] = written
    elif isinstance(a, DataStructure):
        doc["dataStructureComponents"] = _components(a)
    elif isinstance(a, Dataflow):
        doc["structure"] = ref_urn(a.structure, True)
    elif isinstance(a, Metadataflow):
        doc["structure"] = ref_urn(a.structure, True)
        if a.targets:
            doc["targets"] = [target_urn(t) for t in a.targets]
    elif isinstance(a, ContentConstraint):
        doc |= _constraint(a)
    elif isinstance(a, MetadataStructure) and a.attributes:
        attributes = [_metadata_attribute(a, attribute, ()) for attribute in a.attributes]
        attribute_list = {"id": "MetadataAttributeDescriptor", "metadataAttributes": attributes}
        doc["metadataStructureComponents"] = {"metadataAttributeList": attribute_list}
    elif isinstance(a, RepresentationMap):
        doc |= _representation_map(a)
    elif isinstance(a, StructureMap):
        doc |= _structure_map(a)
    return doc


def _item(entry: StructureEntry, item: Item, parent: str | None) -> Json:
    if entry.type in _ORGANISATION_SCHEMES:
        return contacts(item)
    doc: Json = {"parent": parent} if parent else {}
    rep = _representation(item.core_representation, "basic")
    if rep:
        doc["coreRepresentation"] = rep
    return doc


def _representation(rep: Representation | None, context: TextContext) -> Json:
    if rep is None:
        return {}
    if rep.enumeration:
        doc: Json = {"enumeration": ref_urn(rep.enumeration, True)}
        if rep.text_format:
            doc["enumerationFormat"] = text_format_json(rep, "coded", True, "dataType")
        return doc
    if rep.text_format:
        return {"format": text_format_json(rep, context, True, "dataType")}
    return {}


# --- data structures -------------------------------------------------------------------------------


def _components(dsd: DataStructure) -> Json:
    doc: Json = {"dimensionList": _dimension_list(dsd)}
    doc |= groups(dsd)
    if dsd.attributes:
        attributes = [_attribute(dsd, a) for a in dsd.attributes]
        doc["attributeList"] = descriptor(dsd, "AttributeDescriptor") | {"attributes": attributes}
    if dsd.measures:
        measures = [_usage(m) | _component(dsd, "Measure", m, "basic") for m in dsd.measures]
        doc["measureList"] = descriptor(dsd, "MeasureDescriptor") | {"measures": measures}
    return doc


def _dimension_list(dsd: DataStructure) -> Json:
    doc = descriptor(dsd, "DimensionDescriptor")
    doc["dimensions"] = [
        _component(dsd, "Dimension", d, "simple") | {"position": d.position or i}
        for i, d in enumerate(dsd.dimensions, start=1)
    ]
    time = dsd.time_dimension
    if time:
        doc["timeDimension"] = _component(dsd, "TimeDimension", time, "time")
    return doc


def _component(dsd: DataStructure, cls: str, component: Component, context: TextContext) -> Json:
    doc = {
        "id": component.id,
        **self_link(dsd_urn(dsd, cls, component.id)),
        **annotations_json(component.annotations),
        "conceptIdentity": ref_urn(component.concept, True),
    }
    if context == "time":
        doc["localRepresentation"] = {"format": text_format_json(component.representation, "time", True, "dataType")}
    else:
        rep = _representation(component.representation, context)
        if rep:
            doc["localRepresentation"] = rep
    return doc


def _usage(component: Component) -> Json:
    usage = _USAGE.get(component.usage or "")
    return {"usage": usage} if usage else {}


def _attribute(dsd: DataStructure, attribute: Component) -> Json:
    kind, ids = attribute_relationship(attribute, dsd)
    if kind == "observation":
        relationship: Json = {"observation": {}}
    elif kind == "group":
        relationship = {"group": ids[0]}
    elif kind == "dimensions":
        relationship = {"dimensions": ids}
    else:
        relationship = {"dataflow": {}}
    doc = _usage(attribute) | _component(dsd, "DataAttribute", attribute, "basic")
    return doc | {"attributeRelationship": relationship}


# --- constraints -----------------------------------------------------------------------------------


def _constraint(cc: ContentConstraint) -> Json:
    check_cube_regions(cc, "SDMX-JSON 2.0")
    doc = attachment_and_key_sets(cc, _ATTACHMENT_KEYS, True)
    if cc.cube_regions:
        doc["cubeRegions"] = [_cube_region(cc, r) for r in cc.cube_regions]
    return doc


def _cube_region(cc: ContentConstraint, region: CubeRegion) -> Json:
    key_values = cube_region_key_values(cc, region, lambda v: {"value": v})
    return {"include": region.include, "keyValues": key_values} if key_values else {"include": region.include}


# --- metadata structures and mappings --------------------------------------------------------------


def _metadata_attribute(msd: MetadataStructure, attribute: MetadataAttribute, path: tuple[str, ...]) -> Json:
    path = (*path, attribute.id)
    doc = {
        "id": attribute.id,
        **self_link(component_urn(msd, "metadatastructure.MetadataAttribute", *path)),
        "conceptIdentity": ref_urn(attribute.concept, True),
        "minOccurs": attribute.min_occurs,
        "maxOccurs": "unbounded" if attribute.max_occurs is None else attribute.max_occurs,
        "isPresentational": attribute.is_presentational,
    }
    rep = _representation(attribute.representation, "basic")
    if rep:
        doc["localRepresentation"] = rep
    if attribute.children:
        doc["metadataAttributes"] = [_metadata_attribute(msd, c, path) for c in attribute.children]
    return doc


def _representation_map(rm: RepresentationMap) -> Json:
    doc: Json = {
        "source": [{"codelist": ref_urn(r, True)} for r in rm.sources] or [{"dataType": "String"}],
        "target": [{"codelist": ref_urn(r, True)} for r in rm.targets] or [{"dataType": "String"}],
    }
    if rm.mappings:
        doc["representationMappings"] = [
            {"sourceValues": [{"value": v} for v in m.source], **({"targetValues": m.target} if m.target else {})}
            for m in rm.mappings
        ]
    return doc


def _structure_map(sm: StructureMap) -> Json:
    doc: Json = {"source": ref_urn(sm.source, True), "target": ref_urn(sm.target, True)}
    if sm.component_maps:
        doc["componentMaps"] = [
            {
                "source": cm.source,
                "target": cm.target,
                **({"representationMap": ref_urn(cm.representation_map, True)} if cm.representation_map else {}),
            }
            for cm in sm.component_maps
        ]
    return doc
