"""Convert sdmx1 (``sdmx`` package) information-model objects into our structure model.

sdmx1 parses SDMX-ML 2.1 and 3.0; this module only maps its objects. Placeholder objects that sdmx1
creates for references (``is_external_reference``) and artefact types our model does not have
(category schemes, hierarchical codelists, provision agreements…) are skipped.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, Literal

from sdmx.message import StructureMessage
from sdmx.model import common, v21, v30

from exchange.formats.records import MessageError
from exchange.structures.model import (
    AgencyScheme,
    Annotation,
    Artefact,
    Codelist,
    Component,
    ConceptScheme,
    Contact,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Group,
    Item,
    ItemScheme,
    KeySet,
    Localised,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Ref,
    Representation,
    TextFormat,
    TimeRange,
)
from exchange.structures.urns import TYPE_BY_CLASS, is_final_in_sdmx3, ref_from_urn

_SCHEMES: dict[type, type[ItemScheme]] = {
    common.AgencyScheme: AgencyScheme,
    common.DataProviderScheme: DataProviderScheme,
    common.Codelist: Codelist,
    common.ConceptScheme: ConceptScheme,
}
# sdmx1 class names of identifiable-object targets → SDMX class names.
_SDMX_CLASS = {
    "DataflowDefinition": "Dataflow",
    "DataStructureDefinition": "DataStructure",
    "MetadataflowDefinition": "Metadataflow",
    "MetadataStructureDefinition": "MetadataStructure",
}
_OBSERVATION_RELATIONSHIPS = (v21.PrimaryMeasureRelationship, v30.ObservationRelationship, v30.MeasureRelationship)
_DATASET_RELATIONSHIPS = (v21.NoSpecifiedRelationship, v30.DataflowRelationship)


def convert_message(message: StructureMessage, sdmx3: bool) -> list[Artefact]:
    """Our artefacts for every maintainable artefact sdmx1 read (placeholders and unknown types skipped).

    ``sdmx3`` selects SDMX 3.0 semantics: no ``isFinal``, an artefact is final when its version is a
    semantic version without extension (``1.0.0``; ``1.0.0-draft`` and legacy ``1.0`` are not).
    """
    return [a for obj in message.iter_objects(external_reference=False) if (a := _convert(obj, sdmx3))]


def _convert(obj: common.MaintainableArtefact, sdmx3: bool) -> Artefact | None:
    if obj.maintainer is None:  # a reference sdmx1 could not resolve, not an artefact of the message
        return None
    head = _maintainable(obj, sdmx3)
    if type(obj) in _SCHEMES:
        items = [_item(i) for i in obj.items.values()]
        return _SCHEMES[type(obj)](**head, items=items, is_partial=bool(obj.is_partial))
    if isinstance(obj, common.BaseDataStructureDefinition):
        return _data_structure(obj, head)
    if isinstance(obj, common.BaseDataflow):
        if obj.structure is None:
            raise MessageError(f"Dataflow {obj.id} does not reference a data structure")
        return Dataflow(**head, structure=_ref(obj.structure))
    if isinstance(obj, v21.ContentConstraint | v30.DataConstraint):
        return _constraint(obj, head)
    if isinstance(obj, common.BaseMetadataStructureDefinition):
        return _metadata_structure(obj, head)
    if isinstance(obj, common.BaseMetadataflow):
        return Metadataflow(**head, structure=_ref(obj.structure))
    return None


# -- common parts ------------------------------------------------------------------------------------


def _maintainable(obj: common.MaintainableArtefact, sdmx3: bool) -> dict[str, Any]:
    version = str(obj.version) if obj.version else "1.0"
    return dict(
        agency=obj.maintainer.id,
        id=obj.id,
        version=version,
        name=text(obj.name),
        description=text(obj.description),
        annotations=annotations(obj),
        is_final=is_final_in_sdmx3(version) if sdmx3 else bool(obj.is_final),
        valid_from=_str(obj.valid_from),
        valid_to=_str(obj.valid_to),
    )


def text(value: common.InternationalString | None) -> Localised:
    """Localised text of an sdmx1 InternationalString (empty strings dropped)."""
    return {lang: s for lang, s in value.localizations.items() if s} if value else {}


def annotations(obj: common.AnnotableArtefact) -> list[Annotation]:
    """Our annotations for an sdmx1 annotable object."""
    return [
        Annotation(id=a.id, title=a.title, type=a.type, url=_str(a.url), text=text(a.text)) for a in obj.annotations
    ]


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _ref(obj: common.MaintainableArtefact) -> Ref:
    type_ = TYPE_BY_CLASS.get(type(obj).__name__)
    if type_ is None:
        raise MessageError(f"Unsupported reference to a {type(obj).__name__} ({obj.id})")
    return Ref(type_, obj.maintainer.id, obj.id, str(obj.version) if obj.version else "1.0")


def _item_ref(item: common.Item) -> Ref:
    scheme = item.get_scheme()
    if isinstance(scheme, common.ItemScheme) and scheme.maintainer is not None:
        scheme_ref = _ref(scheme)
        return Ref(scheme_ref.type, scheme_ref.agency, scheme_ref.id, scheme_ref.version, item.id)
    return ref_from_urn(item.urn)


def _item(item: common.Item) -> Item:
    parent = item.parent if isinstance(item.parent, common.Item) else None
    contacts = getattr(item, "contact", None) or []
    core = getattr(item, "core_representation", None)
    return Item(
        id=item.id,
        name=text(item.name),
        description=text(item.description),
        annotations=annotations(item),
        parent=parent.id if parent is not None else None,
        core_representation=representation(core),
        contacts=[_contact(c) for c in contacts],
    )


def _contact(contact: common.Contact) -> Contact:
    return Contact(
        name=text(contact.name),
        department=text(contact.org_unit),
        role=text(contact.responsibility),
        telephones=[contact.telephone] if contact.telephone else [],
        emails=list(contact.email),
        uris=list(contact.uri),
    )


def representation(rep: common.Representation | None) -> Representation | None:
    """Our representation for an sdmx1 one: codelist enumeration and/or text format with facets."""
    if rep is None:
        return None
    enumeration = _ref(rep.enumerated) if isinstance(rep.enumerated, common.Codelist) else None
    text_format = None
    for facet in rep.non_enumerated or []:
        facets = {
            _camel(name): _facet_value(value)
            for name, value in vars(facet.type).items()
            if value is not None and name != "sentinel_values"
        }
        text_format = TextFormat(text_type=_text_type(facet.value_type), facets=facets)
    if enumeration is None and text_format is None:
        return None
    return Representation(enumeration=enumeration, text_format=text_format)


def _text_type(value_type: common.FacetValueType | common.ExtendedFacetValueType | None) -> str | None:
    if value_type is None:
        return None
    name = value_type.name
    return {"uri": "URI", "Xhtml": "XHTML"}.get(name, name[:1].upper() + name[1:])


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _facet_value(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _usage(status: common.UsageStatus | None) -> Literal["mandatory", "conditional"]:
    return "mandatory" if status == common.UsageStatus.mandatory else "conditional"


# -- data structures ---------------------------------------------------------------------------------


def _data_structure(dsd: common.BaseDataStructureDefinition, head: dict[str, Any]) -> DataStructure:
    dimensions = [d for d in dsd.dimensions.components if not isinstance(d, common.TimeDimension)]
    key_ids = [d.id for d in dimensions]
    components = [
        Component(
            id=d.id,
            role="dimension",
            concept=_item_ref(d.concept_identity),
            representation=representation(d.local_representation),
            position=position,
        )
        for position, d in enumerate(dimensions, start=1)
    ]
    components += [
        Component(
            id=d.id,
            role="time_dimension",
            concept=_item_ref(d.concept_identity),
            representation=representation(d.local_representation),
            position=len(dimensions) + 1,
        )
        for d in dsd.dimensions.components
        if isinstance(d, common.TimeDimension)
    ]
    components += [_attribute(a, key_ids) for a in dsd.attributes.components if isinstance(a, common.DataAttribute)]
    components += [
        Component(
            id=m.id,
            role="measure",
            concept=_item_ref(m.concept_identity),
            representation=representation(m.local_representation),
        )
        for m in dsd.measures.components
    ]
    groups = [Group(id=g.id, dimensions=[d.id for d in g.components]) for g in dsd.group_dimensions.values()]
    return DataStructure(**head, components=components, groups=groups)


def _attribute(attr: common.DataAttribute, key_ids: list[str]) -> Component:
    """A data attribute with its attachment level.

    A relationship to every key dimension is a plain series attribute (``related_to`` empty); one to a
    subset is a series attribute whose ``related_to`` lists those dimensions; a dimension relationship
    with an attachment group is a group attribute listing its dimensions.
    """
    rel = attr.related_to
    attachment: Literal["dataset", "series", "group", "observation"] = "dataset"
    related_to: list[str] = []
    group = None
    if isinstance(rel, _OBSERVATION_RELATIONSHIPS):
        attachment = "observation"
    elif isinstance(rel, common.DimensionRelationship):
        dims = [d.id for d in rel.dimensions]
        if rel.group_key is not None:
            attachment, group, related_to = "group", rel.group_key.id, dims
        elif any(d not in key_ids for d in dims):  # relates to the time dimension
            attachment, related_to = "observation", dims
        else:
            attachment = "series"
            related_to = [] if set(dims) == set(key_ids) else dims
    elif isinstance(rel, common.GroupRelationship) and rel.group_key is not None:
        attachment, group, related_to = "group", rel.group_key.id, [rel.group_key.id]
    elif rel is not None and not isinstance(rel, _DATASET_RELATIONSHIPS):
        raise MessageError(f"Attribute {attr.id}: unsupported attribute relationship {type(rel).__name__}")
    return Component(
        id=attr.id,
        role="attribute",
        concept=_item_ref(attr.concept_identity),
        representation=representation(attr.local_representation),
        usage=_usage(attr.usage_status),
        attachment=attachment,
        related_to=related_to,
        group=group,
    )


# -- constraints -------------------------------------------------------------------------------------


def _constraint(obj: v21.ContentConstraint | v30.DataConstraint, head: dict[str, Any]) -> ContentConstraint:
    role = obj.role.role if obj.role else None
    attachments = sorted((_ref(a) for a in obj.content if type(a).__name__ in TYPE_BY_CLASS), key=lambda r: r.key)
    regions = [_cube_region(region) for region in obj.data_content_region]
    key_sets = []
    if obj.data_content_keys is not None:
        keys = [{c.id: str(v.value) for c, v in key.key_value.items()} for key in obj.data_content_keys.keys]
        key_sets.append(KeySet(include=bool(obj.data_content_keys.included), keys=keys))
    return ContentConstraint(
        **head,
        role="actual" if role == common.ConstraintRoleType.actual else "allowed",
        attachments=attachments,
        cube_regions=regions,
        key_sets=key_sets,
    )


def _cube_region(region: common.CubeRegion) -> CubeRegion:
    """Values per component, and the time range of a component given one instead of values."""
    members: dict[str, list[str]] = {}
    time_ranges: dict[str, TimeRange] = {}
    for component, selection in region.member.items():
        values = list(getattr(selection, "values", []))
        ranges = [v for v in values if isinstance(v, _TIME_RANGES)]
        if ranges:
            time_ranges[component.id] = _time_range(ranges[0])
        else:
            members[component.id] = [str(v.value) for v in values if hasattr(v, "value")]
    return CubeRegion(include=bool(region.included), members=members, time_ranges=time_ranges)


_TIME_RANGES = (v21.TimeRangeValue, v30.TimeRangeValue)
_BEFORE = (v21.BeforePeriod, v30.BeforePeriod)
_AFTER = (v21.AfterPeriod, v30.AfterPeriod)


def _time_range(value: v21.TimeRangeValue | v30.TimeRangeValue) -> TimeRange:
    """BeforePeriod → end only, AfterPeriod → start only, RangePeriod → its start and end."""
    if isinstance(value, _BEFORE):
        return TimeRange(end=_period(value.period), end_inclusive=_inclusive(value.is_inclusive))
    if isinstance(value, _AFTER):
        return TimeRange(start=_period(value.period), start_inclusive=_inclusive(value.is_inclusive))
    start, end = getattr(value, "start", None), getattr(value, "end", None)
    return TimeRange(
        start=_period(start.period) if start else None,
        end=_period(end.period) if end else None,
        start_inclusive=_inclusive(start.is_inclusive) if start else True,
        end_inclusive=_inclusive(end.is_inclusive) if end else True,
    )


def _period(period: object) -> str:
    """The period text our readers keep; sdmx1's own reader gives a datetime (``2015`` → 2015-01-01T00:00)."""
    if isinstance(period, datetime):
        midnight = period.tzinfo is None and period.time() == time()
        return period.date().isoformat() if midnight else period.isoformat()
    return str(period)


