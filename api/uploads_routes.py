"""Coalition uploads and releases: upload (or dry-run) a data file, read its report, publish a release.

Writes need a bearer token: a coalition token writes only to its own data provider; an administrator
names the provider. Every write is audited.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from api.context import require_token, service
from api.errors import SdmxError, bad_request, not_found
from api.uploads import read_body
from exchange.annotate import annotated_rows, report_of, to_csv, to_xlsx
from exchange.auth import Principal
from exchange.db import session_scope
from exchange.ingest import LoadRefused
from exchange.jobs import create_job, job_state, run_upload_job
from exchange.refs import RefError, parse_flow_ref, parse_provider_ref
from exchange.store.releases import ReleaseStateError, publish_release
from exchange.store.schema import AuditEntry, Dataset, Release, Upload
from exchange.structures.model import Ref
from exchange.uploads import UploadConflict, UploadRequest, process_upload, raw_path
from mappings.spec import SpecError, load_spec, spec_json_schema
from mappings.table import TableError

router = APIRouter(prefix="/api/v1", tags=["uploads and releases"])

UPLOAD_PARAMS = {"dataflow", "provider", "action", "dry_run", "filename", "async"}


def _writer(request: Request) -> Principal:
    principal = require_token(request)
    if principal.role not in ("admin", "coalition"):
        raise SdmxError(403, f"A '{principal.role}' token cannot upload or publish data.", 150)
    return principal


def _target(request: Request, principal: Principal, flow_text: str, provider_text: str | None):  # type: ignore[no-untyped-def]
    registry = service(request).registry()
    try:
        flow = parse_flow_ref(flow_text, registry)
    except RefError as exc:
        raise not_found(str(exc)) from exc
    if principal.role == "coalition":
        assert principal.provider is not None
        if provider_text and parse_provider_ref(provider_text, registry) != principal.provider:
            raise SdmxError(403, f"This token writes for {principal.provider[0]}:{principal.provider[1]} only.", 150)
        return registry, flow, principal.provider
    if not provider_text:
        raise bad_request("Name the data provider (provider=AGENCY:ID) when uploading with an admin token")
    try:
        return registry, flow, parse_provider_ref(provider_text, registry)
    except RefError as exc:
        raise not_found(str(exc)) from exc


@router.post("/uploads")
async def upload(request: Request) -> Response:
    """Upload data as a draft release; ``dry_run=true`` only validates.

    The body is either an SDMX data message, or ``multipart/form-data`` with a ``file`` (CSV/XLSX table)
    and a ``spec`` (YAML mapping spec; its dataflow is used when ``dataflow`` is not given).
    201: stored as a draft release; 200: valid dry run or identical re-upload; 422: the report lists every
    problem and nothing was stored; 400: the file or spec cannot be read; 409: a concurrent upload won.
    """
    principal = _writer(request)
    params = request.query_params
    unknown = sorted(set(params) - UPLOAD_PARAMS)
    if unknown:
        raise bad_request(f"Unknown query parameter(s): {', '.join(unknown)}")
    dry_run = params.get("dry_run", "false")
    if dry_run not in ("true", "false"):
        raise bad_request("dry_run must be true or false")
    context = service(request)
    body, filename, spec_text = await _body(request, context.settings.max_upload_bytes)
    flow_text = params.get("dataflow") or _spec_dataflow(spec_text)
    if not flow_text:
        raise bad_request("dataflow is required, e.g. dataflow=LNOB:DF_LNOB(1.0)")
    registry, flow, provider = _target(request, principal, flow_text, params.get("provider"))
    upload_request = UploadRequest(
        content=body,
        filename=params.get("filename", filename),
        spec_text=spec_text,
        dataflow=flow,
        provider=provider,
        action=params.get("action", "replace"),
        dry_run=dry_run == "true",
        actor=principal.actor,
        token_id=principal.token_id,
    )
    run_async = params.get("async", "auto")
    if run_async not in ("true", "false", "auto"):
        raise bad_request("async must be true, false or auto")
    if run_async == "true" or (run_async == "auto" and len(body) > context.settings.async_upload_bytes):
        job_id = create_job(context.engine, upload_request)
        request.app.state.jobs.submit(
            run_upload_job, context.engine, registry, context.settings.data_dir, job_id, upload_request
        )
        location = f"/api/v1/jobs/{job_id}"
        return JSONResponse(
            {"job": job_id, "state": "queued", "status_url": location}, status_code=202, headers={"Location": location}
        )
    try:
        outcome = process_upload(context.engine, registry, context.settings.data_dir, upload_request)
    except LoadRefused as exc:
        raise SdmxError(400, str(exc), 140) from exc
    except UploadConflict as exc:
        raise SdmxError(409, str(exc), 150) from exc
    payload = outcome.to_dict()
    payload["preview"] = [
        {"key": r.key, "TIME_PERIOD": r.time_period, "OBS_VALUE": r.value, **r.series_attributes, **r.obs_attributes}
        for r in outcome.preview
    ]
    status = {"stored": 201, "refused": 422}.get(outcome.status, 200)
    return JSONResponse(payload, status_code=status)


async def _body(request: Request, limit: int) -> tuple[bytes, str, str | None]:
    """(file bytes, file name, spec text or None) from a raw or multipart body, within the size limit."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_body(request, limit), "", None
    declared = request.headers.get("content-length")
    if not declared or not declared.isdigit():
        raise SdmxError(411, "Multipart uploads need a Content-Length header.", 140)
    if int(declared) > limit:
        raise SdmxError(413, f"The request body is {int(declared):,} bytes; the limit is {limit:,} bytes.", 130)
    form = await request.form(max_files=2, max_fields=5)
    unknown = sorted(set(form.keys()) - {"file", "spec"})
    if unknown or "file" not in form:
        raise bad_request("Send the table as the form field 'file' and the mapping spec as 'spec'")
    upload = form["file"]
    if isinstance(upload, str):
        raise bad_request("The form field 'file' must be a file")
    content = await upload.read()
    spec = form.get("spec")
    spec_text = (
        (await spec.read()).decode("utf-8", errors="replace")
        if spec is not None and not isinstance(spec, str)
        else spec
    )
    return content, upload.filename or "", spec_text


