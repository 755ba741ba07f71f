"""Alerting: timeline notes also as facts (a key and its parameters), for every language.

Revision ID: alerting_note_facts
Revises: dashboards_family_revocations
"""

import sqlalchemy as sa
from alembic import op

revision = "alerting_note_facts"
down_revision = "dashboards_family_revocations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note_key", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("note_args", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_events", schema=None) as batch_op:
        batch_op.drop_column("note_args")
        batch_op.drop_column("note_key")
