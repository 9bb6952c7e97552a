"""reports: the service-time and incident indexes of report_case_facts hold only the cases with a value
(partial: `... IS NOT NULL`). Every statement that reads them compares the value (a range or an equality),
which proves it is not NULL, so SQLite and PostgreSQL use them as before; a new case (no response, no
resolution, no incident yet) is no longer written into five of the table's eleven indexes.

Not a table rewrite: five indexes dropped and made again (at 300,000 cases, a few seconds each on SQLite).

Revision ID: 0030_report_value_indexes
Revises: 0029_erased_messages
Create Date: 2026-12-07 18:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0030_report_value_indexes'
down_revision = '0029_erased_messages'
branch_labels = None
depends_on = None

REST = ['opened_day', 'lead_team_id', 'channel_id']
INDEXES = {'ix_report_case_facts_fr': ['first_response_s', *REST],
           'ix_report_case_facts_fr_bh': ['first_response_bh_s', *REST],
           'ix_report_case_facts_res': ['resolution_s', *REST],
           'ix_report_case_facts_res_bh': ['resolution_bh_s', *REST],
           'ix_report_case_facts_incident': ['incident_id']}


def upgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='report_case_facts')
        present = sa.text(f'{columns[0]} IS NOT NULL')
        op.create_index(name, 'report_case_facts', columns, unique=False, sqlite_where=present,
                        postgresql_where=present)


def downgrade() -> None:
    for name, columns in INDEXES.items():
        op.drop_index(name, table_name='report_case_facts')
        op.create_index(name, 'report_case_facts', columns, unique=False)
