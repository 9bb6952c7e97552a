"""reports: drop report_contacts (per customer, the sums of their cases' advocacy ingredients), which no report
reads since 0026: the advocates and detractors are counted from report_contact_days. The upkeep kept it on every
pass (a row per case added and taken away, an upsert per customer touched) for nothing.

A downgrade creates it again and fills it from report_case_facts by one INSERT ... SELECT (the sums a rebuild
gives, up to the order the floating sums are added in).

Revision ID: 0028_drop_report_contacts
Revises: 0027_report_day_hist
Create Date: 2026-12-07 09:25:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0028_drop_report_contacts'
down_revision = '0027_report_day_hist'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table('report_contacts')


def downgrade() -> None:
    op.create_table('report_contacts',
                    sa.Column('contact_id', sa.Integer(), nullable=False),
                    sa.Column('cases', sa.Integer(), nullable=False),
                    sa.Column('adv_w', sa.Double(), nullable=False),
                    sa.Column('det_w', sa.Double(), nullable=False),
                    sa.Column('adv_n', sa.Integer(), nullable=False),
                    sa.Column('det_n', sa.Integer(), nullable=False),
                    sa.Column('recommendations', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('contact_id', name=op.f('pk_report_contacts')))
    op.get_bind().execute(sa.text(
        "INSERT INTO report_contacts (contact_id, cases, adv_w, det_w, adv_n, det_n, recommendations) "
        "SELECT contact_id, COUNT(*), SUM(COALESCE(adv_w, 0)), SUM(COALESCE(det_w, 0)), SUM(COALESCE(adv_n, 0)), "
        "SUM(COALESCE(det_n, 0)), SUM(COALESCE(recommendations, 0)) FROM report_case_facts "
        "WHERE contact_id IS NOT NULL GROUP BY contact_id"))
