"""reports: the facts behind /reports (one row per case, one per case and team), the upkeep's
watermark and the teams' objectives

Revision ID: 0015_reports
Revises: 0019_secrets_hkdf
Create Date: 2026-12-06 06:00:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0015_reports'
down_revision = '0019_secrets_hkdf'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_state',
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('last_event_id', sa.BigInteger(), nullable=False),
    sa.Column('updated_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_report_state'))
    )
    op.create_table('report_objectives',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('metric', sa.String(length=60), nullable=False),
    sa.Column('comparator', sa.String(length=2), nullable=False),
    sa.Column('target', sa.Double(), nullable=False),
    sa.Column('created_by', sa.String(length=320), nullable=False),
    sa.Column('created_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_report_objectives_team_id_teams'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_objectives'))
    )
    op.create_table('report_case_facts',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('opened_at', onevoice.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('opened_day', sa.String(length=10), nullable=False),
    sa.Column('lead_team_id', sa.Integer(), nullable=True),
    sa.Column('channel_id', sa.Integer(), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('priority', sa.String(length=10), nullable=False),
    sa.Column('intent', sa.String(length=40), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=True),
    sa.Column('product', sa.String(length=200), nullable=True),
    sa.Column('tags', sa.String(length=500), nullable=False),
    sa.Column('team_count', sa.Integer(), nullable=False),
    sa.Column('acted_team_count', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('first_response_s', sa.BigInteger(), nullable=True),
    sa.Column('first_response_bh_s', sa.BigInteger(), nullable=True),
    sa.Column('resolution_s', sa.BigInteger(), nullable=True),
    sa.Column('resolution_bh_s', sa.BigInteger(), nullable=True),
    sa.Column('first_response_due', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_due', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_met', sa.Integer(), nullable=True),
    sa.Column('resolution_met', sa.Integer(), nullable=True),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('reopens', sa.Integer(), nullable=False),
    sa.Column('messages_in', sa.Integer(), nullable=False),
    sa.Column('messages_out', sa.Integer(), nullable=False),
    sa.Column('positive', sa.Integer(), nullable=False),
    sa.Column('negative', sa.Integer(), nullable=False),
    sa.Column('neutral', sa.Integer(), nullable=False),
    sa.Column('opened_negative', sa.Integer(), nullable=False),
    sa.Column('recovered', sa.Integer(), nullable=True),
    sa.Column('resolved_public', sa.Integer(), nullable=True),
    sa.Column('effort_s', sa.BigInteger(), nullable=False),
    sa.Column('lead', sa.Integer(), nullable=False),
    sa.Column('lead_handed', sa.Integer(), nullable=False),
    sa.Column('lead_outcome', sa.String(length=10), nullable=True),
    sa.Column('lead_value', sa.Double(), nullable=False),
    sa.Column('last_message_at', onevoice.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_report_case_facts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_report_case_facts'))
    )
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.create_index('ix_report_case_facts_contact', ['contact_id', 'opened_day'], unique=False)
        batch_op.create_index('ix_report_case_facts_day', ['opened_day', 'lead_team_id'], unique=False)
        batch_op.create_index('ix_report_case_facts_status', ['status', 'lead_team_id'], unique=False)

    op.create_table('report_team_facts',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('opened_day', sa.String(length=10), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('multi_team', sa.Integer(), nullable=False),
    sa.Column('replies', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Integer(), nullable=False),
    sa.Column('handoffs', sa.Integer(), nullable=False),
    sa.Column('actions', sa.Integer(), nullable=False),
    sa.Column('first_action_s', sa.BigInteger(), nullable=True),
    sa.Column('approvals', sa.Integer(), nullable=False),
    sa.Column('approval_wait_s', sa.BigInteger(), nullable=False),
    sa.Column('approvals_pending', sa.Integer(), nullable=False),
    sa.Column('effort_s', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_report_team_facts_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'team_id', name=op.f('pk_report_team_facts'))
    )
    with op.batch_alter_table('report_team_facts', schema=None) as batch_op:
        batch_op.create_index('ix_report_team_facts_team_day', ['team_id', 'opened_day'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_team_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_team_facts_team_day')

    op.drop_table('report_team_facts')
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_case_facts_status')
        batch_op.drop_index('ix_report_case_facts_day')
        batch_op.drop_index('ix_report_case_facts_contact')

    op.drop_table('report_case_facts')
    op.drop_table('report_objectives')
    op.drop_table('report_state')
