"""The apps and jobs run with writable memory never executable, as MemoryDenyWriteExecute demands.

systemd's MemoryDenyWriteExecute rejects mappings that are both writable and
executable, and turning writable memory executable later. Linux 6.3 and newer offer
the same restriction to any process through ``prctl(PR_SET_MDWE)``, so the test
sets it in a child process and then builds both apps, serves a page from each and
runs the jobs.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
UNSUPPORTED = 77

CHILD = textwrap.dedent(
    f"""
    import ctypes, sys
    from pathlib import Path

    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        sys.exit({UNSUPPORTED})

    from nacl.public import PrivateKey
    import journalist_app, source_app
    from lumen.services import make_services
    from tests.conftest import install_centres, make_test_config, TEST_CENTRES
    from tests.unit.worker.factories import submit
    from worker.registry import JOBS, run_job

    config = make_test_config(Path(sys.argv[1]))
    services = make_services(config)
    install_centres(services, {{c.id: PrivateKey.generate() for c in TEST_CENTRES}})
    submit(services, ["payoke"], with_file=True)
    for name in ("flush_notifications", "purge_expired_sources", "clean_up_blobs"):
        run_job(services, name)
    run_job(services, "verify_key_rotation", "payoke")

    source = source_app.create_app(config, services).test_client().get("/")
    caseworker = journalist_app.create_app(config, services).test_client().get("/login")
    print(source.status_code, caseworker.status_code)
    """
)


def test_apps_run_without_writable_executable_memory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "data")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    if result.returncode == UNSUPPORTED:
        pytest.xfail("this kernel has no prctl(PR_SET_MDWE); it needs Linux 6.3 or newer")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["200", "200"]
