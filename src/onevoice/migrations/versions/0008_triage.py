"""triage: incident lifecycle and learned routing from corrections

Revision ID: 0008_triage
Revises: 0007_access
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0008_triage'
down_revision = '0007_access'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        # The normal hourly rate when the incident opened: "back to normal" is measured against it, not
        # against a baseline the surge itself has inflated.
        batch_op.add_column(sa.Column("baseline_rate", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_activity_at", onevoice.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("reopen_count", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("playbooks") as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("activated_at", onevoice.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("activated_by", sa.String(length=200), nullable=True))
    op.create_table(
        "learned_routes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intent", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("channel_kind", sa.String(length=40), nullable=False),
        sa.Column("team", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("corrections", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learned_routes")),
    )
    op.create_index("ix_learned_routes_context", "learned_routes", ["intent", "subject", "channel_kind"])


def downgrade() -> None:
    op.drop_index("ix_learned_routes_context", table_name="learned_routes")
    op.drop_table("learned_routes")
    with op.batch_alter_table("playbooks") as batch_op:
        batch_op.drop_column("activated_by")
        batch_op.drop_column("activated_at")
        batch_op.drop_column("note")
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_column("reopen_count")
        batch_op.drop_column("close_reason")
        batch_op.drop_column("closed_by")
        batch_op.drop_column("last_activity_at")
        batch_op.drop_column("baseline_rate")
