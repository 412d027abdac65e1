"""Service settings, read from ``VOICES_*`` environment variables (documented in the README)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"VOICES_{name}", default)


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=lambda: Path(_env("DATA_DIR", "data")).resolve())
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", ""))
    host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_env("PORT", "8000")))
    log_level: str = field(default_factory=lambda: _env("LOG_LEVEL", "info").lower())
    max_upload_bytes: int = field(default_factory=lambda: int(_env("MAX_UPLOAD_BYTES", str(200 * 1024 * 1024))))
    max_response_observations: int = field(default_factory=lambda: int(_env("MAX_RESPONSE_OBSERVATIONS", "5000000")))
    async_upload_bytes: int = field(default_factory=lambda: int(_env("ASYNC_UPLOAD_BYTES", str(5 * 1024 * 1024))))
    """Uploads larger than this run as background jobs (202 + job URL)."""
    job_stale_seconds: float = field(default_factory=lambda: float(_env("JOB_STALE_SECONDS", "60")))
    workers: int = field(default_factory=lambda: int(_env("WORKERS", "1")))

    @property
    def db_url(self) -> str:
        """The SQLAlchemy URL: ``VOICES_DATABASE_URL`` or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'voices.sqlite'}"


def load_settings() -> Settings:
    """Settings from the current environment."""
    return Settings()
