"""channels: deleted and edited messages, media attachments, catch-up cursors

Revision ID: 0009_channels
Revises: 0008_triage
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0009_channels'
down_revision = '0008_triage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Attachments are what the platform linked (images, video, links), as [{type, url, alt}]; edited_at and
    # deleted_at mark changes the author made on the platform (the text before is kept in the events).
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("attachments", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("edited_at", onevoice.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", onevoice.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("attachments")
