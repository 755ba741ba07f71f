"""Dashboards: revoked family links (per home and contact, links issued up to a time).

Revision ID: dashboards_family_revocations
Revises: alerting_3
"""

import sqlalchemy as sa
from alembic import op

revision = "dashboards_family_revocations"
down_revision = "alerting_3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "family_link_revocations",
        sa.Column("home_id", sa.String(length=64), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["home_id"], ["homes.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("home_id", "contact_name"),
    )


def downgrade() -> None:
    op.drop_table("family_link_revocations")
