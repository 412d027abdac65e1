"""Storing validated data as a new release, all or nothing (used by uploads, the CLI and the demo)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine

from exchange.db import session_scope
from exchange.store.releases import Action, ReleaseSource, dataset_for, store_release
from exchange.store.schema import AuditEntry
from exchange.structures.model import Ref
from exchange.validation.report import ValidationReport
from exchange.validation.validator import ValidatedData

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
