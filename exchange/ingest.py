"""Loading an SDMX data message as a new release: read → validate everything → write, all or nothing."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

from sqlalchemy import Engine

from exchange.db import session_scope
from exchange.formats.data_readers import read_data_message
from exchange.formats.records import MessageError
from exchange.store.releases import Action, ReleaseSource, dataset_for, store_release
from exchange.store.schema import AuditEntry
from exchange.structures.model import Ref
from exchange.structures.registry import Registry
from exchange.validation.report import ValidationReport
from exchange.validation.validator import ValidatedData, Validator

ACTIONS: dict[str, Action] = {
    "replace": "replace",
    "merge": "merge",
    "append": "merge",
    "delete": "delete",
}


class LoadRefused(ValueError):
    """The data were not stored; ``report`` lists every problem when validation failed."""

    def __init__(self, message: str, report: ValidationReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class LoadResult:
    dataflow: Ref
    provider: tuple[str, str]
    release_number: int
    status: str
    changed_observations: int
    series: int
    report: ValidationReport


def load_data(
    engine: Engine,
    registry: Registry,
    content: bytes,
    *,
    dataflow: Ref,
    provider: tuple[str, str],
    action: str = "replace",
    publish: bool = True,
    source_name: str = "",
    actor: str = "cli",
    token_id: int | None = None,
    max_bytes: int | None = None,
) -> LoadResult:
    """Validate a data message against the dataflow and store it as the provider's next release.

    Raises :class:`LoadRefused` (nothing written) when the input is too large, unreadable or invalid.
    """
    if max_bytes is not None and len(content) > max_bytes:
        raise LoadRefused(f"The file is {len(content):,} bytes; the limit is {max_bytes:,} bytes.")
    if not content.strip():
        raise LoadRefused("The file is empty.")
    if action not in ACTIONS:
        raise LoadRefused(f"Unknown action '{action}' (use replace, merge or delete).")
    flow = registry.dataflow(dataflow)
    validator = Validator(registry, flow)
    try:
        message = read_data_message(io.BytesIO(content), validator.dsd)
        validated = validator.validate(message)
    except MessageError as exc:
        where = exc.location.describe()
        raise LoadRefused(f"The file cannot be read as SDMX data{' (' + where + ')' if where else ''}: {exc}") from exc
    source = ReleaseSource(
        name=source_name, format=message.format, sha256=hashlib.sha256(content).hexdigest(), created_by=actor
    )
    return store_validated(
        engine, validated, provider=provider, action=action, publish=publish, source=source, token_id=token_id
    )


def store_validated(
    engine: Engine,
    validated: ValidatedData,
    *,
    provider: tuple[str, str],
    action: str,
    publish: bool,
    source: ReleaseSource,
    token_id: int | None = None,
) -> LoadResult:
    """Store already-validated data as a release (refused, writing nothing, if validation failed)."""
    flow = validated.dataflow
    if not validated.report.ok:
        raise LoadRefused(
            f"The data do not conform to {flow.ref}: {validated.report.error_count} error(s).", validated.report
        )
    actor = source.created_by
    with session_scope(engine) as session:
        dataset = dataset_for(session, flow.ref, *provider)
        release = store_release(session, dataset, validated, action=ACTIONS[action], publish=publish, source=source)
        session.add(
            AuditEntry(
                actor=actor,
                token_id=token_id,
                action="load-data",
                target=f"{flow.ref} {provider[0]}:{provider[1]} release {release.number}",
                detail=json.dumps(
                    {
                        "sha256": source.sha256,
                        "file": source.name,
                        "action": action,
                        "changed": release.observation_count,
                    }
                ),
            )
        )
        result = LoadResult(
            flow.ref,
            provider,
            release.number,
            release.status,
            release.observation_count,
            release.series_count,
            validated.report,
        )
    return result
