"""What a caseworker needs to set up an authenticator app: the secret and its QR code."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from markupsafe import Markup

from lumen.accounts import totp_uri


@dataclass(frozen=True, repr=False)
class Enrolment:
    """A TOTP secret with its URI and the QR code as inline SVG markup."""

    secret: str
    uri: str
    qr_svg: Markup

    def __repr__(self) -> str:
        return "Enrolment(<redacted>)"

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four characters, easier to type by hand."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def enrolment(username: str, secret: str) -> Enrolment:
    """Return the enrolment data for ``username``'s TOTP ``secret``.

    The SVG uses presentation attributes only (no ``style``), so the app's
    Content-Security-Policy, which allows no inline style or script, renders it.
    """
    uri = totp_uri(username, secret)
    svg = segno.make(uri, error="m").svg_inline(scale=4, dark="#000", light="#fff", border=4)
    # segno builds the markup from the QR matrix and fixed attributes only.
    return Enrolment(secret=secret, uri=uri, qr_svg=Markup(svg))  # noqa: S704