def _inclusive(value: object) -> bool:
    """``isInclusive``: a boolean from our readers, the attribute's text from sdmx1's own reader."""
    return value.strip().lower() in ("true", "1") if isinstance(value, str) else value is not False


# -- reference metadata structures -------------------------------------------------------------------


def _metadata_structure(msd: common.BaseMetadataStructureDefinition, head: dict[str, Any]) -> MetadataStructure:
    if isinstance(msd, v21.MetadataStructureDefinition):
        attrs: dict[str, common.MetadataAttribute] = {}
        for report in msd.report_structure.values():
            for a in report.components:
                if a.parent is None:
                    attrs.setdefault(a.id, a)
        targets = [
            _SDMX_CLASS.get(t.object_type.__name__, t.object_type.__name__)
            for target in msd.target.values()
            for t in target.components
            if isinstance(t, v21.IdentifiableObjectTarget) and t.object_type is not None
        ]
        return MetadataStructure(
            **head, attributes=[_metadata_attribute(a) for a in attrs.values()], targets=list(dict.fromkeys(targets))
        )
    components = msd.attributes.components if msd.attributes else []
    return MetadataStructure(**head, attributes=[_metadata_attribute(a) for a in components if a.parent is None])


def _metadata_attribute(attr: common.MetadataAttribute) -> MetadataAttribute:
    return MetadataAttribute(
        id=attr.id,
        concept=_item_ref(attr.concept_identity),
        representation=representation(attr.local_representation),
        min_occurs=1 if attr.min_occurs is None else attr.min_occurs,
        max_occurs=attr.max_occurs,
        is_presentational=bool(attr.is_presentational),
        children=[_metadata_attribute(c) for c in attr.child],
    )
