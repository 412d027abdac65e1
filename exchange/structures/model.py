"""The service's own SDMX structure model.

A small, serialisable subset of the SDMX information model: exactly what the registry stores, what the
writers render and what validation needs. Artefacts are read from SDMX messages by ``readers`` (sdmx1 and
pysdmx do the parsing) and stored as JSON (``msgspec``) in the database.
"""

from __future__ import annotations

from typing import Literal

import msgspec

Localised = dict[str, str]
"""Text per language, e.g. ``{"en": "Sex"}``."""

ARTEFACT_TYPES = (
    "agencyscheme",
    "dataproviderscheme",
    "codelist",
    "conceptscheme",
    "datastructure",
    "dataflow",
    "contentconstraint",
    "metadatastructure",
    "metadataflow",
    "structuremap",
    "representationmap",
)
ITEM_SCHEME_TYPES = ("agencyscheme", "dataproviderscheme", "codelist", "conceptscheme")

# SDMX information-model packages and classes, used in URNs and references.
PACKAGE = {
    "agencyscheme": ("base", "AgencyScheme", "Agency"),
    "dataproviderscheme": ("base", "DataProviderScheme", "DataProvider"),
    "codelist": ("codelist", "Codelist", "Code"),
    "conceptscheme": ("conceptscheme", "ConceptScheme", "Concept"),
    "datastructure": ("datastructure", "DataStructure", None),
    "dataflow": ("datastructure", "Dataflow", None),
    "contentconstraint": ("registry", "ContentConstraint", None),
    "metadatastructure": ("metadatastructure", "MetadataStructure", None),
    "metadataflow": ("metadatastructure", "Metadataflow", None),
    "structuremap": ("structuremapping", "StructureMap", None),
    "representationmap": ("structuremapping", "RepresentationMap", None),
}


class Ref(msgspec.Struct, frozen=True, omit_defaults=True):
    """Reference to a maintainable artefact, or to an item in one when ``item`` is set."""

    type: str
    agency: str
    id: str
    version: str = "1.0"
    item: str | None = None

    @property
    def maintainable(self) -> Ref:
        """The referenced maintainable artefact (drops ``item``)."""
        return Ref(self.type, self.agency, self.id, self.version) if self.item else self

    @property
    def key(self) -> tuple[str, str, str, str]:
        """(type, agency, id, version) of the maintainable artefact."""
        return (self.type, self.agency, self.id, self.version)

    @property
    def urn(self) -> str:
        """The SDMX URN of the artefact or item."""
        package, cls, item_cls = PACKAGE[self.type]
        base = f"{self.agency}:{self.id}({self.version})"
        if self.item is None:
            return f"urn:sdmx:org.sdmx.infomodel.{package}.{cls}={base}"
        return f"urn:sdmx:org.sdmx.infomodel.{package}.{item_cls}={base}.{self.item}"

    def __str__(self) -> str:
        text = f"{self.agency}:{self.id}({self.version})"
        return f"{text}.{self.item}" if self.item else text


class Annotation(msgspec.Struct, omit_defaults=True):
    id: str | None = None
    title: str | None = None
    type: str | None = None
    url: str | None = None
    text: Localised = {}


class Contact(msgspec.Struct, omit_defaults=True):
    name: Localised = {}
    department: Localised = {}
    role: Localised = {}
    telephones: list[str] = []
    emails: list[str] = []
    uris: list[str] = []


class TextFormat(msgspec.Struct, omit_defaults=True):
    """Non-enumerated representation: an SDMX data type plus facets (``maxLength``, ``pattern``…)."""

    text_type: str | None = None
    facets: dict[str, str] = {}


class Representation(msgspec.Struct, omit_defaults=True):
    """Either an enumeration (a codelist reference) or a text format, or both (facets on codes)."""

    enumeration: Ref | None = None
    text_format: TextFormat | None = None


