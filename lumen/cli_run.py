"""The run commands: ``lumen demo``, ``lumen serve source|caseworker`` and ``lumen worker``.

Both apps are served by waitress with no access log (waitress writes none, and
nothing here adds one) and no ``Server`` header. Logs hold starts, stops and errors
with ids; never content, codenames, keys, IP addresses or user agents.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Final

from flask import Flask
from waitress.server import BaseWSGIServer, MultiSocketServer
from waitress.wasyncore import close_all, loop

from crypto import generate_private_key
from lumen.config import Config, ConfigError, load_config, write_new_secrets
from lumen.services import Services, make_services
from lumen.serving import create_server, waitress_settings

logger = logging.getLogger(__name__)

WsgiApp = Callable[..., Any]

def parse_bind(bind: str) -> tuple[str, int]:
    """Split ``"host:port"`` (``"[v6]:port"`` for IPv6) into its parts."""
    host, separator, port = bind.rpartition(":")
    if not separator or not host or not port.isdigit():
        raise ConfigError(f"invalid bind address {bind!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def serve_apps(
    apps: Sequence[tuple[str, WsgiApp, str, int]],
    config: Config,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve each ``(name, app, host, port)`` until SIGINT or SIGTERM, in this thread.

    The servers share one waitress event loop, and each keeps its own worker threads.
    ``on_ready`` runs once every socket listens.
    """
    socket_map: dict[int, Any] = {}
    servers: list[MultiSocketServer | BaseWSGIServer] = []
    for name, app, host, port in apps:
        settings = waitress_settings(config)
        try:
            server = create_server(app, map=socket_map, host=host, port=port, **settings)
        except OSError as error:
            for started in servers:
                started.task_dispatcher.shutdown()
            close_all(socket_map)
            raise ConfigError(
                f"cannot listen on {host}:{port} for the {name} app: {error.strerror};"
                " stop what uses that port or choose another one"
            ) from None
        servers.append(server)
        logger.info("serving", extra={"app": name, "host": host, "port": port})

    if on_ready is not None:
        on_ready()

    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        loop(timeout=1.0, map=socket_map, use_poll=True)
    except KeyboardInterrupt:
        logger.info("stop requested")
    finally:
        signal.signal(signal.SIGTERM, previous)
        for server in servers:
            server.task_dispatcher.shutdown(timeout=10)
        close_all(socket_map)


