"""Fixtures of the hardening suite: small limits, and the apps under real waitress.

The limits are small, so that bodies just under and just over each of them are
cheap to send. Everything else is the production configuration and the production
waitress settings (``lumen.cli_run.waitress_settings``). Only the channel timeout
is short, so that a stalled client is dropped within the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from lumen.config import MIB, Config, Limits
from lumen.services import Services
from lumen.serving import waitress_settings
from tests.conftest import make_test_config
from tests.hardening.support import LiveServer, live_server

HARDENING_LIMITS = Limits(
    max_request_bytes=3 * MIB,
    max_file_bytes=2 * MIB,
    max_files=3,
    max_message_chars=2000,
)
CHANNEL_TIMEOUT_SECONDS = 4


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_test_config(tmp_path / "data", limits=HARDENING_LIMITS)


@contextmanager
def serve(app: object, config: Config) -> Iterator[LiveServer]:
    """Serve ``app`` with the production waitress settings and a short channel timeout."""
    settings = {
        **waitress_settings(config),
        "channel_timeout": CHANNEL_TIMEOUT_SECONDS,
        "cleanup_interval": 1,
    }
    with live_server(app, **settings) as server:
        yield server


@pytest.fixture
def source_server(config: Config, services: Services) -> Iterator[LiveServer]:
    from source_app import create_app

    with serve(create_app(config, services), config) as server:
        yield server
