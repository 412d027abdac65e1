"""Structure messages: what the four structure writers share, and the dispatcher that picks one.

Formats (see :data:`FORMATS`): SDMX-ML 2.1 and 3.0 Structure messages, SDMX-JSON 1.0 and 2.0 structure
messages. Each writer module (``structure_<format>``) exposes ``render(entries, header) -> bytes``.

Detail levels (SDMX REST ``detail``): ``full`` writes everything; ``stub`` only identification and name
(the artefact is flagged ``isExternalReference``); ``completestub`` adds description, annotations and
``isFinal``. Items of item schemes appear only with ``full``. ``StructureEntry.items`` restricts a scheme
to the given items and marks it ``isPartial`` (``detail=referencepartial``); parent links to items left
out are dropped. Content a syntax cannot express is left out (see each writer's docstring);
:class:`NotRepresentable` is raised when leaving it out would misrepresent the artefact.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from exchange.structures.model import (
    PACKAGE,
    Artefact,
    Component,
    ContentConstraint,
    CubeRegion,
    DataStructure,
    Item,
    ItemScheme,
    Localised,
    Ref,
    TextFormat,
    TimeRange,
)

FORMATS = {
    "ml21": "application/vnd.sdmx.structure+xml;version=2.1",
    "ml30": "application/vnd.sdmx.structure+xml;version=3.0.0",
    "json10": "application/vnd.sdmx.structure+json;version=1.0",
    "json20": "application/vnd.sdmx.structure+json;version=2.0.0",
}
"""Format name → media type of the structure message it produces."""

Detail = Literal["full", "stub", "completestub"]
TextContext = Literal["basic", "simple", "coded", "time"]
"""Which SDMX text-format type a representation must satisfy (they allow different types and facets)."""


_SDMX_ID = re.compile(r"[A-Za-z0-9_@$\-]+")


class NotRepresentable(ValueError):
    """The artefact cannot be expressed faithfully in the requested format."""


@dataclass(frozen=True)
class Header:
    """Message header; ``id`` and ``sender`` are SDMX ids, ``prepared`` must be timezone-aware."""

    id: str
    prepared: datetime
    sender: str = "LNOB"
    test: bool = False

    def __post_init__(self) -> None:
        if self.prepared.utcoffset() is None:
            raise ValueError("Header.prepared must be timezone-aware")
        for value in (self.id, self.sender):
            if not _SDMX_ID.fullmatch(value):
                raise ValueError(f"{value!r} is not an SDMX id ([A-Za-z0-9_@$-]+)")

    @property
    def prepared_text(self) -> str:
        """``prepared`` as an ISO 8601 / RFC 3339 timestamp with offset."""
        return self.prepared.isoformat(timespec="seconds")


@dataclass(frozen=True)
class StructureEntry:
    """One artefact to write, at a detail level, optionally restricted to some of its items."""

    artefact: Artefact
    detail: Detail = "full"
    items: frozenset[str] | None = None

    @property
    def type(self) -> str:
        """The artefact's type tag."""
        return artefact_type(self.artefact)

    @property
    def ref(self) -> Ref:
        """Reference to the artefact."""
        return artefact_ref(self.artefact)

    @property
    def is_stub(self) -> bool:
        """True for both stub kinds (the artefact is flagged as an external reference)."""
        return self.detail != "full"

    @property
    def has_details(self) -> bool:
        """True when description, annotations and isFinal are written."""
        return self.detail != "stub"

    @property
    def is_partial(self) -> bool:
        """True when an item scheme is written with only some of its items."""
        return self.items is not None or getattr(self.artefact, "is_partial", False)


def render_structures(fmt: str, entries: Sequence[StructureEntry], header: Header) -> bytes:
    """Render the artefacts of ``entries`` as one structure message in format ``fmt`` (a key of FORMATS)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown structure format {fmt!r}; expected one of {', '.join(FORMATS)}")
    writer = importlib.import_module(f"{__package__}.structure_{fmt}")
    return writer.render(entries, header)


def artefact_type(artefact: Artefact) -> str:
    """The artefact's type tag, fast (``Artefact.type`` runs msgspec type inspection on every call)."""
    return cast(str, type(artefact).__struct_config__.tag)


