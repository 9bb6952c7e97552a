"""reports: a long period's report of one team, cheaper: the time histograms by calendar month (report_month_hist:
report_daily_hist's rows summed per month), so that a team's or a channel's report over a long period reads its
whole months there and only the days at either end by day (reports/months.py); and a row per team, customer and
day a case of theirs led by the team opened (report_team_contact_days), so that a team's customers and
returning customers are one index range (reports/team_customers.py)

Both filled here by one INSERT ... SELECT each, the first from report_daily_hist (it reads that table once and
writes a thirtieth of its rows), the second from the case facts (the rule of team_customers.team_days, in SQL:
each team's days per customer, the next one, the customer's first day), so no rebuild is needed: the upkeep
keeps them from then on.

Revision ID: 0034_report_long_periods
Revises: 0032_report_contact_day_keys
Create Date: 2026-12-07 21:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0034_report_long_periods'
down_revision = '0032_report_contact_day_keys'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'report_month_hist',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('channel_id', sa.Integer(), nullable=False),
        sa.Column('metric', sa.String(length=20), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'team_id', 'channel_id', 'metric', 'bucket',
                                name=op.f('pk_report_month_hist')),
    )
    op.get_bind().execute(sa.text(
        "INSERT INTO report_month_hist (month, team_id, channel_id, metric, bucket, n) "
        "SELECT substr(day, 1, 7), team_id, channel_id, metric, bucket, SUM(n) FROM report_daily_hist "
        "GROUP BY substr(day, 1, 7), team_id, channel_id, metric, bucket"))
    op.create_table(
        'report_team_contact_days',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('from_day', sa.String(length=10), nullable=False),
        sa.Column('to_day', sa.String(length=10), nullable=False),
        sa.Column('first_day', sa.String(length=10), nullable=False),
        sa.PrimaryKeyConstraint('contact_id', 'team_id', 'from_day', name=op.f('pk_report_team_contact_days')),
    )
    # Each customer's first day over all their cases (a case with no lead team too), then per team the days
    # a case it led opened, each with the team's next one ('9999-12-31' for the last).
    op.get_bind().execute(sa.text(
        "INSERT INTO report_team_contact_days (contact_id, team_id, from_day, to_day, first_day) "
        "SELECT contact_id, lead_team_id, opened_day, COALESCE(LEAD(opened_day) OVER (PARTITION BY contact_id, "
        "lead_team_id ORDER BY opened_day), '9999-12-31'), first_day FROM ("
        "SELECT DISTINCT contact_id, lead_team_id, opened_day, first_day FROM ("
        "SELECT contact_id, lead_team_id, opened_day, MIN(opened_day) OVER (PARTITION BY contact_id) AS first_day "
        "FROM report_case_facts WHERE contact_id IS NOT NULL) AS every_case WHERE lead_team_id IS NOT NULL) AS team_days"))
    op.create_index('ix_report_team_contact_days_range', 'report_team_contact_days',
                    ['team_id', 'from_day', 'to_day', 'first_day'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ANALYZE report_month_hist, report_team_contact_days')


def downgrade() -> None:
    op.drop_index('ix_report_team_contact_days_range', table_name='report_team_contact_days')
    op.drop_table('report_team_contact_days')
    op.drop_table('report_month_hist')
