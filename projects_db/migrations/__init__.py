"""Alembic migrations of the studio database (applied by ``projects_db.engine.migrate``)."""
