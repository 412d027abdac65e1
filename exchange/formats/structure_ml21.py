"""SDMX-ML 2.1 Structure message writer.

References are ``<Ref>`` elements. What SDMX-ML 2.1 cannot hold is left out: structure and representation
maps (a 2.1 StructureSet maps one component to one component with inline value maps, so the SDMX 3.0
mappings would be distorted) and metadataflow targets. Metadata structure targets become
IdentifiableObjectTargets of one metadata target ``TARGET`` used by the report structure ``REPORT``.
Cube regions and key sets list every component as a KeyValue (a time range as a KeyValue holding a
TimeRange). A data structure must have exactly one measure, OBS_VALUE (else :class:`NotRepresentable`).
"""

from __future__ import annotations

from collections.abc import Sequence

from exchange.formats.structure_message import (
    Header,
    StructureEntry,
    artefact_urn,
    attribute_relationship,
    component_urn,
    single_measure,
    target_class,
)
from exchange.formats.structure_xml import Attrs, StructureMlWriter, xml_bool
from exchange.structures.model import (
    PACKAGE,
    Component,
    ContentConstraint,
    Dataflow,
    DataStructure,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Ref,
)

_TARGET = "TARGET"
_REPORT = "REPORT"


def render(entries: Sequence[StructureEntry], header: Header) -> bytes:
    """Render ``entries`` as an SDMX-ML 2.1 ``mes:Structure`` message."""
    return _Writer().message(entries, header)


