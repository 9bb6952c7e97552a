"""A command run against a database the code does not match: the embedded SQLite default sets itself up (as
`serve` does); a PostgreSQL database that was never migrated gets a clear instruction, not a traceback."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import PG_ADMIN_URL
from typer.testing import CliRunner

from onevoice.cli.main import app

runner = CliRunner()


def test_a_command_on_a_new_sqlite_file_sets_the_schema_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    result = runner.invoke(app, ["model", "list", "--database-url", url])
    assert result.exit_code == 0, result.output
    assert runner.invoke(app, ["team", "add", "support", "--database-url", url]).exit_code == 0


def test_the_reports_commands_on_a_new_sqlite_file_set_the_schema_up(tmp_path):
    """They made their own engine and failed on the missing report_state table with a traceback."""
    for command in ("rebuild", "upkeep"):
        url = f"sqlite:///{tmp_path / f'{command}.db'}"
        result = runner.invoke(app, ["reports", command, "--database-url", url])
        assert result.exit_code == 0, result.output
        assert ("rebuilt the facts of 0 cases" if command == "rebuild" else "refreshed 0 cases") in result.output


@pytest.mark.postgres
def test_a_command_on_an_unmigrated_postgres_says_to_upgrade(db_backend, pg_database):
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"onevoice_empty_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        for command in (["team", "list"], ["reports", "rebuild"], ["reports", "upkeep"]):
            result = runner.invoke(app, [*command, "--database-url", url])
            assert result.exit_code == 1, (command, result.output)
            assert "has no OneVoice schema yet" in result.output and "onevoice db upgrade" in result.output
            assert "Traceback" not in result.output
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
