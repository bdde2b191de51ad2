"""A complete Lumen instance for the browser tests: both apps on real waitress servers.

The instance lives in a temporary folder with the cheap Argon2id settings of the
test configuration. Each app gets its own :class:`~lumen.services.Services`, as it
would in its own process, and its own server on a free port of 127.0.0.1.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyotp
from nacl.public import PrivateKey

from crypto import generate_private_key
from lumen.accounts import create_caseworker, init_instance, store_wrapped_key
from lumen.config import Config
from lumen.services import Services, make_services
from lumen.serving import waitress_settings
from tests.browser.servers import LiveServer
from tests.conftest import TEST_CENTRES, make_test_config

PASSPHRASE = "amber kettle orbit violin harbour meadow"
_usernames = itertools.count(1)


@dataclass(frozen=True)
class CaseworkerLogin:
    """What a caseworker types to log in; the code comes from :meth:`totp_code`."""

    username: str
    passphrase: str
    totp_secret: str
    centre_id: str

    def totp_code(self) -> str:
        """Return the TOTP code for the current 30-second step, as an authenticator would."""
        return pyotp.TOTP(self.totp_secret).at(time.time())


@dataclass
class LumenInstance:
    """Both apps of one instance, served on loopback, with the centres' private keys."""

    config: Config
    centre_keys: dict[str, PrivateKey]
    source: LiveServer
    caseworker: LiveServer
    _services: list[Services] = field(default_factory=list)

    def new_caseworker(self, centre_id: str = "payoke", admin: bool = False) -> CaseworkerLogin:
        """Create an account with a wrapped copy of the centre key and a fresh TOTP secret.

        A TOTP code is accepted once, so each login in a test uses its own account
        rather than waiting for the next 30-second step.
        """
        services = self._services[1]
        username = f"worker{next(_usernames)}-{centre_id}"
        with services.sessions() as session:
            account, passphrase, totp_secret = create_caseworker(
                session, services, username, centre_id, is_admin=admin, passphrase=PASSPHRASE
            )
            store_wrapped_key(
                session,
                self.config.passphrase_kdf,
                account,
                self.centre_keys[centre_id],
                passphrase,
            )
            session.commit()
        return CaseworkerLogin(username, passphrase, totp_secret, centre_id)

    def stop(self) -> None:
        """Stop both servers and close the database connections."""
        self.source.stop()
        self.caseworker.stop()
        for services in self._services:
            services.engine.dispose()


def start_instance(data_dir: Path, **config_overrides: object) -> LumenInstance:
    """Create an instance in ``data_dir`` and serve both apps on free loopback ports."""
    import journalist_app
    import source_app

    config = make_test_config(data_dir, **config_overrides)
    centre_keys = {centre.id: generate_private_key() for centre in TEST_CENTRES}
    setup = make_services(config)
    init_instance(setup, centre_keys=centre_keys)
    setup.engine.dispose()

    source_services = make_services(config)
    caseworker_services = make_services(config)
    # Both apps run with the production waitress settings, as ``lumen serve`` sets them.
    settings = waitress_settings(config)
    source = LiveServer(source_app.create_app(config, source_services), **settings).start()
    caseworker = LiveServer(
        journalist_app.create_app(config, caseworker_services), **settings
    ).start()
    return LumenInstance(
        config=config,
        centre_keys=centre_keys,
        source=source,
        caseworker=caseworker,
        _services=[source_services, caseworker_services],
    )
