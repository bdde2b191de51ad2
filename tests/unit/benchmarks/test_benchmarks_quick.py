"""The benchmark runner still works: ``run_all.py --quick`` into a temporary file.

The benchmarks are not part of the test suite; this smoke test only keeps the
scripts from rotting as the apps change. It runs every script at its smallest size
(about 30 s) and checks the results page it writes, not the numbers in it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
RUNNER = ROOT / "benchmarks" / "run_all.py"
COMMITTED_RESULTS = ROOT / "benchmarks" / "RESULTS.md"
OWN_SECTIONS = ("run", "start-page", "report", "upload", "codename-login", "page-weight")


@pytest.mark.slow
def test_run_all_quick_writes_results(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    committed_before = COMMITTED_RESULTS.read_bytes() if COMMITTED_RESULTS.exists() else None

    finished = subprocess.run(
        [sys.executable, str(RUNNER), "--quick", "--results", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    text = results.read_text("utf-8")
    for section in OWN_SECTIONS:
        assert f"<!-- BEGIN {section} -->" in text, section
        assert f"<!-- END {section} -->" in text, section
    assert "**failed**" not in text
    target_rows = re.findall(r"^\|[^\n]*\| (met|\*\*missed\*\*) \|$", text, re.MULTILINE)
    # Four targets apply to a quick run (the upload targets need 100 MB); each one is
    # listed in its own section and again in the summary.
    assert len(target_rows) >= 2 * 4
    assert re.search(r"\| CPU \| .+, \d+ cores \|", text)
    committed_after = COMMITTED_RESULTS.read_bytes() if COMMITTED_RESULTS.exists() else None
    assert committed_after == committed_before
