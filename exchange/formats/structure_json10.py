"""SDMX-JSON 1.0 structure message writer (the SDMX 2.1 information model in JSON).

It holds what SDMX-ML 2.1 holds (see :mod:`structure_ml21`): no structure or representation maps, no
metadataflow targets, metadata structure targets as IdentifiableObjectTargets of one metadata target
``TARGET``, and exactly one measure, OBS_VALUE, per data structure.
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
    component_urn,
    item_urn,
    ref_urn,
    single_measure,
    target_class,
)
from exchange.structures.model import (
    Component,
    ContentConstraint,
    Dataflow,
    DataStructure,
    Item,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Representation,
)

_SCHEMA = "https://raw.githubusercontent.com/sdmx-twg/sdmx-json/master/structure-message/tools/schemas/1.0/sdmx-json-structure-schema.json"
_KEYS = {
    "agencyscheme": "agencySchemes",
    "dataproviderscheme": "dataProviderSchemes",
    "codelist": "codelists",
    "conceptscheme": "conceptSchemes",
    "datastructure": "dataStructures",
    "dataflow": "dataflows",
    "metadatastructure": "metadataStructures",
    "metadataflow": "metadataflows",
    "contentconstraint": "contentConstraints",
}
_ITEM_KEYS = {
    "agencyscheme": "agencies",
    "dataproviderscheme": "dataProviders",
    "codelist": "codes",
    "conceptscheme": "concepts",
}
_ORGANISATION_SCHEMES = ("agencyscheme", "dataproviderscheme")
_ATTACHMENT_KEYS = {
    "dataprovider": "dataProvider",
    "datastructure": "dataStructures",
    "metadatastructure": "metadataStructures",
    "dataflow": "dataflows",
    "metadataflow": "metadataflows",
}
_TARGET = "TARGET"
_REPORT = "REPORT"


def render(entries: Sequence[StructureEntry], header: Header) -> bytes:
    """Render ``entries`` as an SDMX-JSON 1.0 structure message."""
    return message(header, _SCHEMA, containers(entries, _KEYS, _artefact))


def _artefact(entry: StructureEntry) -> Json:
    a = entry.artefact
    doc = maintainable(entry, artefact_urn(a, False))
    if entry.has_details and entry.type not in _ORGANISATION_SCHEMES:
        doc["isFinal"] = a.is_final
    if isinstance(a, ContentConstraint):
        doc["type"] = a.role.capitalize()
    if entry.is_stub:
        return doc
    if entry.type in _ITEM_KEYS:
        doc["isPartial"] = entry.is_partial
        written = items(entry, False, lambda item, parent: _item(entry, item, parent))
        if written:
            doc[_ITEM_KEYS[entry.type]] = written
    elif isinstance(a, DataStructure):
        doc["dataStructureComponents"] = _components(a)
    elif isinstance(a, Dataflow | Metadataflow):
        doc["structure"] = ref_urn(a.structure, False)
    elif isinstance(a, ContentConstraint):
        doc |= _constraint(a)
    elif isinstance(a, MetadataStructure) and a.attributes:
        doc["metadataStructureComponents"] = _msd_components(a)
    return doc


def _item(entry: StructureEntry, item: Item, parent: str | None) -> Json:
    scheme = entry.ref
    if scheme.type in _ORGANISATION_SCHEMES:
        return contacts(item)
    doc: Json = {}
    if parent:
        doc["parent"] = item_urn(scheme, parent, False) if scheme.type == "conceptscheme" else parent
    rep = _representation(item.core_representation, "basic")
    if rep:
        doc["coreRepresentation"] = rep
    return doc


def _representation(rep: Representation | None, context: TextContext) -> Json:
    if rep is None:
        return {}
    if rep.enumeration:
        doc: Json = {"enumeration": ref_urn(rep.enumeration, False)}
        if rep.text_format:
            doc["enumerationFormat"] = text_format_json(rep, "coded", False, "textType")
        return doc
    if rep.text_format:
        return {"textFormat": text_format_json(rep, context, False, "textType")}
    return {}


# --- data structures -------------------------------------------------------------------------------


def _components(dsd: DataStructure) -> Json:
    measure = single_measure(dsd, "SDMX-JSON 1.0")
    doc: Json = {"dimensionList": _dimension_list(dsd)}
    doc |= groups(dsd)
    if dsd.attributes:
        attributes = [_attribute(dsd, a) for a in dsd.attributes]
        doc["attributeList"] = descriptor(dsd, "AttributeDescriptor") | {"attributes": attributes}
    primary = _component(dsd, "PrimaryMeasure", measure, "simple")
    doc["measureList"] = descriptor(dsd, "MeasureDescriptor") | {"primaryMeasure": primary}
    return doc


def _dimension_list(dsd: DataStructure) -> Json:
    dimensions = dsd.dimensions
    doc = descriptor(dsd, "DimensionDescriptor")
    doc["dimensions"] = [
        _component(dsd, "Dimension", d, "simple") | {"position": d.position or i, "type": "Dimension"}
        for i, d in enumerate(dimensions, start=1)
    ]
    time = dsd.time_dimension
    if time:
        time_doc = _component(dsd, "TimeDimension", time, "time")
        doc["timeDimensions"] = [time_doc | {"position": len(dimensions) + 1, "type": "TimeDimension"}]
    return doc


def _component(dsd: DataStructure, cls: str, component: Component, context: TextContext) -> Json:
    doc = {
        "id": component.id,
        **self_link(dsd_urn(dsd, cls, component.id)),
        "conceptIdentity": ref_urn(component.concept, False),
    }
    doc |= annotations_json(component.annotations)
    if context == "time":
        doc["localRepresentation"] = {
            "textFormat": text_format_json(component.representation, "time", False, "textType")
        }
    else:
        rep = _representation(component.representation, context)
        if rep:
            doc["localRepresentation"] = rep
    return doc


def _attribute(dsd: DataStructure, attribute: Component) -> Json:
    kind, ids = attribute_relationship(attribute, dsd)
    if kind == "observation":
        relationship: Json = {"primaryMeasure": "OBS_VALUE"}
    elif kind == "group":
        relationship = {"group": ids[0]}
    elif kind == "dimensions":
        relationship = {"dimensions": ids}
        if attribute.group:
            relationship["attachmentGroups"] = [attribute.group]
    else:
        relationship = {"none": {}}
    status = "Mandatory" if attribute.usage == "mandatory" else "Conditional"
    doc = _component(dsd, "DataAttribute", attribute, "simple")
    return doc | {"assignmentStatus": status, "attributeRelationship": relationship}


# --- constraints -----------------------------------------------------------------------------------


def _constraint(cc: ContentConstraint) -> Json:
    doc = attachment_and_key_sets(cc, _ATTACHMENT_KEYS, False)
    if cc.cube_regions:
        doc["cubeRegions"] = [
            {"isIncluded": r.include, "keyValues": cube_region_key_values(cc, r, str)} for r in cc.cube_regions
        ]
    return doc


# --- metadata structures ---------------------------------------------------------------------------


def _msd_components(msd: MetadataStructure) -> Json:
    target_urn = _msd_urn(msd, "MetadataTarget", _TARGET)
    targets = [
        {
            "id": cls,
            **self_link(_msd_urn(msd, "IdentifiableObjectTarget", _TARGET, cls)),
            "objectType": cls,
            "localRepresentation": {"textFormat": {"textType": "IdentifiableReference"}},
        }
        for cls in map(target_class, msd.targets or ["Any"])
    ]
    report = {
        "id": _REPORT,
        **self_link(_msd_urn(msd, "ReportStructure", _REPORT)),
        "metadataAttributes": [_metadata_attribute(msd, a, (_REPORT,)) for a in msd.attributes],
        "metadataTargets": [target_urn],
    }
    return {
        "metadataTargets": [{"id": _TARGET, **self_link(target_urn), "identifiableObjectTargets": targets}],
        "reportStructures": [report],
    }


def _msd_urn(msd: MetadataStructure, cls: str, *path: str) -> str:
    return component_urn(msd, f"metadatastructure.{cls}", *path)


def _metadata_attribute(msd: MetadataStructure, attribute: MetadataAttribute, path: tuple[str, ...]) -> Json:
    path = (*path, attribute.id)
    doc = {
        "id": attribute.id,
        **self_link(_msd_urn(msd, "MetadataAttribute", *path)),
        "conceptIdentity": ref_urn(attribute.concept, False),
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
