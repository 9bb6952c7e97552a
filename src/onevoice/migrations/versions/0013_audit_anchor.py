"""audit log anchored outside the database: each record's MAC under the audit key, and the key's id

Revision ID: 0013_audit_anchor
Revises: 0009_channels
Create Date: 2026-12-06 03:00:00

Records written before this migration keep both empty; their hashes do not change, so existing chains
verify as before (governance/anchor.py says how they are anchored once a key is configured).
"""
import sqlalchemy as sa
from alembic import op

revision = '0013_audit_anchor'
down_revision = '0009_channels'
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit log is append-only"


def upgrade() -> None:
    # Adding nullable columns never rebuilds the table, so migration 0005's append-only triggers stay.
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("key_id", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch_op:
        batch_op.drop_column("key_id")
        batch_op.drop_column("mac")
    if op.get_bind().dialect.name != "postgresql":
        # SQLite rebuilt the table to drop the columns, and its triggers went with it: put them back.
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END")
