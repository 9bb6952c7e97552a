"""notifications: links (what an alert is about: the incident and its cases, the report and the cases behind
a figure)

One nullable column; existing notifications keep none (they link to their case, as before).

Revision ID: 0022_notification_links
Revises: 0020_report_daily
Create Date: 2026-12-06 13:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0022_notification_links'
down_revision = '0020_report_daily'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('links', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('links')
