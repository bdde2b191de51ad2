"""Fixtures shared by every suite: a fresh instance per test on real SQLite files.

KDF costs come in through the test configuration (the cheapest Argon2id settings
libsodium accepts), never by patching production code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import text

from crypto import KdfParams, generate_private_key
from lumen.config import CentreConfig, Config, Secrets
from lumen.services import Services, make_services
from store.db import upgrade_schema
from store.models import Centre

FAST_KDF = KdfParams(opslimit=1, memlimit=8192)
POSTGRES_URL = os.environ.get(
    "LUMEN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("LUMEN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

TEST_CENTRES = (
    CentreConfig(
        id="payoke",
        name="Payoke",
        city="Antwerpen",
        languages=("nl", "en"),
        phone="+32 3 201 16 90",
        notify=("intake@payoke.test",),
    ),
    CentreConfig(
        id="pagasa",
        name="PAG-ASA",
        city="Bruxelles",
        languages=("fr", "nl", "en"),
        phone="+32 2 511 64 64",
        notify=("intake@pagasa.test",),
    ),
    CentreConfig(
        id="surya",
        name="Sürya",
        city="Liège",
        languages=("fr", "en"),
        phone="+32 4 232 40 30",
        notify=("intake@surya.test",),
    ),
)


def make_test_config(
    data_dir: Path, database_url: str | None = None, **overrides: object
) -> Config:
    """Return a configuration for tests: cheap KDFs, fresh secrets, the three centres."""
    values: dict[str, object] = dict(
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'lumen.sqlite'}",
        redis_url=None,
        secrets=Secrets(
            codename_salt=os.urandom(16),
            source_secret_key=os.urandom(32),
            caseworker_secret_key=os.urandom(32),
        ),
        centres=TEST_CENTRES,
        source_kdf=FAST_KDF,
        passphrase_kdf=FAST_KDF,
    )
    values.update(overrides)
    return Config(**values)  # type: ignore[arg-type]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_test_config(tmp_path / "data")


@pytest.fixture
def centre_keys() -> dict[str, PrivateKey]:
    return {centre.id: generate_private_key() for centre in TEST_CENTRES}


def install_centres(services: Services, keys: dict[str, PrivateKey]) -> None:
    """Create the schema and the centre rows with the given key pairs."""
    upgrade_schema(services.engine)
    with services.sessions() as session:
        for centre in services.config.centres:
            session.add(
                Centre(id=centre.id, name=centre.name, public_key=bytes(keys[centre.id].public_key))
            )
        session.commit()


@pytest.fixture
def services(config: Config, centre_keys: dict[str, PrivateKey]) -> Iterator[Services]:
    """A fresh instance on a real SQLite file with the schema at head."""
    instance = make_services(config)
    install_centres(instance, centre_keys)
    yield instance
    instance.engine.dispose()


@pytest.fixture
def postgres_services(tmp_path: Path, centre_keys: dict[str, PrivateKey]) -> Iterator[Services]:
    """The same on the PostgreSQL test database, emptied before and after."""
    config = make_test_config(tmp_path / "data", database_url=POSTGRES_URL)
    instance = make_services(config)
    _reset_postgres(instance)
    install_centres(instance, centre_keys)
    yield instance
    _reset_postgres(instance)
    instance.engine.dispose()


def _reset_postgres(instance: Services) -> None:
    with instance.engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
