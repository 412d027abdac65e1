"""SDMX-ML 3.0 Structure message writer (validated against the 3.0.1 schemas).

References are URNs. Content constraints are written as DataConstraints with a role, measures as
Measures, metadata structures as a MetadataAttributeList (their targets belong to metadataflows in 3.0,
so they are left out). A metadataflow without targets gets the wildcard target ``base.Any=*:*(*)``
(the schema requires one); a representation map without codelists maps free text (``String``). Cube
regions and key sets list every component as a KeyValue (a time range as a KeyValue holding a TimeRange);
more than two cube regions (one included, one excluded) raise :class:`NotRepresentable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from exchange.formats.structure_message import (
    Header,
    StructureEntry,
    artefact_urn,
    attribute_relationship,
    check_cube_regions,
    component_urn,
    ref_urn,
    target_urn,
)
from exchange.formats.structure_xml import Attrs, StructureMlWriter, xml_bool
from exchange.structures.model import (
    Component,
    ContentConstraint,
    Dataflow,
    DataStructure,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Ref,
    RepresentationMap,
    StructureMap,
)

_ANY_TARGET = "Any"


def render(entries: Sequence[StructureEntry], header: Header) -> bytes:
    """Render ``entries`` as an SDMX-ML 3.0 ``mes:Structure`` message."""
    return _Writer().message(entries, header)


class _Writer(StructureMlWriter):
    V3 = True
    NAMESPACES = (
        ("xmlns:mes", "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message"),
        ("xmlns:str", "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/structure"),
        ("xmlns:com", "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/common"),
    )
    ELEMENTS = {  # the XSD allows any order; this is the order it lists them in
        "agencyscheme": ("str:AgencySchemes", "str:AgencyScheme"),
        "codelist": ("str:Codelists", "str:Codelist"),
        "conceptscheme": ("str:ConceptSchemes", "str:ConceptScheme"),
        "contentconstraint": ("str:DataConstraints", "str:DataConstraint"),
        "dataproviderscheme": ("str:DataProviderSchemes", "str:DataProviderScheme"),
        "datastructure": ("str:DataStructures", "str:DataStructure"),
        "dataflow": ("str:Dataflows", "str:Dataflow"),
        "metadataflow": ("str:Metadataflows", "str:Metadataflow"),
        "metadatastructure": ("str:MetadataStructures", "str:MetadataStructure"),
        "representationmap": ("str:RepresentationMaps", "str:RepresentationMap"),
        "structuremap": ("str:StructureMaps", "str:StructureMap"),
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
        "dataflow": "str:Dataflow",
    }
    KEY_VALUE_PREFIX = "str"

    def maintainable_attrs(self, entry: StructureEntry) -> Attrs:
        a = entry.artefact
        versioned = entry.type not in ("agencyscheme", "dataproviderscheme")  # version prohibited
        return [
            ("urn", artefact_urn(a, True)),
            ("id", a.id),
            ("agencyID", a.agency),
            ("version", a.version if versioned else None),
            ("isExternalReference", xml_bool(entry.is_stub)),
            ("isPartial", None if entry.is_stub else self.is_partial_scheme(entry)),
            ("role", a.role.capitalize() if isinstance(a, ContentConstraint) else None),
            ("validFrom", a.valid_from),
            ("validTo", a.valid_to),
        ]

    def body(self, entry: StructureEntry) -> None:
        a = entry.artefact
        if entry.type in self.ITEM_ELEMENTS:
            self.items(entry)
        elif isinstance(a, DataStructure):
            self.data_structure(a)
        elif isinstance(a, Dataflow):
            self.reference("str:Structure", a.structure)
        elif isinstance(a, ContentConstraint):
            check_cube_regions(a, "SDMX-ML 3.0")
            self.constraint(a)
        elif isinstance(a, MetadataStructure):
            self.metadata_structure(a)
        elif isinstance(a, Metadataflow):
            self.reference("str:Structure", a.structure)
            self.targets(a)
        elif isinstance(a, RepresentationMap):
            self.representation_map(a, mappings=True)
        elif isinstance(a, StructureMap):
            self.structure_map(a, component_maps=True)

    def stub_body(self, entry: StructureEntry) -> None:
        """Metadataflow targets and the sources and targets of maps are required even in stubs."""
        a = entry.artefact
        if isinstance(a, Metadataflow):
            self.targets(a)
        elif isinstance(a, RepresentationMap):
            self.representation_map(a, mappings=False)
        elif isinstance(a, StructureMap):
            self.structure_map(a, component_maps=False)

    def reference(self, element: str, ref: Ref) -> None:
        self.leaf(element, ref_urn(ref, True))

    def local_ref(self, element: str, local_id: str) -> None:
        self.leaf(element, local_id)

    # --- data structures ---------------------------------------------------------------------------

    def data_structure(self, dsd: DataStructure) -> None:
        self.open("str:DataStructureComponents")
        self.dimension_list(dsd)
        for group in dsd.groups:
            self.group(dsd, group.id, group.dimensions)
        if dsd.attributes:
            self.open("str:AttributeList", self.descriptor(dsd, "AttributeDescriptor"))
            for attribute in dsd.attributes:
                self.attribute(dsd, attribute)
            self.close("str:AttributeList")
        if dsd.measures:
            self.open("str:MeasureList", self.descriptor(dsd, "MeasureDescriptor"))
            for measure in dsd.measures:
                self.component(dsd, "str:Measure", "Measure", measure, "basic", [("usage", _usage(measure))])
                self.close("str:Measure")
            self.close("str:MeasureList")
        self.close("str:DataStructureComponents")

    def dimension_list(self, dsd: DataStructure) -> None:
        self.open("str:DimensionList", self.descriptor(dsd, "DimensionDescriptor"))
        for position, dimension in enumerate(dsd.dimensions, start=1):
            extra = [("position", str(dimension.position or position))]
            self.component(dsd, "str:Dimension", "Dimension", dimension, "simple", extra)
            self.close("str:Dimension")
        time = dsd.time_dimension
        if time:
            self.component(dsd, "str:TimeDimension", "TimeDimension", time, "time")
            self.close("str:TimeDimension")
        self.close("str:DimensionList")

    def attribute(self, dsd: DataStructure, attribute: Component) -> None:
        self.component(dsd, "str:Attribute", "DataAttribute", attribute, "basic", [("usage", _usage(attribute))])
        kind, ids = attribute_relationship(attribute, dsd)
        self.open("str:AttributeRelationship")
        if kind == "observation":
            self.empty("str:Observation")
        elif kind == "group":
            self.leaf("str:Group", ids[0])
        elif kind == "dimensions":
            for dimension in ids:
                self.leaf("str:Dimension", dimension)
        else:
            self.empty("str:Dataflow")
        self.close("str:AttributeRelationship")
        self.close("str:Attribute")

    # --- metadata structures -----------------------------------------------------------------------

    def metadata_structure(self, msd: MetadataStructure) -> None:
        if not msd.attributes:
            return
        self.open("str:MetadataStructureComponents")
        self.open("str:MetadataAttributeList", [("id", "MetadataAttributeDescriptor")])
        for attribute in msd.attributes:
            self.metadata_attribute(msd, attribute, ())
        self.close("str:MetadataAttributeList")
        self.close("str:MetadataStructureComponents")

    def metadata_attribute(self, msd: MetadataStructure, attribute: MetadataAttribute, path: tuple[str, ...]) -> None:
        path = (*path, attribute.id)
        self.open(
            "str:MetadataAttribute",
            [
                ("urn", component_urn(msd, "metadatastructure.MetadataAttribute", *path)),
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

    def targets(self, mdf: Metadataflow) -> None:
        for target in mdf.targets or [_ANY_TARGET]:
            self.leaf("str:Target", target_urn(target))

    # --- mappings ----------------------------------------------------------------------------------

    def representation_map(self, rm: RepresentationMap, mappings: bool) -> None:
        for element, refs in (("str:Source", rm.sources), ("str:Target", rm.targets)):
            if refs:
                for ref in refs:
                    self.reference(f"{element}Codelist", ref)
            else:
                self.leaf(f"{element}DataType", "String")
        if not mappings:
            return
        for mapping in rm.mappings:
            self.open("str:RepresentationMapping")
            for value in mapping.source:
                self.leaf("str:SourceValue", value)
            for value in mapping.target:
                self.leaf("str:TargetValue", value)
            self.close("str:RepresentationMapping")

    def structure_map(self, sm: StructureMap, component_maps: bool) -> None:
        self.reference("str:Source", sm.source)
        self.reference("str:Target", sm.target)
        if not component_maps:
            return
        for cm in sm.component_maps:
            self.open("str:ComponentMap")
            for element, ids in (("str:Source", cm.source), ("str:Target", cm.target)):
                for component in ids:
                    self.leaf(element, component)
            if cm.representation_map:
                self.reference("str:RepresentationMap", cm.representation_map)
            self.close("str:ComponentMap")


def _usage(component: Component) -> str | None:
    return {"mandatory": "mandatory", "conditional": "optional"}.get(component.usage or "")