def artefact_ref(artefact: Artefact) -> Ref:
    """Reference to the artefact (fast equivalent of ``Artefact.ref``)."""
    return Ref(artefact_type(artefact), artefact.agency, artefact.id, artefact.version)


def grouped(entries: Sequence[StructureEntry], order: Sequence[str]) -> list[tuple[str, list[StructureEntry]]]:
    """Entries grouped by artefact type in ``order`` (types not in it are dropped), first copy of each."""
    seen: set[tuple[str, str, str, str]] = set()
    groups: dict[str, list[StructureEntry]] = {t: [] for t in order}
    for entry in entries:
        key = entry.ref.key
        if key in seen or key[0] not in groups:
            continue
        seen.add(key)
        groups[key[0]].append(entry)
    return [(t, group) for t, group in groups.items() if group]


def scheme_items(entry: StructureEntry) -> list[tuple[Item, str | None]]:
    """The items to write with the parent id to write for each (none for stubs)."""
    scheme = entry.artefact
    if entry.is_stub or not isinstance(scheme, ItemScheme):
        return []
    if entry.items is None:
        return [(item, item.parent) for item in scheme.items]
    kept = [item for item in scheme.items if item.id in entry.items]
    ids = {item.id for item in kept}
    return [(item, item.parent if item.parent in ids else None) for item in kept]


def names(text: Localised, fallback: str) -> Localised:
    """Localised text, or the id as English text when there is none (names are mandatory in SDMX)."""
    return text or {"en": fallback}


def best_text(text: Localised) -> str:
    """The English text, else the first one (SDMX-JSON ``name``/``description``)."""
    return text.get("en") or next(iter(text.values()))


# --- URNs -----------------------------------------------------------------------------------------

_URN_PREFIX = "urn:sdmx:org.sdmx.infomodel."


def _urn(cls: str, agency: str, id_: str, version: str, *path: str) -> str:
    """URN of class ``cls`` (``package.Class``) in maintainable ``agency:id(version)``, then ``path``."""
    tail = "".join(f".{p}" for p in path)
    return f"{_URN_PREFIX}{cls}={agency}:{id_}({version}){tail}"


def _maintainable_class(artefact_type: str, v3: bool) -> str:
    """``package.Class`` of a maintainable type (SDMX 3.0 renamed ContentConstraint to DataConstraint)."""
    if v3 and artefact_type == "contentconstraint":
        return "registry.DataConstraint"
    package, cls, _ = PACKAGE[artefact_type]
    return f"{package}.{cls}"


def ref_urn(ref: Ref, v3: bool) -> str:
    """URN of a referenced artefact, or of an item in it."""
    if ref.item is None:
        return _urn(_maintainable_class(ref.type, v3), ref.agency, ref.id, ref.version)
    package, _, item_cls = PACKAGE[ref.type]
    return _urn(f"{package}.{item_cls}", ref.agency, ref.id, ref.version, ref.item)


def artefact_urn(artefact: Artefact, v3: bool) -> str:
    """URN of a maintainable artefact."""
    return ref_urn(artefact_ref(artefact), v3)


def item_urn(scheme: Ref, item_id: str, v3: bool) -> str:
    """URN of an item of the referenced item scheme."""
    return ref_urn(Ref(scheme.type, scheme.agency, scheme.id, scheme.version, item_id), v3)


def component_urn(structure: Artefact, cls: str, *path: str) -> str:
    """URN of a component (``cls`` is ``package.Class``) of a data or metadata structure."""
    return _urn(cls, structure.agency, structure.id, structure.version, *path)


# --- metadata targets -----------------------------------------------------------------------------

