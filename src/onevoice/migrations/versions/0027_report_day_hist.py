"""reports: the service times' histogram by day for the whole organization (report_daily_hist summed over teams
and channels), which a report with no team or channel filter reads: ~2,800 rows for 28 days at full size where
the rows by day x team x channel are ~28,000

Filled here from report_daily_hist by one INSERT ... SELECT (it reads that table once and writes a twelfth of its
rows; nothing large is rewritten), so no rebuild is needed: the upkeep keeps both from then on. And an index of
the customers' rows by day by their first day: a period's customers are the rows begun in it and valid at its end.

Revision ID: 0027_report_day_hist
Revises: 0026_report_contact_days
Create Date: 2026-12-07 06:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0027_report_day_hist'
down_revision = '0026_report_contact_days'
branch_labels = None
depends_on = None

# reports/aggregate.py SERVICE_TIMES as of this revision (a migration does not follow later code).
SERVICE_TIMES = ('first_response', 'first_response_bh', 'resolution', 'resolution_bh')


def upgrade() -> None:
    op.create_table(
        'report_day_hist',
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('metric', sa.String(length=20), nullable=False),
        sa.Column('bucket', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('day', 'metric', 'bucket', name=op.f('pk_report_day_hist')),
    )
    op.get_bind().execute(
        sa.text("INSERT INTO report_day_hist (day, metric, bucket, n) SELECT day, metric, bucket, SUM(n) "
                "FROM report_daily_hist WHERE metric IN :metrics GROUP BY day, metric, bucket")
        .bindparams(sa.bindparam('metrics', expanding=True)), {'metrics': list(SERVICE_TIMES)})
    op.create_index('ix_report_contact_days_from', 'report_contact_days', ['from_day', 'to_day'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_contact_days_from', table_name='report_contact_days')
    op.drop_table('report_day_hist')
