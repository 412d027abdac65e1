"""SDMX REST data endpoints: REST 1.5 ``/data/{flow}/{key}/{provider}`` and REST 2.x
``/data/{context}/{agency}/{id}/{version}/{key}``, streamed in every supported format."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from itertools import chain
from math import prod

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from api.caching import make_etag, not_modified, validator_headers
from api.context import service
from api.errors import SdmxError, bad_request, not_found
from api.negotiation import MediaOption, negotiate_with_params
from api.query_parsing import check_params, v1_query, v2_query
from exchange.formats.data_message import WriteOptions
from exchange.formats.data_writers import UnrepresentableMessage, write_message
from exchange.query.engine import DataQueryEngine
from exchange.query.params import (
    DataQuery,
    QuerySyntaxError,
    parse_positive_int,
    parse_timestamp,
)
from exchange.structures.model import Dataflow

router = APIRouter()

DATA_OPTIONS = {
    "generic21": MediaOption("generic21", "application/vnd.sdmx.genericdata+xml", "2.1", ("genericdata",)),
    "generic21ts": MediaOption(
        "generic21ts", "application/vnd.sdmx.generictimeseriesdata+xml", "2.1", ("generictimeseriesdata",)
    ),
    "ss21": MediaOption("ss21", "application/vnd.sdmx.structurespecificdata+xml", "2.1", ("structurespecificdata",)),
    "ss21ts": MediaOption(
        "ss21ts",
        "application/vnd.sdmx.structurespecifictimeseriesdata+xml",
        "2.1",
        ("structurespecifictimeseriesdata",),
    ),
    "ml30": MediaOption("ml30", "application/vnd.sdmx.data+xml", "3.0.0", ("sdmx-ml-3.0", "xml30")),
    "json10": MediaOption("json10", "application/vnd.sdmx.data+json", "1.0.0", ("jsondata", "sdmx-json-1.0")),
    "json20": MediaOption("json20", "application/vnd.sdmx.data+json", "2.0.0", ("sdmx-json-2.0", "json20")),
    "csv10": MediaOption("csv10", "application/vnd.sdmx.data+csv", "1.0.0", ("csvfile", "sdmx-csv-1.0")),
    "csv20": MediaOption("csv20", "application/vnd.sdmx.data+csv", "2.0.0", ("csv", "sdmx-csv-2.0")),
}
_GENERIC = {
    "v1": {"application/xml": "generic21", "text/xml": "generic21", "application/json": "json10", "text/csv": "csv10"},
    "v2": {"application/xml": "ml30", "text/xml": "ml30", "application/json": "json20", "text/csv": "csv20"},
}
_DEFAULT = {"v1": "generic21", "v2": "json20"}
_TIME_SERIES_ONLY = {"generic21ts", "ss21ts"}
V1_PARAMS = {
    "startPeriod",
    "endPeriod",
    "updatedAfter",
    "firstNObservations",
    "lastNObservations",
    "dimensionAtObservation",
    "detail",
    "includeHistory",
    "format",
    "labels",
    "timeFormat",
}
V2_PARAMS = {
    "updatedAfter",
    "firstNObservations",
    "lastNObservations",
    "dimensionAtObservation",
    "attributes",
    "measures",
    "includeHistory",
    "offset",
    "limit",
    "sort",
    "asOf",
    "format",
    "labels",
    "timeFormat",
    "reportingYearStartDay",
}


def _bool(name: str, value: str | None) -> bool:
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise bad_request(f"{name} must be true or false, not '{value}'")


def _common(request: Request, query: DataQuery) -> None:
    """The data parameters both API versions share (beyond the base query)."""
    params = request.query_params
    try:
        _common_values(params, query)
    except QuerySyntaxError as exc:
        raise bad_request(str(exc)) from exc


def _common_values(params, query: DataQuery) -> None:  # type: ignore[no-untyped-def]
    if "firstNObservations" in params:
        query.first_n = parse_positive_int("firstNObservations", params["firstNObservations"])
    if "lastNObservations" in params:
        query.last_n = parse_positive_int("lastNObservations", params["lastNObservations"])
    if "dimensionAtObservation" in params:
        query.dimension_at_observation = params["dimensionAtObservation"]
    query.include_history = _bool("includeHistory", params.get("includeHistory"))


@router.get("/sdmx/v1/data/{flow_ref}", tags=["data (REST 1.5)"])
@router.get("/sdmx/v1/data/{flow_ref}/{key}", tags=["data (REST 1.5)"])
@router.get("/sdmx/v1/data/{flow_ref}/{key}/{provider_ref}", tags=["data (REST 1.5)"])
def data_v1(request: Request, flow_ref: str, key: str = "all", provider_ref: str = "all") -> Response:
    """SDMX REST 1.5 data query."""
    check_params(request, V1_PARAMS, filters=False)
    option, media_params = _choose(request, "v1")
    flow, _, query = v1_query(request, flow_ref, key, provider_ref)
    detail = request.query_params.get("detail", "full")
    if detail not in ("full", "dataonly", "serieskeysonly", "nodata"):
        raise bad_request(f"Unknown detail '{detail}' (use full, dataonly, serieskeysonly or nodata)")
    query.detail = detail  # type: ignore[assignment]
    _common(request, query)
    return _answer(request, "v1", flow, query, option, media_params)


@router.get("/sdmx/v2/data/{context}/{agency_id}/{resource_id}/{version}", tags=["data (REST 2.x)"])
@router.get("/sdmx/v2/data/{context}/{agency_id}/{resource_id}/{version}/{key}", tags=["data (REST 2.x)"])
def data_v2(request: Request, context: str, agency_id: str, resource_id: str, version: str, key: str = "*") -> Response:
    """SDMX REST 2.x data query."""
    check_params(request, V2_PARAMS, filters=True)
    option, media_params = _choose(request, "v2")
    flow, dsd, query = v2_query(request, context, agency_id, resource_id, version, key)
    params = request.query_params
    _common(request, query)
    try:
        if "asOf" in params:
            query.as_of = parse_timestamp("asOf", params["asOf"])
            if query.updated_after and query.updated_after > query.as_of:
                raise QuerySyntaxError("updatedAfter is later than asOf")
        if "offset" in params:
            query.offset = int(params["offset"]) if params["offset"].isdigit() else -1
            if query.offset < 0:
                raise QuerySyntaxError("offset must be a non-negative integer")
        if "limit" in params:
            query.limit = parse_positive_int("limit", params["limit"])
        if params.get("reportingYearStartDay", "--01-01") != "--01-01":
            raise SdmxError(501, "Reporting years starting on another day than --01-01 are not supported.")
        if params.get("sort", "series_key") not in ("series_key", "series_key:asc"):
            raise SdmxError(501, "Only sort=series_key (ascending, the default order) is supported.")
        _attributes_and_measures(query, params.get("attributes", "dsd"), params.get("measures", "all"), dsd)
    except QuerySyntaxError as exc:
        raise bad_request(str(exc)) from exc
    return _answer(request, "v2", flow, query, option, media_params)


def _attributes_and_measures(query: DataQuery, attributes: str, measures: str, dsd) -> None:  # type: ignore[no-untyped-def]
    levels = {"dataset": ("dataset",), "series": ("series", "group"), "obs": ("observation",)}
    wanted = attributes.split(",")
    if wanted in (["dsd"], ["all"]):
        query.attributes = None
    elif wanted == ["none"]:
        query.attributes = ()
    else:
        ids: list[str] = []
        known = {a.id: a for a in dsd.attributes}
        for item in wanted:
            if item in levels:
                ids += [a.id for a in dsd.attributes if a.attachment in levels[item]]
            elif item in known:
                ids.append(item)
            elif item == "msd":
                continue
            else:
                raise QuerySyntaxError(f"attributes: '{item}' is neither a keyword nor an attribute of {dsd.ref}")
        query.attributes = tuple(dict.fromkeys(ids))
    measure_ids = {m.id for m in dsd.measures}
    if measures == "none":
        query.measures = False
    elif measures != "all" and not set(measures.split(",")) <= measure_ids:
        raise QuerySyntaxError(f"measures: use all, none or {', '.join(sorted(measure_ids))}")


def _choose(request: Request, api: str) -> tuple[MediaOption, dict[str, str]]:
    generic = {media: DATA_OPTIONS[key] for media, key in _GENERIC[api].items()}
    return negotiate_with_params(
        request.headers.get("accept"),
        request.query_params.get("format"),
        list(DATA_OPTIONS.values()),
        DATA_OPTIONS[_DEFAULT[api]],
        generic,
    )


def _answer(
    request: Request, api: str, flow: Dataflow, query: DataQuery, option: MediaOption, media_params: dict[str, str]
) -> Response:
    context = service(request)
    registry = context.registry()  # once, before any connection is held by the streams
    engine = DataQueryEngine(context.engine, registry)
    if option.key in _TIME_SERIES_ONLY and query.dimension_at_observation != "TIME_PERIOD":
        raise SdmxError(406, f"{option.media_type} carries time series only; use dimensionAtObservation=TIME_PERIOD")
    try:
        limit = context.settings.max_response_observations
        if (
            limit
            and not _few_series(query, registry.structure_of(flow))
            and engine.count(flow, query) > limit
        ):
            raise SdmxError(
                413,
                f"The query would return more than {limit:,} observations. Narrow it with a more specific key, "
                "startPeriod/endPeriod (or c[TIME_PERIOD]), lastNObservations or a provider.",
                510,
            )
        result = engine.run(flow, query)
    except QuerySyntaxError as exc:
        raise bad_request(str(exc)) from exc
    datasets = _non_empty(result.datasets) if result is not None else []
    if result is None or not datasets:
        if api == "v2":
            return Response(status_code=204)
        raise not_found("No data match the query")
    etag = make_etag(
        flow.urn,
        result.snapshot_tag,
        request.url.path,
        sorted(request.query_params.items()),
        option.key,
        sorted(media_params.items()),
    )
    headers = validator_headers(etag, result.last_modified, "Accept, Accept-Encoding")
    if not_modified(request, etag, result.last_modified):
        return Response(status_code=304, headers=headers)
    options = _write_options(request, query, media_params, registry, datasets[0][0].structure, option.key)
    message_id = f"IREF{uuid.uuid4().hex[:12].upper()}"
    prepared = datetime.now(UTC).replace(microsecond=0)
    for info, _ in datasets:
        info.message_id, info.prepared = message_id, prepared
    if option.media_type.endswith("csv"):
        name = f"{flow.agency}-{flow.id}-{flow.version}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    try:
        body = write_message(option.key, datasets, options)
    except UnrepresentableMessage as exc:
        raise SdmxError(406, str(exc)) from exc
    return StreamingResponse(body, media_type=_content_type(option, media_params), headers=headers)


def _non_empty(datasets):  # type: ignore[no-untyped-def]
    """The data sets that have at least one series, each with its first series put back in front."""
    found = []
    for info, blocks in datasets:
        first = next(blocks, None)
        if first is not None:
            found.append((info, chain([first], blocks)))
    return found


def _few_series(query: DataQuery, dsd) -> bool:  # type: ignore[no-untyped-def]
    """A key naming every dimension with a handful of codes cannot reach the response limit."""
    counts = [len(query.key.get(d.id, ())) for d in dsd.dimensions]
    return all(counts) and prod(counts) <= 100


def _write_options(  # type: ignore[no-untyped-def]
    request: Request, query: DataQuery, media_params: dict[str, str], registry, dsd, option_key: str
) -> WriteOptions:
    params = request.query_params
    labels = media_params.get("labels", params.get("labels", "id"))
    time_format = media_params.get("timeformat", media_params.get("timeFormat", params.get("timeFormat", "original")))
    if labels not in ("id", "both", "name"):
        raise bad_request(f"labels must be id, both or name, not '{labels}'")
    if labels == "name" and option_key == "csv10":
        raise SdmxError(406, "SDMX-CSV 1.0 has labels=id or labels=both only; ask for SDMX-CSV 2.0 for labels=name")
    if time_format not in ("original", "normalized"):
        raise bad_request(f"timeFormat must be original or normalized, not '{time_format}'")
    return WriteOptions(
        detail=query.detail,
        labels=labels,  # type: ignore[arg-type]
        time_format=time_format,  # type: ignore[arg-type]
        label=_labeller(registry, dsd) if labels != "id" else None,
        attributes=query.attributes,
        measures=query.measures,
    )


def _labeller(registry, dsd):  # type: ignore[no-untyped-def]
    """label(component, code) → English name of the code; label(component, "") → the component's name."""
    names: dict[str, dict[str, str]] = {}
    for component in dsd.components:
        concept = registry.concept(component.concept)
        entry = {"": concept.name.get("en", component.id)} if concept is not None else {}
        enum = component.representation.enumeration if component.representation else None
        codelist = registry.get(enum.maintainable) if enum is not None else None
        if codelist is not None:
            entry.update({i.id: i.name.get("en", i.id) for i in codelist.items})
        names[component.id] = entry

    def label(component: str, code: str) -> str:
        return names.get(component, {}).get(code, code)

    return label


def _content_type(option: MediaOption, media_params: dict[str, str]) -> str:
    base = f"{option.media_type}; version={option.version}"
    if option.media_type.endswith("csv"):
        extras = "".join(f"; {k}={v}" for k, v in media_params.items() if k in ("labels", "timeFormat", "timeformat"))
        return f"{base}{extras}; charset=utf-8"
    return f"{base}; charset=utf-8"
