"""Fetch axe-core from the npm registry and run it on the page a browser shows.

The pages under test ship no script, and their Content-Security-Policy has no
script source, so axe cannot arrive through the page. WebDriver's ``execute_script``
evaluates code through the DevTools protocol, which page CSP does not govern, so the
test injects axe that way. It does so in a second Chromium that has JavaScript on
for this purpose only: with JavaScript blocked, injected code still starts but its
timers and promises never settle, so ``axe.run`` never finishes (checked with
Chromium 156). :func:`run_axe` checks that axe really ran before it trusts an empty
list of violations.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenium import webdriver

AXE_VERSION = "4.14.1"
NODE_DIR = Path(__file__).resolve().parent / ".node"
AXE_SCRIPT = NODE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_PACKAGE = NODE_DIR / "node_modules" / "axe-core" / "package.json"

# The WCAG 2.0, 2.1 and 2.2 rules at levels A and AA, plus axe's best practices.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

_RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"]})
  .then(results => done({version: axe.version, url: results.url,
                         violations: results.violations, passes: results.passes.length}))
  .catch(error => done({error: String(error)}));
"""


class AxeUnavailable(Exception):
    """axe-core could not be installed from the npm registry."""


@dataclass(frozen=True)
class Violation:
    """One axe rule that failed on a page, with the elements that failed it."""

    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.impact} {self.rule}: {self.help} at {', '.join(self.targets)}"


def install_axe() -> Path:
    """Install axe-core ``AXE_VERSION`` under ``tests/browser/.node`` unless it is there.

    npm checks the package's integrity hash from the registry while installing.
    """
    if AXE_SCRIPT.is_file() and _installed_version() == AXE_VERSION:
        return AXE_SCRIPT

    npm = shutil.which("npm")
    if npm is None:
        raise AxeUnavailable("npm not found: install Debian's npm to fetch axe-core")
    NODE_DIR.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(NODE_DIR),
            "--no-audit",
            "--no-fund",
            "--save-exact",
            f"axe-core@{AXE_VERSION}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0 or not AXE_SCRIPT.is_file():
        raise AxeUnavailable(
            f"npm install axe-core@{AXE_VERSION} failed with status {result.returncode}:"
            f" {result.stderr.strip()[-2000:]}"
        )
    return AXE_SCRIPT


def _installed_version() -> str:
    try:
        return str(json.loads(AXE_PACKAGE.read_text("utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return ""


def run_axe(driver: webdriver.Chrome, script: str) -> list[Violation]:
    """Inject axe into the current page, run it and return every violation found.

    Raises AssertionError when axe did not load or did not finish, so a silent
    failure to run never passes as a clean page.
    """
    driver.set_script_timeout(30)
    driver.execute_script(script)
    result: dict[str, Any] = driver.execute_async_script(_RUN_AXE, list(AXE_TAGS))
    assert "error" not in result, f"axe failed on {driver.current_url}: {result['error']}"
    assert result["version"] == AXE_VERSION, f"axe {result['version']} ran, not {AXE_VERSION}"
    assert result["passes"] > 0, f"axe checked nothing on {driver.current_url}"

    return [
        Violation(
            rule=item["id"],
            impact=str(item["impact"]),
            help=item["help"],
            targets=tuple(json.dumps(node["target"]) for node in item["nodes"]),
        )
        for item in result["violations"]
    ]


def blocking(violations: list[Violation]) -> list[Violation]:
    """Return the violations whose impact is serious or critical."""
    return [violation for violation in violations if violation.impact in BLOCKING_IMPACTS]
