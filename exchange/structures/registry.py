"""The structure registry: an in-memory, read-only snapshot of every stored artefact.

Built from the database (see :mod:`exchange.structures.store`) and rebuilt when the stored revision
changes. All lookups used by validation and the REST API go through it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

from exchange.structures.model import (
    Artefact,
    Codelist,
    ConceptScheme,
    ContentConstraint,
    Dataflow,
    DataProviderScheme,
    DataStructure,
    Item,
    ItemScheme,
    Ref,
)


class UnknownArtefact(LookupError):
    """A reference names an artefact the registry does not hold."""


def version_key(version: str) -> tuple:
    """Sort key ordering versions numerically part by part (``1.14`` after ``1.2``)."""
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\-]", version))


class Registry:
    """Artefacts by type and (agency, id, version), plus the reverse reference graph."""

    def __init__(self, artefacts: Iterable[Artefact], revision: int = 0) -> None:
        self.revision = revision
        self._by_type: dict[str, dict[tuple[str, str, str], Artefact]] = defaultdict(dict)
        self._referenced_by: dict[Ref, list[Artefact]] = defaultdict(list)
        for artefact in artefacts:
            self._by_type[artefact.type][(artefact.agency, artefact.id, artefact.version)] = artefact
        for artefact in self.all():
            for ref in artefact.references():
                self._referenced_by[ref].append(artefact)

    def all(self) -> list[Artefact]:
        """Every artefact, grouped by type."""
        return [a for by_key in self._by_type.values() for a in by_key.values()]

    def of_type(self, artefact_type: str) -> list[Artefact]:
        return list(self._by_type.get(artefact_type, {}).values())

    def get(self, ref: Ref) -> Artefact | None:
        """The artefact a reference points at (ignoring ``item``), or None."""
        return self._by_type.get(ref.type, {}).get((ref.agency, ref.id, ref.version))

    def resolve(self, ref: Ref) -> Artefact:
        """Like :meth:`get` but raises :class:`UnknownArtefact`."""
        artefact = self.get(ref)
        if artefact is None:
            raise UnknownArtefact(f"Unknown {ref.type} {ref.maintainable}")
        return artefact

    def referenced_by(self, ref: Ref) -> list[Artefact]:
        """Artefacts that refer to ``ref`` (its parents)."""
        return list(self._referenced_by.get(ref.maintainable, []))

    def versions(self, artefact_type: str, agency: str, resource_id: str) -> list[Artefact]:
        """All versions of one artefact, oldest first."""
        found = [
            a for (ag, rid, _), a in self._by_type.get(artefact_type, {}).items() if (ag, rid) == (agency, resource_id)
        ]
        return sorted(found, key=lambda a: version_key(a.version))

    def latest(self, artefact_type: str, agency: str, resource_id: str) -> Artefact | None:
        """The version in production: the highest final version, else the highest version."""
        versions = self.versions(artefact_type, agency, resource_id)
        final = [a for a in versions if a.is_final]
        return (final or versions or [None])[-1]

    # Typed conveniences used by validation and data queries.

    def dataflow(self, ref: Ref) -> Dataflow:
        artefact = self.resolve(ref)
        assert isinstance(artefact, Dataflow)
        return artefact

    def structure_of(self, dataflow: Dataflow) -> DataStructure:
        artefact = self.resolve(dataflow.structure)
        assert isinstance(artefact, DataStructure)
        return artefact

    def codelist(self, ref: Ref) -> Codelist:
        artefact = self.resolve(ref.maintainable)
        assert isinstance(artefact, Codelist)
        return artefact

    def concept(self, ref: Ref) -> Item | None:
        scheme = self.get(ref.maintainable)
        return scheme.item(ref.item) if isinstance(scheme, ConceptScheme) and ref.item else None

    def constraints_for(self, *refs: Ref) -> list[ContentConstraint]:
        """Allowed content constraints attached to any of the given dataflows/structures."""
        found: list[ContentConstraint] = []
        for ref in refs:
            for artefact in self.referenced_by(ref):
                if isinstance(artefact, ContentConstraint) and artefact.role == "allowed" and artefact not in found:
                    found.append(artefact)
        return found

    def provider(self, agency: str, provider_id: str) -> Item | None:
        """A data provider from the agency's DATA_PROVIDERS scheme (any version)."""
        for scheme in self.of_type("dataproviderscheme"):
            if isinstance(scheme, DataProviderScheme) and scheme.agency == agency:
                item = scheme.item(provider_id)
                if item is not None:
                    return item
        return None

    def item_scheme(self, ref: Ref) -> ItemScheme | None:
        artefact = self.get(ref.maintainable)
        return artefact if isinstance(artefact, ItemScheme) else None
