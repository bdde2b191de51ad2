"""Fixtures of the worker suites: an instance whose SMTP points at a local sink."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from nacl.public import PrivateKey

from lumen.config import Config, SmtpConfig
from lumen.services import Services, make_services
from tests.conftest import install_centres
from tests.unit.worker.support import MailSink, smtp_server


@pytest.fixture
def mail() -> Iterator[tuple[MailSink, int]]:
    with smtp_server() as sink_and_port:
        yield sink_and_port


@pytest.fixture
def mailing_services(
    config: Config, centre_keys: dict[str, PrivateKey], mail: tuple[MailSink, int]
) -> Iterator[Services]:
    """An instance whose notifications go to the local SMTP sink."""
    smtp = SmtpConfig(host="127.0.0.1", port=mail[1], sender="lumen@instance.test")
    instance = make_services(dataclasses.replace(config, smtp=smtp))
    install_centres(instance, centre_keys)
    yield instance
    instance.engine.dispose()
