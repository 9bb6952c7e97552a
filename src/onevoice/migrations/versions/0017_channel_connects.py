"""channel connects: OAuth sign-ins in progress when an admin connects a channel from the pages (state hash
bound to the sign-in session, single use; PKCE verifier and app secrets encrypted)

Revision ID: 0017_channel_connects
Revises: 0019_secrets_hkdf
Create Date: 2026-12-06 06:10:00
"""
import sqlalchemy as sa
from alembic import op

from onevoice.db import UTCDateTime

revision = '0017_channel_connects'
down_revision = '0015_reports'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_connects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("channel_key", sa.String(length=64), nullable=False),
        sa.Column("reconnect", sa.Boolean(), nullable=False),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["user_sessions.id"],
                                name=op.f("fk_channel_connects_session_id_user_sessions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_channel_connects_user_id_users"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_connects")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_channel_connects_state_hash")),
    )
    op.create_index(op.f("ix_channel_connects_session_id"), "channel_connects", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_connects_session_id"), table_name="channel_connects")
    op.drop_table("channel_connects")
