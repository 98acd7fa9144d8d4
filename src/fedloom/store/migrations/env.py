"""Alembic environment: runs migrations on the connection handed in by fedloom.store.database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fedloom.store.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` run by hand: url from -x url=...
    url = context.get_x_argument(as_dictionary=True).get("url", "sqlite:///fedloom.db")
    connection = create_engine(url).connect()
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
