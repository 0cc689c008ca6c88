"""Alembic migrations for the maildesk schema."""
