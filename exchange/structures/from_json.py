"""SDMX-JSON 2.0 structure messages → our structure model (stdlib :mod:`json`).

pysdmx reads SDMX-JSON 2.0, but its model keeps one language per text and drops item parents and
metadata attribute cardinalities, which we must preserve; the JSON mirrors the SDMX 3.0 information
model closely, so it is mapped directly. Stubs (``isExternalReference``) and artefact types our model
does not have (category schemes, hierarchies, provision agreements…) are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Literal

from exchange.formats.records import MessageError
from exchange.structures.model import (
    AgencyScheme,
    Annotation,
    Artefact,
    Codelist,
    Component,
    ComponentMap,
    ConceptScheme,
    Contact,
    ContentConstraint,
    CubeRegion,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Group,
    Item,
    KeySet,
    Localised,
    MetadataAttribute,
    Metadataflow,
    MetadataStructure,
    Ref,
    Representation,
    RepresentationMap,
    StructureMap,
    TextFormat,
    TimeRange,
    ValueMapping,
)
from exchange.structures.urns import is_final_in_sdmx3, ref_from_urn

_ITEM_SCHEMES = {
    "agencySchemes": (AgencyScheme, "agencies"),
    "dataProviderSchemes": (DataProviderScheme, "dataProviders"),
    "codelists": (Codelist, "codes"),
    "conceptSchemes": (ConceptScheme, "concepts"),
}
Json = dict[str, Any]


def read_json(data: bytes) -> list[Artefact]:
    """Read every supported artefact of an SDMX-JSON 2.0 structure message."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MessageError(f"Malformed JSON: {exc}") from exc
    meta = doc.get("meta") if isinstance(doc, dict) else None
    meta = meta if isinstance(meta, dict) else {}
    body = doc.get("data") if isinstance(doc, dict) else None
    schema = str(meta.get("schema", ""))
    if not isinstance(body, dict) or "dataSets" in body or (schema and "structure" not in schema):
        raise MessageError(
            "Not an SDMX-JSON structure message: expected a 'data' object holding structures "
            "(data and reference metadata messages are not structure messages)."
        )
    if "/1.0/" in schema:
        raise MessageError("SDMX-JSON 1.0 structure messages are not supported; use SDMX-JSON 2.0.")
    reader = _Reader(str((meta.get("contentLanguages") or ["en"])[0]))
    try:
        return [
            artefact
            for key, read in reader.readers().items()
            for obj in body.get(key) or []
            if not obj.get("isExternalReference") and (artefact := read(obj))
        ]
    except MessageError:
        raise
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise MessageError(f"Invalid SDMX-JSON 2.0 structure message: {exc!r}") from exc


