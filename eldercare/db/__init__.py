"""One database, one schema, one Alembic history for all services (DESIGN §1)."""

from eldercare.db.engine import create_engine, insert_new, migrate, prepared_engine

__all__ = ["create_engine", "insert_new", "migrate", "prepared_engine"]
