"""Bad input against the caseworker app over a real waitress server on loopback.

Each bad request gets a page in the caseworker's language (a 4xx, or a redirect
back to the case with a message) or a clean close, never a 5xx or a stack trace.
Afterwards the store is exactly as it was before.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from nacl.public import PrivateKey

from lumen.config import Config
from lumen.services import Services
from tests.functional.caseworker.support import (
    Account,
    Report,
    add_account,
    http_login,
    make_report,
)
from tests.hardening.clients import multipart
from tests.hardening.conftest import serve
from tests.hardening.support import (
    LiveServer,
    RawResponse,
    assert_clean_rejection,
    csrf_token,
    raw_exchange,
    request_bytes,
    store_state,
)

LANGUAGE = "fr"
COOKIE = "lumen_caseworker"


@pytest.fixture
def caseworker_server(config: Config, services: Services) -> Iterator[LiveServer]:
    from journalist_app import create_app

    with serve(create_app(config, services), config) as server:
        yield server


@pytest.fixture
def anna(services: Services, centre_keys: dict[str, PrivateKey]) -> Account:
    return add_account(services, centre_keys, "anna", "payoke")


@pytest.fixture
def browser(caseworker_server: LiveServer, anna: Account) -> requests.Session:
    """Anna of Payoke, logged in through the login form."""
    return log_in(caseworker_server, anna)


def log_in(server: LiveServer, account: Account) -> requests.Session:
    return http_login(server.url, account, LANGUAGE)


@pytest.fixture
def reports(services: Services) -> dict[str, Report]:
    """A Payoke case and a Sürya case, each with a message and a file."""
    files = [("verslag.pdf", "application/pdf", b"%PDF-1.4 inhoud")]
    return {
        "own": make_report(services, ["payoke"], files=files),
        "foreign": make_report(services, ["surya"], files=files),
    }


def send(
    server: LiveServer,
    browser: requests.Session | None,
    method: str,
    path: str,
    body: bytes = b"",
    content_type: str = "",
    headers: list[tuple[str, str]] | None = None,
) -> RawResponse:
    """Send one raw request with the browser's session cookie."""
    pairs = [("Accept-Language", LANGUAGE), *(headers or [])]
    if content_type:
        pairs.append(("Content-Type", content_type))
    if browser is not None:
        pairs.append(("Cookie", f"{COOKIE}={browser.cookies.get(COOKIE)}"))
    return raw_exchange(server.port, request_bytes(method, path, pairs, body))


def page_token(server: LiveServer, browser: requests.Session, path: str) -> bytes:
    page = browser.get(server.url + path, timeout=10)
    assert page.status_code == 200, page.status_code
    return csrf_token(page.text).encode()


def assert_refused(response: RawResponse) -> None:
    """Accept a 4xx page, a redirect back to a page of the app, or a closed connection."""
    if response.status in (302, 303):
        assert response.headers["location"].startswith("/")
        return
    assert_clean_rejection(response, LANGUAGE)


def _reply_bodies(token: bytes) -> dict[str, tuple[bytes, str]]:
    boundary, valid = multipart([(b"csrf_token", token), (b"reply-text", b"bonjour")])
    many_boundary, many = multipart(
        [(b"csrf_token", token)] + [(b"f%d" % i, b"x") for i in range(5000)]
    )
    _, nameless = multipart(
        [(b"csrf_token", token)],
        raw_parts=[b'Content-Disposition: form-data; filename="x.txt"\r\n\r\nhello'],
    )
    nameless_boundary = nameless.split(b"\r\n", 1)[0][2:].decode()
    return {
        "no boundary": (valid, "multipart/form-data"),
        "wrong boundary": (valid, "multipart/form-data; boundary=other"),
        "no closing boundary": (valid[:-40], f"multipart/form-data; boundary={boundary.decode()}"),
        "thousands of fields": (many, f"multipart/form-data; boundary={many_boundary.decode()}"),
        "part without a name": (nameless, f"multipart/form-data; boundary={nameless_boundary}"),
        "invalid UTF-8": (
            b"csrf_token=" + token + b"&reply-text=%ff%fe%00",
            "application/x-www-form-urlencoded",
        ),
        "reply over the body limit": (
            b"csrf_token=" + token + b"&reply-text=" + b"a" * (1024 * 1024 + 10),
            "application/x-www-form-urlencoded",
        ),
    }


@pytest.mark.parametrize("case", list(_reply_bodies(b"t")))
def test_malformed_reply_refused(
    caseworker_server: LiveServer,
    browser: requests.Session,
    reports: dict[str, Report],
    services: Services,
    case: str,
) -> None:
    path = f"/cases/{reports['own'].source_id}"
    body, content_type = _reply_bodies(page_token(caseworker_server, browser, path))[case]
    before = store_state(services)

    response = send(caseworker_server, browser, "POST", path + "/reply", body, content_type)

    if case == "invalid UTF-8" and response.status in (302, 303):
        return  # a reply of replacement characters is a valid reply
    assert_refused(response)
    rows = dict(store_state(services).rows)
    # Opening a case writes an audit event; nothing else may change.
    rows["audit_events"] = before.rows["audit_events"]
    assert rows == before.rows
    assert store_state(services).files == before.files


