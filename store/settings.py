"""Instance settings that administrators change at run time, over the configuration file.

The configuration file gives the defaults; a row in the ``settings`` table overrides
one of them. :func:`load_settings` merges both and is what the apps and the worker
read; :func:`save_settings` writes only the values that differ from the file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from typing import Final

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lumen.config import MIB, SOURCE_LANGUAGES, Config
from store.models import Setting

MAX_RETENTION_DAYS: Final = 3650


class SettingsError(Exception):
    """A setting has an invalid value; the message names it."""


@dataclass(frozen=True)
class InstanceSettings:
    """The settings an administrator can change without editing the configuration."""

    retention_days: int
    max_file_mb: int
    max_files: int
    quick_exit_url: str
    onion_address: str
    source_languages: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 1 <= self.retention_days <= MAX_RETENTION_DAYS:
            raise SettingsError(f"retention_days must be 1 to {MAX_RETENTION_DAYS}")
        if self.max_file_mb < 1:
            raise SettingsError("max_file_mb must be at least 1")
        if self.max_files < 1:
            raise SettingsError("max_files must be at least 1")
        if not self.quick_exit_url.startswith("https://"):
            raise SettingsError("quick_exit_url must be an https:// address")
        if not self.source_languages or any(
            language not in SOURCE_LANGUAGES for language in self.source_languages
        ):
            raise SettingsError(
                f"source_languages must be a non-empty subset of {SOURCE_LANGUAGES}"
            )

    @property
    def max_file_bytes(self) -> int:
        """Largest accepted file, in bytes."""
        return self.max_file_mb * MIB


def defaults(config: Config) -> InstanceSettings:
    """Return the settings as the configuration file gives them."""
    return InstanceSettings(
        retention_days=config.retention_days,
        max_file_mb=max(1, config.limits.max_file_bytes // MIB),
        max_files=config.limits.max_files,
        quick_exit_url=config.quick_exit_url,
        onion_address=config.onion_address,
        source_languages=config.source_languages,
    )


def load_settings(session: Session, config: Config) -> InstanceSettings:
    """Return the effective settings: stored values over the configuration's defaults.

    A stored value that no longer passes validation is ignored, so a bad row can never
    stop an app from starting.
    """
    values = {f.name: getattr(defaults(config), f.name) for f in fields(InstanceSettings)}
    for row in session.scalars(select(Setting)):
        if row.key in values:
            value = json.loads(row.value)
            values[row.key] = tuple(value) if isinstance(value, list) else value

    try:
        return InstanceSettings(**values)
    except (SettingsError, TypeError):
        return defaults(config)


def save_settings(session: Session, config: Config, settings: InstanceSettings) -> list[str]:
    """Store the values of ``settings`` that differ from the configuration; the caller commits.

    Returns the names of the settings whose effective value changed.
    """
    before = load_settings(session, config)
    base = defaults(config)
    changed = []
    for field in fields(InstanceSettings):
        value = getattr(settings, field.name)
        if value != getattr(before, field.name):
            changed.append(field.name)
        session.execute(delete(Setting).where(Setting.key == field.name))
        if value != getattr(base, field.name):
            stored = list(value) if isinstance(value, tuple) else value
            session.add(Setting(key=field.name, value=json.dumps(stored)))
    return changed


def apply_settings(config: Config, settings: InstanceSettings) -> Config:
    """Return ``config`` with ``settings`` in place of the file's values.

    A file limit larger than the request limit could never be reached, so it is capped
    there. When the default language is no longer enabled, the first enabled one
    takes its place.
    """
    limits = replace(
        config.limits,
        max_file_bytes=min(settings.max_file_bytes, config.limits.max_request_bytes),
        max_files=settings.max_files,
    )
    default_language = config.default_language
    if default_language not in settings.source_languages:
        default_language = settings.source_languages[0]
    return replace(
        config,
        retention_days=settings.retention_days,
        limits=limits,
        quick_exit_url=settings.quick_exit_url,
        onion_address=settings.onion_address,
        source_languages=settings.source_languages,
        default_language=default_language,
    )