def _spec_dataflow(spec_text: str | None) -> str | None:
    """The dataflow a spec names (for uploads that do not say it), or None."""
    if not spec_text:
        return None
    try:
        return load_spec(spec_text).dataflow
    except SpecError as exc:
        raise SdmxError(400, f"The mapping spec is not valid: {exc}", 140) from exc


@router.get("/mapping-spec/schema")
def mapping_spec_schema() -> Response:
    """The JSON Schema of mapping specs (YAML files validate against it as JSON)."""
    return JSONResponse(spec_json_schema(), media_type="application/schema+json")


@router.get("/jobs/{job_id}")
def job(request: Request, job_id: int, wait: float = 0) -> Response:
    """A background upload's state and, when done, its result; ``wait`` long-polls up to 60 s."""
    principal = require_token(request)
    context = service(request)
    state = job_state(context.engine, job_id, context.settings.job_stale_seconds, min(max(wait, 0), 60))
    if state is None:
        raise not_found(f"No job {job_id}")
    _check_owner(principal, str(state["provider"]), "job")
    return JSONResponse(state)


@router.get("/uploads/{upload_id}")
def upload_report(request: Request, upload_id: int) -> Response:
    """An upload's record and full validation report (its coalition or an administrator)."""
    principal = require_token(request)
    with session_scope(service(request).engine) as session:
        found = session.get(Upload, upload_id)
        if found is None:
            raise not_found(f"No upload {upload_id}")
        _check_owner(principal, found.provider, "upload")
        payload = {
            "upload": found.id,
            "created_at": found.created_at.isoformat(),
            "dataflow": found.dataflow,
            "provider": found.provider,
            "filename": found.filename,
            "sha256": found.content_sha256,
            "action": found.action,
            "dry_run": found.dry_run,
            "status": found.status,
            "report": json.loads(found.report),
        }
    return JSONResponse(payload)