_TARGET_CLASSES = {
    "Any": ("base", False),
    "Agency": ("base", True),
    "AgencyScheme": ("base", False),
    "DataProvider": ("base", True),
    "DataProviderScheme": ("base", False),
    "Category": ("categoryscheme", True),
    "CategoryScheme": ("categoryscheme", False),
    "Code": ("codelist", True),
    "Codelist": ("codelist", False),
    "Concept": ("conceptscheme", True),
    "ConceptScheme": ("conceptscheme", False),
    "Dataflow": ("datastructure", False),
    "DataStructure": ("datastructure", False),
    "Metadataflow": ("metadatastructure", False),
    "MetadataStructure": ("metadatastructure", False),
    "ProvisionAgreement": ("registry", False),
}


def target_class(target: str) -> str:
    """The SDMX class of a metadata target given as a class name or as a (wildcard) URN."""
    if target.startswith(_URN_PREFIX):
        return target[len(_URN_PREFIX) :].split("=", 1)[0].rsplit(".", 1)[-1]
    return target


def target_urn(target: str) -> str:
    """A metadata target as a (wildcard) URN: URNs pass through, a class name means any object of it."""
    if target.startswith(_URN_PREFIX):
        return target
    if target not in _TARGET_CLASSES:
        raise NotRepresentable(f"unknown metadata target class {target!r}")
    package, is_item = _TARGET_CLASSES[target]
    return f"{_URN_PREFIX}{package}.{target}=*:*(*){'.*' if is_item else ''}"


# --- constraint attachments -----------------------------------------------------------------------


def constraint_attachment(refs: Sequence[Ref], allowed: Sequence[str]) -> tuple[str, list[Ref]] | None:
    """The attachment a constraint can state: every reference of the first allowed kind.

    Kinds are artefact types, plus ``dataprovider`` for a data provider (at most one is written). SDMX
    allows only one kind of attachment per constraint.
    """
    for ref in refs:
        kind = "dataprovider" if ref.type == "dataproviderscheme" and ref.item else ref.type
        if kind not in allowed:
            continue
        same = [r for r in refs if r.type == ref.type and bool(r.item) == bool(ref.item)]
        return kind, same[:1] if kind == "dataprovider" else same
    return None


def check_cube_regions(constraint: ContentConstraint, syntax: str) -> None:
    """SDMX 3.0 syntaxes allow at most two cube regions (one included, one excluded)."""
    if len(constraint.cube_regions) > 2:
        raise NotRepresentable(f"{artefact_ref(constraint)}: {syntax} allows at most two cube regions")


def region_key_values(constraint: ContentConstraint, region: CubeRegion) -> list[tuple[str, list[str] | TimeRange]]:
    """The key values of a cube region, in output order: components with values, then time ranges.

    Empty value lists and time ranges without bounds select nothing and are left out. A component with both
    values and a time range raises :class:`NotRepresentable`: an SDMX key value holds one or the other.
    """
    ranges = {c: r for c, r in region.time_ranges.items() if r.start or r.end}
    both = [c for c, values in region.members.items() if values and c in ranges]
    if both:
        raise NotRepresentable(
            f"{artefact_ref(constraint)}: a cube region gives {both[0]} both values and a time range"
        )
    return [(c, values) for c, values in region.members.items() if values] + list(ranges.items())


def time_range_bounds(time_range: TimeRange) -> list[tuple[str, str, bool]]:
    """(SDMX-ML element, period, inclusive) of each bound of a time range, in schema order.

    Both bounds are a ``StartPeriod`` and an ``EndPeriod``; a start alone is an ``AfterPeriod``, an end alone
    a ``BeforePeriod``. SDMX-JSON uses the same names in lower camel case.
    """
    start, end = time_range.start, time_range.end
    if start and end:
        return [("StartPeriod", start, time_range.start_inclusive), ("EndPeriod", end, time_range.end_inclusive)]
    if start:
        return [("AfterPeriod", start, time_range.start_inclusive)]
    if end:
        return [("BeforePeriod", end, time_range.end_inclusive)]
    return []


# --- text formats ---------------------------------------------------------------------------------