@pytest.mark.parametrize(
    "path",
    [
        "/cases/{foreign}",
        "/cases/{foreign}/files/{foreign_file}",
        "/cases/{own}/files/{foreign_file}",
        "/cases/{own}/files/{own_message}",
        "/cases/{foreign}/export",
        "/cases/{foreign}/items/{foreign_file}/delete",
        "/cases/does-not-exist",
        "/cases/{own}/files/..%2f..%2fetc%2fpasswd",
    ],
)
def test_other_centres_ids_not_found(
    caseworker_server: LiveServer,
    browser: requests.Session,
    reports: dict[str, Report],
    services: Services,
    path: str,
) -> None:
    own, foreign = reports["own"], reports["foreign"]
    target = path.format(
        own=own.source_id,
        foreign=foreign.source_id,
        foreign_file=foreign.file_ids[0],
        own_message=own.message_ids[0],
    )
    before = store_state(services)

    response = send(caseworker_server, browser, "GET", target)

    assert response.status == 404
    assert_clean_rejection(response, LANGUAGE)
    assert b"%PDF" not in response.body
    assert store_state(services).files == before.files


def test_foreign_case_actions_refused(
    caseworker_server: LiveServer,
    browser: requests.Session,
    reports: dict[str, Report],
    services: Services,
) -> None:
    token = page_token(caseworker_server, browser, f"/cases/{reports['own'].source_id}")
    foreign = reports["foreign"].source_id
    before = store_state(services)

    for action, field in [
        ("reply", b"reply-text=x"),
        ("note", b"note-text=x"),
        ("status", b"status=closed"),
        ("claim", b""),
        ("forward", b"centre=payoke"),
        ("delete", b"confirm=y"),
        (f"items/{reports['foreign'].file_ids[0]}/delete", b"confirm=y"),
    ]:
        body = b"csrf_token=" + token + (b"&" + field if field else b"")
        response = send(
            caseworker_server,
            browser,
            "POST",
            f"/cases/{foreign}/{action}",
            body,
            "application/x-www-form-urlencoded",
        )
        assert response.status == 404, f"{action}: {response.status}"
        assert_clean_rejection(response, LANGUAGE)

    assert store_state(services) == before


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/"), ("DELETE", "/cases/x"), ("GET", "/logout"), ("TRACE", "/login"), ("FOO", "/")],
)
def test_wrong_method_translated(
    caseworker_server: LiveServer, browser: requests.Session, method: str, path: str
) -> None:
    response = send(caseworker_server, browser, method, path)

    assert response.status == 405
    assert_clean_rejection(response, LANGUAGE)


@pytest.mark.parametrize("path", ["/nope", "/%2e%2e/etc/passwd", "/%00", "/" + "a" * 8000])
def test_unknown_route_translated(
    caseworker_server: LiveServer, browser: requests.Session, path: str
) -> None:
    response = send(caseworker_server, browser, "GET", path)

    assert response.status in (400, 404)
    assert_clean_rejection(response, LANGUAGE)


def _tampered(value: str) -> str:
    position = len(value) // 2
    return value[:position] + ("A" if value[position] != "A" else "B") + value[position + 1 :]


def test_csrf_faults_refused(
    caseworker_server: LiveServer,
    browser: requests.Session,
    reports: dict[str, Report],
    services: Services,
    centre_keys: dict[str, PrivateKey],
) -> None:
    path = f"/cases/{reports['own'].source_id}"
    token = page_token(caseworker_server, browser, path)
    other = log_in(caseworker_server, add_account(services, centre_keys, "bram", "payoke"))
    other_token = page_token(caseworker_server, other, path)
    before = store_state(services).rows["replies"]

    for name, body in [
        ("missing", b"reply-text=zonder"),
        ("altered", b"csrf_token=" + _tampered(token.decode()).encode() + b"&reply-text=x"),
        ("other session", b"csrf_token=" + other_token + b"&reply-text=x"),
    ]:
        response = send(
            caseworker_server,
            browser,
            "POST",
            path + "/reply",
            body,
            "application/x-www-form-urlencoded",
        )
        assert response.status == 400, f"{name}: {response.status}"
        assert_clean_rejection(response, LANGUAGE)

    assert store_state(services).rows["replies"] == before


def test_tampered_cookie_refused(
    caseworker_server: LiveServer,
    browser: requests.Session,
    reports: dict[str, Report],
    services: Services,
) -> None:
    path = f"/cases/{reports['own'].source_id}"
    token = page_token(caseworker_server, browser, path)
    forged = requests.Session()
    forged.cookies.set(COOKIE, _tampered(str(browser.cookies.get(COOKIE))))
    before = store_state(services)

    download = send(caseworker_server, forged, "GET", f"{path}/files/{reports['own'].file_ids[0]}")
    posted = send(
        caseworker_server,
        forged,
        "POST",
        path + "/reply",
        b"csrf_token=" + token + b"&reply-text=x",
        "application/x-www-form-urlencoded",
    )

    assert b"%PDF" not in download.body
    assert download.status in (302, 303, 401)
    assert posted.status in (302, 303, 400, 401)
    if posted.status not in (302, 303):
        assert_clean_rejection(posted, LANGUAGE)
    assert store_state(services) == before
