"""Alembic migrations of the state store, run in code by :func:`p2c.store.database.upgrade`."""
