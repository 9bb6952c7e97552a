"""reports: per-day aggregates (day x lead team x channel, with time histograms) kept with the facts,
and the advocacy rule's ingredients in each case's facts and summed per customer

The facts gain columns they are computed with, so the existing facts and the watermark are cleared here:
the upkeep then reads the events again from the first one, a batch per run, until it has recomputed every
case; `onevoice reports rebuild` after upgrading does it at once (docs/metrics.md, "Keeping the figures").

Revision ID: 0020_report_daily
Revises: 0021_notifications
Create Date: 2026-12-06 09:30:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0020_report_daily'
down_revision = '0021_notifications'
branch_labels = None
depends_on = None

KEY = ('day', 'team_id', 'channel_id')


def _key_columns() -> list:
    return [sa.Column('day', sa.String(length=10), nullable=False),
            sa.Column('team_id', sa.Integer(), nullable=False),
            sa.Column('channel_id', sa.Integer(), nullable=False)]


def upgrade() -> None:
    op.execute("DELETE FROM report_team_facts")
    op.execute("DELETE FROM report_case_facts")
    op.execute("DELETE FROM report_state")
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adv_w', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('det_w', sa.Double(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('adv_n', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('det_n', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('recommendations', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('signal_at', onevoice.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_report_case_facts_incident', ['incident_id'], unique=False)
        batch_op.create_index('ix_report_case_facts_fr_pending', ['first_response_met', 'opened_day',
                              'first_response_due', 'lead_team_id', 'channel_id'], unique=False)
        batch_op.create_index('ix_report_case_facts_res_pending', ['resolution_met', 'opened_day', 'resolution_due',
                              'lead_team_id', 'channel_id'], unique=False)
        for name, column in (('fr', 'first_response_s'), ('fr_bh', 'first_response_bh_s'),
                             ('res', 'resolution_s'), ('res_bh', 'resolution_bh_s')):
            batch_op.create_index(f'ix_report_case_facts_{name}', [column, 'opened_day', 'lead_team_id', 'channel_id'],
                                  unique=False)
    op.create_table('report_daily', *_key_columns(),
                    *[sa.Column(c, sa.Integer(), nullable=False) for c in (
                        'cases', 'fr_met', 'fr_missed', 'res_met', 'res_missed', 'resolved', 'reopened',
                        'ever_resolved')],
                    sa.Column('messages_in', sa.BigInteger(), nullable=False),
                    sa.Column('messages_out', sa.BigInteger(), nullable=False),
                    sa.Column('positive', sa.BigInteger(), nullable=False),
                    sa.Column('negative', sa.BigInteger(), nullable=False),
                    *[sa.Column(c, sa.Integer(), nullable=False) for c in (
                        'recovered', 'recovery_eligible', 'leads', 'leads_handed', 'leads_won', 'leads_lost')],
                    sa.Column('won_cents', sa.BigInteger(), nullable=False),
                    sa.Column('resolved_public', sa.Integer(), nullable=False),
                    sa.Column('moved_private', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint(*KEY, name=op.f('pk_report_daily')))
    op.create_table('report_daily_volume', *_key_columns(),
                    sa.Column('dim', sa.String(length=10), nullable=False),
                    sa.Column('key', sa.String(length=200), nullable=False),
                    sa.Column('cases', sa.Integer(), nullable=False),
                    sa.Column('messages', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint(*KEY, 'dim', 'key', name=op.f('pk_report_daily_volume')))
    op.create_table('report_daily_hist', *_key_columns(),
                    sa.Column('metric', sa.String(length=20), nullable=False),
                    sa.Column('bucket', sa.Integer(), nullable=False),
                    sa.Column('n', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint(*KEY, 'metric', 'bucket', name=op.f('pk_report_daily_hist')))
    op.create_table('report_daily_team',
                    sa.Column('day', sa.String(length=10), nullable=False),
                    sa.Column('team_id', sa.Integer(), nullable=False),
                    *[sa.Column(c, sa.Integer(), nullable=False) for c in (
                        'parts', 'led', 'collaborated', 'acted', 'replies', 'notes', 'handoffs', 'multi_team',
                        'approvals')],
                    sa.Column('approval_wait_s', sa.BigInteger(), nullable=False),
                    sa.Column('approvals_pending', sa.Integer(), nullable=False),
                    sa.Column('effort_s', sa.BigInteger(), nullable=False),
                    sa.PrimaryKeyConstraint('day', 'team_id', name=op.f('pk_report_daily_team')))


    op.create_table('report_contacts',
                    sa.Column('contact_id', sa.Integer(), nullable=False),
                    sa.Column('cases', sa.Integer(), nullable=False),
                    sa.Column('adv_w', sa.Double(), nullable=False),
                    sa.Column('det_w', sa.Double(), nullable=False),
                    sa.Column('adv_n', sa.Integer(), nullable=False),
                    sa.Column('det_n', sa.Integer(), nullable=False),
                    sa.Column('recommendations', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_report_contacts')))


def downgrade() -> None:
    op.drop_table('report_contacts')
    op.drop_table('report_daily_team')
    op.drop_table('report_daily_hist')
    op.drop_table('report_daily_volume')
    op.drop_table('report_daily')
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        for name in ('res_bh', 'res', 'fr_bh', 'fr', 'res_pending', 'fr_pending', 'incident'):
            batch_op.drop_index(f'ix_report_case_facts_{name}')
        for column in ('signal_at', 'recommendations', 'det_n', 'adv_n', 'det_w', 'adv_w'):
            batch_op.drop_column(column)
