"""reports at full size: per customer, until when their kept sums make them an advocate or a detractor
(indexed, so counting a moment's advocates is an index range); the backlog's index covers the opening time

The new columns are filled here from the kept sums and each customer's followers (the same rule as
reports/ranking.py `until`), so no rebuild is needed.

Revision ID: 0023_report_scale
Revises: 0022_notification_links
Create Date: 2026-12-06 13:00:00
"""
import math

import sqlalchemy as sa
from alembic import op

revision = '0023_report_scale'
down_revision = '0022_notification_links'
branch_labels = None
depends_on = None


def _until(adv_w: float, det_w: float, followers: int) -> tuple[float | None, float | None]:
    # A copy of reports/ranking.py `until` as of this revision (a migration does not follow later code).
    x = (adv_w - det_w) * (1.0 + math.log10(1 + max(0, followers or 0)) / 4)
    if abs(x) < 1e-6:
        return None, None
    return (math.log2(x), None) if x > 0 else (None, math.log2(-x))


def upgrade() -> None:
    with op.batch_alter_table('report_contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('adv_until', sa.Double(), nullable=True))
        batch_op.add_column(sa.Column('det_until', sa.Double(), nullable=True))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT r.contact_id, r.adv_w, r.det_w, c.followers FROM report_contacts r "
                                "JOIN contacts c ON c.id = r.contact_id")).all()
    params = [{"k": cid, "a": a, "d": d} for cid, adv, det, f in rows for a, d in [_until(adv, det, f)]
              if a is not None or d is not None]
    if params:
        conn.execute(sa.text("UPDATE report_contacts SET adv_until = :a, det_until = :d WHERE contact_id = :k"),
                     params)
    op.create_index('ix_report_contacts_adv_until', 'report_contacts', ['adv_until'], unique=False)
    op.create_index('ix_report_contacts_det_until', 'report_contacts', ['det_until'], unique=False)
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_case_facts_status')
        batch_op.create_index('ix_report_case_facts_status', ['status', 'lead_team_id', 'opened_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_case_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_case_facts_status')
        batch_op.create_index('ix_report_case_facts_status', ['status', 'lead_team_id'], unique=False)
    op.drop_index('ix_report_contacts_det_until', table_name='report_contacts')
    op.drop_index('ix_report_contacts_adv_until', table_name='report_contacts')
    with op.batch_alter_table('report_contacts', schema=None) as batch_op:
        batch_op.drop_column('det_until')
        batch_op.drop_column('adv_until')
