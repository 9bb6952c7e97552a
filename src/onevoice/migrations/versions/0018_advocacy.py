"""advocacy: customers' marks (contacts.marks), shareable items, employees' share links and their clicks
(no clicker address is stored), the coordinator's settings, linked employee handles and what was seen of them

Revision ID: 0018_advocacy
Revises: 0014_vocabulary
Create Date: 2026-12-06 06:02:00.107992
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0018_advocacy'
down_revision = '0014_vocabulary'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('advocacy_settings',
    sa.Column('key', sa.String(length=60), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('updated_by', sa.String(length=320), nullable=False),
    sa.Column('updated_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_advocacy_settings'))
    )
    op.create_table('advocacy_handles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=30), nullable=False),
    sa.Column('handle', sa.String(length=300), nullable=False),
    sa.Column('linked_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_advocacy_handles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_handles'))
    )
    with op.batch_alter_table('advocacy_handles', schema=None) as batch_op:
        batch_op.create_index('ix_advocacy_handles_kind_handle', ['network', 'handle'], unique=False)
        batch_op.create_index(batch_op.f('ix_advocacy_handles_user_id'), ['user_id'], unique=False)

    op.create_table('advocacy_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('link_url', sa.Text(), nullable=False),
    sa.Column('media_url', sa.Text(), nullable=True),
    sa.Column('media_alt', sa.String(length=1000), nullable=False),
    sa.Column('variants', sa.JSON(), nullable=False),
    sa.Column('campaign', sa.String(length=100), nullable=False),
    sa.Column('expires_at', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('warnings', sa.JSON(), nullable=False),
    sa.Column('approval_reason', sa.Text(), nullable=False),
    sa.Column('approver_team_id', sa.Integer(), nullable=True),
    sa.Column('due_at', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=320), nullable=True),
    sa.Column('decided_at', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_team_id'], ['teams.id'], name=op.f('fk_advocacy_items_approver_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_items'))
    )
    with op.batch_alter_table('advocacy_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advocacy_items_campaign'), ['campaign'], unique=False)
        batch_op.create_index(batch_op.f('ix_advocacy_items_status'), ['status'], unique=False)

    op.create_table('advocacy_shares',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('network', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('shared_count', sa.Integer(), nullable=False),
    sa.Column('created_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_shared_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['advocacy_items.id'], name=op.f('fk_advocacy_shares_item_id_advocacy_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_advocacy_shares_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_shares')),
    sa.UniqueConstraint('code', name=op.f('uq_advocacy_shares_code')),
    sa.UniqueConstraint('item_id', 'user_id', 'network', name=op.f('uq_advocacy_shares_item_id_user_id_network'))
    )
    with op.batch_alter_table('advocacy_shares', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advocacy_shares_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_advocacy_shares_user_id'), ['user_id'], unique=False)

    op.create_table('advocacy_clicks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('share_id', sa.Integer(), nullable=False),
    sa.Column('at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['share_id'], ['advocacy_shares.id'], name=op.f('fk_advocacy_clicks_share_id_advocacy_shares'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_clicks'))
    )
    with op.batch_alter_table('advocacy_clicks', schema=None) as batch_op:
        batch_op.create_index('ix_advocacy_clicks_share_at', ['share_id', 'at'], unique=False)

    op.create_table('advocacy_voice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('findings', sa.JSON(), nullable=False),
    sa.Column('seen_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['handle_id'], ['advocacy_handles.id'], name=op.f('fk_advocacy_voice_handle_id_advocacy_handles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_advocacy_voice_message_id_messages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_advocacy_voice_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_advocacy_voice')),
    sa.UniqueConstraint('message_id', name=op.f('uq_advocacy_voice_message_id'))
    )
    with op.batch_alter_table('advocacy_voice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_advocacy_voice_handle_id'), ['handle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_advocacy_voice_user_id'), ['user_id'], unique=False)

    op.create_table('advocacy_profiles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mastodon_instance', sa.String(length=253), nullable=True),
    sa.Column('updated_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_advocacy_profiles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_advocacy_profiles'))
    )
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('marks', sa.JSON(), nullable=False, server_default='[]'))



def downgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('marks')

    with op.batch_alter_table('advocacy_voice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocacy_voice_user_id'))
        batch_op.drop_index(batch_op.f('ix_advocacy_voice_handle_id'))

    op.drop_table('advocacy_voice')
    with op.batch_alter_table('advocacy_clicks', schema=None) as batch_op:
        batch_op.drop_index('ix_advocacy_clicks_share_at')

    op.drop_table('advocacy_clicks')
    with op.batch_alter_table('advocacy_shares', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocacy_shares_user_id'))
        batch_op.drop_index(batch_op.f('ix_advocacy_shares_item_id'))

    op.drop_table('advocacy_shares')
    with op.batch_alter_table('advocacy_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocacy_items_status'))
        batch_op.drop_index(batch_op.f('ix_advocacy_items_campaign'))

    op.drop_table('advocacy_items')
    with op.batch_alter_table('advocacy_handles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_advocacy_handles_user_id'))
        batch_op.drop_index('ix_advocacy_handles_kind_handle')

    op.drop_table('advocacy_handles')
    op.drop_table('advocacy_settings')
    op.drop_table('advocacy_profiles')
