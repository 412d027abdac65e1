"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 01:11:52.568493
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("provider_agency", sa.String(length=100), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "dataset",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataflow_agency", sa.String(length=100), nullable=False),
        sa.Column("dataflow_id", sa.String(length=200), nullable=False),
        sa.Column("dataflow_version", sa.String(length=50), nullable=False),
        sa.Column("provider_agency", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataflow_agency", "dataflow_id", "dataflow_version", "provider_agency", "provider_id"),
    )
    op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "structure_artefact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("artefact_type", sa.String(length=32), nullable=False),
        sa.Column("agency", sa.String(length=100), nullable=False),
        sa.Column("resource_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=50), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("artefact_type", "agency", "resource_id", "version"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_token.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_format", sa.String(length=64), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("observation_count", sa.Integer(), nullable=False),
        sa.Column("series_count", sa.Integer(), nullable=False),
        sa.Column("dataset_attributes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "number"),
    )
    with op.batch_alter_table("release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_dataset_id"), ["dataset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_release_source_sha256"), ["source_sha256"], unique=False)

    op.create_table(
        "series",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("series_key", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dataset_id", "series_key"),
    )
    op.create_table(
        "structure_reference",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_agency", sa.String(length=100), nullable=False),
        sa.Column("target_id", sa.String(length=200), nullable=False),
        sa.Column("target_version", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(["source_id"], ["structure_artefact.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("source_id", "target_type", "target_agency", "target_id", "target_version"),
    )
    with op.batch_alter_table("structure_reference", schema=None) as batch_op:
        batch_op.create_index(
            "ix_structure_reference_target", ["target_type", "target_agency", "target_id"], unique=False
        )

    op.create_table(
        "observation",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("time_period", sa.String(length=64), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("obs_value", sa.Float(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("from_release", sa.Integer(), nullable=False),
        sa.Column("to_release", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.create_index("ix_observation_series_period", ["series_id", "period_start"], unique=False)
        batch_op.create_index("ix_observation_series_release", ["series_id", "from_release"], unique=False)

    op.create_table(
        "series_attributes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("from_release", sa.Integer(), nullable=False),
        sa.Column("to_release", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("series_attributes", schema=None) as batch_op:
        batch_op.create_index("ix_series_attributes_series", ["series_id", "from_release"], unique=False)

    op.create_table(
        "series_dimension",
        sa.Column("series_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("dataset_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
        ),
        sa.PrimaryKeyConstraint("series_id", "position"),
    )
    with op.batch_alter_table("series_dimension", schema=None) as batch_op:
        batch_op.create_index(
            "ix_series_dimension_lookup", ["dataset_id", "position", "value", "series_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("series_dimension", schema=None) as batch_op:
        batch_op.drop_index("ix_series_dimension_lookup")

    op.drop_table("series_dimension")
    with op.batch_alter_table("series_attributes", schema=None) as batch_op:
        batch_op.drop_index("ix_series_attributes_series")

    op.drop_table("series_attributes")
    with op.batch_alter_table("observation", schema=None) as batch_op:
        batch_op.drop_index("ix_observation_series_release")
        batch_op.drop_index("ix_observation_series_period")

    op.drop_table("observation")
    with op.batch_alter_table("structure_reference", schema=None) as batch_op:
        batch_op.drop_index("ix_structure_reference_target")

    op.drop_table("structure_reference")
    op.drop_table("series")
    with op.batch_alter_table("release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_source_sha256"))
        batch_op.drop_index(batch_op.f("ix_release_dataset_id"))

    op.drop_table("release")
    op.drop_table("audit_log")
    op.drop_table("structure_artefact")
    op.drop_table("registry_state")
    op.drop_table("dataset")
    op.drop_table("api_token")
