"""reports: which teams and channels (and both) a customer's cases had by each of their rows by day and have next
(report_contact_days.keys_last, keys_next), in the rows' key indexes, so that a team's or a channel's report
counts its customers' advocates and detractors from index ranges instead of reading each customer
(reports/matches.py).

Filled here from the case facts (the same rule as reports/matches.py `last_and_next`), so no rebuild is needed.

Revision ID: 0032_report_contact_day_keys
Revises: 0031_search_by_batch
Create Date: 2026-12-07 18:00:00
"""
from itertools import groupby

import sqlalchemy as sa
from alembic import op

revision = '0032_report_contact_day_keys'
down_revision = '0031_search_by_batch'
branch_labels = None
depends_on = None


def _keys(team_id, channel_id) -> tuple:
    # A copy of reports/matches.py `keys` as of this revision.
    out = () if team_id is None else (f't{team_id}',)
    if channel_id is None:
        return out
    return (*out, f'c{channel_id}', *(() if team_id is None else (f't{team_id}c{channel_id}',)))


def _last_and_next(cases, firsts, ends):
    # A copy of reports/matches.py `last_and_next` as of this revision (a migration does not follow later code).
    lasts, parts, i, n = [], {}, 0, len(cases)
    for first in firsts:
        while i < n and cases[i][0] <= first:
            for k in cases[i][1]:
                parts[k] = f'|{k}:{cases[i][0]}'
            i += 1
        lasts.append(''.join(sorted(parts.values())) + '|' if parts else '')
    nexts, parts = [], {}
    for end in reversed(ends):
        while n > 0 and cases[n - 1][0] >= end:
            n -= 1
            for k in cases[n][1]:
                parts[k] = f'|{k}:{cases[n][0]}'
        nexts.append(''.join(sorted(parts.values())) + '|' if parts else '')
    nexts.reverse()
    return list(zip(lasts, nexts, strict=True))


def upgrade() -> None:
    op.drop_index('ix_report_contact_days_adv', table_name='report_contact_days')
    op.drop_index('ix_report_contact_days_det', table_name='report_contact_days')
    with op.batch_alter_table('report_contact_days', schema=None) as batch_op:
        batch_op.add_column(sa.Column('keys_last', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('keys_next', sa.Text(), nullable=False, server_default=''))
    conn = op.get_bind()
    cases = conn.execute(sa.text(
        "SELECT contact_id, opened_day, lead_team_id, channel_id FROM report_case_facts "
        "WHERE contact_id IS NOT NULL ORDER BY contact_id, opened_day, case_id")).all()
    rows = conn.execute(sa.text(
        "SELECT contact_id, from_day, to_day FROM report_contact_days ORDER BY contact_id, from_day")).all()
    opened = {cid: [(c[1], _keys(c[2], c[3])) for c in group] for cid, group in groupby(cases, key=lambda r: r[0])}
    update = sa.text("UPDATE report_contact_days SET keys_last = :l, keys_next = :n "
                     "WHERE contact_id = :c AND from_day = :d")
    batch: list[dict] = []
    for cid, group in groupby(rows, key=lambda r: r[0]):
        group = list(group)
        kept = _last_and_next(opened.get(cid, []), [r[1] for r in group], [r[2] for r in group])
        batch += [{'c': cid, 'd': r[1], 'l': last, 'n': after} for r, (last, after) in zip(group, kept, strict=True)
                  if last or after]
        if len(batch) >= 5000:
            conn.execute(update, batch)
            batch = []
    if batch:
        conn.execute(update, batch)
    op.create_index('ix_report_contact_days_adv', 'report_contact_days',
                    ['to_day', 'adv_until', 'from_day', 'keys_last', 'keys_next'], unique=False)
    op.create_index('ix_report_contact_days_det', 'report_contact_days',
                    ['to_day', 'det_until', 'from_day', 'keys_last', 'keys_next'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_report_contact_days_adv', table_name='report_contact_days')
    op.drop_index('ix_report_contact_days_det', table_name='report_contact_days')
    with op.batch_alter_table('report_contact_days', schema=None) as batch_op:
        batch_op.drop_column('keys_next')
        batch_op.drop_column('keys_last')
    op.create_index('ix_report_contact_days_adv', 'report_contact_days', ['to_day', 'adv_until', 'from_day'],
                    unique=False)
    op.create_index('ix_report_contact_days_det', 'report_contact_days', ['to_day', 'det_until', 'from_day'],
                    unique=False)
