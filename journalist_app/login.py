"""Caseworker login: passphrase, TOTP code, throttling and lock-out.

Every attempt costs the same whatever the account: an unknown username is checked
against a dummy Argon2id hash, and every failure gets the same answer, so neither the
answer nor its timing tells whether an account exists or is locked. Throttling counts
attempts per account name (known or not) and over the whole instance, before any
Argon2id work is done.
"""

from __future__ import annotations

import datetime as dt
import enum
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import pyotp
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import DecryptionError
from journalist_app.throttle import Throttle, account_key
from lumen.accounts import hash_passphrase, normalize_username, unwrap_centre_key, verify_passphrase
from lumen.services import Services
from store.cases import audit
from store.models import Caseworker, Centre

logger = logging.getLogger(__name__)

THROTTLE_WINDOW_SECONDS: Final = 60
# Attempts per account name and window, as a multiple of the lock-out threshold: a
# known account locks first, so this bounds guessing on unknown and locked names.
ACCOUNT_ATTEMPTS_FACTOR: Final = 2
_CODE_PATTERN: Final = re.compile(r"\d{6}")


class LoginOutcome(enum.Enum):
    """How a login attempt ended."""

    OK = "ok"
    FAILED = "failed"
    THROTTLED = "throttled"
    NO_KEY = "no_key"


@dataclass(frozen=True, repr=False)
class LoginResult:
    """The outcome of one attempt; on success, the account and its unwrapped centre key."""

    outcome: LoginOutcome
    caseworker_id: int | None = None
    centre_key: PrivateKey | None = None
    key_version: int = 0
    retry_after: int = 0

    def __repr__(self) -> str:
        return f"LoginResult({self.outcome.name})"


def match_totp(secret: str, code: str, last_counter: int, now: float) -> int | None:
    """Return the time step that ``code`` is valid for, or None.

    A code is accepted for the current 30-second step and one step either side
    (pyotp's ``valid_window=1``), and only for a step after ``last_counter``, so a code
    that was used once is never accepted again.
    """
    code = code.strip().replace(" ", "")
    if not _CODE_PATTERN.fullmatch(code):
        return None

    totp = pyotp.TOTP(secret)
    current = totp.timecode(dt.datetime.fromtimestamp(now, dt.UTC))
    matched = None
    for counter in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code) and counter > last_counter:
            matched = counter
    return matched


class Authenticator:
    """Check login attempts against the accounts of one instance."""

    def __init__(
        self, services: Services, throttle: Throttle, clock: Callable[[], float] = time.time
    ) -> None:
        self._services = services
        self._throttle = throttle
        self._clock = clock
        self._secret = services.config.secrets.caseworker_secret_key
        # Verified against for unknown usernames, so that they cost one Argon2id run too.
        self._dummy_hash = hash_passphrase(secrets.token_hex(16), services.config.passphrase_kdf)

    def login(self, session: Session, username: str, passphrase: str, code: str) -> LoginResult:
        """Check one attempt, update counters and the audit trail, and commit."""
        config = self._services.config
        normalized = normalize_username(username)

        retry = self._throttle.hit(
            "global", config.login_global_per_minute, THROTTLE_WINDOW_SECONDS
        )
        if not retry:
            retry = self._throttle.hit(
                account_key(self._secret, normalized),
                config.login_max_failures * ACCOUNT_ATTEMPTS_FACTOR,
                THROTTLE_WINDOW_SECONDS,
            )
        if retry:
            logger.warning("login throttled")
            return LoginResult(LoginOutcome.THROTTLED, retry_after=retry)

        caseworker = session.scalar(select(Caseworker).where(Caseworker.username == normalized))
        if caseworker is None:
            verify_passphrase(self._dummy_hash, passphrase)
            logger.info("login failed")
            return LoginResult(LoginOutcome.FAILED)

        passphrase_ok = verify_passphrase(caseworker.passphrase_hash, passphrase)
        counter = match_totp(
            caseworker.totp_secret, code, caseworker.last_totp_counter, self._clock()
        )
        if caseworker.locked or not passphrase_ok or counter is None:
            self._record_failure(session, caseworker)
            return LoginResult(LoginOutcome.FAILED)

        caseworker.failed_logins = 0
        caseworker.last_totp_counter = counter
        version = session.scalar(
            select(Centre.key_version).where(Centre.id == caseworker.centre_id)
        )
        try:
            centre_key = unwrap_centre_key(session, caseworker, passphrase)
        except DecryptionError:
            audit(session, caseworker, "login.no_key")
            session.commit()
            logger.warning("login without a centre key", extra={"caseworker_id": caseworker.id})
            return LoginResult(LoginOutcome.NO_KEY, caseworker_id=caseworker.id)

        audit(session, caseworker, "login")
        session.commit()
        logger.info("login", extra={"caseworker_id": caseworker.id})
        return LoginResult(
            LoginOutcome.OK,
            caseworker_id=caseworker.id,
            centre_key=centre_key,
            key_version=int(version or 0),
        )

    def _record_failure(self, session: Session, caseworker: Caseworker) -> None:
        caseworker.failed_logins = (caseworker.failed_logins or 0) + 1
        if (
            not caseworker.locked
            and caseworker.failed_logins >= self._services.config.login_max_failures
        ):
            caseworker.locked = True
            audit(session, caseworker, "account.locked_after_failures", target=caseworker.username)
            logger.warning(
                "account locked after failed logins", extra={"caseworker_id": caseworker.id}
            )
        session.commit()
        logger.info("login failed")
