"""Structure queries: which artefacts, versions, items, references and detail a REST request asks for.

The REST layer parses paths into a :class:`StructureQuery`; :func:`run_query` resolves it against a
registry into the entries a structure message writer renders. Both REST 1.5 (``all``, ``latest``,
``+``) and REST 2.x (``*``, ``~``, ``+``, comma lists, semantic version wildcards) are supported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from exchange.formats.structure_message import StructureEntry
from exchange.structures.model import (
    ARTEFACT_TYPES,
    Artefact,
    ContentConstraint,
    DataStructure,
    ItemScheme,
    MetadataStructure,
    Ref,
)
from exchange.structures.registry import Registry, version_key

V1_RESOURCES: dict[str, tuple[str, ...]] = {
    **{t: (t,) for t in ARTEFACT_TYPES},
    "organisationscheme": ("agencyscheme", "dataproviderscheme"),
    "actualconstraint": ("contentconstraint",),
    "allowedconstraint": ("contentconstraint",),
    "structure": ARTEFACT_TYPES,
    "structureset": ("structuremap",),
}
"""REST 1.5 resources we hold artefacts for."""
V1_EMPTY_RESOURCES = frozenset(
    {
        "categoryscheme",
        "hierarchicalcodelist",
        "dataconsumerscheme",
        "organisationunitscheme",
        "reportingtaxonomy",
        "provisionagreement",
        "process",
        "categorisation",
        "attachmentconstraint",
        "transformationscheme",
        "rulesetscheme",
        "userdefinedoperatorscheme",
        "customtypescheme",
        "namepersonalisationscheme",
        "vtlmappingscheme",
    }
)
"""Valid REST 1.5 resources of which the service holds no artefacts (they answer 'no results')."""

V2_TYPES: dict[str, tuple[str, ...]] = {
    **{t: (t,) for t in ARTEFACT_TYPES if t != "contentconstraint"},
    "dataconstraint": ("contentconstraint",),
    "*": ARTEFACT_TYPES,
}
V2_EMPTY_TYPES = frozenset(
    {
        "categoryscheme",
        "hierarchy",
        "hierarchyassociation",
        "valuelist",
        "metadataproviderscheme",
        "dataconsumerscheme",
        "organisationunitscheme",
        "reportingtaxonomy",
        "provisionagreement",
        "metadataprovisionagreement",
        "conceptschememap",
        "categoryschememap",
        "organisationschememap",
        "reportingtaxonomymap",
        "process",
        "categorisation",
        "metadataconstraint",
        "transformationscheme",
        "rulesetscheme",
        "userdefinedoperatorscheme",
        "customtypescheme",
        "namepersonalisationscheme",
        "vtlmappingscheme",
    }
)
REFERENCE_KEYWORDS = frozenset({"none", "parents", "parentsandsiblings", "ancestors", "children", "descendants", "all"})
DETAILS = frozenset(
    {"full", "allstubs", "referencestubs", "allcompletestubs", "referencecompletestubs", "referencepartial", "raw"}
)
REFERENCE_TYPE_ALIASES = {"dataconstraint": "contentconstraint", "datastructuredefinition": "datastructure"}


class QueryError(ValueError):
    """The query does not comply with the REST API (answer 400)."""


@dataclass(frozen=True)
class StructureQuery:
    """A parsed structure query; None in agencies/ids/items means 'any'."""

    types: tuple[str, ...]
    agencies: tuple[str, ...] | None
    ids: tuple[str, ...] | None
    versions: tuple[str, ...]
    items: tuple[str, ...] | None = None
    references: str = "none"
    detail: str = "full"
    role: str | None = None
    """Constraint role filter (``actual``/``allowed``) for the REST 1.5 constraint resources."""


def check_parameters(references: str, detail: str, api: str) -> tuple[str, str]:
    """Validate ``references``/``detail`` values; returns them normalised."""
    references, detail = references.lower(), detail.lower()
    if detail not in DETAILS or (api == "v1" and detail == "raw"):
        raise QueryError(f"Unknown detail '{detail}'. Use one of: {', '.join(sorted(DETAILS - {'raw'}))}")
    keywords = REFERENCE_KEYWORDS - ({"ancestors"} if api == "v1" else set())
    known_types = set(ARTEFACT_TYPES) | set(REFERENCE_TYPE_ALIASES) | V1_EMPTY_RESOURCES | V2_EMPTY_TYPES
    if references not in keywords and references not in known_types:
        raise QueryError(f"Unknown references '{references}'. Use {', '.join(sorted(keywords))} or an artefact type")
    return references, detail


def _version_matcher(pattern: str) -> Callable[[list[Artefact]], list[Artefact]]:
    """Select artefact versions for one REST version expression."""
    if pattern in ("all", "*"):
        return lambda found: found
    if pattern in ("latest", "~"):
        return lambda found: _latest(found, stable=False)
    if pattern == "+":
        return lambda found: _latest(found, stable=True)
    if not re.fullmatch(r"[0-9A-Za-z.\-+~*]+", pattern):
        raise QueryError(f"'{pattern}' is not a version")
    wildcard = re.search(r"[+~*]", pattern)
    if wildcard is None:
        return lambda found: [a for a in found if a.version == pattern]
    parts = pattern.split(".")
    if len(parts) > 3:
        raise QueryError(f"'{pattern}' is not a valid version wildcard (at most MAJOR.MINOR.PATCH)")
    position = next(i for i, p in enumerate(parts) if re.search(r"[+~*]", p))
    op = parts[position][-1]
    if not re.fullmatch(r"\d*[+~*]", parts[position]) or any(re.search(r"[+~*]", p) for p in parts[position + 1 :]):
        raise QueryError(f"'{pattern}' is not a valid version wildcard")
    prefix = parts[:position]
    minimum = [int(parts[position][:-1] or 0)] + [int(p) if p.isdigit() else 0 for p in parts[position + 1 :]]

    def matches(version: str) -> bool:
        got = version.split("-")[0].split(".")
        if len(got) != len(parts) or got[:position] != prefix or not all(p.isdigit() for p in got[position:]):
            return False
        return [int(p) for p in got[position:]] >= minimum

    def select(found: list[Artefact]) -> list[Artefact]:
        candidates = [a for a in found if matches(a.version)]
        if op == "*":
            return candidates
        return _latest(candidates, stable=op == "+")

    return select


def _latest(found: list[Artefact], stable: bool) -> list[Artefact]:
    if stable:
        found = [a for a in found if a.is_final and "-" not in a.version]
    else:
        final = [a for a in found if a.is_final]
        found = final or found
    return [max(found, key=lambda a: version_key(a.version))] if found else []


def match_artefacts(registry: Registry, query: StructureQuery) -> list[Artefact]:
    """Artefacts matching the type, agency, id and version parts of the query."""
    matchers = [_version_matcher(v) for v in query.versions]
    groups: dict[tuple[str, str, str], list[Artefact]] = {}
    for artefact_type in query.types:
        for artefact in registry.of_type(artefact_type):
            if query.agencies is not None and artefact.agency not in query.agencies:
                continue
            if query.ids is not None and artefact.id not in query.ids:
                continue
            if query.role and isinstance(artefact, ContentConstraint) and artefact.role != query.role:
                continue
            groups.setdefault((artefact.type, artefact.agency, artefact.id), []).append(artefact)
    result: list[Artefact] = []
    for versions in groups.values():
        versions.sort(key=lambda a: version_key(a.version))
        for select in matchers:
            result += [a for a in select(versions) if a not in result]
    return result


def run_query(registry: Registry, query: StructureQuery) -> list[StructureEntry]:
    """Resolve a query into message entries (requested artefacts first, then references)."""
    matched = match_artefacts(registry, query)
    entries: list[StructureEntry] = []
    if query.items is not None:
        for artefact in matched:
            if isinstance(artefact, ItemScheme):
                items = _items_with_ancestors(artefact, query.items)
                if items:
                    entries.append(StructureEntry(artefact, _requested_detail(query.detail), frozenset(items)))
        matched = [e.artefact for e in entries]
    else:
        entries = [StructureEntry(a, _requested_detail(query.detail)) for a in matched]
    related = [a for a in _related(registry, matched, query.references) if a not in matched]
    partial = _partial_items(matched + related) if query.detail == "referencepartial" else {}
    for artefact in related:
        items = partial.get(artefact.ref)
        entries.append(StructureEntry(artefact, _reference_detail(query.detail), items))
    return entries


def _requested_detail(detail: str) -> str:
    return {"allstubs": "stub", "allcompletestubs": "completestub"}.get(detail, "full")


def _reference_detail(detail: str) -> str:
    return {
        "allstubs": "stub",
        "referencestubs": "stub",
        "allcompletestubs": "completestub",
        "referencecompletestubs": "completestub",
    }.get(detail, "full")


def _items_with_ancestors(scheme: ItemScheme, wanted: Iterable[str]) -> set[str]:
    by_id = {i.id: i for i in scheme.items}
    found: set[str] = set()
    for item_id in wanted:
        item = by_id.get(item_id)
        while item is not None and item.id not in found:
            found.add(item.id)
            item = by_id.get(item.parent) if item.parent else None
    return found


def _resolve_all(registry: Registry, refs: Iterable[Ref]) -> list[Artefact]:
    return [a for a in (registry.get(r) for r in refs) if a is not None]


def _closure(start: list[Artefact], step: Callable[[Artefact], list[Artefact]]) -> list[Artefact]:
    seen: dict[Ref, Artefact] = {}
    frontier = list(start)
    while frontier:
        nxt: list[Artefact] = []
        for artefact in frontier:
            for other in step(artefact):
                if other.ref not in seen:
                    seen[other.ref] = other
                    nxt.append(other)
        frontier = nxt
    return list(seen.values())


def _related(registry: Registry, matched: list[Artefact], references: str) -> list[Artefact]:
    def children(a: Artefact) -> list[Artefact]:
        return _resolve_all(registry, a.references())

    def parents(a: Artefact) -> list[Artefact]:
        return registry.referenced_by(a.ref)

    if references == "none":
        return []
    if references == "children":
        return _unique(c for a in matched for c in children(a))
    if references == "descendants":
        return _closure(matched, children)
    if references == "parents":
        return _unique(p for a in matched for p in parents(a))
    if references == "ancestors":
        return _closure(matched, parents)
    direct_parents = _unique(p for a in matched for p in parents(a))
    siblings = _unique(c for p in direct_parents for c in children(p))
    if references == "parentsandsiblings":
        return _unique([*direct_parents, *siblings])
    if references == "all":
        return _unique([*direct_parents, *siblings, *_closure(matched, children)])
    wanted = REFERENCE_TYPE_ALIASES.get(references, references)
    pool = [*_closure(matched, children), *_closure(matched, parents), *siblings]
    return _unique(a for a in pool if a.type == wanted)


def _unique(artefacts: Iterable[Artefact]) -> list[Artefact]:
    return list({a.ref: a for a in artefacts}.values())


def _partial_items(artefacts: list[Artefact]) -> dict[Ref, frozenset[str]]:
    """For detail=referencepartial: the items of each referenced scheme the returned artefacts use."""
    used: dict[Ref, set[str]] = {}
    structures = [a for a in artefacts if isinstance(a, DataStructure | MetadataStructure)]
    for structure in structures:
        for ref in _concept_refs(structure):
            used.setdefault(ref.maintainable, set()).add(ref.item or "")
    constraints = [a for a in artefacts if isinstance(a, ContentConstraint) and a.role == "allowed"]
    for structure in (s for s in structures if isinstance(s, DataStructure)):
        for component in structure.components:
            enum = component.representation.enumeration if component.representation else None
            if enum is None:
                continue
            codes = {
                code
                for c in constraints
                for region in c.cube_regions
                if region.include
                for code in region.members.get(component.id, [])
            }
            if codes:
                used.setdefault(enum.maintainable, set()).update(codes)
    by_ref = {a.ref: a for a in artefacts}
    result: dict[Ref, frozenset[str]] = {}
    for ref, items in used.items():
        scheme = by_ref.get(ref)
        if isinstance(scheme, ItemScheme):
            result[ref] = frozenset(_items_with_ancestors(scheme, items))
    return result


def _concept_refs(structure: DataStructure | MetadataStructure) -> list[Ref]:
    if isinstance(structure, DataStructure):
        return [c.concept for c in structure.components]
    refs: list[Ref] = []
    stack = list(structure.attributes)
    while stack:
        attribute = stack.pop()
        refs.append(attribute.concept)
        stack.extend(attribute.children)
    return refs
