"""surge: negative-message counts per key and time bucket; one open incident per topic

Revision ID: 0004_surge
Revises: 0003_channels
"""
import sqlalchemy as sa
from alembic import op

revision = "0004_surge"
down_revision = "0003_channels"
branch_labels = None
depends_on = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    op.create_table(
        "surge_counts",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "width", "bucket", name=op.f("pk_surge_counts")),
    )
    # The old detector could open two incidents for one topic when two workers raced; keep the newest
    # open, so that the unique index below can be built.
    op.execute(
        "UPDATE incidents SET status = 'closed', closed_at = CURRENT_TIMESTAMP WHERE status = 'open' "
        "AND id NOT IN (SELECT max(id) FROM incidents WHERE status = 'open' GROUP BY topic)"
    )
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.create_index("uq_incidents_open_topic", ["topic"], unique=True, sqlite_where=OPEN,
                              postgresql_where=OPEN)


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch_op:
        batch_op.drop_index("uq_incidents_open_topic", sqlite_where=OPEN, postgresql_where=OPEN)
    op.drop_table("surge_counts")
