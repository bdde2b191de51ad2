"""Waitress as ``lumen serve`` sets it up: no access log, no Server header, bounded buffers."""

from __future__ import annotations

import http.client
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from lumen.cli_run import parse_bind
from lumen.config import Config, ConfigError
from lumen.serving import SPOOL_MEMORY_BYTES, TransportChannel, create_server, waitress_settings

MARKER_AGENT = "MarkerAgent/7.7"
MARKER_PATH = "/marker-path-that-must-not-be-logged"


def echo_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(body)).encode("ascii")]


@pytest.fixture
def server(config: Config) -> Iterator[int]:
    """A waitress server with Lumen's settings on a free loopback port."""
    instance = create_server(echo_app, host="127.0.0.1", port=0, **waitress_settings(config))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    yield int(instance.effective_port)  # type: ignore[union-attr]

    # Only the loop thread may close its sockets; closing them from here races select().
    def close_every_channel() -> None:
        for channel in list(instance._map.values()):  # type: ignore[union-attr]
            channel.close()

    instance.trigger.pull_trigger(close_every_channel)  # type: ignore[union-attr]
    thread.join(5)
    instance.task_dispatcher.shutdown()
    assert not thread.is_alive()


def test_settings_bound_buffers(config: Config) -> None:
    settings = waitress_settings(config)

    assert settings["max_request_body_size"] > config.limits.max_request_bytes
    assert settings["inbuf_overflow"] == SPOOL_MEMORY_BYTES
    # Response buffers never reach the size at which waitress writes them to a file.
    assert settings["outbuf_overflow"] > settings["outbuf_high_watermark"] + 64 * 1024
    assert settings["ident"] == ""


def test_server_uses_lumen_channel(config: Config) -> None:
    instance = create_server(echo_app, host="127.0.0.1", port=0, **waitress_settings(config))
    try:
        assert instance.channel_class is TransportChannel  # type: ignore[union-attr]
    finally:
        instance.close()  # type: ignore[union-attr]
        instance.task_dispatcher.shutdown()


def test_settings_suit_slow_uploads(config: Config) -> None:
    settings = waitress_settings(config)

    assert settings["channel_timeout"] >= 300
    assert settings["threads"] == config.waitress_threads
    assert settings["ident"] == ""
    assert settings["expose_tracebacks"] is False


def test_request_leaves_no_log_line(server: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=10)
    connection.request(
        "POST", MARKER_PATH, body=b"x" * 2_000_000, headers={"User-Agent": MARKER_AGENT}
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()

    assert response.status == 200
    assert body == b"2000000"
    assert response.getheader("Server") is None
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert MARKER_PATH not in logged
    assert MARKER_AGENT not in logged
    assert "127.0.0.1" not in logged


@pytest.mark.parametrize(
    ("bind", "expected"),
    [("127.0.0.1:8080", ("127.0.0.1", 8080)), ("[::1]:8081", ("::1", 8081))],
)
def test_parse_bind(bind: str, expected: tuple[str, int]) -> None:
    assert parse_bind(bind) == expected


@pytest.mark.parametrize("bind", ["127.0.0.1", ":8080", "127.0.0.1:http", ""])
def test_parse_bind_rejects_invalid(bind: str) -> None:
    with pytest.raises(ConfigError, match="invalid bind address"):
        parse_bind(bind)
