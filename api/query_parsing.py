"""Parsing the parts REST data and availability queries share: path, key, provider, filters, periods."""

from __future__ import annotations

import re

from fastapi import Request

from api.context import service
from api.errors import SdmxError, bad_request, not_found
from exchange.query.filters import fold_equalities
from exchange.query.params import (
    DataQuery,
    QuerySyntaxError,
    parse_component_filter,
    parse_key,
    parse_period_bound,
    parse_timestamp,
)
from exchange.refs import RefError, parse_flow_ref
from exchange.structures.model import Dataflow, DataStructure
from exchange.structures.query import StructureQuery, match_artefacts

FILTER_PARAM = re.compile(r"^c\[([A-Za-z][A-Za-z0-9_\-]*)\]$")


def check_params(request: Request, allowed: set[str], filters: bool) -> None:
    """Reject unknown or repeated query parameters (400)."""
    unknown = sorted(
        name for name in request.query_params if name not in allowed and not (filters and FILTER_PARAM.match(name))
    )
    if unknown:
        raise bad_request(
            f"Unknown query parameter(s): {', '.join(unknown)}. Allowed: {', '.join(sorted(allowed))}"
            + (" and c[COMPONENT]" if filters else "")
        )
    for name in request.query_params:
        if len(request.query_params.getlist(name)) > 1:
            raise bad_request(f"Query parameter {name} is given more than once")


def resolve_flow_v1(request: Request, flow_ref: str) -> Dataflow:
    """The dataflow named by a REST 1.5 flowRef (404 when unknown)."""
    registry = service(request).registry()
    try:
        return registry.dataflow(parse_flow_ref(flow_ref, registry))
    except RefError as exc:
        raise not_found(str(exc)) from exc


def resolve_flow_v2(request: Request, agency: str, resource_id: str, version: str) -> Dataflow:
    """The single dataflow a REST 2.x path names (404 when none, 501 when several)."""
    registry = service(request).registry()
    query = StructureQuery(
        types=("dataflow",),
        agencies=None if agency == "*" else tuple(agency.split(",")),
        ids=None if resource_id == "*" else tuple(resource_id.split(",")),
        versions=tuple(version.split(",")),
    )
    flows = [f for f in match_artefacts(registry, query) if isinstance(f, Dataflow)]
    if not flows:
        raise SdmxError(404, f"No dataflow {agency}:{resource_id}({version})")
    if len(flows) > 1:
        names = ", ".join(str(f.ref) for f in flows)
        raise SdmxError(501, f"The query matches several dataflows ({names}); query them one at a time.")
    return flows[0]


def parse_providers(text: str, separator: str) -> tuple[tuple[str | None, str], ...] | None:
    """providerRef values as (agency or None, id); None for all providers."""
    if text in ("all", "*"):
        return None
    providers: list[tuple[str | None, str]] = []
    for part in text.split(separator):
        agency, _, provider = part.rpartition(",")
        if not provider:
            raise QuerySyntaxError(f"'{text}' is not a provider reference")
        providers.append((agency or None, provider))
    return tuple(providers)


def v1_query(request: Request, flow_ref: str, key: str, provider_ref: str) -> tuple[Dataflow, DataStructure, DataQuery]:
    """The dataflow and base query of a REST 1.5 path with startPeriod, endPeriod and updatedAfter."""
    flow = resolve_flow_v1(request, flow_ref)
    dsd = service(request).registry().structure_of(flow)
    params = request.query_params
    try:
        query = DataQuery(key=parse_key(key, dsd, "+"), providers=parse_providers(provider_ref, "+"))
        if "startPeriod" in params:
            query.start = parse_period_bound(params["startPeriod"], end=False)
        if "endPeriod" in params:
            query.end = parse_period_bound(params["endPeriod"], end=True)
        if "updatedAfter" in params:
            query.updated_after = parse_timestamp("updatedAfter", params["updatedAfter"])
    except QuerySyntaxError as exc:
        raise bad_request(str(exc)) from exc
    return flow, dsd, query


def v2_query(
    request: Request, context: str, agency_id: str, resource_id: str, version: str, key: str
) -> tuple[Dataflow, DataStructure, DataQuery]:
    """The dataflow and base query of a REST 2.x path with c[…] filters and updatedAfter."""
    if context != "dataflow":
        if context in ("datastructure", "provisionagreement"):
            raise SdmxError(501, f"Data are published per dataflow; query …/dataflow/… instead of {context}.")
        raise bad_request(f"Unknown context '{context}' (use dataflow, datastructure or provisionagreement)")
    flow = resolve_flow_v2(request, agency_id, resource_id, version)
    dsd = service(request).registry().structure_of(flow)
    params = request.query_params
    try:
        query = DataQuery(key=parse_key(key, dsd, ","))
        filters = tuple(
            parse_component_filter(match.group(1), params[name])
            for name in params
            if (match := FILTER_PARAM.match(name))
        )
        query.key, query.filters = fold_equalities(filters, dsd, query.key)
        if "updatedAfter" in params:
            query.updated_after = parse_timestamp("updatedAfter", params["updatedAfter"])
    except QuerySyntaxError as exc:
        raise bad_request(str(exc)) from exc
    return flow, dsd, query
