"""axe-core in Chromium: inject the copy scripts/bootstrap fetched from the npm registry
(never the network from a test) and report what it finds in words a person can act on."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
# scripts/bootstrap test unpacks it into the project's .venv; a checkout that runs the
# tests with another checkout's venv finds it there (sys.prefix).
CANDIDATES = [
    ROOT / ".venv" / "share" / "axe-core" / "axe.min.js",
    Path(sys.prefix) / "share" / "axe-core" / "axe.min.js",
]
BLOCKING = ("serious", "critical")


def axe_script() -> Path:
    for path in CANDIDATES:
        if path.is_file():
            return path
    raise AssertionError(
        "axe-core is missing: run scripts/bootstrap test (or scripts/bootstrap axe); looked in "
        + ", ".join(str(p) for p in CANDIDATES)
    )


def blocking_violations(page: Page) -> list[dict]:
    """axe's WCAG 2.x A/AA and best-practice rules on the page as it is now;
    only the violations of impact serious or critical."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(axe_script()))
    results = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: n.target.join(' '),
                                          summary: n.failureSummary || ''})),
            }));
        }"""
    )
    return [v for v in results if v["impact"] in BLOCKING]


def describe(where: str, violations: list[dict], nodes_shown: int = 6) -> str:
    """One paragraph per rule: what it is, and which elements break it (and why)."""
    lines = []
    for v in violations:
        lines.append(
            f"{where}: [{v['impact']}] {v['id']} — {v['help']} ({len(v['nodes'])} elements)"
        )
        for node in v["nodes"][:nodes_shown]:
            why = " ".join(node["summary"].split())
            lines.append(f"    {node['target']}\n        {why[:300]}")
        if len(v["nodes"]) > nodes_shown:
            lines.append(f"    … and {len(v['nodes']) - nodes_shown} more")
    return "\n".join(lines)
