"""HTTP validators for SDMX responses: ETag / Last-Modified and conditional requests (304)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request


def make_etag(*parts: object) -> str:
    """A strong ETag from everything that determines a response's bytes."""
    return '"' + hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:32] + '"'


def validator_headers(etag: str, last_modified: datetime, vary: str) -> dict[str, str]:
    return {
        "ETag": etag,
        "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True),
        "Vary": vary,
    }


def not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """True when If-None-Match matches the ETag, or (without it) If-Modified-Since is not older."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since:
        try:
            return last_modified.replace(microsecond=0) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False
