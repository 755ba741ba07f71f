"""Alerting: the context the detector gave an alert, handed back with the staff's verdict.

Revision ID: alerting_3
Revises: alerting_2
"""

import sqlalchemy as sa
from alembic import op

revision = "alerting_3"
down_revision = "alerting_2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("context", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("context")
