"""publishing: posts to one or more channels, scheduled, through guard, approvals and the outbox

A post has one target per channel; each target's text lives on an outbound `messages` row (kind "post",
no case), so the outbox and approvals handle posts exactly as they handle replies. The outbox now carries
"post" and "delete" jobs: a message can have a send job and later a delete job (unique per message and
kind), and a job carries its own payload (media URLs, the platform id to delete). Approval rules gain a
`kinds` condition (reply, post).

Revision ID: 0006_posts
Revises: 0005_governance
Create Date: 2026-11-23 00:30:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

# Written before the rule of docs/operations.md: SQLite's batch mode copies `outbox` into a new table to add
# columns with foreign keys (PostgreSQL alters it in place).
REWRITES_LARGE_TABLES = {"outbox": "SQLite copies the table to add payload and parent columns"}

revision = '0006_posts'
down_revision = '0005_governance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('media', sa.JSON(), nullable=False),
    sa.Column('sponsored', sa.Boolean(), nullable=False),
    sa.Column('scheduled_at', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.String(length=300), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=False),
    sa.Column('created_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_posts'))
    )
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.create_index('ix_posts_scheduled_at', ['scheduled_at'], unique=False)
        batch_op.create_index('ix_posts_created_by', ['created_by'], unique=False)

    op.create_table('post_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('channel_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['channel_id'], ['channels.id'], name=op.f('fk_post_targets_channel_id_channels')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_post_targets_message_id_messages')),
    sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_targets_post_id_posts'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_post_targets')),
    sa.UniqueConstraint('message_id', name=op.f('uq_post_targets_message_id')),
    sa.UniqueConstraint('post_id', 'channel_id', name=op.f('uq_post_targets_post_id_channel_id'))
    )

    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_approvals_post_id_posts'), 'posts', ['post_id'], ['id'])
        batch_op.create_index('ix_approvals_post_id', ['post_id'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payload', sa.JSON(), nullable=True))
        batch_op.drop_constraint('uq_outbox_message_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_id_kind'), ['message_id', 'kind'])

    with op.batch_alter_table('approval_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kinds', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('approval_rules', schema=None) as batch_op:
        batch_op.drop_column('kinds')
    op.execute("DELETE FROM outbox WHERE kind = 'delete'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint('uq_outbox_message_id_kind', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_message_id'), ['message_id'])
        batch_op.drop_column('payload')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index('ix_approvals_post_id')
        batch_op.drop_constraint('fk_approvals_post_id_posts', type_='foreignkey')
        batch_op.drop_column('post_id')
    op.drop_table('post_targets')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_created_by')
        batch_op.drop_index('ix_posts_scheduled_at')
    op.drop_table('posts')
