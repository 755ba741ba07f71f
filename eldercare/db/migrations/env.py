"""Alembic environment: runs on the connection handed over by ``eldercare.db.migrate``."""

from alembic import context

from eldercare.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through eldercare.db.migrate (eldercare db upgrade)")

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
