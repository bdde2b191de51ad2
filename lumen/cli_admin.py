"""``lumen`` subcommands for instance set-up and caseworker accounts.

Every subcommand takes ``--config FILE`` (default: ``$LUMEN_CONFIG``) and returns an
exit status: 0 on success, 1 when the request cannot be carried out (the message on
stderr says why), 2 for a configuration error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import segno

from lumen import accounts
from lumen.accounts import AccountError, NewCredentials
from lumen.config import Config, ConfigError, load_config, write_new_secrets
from lumen.services import Services, make_services
from store.cases import audit, delete_source
from store.retention import select_expired_sources
from store.settings import load_settings

Handler = Callable[[argparse.Namespace], int]
_BAR_WIDTH = 40


def register(subparsers: Any) -> None:
    """Add the administration subcommands to the ``lumen`` parser."""
    _command(
        subparsers,
        "init",
        "create the instance: secrets, schema, centres, first administrators",
        _init,
    )

    add = _command(
        subparsers,
        "add-caseworker",
        "create a caseworker account and print its credentials",
        _add_caseworker,
    )
    add.add_argument("username", help="the new account's name: 2 to 64 of a-z, 0-9, '.', '_', '-'")
    add.add_argument("--centre", required=True, help="id of the centre the account belongs to")
    add.add_argument("--admin", action="store_true", help="make the account an administrator")
    add.add_argument(
        "--holder",
        help="an account of the same centre whose passphrase unlocks the centre key;"
        " without it the new account gets no key until someone runs 'lumen grant'",
    )

    grant = _command(
        subparsers, "grant", "give an account the centre key, unlocked by a holder", _grant
    )
    grant.add_argument("username", help="the account that receives the key")
    grant.add_argument("--holder", required=True, help="an account that holds the centre key")

    reset_2fa = _command(subparsers, "reset-2fa", "give an account a new TOTP secret", _reset_2fa)
    reset_2fa.add_argument("username")

    reset_pass = _command(
        subparsers,
        "reset-passphrase",
        "give an account a new passphrase and the centre key under it",
        _reset_passphrase,
    )
    reset_pass.add_argument("username")
    reset_pass.add_argument("--holder", required=True, help="an account that holds the centre key")

    for name, handler, text in (
        ("lock", _lock, "lock an account"),
        ("unlock", _unlock, "unlock an account and clear its failed logins"),
    ):
        command = _command(subparsers, name, text, handler)
        command.add_argument("username")

    remove = _command(
        subparsers, "remove-caseworker", "delete an account and its copy of the centre key", _remove
    )
    remove.add_argument("username")
    remove.add_argument(
        "--force", action="store_true", help="remove even the last holder of the centre key"
    )

    rotate = _command(
        subparsers,
        "rotate-key",
        "replace a centre's key pair and re-seal every content key",
        _rotate,
    )
    rotate.add_argument("--centre", required=True, help="id of the centre")
    rotate.add_argument(
        "--holder", required=True, help="an account of that centre that holds its key"
    )

    purge = _command(
        subparsers,
        "purge",
        "delete the sources that the retention periods say have expired",
        _purge,
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")


def _command(subparsers: Any, name: str, text: str, handler: Handler) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=text, description=text)
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="the instance's TOML configuration file (default: $LUMEN_CONFIG)",
    )
    parser.set_defaults(handler=handler)
    return parser


def _services(arguments: argparse.Namespace) -> Services:
    return make_services(load_config(arguments.config))


def _fail(message: str) -> int:
    print(f"lumen: {message}", file=sys.stderr)
    return 1


def _ask_passphrase(prompt: str) -> str:
    return getpass.getpass(prompt)


def print_credentials(credentials: NewCredentials, out: TextIO) -> None:
    """Print a one-time passphrase and TOTP secret, with the secret as a terminal QR code."""
    print(f"\nAccount {credentials.username!r} of centre {credentials.centre_id!r}", file=out)
    print(f"  one-time passphrase: {credentials.passphrase}", file=out)
    print(f"  TOTP secret:         {credentials.totp_secret}", file=out)
    print("  Scan this QR code with an authenticator app:", file=out)
    segno.make(
        accounts.totp_uri(credentials.username, credentials.totp_secret), error="m"
    ).terminal(out=out, compact=True)
    print("These are shown once. The passphrase must be changed at the first login.", file=out)


def _data_dir(config_path: Path | None) -> Path:
    # The same rule as lumen.config: data_dir is relative to the configuration file.
    path = config_path
    if path is None:
        raise ConfigError("no configuration: pass --config FILE or set LUMEN_CONFIG")
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"configuration file {str(path)!r} not found") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"configuration file {str(path)!r} is not valid TOML: {error}") from None
    return (path.parent / str(raw.get("data_dir", "lumen-data"))).resolve()


def _init(arguments: argparse.Namespace) -> int:
    config_path = arguments.config or (
        Path(os.environ["LUMEN_CONFIG"]) if os.environ.get("LUMEN_CONFIG") else None
    )
    write_new_secrets(_data_dir(config_path))
    services = make_services(load_config(config_path))
    try:
        result = accounts.init_instance(services)
    finally:
        services.engine.dispose()

    if not result.created_centres:
        print("The instance exists already; no centre was added.", file=sys.stdout)
        return 0
    print(f"Created centres: {', '.join(result.created_centres)}")
    for credentials in result.first_admins:
        print_credentials(credentials, sys.stdout)
    return 0


def _with_session(arguments: argparse.Namespace, action: Callable[[Services, Any], int]) -> int:
    services = _services(arguments)
    try:
        with services.sessions() as session:
            try:
                return action(services, session)
            except AccountError as error:
                session.rollback()
                return _fail(str(error))
    finally:
        services.engine.dispose()


def _add_caseworker(arguments: argparse.Namespace) -> int:
    def action(services: Services, session: Any) -> int:
        holder = accounts.find_caseworker(session, arguments.holder) if arguments.holder else None
        holder_passphrase = _ask_passphrase(f"Passphrase of {holder.username}: ") if holder else ""
        caseworker, passphrase, secret = accounts.create_caseworker(
            session, services, arguments.username, arguments.centre, arguments.admin
        )
        if holder is not None:
            accounts.grant_centre_key(
                session,
                holder,
                holder_passphrase,
                caseworker,
                passphrase,
                params=services.config.passphrase_kdf,
            )
        audit(
            session,
            holder,
            "account.invited",
            target=caseworker.username,
            centre_id=caseworker.centre_id,
        )
        session.commit()
        print_credentials(
            NewCredentials(
                caseworker.id, caseworker.username, caseworker.centre_id, passphrase, secret
            ),
            sys.stdout,
        )
        if holder is None:
            print("The account has no centre key yet: run 'lumen grant' with a holder.")
        return 0

    return _with_session(arguments, action)


def _grant(arguments: argparse.Namespace) -> int:
    def action(services: Services, session: Any) -> int:
        receiver = accounts.find_caseworker(session, arguments.username)
        holder = accounts.find_caseworker(session, arguments.holder)
        holder_passphrase = _ask_passphrase(f"Passphrase of {holder.username}: ")
        receiver_passphrase = _ask_passphrase(f"Passphrase of {receiver.username}: ")
        accounts.grant_centre_key(
            session,
            holder,
            holder_passphrase,
            receiver,
            receiver_passphrase,
            params=services.config.passphrase_kdf,
        )
        session.commit()
        print(f"{receiver.username} now holds the key of centre {receiver.centre_id}.")
        return 0

    return _with_session(arguments, action)


def _reset_2fa(arguments: argparse.Namespace) -> int:
    def action(services: Services, session: Any) -> int:
        caseworker = accounts.find_caseworker(session, arguments.username)
        secret = accounts.reset_totp(session, None, caseworker)
        session.commit()
        print(f"New TOTP secret of {caseworker.username}: {secret}")
        segno.make(accounts.totp_uri(caseworker.username, secret), error="m").terminal(
            out=sys.stdout, compact=True
        )
        return 0

    return _with_session(arguments, action)


def _reset_passphrase(arguments: argparse.Namespace) -> int:
    def action(services: Services, session: Any) -> int:
        caseworker = accounts.find_caseworker(session, arguments.username)
        holder = accounts.find_caseworker(session, arguments.holder)
        if holder.centre_id != caseworker.centre_id:
            raise AccountError("the holder must belong to the same centre")
        holder_passphrase = _ask_passphrase(f"Passphrase of {holder.username}: ")
        centre_key = accounts.holder_key(session, holder, holder_passphrase)
        passphrase = accounts.reset_passphrase(
            session, services.config.passphrase_kdf, holder, caseworker, centre_key
        )
        session.commit()
        print(f"New one-time passphrase of {caseworker.username}: {passphrase}")
        print("It must be changed at the next login.")
        return 0

    return _with_session(arguments, action)


def _account_change(
    arguments: argparse.Namespace, change: Callable[[Any, Any], None], done: str
) -> int:
    def action(services: Services, session: Any) -> int:
        caseworker = accounts.find_caseworker(session, arguments.username)
        change(session, caseworker)
        session.commit()
        print(done.format(username=caseworker.username))
        return 0

    return _with_session(arguments, action)


def _lock(arguments: argparse.Namespace) -> int:
    return _account_change(
        arguments, lambda s, c: accounts.lock(s, None, c), "{username} is locked."
    )


def _unlock(arguments: argparse.Namespace) -> int:
    return _account_change(
        arguments, lambda s, c: accounts.unlock(s, None, c), "{username} is unlocked."
    )


def _remove(arguments: argparse.Namespace) -> int:
    return _account_change(
        arguments,
        lambda s, c: accounts.remove(s, None, c, force=arguments.force),
        "{username} was removed.",
    )


def progress_bar(out: TextIO) -> Callable[[int, int], None]:
    """Return a callback that draws ``done / total`` as a bar on ``out``."""

    def draw(done: int, total: int) -> None:
        filled = _BAR_WIDTH * done // total if total else _BAR_WIDTH
        percent = 100 * done // total if total else 100
        out.write(f"\r[{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {percent:3d}% {done}/{total}")
        out.flush()

    return draw


def _rotate(arguments: argparse.Namespace) -> int:
    def action(services: Services, session: Any) -> int:
        holder = accounts.find_caseworker(session, arguments.holder)
        holder_passphrase = _ask_passphrase(f"Passphrase of {holder.username}: ")
        draw = progress_bar(sys.stderr)
        draw(0, 0)
        count = accounts.rotate_centre_key(
            session, services, arguments.centre, holder, holder_passphrase, progress=draw
        )
        sys.stderr.write("\n")
        print(f"Re-sealed {count} content keys to the new key of centre {arguments.centre}.")
        print(
            f"Only {holder.username} holds the new key now. Grant it to every other caseworker"
            " of the centre with 'lumen grant', or reset their passphrases on the admin pages."
        )
        return 0

    return _with_session(arguments, action)


def _purge(arguments: argparse.Namespace) -> int:
    def action(services: Services, session: Any) -> int:
        config: Config = services.config
        settings = load_settings(session, config)
        expired = select_expired_sources(
            session, settings.retention_days, config.unsubmitted_retention_days
        )
        if arguments.dry_run:
            print(f"{len(expired)} sources have expired.")
            return 0

        failures = 0
        for source_id in expired:
            report = delete_source(session, services.blobs, source_id)
            failures += report.blob_failures
        if expired:
            audit(session, None, "retention.purge", detail=f"{len(expired)} sources")
            session.commit()
        print(f"Deleted {len(expired)} expired sources.")
        if failures:
            return _fail(f"{failures} blobs could not be removed; see the log")
        return 0

    return _with_session(arguments, action)
