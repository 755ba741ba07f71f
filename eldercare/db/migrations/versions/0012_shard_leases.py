"""Scale-out: shard leases, the live instances per service, detector state per shard.

Revision ID: shard_leases
Revises: wellbeing_summaries
"""

import sqlalchemy as sa
from alembic import op

revision = "shard_leases"
down_revision = "wellbeing_summaries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shard_leases",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("scope", "shard"),
    )
    op.create_table(
        "lease_members",
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "owner"),
    )
    op.create_table(
        "detector_checkpoints",
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shard"),
    )


def downgrade() -> None:
    op.drop_table("detector_checkpoints")
    op.drop_table("lease_members")
    op.drop_table("shard_leases")
