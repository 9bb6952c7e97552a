"""privacy: data subjects' requests (erasure, access), retention rules and runs, contacts.erased_at,
messages.redacted_at

Adds two nullable columns and three small tables: no existing table is rewritten, so it runs in constant time
whatever the size of the database (docs/operations.md, "Migrations and large tables").

Revision ID: 0016_privacy
Revises: 0017_channel_connects
Create Date: 2026-12-06 06:10:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0016_privacy'
down_revision = '0017_channel_connects'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable columns without a default: ALTER TABLE ADD COLUMN changes the catalog only (no rewrite of
    # messages, however large, on SQLite or PostgreSQL).
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.add_column(sa.Column("erased_at", onevoice.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("redacted_at", onevoice.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "privacy_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=320), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("created_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_table(
        "retention_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=False),
        sa.Column("updated_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_retention_rules_channel_id_channels"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_rules")),
    )
    with op.batch_alter_table("retention_rules") as batch_op:
        batch_op.create_index("ix_retention_rules_scope", ["channel_id", "kind"], unique=True)
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", onevoice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("anonymized", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Integer(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("raw_payloads", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )


def downgrade() -> None:
    op.drop_table("retention_runs")
    with op.batch_alter_table("retention_rules") as batch_op:
        batch_op.drop_index("ix_retention_rules_scope")
    op.drop_table("retention_rules")
    op.drop_table("privacy_requests")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("redacted_at")
    with op.batch_alter_table("contacts") as batch_op:
        batch_op.drop_column("erased_at")
