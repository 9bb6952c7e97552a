"""Alembic environment: the schema comes from every feature's models, in batch mode for SQLite."""

from alembic import context

import onevoice.models  # noqa: F401  (registers every table)
from onevoice.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _run(connectable)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _include_name(name, type_, _parent) -> bool:
    # The message search index (0002_inbox) is built by hand: SQLite FTS5 tables and their shadow tables.
    return not (type_ == "table" and name and name.startswith("messages_search"))


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, include_name=_include_name)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
