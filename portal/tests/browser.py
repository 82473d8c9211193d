"""What the layout tests check in Chromium on every page: a screenshot kept as a test
artefact, no sideways scroll, the NIC handle in sight, and axe-core's verdict.

axe-core comes from the npm registry into tools/axe/node_modules (`npm ci --prefix
tools/axe`, which .ci/run does)."""

import json
import os
from pathlib import Path

from django.conf import settings
from django.test import Client

from conftest import require

AXE_SCRIPT = Path(settings.BASE_DIR) / "tools" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
# The impacts a page must not have; axe's "moderate" and "minor" are reported, not failed.
BLOCKING_IMPACTS = {"critical", "serious"}
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 800}
BROWSER_LOCALES = {"en": "en-GB", "es": "es-ES", "fr": "fr-FR"}


def artefacts_dir(name):
    """var/test-artifacts/<name>/ (or $BROWSER_ARTIFACTS_DIR/<name>/), printed."""
    root = Path(os.environ.get("BROWSER_ARTIFACTS_DIR") or Path(settings.BASE_DIR) / "var" / "test-artifacts")
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nScreenshots and axe results: {folder}")
    return folder


def require_axe():
    require(AXE_SCRIPT.exists(), f"axe-core at {AXE_SCRIPT} (npm ci --prefix tools/axe)")


def axe_violations(page):
    """axe-core's violations on the page as it is now: [{id, impact, help, targets}]."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))  # the context bypasses the page's CSP
    return page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
        }));
    }""")


def blocking(violations):
    return [v for v in violations if v["impact"] in BLOCKING_IMPACTS]


def scrolls_sideways(page):
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def nic_visible(page, nic_handle):
    """The NIC handle is on screen, unbroken, in the page's top bar."""
    badge = page.locator("#nic-handle")
    if not badge.count() or not badge.is_visible():
        return False
    box = badge.bounding_box()
    text = badge.inner_text().strip()
    return (text == nic_handle and box["y"] < 80 and box["x"] >= 0
            and box["x"] + box["width"] <= page.viewport_size["width"]
            and box["height"] < 40)  # one line: no break inside the handle


class PageAudit:
    """Visits pages at each width and keeps what it saw; `report()` writes it down."""

    def __init__(self, page, folder, *, nic_handle=None):
        self.page, self.folder, self.nic_handle = page, folder, nic_handle
        self.results = {}

    def visit(self, url, name, *, widths=(DESKTOP, PHONE), nic=True, axe=True, status=200):
        for viewport in widths:
            self.page.set_viewport_size(viewport)
            response = self.page.goto(url)
            if status is not None:
                assert response.status == status, (url, response.status)
            self.check(name, nic=nic, axe=axe)

    def check(self, name, *, nic=True, axe=True):
        """The page as it is now, at the current width."""
        width = self.page.viewport_size["width"]
        shot = self.folder / f"{name}-{width}.png"
        self.page.screenshot(path=str(shot), full_page=True)
        seen = {"url": self.page.url, "screenshot": str(shot),
                "scrolls_sideways": scrolls_sideways(self.page)}
        if nic and self.nic_handle:
            seen["nic_visible"] = nic_visible(self.page, self.nic_handle)
        if axe:
            seen["axe"] = axe_violations(self.page)
        self.results[f"{name}@{width}"] = seen
        return seen

    def report(self):
        (self.folder / "axe-results.json").write_text(json.dumps(self.results, indent=2))
        lines = []
        for key, seen in self.results.items():
            found = ", ".join(f"{v['id']}({v['impact']})" for v in seen.get("axe", [])) or "none"
            lines.append(f"{key}: sideways={seen['scrolls_sideways']} "
                         f"nic={seen.get('nic_visible', '-')} axe: {found}")
        print("\n".join(lines))
        return self.results

    def failures(self):
        bad = []
        for key, seen in self.results.items():
            if seen["scrolls_sideways"]:
                bad.append(f"{key}: scrolls sideways")
            if seen.get("nic_visible") is False:
                bad.append(f"{key}: NIC handle not visible")
            for violation in blocking(seen.get("axe", [])):
                bad.append(f"{key}: {violation['id']} ({violation['impact']}) {violation['targets']}")
        return bad


def session_cookie(live_server, client: Client):
    """The cookie of a Django test client's session, for a browser context."""
    return {"name": settings.SESSION_COOKIE_NAME,
            "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "url": live_server.url}
