"""The explainer page in a real browser: headless Chromium, driven by Playwright.

The page is opened from disk, as a user opens it. The tests check that it asks for
nothing beyond its own file, that the console stays free of errors, and walk every step
with the keyboard, comparing each number shown with the array the Python side computed.
One screenshot is kept for a person to look at (``EXPLAIN_SCREENSHOTS=folder`` keeps it
there; otherwise in pytest's temporary folder).

The tier needs the ``browser`` extra (``pip install -e ".[browser]"``: Playwright's Python
package) and a Chromium from the system (``apt-get install chromium``; Playwright's own
browser download is not used). Without them these tests skip, saying which is missing;
with ``TINYGRAD_LITE_BROWSER=required`` (as ``.ci/run`` sets when it installed both) they
fail instead.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from explain_networks import recurrence

import tinygrad_lite as tl
from models.cli import explain as seed_pages
from models.cli import jobs

pytestmark = pytest.mark.browser

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _unavailable(reason: str) -> None:
    if os.environ.get("TINYGRAD_LITE_BROWSER") == "required":
        pytest.fail(f"the browser tier is required here, but {reason}")
    pytest.skip(reason)


def _chromium() -> str | None:
    given = os.environ.get("TINYGRAD_LITE_CHROMIUM")
    if given:
        return given
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[browser]'")
    executable = _chromium()
    if executable is None:
        _unavailable(
            "no Chromium found on PATH (apt-get install chromium, or set TINYGRAD_LITE_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=ARGS)
        yield chromium
        chromium.close()


class Visit:
    """A page opened from disk, with every request and console complaint it made."""

    def __init__(self, browser: Any, path: Path, address: str = "") -> None:
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on(
            "console",
            lambda message: (
                self.errors.append(message.text) if message.type in ("error", "warning") else None
            ),
        )
        self.url = path.resolve().as_uri()
        self.page.goto(self.url + address)

    def shown(self) -> dict[str, Any]:
        """The text of #explain-step, its counter, and every number table in it."""
        shown: dict[str, Any] = self.page.evaluate(
            """() => ({
                text: document.getElementById("explain-step").textContent,
                counter: document.getElementById("explain-counter").textContent,
                hash: location.hash,
                arrays: [...document.querySelectorAll("#explain-step table[data-array]")].map(
                    t => ({array: Number(t.dataset.array), first: Number(t.dataset.firstRow),
                           rows: [...t.rows].map(r => [...r.cells].map(c => c.textContent))})),
                checks: [...document.querySelectorAll("#explain-step table[data-check]")].map(
                    t => [...t.rows].slice(1).map(r => [...r.cells].map(c => c.textContent))),
            })"""
        )
        return shown

    def outside(self) -> list[str]:
        """Requests for anything but the page's own file."""
        return [url for url in self.requests if url.split("#")[0] != self.url]


def _same(text: str, value: float) -> bool:
    """The page shows 8 significant digits: ``text`` is ``value`` rounded so."""
    if not math.isfinite(value):
        return text == ("nan" if math.isnan(value) else ("inf" if value > 0 else "-inf"))
    return abs(float(text) - value) <= 1e-7 * abs(value)


def _grid(array: np.ndarray) -> np.ndarray:
    a = np.asarray(array, dtype=np.float64)
    return a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])


def _check_numbers(explained: tl.viz.Explanation, step: dict[str, Any], shown: Any) -> int:
    """Compare every number on screen with the Python side's; return how many."""
    count = 0
    for table in shown["arrays"]:
        grid = _grid(explained.arrays[table["array"]])
        for r, row in enumerate(table["rows"]):
            for c, text in enumerate(row):
                value = float(grid[table["first"] + r, c])
                assert _same(text, value), (step["number"], table["array"], r, c, text, value)
                count += 1
    for table in shown["checks"]:
        check = step["check"]
        for row, a, n in zip(table, check["backward"], check["numeric"]):
            assert _same(row[1], a) and _same(row[2], n), (step["number"], row)
            count += 2
    return count


def _walk(visit: Visit, explained: tl.viz.Explanation) -> int:
    """Step through every step with the arrow keys, checking each; back to the start."""
    steps = explained.steps
    numbers = 0
    for k, step in enumerate(steps, start=1):
        if k > 1:
            visit.page.keyboard.press("ArrowRight")
        shown = visit.shown()
        assert shown["counter"] == f"step {k} of {len(steps)} · {step['phase']}"
        assert shown["hash"] == f"#step-{k}"
        assert shown["text"].startswith(f"{step['phase'].upper()} · step {k} of {len(steps)}")
        assert step["title"] in shown["text"] and step["rule"] in shown["text"]
        for h in step.get("hand_written", []):
            verdict = "equal bit for bit: yes" if h["equal"] else "equal bit for bit: NO"
            assert h["line"] in shown["text"] and verdict in shown["text"]
        numbers += _check_numbers(explained, step, shown)
    visit.page.keyboard.press("ArrowRight")  # past the end: stays on the last step
    assert visit.shown()["hash"] == f"#step-{len(steps)}"
    visit.page.keyboard.press("Home")
    visit.page.keyboard.press("ArrowLeft")
    assert visit.shown()["hash"] == "#step-1"
    return numbers


