"""API tokens: random secrets shown once, stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from exchange.db import session_scope
from exchange.refs import RefError, parse_provider_ref
from exchange.store.schema import ApiToken, AuditEntry, utcnow
from exchange.structures.store import load_registry

ROLES = ("admin", "coalition", "nso")
TOKEN_PREFIX = "vx_"


class TokenError(ValueError):
    """A token cannot be created, found or revoked."""


@dataclass(frozen=True)
class Principal:
    """Who a valid token belongs to."""

    token_id: int
    name: str
    role: str
    provider: tuple[str, str] | None

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}:{self.name}"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(engine: Engine, *, name: str, role: str, provider: str | None = None) -> tuple[int, str]:
    """Issue a token; returns (id, secret). The secret is not stored and cannot be recovered."""
    if role not in ROLES:
        raise TokenError(f"Unknown role '{role}' (use {', '.join(ROLES)})")
    if role == "coalition" and not provider:
        raise TokenError("A coalition token needs --provider (the coalition's data provider id)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with session_scope(engine) as session:
        provider_ref: tuple[str, str] | None = None
        if provider:
            try:
                provider_ref = parse_provider_ref(provider, load_registry(session))
            except RefError as exc:
                raise TokenError(str(exc)) from exc
        token = ApiToken(
            name=name,
            role=role,
            provider_agency=provider_ref[0] if provider_ref else None,
            provider_id=provider_ref[1] if provider_ref else None,
            token_hash=hash_token(secret),
        )
        session.add(token)
        session.flush()
        session.add(AuditEntry(actor="cli", action="create-token", target=f"token {token.id}", detail="{}"))
        return token.id, secret


def list_tokens(engine: Engine) -> list[ApiToken]:
    with session_scope(engine) as session:
        return list(session.scalars(select(ApiToken).order_by(ApiToken.id)))


def revoke_token(engine: Engine, token_id: int, revoked_at: datetime | None = None) -> None:
    with session_scope(engine) as session:
        token = session.get(ApiToken, token_id)
        if token is None:
            raise TokenError(f"No token {token_id}")
        if token.revoked_at is None:
            token.revoked_at = revoked_at or utcnow()
            session.add(AuditEntry(actor="cli", action="revoke-token", target=f"token {token_id}", detail="{}"))


def authenticate(engine: Engine, secret: str) -> Principal | None:
    """The principal of an active token, or None for an unknown or revoked one."""
    digest = hash_token(secret)
    with session_scope(engine) as session:
        token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
        if token is None or token.revoked_at is not None or not hmac.compare_digest(token.token_hash, digest):
            return None
        provider = (token.provider_agency, token.provider_id) if token.provider_id and token.provider_agency else None
        return Principal(token.id, token.name, token.role, provider)
