"""Database tables: the structure registry, the versioned observation store, tokens and the audit log.

History model: every observation version carries the release number that introduced it
(``from_release``) and the one that replaced or deleted it (``to_release``, NULL while current). The
content of release *N* of a dataset is therefore ``from_release <= N AND (to_release IS NULL OR
to_release > N)``; nothing is ever overwritten, so any release can be served again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

BigId = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite needs INTEGER for rowid auto-increment."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class StructureArtefact(Base):
    """One version of one maintainable SDMX artefact, stored as our model's JSON."""

    __tablename__ = "structure_artefact"
    __table_args__ = (UniqueConstraint("artefact_type", "agency", "resource_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    artefact_type: Mapped[str] = mapped_column(String(32))
    agency: Mapped[str] = mapped_column(String(100))
    resource_id: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(50))
    is_final: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StructureReference(Base):
    """A reference from one stored artefact to another (the SDMX parent/child graph)."""

    __tablename__ = "structure_reference"
    __table_args__ = (Index("ix_structure_reference_target", "target_type", "target_agency", "target_id"),)

    source_id: Mapped[int] = mapped_column(ForeignKey("structure_artefact.id", ondelete="CASCADE"), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    target_agency: Mapped[str] = mapped_column(String(100), primary_key=True)
    target_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    target_version: Mapped[str] = mapped_column(String(50), primary_key=True)


class RegistryState(Base):
    """A single row whose revision changes whenever structures change (workers reload on change)."""

    __tablename__ = "registry_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Dataset(Base):
    """One data provider's dataset in one dataflow; its content changes only through releases."""

    __tablename__ = "dataset"
    __table_args__ = (
        UniqueConstraint("dataflow_agency", "dataflow_id", "dataflow_version", "provider_agency", "provider_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataflow_agency: Mapped[str] = mapped_column(String(100))
    dataflow_id: Mapped[str] = mapped_column(String(200))
    dataflow_version: Mapped[str] = mapped_column(String(50))
    provider_agency: Mapped[str] = mapped_column(String(100))
    provider_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Release(Base):
    """An immutable, numbered version of a dataset (1, 2, 3… per dataset)."""

    __tablename__ = "release"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))  # draft | published
    action: Mapped[str] = mapped_column(String(16))  # replace | merge | delete
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(200), default="")
    source_name: Mapped[str] = mapped_column(Text, default="")
    source_format: Mapped[str] = mapped_column(String(64), default="")
    source_sha256: Mapped[str] = mapped_column(String(64), default="", index=True)
    observation_count: Mapped[int] = mapped_column(Integer, default=0)
    series_count: Mapped[int] = mapped_column(Integer, default=0)
    dataset_attributes: Mapped[str] = mapped_column(Text, default="{}")


class Series(Base):
    """A series key within a dataset; its dimension values are indexed in :class:`SeriesDimension`."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("dataset_id", "series_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("dataset.id"))
    series_key: Mapped[str] = mapped_column(Text)


class SeriesDimension(Base):
    """One dimension value of a series: the index behind partial-key and wildcard queries."""

    __tablename__ = "series_dimension"
    __table_args__ = (Index("ix_series_dimension_lookup", "dataset_id", "position", "value", "series_id"),)

    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(Integer)
    value: Mapped[str] = mapped_column(String(200))


class SeriesAttributes(Base):
    """Series-level attribute values, versioned by release like observations."""

    __tablename__ = "series_attributes"
    __table_args__ = (Index("ix_series_attributes_series", "series_id", "from_release"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    from_release: Mapped[int] = mapped_column(Integer)
    to_release: Mapped[int | None] = mapped_column(Integer)
    attributes: Mapped[str] = mapped_column(Text)


class Observation(Base):
    """One version of one observation (series × time period)."""

    __tablename__ = "observation"
    __table_args__ = (
        Index("ix_observation_series_period", "series_id", "period_start"),
        Index("ix_observation_series_release", "series_id", "from_release"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id"))
    time_period: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(DateTime)
    period_end: Mapped[datetime] = mapped_column(DateTime)
    obs_value: Mapped[float | None] = mapped_column(Float)
    attributes: Mapped[str | None] = mapped_column(Text)
    from_release: Mapped[int] = mapped_column(Integer)
    to_release: Mapped[int | None] = mapped_column(Integer)


class ApiToken(Base):
    """A bearer token; only its SHA-256 hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))  # admin | coalition | nso
    provider_agency: Mapped[str | None] = mapped_column(String(100))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Who wrote what, when: one row per write made with a token or from the CLI."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="{}")


class Upload(Base):
    """One upload (or CLI load) of a file: what came in, what was decided, which release it made."""

    __tablename__ = "upload"
    __table_args__ = (Index("ix_upload_identity", "content_sha256", "spec_sha256", "dataset_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("dataset.id"))
    dataflow: Mapped[str] = mapped_column(String(300))
    provider: Mapped[str] = mapped_column(String(300))
    filename: Mapped[str] = mapped_column(Text, default="")
    content_sha256: Mapped[str] = mapped_column(String(64))
    spec_sha256: Mapped[str] = mapped_column(String(64), default="")
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)
    action: Mapped[str] = mapped_column(String(16))
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16))  # refused | validated | stored | duplicate
    release_id: Mapped[int | None] = mapped_column(ForeignKey("release.id"))
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[str] = mapped_column(Text, default="{}")


class Job(Base):
    """A long upload processed in the background; any worker can report its state."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_token.id"))
    provider: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    progress: Mapped[int] = mapped_column(Integer, default=0)
    """Observations read so far."""
    result: Mapped[str] = mapped_column(Text, default="{}")
    http_status: Mapped[int | None] = mapped_column(Integer)
    """The status the synchronous request would have answered (201, 200, 422, 400, 409)."""
