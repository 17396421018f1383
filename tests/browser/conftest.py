"""Headless Debian chromium (through Playwright) against the running stack's web widget."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest


ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = ROOT / "widget" / "node_modules" / "axe-core" / "axe.min.js"
NEUTRAL_URL = "https://www.meteofrance.com/"  # the widget's default quick-exit target
STORE_KEY = "netecoute-widget"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """Pages in fresh browser contexts (each its own sessionStorage), closed after the test.
    The neutral site of the quick exit is served locally (there is no internet here)."""
    contexts = []

    def make(viewport: Optional[Dict[str, int]] = None, **options: Any) -> Any:
        context = browser.new_context(viewport=viewport or DESKTOP, **options)
        context.route(NEUTRAL_URL + "**", lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><html lang=fr><title>Météo</title><h1>Météo</h1></html>"))
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        return page

    yield make
    for context in contexts:
        context.close()


def stored(page: Any) -> Optional[Dict[str, Any]]:
    raw = page.evaluate(f"window.sessionStorage.getItem({json.dumps(STORE_KEY)})")
    return json.loads(raw) if raw else None