class _Writer(StructureMlWriter):
    V3 = False
    NAMESPACES = (
        ("xmlns:mes", "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"),
        ("xmlns:str", "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"),
        ("xmlns:com", "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"),
    )
    ELEMENTS = {  # in the order of the XSD sequence
        "agencyscheme": ("str:OrganisationSchemes", "str:AgencyScheme"),
        "dataproviderscheme": ("str:OrganisationSchemes", "str:DataProviderScheme"),
        "dataflow": ("str:Dataflows", "str:Dataflow"),
        "metadataflow": ("str:Metadataflows", "str:Metadataflow"),
        "codelist": ("str:Codelists", "str:Codelist"),
        "conceptscheme": ("str:Concepts", "str:ConceptScheme"),
        "metadatastructure": ("str:MetadataStructures", "str:MetadataStructure"),
        "datastructure": ("str:DataStructures", "str:DataStructure"),
        "contentconstraint": ("str:Constraints", "str:ContentConstraint"),
    }
    ITEM_ELEMENTS = {
        "agencyscheme": "str:Agency",
        "dataproviderscheme": "str:DataProvider",
        "codelist": "str:Code",
        "conceptscheme": "str:Concept",
    }
    ATTACHMENTS = {
        "dataprovider": "str:DataProvider",
        "datastructure": "str:DataStructure",
        "metadatastructure": "str:MetadataStructure",
        "dataflow": "str:Dataflow",
        "metadataflow": "str:Metadataflow",
    }
    KEY_VALUE_PREFIX = "com"

    def maintainable_attrs(self, entry: StructureEntry) -> Attrs:
        a = entry.artefact
        final = entry.has_details and entry.type not in ("agencyscheme", "dataproviderscheme")  # fixed false
        return [
            ("urn", artefact_urn(a, False)),
            ("id", a.id),
            ("agencyID", a.agency),
            ("version", a.version),
            ("isFinal", xml_bool(a.is_final) if final else None),
            ("isExternalReference", xml_bool(entry.is_stub)),
            ("isPartial", None if entry.is_stub else self.is_partial_scheme(entry)),
            ("type", a.role.capitalize() if isinstance(a, ContentConstraint) else None),
            ("validFrom", a.valid_from),
            ("validTo", a.valid_to),
        ]

    def body(self, entry: StructureEntry) -> None:
        a = entry.artefact
        if entry.type in self.ITEM_ELEMENTS:
            self.items(entry)
        elif isinstance(a, DataStructure):
            self.data_structure(a)
        elif isinstance(a, Dataflow | Metadataflow):
            self.reference("str:Structure", a.structure)
        elif isinstance(a, ContentConstraint):
            self.constraint(a)
        elif isinstance(a, MetadataStructure):
            self.metadata_structure(a)

    def reference(self, element: str, ref: Ref) -> None:
        package, cls, item_cls = PACKAGE[ref.type]
        if ref.item is None:
            attrs = [("agencyID", ref.agency), ("id", ref.id), ("version", ref.version)]
        else:
            attrs = [
                ("agencyID", ref.agency),
                ("maintainableParentID", ref.id),
                ("maintainableParentVersion", ref.version),
                ("id", ref.item),
            ]
            cls = item_cls or cls
        self.open(element)
        self.empty("Ref", [*attrs, ("class", cls), ("package", package)])
        self.close(element)

    def local_ref(self, element: str, local_id: str) -> None:
        self.open(element)
        self.empty("Ref", [("id", local_id)])
        self.close(element)

    # --- data structures ---------------------------------------------------------------------------

    def data_structure(self, dsd: DataStructure) -> None:
        measure = single_measure(dsd, "SDMX-ML 2.1")
        self.open("str:DataStructureComponents")
        self.dimension_list(dsd)
        for group in dsd.groups:
            self.group(dsd, group.id, group.dimensions)
        if dsd.attributes:
            self.open("str:AttributeList", self.descriptor(dsd, "AttributeDescriptor"))
            for attribute in dsd.attributes:
                self.attribute(dsd, attribute)
            self.close("str:AttributeList")
        self.open("str:MeasureList", self.descriptor(dsd, "MeasureDescriptor"))
        self.component(dsd, "str:PrimaryMeasure", "PrimaryMeasure", measure, "simple")
        self.close("str:PrimaryMeasure")
        self.close("str:MeasureList")
        self.close("str:DataStructureComponents")

    def dimension_list(self, dsd: DataStructure) -> None:
        self.open("str:DimensionList", self.descriptor(dsd, "DimensionDescriptor"))
        dimensions = dsd.dimensions
        for position, dimension in enumerate(dimensions, start=1):
            extra = [("position", str(dimension.position or position))]
            self.component(dsd, "str:Dimension", "Dimension", dimension, "simple", extra)
            self.close("str:Dimension")
        time = dsd.time_dimension
        if time:
            extra = [("position", str(len(dimensions) + 1))]
            self.component(dsd, "str:TimeDimension", "TimeDimension", time, "time", extra)
            self.close("str:TimeDimension")
        self.close("str:DimensionList")

    def attribute(self, dsd: DataStructure, attribute: Component) -> None:
        status = "Mandatory" if attribute.usage == "mandatory" else "Conditional"
        self.component(dsd, "str:Attribute", "DataAttribute", attribute, "simple", [("assignmentStatus", status)])
        kind, ids = attribute_relationship(attribute, dsd)
        self.open("str:AttributeRelationship")
        if kind == "observation":
            self.local_ref("str:PrimaryMeasure", "OBS_VALUE")
        elif kind == "group":
            self.local_ref("str:Group", ids[0])
        elif kind == "dimensions":
            for dimension in ids:
                self.local_ref("str:Dimension", dimension)
            if attribute.group:
                self.local_ref("str:AttachmentGroup", attribute.group)
        else:
            self.empty("str:None")
        self.close("str:AttributeRelationship")
        self.close("str:Attribute")

    # --- metadata structures -----------------------------------------------------------------------

    def metadata_structure(self, msd: MetadataStructure) -> None:
        if not msd.attributes:
            return
        self.open("str:MetadataStructureComponents")
        self.open("str:MetadataTarget", [("urn", _msd_urn(msd, "MetadataTarget", _TARGET)), ("id", _TARGET)])
        for target in msd.targets or ["Any"]:
            cls = target_class(target)
            urn = _msd_urn(msd, "IdentifiableObjectTarget", _TARGET, cls)
            self.open("str:IdentifiableObjectTarget", [("urn", urn), ("id", cls), ("objectType", cls)])
            self.open("str:LocalRepresentation")
            self.empty("str:TextFormat", [("textType", "IdentifiableReference")])
            self.close("str:LocalRepresentation")
            self.close("str:IdentifiableObjectTarget")
        self.close("str:MetadataTarget")
        self.open("str:ReportStructure", [("urn", _msd_urn(msd, "ReportStructure", _REPORT)), ("id", _REPORT)])
        for attribute in msd.attributes:
            self.metadata_attribute(msd, attribute, (_REPORT,))
        self.local_ref("str:MetadataTarget", _TARGET)
        self.close("str:ReportStructure")
        self.close("str:MetadataStructureComponents")

    def metadata_attribute(self, msd: MetadataStructure, attribute: MetadataAttribute, path: tuple[str, ...]) -> None:
        path = (*path, attribute.id)
        self.open(
            "str:MetadataAttribute",
            [
                ("urn", _msd_urn(msd, "MetadataAttribute", *path)),
                ("id", attribute.id),
                ("minOccurs", str(attribute.min_occurs)),
                ("maxOccurs", "unbounded" if attribute.max_occurs is None else str(attribute.max_occurs)),
                ("isPresentational", xml_bool(attribute.is_presentational)),
            ],
        )
        self.reference("str:ConceptIdentity", attribute.concept)
        self.representation("str:LocalRepresentation", attribute.representation, "basic")
        for child in attribute.children:
            self.metadata_attribute(msd, child, path)
        self.close("str:MetadataAttribute")


def _msd_urn(msd: MetadataStructure, cls: str, *path: str) -> str:
    return component_urn(msd, f"metadatastructure.{cls}", *path)
