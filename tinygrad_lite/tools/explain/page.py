"""The explainer's HTML page: its data as JSON, its script and styles inline, one file.

The page needs nothing but itself: the script (``page.js``) and the styles
(``page.css``) that sit beside this module are copied into it, and the data goes in
``<script type="application/json" id="explain-data">``. Numbers keep every digit (JSON
writes a float so that it reads back to the same bits); an array larger than
``max_elements`` keeps its first rows, with its shape and norm.

>>> encode_array(np.array([[1.5, -0.25], [np.inf, 0.0]]), max_elements=10)["rows"]
[[1.5, -0.25], ['inf', 0.0]]
"""

from __future__ import annotations

import html
import json
import math
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ASSETS = ("page.css", "page.js")


def encode_array(value: np.ndarray, max_elements: int) -> dict[str, Any]:
    """An array as the page stores it: rows of a 2-D view, at most ``max_elements`` values.

    A 0-d array is one row of one, a 1-D array one row, and an array of more dimensions
    its rows of the last axis (shape (2, 3, 4) shows as 6 rows of 4).
    """
    a = np.asarray(value, dtype=np.float64) if value.dtype.kind != "f" else value
    grid = a.reshape(1, -1) if a.ndim < 2 else a.reshape(-1, a.shape[-1])
    rows, columns = grid.shape
    keep_columns = min(columns, max_elements)
    keep_rows = min(rows, max(1, max_elements // max(keep_columns, 1)))
    kept = grid[:keep_rows, :keep_columns]
    finite = a[np.isfinite(a)]
    return {
        "shape": list(a.shape),
        "rows": [[number(v) for v in row] for row in kept.tolist()],
        "total_rows": rows,
        "total_columns": columns,
        "norm": number(float(np.linalg.norm(a.ravel()))) if a.size else 0.0,
        "min": number(float(finite.min())) if finite.size else None,
        "max": number(float(finite.max())) if finite.size else None,
    }


def number(v: float) -> float | str:
    """A float for JSON, which has no inf or nan: those become strings."""
    if math.isfinite(v):
        return float(v)
    return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")


def render(data: dict[str, Any]) -> str:
    """The whole page for ``data`` (see ``tinygrad_lite.tools.explain``)."""
    css, script = (_asset(name) for name in ASSETS)
    payload = json.dumps(_plain(data), separators=(",", ":"), allow_nan=False)
    # "<" written as an escape: no "</script>" or "<!--" can end the data block early.
    payload = payload.replace("<", "\\u003c")
    title = html.escape(data["title"])
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{title}</title>",
            f"<style>\n{css}</style>",
            "</head>",
            "<body>",
            "<header>",
            f"<h1>{title}</h1>",
            '<p class="legend">Arrow keys or the buttons move one step; click a node to jump '
            "to its step. &#9654; the current step; dashed: not computed yet; &#8706;: its "
            "gradient is known; a double border is a module folded into a box (click to "
            "open it).</p>",
            "</header>",
            "<main>",
            '<section id="graph-pane" aria-label="the graph">',
            '<p id="explain-phase" aria-live="polite"></p>',
            '<nav id="explain-crumbs" aria-label="module views"></nav>',
            '<div id="graph-scroll"><svg id="explain-graph" role="group"></svg></div>',
            "</section>",
            '<section id="step-pane" aria-label="the step">',
            '<div id="explain-controls">',
            '<button type="button" id="explain-prev">&#8592; back</button>',
            '<span id="explain-counter"></span>',
            '<button type="button" id="explain-next">next &#8594;</button>',
            "</div>",
            '<div id="explain-step" aria-live="polite"></div>',
            "</section>",
            "</main>",
            "<noscript><p>This page needs JavaScript to draw the graph and step through it; "
            "its data is the JSON in the script element with id explain-data.</p></noscript>",
            f'<script type="application/json" id="explain-data">{payload}</script>',
            f"<script>\n{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )


def inline_frame(page: str, height: int = 720) -> str:
    """The page inside an ``<iframe srcdoc>``: a notebook shows it as it is, its script
    and ids kept apart from the notebook's own."""
    return (
        f'<iframe srcdoc="{html.escape(page, quote=True)}" sandbox="allow-scripts" '
        f'style="width: 100%; height: {height}px; border: 1px solid #999;" '
        f'title="tinygrad_lite explain"></iframe>'
    )


def write(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path``: whole or not at all (written beside, then renamed)."""
    target = Path(path)
    write_atomically(target, lambda tmp: tmp.write_text(text, encoding="utf-8"), "explain")
    return target


def write_atomically(target: Path, write: Callable[[Path], Any], who: str) -> None:
    """Call ``write(tmp)`` on a file beside ``target``, then move it into place; on any
    failure the temporary file is removed and ``target`` is left as it was."""
    directory = target.parent
    if not directory.is_dir():
        raise FileNotFoundError(f"{who}: directory {str(directory)!r} does not exist")
    tmp = directory / f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def _plain(value: Any) -> Any:
    """``value`` with numpy numbers made Python ones and non-finite floats strings."""
    stack: list[Any] = [value]
    while stack:  # the data nests a few levels; an explicit stack all the same
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        for key, v in list(pairs):
            if isinstance(v, (dict, list)):
                stack.append(v)
            elif isinstance(v, (np.floating, float)):
                item[key] = number(float(v))
            elif isinstance(v, np.integer):
                item[key] = int(v)
            elif isinstance(v, np.bool_):
                item[key] = bool(v)
    return value
