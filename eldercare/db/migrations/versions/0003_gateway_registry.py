"""Gateway registry: zigbee2mqtt friendly names on devices, and MQTT broker credentials.

Revision ID: gateway_1
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "gateway_1"
down_revision = "dashboard_1"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("zigbee_name", sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint("uq_devices_zigbee_name", ["zigbee_name"])

    op.create_table(
        "mqtt_credentials",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("home_id", sa.String(length=64), nullable=True),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("username"),
    )
    with op.batch_alter_table("mqtt_credentials", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mqtt_credentials_home_id"), ["home_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mqtt_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mqtt_credentials_home_id"))
    op.drop_table("mqtt_credentials")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_constraint("uq_devices_zigbee_name", type_="unique")
        batch_op.drop_column("zigbee_name")
