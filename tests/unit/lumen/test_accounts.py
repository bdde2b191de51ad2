"""Instance set-up and account services on a real SQLite file."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy import func, select

from crypto import DecryptionError, generate_private_key, wordlist
from lumen import accounts
from lumen.accounts import AccountError
from lumen.services import Services, make_services
from store.envelopes import centre_slot, open_slot, read_value
from store.models import Caseworker, Centre, KeySlot, Submission, WrappedCentreKey
from tests.conftest import make_test_config
from tests.functional.caseworker.support import PASSPHRASE, add_account, make_report


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Services]:
    """Services on an empty database: no schema, no centres."""
    instance = make_services(make_test_config(tmp_path / "fresh"))
    yield instance
    instance.engine.dispose()


def test_init_creates_centres_and_admins(fresh: Services) -> None:
    result = accounts.init_instance(fresh)

    assert result.created_centres == ["payoke", "pagasa", "surya"]
    assert [c.username for c in result.first_admins] == [
        "admin-payoke",
        "admin-pagasa",
        "admin-surya",
    ]
    with fresh.sessions() as session:
        for credentials in result.first_admins:
            admin = session.get(Caseworker, credentials.caseworker_id)
            assert admin is not None and admin.is_admin and admin.must_change_passphrase
            key = accounts.unwrap_centre_key(session, admin, credentials.passphrase)
            centre = session.get(Centre, credentials.centre_id)
            assert centre is not None
            assert bytes(key.public_key) == centre.public_key
            assert centre.key_version == 1
    assert "passphrase" not in repr(result.first_admins[0]).lower().replace("<redacted>", "")


def test_init_is_idempotent(fresh: Services) -> None:
    first = accounts.init_instance(fresh)
    with fresh.sessions() as session:
        keys_before = session.execute(select(Centre.id, Centre.public_key)).all()

    second = accounts.init_instance(fresh)

    assert first.created_centres
    assert second.created_centres == []
    assert second.first_admins == []
    with fresh.sessions() as session:
        assert session.execute(select(Centre.id, Centre.public_key)).all() == keys_before
        assert session.scalar(select(func.count(Caseworker.id))) == 3


def test_init_with_given_keys_and_passphrases(fresh: Services) -> None:
    keys = {centre.id: generate_private_key() for centre in fresh.config.centres}

    result = accounts.init_instance(
        fresh, centre_keys=keys, admin_passphrases={"payoke": PASSPHRASE}
    )

    payoke = next(c for c in result.first_admins if c.centre_id == "payoke")
    assert payoke.passphrase == PASSPHRASE
    with fresh.sessions() as session:
        admin = session.get(Caseworker, payoke.caseworker_id)
        assert admin is not None and not admin.must_change_passphrase
        assert bytes(accounts.unwrap_centre_key(session, admin, PASSPHRASE)) == bytes(
            keys["payoke"]
        )


def test_generated_passphrase_strength() -> None:
    passphrase = accounts.generate_passphrase()

    words = passphrase.split(" ")
    assert len(words) * math.log2(len(wordlist("en"))) >= accounts.PASSPHRASE_MIN_BITS
    assert accounts.generate_passphrase() != passphrase


@pytest.mark.parametrize("name", ["a", "-bad", "white space", "x" * 65, "émile", ""])
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(AccountError, match="invalid username"):
        accounts.check_username(name)


def test_create_caseworker_rules(services: Services) -> None:
    with services.sessions() as session:
        caseworker, passphrase, secret = accounts.create_caseworker(
            session, services, "  Emma ", "payoke", is_admin=False
        )
        assert caseworker.username == "emma"
        assert accounts.verify_passphrase(caseworker.passphrase_hash, passphrase)
        assert caseworker.passphrase_hash.startswith("$argon2id$")
        assert len(secret) == 32
        assert not accounts.has_current_key(session, caseworker)

        with pytest.raises(AccountError, match="already taken"):
            accounts.create_caseworker(session, services, "emma", "payoke", is_admin=False)
        with pytest.raises(AccountError, match="unknown centre"):
            accounts.create_caseworker(session, services, "fred", "nowhere", is_admin=False)
        with pytest.raises(AccountError, match="at least 16"):
            accounts.create_caseworker(session, services, "gina", "payoke", False, "short")


def test_grant_centre_key(services: Services, centre_keys: dict[str, PrivateKey]) -> None:
    holder = add_account(services, centre_keys, "holder", "payoke")
    with services.sessions() as session:
        receiver, passphrase, _ = accounts.create_caseworker(
            session, services, "receiver", "payoke", is_admin=False
        )
        holder_row = accounts.find_caseworker(session, holder.username)

        with pytest.raises(AccountError, match="not the current passphrase"):
            accounts.grant_centre_key(
                session,
                holder_row,
                PASSPHRASE,
                receiver,
                "wrong passphrase 123",
                params=services.config.passphrase_kdf,
            )
        with pytest.raises(AccountError, match="could not unwrap"):
            accounts.grant_centre_key(
                session,
                holder_row,
                "not the holder's passphrase",
                receiver,
                passphrase,
                params=services.config.passphrase_kdf,
            )
        accounts.grant_centre_key(
            session,
            holder_row,
            PASSPHRASE,
            receiver,
            passphrase,
            params=services.config.passphrase_kdf,
        )
        session.commit()

        key = accounts.unwrap_centre_key(session, receiver, passphrase)
        assert bytes(key) == bytes(centre_keys["payoke"])


def test_grant_refuses_other_centre(services: Services, centre_keys: dict[str, PrivateKey]) -> None:
    add_account(services, centre_keys, "holder", "payoke")
    add_account(services, centre_keys, "other", "surya")
    with services.sessions() as session:
        holder = accounts.find_caseworker(session, "holder")
        other = accounts.find_caseworker(session, "other")
        with pytest.raises(AccountError, match="own centre"):
            accounts.grant_centre_key(
                session,
                holder,
                PASSPHRASE,
                other,
                PASSPHRASE,
                params=services.config.passphrase_kdf,
            )


def test_reset_passphrase_rewraps(services: Services, centre_keys: dict[str, PrivateKey]) -> None:
    add_account(services, centre_keys, "forgetful", "payoke")
    with services.sessions() as session:
        caseworker = accounts.find_caseworker(session, "forgetful")
        new = accounts.reset_passphrase(
            session, services.config.passphrase_kdf, None, caseworker, centre_keys["payoke"]
        )
        session.commit()

        assert caseworker.must_change_passphrase
        assert accounts.verify_passphrase(caseworker.passphrase_hash, new)
        assert not accounts.verify_passphrase(caseworker.passphrase_hash, PASSPHRASE)
        assert bytes(accounts.unwrap_centre_key(session, caseworker, new)) == bytes(
            centre_keys["payoke"]
        )
        with pytest.raises(DecryptionError):
            accounts.unwrap_centre_key(session, caseworker, PASSPHRASE)
        assert (
            session.scalar(
                select(func.count(WrappedCentreKey.id)).where(
                    WrappedCentreKey.caseworker_id == caseworker.id
                )
            )
            == 1
        )


def test_store_wrapped_key_rejects_foreign_key(
    services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    add_account(services, centre_keys, "anna", "payoke")
    with services.sessions() as session:
        caseworker = accounts.find_caseworker(session, "anna")
        with pytest.raises(AccountError, match="not the current key"):
            accounts.store_wrapped_key(
                session,
                services.config.passphrase_kdf,
                caseworker,
                centre_keys["surya"],
                PASSPHRASE,
            )


def test_lock_unlock_reset_totp(services: Services, centre_keys: dict[str, PrivateKey]) -> None:
    add_account(services, centre_keys, "anna", "payoke")
    with services.sessions() as session:
        caseworker = accounts.find_caseworker(session, "anna")
        caseworker.failed_logins = 4
        old_secret = caseworker.totp_secret

        accounts.lock(session, None, caseworker)
        assert caseworker.locked
        accounts.unlock(session, None, caseworker)
        assert not caseworker.locked and caseworker.failed_logins == 0
        assert accounts.reset_totp(session, None, caseworker) != old_secret
        assert caseworker.last_totp_counter == 0


def test_remove_last_holder_needs_force(
    services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    add_account(services, centre_keys, "only", "payoke")
    with services.sessions() as session:
        only = accounts.find_caseworker(session, "only")
        with pytest.raises(AccountError, match="last holder"):
            accounts.remove(session, None, only)

    add_account(services, centre_keys, "second", "payoke")
    with services.sessions() as session:
        accounts.remove(session, None, accounts.find_caseworker(session, "only"))
        session.commit()
        assert session.scalar(select(Caseworker).where(Caseworker.username == "only")) is None
        with pytest.raises(AccountError, match="no caseworker"):
            accounts.find_caseworker(session, "only")


def test_rotate_centre_key_reseals_everything(
    services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    add_account(services, centre_keys, "holder", "payoke")
    add_account(services, centre_keys, "colleague", "payoke")
    reports = [
        make_report(
            services,
            ["payoke", "pagasa"],
            message=f"bericht {i}",
            files=[("a.txt", "text/plain", b"abc")],
        )
        for i in range(3)
    ]
    calls: list[tuple[int, int]] = []

    with services.sessions() as session:
        holder = accounts.find_caseworker(session, "holder")
        count = accounts.rotate_centre_key(
            session,
            services,
            "payoke",
            holder,
            PASSPHRASE,
            progress=lambda d, t: calls.append((d, t)),
        )

    assert count == 9  # per report: the message, the file body and the file name
    assert calls and calls[-1] == (9, 9)
    with services.sessions() as session:
        centre = session.get(Centre, "payoke")
        assert centre is not None and centre.key_version == 2
        assert bytes(centre.public_key) != bytes(centre_keys["payoke"].public_key)
        assert (
            session.scalar(
                select(func.count(KeySlot.id)).where(
                    KeySlot.centre_id == "payoke", KeySlot.key_version == 1
                )
            )
            == 0
        )
        holder = accounts.find_caseworker(session, "holder")
        colleague = accounts.find_caseworker(session, "colleague")
        new_key = accounts.unwrap_centre_key(session, holder, PASSPHRASE)
        assert not accounts.has_current_key(session, colleague)

        for report in reports:
            message = session.scalar(
                select(Submission).where(Submission.id == report.message_ids[0])
            )
            assert message is not None
            slot = centre_slot(session, message.body_id, "payoke", 2)
            assert read_value(message.body, open_slot(slot, new_key), services.blobs).startswith(
                b"bericht"
            )
            with pytest.raises(DecryptionError):
                open_slot(slot, centre_keys["payoke"])
            # The other centre's slots are untouched.
            pagasa = centre_slot(session, message.body_id, "pagasa", 1)
            assert read_value(
                message.body, open_slot(pagasa, centre_keys["pagasa"]), services.blobs
            )


def test_rotate_needs_the_holder_passphrase(
    services: Services, centre_keys: dict[str, PrivateKey]
) -> None:
    add_account(services, centre_keys, "holder", "payoke")
    with services.sessions() as session:
        holder = accounts.find_caseworker(session, "holder")
        with pytest.raises(AccountError, match="could not unwrap"):
            accounts.rotate_centre_key(session, services, "payoke", holder, "wrong passphrase!!")
        with pytest.raises(AccountError, match="only a caseworker of the centre"):
            accounts.rotate_centre_key(session, services, "surya", holder, PASSPHRASE)
    with services.sessions() as session:
        centre = session.get(Centre, "payoke")
        assert centre is not None and centre.key_version == 1
