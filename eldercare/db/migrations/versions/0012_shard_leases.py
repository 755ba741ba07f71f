"""Scale-out: shard leases, the live instances per service, detector state per shard, and
each home's shard hash (CRC-32 of its id) so a replica reads only its shards' homes.

Revision ID: shard_leases
Revises: wellbeing_summaries
"""

import zlib

import sqlalchemy as sa
from alembic import op

revision = "shard_leases"
down_revision = "wellbeing_summaries"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("homes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shard_hash", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_homes_shard_hash", ["shard_hash"])
    homes = sa.table("homes", sa.column("id", sa.String), sa.column("shard_hash", sa.BigInteger))
    connection = op.get_bind()
    for (home,) in connection.execute(sa.select(homes.c.id)).all():
        # eldercare.topics.home_hash, written out: a migration must not change with the code
        shard_hash = zlib.crc32(home.encode())
        connection.execute(homes.update().where(homes.c.id == home).values(shard_hash=shard_hash))
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
    with op.batch_alter_table("homes", schema=None) as batch_op:
        batch_op.drop_index("ix_homes_shard_hash")
        batch_op.drop_column("shard_hash")
    op.drop_table("detector_checkpoints")
    op.drop_table("lease_members")
    op.drop_table("shard_leases")
