"""The PyTorch tier: tests marked ``torch`` and the guides that import it (TORCH_PAGES) run
where PyTorch is installed and are skipped, not failed, where it is not.
``python -m pytest -m torch`` runs the tier alone (CI does, after installing torch).

This file sits at the top so that it applies however pytest is started (``pytest
docs/pytorch.md`` too); the hypothesis profiles are in tests/conftest.py.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
TORCH_PAGES = {ROOT / "docs" / "pytorch.md"}
HAVE_TORCH = importlib.util.find_spec("torch") is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs PyTorch: pip install torch==2.13.0 (docs/pytorch.md)")
    for item in items:
        if item.path in TORCH_PAGES:
            item.add_marker(pytest.mark.torch)
        if not HAVE_TORCH and item.get_closest_marker("torch") is not None:
            item.add_marker(skip)
