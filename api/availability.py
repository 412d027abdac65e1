"""SDMX REST availability: REST 1.5 ``/availableconstraint`` and REST 2.x ``/availability``.

The answer is a structure message holding an actual content constraint; ``references`` adds the
dataflow, its DSD, concept schemes, provider schemes and codelists (restricted to the available codes).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.caching import make_etag, not_modified, validator_headers
from api.context import service
from api.errors import SdmxError, bad_request, not_found
from api.query_parsing import check_params, v1_query, v2_query
from api.structures import choose_structure_format
from exchange.formats.structure_message import Header, NotRepresentable, StructureEntry, render_structures
from exchange.query.availability import AvailabilityEngine
from exchange.query.params import (
    DataQuery,
    QuerySyntaxError,
)
from exchange.structures.model import Artefact, Codelist, ContentConstraint, Dataflow, Ref
from exchange.structures.registry import Registry

router = APIRouter()

REFERENCES = ("none", "all", "codelist", "datastructure", "conceptscheme", "dataflow", "dataproviderscheme")
V1_PARAMS = {"startPeriod", "endPeriod", "updatedAfter", "references", "mode", "format"}
V2_PARAMS = {"updatedAfter", "references", "mode", "format"}


@router.get("/sdmx/v1/availableconstraint/{flow_ref}", tags=["availability (REST 1.5)"])
@router.get("/sdmx/v1/availableconstraint/{flow_ref}/{key}", tags=["availability (REST 1.5)"])
@router.get("/sdmx/v1/availableconstraint/{flow_ref}/{key}/{provider_ref}", tags=["availability (REST 1.5)"])
@router.get(
    "/sdmx/v1/availableconstraint/{flow_ref}/{key}/{provider_ref}/{component_id}", tags=["availability (REST 1.5)"]
)
def availability_v1(
    request: Request, flow_ref: str, key: str = "all", provider_ref: str = "all", component_id: str = "all"
) -> Response:
    """SDMX REST 1.5 availability query."""
    _check(request, V1_PARAMS, filters=False)
    flow, _, query = v1_query(request, flow_ref, key, provider_ref)
    return _answer(request, "v1", flow, query, component_id)


@router.get("/sdmx/v2/availability/{context}/{agency_id}/{resource_id}/{version}", tags=["availability (REST 2.x)"])
@router.get(
    "/sdmx/v2/availability/{context}/{agency_id}/{resource_id}/{version}/{key}", tags=["availability (REST 2.x)"]
)
@router.get(
    "/sdmx/v2/availability/{context}/{agency_id}/{resource_id}/{version}/{key}/{component_id}",
    tags=["availability (REST 2.x)"],
)
def availability_v2(
    request: Request,
    context: str,
    agency_id: str,
    resource_id: str,
    version: str,
    key: str = "*",
    component_id: str = "*",
) -> Response:
    """SDMX REST 2.x availability query."""
    _check(request, V2_PARAMS, filters=True)
    flow, _, query = v2_query(request, context, agency_id, resource_id, version, key)
    return _answer(request, "v2", flow, query, component_id)


def _check(request: Request, allowed: set[str], filters: bool) -> None:
    check_params(request, allowed, filters)
    references = request.query_params.get("references", "none")
    if references not in REFERENCES:
        raise bad_request(f"references must be one of {', '.join(REFERENCES)}, not '{references}'")


def _answer(request: Request, api: str, flow: Dataflow, query: DataQuery, component: str) -> Response:
    option = choose_structure_format(request, api)
    context = service(request)
    registry = context.registry()
    engine = AvailabilityEngine(context.engine, registry)
    try:
        constraint = engine.availability(flow, query, component, request.query_params.get("mode", "exact"))
    except QuerySyntaxError as exc:
        raise bad_request(str(exc)) from exc
    if constraint is None:
        if api == "v2":
            return Response(status_code=204)
        raise not_found("No data match the availability query")
    snapshots = engine.snapshots(flow, query)
    last_modified = max(s.last_modified for s in snapshots)
    etag = make_etag(
        flow.urn,
        [(s.dataset_id, s.release) for s in snapshots],
        registry.revision,
        request.url.path,
        sorted(request.query_params.items()),
        option.key,
    )
    headers = validator_headers(etag, last_modified, "Accept")
    if not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    entries = [
        StructureEntry(constraint),
        *_references(registry, flow, constraint, request.query_params.get("references", "none")),
    ]
    header = Header(id=f"IREF{uuid.uuid4().hex[:12].upper()}", prepared=datetime.now(UTC).replace(microsecond=0))
    try:
        body = render_structures(option.key, entries, header)
    except NotRepresentable as exc:
        raise SdmxError(406, f"The availability cannot be expressed in this format: {exc}") from exc
    return Response(body, media_type=option.content_type, headers=headers)


def _references(registry: Registry, flow: Dataflow, constraint: ContentConstraint, wanted: str) -> list[StructureEntry]:
    if wanted == "none":
        return []
    dsd = registry.structure_of(flow)
    available = constraint.cube_regions[0].members
    candidates: list[Artefact] = [flow, dsd]
    candidates += [a for a in (registry.get(r) for r in dsd.references()) if a is not None]
    candidates += registry.of_type("dataproviderscheme")
    entries = []
    for artefact in {a.ref: a for a in candidates}.values():
        if wanted != "all" and artefact.type != wanted:
            continue
        items = None
        if isinstance(artefact, Codelist):
            codes = {code for comp in _components_using(dsd, artefact.ref) for code in available.get(comp, [])}
            items = frozenset(codes) if codes else None
        entries.append(StructureEntry(artefact, items=items))
    return entries


def _components_using(dsd, codelist: Ref) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        c.id
        for c in dsd.dimensions
        if c.representation and c.representation.enumeration and c.representation.enumeration.maintainable == codelist
    ]