def test_xor_page_offline_walked_by_keyboard(browser: Any, tmp_path: Path) -> None:
    explained = seed_pages.page(jobs.make("xor"))
    path = Path(explained.save(tmp_path / "xor.html"))
    visit = Visit(browser, path)
    numbers = _walk(visit, explained)
    assert numbers > 300
    assert visit.outside() == [] and visit.errors == []
    # The step a student looks for: l1_delta beside the sigmoid's rule, as a picture.
    visit.page.goto(visit.url + "#step-7")
    shown = visit.shown()
    assert "l1_delta = l2_error * l2_slope * lr" in shown["text"]
    assert "equal bit for bit: yes" in shown["text"]
    folder = Path(os.environ.get("EXPLAIN_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    visit.page.screenshot(path=str(folder / "explain-xor-step-7.png"), full_page=True)
    assert (folder / "explain-xor-step-7.png").stat().st_size > 10_000


def test_the_address_and_a_click_choose_the_step(browser: Any, tmp_path: Path) -> None:
    explained = seed_pages.page(jobs.make("single-neuron"))
    path = Path(explained.save(tmp_path / "neuron.html"))
    visit = Visit(browser, path, "#step-5")
    assert visit.shown()["counter"].startswith("step 5 of 8")
    # a click on the matmul node goes to its step in the phase shown (backward)
    matmul = next(n for n in explained.data["nodes"] if n.get("op") == "matmul")
    visit.page.click(f'#explain-graph .node[data-node="{matmul["node"]}"]')
    assert visit.shown()["hash"] == f"#step-{matmul['backward_step']}"
    # and from the keyboard: a node takes the focus, Enter goes to its step
    visit.page.keyboard.press("Home")
    visit.page.focus(f'#explain-graph .node[data-node="{matmul["node"]}"]')
    visit.page.keyboard.press("Enter")
    assert visit.shown()["hash"] == f"#step-{matmul['forward_step']}"
    assert visit.outside() == [] and visit.errors == []


def test_a_folded_recurrence_walks_and_opens(browser: Any, tmp_path: Path) -> None:
    loss, model, sgd = recurrence(steps=25)
    explained = tl.viz.explain(loss, names=model, optimizer=sgd, title="recurrence")
    path = Path(explained.save(tmp_path / "recurrence.html"))
    visit = Visit(browser, path)
    # a step inside a folded cell lights the cell's box
    visit.page.keyboard.press("ArrowRight")
    current = visit.page.evaluate(
        "() => [...document.querySelectorAll('#explain-graph .current')]"
        ".map(g => g.getAttribute('aria-label'))"
    )
    assert current == ["module cell: Cell (call 1) (4 ops): open it"]
    visit.page.click("#explain-graph .box.current")  # opens the cell's own picture
    crumbs = visit.page.text_content("#explain-crumbs")
    assert "cell: Cell (call 1)" in crumbs
    assert visit.page.locator("#explain-graph .node.current").count() == 1
    visit.page.keyboard.press("Escape")
    assert visit.page.locator("#explain-graph .box").count() == 26  # 25 cells, the readout
    visit.page.keyboard.press("Home")
    numbers = _walk(visit, explained)
    assert numbers > 10_000
    assert visit.outside() == [] and visit.errors == []


def test_the_notebook_frame_runs_the_page(browser: Any, tmp_path: Path) -> None:
    explained = seed_pages.page(jobs.make("single-neuron"))
    wrapper = tmp_path / "notebook.html"
    wrapper.write_text(f"<!DOCTYPE html><html><body>{explained._repr_html_()}</body></html>")
    visit = Visit(browser, wrapper)
    frame = visit.page.frame_locator("iframe")
    assert frame.locator("#explain-counter").text_content() == "step 1 of 8 · forward"
    frame.locator("#explain-next").click()
    frame.locator("#explain-next").click()
    assert frame.locator("#explain-counter").text_content() == "step 3 of 8 · forward"
    assert visit.outside() == [] and visit.errors == []


def test_the_checks_see_a_request_and_a_console_error(browser: Any, tmp_path: Path) -> None:
    # The checks above pass only on a page that makes neither: they must see both.
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.invalid/x.png">'
        '<script>console.error("broken")</script></body></html>'
    )
    visit = Visit(browser, bad)
    visit.page.wait_for_timeout(200)
    assert visit.outside() == ["https://example.invalid/x.png"]
    assert "broken" in visit.errors