class _Reader:
    """Converters for one message (``lang`` is the language of the single-text ``name`` fields)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang

    def readers(self) -> dict[str, Callable[[Json], Artefact]]:
        readers: dict[str, Callable[[Json], Artefact]] = {
            key: (lambda obj, cls=cls, field=field: self.item_scheme(obj, cls, field))
            for key, (cls, field) in _ITEM_SCHEMES.items()
        }
        readers.update(
            dataStructures=self.data_structure,
            dataflows=lambda o: Dataflow(**self.head(o), structure=ref_from_urn(o["structure"])),
            dataConstraints=self.constraint,
            metadataStructures=self.metadata_structure,
            metadataflows=lambda o: Metadataflow(
                **self.head(o), structure=ref_from_urn(o["structure"]), targets=list(o.get("targets", []))
            ),
            representationMaps=self.representation_map,
            structureMaps=self.structure_map,
        )
        return readers

    # -- common parts ----------------------------------------------------------------------------------

    def texts(self, obj: Json, field: str) -> Localised:
        texts = obj.get(f"{field}s")
        if isinstance(texts, dict):
            return {str(k): str(v) for k, v in texts.items() if v}
        return {self.lang: str(obj[field])} if obj.get(field) else {}

    def head(self, obj: Json) -> dict[str, Any]:
        version = str(obj.get("version") or "1.0")
        return dict(
            agency=obj["agencyID"],
            id=obj["id"],
            version=version,
            name=self.texts(obj, "name"),
            description=self.texts(obj, "description"),
            annotations=self.annotations(obj),
            is_final=is_final_in_sdmx3(version),
            valid_from=obj.get("validFrom"),
            valid_to=obj.get("validTo"),
        )

    def annotations(self, obj: Json) -> list[Annotation]:
        return [
            Annotation(
                id=a.get("id"),
                title=a.get("title"),
                type=a.get("type"),
                url=next((link["href"] for link in a.get("links", []) if link.get("href")), None),
                text=self.texts(a, "text"),
            )
            for a in obj.get("annotations", [])
        ]

    def contact(self, obj: Json) -> Contact:
        return Contact(
            name=self.texts(obj, "name"),
            department=self.texts(obj, "department"),
            role=self.texts(obj, "role"),
            telephones=list(obj.get("telephones", [])),
            emails=list(obj.get("emails", [])),
            uris=list(obj.get("uris", [])),
        )

    @staticmethod
    def representation(rep: Json | None) -> Representation | None:
        if not rep:
            return None
        urn = rep.get("enumeration")
        enumeration = ref_from_urn(urn) if urn and ".Codelist=" in urn else None
        fmt = rep.get("format") or rep.get("enumerationFormat")
        text_format = None
        if fmt:
            facets = {
                k: str(v).lower() if isinstance(v, bool) else str(v)
                for k, v in fmt.items()
                if k not in ("dataType", "sentinelValues")
            }
            text_format = TextFormat(text_type=fmt.get("dataType"), facets=facets)
        if enumeration is None and text_format is None:
            return None
        return Representation(enumeration=enumeration, text_format=text_format)

    # -- item schemes ----------------------------------------------------------------------------------

    def item_scheme(self, obj: Json, cls: type, field: str) -> Artefact:
        items = [
            Item(
                id=i["id"],
                name=self.texts(i, "name"),
                description=self.texts(i, "description"),
                annotations=self.annotations(i),
                parent=i.get("parent"),
                core_representation=self.representation(i.get("coreRepresentation")),
                contacts=[self.contact(c) for c in i.get("contacts", [])],
            )
            for i in obj.get(field, [])
        ]
        return cls(**self.head(obj), items=items, is_partial=bool(obj.get("isPartial", False)))

    # -- data structures -------------------------------------------------------------------------------

    def data_structure(self, obj: Json) -> DataStructure:
        parts = obj.get("dataStructureComponents", {})
        dim_list = parts.get("dimensionList", {})
        dims = dim_list.get("dimensions", [])
        key_ids = [d["id"] for d in dims]
        components = [self.component(d, "dimension", position=n) for n, d in enumerate(dims, start=1)]
        if time := dim_list.get("timeDimension"):
            components.append(self.component(time, "time_dimension", position=len(dims) + 1))
        components += [self.attribute(a, key_ids) for a in parts.get("attributeList", {}).get("attributes", [])]
        components += [self.component(m, "measure") for m in parts.get("measureList", {}).get("measures", [])]
        groups = [Group(id=g["id"], dimensions=list(g.get("groupDimensions", []))) for g in parts.get("groups", [])]
        return DataStructure(**self.head(obj), components=components, groups=groups)

    def component(
        self, obj: Json, role: Literal["dimension", "time_dimension", "measure"], position: int | None = None
    ) -> Component:
        return Component(
            id=obj["id"],
            role=role,
            concept=ref_from_urn(obj["conceptIdentity"]),
            representation=self.representation(obj.get("localRepresentation")),
            position=position,
        )

    def attribute(self, obj: Json, key_ids: list[str]) -> Component:
        rel = obj.get("attributeRelationship", {})
        attachment: Literal["dataset", "series", "group", "observation"] = "dataset"
        related_to: list[str] = []
        group = None
        if "observation" in rel or obj.get("measureRelationship"):
            attachment = "observation"
        elif "group" in rel:
            attachment, group, related_to = "group", rel["group"], [rel["group"]]
        elif rel.get("dimensions"):
            dims = list(rel["dimensions"])
            attachment = "series"
            related_to = [] if set(dims) == set(key_ids) else dims
        return Component(
            id=obj["id"],
            role="attribute",
            concept=ref_from_urn(obj["conceptIdentity"]),
            representation=self.representation(obj.get("localRepresentation")),
            usage="mandatory" if obj.get("usage") == "mandatory" else "conditional",
            attachment=attachment,
            related_to=related_to,
            group=group,
        )

    # -- constraints -----------------------------------------------------------------------------------

    def constraint(self, obj: Json) -> ContentConstraint:
        attachment = obj.get("constraintAttachment", {})
        urns = [u for key in ("dataflows", "dataStructures") for u in attachment.get(key, [])]
        regions = [self.cube_region(r) for r in obj.get("cubeRegions", [])]
        key_sets = [
            KeySet(
                include=bool(ks.get("isIncluded", True)),
                keys=[{kv["id"]: str(kv["value"]) for kv in key.get("keyValues", [])} for key in ks.get("keys", [])],
            )
            for ks in obj.get("dataKeySets", [])
        ]
        return ContentConstraint(
            **self.head(obj),
            role="actual" if str(obj.get("role", "Allowed")).lower() == "actual" else "allowed",
            attachments=sorted((ref_from_urn(u) for u in urns), key=lambda r: r.key),
            cube_regions=regions,
            key_sets=key_sets,
        )

    def cube_region(self, region: Json) -> CubeRegion:
        members: dict[str, list[str]] = {}
        time_ranges: dict[str, TimeRange] = {}
        for kv in region.get("keyValues", []) + region.get("components", []):
            if kv.get("timeRange"):
                time_ranges[kv["id"]] = self.time_range(kv["timeRange"])
            else:
                members[kv["id"]] = [v["value"] if isinstance(v, dict) else str(v) for v in kv.get("values", [])]
        return CubeRegion(include=bool(region.get("include", True)), members=members, time_ranges=time_ranges)

    def time_range(self, obj: Json) -> TimeRange:
        """``startPeriod``/``endPeriod``, ``afterPeriod`` (start only) or ``beforePeriod`` (end only)."""
        start = obj.get("startPeriod") or obj.get("afterPeriod")
        end = obj.get("endPeriod") or obj.get("beforePeriod")
        return TimeRange(
            start=str(start["period"]) if start else None,
            end=str(end["period"]) if end else None,
            start_inclusive=bool(start.get("isInclusive", True)) if start else True,
            end_inclusive=bool(end.get("isInclusive", True)) if end else True,
        )

    # -- reference metadata structures -----------------------------------------------------------------

    def metadata_structure(self, obj: Json) -> MetadataStructure:
        attr_list = obj.get("metadataStructureComponents", {}).get("metadataAttributeList", {})
        return MetadataStructure(
            **self.head(obj),
            attributes=[self.metadata_attribute(a) for a in attr_list.get("metadataAttributes", [])],
        )

    def metadata_attribute(self, obj: Json) -> MetadataAttribute:
        max_occurs = obj.get("maxOccurs", 1)
        return MetadataAttribute(
            id=obj["id"],
            concept=ref_from_urn(obj["conceptIdentity"]),
            representation=self.representation(obj.get("localRepresentation")),
            min_occurs=int(obj.get("minOccurs", 1)),
            max_occurs=None if max_occurs == "unbounded" else int(max_occurs),
            is_presentational=bool(obj.get("isPresentational", False)),
            children=[self.metadata_attribute(c) for c in obj.get("metadataAttributes", [])],
        )

    # -- structure mapping -----------------------------------------------------------------------------

    def representation_map(self, obj: Json) -> RepresentationMap:
        def codelists(key: str) -> list[Ref]:
            return [ref_from_urn(s["codelist"]) for s in obj.get(key, []) if s.get("codelist")]

        mappings = [
            ValueMapping(
                source=[v["value"] if isinstance(v, dict) else str(v) for v in m.get("sourceValues", [])],
                target=[str(v) for v in m.get("targetValues", [])],
            )
            for m in obj.get("representationMappings", [])
        ]
        return RepresentationMap(
            **self.head(obj), sources=codelists("source"), targets=codelists("target"), mappings=mappings
        )

    def structure_map(self, obj: Json) -> StructureMap:
        maps = [
            ComponentMap(
                source=list(m["source"]),
                target=list(m["target"]),
                representation_map=ref_from_urn(m["representationMap"]) if m.get("representationMap") else None,
            )
            for m in obj.get("componentMaps", [])
        ]
        return StructureMap(
            **self.head(obj),
            source=ref_from_urn(obj["source"]),
            target=ref_from_urn(obj["target"]),
            component_maps=maps,
        )
