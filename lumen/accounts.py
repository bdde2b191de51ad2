"""Instance set-up and caseworker accounts: the services behind ``lumen`` and the admin pages.

A centre's private key exists only wrapped, one copy per caseworker under that
caseworker's passphrase (:class:`store.models.WrappedCentreKey`). Every operation that
gives someone the key therefore needs the key in the clear for a moment, taken from a
holder: either from the holder's passphrase (the command line) or from the holder's
logged-in session (the admin pages). The functions here take the key or the holder's
passphrase explicitly, and never store, log or return the key.

Resetting a forgotten passphrase follows the same rule: the old wrapped copy cannot be
opened any more, so a holder unwraps their own copy and wraps the key again under a
new passphrase for the caseworker (:func:`reset_passphrase`).

After :func:`rotate_centre_key` only the holder who ran it has the new key; every other
caseworker of the centre must be granted it again by a holder (:func:`grant_centre_key`
on the command line, "reset passphrase" on the admin pages).
"""

from __future__ import annotations

import logging
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import nacl.pwhash.argon2id as argon2id
import pyotp
from nacl.exceptions import InvalidkeyError
from nacl.public import PrivateKey, PublicKey
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto import (
    DecryptionError,
    KdfParams,
    generate_private_key,
    open_key_slot,
    seal_key_slot,
    unwrap_private_key,
    wordlist,
    wrap_private_key,
)
from lumen.services import Services
from store.cases import audit
from store.db import upgrade_schema
from store.models import Caseworker, Centre, KeySlot, WrappedCentreKey

logger = logging.getLogger(__name__)

USERNAME_PATTERN: Final = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
PASSPHRASE_MIN_BITS: Final = 96
PASSPHRASE_MIN_CHARS: Final = 16
_ROTATION_BATCH: Final = 500


class AccountError(Exception):
    """An account operation cannot be done as requested; the message says why."""


@dataclass(frozen=True, repr=False)
class NewCredentials:
    """A caseworker's one-time passphrase and TOTP secret, shown once and never stored."""

    caseworker_id: int
    username: str
    centre_id: str
    passphrase: str
    totp_secret: str

    def __repr__(self) -> str:
        return f"NewCredentials(username={self.username!r}, <redacted>)"


@dataclass(frozen=True)
class InitResult:
    """What :func:`init_instance` created; empty lists on a second run."""

    created_centres: list[str]
    first_admins: list[NewCredentials]


def normalize_username(username: str) -> str:
    """Return ``username`` stripped and lower-cased, as it is stored."""
    return username.strip().lower()


def check_username(username: str) -> str:
    """Return the normalised ``username`` or raise :class:`AccountError` if it is invalid."""
    normalized = normalize_username(username)
    if not USERNAME_PATTERN.fullmatch(normalized):
        raise AccountError(
            f"invalid username {username!r}: use 2 to 64 characters a-z, 0-9, '.', '_' or '-',"
            " starting with a letter or digit"
        )
    return normalized


def generate_passphrase(min_bits: int = PASSPHRASE_MIN_BITS) -> str:
    """Draw a passphrase of random English words with at least ``min_bits`` of entropy."""
    words = wordlist("en")
    count = math.ceil(min_bits / math.log2(len(words)))
    return " ".join(secrets.choice(words) for _ in range(count))


def check_passphrase_strength(passphrase: str) -> None:
    """Raise :class:`AccountError` when a chosen passphrase is too short to be safe."""
    if len(passphrase) < PASSPHRASE_MIN_CHARS:
        raise AccountError(f"a passphrase needs at least {PASSPHRASE_MIN_CHARS} characters")


def hash_passphrase(passphrase: str, params: KdfParams) -> str:
    """Return the Argon2id string that :func:`verify_passphrase` checks."""
    hashed: bytes = argon2id.str(
        passphrase.encode("utf-8"), opslimit=params.opslimit, memlimit=params.memlimit
    )
    return hashed.decode("ascii")


def verify_passphrase(passphrase_hash: str, passphrase: str) -> bool:
    """Return whether ``passphrase`` matches ``passphrase_hash``."""
    try:
        return bool(argon2id.verify(passphrase_hash.encode("ascii"), passphrase.encode("utf-8")))
    except InvalidkeyError:
        return False


