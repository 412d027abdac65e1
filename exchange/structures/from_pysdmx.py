"""SDMX-ML 3.0 fallback: containers sdmx1 cannot read, parsed by pysdmx and mapped to our model.

pysdmx keeps one language per text, drops item parents and prefixes agency ids, so the common parts
(names, descriptions, annotations, validity, item texts and parents) are taken from the XML itself;
pysdmx supplies the type-specific content. Supported: item schemes, dataflows, metadataflows,
representation maps and structure maps; anything else raises :class:`MessageError`.
"""

from __future__ import annotations

from typing import Any

import pysdmx.model as py
from lxml import etree
from pysdmx.io import read_sdmx
from pysdmx.model import map as py_map

from exchange.formats.records import MessageError
from exchange.formats.xml_safety import parse_xml
from exchange.structures.model import (
    AgencyScheme,
    Annotation,
    Artefact,
    Codelist,
    ComponentMap,
    ConceptScheme,
    Dataflow,
    DataProviderScheme,
    Item,
    Localised,
    Metadataflow,
    Ref,
    RepresentationMap,
    StructureMap,
    ValueMapping,
)
from exchange.structures.urns import TYPE_BY_CLASS, is_final_in_sdmx3, ref_from_urn

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_SCHEMES: dict[type, type] = {
    py.AgencyScheme: AgencyScheme,
    py.DataProviderScheme: DataProviderScheme,
    py.Codelist: Codelist,
    py.ConceptScheme: ConceptScheme,
}


def read_pysdmx(document: bytes) -> list[Artefact]:
    """Read an SDMX-ML 3.0 structure message (our own, already checked serialisation) with pysdmx."""
    root = parse_xml(document)
    elements = {
        (etree.QName(e).localname, e.get("agencyID"), e.get("id"), e.get("version", "1.0")): e
        for container in root.iter()
        if isinstance(container.tag, str) and etree.QName(container).localname == "Structures"
        for group in container
        for e in group
    }
    try:
        message = read_sdmx(document.decode("utf-8"), validate=False)
    except ImportError:
        raise  # a missing pysdmx extra is a deployment error, not a problem of the message
    except Exception as exc:
        raise MessageError(f"Cannot read the SDMX-ML 3.0 structure message: {exc}") from exc
    artefacts = []
    for obj in message.structures or []:
        tag = _TAGS.get(type(obj))
        if tag is None:
            raise MessageError(f"Unsupported SDMX-ML 3.0 content: {type(obj).__name__} {obj.id}")
        version = str(obj.version or "1.0")
        element = elements.get((tag, _agency(obj.agency), obj.id, version))
        head = _head(element, _agency(obj.agency), obj.id, version)
        artefacts.append(_convert(obj, head, element))
    return artefacts


def _agency(agency: Any) -> str:
    return str(getattr(agency, "id", agency))


def _head(element: etree._Element | None, agency: str, id_: str, version: str) -> dict[str, Any]:
    head: dict[str, Any] = dict(agency=agency, id=id_, version=version, is_final=is_final_in_sdmx3(version))
    if element is not None:
        head.update(
            name=_texts(element, "Name"),
            description=_texts(element, "Description"),
            annotations=_annotations(element),
            valid_from=element.get("validFrom"),
            valid_to=element.get("validTo"),
        )
    return head


def _convert(obj: Any, head: dict[str, Any], element: etree._Element | None) -> Artefact:
    if type(obj) in _SCHEMES:
        return _SCHEMES[type(obj)](**head, items=_items(obj, element), is_partial=bool(obj.is_partial))
    if isinstance(obj, py.Dataflow):
        return Dataflow(**head, structure=_structure_ref(obj.structure))
    if isinstance(obj, py.Metadataflow):
        return Metadataflow(**head, structure=_structure_ref(obj.structure), targets=list(obj.targets or []))
    if isinstance(obj, py_map.RepresentationMap | py_map.MultiRepresentationMap):
        return _representation_map(obj, head)
    return _structure_map(obj, head)


def _items(scheme: Any, element: etree._Element | None) -> list[Item]:
    by_id = {}
    if element is not None:
        by_id = {e.get("id"): e for e in element if isinstance(e.tag, str) and e.get("id")}
    items = []
    for item in scheme.items:
        # pysdmx prefixes agency ids with their parent agency ("LNOB.KE" for agency KE of LNOB).
        item_id = item.id if item.id in by_id else item.id.rsplit(".", 1)[-1]
        e = by_id.get(item_id)
        parent = e.findtext("{*}Parent") if e is not None else None
        items.append(
            Item(
                id=item_id,
                name=_texts(e, "Name") if e is not None else {"en": item.name} if item.name else {},
                description=_texts(e, "Description") if e is not None else {},
                annotations=_annotations(e) if e is not None else [],
                parent=parent.strip() if parent else None,
            )
        )
    return items


def _structure_ref(structure: Any) -> Ref:
    if isinstance(structure, str):
        return ref_from_urn(structure)
    type_ = TYPE_BY_CLASS.get(type(structure).__name__)
    if type_ is None:
        raise MessageError(f"Unsupported structure reference: {structure!r}")
    return Ref(type_, _agency(structure.agency), structure.id, str(structure.version))


def _representation_map(obj: Any, head: dict[str, Any]) -> RepresentationMap:
    def refs(value: Any) -> list[Ref]:
        values = [value] if isinstance(value, str) else list(value or [])
        return [ref_from_urn(v) for v in values if v.startswith("urn:")]

    mappings = [ValueMapping(source=_strings(m.source), target=_strings(m.target)) for m in obj.maps]
    return RepresentationMap(**head, sources=refs(obj.source), targets=refs(obj.target), mappings=mappings)


def _structure_map(obj: py_map.StructureMap, head: dict[str, Any]) -> StructureMap:
    maps = []
    for m in obj.maps:
        if isinstance(m, py_map.ComponentMap | py_map.MultiComponentMap):
            values = m.values
            rep_map = (
                ref_from_urn(values)
                if isinstance(values, str)
                else Ref("representationmap", _agency(values.agency), values.id, str(values.version))
            )
            maps.append(ComponentMap(source=_strings(m.source), target=_strings(m.target), representation_map=rep_map))
        elif isinstance(m, py_map.ImplicitComponentMap):
            maps.append(ComponentMap(source=[m.source], target=[m.target]))
    return StructureMap(**head, source=ref_from_urn(obj.source), target=ref_from_urn(obj.target), component_maps=maps)


def _strings(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _texts(element: etree._Element, localname: str) -> Localised:
    return {
        e.get(_XML_LANG, "en"): e.text or ""
        for e in element
        if isinstance(e.tag, str) and etree.QName(e).localname == localname and e.text
    }


def _annotations(element: etree._Element) -> list[Annotation]:
    return [
        Annotation(
            id=a.get("id"),
            title=a.findtext("{*}AnnotationTitle"),
            type=a.findtext("{*}AnnotationType"),
            url=a.findtext("{*}AnnotationURL"),
            text=_texts(a, "AnnotationText"),
        )
        for a in element.findall("{*}Annotations/{*}Annotation")
    ]


_TAGS: dict[type, str] = {
    py.AgencyScheme: "AgencyScheme",
    py.DataProviderScheme: "DataProviderScheme",
    py.Codelist: "Codelist",
    py.ConceptScheme: "ConceptScheme",
    py.Dataflow: "Dataflow",
    py.Metadataflow: "Metadataflow",
    py_map.RepresentationMap: "RepresentationMap",
    py_map.MultiRepresentationMap: "RepresentationMap",
    py_map.StructureMap: "StructureMap",
}
