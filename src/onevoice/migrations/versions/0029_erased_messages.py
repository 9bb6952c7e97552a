"""privacy: erased_messages, the messages erased with their author by a digest of (channel, platform id), so that
intake refuses them when a platform delivers them again. New and empty: erasures made before this revision kept
no digest (their ids are tokens now), so their messages are not recognised if delivered again.

Revision ID: 0029_erased_messages
Revises: 0028_drop_report_contacts
Create Date: 2026-12-07 12:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0029_erased_messages'
down_revision = '0028_drop_report_contacts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('erased_messages',
                    sa.Column('digest', sa.String(length=64), nullable=False),
                    sa.Column('channel_id', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('digest', 'channel_id', name=op.f('pk_erased_messages')))


def downgrade() -> None:
    op.drop_table('erased_messages')