def totp_uri(username: str, secret: str, issuer: str = "Lumen") -> str:
    """Return the ``otpauth://`` URI that an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)


def init_instance(
    services: Services,
    centre_keys: Mapping[str, PrivateKey] | None = None,
    admin_passphrases: Mapping[str, str] | None = None,
) -> InitResult:
    """Create the schema, each configured centre and a first administrator per centre.

    A centre that already exists is kept as it is, with its key, so a second run only
    adds centres that are new in the configuration. ``centre_keys`` gives pre-built key
    pairs (for tests); otherwise each new centre gets a fresh X25519 pair, of which
    only the public half is stored. The first administrator of centre ``x`` is called
    ``admin-x`` and gets ``admin_passphrases[x]`` or a generated passphrase.
    """
    upgrade_schema(services.engine)
    services.blobs.remove_temporary_files()
    created: list[str] = []
    admins: list[NewCredentials] = []

    with services.sessions() as session:
        for centre_config in services.config.centres:
            if session.get(Centre, centre_config.id) is not None:
                continue

            private_key = (centre_keys or {}).get(centre_config.id) or generate_private_key()
            centre = Centre(
                id=centre_config.id,
                name=centre_config.name,
                public_key=bytes(private_key.public_key),
                key_version=1,
            )
            session.add(centre)
            session.flush()
            admin, passphrase, totp_secret = create_caseworker(
                session,
                services,
                f"admin-{centre_config.id}",
                centre_config.id,
                is_admin=True,
                passphrase=(admin_passphrases or {}).get(centre_config.id),
            )
            store_wrapped_key(
                session, services.config.passphrase_kdf, admin, private_key, passphrase
            )
            audit(session, None, "instance.centre_created", target=centre_config.id)
            created.append(centre_config.id)
            admins.append(
                NewCredentials(admin.id, admin.username, centre.id, passphrase, totp_secret)
            )

        session.commit()

    logger.info("instance initialised", extra={"new_centres": len(created)})
    return InitResult(created_centres=created, first_admins=admins)


def create_caseworker(
    session: Session,
    services: Services,
    username: str,
    centre_id: str,
    is_admin: bool,
    passphrase: str | None = None,
) -> tuple[Caseworker, str, str]:
    """Add an account and return it with its passphrase and new TOTP secret.

    Without ``passphrase`` a strong one is generated and the caseworker must change it
    at first login, because whoever handed it over has seen it. The account holds no
    centre key yet: give it one with :func:`store_wrapped_key` or
    :func:`grant_centre_key`. The caller commits.
    """
    normalized = check_username(username)
    if session.get(Centre, centre_id) is None:
        raise AccountError(f"unknown centre {centre_id!r}")
    if session.scalar(select(Caseworker.id).where(Caseworker.username == normalized)):
        raise AccountError(f"username {normalized!r} is already taken")

    generated = passphrase is None
    if passphrase is None:
        passphrase = generate_passphrase()
    else:
        check_passphrase_strength(passphrase)

    totp_secret = pyotp.random_base32()
    caseworker = Caseworker(
        username=normalized,
        centre_id=centre_id,
        is_admin=is_admin,
        passphrase_hash=hash_passphrase(passphrase, services.config.passphrase_kdf),
        totp_secret=totp_secret,
        last_totp_counter=0,
        failed_logins=0,
        locked=False,
        must_change_passphrase=generated,
    )
    session.add(caseworker)
    session.flush()
    return caseworker, passphrase, totp_secret


def current_key_version(session: Session, centre_id: str) -> int:
    """Return the key version of ``centre_id``."""
    version = session.scalar(select(Centre.key_version).where(Centre.id == centre_id))
    if version is None:
        raise AccountError(f"unknown centre {centre_id!r}")
    return int(version)


def store_wrapped_key(
    session: Session,
    params: KdfParams,
    caseworker: Caseworker,
    private_key: PrivateKey,
    passphrase: str,
) -> None:
    """Wrap the centre key of ``caseworker``'s centre under ``passphrase`` for them.

    ``private_key`` must be the centre's current key; a key whose public half differs
    from the stored one is rejected, so nobody is given a key that opens nothing.
    """
    centre = session.get(Centre, caseworker.centre_id)
    if centre is None:
        raise AccountError(f"unknown centre {caseworker.centre_id!r}")
    if bytes(private_key.public_key) != centre.public_key:
        raise AccountError(f"that key is not the current key of centre {centre.id!r}")

    session.execute(
        delete(WrappedCentreKey).where(
            WrappedCentreKey.caseworker_id == caseworker.id,
            WrappedCentreKey.centre_id == centre.id,
        )
    )
    session.add(
        WrappedCentreKey(
            caseworker_id=caseworker.id,
            centre_id=centre.id,
            key_version=centre.key_version,
            wrapped=wrap_private_key(private_key, passphrase, params),
        )
    )


def has_current_key(session: Session, caseworker: Caseworker) -> bool:
    """Return whether ``caseworker`` holds a wrapped copy of their centre's current key."""
    version = current_key_version(session, caseworker.centre_id)
    return (
        session.scalar(
            select(WrappedCentreKey.id).where(
                WrappedCentreKey.caseworker_id == caseworker.id,
                WrappedCentreKey.centre_id == caseworker.centre_id,
                WrappedCentreKey.key_version == version,
            )
        )
        is not None
    )


