"""notifications: preferences, alert rules, alerts raised, mail waiting to go out

Four new tables; no existing table is touched.

Revision ID: 0021_notifications
Revises: 0016_privacy
Create Date: 2026-12-06 09:30:00
"""
import sqlalchemy as sa
from alembic import op

import onevoice.db

revision = '0021_notifications'
down_revision = '0016_privacy'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("weekly_digest", sa.Boolean(), nullable=False),
        sa.Column("incident_alerts", sa.Boolean(), nullable=False),
        sa.Column("sla_alerts", sa.Boolean(), nullable=False),
        sa.Column("alert_email", sa.Boolean(), nullable=False),
        sa.Column("updated_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notification_preferences_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=60), nullable=False),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("firing", sa.Boolean(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("last_value", sa.Float(), nullable=True),
        sa.Column("checked_at", onevoice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("changed_at", onevoice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("set_by", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name=op.f("fk_alert_rules_team_id_teams"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    with op.batch_alter_table("alert_rules") as batch_op:
        batch_op.create_index("uq_alert_rules_scope", ["metric", "scope_key"], unique=True)
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("created_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts") as batch_op:
        batch_op.create_index("uq_alerts_key", ["key"], unique=True)
        batch_op.create_index("ix_alerts_created", ["created_at"], unique=False)
    op.create_table(
        "mail_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("to_addr", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", onevoice.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", onevoice.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", onevoice.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_mail_messages_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_messages")),
    )
    with op.batch_alter_table("mail_messages") as batch_op:
        batch_op.create_index("uq_mail_messages_key", ["key"], unique=True)
        batch_op.create_index("ix_mail_messages_due", ["status", "next_at"], unique=False)


def downgrade() -> None:
    op.drop_table("mail_messages")
    op.drop_table("alerts")
    op.drop_table("alert_rules")
    op.drop_table("notification_preferences")
