"""reports: the time histograms by calendar month (report_month_hist: report_daily_hist's rows summed per month),
so that a team's or a channel's report over a long period reads its whole months there and only the days at
either end by day (reports/months.py)

Filled here from report_daily_hist by one INSERT ... SELECT (it reads that table once and writes a thirtieth of
its rows; nothing large is rewritten), so no rebuild is needed: the upkeep keeps both from then on.

Revision ID: 0034_report_month_hist
Revises: 0032_report_contact_day_keys
Create Date: 2026-12-07 21:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0034_report_month_hist'
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


def downgrade() -> None:
    op.drop_table('report_month_hist')
