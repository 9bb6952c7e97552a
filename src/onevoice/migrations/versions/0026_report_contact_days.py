"""reports: per customer and day a case of theirs opened, the sums of their cases so far and their keys, so
that a moment's advocates and detractors are index ranges for every customer, not only the quiet ones; the
per-customer keys of report_contacts (0023), which only the quiet customers' count read, go

The table is filled here from the case facts and each customer's followers (the same rule as
reports/ranking.py `days`), so no rebuild is needed; a downgrade fills report_contacts' keys again.

Revision ID: 0026_report_contact_days
Revises: 0025_report_day_contacts
Create Date: 2026-12-07 01:00:00
"""
import math
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = '0026_report_contact_days'
down_revision = '0025_report_day_contacts'
branch_labels = None
depends_on = None

LAST_DAY = '9999-12-31'


def _until(adv_w: float, det_w: float, followers: int) -> tuple[float | None, float | None]:
    # A copy of reports/ranking.py `until` as of this revision (a migration does not follow later code).
    x = (adv_w - det_w) * (1.0 + math.log10(1 + max(0, followers or 0)) / 4)
    if abs(x) < 1e-6:
        return None, None
    return (math.log2(x), None) if x > 0 else (None, math.log2(-x))


def _days(cases, followers: int | None) -> list[dict]:
    # A copy of reports/ranking.py `days` as of this revision.
    out: list[dict] = []
    adv = det = 0.0
    for day, a, d in cases:
        adv += float(a or 0.0)
        det += float(d or 0.0)
        if out and out[-1]['from_day'] == day:
            out[-1].update(adv_w=adv, det_w=det)
        else:
            if out:
                out[-1]['to_day'] = day
            out.append({'from_day': day, 'to_day': LAST_DAY, 'adv_w': adv, 'det_w': det})
    for row in out:
        row['adv_until'], row['det_until'] = _until(row['adv_w'], row['det_w'], followers) \
            if followers is not None else (None, None)
    return out


def upgrade() -> None:
    table = op.create_table(
        'report_contact_days',
        sa.Column('contact_id', sa.Integer(), nullable=False),
        sa.Column('from_day', sa.String(length=10), nullable=False),
        sa.Column('to_day', sa.String(length=10), nullable=False),
        sa.Column('adv_w', sa.Double(), nullable=False),
        sa.Column('det_w', sa.Double(), nullable=False),
        sa.Column('adv_until', sa.Double(), nullable=True),
        sa.Column('det_until', sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint('contact_id', 'from_day', name=op.f('pk_report_contact_days')),
    )
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT f.contact_id, f.opened_day, f.adv_w, f.det_w, c.followers FROM report_case_facts f "
        "LEFT JOIN contacts c ON c.id = f.contact_id WHERE f.contact_id IS NOT NULL "
        "ORDER BY f.contact_id, f.opened_day, f.case_id")).all()
    batch: list[dict] = []
    for cid, cases in groupby(rows, key=lambda r: r[0]):
        cases = list(cases)
        batch += [{'contact_id': cid, **r} for r in _days([(c[1], c[2], c[3]) for c in cases], cases[0][4])]
        if len(batch) >= 5000:
            conn.execute(table.insert(), batch)
            batch = []
    if batch:
        conn.execute(table.insert(), batch)
    op.create_index('ix_report_contact_days_adv', 'report_contact_days', ['to_day', 'adv_until', 'from_day'],
                    unique=False)
    op.create_index('ix_report_contact_days_det', 'report_contact_days', ['to_day', 'det_until', 'from_day'],
                    unique=False)
    op.drop_index('ix_report_contacts_det_until', table_name='report_contacts')
    op.drop_index('ix_report_contacts_adv_until', table_name='report_contacts')
    with op.batch_alter_table('report_contacts', schema=None) as batch_op:
        batch_op.drop_column('det_until')
        batch_op.drop_column('adv_until')


def downgrade() -> None:
    # 0023's keys, filled as 0023 filled them.
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
    op.drop_index('ix_report_contact_days_det', table_name='report_contact_days')
    op.drop_index('ix_report_contact_days_adv', table_name='report_contact_days')
    op.drop_table('report_contact_days')
