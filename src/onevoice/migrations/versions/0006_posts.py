"""publishing: posts to one or more channels, scheduled, through guard, approvals and the outbox

Revision ID: 0006_posts
Revises: 0005_governance
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import onevoice.db  # noqa: F401

revision = '0006_posts'
down_revision = '0005_governance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