class Item(msgspec.Struct, omit_defaults=True):
    """A code, concept, agency or data provider."""

    id: str
    name: Localised = {}
    description: Localised = {}
    annotations: list[Annotation] = []
    parent: str | None = None
    core_representation: Representation | None = None
    contacts: list[Contact] = []


class Component(msgspec.Struct, omit_defaults=True):
    """A dimension, time dimension, attribute or measure of a data structure.

    ``attachment`` (attributes only) is ``dataset``, ``series``, ``group`` or ``observation``;
    ``related_to`` lists the dimensions of a series/dimension-group attachment, or the group id.
    """

    id: str
    role: Literal["dimension", "time_dimension", "attribute", "measure"]
    concept: Ref
    representation: Representation | None = None
    position: int | None = None
    usage: Literal["mandatory", "conditional"] | None = None
    attachment: Literal["dataset", "series", "group", "observation"] | None = None
    related_to: list[str] = []
    group: str | None = None
    annotations: list[Annotation] = []


class Group(msgspec.Struct, omit_defaults=True):
    id: str
    dimensions: list[str] = []


class MetadataAttribute(msgspec.Struct, omit_defaults=True):
    id: str
    concept: Ref
    representation: Representation | None = None
    min_occurs: int = 1
    max_occurs: int | None = 1
    is_presentational: bool = False
    children: list[MetadataAttribute] = []


class TimeRange(msgspec.Struct, omit_defaults=True):
    """A range of time periods in a cube region (SDMX ``TimeRange``).

    ``start`` only is an SDMX ``AfterPeriod``, ``end`` only a ``BeforePeriod``, both a ``StartPeriod`` and
    ``EndPeriod``. Periods are SDMX time period strings (``2015``, ``2015-Q1``, ``2015-01-31``…), kept as given;
    each bound is included in the range unless its ``*_inclusive`` flag is false.
    """

    start: str | None = None
    end: str | None = None
    start_inclusive: bool = True
    end_inclusive: bool = True


class CubeRegion(msgspec.Struct, omit_defaults=True):
    """Allowed (``include``) or excluded values per component, and time ranges per (time) component.

    A component has either values in ``members`` or a range in ``time_ranges`` (normally ``TIME_PERIOD``),
    not both: SDMX gives a cube region key value either distinct values or one time range.
    """

    include: bool = True
    members: dict[str, list[str]] = {}
    time_ranges: dict[str, TimeRange] = {}


class KeySet(msgspec.Struct, omit_defaults=True):
    include: bool = True
    keys: list[dict[str, str]] = []


class ValueMapping(msgspec.Struct, omit_defaults=True):
    """One row of a representation map: source values → target values."""

    source: list[str]
    target: list[str]


class Artefact(msgspec.Struct, tag_field="type", omit_defaults=True, kw_only=True):
    """Common part of every maintainable artefact."""

    agency: str
    id: str
    version: str = "1.0"
    name: Localised = {}
    description: Localised = {}
    annotations: list[Annotation] = []
    is_final: bool = False
    valid_from: str | None = None
    valid_to: str | None = None

    @property
    def type(self) -> str:
        return type(self).__struct_config__.tag  # type: ignore[return-value]

    @property
    def ref(self) -> Ref:
        return Ref(self.type, self.agency, self.id, self.version)

    @property
    def urn(self) -> str:
        return self.ref.urn

    def references(self) -> list[Ref]:
        """Maintainable artefacts this one refers to (its children in SDMX REST terms)."""
        return []


class ItemScheme(Artefact, kw_only=True):
    items: list[Item] = []
    is_partial: bool = False

    def item(self, item_id: str) -> Item | None:
        return next((i for i in self.items if i.id == item_id), None)

    def references(self) -> list[Ref]:
        refs = [i.core_representation.enumeration for i in self.items if i.core_representation]
        return _unique([r.maintainable for r in refs if r is not None])


class AgencyScheme(ItemScheme, tag="agencyscheme", kw_only=True):
    pass


class DataProviderScheme(ItemScheme, tag="dataproviderscheme", kw_only=True):
    pass


