"""triage: incident lifecycle and learned routing from corrections

Revision ID: 0008_triage
Revises: 0007_access
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onevoice.db  # noqa: F401

revision = '0008_triage'
down_revision = '0007_access'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
