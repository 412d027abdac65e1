"""Per-process service state shared by the routes: settings, engine and the registry snapshot."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import Request
from sqlalchemy import Engine

from api.errors import SdmxError
from exchange.auth import Principal, authenticate
from exchange.config import Settings
from exchange.db import session_scope
from exchange.store.schema import RegistryState
from exchange.structures.registry import Registry
from exchange.structures.store import current_revision, load_registry

REVISION_CHECK_SECONDS = 1.0
"""How stale the registry snapshot may be when another process (the CLI, another worker) changed it."""


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    _registry: Registry | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _checked_at: float = 0.0

    def registry_updated_at(self) -> datetime:
        """When structures last changed (for Last-Modified)."""
        with session_scope(self.engine) as session:
            state = session.get(RegistryState, 1)
            moment = state.updated_at if state else datetime(2020, 1, 1, tzinfo=UTC)
        return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)

    def registry(self) -> Registry:
        """The registry snapshot, reloaded when another process or request changed the structures.

        The stored revision is checked at most every ``REVISION_CHECK_SECONDS`` (structure changes made
        through this process reset the check at once, see :meth:`structures_changed`).
        """
        now = time.monotonic()
        if self._registry is not None and now - self._checked_at < REVISION_CHECK_SECONDS:
            return self._registry
        self._checked_at = now
        with session_scope(self.engine) as session:
            revision = current_revision(session)
            if self._registry is not None and self._registry.revision == revision:
                return self._registry
            with self._lock:
                if self._registry is None or self._registry.revision != revision:
                    self._registry = load_registry(session)
                return self._registry

    def structures_changed(self) -> None:
        """Forget the last revision check: the next request re-reads the revision."""
        self._checked_at = 0.0


def service(request: Request) -> ServiceContext:
    return request.app.state.service


def require_token(request: Request, role: str | None = None) -> Principal:
    """The caller's principal from ``Authorization: Bearer``; 401 without a valid token, 403 without the role."""
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    challenge = {"WWW-Authenticate": 'Bearer realm="voices-exchange"'}
    if scheme.lower() != "bearer" or not secret.strip():
        raise SdmxError(401, "This operation needs an API token: send 'Authorization: Bearer <token>'.", 110, challenge)
    principal = authenticate(service(request).engine, secret.strip())
    if principal is None:
        raise SdmxError(401, "The API token is unknown or has been revoked.", 110, challenge)
    if role is not None and principal.role != role:
        raise SdmxError(403, f"This operation needs a token with the '{role}' role; yours is '{principal.role}'.", 150)
    return principal
