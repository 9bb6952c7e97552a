"""access: partner grants per channel, API token expiry

Revision ID: 0007_access
Revises: 0006_posts
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onevoice.db  # noqa: F401

revision = '0007_access'
down_revision = '0006_posts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
