"""Alembic runs the migrations on the connection ``playground.store.migrate`` hands it (no alembic.ini)."""

from alembic import context

from playground.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
