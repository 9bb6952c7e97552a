"""channels: deleted and edited messages, media attachments, catch-up cursors

Revision ID: 0009_channels
Revises: 0008_triage
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onevoice.db  # noqa: F401

revision = '0009_channels'
down_revision = '0008_triage'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
