"""Serve one app under waitress on 127.0.0.1 for a benchmark, until terminated.

``source``: the source app on a fresh instance in ``--data-dir`` (SQLite file, blob
folder, the three test centres with new key pairs), configured by
``tests.conftest.make_test_config``: cheap Argon2id unless ``--production-kdf``.
``hello``: a bare Flask app whose ``/`` returns a short text, the baseline that shows
what waitress and Flask cost on their own.

Both apps are served the way ``lumen serve`` serves them
(``lumen.cli_run.serve_apps``): the same waitress settings, and Lumen's channel
with its encrypted spool for request bodies.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import harness
from flask import Flask


def hello_app() -> Flask:
    """Return the bare Flask app the start page is compared with."""
    app = Flask("hello")

    @app.get("/")
    def hello() -> str:
        return "Hello, World!"

    return app


def source_app(data_dir: Path, production_kdf: bool, max_request_bytes: int) -> Any:
    """Return the source app on a fresh instance in ``data_dir``."""
    from crypto import generate_private_key
    from lumen.config import Limits
    from lumen.services import make_services
    from source_app import create_app
    from tests.conftest import install_centres, make_test_config

    overrides: dict[str, object] = {}
    if production_kdf:
        overrides["source_kdf"] = harness.production_source_kdf()
    if max_request_bytes:
        overrides["limits"] = Limits(
            max_request_bytes=max_request_bytes, max_file_bytes=max_request_bytes
        )

    config = make_test_config(data_dir, **overrides)
    services = make_services(config)
    keys = {centre.id: generate_private_key() for centre in config.centres}
    install_centres(services, keys)
    return create_app(config, services), config


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", choices=["source", "hello"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, help="instance folder (source app only)")
    parser.add_argument(
        "--production-kdf",
        action="store_true",
        help="derive codenames with the production Argon2id cost (3 passes, 64 MiB)",
    )
    parser.add_argument(
        "--max-request-bytes",
        type=int,
        default=0,
        help="raise the source app's request and file size limits to this many bytes",
    )
    arguments = parser.parse_args()

    from lumen.cli_run import serve_apps
    from tests.conftest import make_test_config

    if arguments.app == "source":
        if arguments.data_dir is None:
            parser.error("the source app needs --data-dir")
        app, config = source_app(
            arguments.data_dir, arguments.production_kdf, arguments.max_request_bytes
        )
    else:
        app = hello_app()
        # Only the waitress settings are read from this configuration.
        config = make_test_config(Path("/nonexistent"))

    # serve_apps stops cleanly on the SIGTERM that ServerProcess.stop sends.
    serve_apps([(arguments.app, app, "127.0.0.1", arguments.port)], config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
