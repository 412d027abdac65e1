"""Background upload jobs: state kept in the database so any worker can answer, stale jobs detected.

A job that stops reporting progress for longer than the stale limit (its process was killed) is
reported as failed; its release was never committed, because storing a release is one transaction.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update

from exchange.db import session_scope
from exchange.ingest import LoadRefused
from exchange.store.schema import Job, utcnow
from exchange.structures.registry import Registry
from exchange.uploads import UploadConflict, UploadRequest, process_upload

FINISHED = ("done", "failed")
HEARTBEAT_SECONDS = 5.0
"""A running job touches its row this often, so a stopped process is told apart from a slow step."""
INTERRUPTED = "The server stopped while processing this upload; nothing was stored. Upload the file again."


def create_job(engine: Engine, request: UploadRequest) -> int:
    """Register a queued upload job."""
    with session_scope(engine) as session:
        job = Job(actor=request.actor, token_id=request.token_id, provider=":".join(request.provider), state="queued")
        session.add(job)
        session.flush()
        return job.id


def run_upload_job(engine: Engine, registry: Registry, data_dir: Path, job_id: int, request: UploadRequest) -> None:
    """Process the upload and record its outcome on the job."""
    _update(engine, job_id, state="running")
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(engine, job_id, stop), daemon=True)
    beat.start()
    try:
        outcome = process_upload(
            engine, registry, data_dir, request, progress=lambda n: _update(engine, job_id, progress=n)
        )
        status = {"stored": 201, "refused": 422}.get(outcome.status, 200)
        _update(
            engine,
            job_id,
            state="done",
            http_status=status,
            progress=outcome.report.observations,
            result=json.dumps(outcome.to_dict(), ensure_ascii=False),
        )
    except LoadRefused as exc:
        _update(engine, job_id, state="failed", http_status=400, result=json.dumps({"error": str(exc)}))
    except UploadConflict as exc:
        _update(engine, job_id, state="failed", http_status=409, result=json.dumps({"error": str(exc)}))
    except Exception as exc:
        _update(engine, job_id, state="failed", http_status=500, result=json.dumps({"error": f"Internal error: {exc}"}))
        raise
    finally:
        stop.set()


def _heartbeat(engine: Engine, job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        _update(engine, job_id)


def job_state(engine: Engine, job_id: int, stale_after: float, wait: float = 0.0) -> dict[str, object] | None:
    """The job as a dict (None if unknown); waits up to ``wait`` seconds for it to finish."""
    deadline = time.monotonic() + wait
    while True:
        with session_scope(engine) as session:
            job = session.get(Job, job_id)
            if job is None:
                return None
            if job.state not in FINISHED and utcnow() - _aware(job.updated_at) > timedelta(seconds=stale_after):
                job.state, job.http_status, job.result = "failed", 500, json.dumps({"error": INTERRUPTED})
            state = {
                "job": job.id,
                "state": job.state,
                "provider": job.provider,
                "progress": {"observations_read": job.progress},
                "created_at": _aware(job.created_at).isoformat(),
                "updated_at": _aware(job.updated_at).isoformat(),
                "http_status": job.http_status,
                "result": json.loads(job.result),
            }
        if state["state"] in FINISHED or time.monotonic() >= deadline:
            return state
        time.sleep(0.2)


def _update(engine: Engine, job_id: int, **values: object) -> None:
    with session_scope(engine) as session:
        session.execute(update(Job).where(Job.id == job_id).values(updated_at=utcnow(), **values))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