def _raise_keyboard_interrupt(_signal: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def show_log_fields() -> None:
    """Make the root log handlers print the ``extra`` fields that carry ids and counts."""
    formatter = FieldsFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(formatter)


class FieldsFormatter(logging.Formatter):
    """A formatter that appends ``key=value`` for every field passed in ``extra``."""

    _standard = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        """Format ``record`` and append its extra fields in name order."""
        text = super().format(record)
        fields = sorted(
            (key, value) for key, value in record.__dict__.items() if key not in self._standard
        )
        if fields:
            text += " " + " ".join(f"{key}={value}" for key, value in fields)
        return text


def build_app(name: str, config: Config, services: Services) -> Flask:
    """Return the WSGI app ``name`` ("source" or "caseworker") bound to ``services``."""
    if name == "source":
        from source_app import create_app as create_source_app

        return create_source_app(config, services)

    from journalist_app import create_app as create_caseworker_app

    return create_caseworker_app(config, services)


def start_in_process_jobs(services: Services) -> None:
    """Replace the lazy in-process queue by one that also runs the periodic jobs."""
    from lumen.jobs import InProcessJobQueue
    from worker.registry import SCHEDULE

    queue = InProcessJobQueue(services, schedule=SCHEDULE)
    services.jobs = queue
    queue.start()
    logger.info("in-process jobs started")


def stop_in_process_jobs(services: Services) -> None:
    """Stop the in-process queue, if that is what ``services`` uses."""
    from lumen.jobs import InProcessJobQueue

    if isinstance(services.jobs, InProcessJobQueue):
        services.jobs.stop()


def clean_up_at_start(services: Services) -> None:
    """Remove what a crash left in the blob store: temporary files and orphan blobs.

    Files that another live process still writes are locked and stay, so this is safe
    while other processes share the data folder.
    """
    from worker.cleanup import clean_up_blobs

    report = clean_up_blobs(services)
    logger.info(
        "start-up clean-up done",
        extra={"orphan_blobs": report.orphan_blobs, "temporary_files": report.temporary_files},
    )


def run_serve(arguments: argparse.Namespace) -> int:
    """Serve one app with the configuration file until stopped."""
    show_log_fields()
    config = load_config(arguments.config, role=arguments.app)
    bind = config.source_bind if arguments.app == "source" else config.caseworker_bind
    host, port = parse_bind(bind)
    if arguments.app == "source" and host not in ("127.0.0.1", "::1", "localhost"):
        logger.warning("the source app listens beyond loopback", extra={"host": host})

    services = make_services(config)
    clean_up_at_start(services)
    if config.redis_url is None:
        start_in_process_jobs(services)
    try:
        app = build_app(arguments.app, config, services)
        serve_apps([(arguments.app, app, host, port)], config)
    finally:
        stop_in_process_jobs(services)
        services.engine.dispose()
        logger.info("stopped", extra={"app": arguments.app})
    return 0


def run_worker_command(arguments: argparse.Namespace) -> int:
    """Run the rq worker with the configuration file until stopped."""
    from worker.registry import schedule_with_flush_interval
    from worker.runner import run_worker

    show_log_fields()
    config = load_config(arguments.config, role="worker")
    if arguments.run:
        return run_job_once(config, arguments.run[0], tuple(arguments.run[1:]))
    if config.redis_url is None:
        raise ConfigError(
            "lumen worker needs redis_url (or LUMEN_REDIS_URL); without Redis the apps"
            " run the jobs themselves"
        )

    services = make_services(config)
    try:
        run_worker(
            services,
            config.redis_url,
            burst=arguments.burst,
            schedule=schedule_with_flush_interval(arguments.flush_every),
        )
    finally:
        services.engine.dispose()
    return 0


def run_job_once(config: Config, name: str, ids: tuple[str, ...]) -> int:
    """Run job ``name`` once in this process, print its result, and return the exit status.

    The status is 1 when ``verify_key_rotation`` finds the rotation incomplete, so that
    a rotation procedure can stop on it.
    """
    from worker.registry import UnknownJob, run_job
    from worker.rotation import RotationReport, UnknownCentre

    services = make_services(config)
    try:
        result = run_job(services, name, *ids)
    except UnknownJob as error:
        raise ConfigError(str(error)) from None
    except UnknownCentre as error:
        raise ConfigError(
            f"unknown centre {error.args[0]!r}; use an id from the [[centres]] of the configuration"
        ) from None
    finally:
        services.engine.dispose()

    print(f"{name}: {result}", flush=True)
    if isinstance(result, RotationReport) and not result.complete:
        return 1
    return 0


def run_demo_command(arguments: argparse.Namespace) -> int:
    """Prepare the demo folder, print the URLs and accounts, and serve both apps."""
    show_log_fields()
    folder = arguments.data.resolve()
    config = prepare_demo_folder(folder)
    services = make_services(config)
    try:
        accounts = ensure_demo_accounts(services, folder)
        # After the accounts: on a first start, that step creates the schema.
        clean_up_at_start(services)
        start_in_process_jobs(services)
        apps = [
            ("source", build_app("source", config, services), "127.0.0.1", arguments.source_port),
            (
                "caseworker",
                build_app("caseworker", config, services),
                "127.0.0.1",
                arguments.caseworker_port,
            ),
        ]
        serve_apps(
            apps,
            config,
            on_ready=lambda: print_demo_banner(
                folder, arguments.source_port, arguments.caseworker_port, accounts
            ),
        )
    finally:
        stop_in_process_jobs(services)
        services.engine.dispose()
        logger.info("demo stopped")
    return 0


DEMO_CENTRES: Final = (
    ("payoke", "Payoke", "Antwerpen", ("nl", "en")),
    ("pagasa", "PAG-ASA", "Brussel/Bruxelles", ("fr", "nl", "en")),
    ("surya", "Sürya", "Liège", ("fr", "en")),
)
DEMO_CREDENTIALS_FILE: Final = "demo-credentials.json"


def demo_config_text() -> str:
    """Return the demo's lumen.toml: data in the same folder, no Redis, no SMTP."""
    lines = [
        "# Configuration of a local demo instance, written by 'lumen demo'.",
        "# The secrets are in ./secrets; the demo accounts in ./" + DEMO_CREDENTIALS_FILE + ".",
        'data_dir = "."',
        "",
        "[kdf]",
        "source_memlimit_mib = 64",
        "passphrase_memlimit_mib = 64",
    ]
    for centre_id, name, city, languages in DEMO_CENTRES:
        quoted = ", ".join(f'"{language}"' for language in languages)
        lines += [
            "",
            "[[centres]]",
            f'id = "{centre_id}"',
            f'name = "{name}"',
            f'city = "{city}"',
            f"languages = [{quoted}]",
        ]
    return "\n".join(lines) + "\n"


def prepare_demo_folder(folder: Path) -> Config:
    """Create ``folder`` with its configuration and secrets when missing; load it.

    The environment is ignored, so a ``LUMEN_*`` variable meant for a real instance
    cannot point the demo at another database or Redis.
    """
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    config_path = folder / "lumen.toml"
    if not config_path.exists():
        config_path.write_text(demo_config_text(), encoding="utf-8")
        logger.info("demo folder created")
    write_new_secrets(folder)
    return load_config(config_path, environ={})


@dataclass(frozen=True, repr=False)
class DemoAccount:
    """A demo login: for a throw-away local instance only."""

    centre: str
    role: str
    username: str
    passphrase: str
    totp_secret: str

    def __repr__(self) -> str:
        return f"DemoAccount(username={self.username!r}, <redacted>)"


def ensure_demo_accounts(services: Services, folder: Path) -> list[DemoAccount]:
    """Create the centres and their demo accounts on a first start; reload them later.

    Each centre gets an administrator (``admin-<centre>``) and a caseworker
    (``demo-<centre>``), both holding the centre key. Their passphrases and TOTP
    secrets are kept in the demo folder, readable by its owner only, so that a second
    start can print them again. A real instance never stores them.
    """
    from lumen.accounts import (
        create_caseworker,
        generate_passphrase,
        init_instance,
        store_wrapped_key,
    )

    credentials = folder / DEMO_CREDENTIALS_FILE
    if credentials.exists():
        init_instance(services)
        return [DemoAccount(**entry) for entry in json.loads(credentials.read_text("utf-8"))]

    keys = {centre.id: generate_private_key() for centre in services.config.centres}
    admin_passphrases = {centre_id: generate_passphrase() for centre_id in keys}
    result = init_instance(services, centre_keys=keys, admin_passphrases=admin_passphrases)
    if len(result.created_centres) != len(keys):
        raise ConfigError(
            f"the demo folder {str(folder)!r} contains an instance but its"
            f" {DEMO_CREDENTIALS_FILE} is missing; delete the folder to start a new demo"
        )

    names = {centre.id: centre.name for centre in services.config.centres}
    administrators = [
        DemoAccount(
            names[admin.centre_id],
            "administrator",
            admin.username,
            admin.passphrase,
            admin.totp_secret,
        )
        for admin in result.first_admins
    ]
    accounts = []
    with services.sessions() as session:
        for centre_id, private_key in keys.items():
            passphrase = generate_passphrase()
            caseworker, _, totp_secret = create_caseworker(
                session, services, f"demo-{centre_id}", centre_id, False, passphrase
            )
            store_wrapped_key(
                session, services.config.passphrase_kdf, caseworker, private_key, passphrase
            )
            accounts.append(
                DemoAccount(
                    names[centre_id], "caseworker", caseworker.username, passphrase, totp_secret
                )
            )
        session.commit()
    accounts += administrators

    descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump([account.__dict__ for account in accounts], handle, indent=2, ensure_ascii=False)
    return accounts


def print_demo_banner(
    folder: Path, source_port: int, caseworker_port: int, accounts: Sequence[DemoAccount]
) -> None:
    """Print which URL is which and the demo accounts, on standard output."""
    lines = [
        "",
        f"Lumen demo, data in {folder}",
        f"  Source site (people who report):  http://127.0.0.1:{source_port}/",
        f"  Caseworker app (help centres):     http://127.0.0.1:{caseworker_port}/",
        "",
        "Demo accounts for the caseworker app. They exist for this demo only and are kept",
        f"in {folder / DEMO_CREDENTIALS_FILE} (readable by you only). Add the TOTP secret",
        "to an authenticator app to get the six-digit codes.",
    ]
    for account in accounts:
        lines += [
            f"  {account.centre} {account.role}: username {account.username}",
            f"      passphrase: {account.passphrase}",
            f"      TOTP secret: {account.totp_secret}",
        ]
    lines += ["", "Press Ctrl-C to stop.", ""]
    print("\n".join(lines), flush=True)


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo``, ``serve`` and ``worker`` to the ``lumen`` command."""
    demo = commands.add_parser(
        "demo",
        help="start a complete local instance on 127.0.0.1 with no configuration",
        description="Start both apps on 127.0.0.1 with SQLite, in-process jobs, the three"
        " Belgian centres and one demo caseworker per centre. A second start reuses the"
        " data folder. Ctrl-C stops it; the exit status is then 0.",
    )
    demo.add_argument(
        "--data",
        type=Path,
        default=Path("lumen-demo"),
        metavar="DIR",
        help="data folder, created when missing (default: ./lumen-demo)",
    )
    demo.add_argument(
        "--source-port", type=_port, default=8080, help="port of the source site (default: 8080)"
    )
    demo.add_argument(
        "--caseworker-port",
        type=_port,
        default=8081,
        help="port of the caseworker app (default: 8081)",
    )
    demo.set_defaults(handler=run_demo_command)

    serve = commands.add_parser(
        "serve",
        help="serve the source site or the caseworker app under waitress",
        description="Serve one app on the address in the configuration (source.bind or"
        " caseworker.bind). Secrets come from the environment. SIGTERM or Ctrl-C stops it.",
    )
    serve.add_argument("app", choices=("source", "caseworker"), help="which app to serve")
    serve.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (default: $LUMEN_CONFIG)"
    )
    serve.set_defaults(handler=run_serve)

    worker = commands.add_parser(
        "worker",
        help="run the rq worker and its scheduler (needs redis_url)",
        description="Run jobs from Redis: notifications, the retention purge, blob"
        " clean-up and the key-rotation check, each periodic job on rq's scheduler.",
    )
    worker.add_argument(
        "--config", type=Path, metavar="FILE", help="configuration file (default: $LUMEN_CONFIG)"
    )
    worker.add_argument(
        "--burst",
        action="store_true",
        help="queue each periodic job once, run everything queued, then exit",
    )
    worker.add_argument(
        "--run",
        nargs="+",
        metavar=("JOB", "ID"),
        help="run one job now in this process, print its result and exit; for example"
        " '--run verify_key_rotation payoke' (exit status 1 while the rotation is"
        " incomplete) or '--run purge_expired_sources'; needs no Redis",
    )
    worker.add_argument(
        "--flush-every",
        type=int,
        default=60,
        metavar="SECONDS",
        help="how often pending notifications are sent, in seconds (default: 60)",
    )
    worker.set_defaults(handler=run_worker_command)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: expected a number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: expected 1 to 65535")
    return port
