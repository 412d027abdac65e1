"""Structure readers: SDMX structure messages → our structure model.

:func:`read_structures` sniffs the format of an uploaded or bundled structure message:

- SDMX-ML 2.1 ``Structure`` messages are parsed by sdmx1;
- SDMX-ML 3.0 ``Structure`` messages are parsed by sdmx1 too, except the containers sdmx1 cannot read
  (``RepresentationMaps``, ``StructureMaps``, ``Metadataflows``… or any container it fails on), which
  fall back to pysdmx;
- SDMX-JSON 2.0 structure messages are read by :mod:`.from_json`.

Every XML input passes :func:`reject_unsafe_xml` and our safe lxml parser first; sdmx1 is fed events
from a parser that resolves no entities and never touches the network. The parsed tree is also used to
restore what the libraries lose or misread: document order of items (sdmx1 reorders them by hierarchy
and adds agencies it meets in references), ``isPartial``, attribute usage in 3.0, constraint role and
``include``/``isIncluded`` flags (sdmx1 reads ``"false"`` as true), ``isPresentational``/``minOccurs``/
``maxOccurs`` of metadata attributes, and (for pysdmx) multilingual texts, annotations and parents.
Artefacts sdmx1 silently loses make the read fail rather than disappear.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from typing import Literal, cast

import msgspec
from lxml import etree
from sdmx.message import StructureMessage

from exchange.formats.records import MessageError
from exchange.formats.xml_safety import parse_xml, reject_unsafe_xml
from exchange.structures import from_sdmx1
from exchange.structures._sdmx1_readers import Reader21, Reader30
from exchange.structures.from_json import read_json
from exchange.structures.model import (
    Artefact,
    ContentConstraint,
    DataStructure,
    ItemScheme,
    MetadataAttribute,
    MetadataStructure,
)
from exchange.structures.urns import TYPE_BY_CLASS

_MESSAGE_NS = {
    "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message": "2.1",
    "http://www.sdmx.org/resources/sdmxml/schemas/v3_0/message": "3.0",
}
_OTHER_MESSAGES = {
    "GenericData": "an SDMX data message",
    "StructureSpecificData": "an SDMX data message",
    "GenericTimeSeriesData": "an SDMX data message",
    "StructureSpecificTimeSeriesData": "an SDMX data message",
    "GenericMetadata": "an SDMX reference metadata message",
    "StructureSpecificMetadata": "an SDMX reference metadata message",
    "Error": "an SDMX error message",
    "RegistryInterface": "an SDMX registry interface message",
}
_DEPENDENCY_ORDER = {
    name: i
    for i, name in enumerate(
        [
            "AgencySchemes",
            "DataProviderSchemes",
            "Codelists",
            "ValueLists",
            "ConceptSchemes",
            "DataStructures",
            "MetadataStructures",
            "Dataflows",
            "Metadataflows",
            "DataConstraints",
        ]
    )
}
_ITEM_TAGS = ("Agency", "DataProvider", "Code", "Concept")
_SNIFF_SKIP = b"\xef\xbb\xbf \t\r\n"

Key = tuple[str, str, str, str]


def read_structures(data: bytes) -> list[Artefact]:
    """Read every supported artefact of an SDMX-ML 2.1/3.0 or SDMX-JSON 2.0 structure message.

    Raises :class:`MessageError` for anything that is not a readable structure message: unknown format,
    malformed XML or JSON, DTD/entity declarations, data or metadata messages.
    """
    body = data.lstrip(_SNIFF_SKIP)  # tolerate a BOM or blank lines before the document
    if body.startswith(b"<"):
        return _read_xml(body)
    if body.startswith((b"{", b"[")):
        return read_json(body)
    raise MessageError("Unknown format: expected an SDMX-ML (XML) or SDMX-JSON structure message.")


def _read_xml(data: bytes) -> list[Artefact]:
    reject_unsafe_xml(data)
    root = parse_xml(data)
    qname = etree.QName(root)
    version = _MESSAGE_NS.get(qname.namespace or "")
    if qname.localname != "Structure" or version is None:
        what = _OTHER_MESSAGES.get(qname.localname, f"a <{qname.localname}> document")
        raise MessageError(
            f"Not an SDMX-ML 2.1 or 3.0 structure message: the document is {what} "
            f"(namespace {qname.namespace or 'none'})."
        )
    structures = root.find(f"{{{qname.namespace}}}Structures")
    containers = [c for c in structures if isinstance(c.tag, str)] if structures is not None else []
    elements = dict(_maintainable_elements(containers))
    if version == "2.1":
        try:
            artefacts = from_sdmx1.convert_message(_run_sdmx1(data, Reader21), sdmx3=False)
        except MessageError:
            raise
        except Exception as exc:
            raise MessageError(f"Cannot read the SDMX-ML 2.1 structure message: {exc}") from exc
    else:
        artefacts = _read_sdmx30(root, structures, containers)
    produced = {_key(a) for a in artefacts}
    missing = [
        f"{key[0]} {key[1]}:{key[2]}({key[3]})"
        for key, element in elements.items()
        if key not in produced and element.get("isExternalReference") != "true"
    ]
    if missing:
        raise MessageError(f"Could not read these artefacts of the structure message: {', '.join(missing)}")
    order = {key: i for i, key in enumerate(elements)}
    artefacts.sort(key=lambda a: order.get(_key(a), len(order)))
    return [_restore_from_xml(a, elements.get(_key(a))) for a in artefacts]


def _read_sdmx30(
    root: etree._Element, structures: etree._Element | None, containers: list[etree._Element]
) -> list[Artefact]:
    """sdmx1 for the containers it reads, pysdmx for the others (whole containers).

    sdmx1 loses an item scheme that is referenced before it appears (SDMX-ML 3.0 allows any container
    order), so its containers are put in dependency order first.
    """
    readable = sorted(
        (c for c in containers if Reader30.handles(c.tag)),
        key=lambda c: _DEPENDENCY_ORDER.get(etree.QName(c).localname, len(_DEPENDENCY_ORDER)),
    )
    fallback = [c for c in containers if not Reader30.handles(c.tag)]
    artefacts: list[Artefact] = []
    try:
        artefacts += _sdmx1_30(_subdocument(root, structures, readable, for_sdmx1=True))
    except Exception:
        # Retry container by container so that only the ones sdmx1 fails on go to pysdmx.
        for container in readable:
            try:
                artefacts += _sdmx1_30(_subdocument(root, structures, [container], for_sdmx1=True))
            except Exception:
                fallback.append(container)
    if fallback:
        from exchange.structures.from_pysdmx import read_pysdmx  # only needed for these containers

        done = {_key(a) for a in artefacts}
        artefacts += [a for a in read_pysdmx(_subdocument(root, structures, fallback)) if _key(a) not in done]
    return artefacts


def _sdmx1_30(data: bytes) -> list[Artefact]:
    return from_sdmx1.convert_message(_run_sdmx1(data, Reader30), sdmx3=True)


def _measure_relationships_as_observation(doc: etree._Element) -> None:
    """Rewrite ``<str:MeasureRelationship>`` (sdmx1 cannot read it) as what it means for us: an attribute
    attached to observations."""
    for relationship in list(doc.iter("{*}MeasureRelationship")):
        attribute = relationship.getparent()
        attribute.remove(relationship)
        attachment = attribute.find("{*}AttributeRelationship")
        if attachment is not None:
            attachment.clear()
            etree.SubElement(attachment, etree.QName(etree.QName(attachment).namespace, "Observation"))


def _run_sdmx1(data: bytes, reader: type[Reader21] | type[Reader30]) -> StructureMessage:
    events = etree.iterparse(
        io.BytesIO(data),
        events=("start", "end"),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    return cast(StructureMessage, reader().convert(None, _events=events))


def _subdocument(
    root: etree._Element, structures: etree._Element | None, keep: list[etree._Element], for_sdmx1: bool = False
) -> bytes:
    """The message with only the ``keep`` containers, in that order, under ``Structures``."""
    doc = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=root.nsmap)
    for child in root:
        if child is structures:
            new_structures = etree.SubElement(doc, child.tag, attrib=dict(child.attrib))
            new_structures.extend(copy.deepcopy(c) for c in keep)
        else:
            doc.append(copy.deepcopy(child))
    if for_sdmx1:
        _measure_relationships_as_observation(doc)
    return etree.tostring(doc, xml_declaration=True, encoding="UTF-8")


# -- corrections from the XML tree ---------------------------------------------------------------------


def _key(artefact: Artefact) -> Key:
    return (artefact.type, artefact.agency, artefact.id, artefact.version)


def _maintainable_elements(containers: list[etree._Element]) -> Iterator[tuple[Key, etree._Element]]:
    for container in containers:
        for element in container:
            if not isinstance(element.tag, str):
                continue
            type_ = TYPE_BY_CLASS.get(etree.QName(element).localname)
            agency, id_ = element.get("agencyID"), element.get("id")
            if type_ and agency and id_:
                yield (type_, agency, id_, element.get("version", "1.0")), element


def _restore_from_xml(artefact: Artefact, element: etree._Element | None) -> Artefact:
    """Put back the facts the parsing libraries drop or misread (see the module docstring)."""
    if element is None:
        return artefact
    if isinstance(artefact, ItemScheme):
        # Document order; sdmx1 also adds agencies it meets in references to an agency scheme.
        order = {e.get("id"): i for i, e in enumerate(_descendants(element, _ITEM_TAGS))}
        items = sorted((i for i in artefact.items if i.id in order), key=lambda i: order[i.id])
        return msgspec.structs.replace(artefact, items=items, is_partial=element.get("isPartial") == "true")
    if isinstance(artefact, DataStructure):
        usage = {e.get("id"): _usage(e) for e in _descendants(element, ("Attribute",))}
        components = [
            msgspec.structs.replace(c, usage=usage.get(c.id, c.usage)) if c.role == "attribute" else c
            for c in artefact.components
        ]
        return msgspec.structs.replace(artefact, components=components)
    if isinstance(artefact, ContentConstraint):
        regions = list(_descendants(element, ("CubeRegion",)))
        key_sets = list(_descendants(element, ("DataKeySet",)))
        role = (element.get("role") or element.get("type") or "Allowed").lower()
        return msgspec.structs.replace(
            artefact,
            role="actual" if role == "actual" else "allowed",
            cube_regions=[
                msgspec.structs.replace(r, include=e.get("include", "true") == "true")
                for r, e in zip(artefact.cube_regions, regions, strict=False)
            ],
            key_sets=[
                msgspec.structs.replace(k, include=e.get("isIncluded", "true") == "true")
                for k, e in zip(artefact.key_sets, key_sets, strict=False)
            ],
        )
    if isinstance(artefact, MetadataStructure):
        occurs = {e.get("id"): e for e in _descendants(element, ("MetadataAttribute",))}
        return msgspec.structs.replace(artefact, attributes=[_occurs(a, occurs) for a in artefact.attributes])
    return artefact


def _usage(element: etree._Element) -> Literal["mandatory", "conditional"]:
    # SDMX-ML 2.1: assignmentStatus="Mandatory|Conditional"; 3.0: usage="mandatory|optional".
    value = element.get("usage") or element.get("assignmentStatus") or "optional"
    return "mandatory" if value.lower() == "mandatory" else "conditional"


def _occurs(attribute: MetadataAttribute, elements: dict[str | None, etree._Element]) -> MetadataAttribute:
    element = elements.get(attribute.id)
    children = [_occurs(c, elements) for c in attribute.children]
    if element is None:
        return msgspec.structs.replace(attribute, children=children)
    max_occurs = element.get("maxOccurs", "1")
    return msgspec.structs.replace(
        attribute,
        min_occurs=int(element.get("minOccurs", "1")),
        max_occurs=None if max_occurs == "unbounded" else int(max_occurs),
        is_presentational=element.get("isPresentational", "false") == "true",
        children=children,
    )


def _descendants(element: etree._Element, localnames: tuple[str, ...]) -> Iterator[etree._Element]:
    return element.iter(*(f"{{*}}{name}" for name in localnames))
