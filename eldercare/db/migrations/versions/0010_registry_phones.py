"""Registry: phone numbers of residents, relatives and stations, for people to call.

Revision ID: registry_phones
Revises: alerting_note_facts
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_phones"
down_revision = "alerting_note_facts"
branch_labels = None
depends_on = None

TABLES = ("stations", "residents", "contacts")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("phone", sa.String(length=40), nullable=False, server_default="")
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("phone")
