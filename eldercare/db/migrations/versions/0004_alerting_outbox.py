"""Alerting: escalation timers, notification outbox, delivery attempts, alert outcome.

Revision ID: alerting_1
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "alerting_1"
down_revision = "gateway_1"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "escalation_timers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=30), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "tier", name="uq_escalation_timers_alert_tier"),
    )
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_timers_alert_id"), ["alert_id"], unique=False
        )
        batch_op.create_index("ix_escalation_timers_status_due", ["status", "due_at"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("idempotency_key", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=100), nullable=False),
        sa.Column("recipient_name", sa.String(length=200), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_via", sa.String(length=300), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("idempotency_key"),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(
            "ix_notifications_status_next", ["status", "next_attempt_at"], unique=False
        )

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=300), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["notification_id"], ["notifications.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_delivery_attempts_notification_id"), ["notification_id"], unique=False
        )

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=30), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("outcome")

    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_attempts_notification_id"))

    op.drop_table("delivery_attempts")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_status_next")
        batch_op.drop_index(batch_op.f("ix_notifications_alert_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("escalation_timers", schema=None) as batch_op:
        batch_op.drop_index("ix_escalation_timers_status_due")
        batch_op.drop_index(batch_op.f("ix_escalation_timers_alert_id"))

    op.drop_table("escalation_timers")
