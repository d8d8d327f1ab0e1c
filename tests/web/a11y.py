"""Accessibility checks of a page in Chromium: axe-core's serious and critical violations, and
sideways scrolling.

axe-core comes from the npm registry, pinned in tests/node/package.json and package-lock.json
(``npm ci --prefix tests/node``, run by .ci/run). It is injected into the page by Playwright; the
pages' content security policy forbids injected scripts, so a context made for these checks
bypasses it (``new_context(bypass_csp=True)``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

NODE_PROJECT = Path(__file__).resolve().parent.parent / "node"
AXE_SCRIPT = NODE_PROJECT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
BLOCKING_IMPACTS = ("serious", "critical")


def axe_script() -> Path:
    """axe.min.js, installed from the lock file if it is not there yet."""
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to install axe-core (see .ci/run)"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=NODE_PROJECT,
            check=True,
            timeout=300,
        )
    return AXE_SCRIPT


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations axe-core finds on the page as it is now (WCAG 2.x A and
    AA rules and axe's best practices), each with the elements concerned."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_script()))
    results = page.evaluate(
        """async () => {
            const results = await window.axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(" ")).slice(0, 5),
            }));
        }"""
    )
    return [violation for violation in results if violation["impact"] in BLOCKING_IMPACTS]


def sideways_overflow(page: Any) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return int(page.evaluate("document.documentElement.scrollWidth - window.innerWidth"))


def describe(violations: list[dict[str, Any]]) -> str:
    return "; ".join(f"{v['id']} ({v['impact']}: {v['help']}) at {v['targets']}" for v in violations)
