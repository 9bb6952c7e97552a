"""access: partner grants per channel, API token expiry

Partners see and act only on cases on the channels granted to them (and involving their teams); the grant
is a row per (user, channel). API tokens already carry expires_at, last_used_at and scopes (0001); listing a
person's own tokens reads them by user, hence the index.

Revision ID: 0007_access
Revises: 0006_posts
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0007_access'
down_revision = '0006_posts'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('channel_grants',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('granted_by', sa.String(length=320), nullable=False),
    sa.Column('granted_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_channel_grants_user_id_users'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_channel_grants_channel_id_channels'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'channel_id', name=op.f('pk_channel_grants'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('channel_grants')
