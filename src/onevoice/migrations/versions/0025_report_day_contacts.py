"""reports: the day index holds the channel and the customer, so a period's customers are counted from the
index alone

Revision ID: 0025_report_day_contacts
Revises: 0024_report_open_cases
Create Date: 2026-12-06 21:35:00
"""
from alembic import op

revision = '0025_report_day_contacts'
down_revision = '0024_report_open_cases'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_case_facts_day')
        batch_op.create_index('ix_report_case_facts_day', ['opened_day', 'lead_team_id', 'channel_id', 'contact_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_case_facts_day')
        batch_op.create_index('ix_report_case_facts_day', ['opened_day', 'lead_team_id'], unique=False)
