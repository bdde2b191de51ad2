"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from store.db import make_engine, upgrade_schema
from store.models import Base
from tests.conftest import POSTGRES_URL


def schema_differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_sqlite_upgrade_matches_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        assert inspect(engine).get_table_names() == []

        upgrade_schema(engine)

        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
        assert schema_differences(engine) == []
        # Running the upgrade again on a database at head changes nothing.
        upgrade_schema(engine)
        assert schema_differences(engine) == []
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_postgres_upgrade_matches_models() -> None:
    engine = make_engine(POSTGRES_URL)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        assert inspect(engine).get_table_names() == []

        upgrade_schema(engine)

        assert set(inspect(engine).get_table_names()) >= set(Base.metadata.tables)
        assert schema_differences(engine) == []
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def test_comparison_detects_missing_column(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'changed.sqlite'}")
    try:
        upgrade_schema(engine)
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE settings DROP COLUMN value"))

        differences = schema_differences(engine)

        assert len(differences) == 1
        assert "add_column" in repr(differences[0])
    finally:
        engine.dispose()
