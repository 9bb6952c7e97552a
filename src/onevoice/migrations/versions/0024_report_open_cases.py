"""reports: the open cases in opening order (a partial index), so the backlog's median age is read by walking
the index to the middle instead of sorting every open case

Revision ID: 0024_report_open_cases
Revises: 0023_report_scale
Create Date: 2026-12-06 21:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0024_report_open_cases'
down_revision = '0023_report_scale'
branch_labels = None
depends_on = None

# reports.models.OPEN_CASES as of this revision (a migration does not follow later code).
OPEN_CASES = sa.text("status IN ('open', 'pending_customer', 'pending_internal')")


def upgrade() -> None:
    op.create_index('ix_report_case_facts_open', 'report_case_facts',
                    ['opened_at', 'lead_team_id', 'channel_id', 'status'], unique=False,
                    sqlite_where=OPEN_CASES, postgresql_where=OPEN_CASES)


def downgrade() -> None:
    op.drop_index('ix_report_case_facts_open', table_name='report_case_facts')