@router.get("/uploads/{upload_id}/annotated")
def annotated_copy(request: Request, upload_id: int, format: str = "csv") -> Response:
    """The uploaded table with a problems column (CSV or XLSX), formula-like cells neutralised."""
    principal = require_token(request)
    if format not in ("csv", "xlsx"):
        raise bad_request("format must be csv or xlsx")
    context = service(request)
    with session_scope(context.engine) as session:
        found = session.get(Upload, upload_id)
        if found is None:
            raise not_found(f"No upload {upload_id}")
        _check_owner(principal, found.provider, "upload")
        content_sha, spec_sha, filename, stored_report = (
            found.content_sha256,
            found.spec_sha256,
            found.filename,
            found.report,
        )
    data_dir = context.settings.data_dir
    raw = raw_path(data_dir, content_sha).read_bytes()
    spec_text = raw_path(data_dir, spec_sha).read_text(encoding="utf-8") if spec_sha else None
    try:
        header, rows = annotated_rows(raw, filename, spec_text, report_of(stored_report))
    except TableError as exc:
        raise SdmxError(
            409, f"Annotated copies are made for tables and SDMX-CSV files, not this upload: {exc}", 150
        ) from exc
    stem = (filename.rsplit(".", 1)[0] or f"upload-{upload_id}") + "-annotated"
    if format == "xlsx":
        body, media = to_xlsx(header, rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, media = to_csv(header, rows), "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{stem}.{format}"'})


@router.get("/releases/{flow}/{provider}")
def list_releases(request: Request, flow: str, provider: str) -> Response:
    """Releases of a provider's dataset, newest first (drafts only for their own coalition and admins)."""
    principal = require_token(request)
    flow_ref, provider_ref = _flow(request, flow), _provider(request, provider)
    sees_drafts = principal.role == "admin" or principal.provider == provider_ref
    with session_scope(service(request).engine) as session:
        dataset = _dataset(session, flow_ref, provider_ref)
        rows = session.scalars(
            select(Release).where(Release.dataset_id == dataset.id).order_by(Release.number.desc())
        ).all()
        releases = [
            {
                "number": r.number,
                "status": r.status,
                "action": r.action,
                "created_at": r.created_at.isoformat(),
                "published_at": r.published_at.isoformat() if r.published_at else None,
                "source": r.source_name,
                "sha256": r.source_sha256,
                "changed_observations": r.observation_count,
                "series": r.series_count,
            }
            for r in rows
            if r.status == "published" or sees_drafts
        ]
    return JSONResponse({"dataflow": str(flow_ref), "provider": ":".join(provider_ref), "releases": releases})


@router.post("/releases/{flow}/{provider}/{number}/publish")
def publish(request: Request, flow: str, provider: str, number: int) -> Response:
    """Publish a draft release: from now on anonymous SDMX queries see it."""
    principal = _writer(request)
    _, flow_ref, provider_ref = _target(request, principal, flow, provider)
    context = service(request)
    try:
        with session_scope(context.engine) as session:
            release = publish_release(session, _dataset(session, flow_ref, provider_ref), number)
            published_at = release.published_at
            session.add(
                AuditEntry(
                    actor=principal.actor,
                    token_id=principal.token_id,
                    action="publish",
                    target=f"{flow_ref} {provider_ref[0]}:{provider_ref[1]} release {number}",
                    detail="{}",
                )
            )
    except ReleaseStateError as exc:
        raise SdmxError(409, str(exc), 150) from exc
    return JSONResponse(
        {"release": number, "status": "published", "published_at": published_at.isoformat() if published_at else None}
    )


def _check_owner(principal: Principal, provider: str, what: str) -> None:
    """A coalition token sees only its own provider's uploads and jobs (403 otherwise)."""
    if principal.role == "coalition" and principal.provider and provider != ":".join(principal.provider):
        raise SdmxError(403, f"This {what} belongs to another data provider.", 150)


def _flow(request: Request, text: str) -> Ref:
    try:
        return parse_flow_ref(text, service(request).registry())
    except RefError as exc:
        raise not_found(str(exc)) from exc


def _provider(request: Request, text: str) -> tuple[str, str]:
    try:
        return parse_provider_ref(text, service(request).registry())
    except RefError as exc:
        raise not_found(str(exc)) from exc


def _dataset(session, flow: Ref, provider: tuple[str, str]) -> Dataset:  # type: ignore[no-untyped-def]
    dataset = session.scalar(
        select(Dataset).where(
            Dataset.dataflow_agency == flow.agency,
            Dataset.dataflow_id == flow.id,
            Dataset.dataflow_version == flow.version,
            Dataset.provider_agency == provider[0],
            Dataset.provider_id == provider[1],
        )
    )
    if dataset is None:
        raise not_found(f"{provider[0]}:{provider[1]} has no data in {flow}")
    return dataset
