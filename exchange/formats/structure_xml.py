"""Streaming XML output shared by the SDMX-ML 2.1 and 3.0 structure writers.

:class:`XmlWriter` escapes text exactly once: ``&``, ``<``, ``>`` everywhere, quotes and whitespace
controls in attributes, and carriage returns as character references so that parsers keep them.
Characters XML 1.0 forbids (C0 controls other than tab, newline and carriage return) become U+FFFD.
:class:`StructureMlWriter` writes everything the two SDMX-ML versions write alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from exchange.formats.structure_message import (
    Header,
    StructureEntry,
    TextContext,
    component_urn,
    constraint_attachment,
    grouped,
    item_urn,
    names,
    region_key_values,
    scheme_items,
    text_format,
    time_range_bounds,
)
from exchange.structures.model import (
    Annotation,
    Component,
    Contact,
    ContentConstraint,
    DataStructure,
    Localised,
    Ref,
    Representation,
    TimeRange,
)

Attrs = Iterable[tuple[str, str | None]]
"""Attribute (name, value) pairs in output order; pairs whose value is None are skipped."""

_FORBIDDEN = {c: "\ufffd" for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))}
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;", **_FORBIDDEN})
_ATTR = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"} | _FORBIDDEN
)
_ORGANISATION_SCHEMES = ("agencyscheme", "dataproviderscheme")


class XmlWriter:
    """Accumulates an XML document as string fragments; :meth:`to_bytes` returns UTF-8."""

    def __init__(self) -> None:
        self._parts: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']

    def open(self, tag: str, attrs: Attrs = ()) -> None:
        """Write a start tag."""
        self._parts.append(f"<{tag}{_attributes(attrs)}>")

    def close(self, tag: str) -> None:
        """Write an end tag."""
        self._parts.append(f"</{tag}>")

    def leaf(self, tag: str, text: str, attrs: Attrs = ()) -> None:
        """Write an element holding only text."""
        self._parts.append(f"<{tag}{_attributes(attrs)}>{text.translate(_TEXT)}</{tag}>")

    def empty(self, tag: str, attrs: Attrs = ()) -> None:
        """Write an element without content."""
        self._parts.append(f"<{tag}{_attributes(attrs)}/>")

    def to_bytes(self) -> bytes:
        """The document so far, UTF-8 encoded (unpaired surrogates become ``?``)."""
        return "".join(self._parts).encode("utf-8", "replace")


def _attributes(attrs: Attrs) -> str:
    return "".join(f' {name}="{value.translate(_ATTR)}"' for name, value in attrs if value is not None)


def xml_bool(value: bool) -> str:
    """An xs:boolean literal."""
    return "true" if value else "false"


class StructureMlWriter(XmlWriter):
    """The parts of an SDMX-ML Structure message common to versions 2.1 and 3.0.

    Subclasses set the class attributes and implement the version-specific methods.
    """

    V3: bool
    NAMESPACES: Attrs
    ELEMENTS: dict[str, tuple[str, str]]
    """Artefact type → (container element, artefact element), in message order."""
    ITEM_ELEMENTS: dict[str, str]
    ATTACHMENTS: dict[str, str]
    """Constraint attachment kind → element."""
    KEY_VALUE_PREFIX: str
    """Namespace prefix of KeyValue/Value in key sets and cube regions."""

    def maintainable_attrs(self, entry: StructureEntry) -> Attrs:
        """Attributes of a maintainable artefact's element."""
        raise NotImplementedError

    def body(self, entry: StructureEntry) -> None:
        """Content of a fully written artefact after its names and descriptions."""
        raise NotImplementedError

    def stub_body(self, entry: StructureEntry) -> None:
        """Content the schema requires even in a stub (nothing by default)."""

    def reference(self, element: str, ref: Ref) -> None:
        """A reference to another artefact or to an item in one."""
        raise NotImplementedError

    def local_ref(self, element: str, local_id: str) -> None:
        """A reference to something inside the same artefact."""
        raise NotImplementedError

    # --- message -----------------------------------------------------------------------------------

    def message(self, entries: Sequence[StructureEntry], header: Header) -> bytes:
        """The whole ``mes:Structure`` message."""
        self.open("mes:Structure", self.NAMESPACES)
        self.header(header)
        groups = grouped(entries, tuple(self.ELEMENTS))
        if groups:
            self.open("mes:Structures")
            self.structures(groups)
            self.close("mes:Structures")
        self.close("mes:Structure")
        return self.to_bytes()

    def header(self, header: Header) -> None:
        self.open("mes:Header")
        self.leaf("mes:ID", header.id)
        self.leaf("mes:Test", xml_bool(header.test))
        self.leaf("mes:Prepared", header.prepared_text)
        self.empty("mes:Sender", [("id", header.sender)])
        self.close("mes:Header")

    def structures(self, groups: list[tuple[str, list[StructureEntry]]]) -> None:
        container = None
        for artefact_type, entries in groups:
            wanted, element = self.ELEMENTS[artefact_type]
            if wanted != container:
                if container:
                    self.close(container)
                self.open(wanted)
                container = wanted
            for entry in entries:
                self.artefact(element, entry)
        if container:
            self.close(container)

    def artefact(self, element: str, entry: StructureEntry) -> None:
        a = entry.artefact
        self.open(element, self.maintainable_attrs(entry))
        if entry.has_details:
            self.annotations(a.annotations)
        self.texts("com:Name", names(a.name, a.id))
        if entry.has_details:
            self.texts("com:Description", a.description)
        if entry.is_stub:
            self.stub_body(entry)
        else:
            self.body(entry)
        self.close(element)

    def is_partial_scheme(self, entry: StructureEntry) -> str | None:
        """``isPartial`` value of an item scheme written with only some of its items."""
        return "true" if entry.type in self.ITEM_ELEMENTS and entry.is_partial else None

    # --- items -------------------------------------------------------------------------------------

    def items(self, entry: StructureEntry) -> None:
        scheme = entry.ref
        element = self.ITEM_ELEMENTS[scheme.type]
        organisations = scheme.type in _ORGANISATION_SCHEMES
        for item, parent in scheme_items(entry):
            self.open(element, [("urn", item_urn(scheme, item.id, self.V3)), ("id", item.id)])
            self.annotations(item.annotations)
            self.texts("com:Name", names(item.name, item.id))
            self.texts("com:Description", item.description)
            if organisations:
                for contact in item.contacts:
                    self.contact(contact)
            else:
                if parent:
                    self.local_ref("str:Parent", parent)
                self.representation("str:CoreRepresentation", item.core_representation, "basic")
            self.close(element)

    def contact(self, contact: Contact) -> None:
        self.open("str:Contact")
        self.texts("com:Name", contact.name)
        self.texts("str:Department", contact.department)
        self.texts("str:Role", contact.role)
        for tag, values in (
            ("str:Telephone", contact.telephones),
            ("str:URI", contact.uris),
            ("str:Email", contact.emails),
        ):
            for value in values:
                self.leaf(tag, value)
        self.close("str:Contact")

    # --- data structure parts ----------------------------------------------------------------------

    def descriptor(self, dsd: DataStructure, descriptor: str) -> Attrs:
        """Attributes of a dimension, attribute or measure list."""
        return [("urn", component_urn(dsd, f"datastructure.{descriptor}", descriptor)), ("id", descriptor)]

    def group(self, dsd: DataStructure, group_id: str, dimensions: list[str]) -> None:
        urn = component_urn(dsd, "datastructure.GroupDimensionDescriptor", group_id)
        self.open("str:Group", [("urn", urn), ("id", group_id)])
        for dimension in dimensions:
            self.open("str:GroupDimension")
            self.local_ref("str:DimensionReference", dimension)
            self.close("str:GroupDimension")
        self.close("str:Group")

    def component(
        self, dsd: DataStructure, element: str, cls: str, component: Component, context: TextContext, extra: Attrs = ()
    ) -> None:
        """Open a component element and write its annotations, concept and representation."""
        urn = component_urn(dsd, f"datastructure.{cls}", component.id)
        self.open(element, [("urn", urn), ("id", component.id), *extra])
        self.annotations(component.annotations)
        self.reference("str:ConceptIdentity", component.concept)
        if context == "time":
            self.open("str:LocalRepresentation")
            self.text_format("str:TextFormat", component.representation, "time")
            self.close("str:LocalRepresentation")
        else:
            self.representation("str:LocalRepresentation", component.representation, context)

    # --- representations ---------------------------------------------------------------------------

    def representation(self, element: str, rep: Representation | None, context: TextContext) -> None:
        if rep is None or (rep.enumeration is None and rep.text_format is None):
            return
        self.open(element)
        if rep.enumeration:
            self.reference("str:Enumeration", rep.enumeration)
            if rep.text_format:
                self.text_format("str:EnumerationFormat", rep, "coded")
        else:
            self.text_format("str:TextFormat", rep, context)
        self.close(element)

    def text_format(self, element: str, rep: Representation | None, context: TextContext) -> None:
        text_type, facets = text_format(rep.text_format if rep else None, context, self.V3)
        self.empty(element, [("textType", text_type), *facets.items()])

    # --- constraints -------------------------------------------------------------------------------

    def constraint(self, cc: ContentConstraint) -> None:
        attachment = constraint_attachment(cc.attachments, tuple(self.ATTACHMENTS))
        if attachment:
            kind, refs = attachment
            self.open("str:ConstraintAttachment")
            for ref in refs:
                self.reference(self.ATTACHMENTS[kind], ref)
            self.close("str:ConstraintAttachment")
        for key_set in cc.key_sets:
            keys = [key for key in key_set.keys if key]
            if keys:
                self.open("str:DataKeySet", [("isIncluded", xml_bool(key_set.include))])
                for key in keys:
                    self.open("str:Key")
                    for component, value in key.items():
                        self.key_value(component, [value])
                    self.close("str:Key")
                self.close("str:DataKeySet")
        for region in cc.cube_regions:
            self.open("str:CubeRegion", [("include", xml_bool(region.include))])
            for component, selection in region_key_values(cc, region):
                self.key_value(component, selection)
            self.close("str:CubeRegion")

    def key_value(self, component: str, selection: list[str] | TimeRange) -> None:
        """A KeyValue with values, or with a TimeRange (``isInclusive`` always written: sdmx1 requires it)."""
        prefix = self.KEY_VALUE_PREFIX
        self.open(f"{prefix}:KeyValue", [("id", component)])
        if isinstance(selection, TimeRange):
            self.open(f"{prefix}:TimeRange")
            for element, period, inclusive in time_range_bounds(selection):
                self.leaf(f"{prefix}:{element}", period, [("isInclusive", xml_bool(inclusive))])
            self.close(f"{prefix}:TimeRange")
        else:
            for value in selection:
                self.leaf(f"{prefix}:Value", value)
        self.close(f"{prefix}:KeyValue")

    # --- common parts ------------------------------------------------------------------------------

    def texts(self, element: str, text: Localised) -> None:
        for lang, value in text.items():
            self.leaf(element, value, [("xml:lang", lang)])

    def annotations(self, annotations: list[Annotation]) -> None:
        if not annotations:
            return
        self.open("com:Annotations")
        for a in annotations:
            self.open("com:Annotation", [("id", a.id)])
            for element, value in (
                ("com:AnnotationTitle", a.title),
                ("com:AnnotationType", a.type),
                ("com:AnnotationURL", a.url),
            ):
                if value is not None:
                    self.leaf(element, value)
            self.texts("com:AnnotationText", a.text)
            self.close("com:Annotation")
        self.close("com:Annotations")
