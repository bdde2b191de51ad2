"""Configuration: each process gets only the secrets its role needs, and file values apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from lumen.config import ConfigError, config_from_mapping
from lumen.services import make_services

RAW = {
    "data_dir": "data",
    "centres": [{"id": "payoke", "name": "Payoke", "city": "Antwerpen"}],
    "unsubmitted_retention_days": 3,
    "caseworker": {"login_max_failures": 7, "login_global_per_minute": 90},
}
SALT = "00" * 16
SOURCE_KEY = "11" * 32
CASEWORKER_KEY = "22" * 32
SOURCE_ENV = {"LUMEN_CODENAME_SALT": SALT, "LUMEN_SOURCE_SECRET_KEY": SOURCE_KEY}
CASEWORKER_ENV = {"LUMEN_CASEWORKER_SECRET_KEY": CASEWORKER_KEY}


def test_source_role_needs_no_caseworker_key(tmp_path: Path) -> None:
    config = config_from_mapping(RAW, SOURCE_ENV, base=tmp_path, role="source")

    assert config.secrets.codename_salt == bytes.fromhex(SALT)
    assert config.secrets.caseworker_secret_key == b""


def test_caseworker_role_holds_no_salt(tmp_path: Path) -> None:
    config = config_from_mapping(RAW, CASEWORKER_ENV, base=tmp_path, role="caseworker")
    services = make_services(config)
    try:
        assert config.secrets.codename_salt == b""
        with pytest.raises(ConfigError, match="no codename salt"):
            services.deriver.derive("any codename")
    finally:
        services.engine.dispose()


@pytest.mark.parametrize(
    ("role", "environ", "missing"),
    [
        ("source", {"LUMEN_CODENAME_SALT": SALT}, "source_secret_key"),
        ("caseworker", SOURCE_ENV, "caseworker_secret_key"),
        ("all", SOURCE_ENV, "caseworker_secret_key"),
    ],
)
def test_missing_secret_named(
    tmp_path: Path, role: str, environ: dict[str, str], missing: str
) -> None:
    with pytest.raises(ConfigError, match=missing):
        config_from_mapping(RAW, environ, base=tmp_path, role=role)


def test_worker_role_needs_no_secret(tmp_path: Path) -> None:
    config = config_from_mapping(RAW, {}, base=tmp_path, role="worker")

    assert config.secrets.source_secret_key == b""


def test_file_values_applied(tmp_path: Path) -> None:
    config = config_from_mapping(RAW, SOURCE_ENV, base=tmp_path, role="source")

    assert config.unsubmitted_retention_days == 3
    assert config.login_max_failures == 7
    assert config.login_global_per_minute == 90


def test_source_app_refuses_without_its_secrets(tmp_path: Path) -> None:
    from source_app import create_app

    config = config_from_mapping(RAW, CASEWORKER_ENV, base=tmp_path, role="caseworker")

    with pytest.raises(ConfigError, match="codename salt"):
        create_app(config)


def test_plain_http_quick_exit_rejected(tmp_path: Path) -> None:
    raw = {**RAW, "source": {"quick_exit_url": "http://weather.example/"}}

    with pytest.raises(ConfigError, match="quick_exit_url"):
        config_from_mapping(raw, SOURCE_ENV, base=tmp_path, role="source")