class Codelist(ItemScheme, tag="codelist", kw_only=True):
    pass


class ConceptScheme(ItemScheme, tag="conceptscheme", kw_only=True):
    pass


class DataStructure(Artefact, tag="datastructure", kw_only=True):
    components: list[Component] = []
    groups: list[Group] = []

    @property
    def dimensions(self) -> list[Component]:
        """Dimensions in key order (excluding the time dimension)."""
        return sorted((c for c in self.components if c.role == "dimension"), key=lambda c: c.position or 0)

    @property
    def time_dimension(self) -> Component | None:
        return next((c for c in self.components if c.role == "time_dimension"), None)

    @property
    def attributes(self) -> list[Component]:
        return [c for c in self.components if c.role == "attribute"]

    @property
    def measures(self) -> list[Component]:
        return [c for c in self.components if c.role == "measure"]

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.components if c.id == component_id), None)

    def references(self) -> list[Ref]:
        refs: list[Ref] = []
        for c in self.components:
            refs.append(c.concept.maintainable)
            if c.representation and c.representation.enumeration:
                refs.append(c.representation.enumeration.maintainable)
        return _unique(refs)


class Dataflow(Artefact, tag="dataflow", kw_only=True):
    structure: Ref

    def references(self) -> list[Ref]:
        return [self.structure]


class ContentConstraint(Artefact, tag="contentconstraint", kw_only=True):
    role: Literal["allowed", "actual"] = "allowed"
    attachments: list[Ref] = []
    cube_regions: list[CubeRegion] = []
    key_sets: list[KeySet] = []

    def references(self) -> list[Ref]:
        return _unique([r.maintainable for r in self.attachments])


class MetadataStructure(Artefact, tag="metadatastructure", kw_only=True):
    attributes: list[MetadataAttribute] = []
    targets: list[str] = []
    """Identifiable artefact types the metadata may target (e.g. ``Dataflow``)."""

    def references(self) -> list[Ref]:
        refs: list[Ref] = []

        def walk(attrs: list[MetadataAttribute]) -> None:
            for a in attrs:
                refs.append(a.concept.maintainable)
                if a.representation and a.representation.enumeration:
                    refs.append(a.representation.enumeration.maintainable)
                walk(a.children)

        walk(self.attributes)
        return _unique(refs)


class Metadataflow(Artefact, tag="metadataflow", kw_only=True):
    structure: Ref
    targets: list[str] = []

    def references(self) -> list[Ref]:
        return [self.structure]


class RepresentationMap(Artefact, tag="representationmap", kw_only=True):
    sources: list[Ref] = []
    targets: list[Ref] = []
    mappings: list[ValueMapping] = []

    def references(self) -> list[Ref]:
        return _unique(self.sources + self.targets)


class ComponentMap(msgspec.Struct, omit_defaults=True):
    source: list[str]
    target: list[str]
    representation_map: Ref | None = None


class StructureMap(Artefact, tag="structuremap", kw_only=True):
    source: Ref
    target: Ref
    component_maps: list[ComponentMap] = []

    def references(self) -> list[Ref]:
        refs = [self.source, self.target]
        refs += [m.representation_map for m in self.component_maps if m.representation_map]
        return _unique(refs)


AnyArtefact = (
    AgencyScheme
    | DataProviderScheme
    | Codelist
    | ConceptScheme
    | DataStructure
    | Dataflow
    | ContentConstraint
    | MetadataStructure
    | Metadataflow
    | RepresentationMap
    | StructureMap
)

_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(AnyArtefact)


def to_json(artefact: Artefact) -> bytes:
    """Serialise an artefact for storage."""
    return _encoder.encode(artefact)


def from_json(data: bytes | str) -> Artefact:
    """Inverse of :func:`to_json`."""
    return _decoder.decode(data)


def _unique(refs: list[Ref]) -> list[Ref]:
    return list(dict.fromkeys(refs))
