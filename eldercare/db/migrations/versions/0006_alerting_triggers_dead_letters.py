"""Alerting: every trigger id seen (idempotent attach), and dead letters from all services.

Revision ID: alerting_2
Revises: dashboard_2

Existing alerts get their own id as a trigger, and triggers already attached get theirs
back from the audit notes, so a redelivery right after the upgrade is still recognised.
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "alerting_2"
down_revision = "dashboard_2"
branch_labels = None
depends_on = None

#: The audit note ``alerting.store.record_alert`` writes when it attaches a trigger.
ATTACHED = re.compile(r"another trigger attached \(([^)]+)\)")


def upgrade() -> None:
    op.create_table(
        "alert_triggers",
        sa.Column("trigger_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["alerts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trigger_id"),
    )
    with op.batch_alter_table("alert_triggers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_triggers_alert_id"), ["alert_id"], unique=False)
    _backfill_triggers()

    op.create_table(
        "dead_letters",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("service", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("payload_encoding", sa.String(length=10), nullable=False),
        sa.Column("payload_size", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(length=200), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dead_letters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dead_letters_service"), ["service"], unique=False)


def _backfill_triggers() -> None:
    """In SQL where times are copied, so no backend has to parse them back."""
    op.execute(
        "INSERT INTO alert_triggers (trigger_id, alert_id, received_at) "
        "SELECT id, id, raised_at FROM alerts"
    )
    connection = op.get_bind()
    seen = set(connection.scalars(sa.text("SELECT trigger_id FROM alert_triggers")))
    notes = connection.execute(
        sa.text("SELECT id, note FROM alert_events WHERE note LIKE :attached ORDER BY id"),
        {"attached": "another trigger attached (%"},
    )
    for event_id, note in notes.all():
        if (match := ATTACHED.match(note)) and match[1] not in seen:
            seen.add(match[1])
            connection.execute(
                sa.text(
                    "INSERT INTO alert_triggers (trigger_id, alert_id, received_at) "
                    "SELECT :trigger, alert_id, at FROM alert_events WHERE id = :event"
                ),
                {"trigger": match[1], "event": event_id},
            )


def downgrade() -> None:
    op.drop_table("dead_letters")
    op.drop_table("alert_triggers")
