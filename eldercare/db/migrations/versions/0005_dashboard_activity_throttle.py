"""Dashboard: the homes' recent activity (durable day view) and failed-login throttling.

Revision ID: dashboard_2
Revises: alerting_1
"""

import sqlalchemy as sa
from alembic import op

revision = "dashboard_2"
down_revision = "alerting_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_activity",
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("room", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("home_id", "at", "device", "type"),
    )
    with op.batch_alter_table("home_activity", schema=None) as batch_op:
        batch_op.create_index("ix_home_activity_at", ["at"], unique=False)

    op.create_table(
        "login_throttle",
        sa.Column("key", sa.String(length=150), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_table("home_activity")