def unwrap_centre_key(session: Session, caseworker: Caseworker, passphrase: str) -> PrivateKey:
    """Return the current key of ``caseworker``'s centre, unwrapped with their passphrase.

    Raises :class:`crypto.DecryptionError` when the caseworker holds no current copy or
    the passphrase is wrong; the two cases are deliberately indistinguishable.
    """
    version = current_key_version(session, caseworker.centre_id)
    wrapped = session.scalar(
        select(WrappedCentreKey.wrapped).where(
            WrappedCentreKey.caseworker_id == caseworker.id,
            WrappedCentreKey.centre_id == caseworker.centre_id,
            WrappedCentreKey.key_version == version,
        )
    )
    if wrapped is None:
        raise DecryptionError()
    return unwrap_private_key(wrapped, passphrase)


def holder_key(session: Session, holder: Caseworker, holder_passphrase: str) -> PrivateKey:
    """Unwrap ``holder``'s copy of the centre key or raise :class:`AccountError`."""
    try:
        return unwrap_centre_key(session, holder, holder_passphrase)
    except DecryptionError:
        raise AccountError(
            f"could not unwrap the centre key of {holder.username!r}: the passphrase is wrong"
            " or that account does not hold the current key"
        ) from None


def grant_centre_key(
    session: Session,
    holder: Caseworker,
    holder_passphrase: str,
    new_caseworker: Caseworker,
    new_passphrase: str,
    *,
    params: KdfParams,
) -> None:
    """Give ``new_caseworker`` the centre key that ``holder`` unwraps with their passphrase.

    ``new_passphrase`` must be ``new_caseworker``'s current passphrase; it is checked
    against the stored hash so that the copy can later be unwrapped at login. The
    caller commits.
    """
    if holder.centre_id != new_caseworker.centre_id:
        raise AccountError("a holder can only grant the key of their own centre")
    if not verify_passphrase(new_caseworker.passphrase_hash, new_passphrase):
        raise AccountError(f"that is not the current passphrase of {new_caseworker.username!r}")

    private_key = holder_key(session, holder, holder_passphrase)
    store_wrapped_key(session, params, new_caseworker, private_key, new_passphrase)
    audit(session, holder, "account.key_granted", target=new_caseworker.username)


def reset_passphrase(
    session: Session,
    params: KdfParams,
    actor: Caseworker | None,
    caseworker: Caseworker,
    centre_key: PrivateKey,
    new_passphrase: str | None = None,
) -> str:
    """Set a new passphrase for ``caseworker`` and wrap ``centre_key`` under it.

    The old wrapped copy is useless once the passphrase is forgotten, so the centre key
    must come from a holder: the admin pages pass the admin's session key, the command
    line unwraps the holder's copy first. Without ``new_passphrase`` one is generated
    and must be changed at the next login. Returns the new passphrase. The caller
    commits.
    """
    generated = new_passphrase is None
    if new_passphrase is None:
        new_passphrase = generate_passphrase()
    else:
        check_passphrase_strength(new_passphrase)

    caseworker.passphrase_hash = hash_passphrase(new_passphrase, params)
    caseworker.must_change_passphrase = generated
    store_wrapped_key(session, params, caseworker, centre_key, new_passphrase)
    audit(session, actor, "account.passphrase_reset", target=caseworker.username)
    return new_passphrase


def change_own_passphrase(
    session: Session,
    params: KdfParams,
    caseworker: Caseworker,
    centre_key: PrivateKey,
    new_passphrase: str,
) -> None:
    """Replace a caseworker's passphrase with one they chose and re-wrap their key copy."""
    check_passphrase_strength(new_passphrase)
    caseworker.passphrase_hash = hash_passphrase(new_passphrase, params)
    caseworker.must_change_passphrase = False
    store_wrapped_key(session, params, caseworker, centre_key, new_passphrase)
    audit(session, caseworker, "account.passphrase_changed", target=caseworker.username)


def reset_totp(session: Session, actor: Caseworker | None, caseworker: Caseworker) -> str:
    """Give ``caseworker`` a new TOTP secret and return it; the old one stops working."""
    secret = pyotp.random_base32()
    caseworker.totp_secret = secret
    caseworker.last_totp_counter = 0
    audit(session, actor, "account.totp_reset", target=caseworker.username)
    return secret


def lock(session: Session, actor: Caseworker | None, caseworker: Caseworker) -> None:
    """Lock an account: it cannot log in until an administrator unlocks it."""
    caseworker.locked = True
    audit(session, actor, "account.locked", target=caseworker.username)


def unlock(session: Session, actor: Caseworker | None, caseworker: Caseworker) -> None:
    """Unlock an account and forget its failed logins."""
    caseworker.locked = False
    caseworker.failed_logins = 0
    audit(session, actor, "account.unlocked", target=caseworker.username)