_TIME_TYPES = frozenset(
    [
        "ObservationalTimePeriod",
        "StandardTimePeriod",
        "BasicTimePeriod",
        "GregorianTimePeriod",
        "GregorianYear",
        "GregorianYearMonth",
        "GregorianDay",
        "ReportingTimePeriod",
        "ReportingYear",
        "ReportingSemester",
        "ReportingTrimester",
        "ReportingQuarter",
        "ReportingMonth",
        "ReportingWeek",
        "ReportingDay",
        "DateTime",
        "TimeRange",
    ]
)
_CODE_TYPES = (_TIME_TYPES - {"DateTime", "TimeRange"}) | frozenset(
    [
        "String",
        "Alpha",
        "AlphaNumeric",
        "Numeric",
        "BigInteger",
        "Integer",
        "Long",
        "Short",
        "Boolean",
        "URI",
        "Count",
        "InclusiveValueRange",
        "ExclusiveValueRange",
        "Incremental",
        "Month",
        "MonthDay",
        "Day",
        "Duration",
    ]
)
_SIMPLE_TYPES = _CODE_TYPES | frozenset(["Decimal", "Float", "Double", "DateTime", "TimeRange", "Time"])
_FACETS = (
    "isSequence",
    "interval",
    "startValue",
    "endValue",
    "timeInterval",
    "startTime",
    "endTime",
    "minLength",
    "maxLength",
    "minValue",
    "maxValue",
    "decimals",
    "pattern",
    "isMultiLingual",
)
_NUMERIC_FACETS = frozenset({"interval", "startValue", "endValue", "minValue", "maxValue"})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_CONTEXT_FACETS = {
    "basic": frozenset(_FACETS),
    "simple": frozenset(_FACETS) - {"isMultiLingual"},
    "coded": frozenset(_FACETS) - {"isMultiLingual", "decimals"},
    "time": frozenset({"startTime", "endTime"}),
}


def text_format(fmt: TextFormat | None, context: TextContext, v3: bool) -> tuple[str | None, dict[str, str]]:
    """The data type and facets (SDMX-ML names, canonical order) a text format may state in ``context``.

    Types and facets the context does not allow are dropped (the schema default applies), as are
    fractional bounds of coded formats; the time dimension always gets a time type.
    """
    text_type = fmt.text_type if fmt else None
    if text_type not in _context_types(context, v3):
        text_type = "ObservationalTimePeriod" if context == "time" else None
    facets = fmt.facets if fmt else {}
    allowed = _CONTEXT_FACETS[context]
    kept = {f: facets[f] for f in _FACETS if f in facets and f in allowed}
    if context == "coded":  # coded formats take whole numbers only
        kept = {f: v for f, v in kept.items() if f not in _NUMERIC_FACETS or _INTEGER.fullmatch(v)}
    return text_type, kept


def _context_types(context: TextContext, v3: bool) -> frozenset[str]:
    if context == "time":
        return _TIME_TYPES
    if context == "coded":
        return _CODE_TYPES
    types = _SIMPLE_TYPES | {"GeospatialInformation"} if v3 else _SIMPLE_TYPES
    return types | {"XHTML"} if context == "basic" else types


# --- data structures ------------------------------------------------------------------------------

Relationship = Literal["dataset", "dimensions", "group", "observation"]


def attribute_relationship(attribute: Component, dsd: DataStructure) -> tuple[Relationship, list[str]]:
    """What a data attribute is attached to, with the dimension or group ids involved.

    Series attributes without explicit dimensions relate to all dimensions; attributes without an
    attachment are data set attributes.
    """
    if attribute.attachment == "observation":
        return "observation", []
    if attribute.attachment == "group":
        group = attribute.related_to[:1] or ([attribute.group] if attribute.group else [])
        return "group", group
    if attribute.attachment == "series":
        return "dimensions", attribute.related_to or [d.id for d in dsd.dimensions]
    return "dataset", []


def single_measure(dsd: DataStructure, syntax: str) -> Component:
    """The one measure an SDMX 2.1 syntax can state (its id must be OBS_VALUE)."""
    measures = dsd.measures
    if len(measures) != 1 or measures[0].id != "OBS_VALUE":
        found = ", ".join(m.id for m in measures) or "none"
        raise NotRepresentable(
            f"{artefact_ref(dsd)}: {syntax} needs exactly one measure, OBS_VALUE (found {found}); "
            "use an SDMX 3.0 format"
        )
    return measures[0]
