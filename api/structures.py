"""SDMX REST structure endpoints: queries (REST 1.5 and 2.x) and authenticated structure submission."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.caching import make_etag, not_modified, validator_headers
from api.context import require_token, service
from api.errors import SdmxError, bad_request, not_found
from api.negotiation import MediaOption, negotiate
from api.uploads import read_body
from exchange.db import session_scope
from exchange.formats.records import MessageError
from exchange.formats.structure_message import Header, NotRepresentable, render_structures
from exchange.store.schema import AuditEntry
from exchange.structures.query import (
    V1_EMPTY_RESOURCES,
    V1_RESOURCES,
    V2_EMPTY_TYPES,
    V2_TYPES,
    QueryError,
    StructureQuery,
    check_parameters,
    run_query,
)
from exchange.structures.store import StructureError, save_artefacts

router = APIRouter()

STRUCTURE_OPTIONS = {
    "ml21": MediaOption("ml21", "application/vnd.sdmx.structure+xml", "2.1", ("sdmx-ml-2.1", "sdmx-2.1", "xml21")),
    "ml30": MediaOption("ml30", "application/vnd.sdmx.structure+xml", "3.0.0", ("sdmx-ml-3.0", "sdmx-3.0", "xml30")),
    "json10": MediaOption("json10", "application/vnd.sdmx.structure+json", "1.0", ("sdmx-json-1.0", "json10")),
    "json20": MediaOption("json20", "application/vnd.sdmx.structure+json", "2.0.0", ("sdmx-json-2.0", "json20")),
}
_GENERIC = {
    "v1": {"application/xml": "ml21", "text/xml": "ml21", "application/json": "json10"},
    "v2": {"application/xml": "ml30", "text/xml": "ml30", "application/json": "json20"},
}
_DEFAULT = {"v1": "ml21", "v2": "ml30"}
_STRUCTURE_PARAMS = {"detail", "references", "format"}


def choose_structure_format(request: Request, api: str) -> MediaOption:
    """The structure message format asked for by Accept or format= (406 when none fits)."""
    generic = {media: STRUCTURE_OPTIONS[key] for media, key in _GENERIC[api].items()}
    options = list(STRUCTURE_OPTIONS.values())
    # "format=xml/json" picks the API version's default syntax.
    fmt = request.query_params.get("format")
    if fmt in ("xml", "json"):
        return generic[f"application/{fmt}"]
    return negotiate(request.headers.get("accept"), fmt, options, STRUCTURE_OPTIONS[_DEFAULT[api]], generic)


def _reject_unknown_params(request: Request, allowed: set[str]) -> None:
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise bad_request(f"Unknown query parameter(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}")


def _split(value: str, separators: str) -> tuple[str, ...]:
    parts = [value]
    for sep in separators:
        parts = [p for part in parts for p in part.split(sep)]
    if any(not p for p in parts):
        raise bad_request(f"'{value}' has an empty element")
    return tuple(parts)


def _any(values: tuple[str, ...], wildcards: set[str]) -> tuple[str, ...] | None:
    return None if any(v in wildcards for v in values) else values


def _respond(request: Request, query: StructureQuery, api: str) -> Response:
    option = choose_structure_format(request, api)
    registry = service(request).registry()
    entries = run_query(registry, query)
    if not entries:
        raise not_found("No structures match the query")
    header = Header(id=f"IREF{uuid.uuid4().hex[:12].upper()}", prepared=datetime.now(UTC).replace(microsecond=0))
    etag = make_etag(registry.revision, request.url.path, sorted(request.query_params.items()), option.key)
    last_modified = service(request).registry_updated_at()
    headers = validator_headers(etag, last_modified, "Accept")
    if not_modified(request, etag, last_modified):
        return Response(status_code=304, headers=headers)
    try:
        body = render_structures(option.key, entries, header)
    except NotRepresentable as exc:
        raise SdmxError(
            406,
            f"The result cannot be expressed in {option.content_type.split(';')[0]} "
            f"version {option.version}: {exc}. Ask for another format.",
        ) from exc
    return Response(body, media_type=option.content_type, headers=headers)


@router.get("/sdmx/v1/{resource}", tags=["structure (REST 1.5)"])
@router.get("/sdmx/v1/{resource}/{agency_id}", tags=["structure (REST 1.5)"])
@router.get("/sdmx/v1/{resource}/{agency_id}/{resource_id}", tags=["structure (REST 1.5)"])
@router.get("/sdmx/v1/{resource}/{agency_id}/{resource_id}/{version}", tags=["structure (REST 1.5)"])
@router.get("/sdmx/v1/{resource}/{agency_id}/{resource_id}/{version}/{item_id}", tags=["structure (REST 1.5)"])
def structure_v1(
    request: Request,
    resource: str,
    agency_id: str = "all",
    resource_id: str = "all",
    version: str = "latest",
    item_id: str | None = None,
    detail: str = "full",
    references: str = "none",
) -> Response:
    """SDMX REST 1.5 structure query (``all``, ``latest`` and ``+``-joined values)."""
    _reject_unknown_params(request, _STRUCTURE_PARAMS)
    if resource in V1_EMPTY_RESOURCES and resource not in V1_RESOURCES:
        choose_structure_format(request, "v1")
        raise not_found(f"This service holds no {resource} artefacts")
    if resource not in V1_RESOURCES:
        raise bad_request(f"Unknown structure resource '{resource}'")
    if item_id is not None and resource not in (
        "codelist",
        "conceptscheme",
        "agencyscheme",
        "dataproviderscheme",
        "organisationscheme",
    ):
        raise bad_request(f"Item queries apply to item schemes only, not to {resource}")
    try:
        references, detail = check_parameters(references, detail, "v1")
    except QueryError as exc:
        raise bad_request(str(exc)) from exc
    role = {"actualconstraint": "actual", "allowedconstraint": "allowed"}.get(resource)
    query = StructureQuery(
        types=V1_RESOURCES[resource],
        agencies=_any(_split(agency_id, "+"), {"all"}),
        ids=_any(_split(resource_id, "+"), {"all"}),
        versions=_split(version, "+"),
        items=_any(_split(item_id, "+"), {"all"}) if item_id else None,
        references=references,
        detail=detail,
        role=role,
    )
    return _run(request, query, "v1")


@router.get("/sdmx/v2/structure", tags=["structure (REST 2.x)"])
@router.get("/sdmx/v2/structure/{artefact_type}", tags=["structure (REST 2.x)"])
@router.get("/sdmx/v2/structure/{artefact_type}/{agency_id}", tags=["structure (REST 2.x)"])
@router.get("/sdmx/v2/structure/{artefact_type}/{agency_id}/{resource_id}", tags=["structure (REST 2.x)"])
@router.get("/sdmx/v2/structure/{artefact_type}/{agency_id}/{resource_id}/{version}", tags=["structure (REST 2.x)"])
@router.get(
    "/sdmx/v2/structure/{artefact_type}/{agency_id}/{resource_id}/{version}/{item_id}", tags=["structure (REST 2.x)"]
)
def structure_v2(
    request: Request,
    artefact_type: str = "*",
    agency_id: str = "*",
    resource_id: str = "*",
    version: str = "~",
    item_id: str = "*",
    detail: str = "full",
    references: str = "none",
) -> Response:
    """SDMX REST 2.x structure query (``*``, ``~``, ``+``, comma lists and semantic version wildcards)."""
    _reject_unknown_params(request, _STRUCTURE_PARAMS | {"asOf"})
    if "asOf" in request.query_params:
        raise SdmxError(
            501,
            "asOf is not supported for structure queries: artefact versions are never "
            "changed once final, so query the version you need instead.",
        )
    types = _split(artefact_type, ",")
    if any(t not in V2_TYPES and t not in V2_EMPTY_TYPES for t in types):
        raise bad_request(f"Unknown artefact type in '{artefact_type}'")
    try:
        references, detail = check_parameters(references, detail, "v2")
    except QueryError as exc:
        raise bad_request(str(exc)) from exc
    item_schemes = {"codelist", "conceptscheme", "agencyscheme", "dataproviderscheme"}
    if item_id != "*" and not set(types) <= item_schemes | V2_EMPTY_TYPES:
        raise bad_request("Item queries apply to item schemes only")
    query = StructureQuery(
        types=tuple(dict.fromkeys(t for name in types for t in V2_TYPES.get(name, ()))),
        agencies=_any(_split(agency_id, ","), {"*"}),
        ids=_any(_split(resource_id, ","), {"*"}),
        versions=_split(version, ","),
        items=_any(_split(item_id, ","), {"*"}),
        references=references,
        detail=detail,
    )
    return _run(request, query, "v2")


def _run(request: Request, query: StructureQuery, api: str) -> Response:
    try:
        return _respond(request, query, api)
    except QueryError as exc:
        raise bad_request(str(exc)) from exc


@router.post("/sdmx/v1/structure", tags=["structure (REST 1.5)"], status_code=201)
@router.post("/sdmx/v2/structure", tags=["structure (REST 2.x)"], status_code=201)
@router.post("/sdmx/v2/structure/{artefact_type}", tags=["structure (REST 2.x)"], status_code=201)
async def submit_structures(request: Request, artefact_type: str | None = None) -> Response:
    """Store the artefacts of an SDMX structure message (administrators only).

    As the REST maintenance API says: 201 when something was created, 409 for missing references or a
    change to a final artefact that data use, 422 when the artefacts do not match the resource type.
    """
    principal = require_token(request, role="admin")
    context = service(request)
    body = await read_body(request, context.settings.max_upload_bytes)
    from exchange.structures.readers import read_structures  # sdmx1 and pysdmx: loaded only when needed

    try:
        artefacts = read_structures(body)
    except MessageError as exc:
        raise bad_request(f"The body is not a readable SDMX structure message: {exc}") from exc
    if not artefacts:
        raise bad_request("The structure message holds no artefacts")
    if artefact_type is not None:
        allowed = V2_TYPES.get(artefact_type)
        if allowed is None:
            raise bad_request(f"Unknown artefact type '{artefact_type}'")
        wrong = [str(a.ref) for a in artefacts if a.type not in allowed]
        if wrong:
            raise SdmxError(422, f"Not of type {artefact_type}: {', '.join(wrong)}")
    try:
        with session_scope(context.engine) as session:
            result = save_artefacts(session, artefacts, context.registry())
            context.structures_changed()
            session.add(
                AuditEntry(
                    actor=principal.actor,
                    token_id=principal.token_id,
                    action="load-structures",
                    target=", ".join(str(a.ref) for a in artefacts[:20]),
                    detail=json.dumps(
                        {"created": [str(r) for r in result.created], "replaced": [str(r) for r in result.replaced]}
                    ),
                )
            )
    except StructureError as exc:
        raise SdmxError(409, f"{exc} " + " ".join(exc.problems), 150) from exc
    payload = {
        "created": [f"{r.type}={r}" for r in result.created],
        "replaced": [f"{r.type}={r}" for r in result.replaced],
        "unchanged": [f"{r.type}={r}" for r in result.unchanged],
    }
    status = 201 if result.created else 200
    return Response(json.dumps(payload), status_code=status, media_type="application/json")