def remove(
    session: Session, actor: Caseworker | None, caseworker: Caseworker, force: bool = False
) -> None:
    """Delete an account with its wrapped key copies.

    Removing the last holder of a centre's current key would make every case of that
    centre unreadable for good, so that needs ``force``.
    """
    version = current_key_version(session, caseworker.centre_id)
    holders = session.scalar(
        select(func.count(WrappedCentreKey.id)).where(
            WrappedCentreKey.centre_id == caseworker.centre_id,
            WrappedCentreKey.key_version == version,
        )
    )
    if not force and has_current_key(session, caseworker) and holders == 1:
        raise AccountError(
            f"{caseworker.username!r} is the last holder of the key of centre"
            f" {caseworker.centre_id!r}; grant the key to someone else first"
        )

    username = caseworker.username
    session.execute(delete(WrappedCentreKey).where(WrappedCentreKey.caseworker_id == caseworker.id))
    session.delete(caseworker)
    audit(session, actor, "account.removed", target=username, centre_id=caseworker.centre_id)


def find_caseworker(session: Session, username: str) -> Caseworker:
    """Return the account called ``username`` or raise :class:`AccountError`."""
    caseworker = session.scalar(
        select(Caseworker).where(Caseworker.username == normalize_username(username))
    )
    if caseworker is None:
        raise AccountError(f"no caseworker called {username!r}")
    return caseworker


def rotate_centre_key(
    session: Session,
    services: Services,
    centre_id: str,
    holder: Caseworker,
    holder_passphrase: str,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Replace a centre's key pair and re-seal every content key to the new public key.

    Every key slot of the old key version is opened with the old key, sealed to the new
    key and then deleted, all in one transaction, which this function commits. Slots
    that a concurrent submission wrote with the old key before the commit are re-sealed
    in a second pass while the old key is still in memory. Every wrapped copy of the
    old key is deleted; ``holder`` gets the new key under their passphrase, and the
    centre's other caseworkers must be granted it again. ``progress`` is called with
    ``(done, total)``. Returns the number of slots re-sealed.
    """
    if holder.centre_id != centre_id:
        raise AccountError("only a caseworker of the centre can rotate its key")

    centre = session.get(Centre, centre_id)
    if centre is None:
        raise AccountError(f"unknown centre {centre_id!r}")

    old_key = holder_key(session, holder, holder_passphrase)
    old_version = centre.key_version
    new_key = generate_private_key()
    new_version = old_version + 1

    total = session.scalar(
        select(func.count(KeySlot.id)).where(
            KeySlot.centre_id == centre_id, KeySlot.key_version == old_version
        )
    )
    done = _reseal_slots(
        session, centre_id, old_version, old_key, new_key, new_version, 0, total or 0, progress
    )

    centre.public_key = bytes(new_key.public_key)
    centre.key_version = new_version
    session.execute(
        delete(WrappedCentreKey).where(
            WrappedCentreKey.centre_id == centre_id, WrappedCentreKey.key_version <= old_version
        )
    )
    session.flush()
    store_wrapped_key(session, services.config.passphrase_kdf, holder, new_key, holder_passphrase)
    audit(session, holder, "centre.key_rotated", target=centre_id, detail=f"version {new_version}")
    session.commit()

    # A writer that read the old public key before the commit may have added slots since.
    stragglers = _reseal_slots(
        session, centre_id, old_version, old_key, new_key, new_version, done, done, progress
    )
    session.commit()
    logger.info(
        "centre key rotated",
        extra={"centre_id": centre_id, "key_version": new_version, "slots": done + stragglers},
    )
    return done + stragglers


def _reseal_slots(
    session: Session,
    centre_id: str,
    old_version: int,
    old_key: PrivateKey,
    new_key: PrivateKey,
    new_version: int,
    done: int,
    total: int,
    progress: Callable[[int, int], None] | None,
) -> int:
    resealed = 0
    new_public: PublicKey = new_key.public_key
    while True:
        batch = session.scalars(
            select(KeySlot)
            .where(KeySlot.centre_id == centre_id, KeySlot.key_version == old_version)
            .limit(_ROTATION_BATCH)
        ).all()
        if not batch:
            return resealed

        for slot in batch:
            content_key = open_key_slot(slot.sealed_key, old_key)
            session.add(
                KeySlot(
                    envelope_id=slot.envelope_id,
                    centre_id=centre_id,
                    key_version=new_version,
                    for_source=False,
                    sealed_key=seal_key_slot(content_key, new_public),
                )
            )
            session.delete(slot)
        session.flush()
        resealed += len(batch)
        if progress is not None:
            progress(done + resealed, max(total, done + resealed))
