"""Content-Disposition values and file name cleaning for downloads."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from journalist_app.downloads import ascii_filename, clean_filename, content_disposition


def _star(header: str) -> str:
    return unquote(header.split("filename*=UTF-8''", 1)[1], errors="strict")


@pytest.mark.parametrize(
    "name, fallback, full",
    [
        ("report.pdf", "report.pdf", "report.pdf"),
        (
            'verslag été 2024 💼 "finaal".pdf',
            "verslag ete 2024 _ _finaal.pdf",
            'verslag été 2024 💼 "finaal".pdf',
        ),
        ("صورة.jpg", "file.jpg", "صورة.jpg"),
        ("a\r\nX-Injected: 1.txt", "aX-Injected_ 1.txt", "aX-Injected: 1.txt"),
        ("../../etc/passwd", "etc_passwd", "_.._etc_passwd"),
        ("", "file", "file"),
        ("\x00\x1f\x7f", "file", "file"),
        ("dir\\name;x=1.doc", "dir_name_x=1.doc", "dir_name;x=1.doc"),
        ("line\u2028sep.txt", "linesep.txt", "linesep.txt"),
    ],
)
def test_content_disposition(name: str, fallback: str, full: str) -> None:
    header = content_disposition(name)

    assert header.startswith("attachment; ")
    assert f'filename="{fallback}"' in header
    assert _star(header) == full
    assert header.isascii()
    assert not any(ch in header for ch in "\r\n\x00")


def test_long_names_are_cut() -> None:
    assert len(clean_filename("a" * 1000 + ".pdf")) == 200


def test_fallback_never_holds_quotes_or_backslashes() -> None:
    for name in ['"', "\\", 'a"b\\c', "%22", 'ä"ö']:
        fallback = ascii_filename(clean_filename(name))
        assert '"' not in fallback
        assert "\\" not in fallback
        assert "%" not in fallback
