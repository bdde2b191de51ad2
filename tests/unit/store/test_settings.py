"""Instance settings: stored values over the configuration's defaults."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from lumen.services import Services
from store.models import Setting
from store.settings import InstanceSettings, SettingsError, defaults, load_settings, save_settings


def test_defaults_come_from_config(services: Services) -> None:
    with services.sessions() as session:
        settings = load_settings(session, services.config)

    assert settings == defaults(services.config)
    assert settings.retention_days == services.config.retention_days
    assert settings.max_file_bytes == services.config.limits.max_file_bytes


def test_only_changed_values_are_stored(services: Services) -> None:
    base = defaults(services.config)
    changed = dataclasses.replace(base, retention_days=30, source_languages=("nl",))

    with services.sessions() as session:
        names = save_settings(session, services.config, changed)
        session.commit()
        stored = {row.key: row.value for row in session.scalars(select(Setting))}
        loaded = load_settings(session, services.config)

    assert sorted(names) == ["retention_days", "source_languages"]
    assert stored == {"retention_days": "30", "source_languages": '["nl"]'}
    assert loaded == changed

    with services.sessions() as session:
        assert save_settings(session, services.config, base) == [
            "retention_days",
            "source_languages",
        ]
        session.commit()
        assert session.scalars(select(Setting)).all() == []


def test_invalid_stored_value_falls_back(services: Services) -> None:
    with services.sessions() as session:
        session.add(Setting(key="retention_days", value="0"))
        session.commit()
        assert load_settings(session, services.config) == defaults(services.config)


@pytest.mark.parametrize(
    "change",
    [
        {"retention_days": 0},
        {"max_file_mb": 0},
        {"max_files": 0},
        {"quick_exit_url": "http://example.org/"},
        {"source_languages": ()},
        {"source_languages": ("zz",)},
    ],
)
def test_invalid_settings_raise(services: Services, change: dict[str, object]) -> None:
    values = dataclasses.asdict(defaults(services.config))
    values.update(change)

    with pytest.raises(SettingsError):
        InstanceSettings(**values)  # type: ignore[arg-type]
