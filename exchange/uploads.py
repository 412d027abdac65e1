"""Uploads: keep the raw file, read (and map) it, validate everything, store a release — or nothing.

Used by the HTTP upload endpoint and by ``voices load``. Every file is first written to a
content-addressed store (``<data dir>/uploads/ab/abcdef…``) so any release can be rebuilt from its
source; every attempt is recorded in the ``upload`` table with its report, refused or not.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.exc import IntegrityError

from exchange.db import session_scope
from exchange.formats.data_readers import read_data_message
from exchange.formats.records import DataMessage, MessageError, ObservationRecord
from exchange.ingest import ACTIONS, LoadRefused, store_validated
from exchange.store.releases import ReleaseSource
from exchange.store.schema import Dataset, Release, Upload
from exchange.structures.model import Ref
from exchange.structures.registry import Registry
from exchange.validation.report import Problem, ValidationReport
from exchange.validation.validator import Validator
from mappings.engine import apply_mapping
from mappings.readers import read_table_with_hints
from mappings.spec import SpecError, load_spec
from mappings.table import TableError

PREVIEW_OBSERVATIONS = 20
PROGRESS_EVERY = 10_000


class UploadConflict(RuntimeError):
    """Another upload to the same dataset was stored at the same moment (retry)."""


@dataclass(frozen=True)
class UploadRequest:
    content: bytes
    filename: str
    dataflow: Ref
    provider: tuple[str, str]
    action: str = "replace"
    dry_run: bool = False
    publish: bool = False
    actor: str = "cli"
    token_id: int | None = None
    spec_text: str | None = None
    """A mapping spec (YAML): the file is then a CSV/XLSX table mapped by it, not an SDMX message."""

    @property
    def spec_sha256(self) -> str:
        return hashlib.sha256(self.spec_text.encode()).hexdigest() if self.spec_text is not None else ""


@dataclass
class UploadOutcome:
    status: str
    """``validated`` (dry run, no error), ``refused`` (errors; nothing stored), ``stored`` or ``duplicate``."""
    upload_id: int
    report: ValidationReport
    release_number: int | None = None
    release_status: str | None = None
    changed_observations: int = 0
    message: str = ""
    preview: list[ObservationRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "upload": self.upload_id,
            "release": self.release_number,
            "release_status": self.release_status,
            "changed_observations": self.changed_observations,
            "message": self.message,
            "report": self.report.to_dict(),
        }


def raw_path(data_dir: Path, sha256: str) -> Path:
    """Where the raw file with this hash is kept."""
    return data_dir / "uploads" / sha256[:2] / sha256


def keep_raw(data_dir: Path, content: bytes, sha256: str) -> Path:
    """Write the raw file once (atomically); later uploads of the same bytes reuse it."""
    path = raw_path(data_dir, sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_bytes(content)
        temporary.replace(path)
    return path


def process_upload(
    engine: Engine,
    registry: Registry,
    data_dir: Path,
    request: UploadRequest,
    progress: Callable[[int], None] | None = None,
) -> UploadOutcome:
    """Validate an SDMX data file for the provider's dataset and store it as a release (unless a dry run).

    Raises :class:`LoadRefused` for input that cannot be read at all (nothing is stored but the record
    of the attempt), :class:`UploadConflict` when a concurrent upload took the release number.
    """
    if not request.content.strip():
        raise LoadRefused("The file is empty.")
    if request.action not in ACTIONS:
        raise LoadRefused(f"Unknown action '{request.action}' (use replace, merge or delete).")
    sha256 = hashlib.sha256(request.content).hexdigest()
    keep_raw(data_dir, request.content, sha256)
    duplicate = _find_duplicate(engine, request, sha256)
    if duplicate is not None:
        return duplicate
    flow = registry.dataflow(request.dataflow)
    validator = Validator(registry, flow)
    preview: list[ObservationRecord] = []
    try:
        message, mapping_problems = _read(registry, data_dir, request, validator)
        validated = validator.validate(
            DataMessage(
                _tee(message.observations, preview, progress),
                format=message.format,
                dataset_attributes=message.dataset_attributes,
            )
        )
    except MessageError as exc:
        where = exc.location.describe()
        text = f"The file cannot be read as SDMX data{' (' + where + ')' if where else ''}: {exc}"
        _record(engine, request, sha256, "refused", ValidationReport(), message=text)
        raise LoadRefused(text) from exc
    except LoadRefused as exc:
        _record(engine, request, sha256, "refused", ValidationReport(), message=str(exc))
        raise
    for problem in mapping_problems:
        validated.report.add(problem)
    report = validated.report
    if not report.ok or request.dry_run:
        status = "refused" if not report.ok else "validated"
        upload_id = _record(engine, request, sha256, status, report)
        return UploadOutcome(status, upload_id, report, preview=preview)
    source = ReleaseSource(request.filename, message.format, sha256, request.actor)
    try:
        result = store_validated(
            engine,
            validated,
            provider=request.provider,
            action=request.action,
            publish=request.publish,
            source=source,
            token_id=request.token_id,
        )
    except IntegrityError as exc:
        raise UploadConflict("Another upload to this dataset was stored at the same time; try again.") from exc
    upload_id = _record(engine, request, sha256, "stored", report, release_number=result.release_number)
    return UploadOutcome(
        "stored", upload_id, report, result.release_number, result.status, result.changed_observations, preview=preview
    )


def _read(
    registry: Registry, data_dir: Path, request: UploadRequest, validator: Validator
) -> tuple[DataMessage, list[Problem]]:
    """The upload as a data message: an SDMX message as is, or a table through its mapping spec."""
    if request.spec_text is None:
        return read_data_message(io.BytesIO(request.content), validator.dsd), []
    keep_raw(data_dir, request.spec_text.encode(), request.spec_sha256)
    try:
        spec = load_spec(request.spec_text)
    except SpecError as exc:
        raise LoadRefused(f"The mapping spec is not valid: {exc}") from exc
    try:
        table = read_table_with_hints(request.content, request.filename, spec.input)
    except TableError as exc:
        raise LoadRefused(str(exc)) from exc
    mapped = apply_mapping(table, spec, registry)
    if mapped.dataflow is not None and mapped.dataflow.ref != validator.dataflow.ref:
        raise LoadRefused(
            f"The mapping spec maps to {mapped.dataflow.ref}, but the upload is for {validator.dataflow.ref}"
        )
    warnings = [Problem("table-reader", w, severity="warning") for w in table.warnings]
    return mapped.message, warnings + mapped.problems


def _tee(records, sink: list[ObservationRecord], progress: Callable[[int], None] | None):  # type: ignore[no-untyped-def]
    """Pass records through, keeping the first few for the preview and reporting progress."""
    for count, record in enumerate(records, start=1):
        if len(sink) < PREVIEW_OBSERVATIONS:
            sink.append(record)
        if progress is not None and count % PROGRESS_EVERY == 0:
            progress(count)
        yield record


def _dataset_id(session, request: UploadRequest) -> int | None:  # type: ignore[no-untyped-def]
    flow = request.dataflow
    return session.scalar(
        select(Dataset.id).where(
            Dataset.dataflow_agency == flow.agency,
            Dataset.dataflow_id == flow.id,
            Dataset.dataflow_version == flow.version,
            Dataset.provider_agency == request.provider[0],
            Dataset.provider_id == request.provider[1],
        )
    )


def _find_duplicate(engine: Engine, request: UploadRequest, sha256: str) -> UploadOutcome | None:
    """An identical earlier upload (same bytes, dataset and action) that made a release."""
    if request.dry_run:
        return None
    with session_scope(engine) as session:
        dataset_id = _dataset_id(session, request)
        if dataset_id is None:
            return None
        found = session.execute(
            select(Upload.id, Release.number, Release.status)
            .join(Release, Release.id == Upload.release_id)
            .where(
                Upload.content_sha256 == sha256,
                Upload.spec_sha256 == request.spec_sha256,
                Upload.dataset_id == dataset_id,
                Upload.action == request.action,
                Upload.status == "stored",
            )
            .order_by(Upload.id.desc())
        ).first()
    if found is None:
        return None
    report = ValidationReport()
    message = f"Identical to upload {found.id}, which made release {found.number}; no new release was created."
    upload_id = _record(engine, request, sha256, "duplicate", report, release_number=found.number, message=message)
    return UploadOutcome("duplicate", upload_id, report, found.number, found.status, message=message)


def _record(
    engine: Engine,
    request: UploadRequest,
    sha256: str,
    status: str,
    report: ValidationReport,
    release_number: int | None = None,
    message: str = "",
) -> int:
    with session_scope(engine) as session:
        dataset_id = _dataset_id(session, request)
        release_id = None
        if release_number is not None and dataset_id is not None:
            release_id = session.scalar(
                select(Release.id).where(Release.dataset_id == dataset_id, Release.number == release_number)
            )
        upload = Upload(
            actor=request.actor,
            token_id=request.token_id,
            dataset_id=dataset_id,
            dataflow=str(request.dataflow),
            provider=f"{request.provider[0]}:{request.provider[1]}",
            filename=request.filename,
            content_sha256=sha256,
            spec_sha256=request.spec_sha256,
            size=len(request.content),
            action=request.action,
            dry_run=request.dry_run,
            status=status,
            release_id=release_id,
            errors=report.error_count,
            warnings=report.warning_count,
            observations=report.observations,
            report=json.dumps({"message": message, **report.to_dict()}, ensure_ascii=False),
        )
        session.add(upload)
        session.flush()
        return upload.id
