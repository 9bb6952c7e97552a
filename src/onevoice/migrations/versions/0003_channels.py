"""channels: webhook deliveries that could not be read (kept, never dropped)

Revision ID: 0003_channels
Revises: 0002_inbox
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = "0003_channels"
down_revision = "0002_inbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel_id", sa.Integer(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"], name=op.f("fk_inbound_failures_channel_id_channels")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_failures")),
    )
    with op.batch_alter_table("inbound_failures") as batch_op:
        batch_op.create_index(batch_op.f("ix_inbound_failures_channel_id"), ["channel_id"], unique=False)


def downgrade() -> None:
    op.drop_table("inbound_failures")
