"""Persisting structure artefacts: versioned, never deleted, final artefacts in use are protected."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from exchange.store.schema import Dataset, RegistryState, StructureArtefact, StructureReference, utcnow
from exchange.structures.model import Artefact, DataStructure, ItemScheme, Ref, from_json, to_json
from exchange.structures.registry import Registry


class StructureError(ValueError):
    """A structure submission cannot be stored; ``problems`` lists every reason."""

    def __init__(self, message: str, problems: list[str] | None = None, conflict: bool = False) -> None:
        super().__init__(message)
        self.problems = problems or []
        self.conflict = conflict
        """True when the submission clashes with stored artefacts (rather than being invalid in itself)."""


@dataclass
class SaveResult:
    created: list[Ref] = field(default_factory=list)
    replaced: list[Ref] = field(default_factory=list)
    unchanged: list[Ref] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged"


def current_revision(session: Session) -> int:
    """The registry revision (changes whenever any artefact is stored)."""
    return session.scalar(select(RegistryState.revision).where(RegistryState.id == 1)) or 0


def load_registry(session: Session) -> Registry:
    """A registry snapshot of everything stored."""
    revision = current_revision(session)
    bodies = session.scalars(select(StructureArtefact.body)).all()
    return Registry((from_json(b) for b in bodies), revision=revision)


def artefacts_in_use(session: Session, registry: Registry) -> set[Ref]:
    """Artefacts that stored data depend on: dataflows with data, their DSDs and what those use."""
    in_use: set[Ref] = set()
    flows = session.execute(
        select(
            Dataset.dataflow_agency, Dataset.dataflow_id, Dataset.dataflow_version, Dataset.provider_agency
        ).distinct()
    ).all()
    for agency, flow_id, version, provider_agency in flows:
        flow_ref = Ref("dataflow", agency, flow_id, version)
        in_use.add(flow_ref)
        flow = registry.get(flow_ref)
        if flow is None:
            continue
        structure = registry.get(flow.references()[0])
        if isinstance(structure, DataStructure):
            in_use.add(structure.ref)
            in_use.update(structure.references())
        in_use.update(c.ref for c in registry.constraints_for(flow_ref))
        in_use.update(a.ref for a in registry.of_type("dataproviderscheme") if a.agency == provider_agency)
    return in_use


def save_artefacts(session: Session, artefacts: list[Artefact], registry: Registry | None = None) -> SaveResult:
    """Store artefacts as new versions (or replacements of the same version), all or nothing.

    Refuses the whole submission if any reference cannot be resolved in (stored ∪ submitted), or if it
    would change a final artefact that stored data depend on. Older versions are never deleted.
    """
    registry = registry or load_registry(session)
    _check_duplicates(artefacts)
    _check_references(artefacts, registry)
    in_use = artefacts_in_use(session, registry)
    result = SaveResult()
    problems: list[str] = []
    rows: list[tuple[StructureArtefact | None, Artefact, bytes]] = []
    for artefact in artefacts:
        body = to_json(artefact)
        row = session.scalar(
            select(StructureArtefact).where(
                StructureArtefact.artefact_type == artefact.type,
                StructureArtefact.agency == artefact.agency,
                StructureArtefact.resource_id == artefact.id,
                StructureArtefact.version == artefact.version,
            )
        )
        if row is not None and row.body != body and row.is_final and artefact.ref in in_use:
            problems.append(
                f"{artefact.type} {artefact.ref} is final and stored data depend on it; it cannot be "
                f"replaced. Load the change as a new version (e.g. {_next_version(artefact.version)})."
            )
        rows.append((row, artefact, body))
    if problems:
        raise StructureError("The structures were not stored.", problems, conflict=True)
    for row, artefact, body in rows:
        if row is not None and row.body == body:
            result.unchanged.append(artefact.ref)
            continue
        if row is None:
            row = StructureArtefact(
                artefact_type=artefact.type, agency=artefact.agency, resource_id=artefact.id, version=artefact.version
            )
            session.add(row)
            result.created.append(artefact.ref)
        else:
            session.execute(delete(StructureReference).where(StructureReference.source_id == row.id))
            result.replaced.append(artefact.ref)
        row.is_final = artefact.is_final
        row.name = artefact.name.get("en") or next(iter(artefact.name.values()), "")
        row.body = body
        row.updated_at = utcnow()
        session.flush()
        session.add_all(
            StructureReference(
                source_id=row.id, target_type=r.type, target_agency=r.agency, target_id=r.id, target_version=r.version
            )
            for r in artefact.references()
        )
    if result.created or result.replaced:
        _bump_revision(session)
    return result


def _check_duplicates(artefacts: list[Artefact]) -> None:
    seen: set[Ref] = set()
    duplicates = [str(a.ref) for a in artefacts if a.ref in seen or seen.add(a.ref)]  # type: ignore[func-returns-value]
    if duplicates:
        raise StructureError("The submission holds the same artefact twice.", [f"duplicate: {d}" for d in duplicates])


def _check_references(artefacts: list[Artefact], registry: Registry) -> None:
    submitted = {a.ref for a in artefacts}
    problems = [
        f"{a.type} {a.ref} refers to {ref.type} {ref}, which is neither stored nor in the submission"
        for a in artefacts
        for ref in a.references()
        if ref not in submitted and registry.get(ref) is None
    ]
    for artefact in artefacts:
        if isinstance(artefact, ItemScheme) and not artefact.is_partial:
            ids = {i.id for i in artefact.items}
            problems += [
                f"{artefact.type} {artefact.ref}: item {i.id} has parent {i.parent}, which is not in the scheme"
                for i in artefact.items
                if i.parent and i.parent not in ids
            ]
    if problems:
        raise StructureError("The structures refer to artefacts or items that do not exist.", problems)


def _bump_revision(session: Session) -> None:
    state = session.get(RegistryState, 1)
    if state is None:
        session.add(RegistryState(id=1, revision=1))
    else:
        state.revision += 1
        state.updated_at = utcnow()


def _next_version(version: str) -> str:
    parts = version.split(".")
    if parts[-1].isdigit():
        parts[-1] = str(int(parts[-1]) + 1)
        return ".".join(parts)
    return version + ".1"


def artefact_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(StructureArtefact)) or 0
