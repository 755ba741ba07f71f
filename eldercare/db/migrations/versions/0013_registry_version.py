"""The registry's version: a one-row counter that a trigger on homes, devices and home_modes
bumps in the same transaction as every write of them, so the gateway (every 10 s) and the
detector (every minute) read one number instead of the whole registry while nothing changed
(issue 18).

A trigger rather than a bump in the code: every writer is caught, the CLI, the REST API, the
dashboard, a migration, a person with psql, and no new write path can forget it.

PostgreSQL: one statement-level trigger per table (TRUNCATE too), fired BEFORE the
statement, so a writer
takes the counter's row lock before any registry row lock (two registry writers queue on the
counter instead of deadlocking on each other's rows). SQLite has row-level triggers only;
its writers are serialised by the database lock anyway.

Revision ID: registry_version
Revises: shard_leases
"""

import sqlalchemy as sa
from alembic import op

revision = "registry_version"
down_revision = "shard_leases"
branch_labels = None
depends_on = None

# eldercare.db.models.REGISTRY_VERSIONED_TABLES, written out: a migration must not change
# with the code.
TABLES = ("homes", "devices", "home_modes")
OPERATIONS = ("insert", "update", "delete")
BUMP = "UPDATE registry_version SET version = version + 1"


def upgrade() -> None:
    op.create_table(
        "registry_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO registry_version (id, version) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION registry_version_bump() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_registry_version BEFORE INSERT OR UPDATE OR DELETE "
                f"OR TRUNCATE ON {table} FOR EACH STATEMENT "
                "EXECUTE FUNCTION registry_version_bump()"
            )
        return
    for table in TABLES:
        for operation in OPERATIONS:
            op.execute(
                f"CREATE TRIGGER {table}_{operation}_registry_version AFTER {operation.upper()} "
                f"ON {table} BEGIN {BUMP}; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER {table}_registry_version ON {table}")
        op.execute("DROP FUNCTION registry_version_bump()")
    else:
        for table in TABLES:
            for operation in OPERATIONS:
                op.execute(f"DROP TRIGGER {table}_{operation}_registry_version")
    op.drop_table("registry_version")
