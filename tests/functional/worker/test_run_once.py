"""``lumen worker --run JOB [ID ...]``: one job in the foreground, no Redis needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import update

from lumen.services import Services
from store.models import Centre
from tests.functional.worker.conftest import LUMEN, write_config_file
from tests.unit.worker.factories import submit


def run_lumen(
    services: Services, tmp_path: Path, *arguments: str
) -> subprocess.CompletedProcess[str]:
    environ = write_config_file(services.config, tmp_path / "lumen.toml")
    return subprocess.run(
        [LUMEN, "worker", "--config", str(tmp_path / "lumen.toml"), *arguments],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_run_rotation_check_complete(services: Services, tmp_path: Path) -> None:
    submit(services, ["payoke"])

    result = run_lumen(services, tmp_path, "--run", "verify_key_rotation", "payoke")

    assert result.returncode == 0, result.stderr
    assert "envelopes_not_resealed=0" in result.stdout


def test_run_rotation_check_incomplete(services: Services, tmp_path: Path) -> None:
    submit(services, ["payoke"])
    with services.sessions() as session:
        session.execute(update(Centre).where(Centre.id == "payoke").values(key_version=2))
        session.commit()

    result = run_lumen(services, tmp_path, "--run", "verify_key_rotation", "payoke")

    assert result.returncode == 1, result.stderr
    assert "envelopes_not_resealed=1" in result.stdout


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--run", "send_everything"), "unknown job 'send_everything'"),
        (("--run", "verify_key_rotation"), "expects 1 id arguments, got 0"),
        (("--run", "verify_key_rotation", "nowhere"), "unknown centre 'nowhere'"),
    ],
)
def test_run_rejects_invalid_job(
    services: Services, tmp_path: Path, arguments: tuple[str, ...], message: str
) -> None:
    result = run_lumen(services, tmp_path, *arguments)

    assert result.returncode == 2
    assert message in result.stderr
