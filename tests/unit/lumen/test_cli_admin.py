"""The administration subcommands of ``lumen``, run through the real entry point."""

from __future__ import annotations

import datetime as dt
import getpass
import io
from pathlib import Path

import pytest
from sqlalchemy import select

from lumen import accounts
from lumen.cli import main
from lumen.cli_admin import progress_bar
from lumen.config import load_config
from lumen.services import make_services
from store.models import Caseworker, Centre, Source
from tests.functional.caseworker.support import PASSPHRASE, make_report

CONFIG = """
data_dir = "data"

[kdf]
passphrase_memlimit_mib = 64
passphrase_opslimit = 1

[[centres]]
id = "payoke"
name = "Payoke"
city = "Antwerpen"

[[centres]]
id = "surya"
name = "Sürya"
city = "Liège"
"""


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "lumen.toml"
    path.write_text(CONFIG, "utf-8")
    for name in (
        "LUMEN_CONFIG",
        "LUMEN_CODENAME_SALT",
        "LUMEN_SOURCE_SECRET_KEY",
        "LUMEN_CASEWORKER_SECRET_KEY",
        "LUMEN_DATABASE_URL",
        "LUMEN_REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    return path


def _answers(monkeypatch: pytest.MonkeyPatch, *values: str) -> None:
    queue = list(values)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": queue.pop(0))


def _init(config_file: Path) -> None:
    assert main(["init", "--config", str(config_file)]) == 0


def test_init_prints_credentials_once(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["init", "--config", str(config_file)]) == 0
    first = capsys.readouterr().out

    assert "admin-payoke" in first
    assert "admin-surya" in first
    assert first.count("one-time passphrase:") == 2
    assert "TOTP secret:" in first
    assert "█" in first or "▀" in first or "▄" in first  # the terminal QR code
    assert (config_file.parent / "data" / "secrets" / "codename_salt").is_file()

    assert main(["init", "--config", str(config_file)]) == 0
    second = capsys.readouterr().out
    assert "exists already" in second
    assert "one-time passphrase" not in second


def test_missing_config_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["lock", "anyone", "--config", str(tmp_path / "absent.toml")])

    assert status == 2
    assert "not found" in capsys.readouterr().err


def _printed_passphrase(out: str, username: str) -> str:
    block = out.split(f"Account {username!r}", 1)[1]
    return block.split("one-time passphrase: ", 1)[1].split("\n", 1)[0]


def _init_with_known_admin(config_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Initialise, then give admin-payoke the passphrase PASSPHRASE, as if they chose it."""
    _init(config_file)
    printed = _printed_passphrase(capsys.readouterr().out, "admin-payoke")
    services = make_services(load_config(config_file))
    with services.sessions() as session:
        admin = accounts.find_caseworker(session, "admin-payoke")
        key = accounts.holder_key(session, admin, printed)
        accounts.change_own_passphrase(
            session, services.config.passphrase_kdf, admin, key, PASSPHRASE
        )
        session.commit()
    services.engine.dispose()


def test_add_grant_lock_unlock_remove(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _init_with_known_admin(config_file, capsys)

    _answers(monkeypatch, PASSPHRASE)
    assert (
        main(
            [
                "add-caseworker",
                "emma",
                "--centre",
                "payoke",
                "--holder",
                "admin-payoke",
                "--config",
                str(config_file),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    emma_passphrase = out.split("one-time passphrase: ", 1)[1].split("\n", 1)[0]

    services = make_services(load_config(config_file))
    with services.sessions() as session:
        emma = accounts.find_caseworker(session, "emma")
        assert accounts.unwrap_centre_key(session, emma, emma_passphrase)

    assert main(["add-caseworker", "finn", "--centre", "payoke", "--config", str(config_file)]) == 0
    finn_passphrase = capsys.readouterr().out.split("one-time passphrase: ", 1)[1].split("\n", 1)[0]
    _answers(monkeypatch, PASSPHRASE, finn_passphrase)
    assert main(["grant", "finn", "--holder", "admin-payoke", "--config", str(config_file)]) == 0
    _answers(monkeypatch, "wrong passphrase for admin", finn_passphrase)
    assert main(["grant", "finn", "--holder", "admin-payoke", "--config", str(config_file)]) == 1
    assert "could not unwrap" in capsys.readouterr().err

    assert main(["lock", "finn", "--config", str(config_file)]) == 0
    with services.sessions() as session:
        assert accounts.find_caseworker(session, "finn").locked
    assert main(["unlock", "finn", "--config", str(config_file)]) == 0
    assert main(["reset-2fa", "finn", "--config", str(config_file)]) == 0
    assert "New TOTP secret of finn" in capsys.readouterr().out
    _answers(monkeypatch, PASSPHRASE)
    assert (
        main(["reset-passphrase", "finn", "--holder", "admin-payoke", "--config", str(config_file)])
        == 0
    )
    assert "New one-time passphrase of finn" in capsys.readouterr().out
    assert main(["remove-caseworker", "finn", "--config", str(config_file)]) == 0
    assert main(["remove-caseworker", "nobody", "--config", str(config_file)]) == 1
    with services.sessions() as session:
        names = set(session.scalars(select(Caseworker.username)))
    assert names == {"admin-payoke", "admin-surya", "emma"}
    services.engine.dispose()


def test_rotate_key_draws_progress(
    config_file: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _init_with_known_admin(config_file, capsys)
    services = make_services(load_config(config_file))
    for _ in range(2):
        make_report(services, ["payoke"])

    _answers(monkeypatch, PASSPHRASE)
    assert (
        main(
            [
                "rotate-key",
                "--centre",
                "payoke",
                "--holder",
                "admin-payoke",
                "--config",
                str(config_file),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "100% 2/2" in captured.err
    assert "Re-sealed 2 content keys" in captured.out
    with services.sessions() as session:
        centre = session.get(Centre, "payoke")
        assert centre is not None and centre.key_version == 2
    services.engine.dispose()


def test_purge_deletes_expired_sources(
    config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _init(config_file)
    services = make_services(load_config(config_file))
    old = make_report(services, ["payoke"])
    fresh = make_report(services, ["payoke"])
    with services.sessions() as session:
        source = session.get(Source, old.source_id)
        assert source is not None
        source.last_activity_on = dt.date.today() - dt.timedelta(days=400)
        session.commit()
    capsys.readouterr()

    assert main(["purge", "--dry-run", "--config", str(config_file)]) == 0
    assert "1 sources have expired" in capsys.readouterr().out
    assert main(["purge", "--config", str(config_file)]) == 0
    assert "Deleted 1 expired sources" in capsys.readouterr().out
    with services.sessions() as session:
        assert set(session.scalars(select(Source.id))) == {fresh.source_id}
    services.engine.dispose()


def test_progress_bar_output() -> None:
    out = io.StringIO()
    draw = progress_bar(out)

    draw(0, 4)
    draw(2, 4)
    draw(4, 4)

    assert out.getvalue().endswith(f"[{'#' * 40}] 100% 4/4")
    assert " 50% 2/4" in out.getvalue()
