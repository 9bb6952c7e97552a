"""vocabulary: catalog entries become the organization's vocabulary (products, competitors, terms), each
optionally carrying an intent and a team

Revision ID: 0014_vocabulary
Revises: 0009_channels
Create Date: 2026-12-06 03:50:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014_vocabulary'
down_revision = '0013_audit_anchor'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("products") as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), nullable=False, server_default="product"))
        batch_op.add_column(sa.Column("intent", sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column("team", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("products") as batch_op:
        batch_op.drop_column("team")
        batch_op.drop_column("intent")
        batch_op.drop_column("kind")
