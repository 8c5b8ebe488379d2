"""tl.testing: each strategy draws what it promises, reaches the cases it is for, and
tinygrad_lite imports without hypothesis."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Tensor, testing

ROOT = Path(__file__).resolve().parent.parent
FIND = settings(database=None, max_examples=2000)


def _reaches(strategy: st.SearchStrategy[Any], condition: Any) -> None:
    """``strategy`` can draw a value that meets ``condition`` (else NoSuchExample)."""
    find(strategy, condition, settings=FIND)


@given(data=st.data())
def test_arrays_lie_in_their_domain(data: st.DataObject) -> None:
    domain = data.draw(st.sampled_from(["real", "positive", "nonzero", "unit"]))
    dtype = data.draw(st.sampled_from([np.float32, np.float64]))
    a = data.draw(testing.arrays(domain=domain, dtype=dtype))
    assert a.dtype == dtype and a.ndim <= 3 and all(1 <= n <= 4 for n in a.shape)
    assert np.all(np.abs(a) <= testing.BOUND)
    if domain == "positive":
        assert np.all(a >= testing.MARGIN)
    if domain == "nonzero":
        assert np.all(np.abs(a) >= testing.MARGIN)
    if domain == "unit":
        assert np.all((a >= testing.MARGIN) & (a <= 1 - testing.MARGIN))


@given(data=st.data())
def test_min_and_max_value_bound_the_elements(data: st.DataObject) -> None:
    a = data.draw(testing.arrays((5,), domain="nonzero", min_value=-1.0, max_value=10.0))
    assert np.all((a >= -1.0) & (a <= 10.0) & (np.abs(a) >= testing.MARGIN))
    b = data.draw(testing.arrays((5,), domain="finite", dtype=np.float32))
    assert np.all(np.isfinite(b)) and b.dtype == np.float32


def test_the_finite_domain_reaches_huge_values() -> None:
    _reaches(testing.arrays((), domain="finite"), lambda a: abs(a) > 1e300)


@given(data=st.data())
def test_distinct_elements_keep_their_gap(data: st.DataObject) -> None:
    domain = data.draw(st.sampled_from(["real", "positive", "nonzero"]))
    a = data.draw(testing.arrays(testing.shapes(max_side=4), domain=domain, distinct=True))
    values = np.sort(a.ravel())
    assert np.all(np.diff(values) >= testing.GAP * (1 - 1e-9))
    if domain == "nonzero":
        assert np.all(np.abs(values) >= testing.MARGIN)


def test_shapes_reach_0d_and_3d_and_empty() -> None:
    _reaches(testing.shapes(), lambda s: s == ())
    _reaches(testing.shapes(), lambda s: len(s) == 3)
    _reaches(testing.shapes(min_side=0), lambda s: 0 in s)


@given(data=st.data())
def test_tensors_are_leaves_with_the_asked_dtype(data: st.DataObject) -> None:
    x = data.draw(testing.tensors((2, 3), dtype=np.float32))
    assert isinstance(x, Tensor) and x.requires_grad and x.is_leaf and x.dtype == np.float32
    y = data.draw(testing.tensors(requires_grad=False, dtype=st.sampled_from([np.float64])))
    assert not y.requires_grad and y.dtype == np.float64


@given(shapes=testing.broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes: tuple[tuple[int, ...], ...]) -> None:
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)


def test_broadcastable_shapes_reach_stretched_and_missing_dimensions() -> None:
    pairs = testing.broadcastable_shapes(2)
    _reaches(pairs, lambda ab: len(ab[0]) != len(ab[1]))
    _reaches(pairs, lambda ab: any(m == 1 < n for m, n in zip(ab[0][::-1], ab[1][::-1])))


@given(shapes=testing.matmul_shapes())
def test_matmul_shapes_fit_numpy_matmul(shapes: tuple[tuple[int, ...], ...]) -> None:
    x, y = shapes
    np.matmul(np.ones(x), np.ones(y))


def test_matmul_shapes_reach_vectors_matrices_and_broadcast_batches() -> None:
    pairs = testing.matmul_shapes()
    _reaches(pairs, lambda xy: len(xy[0]) == 1 and len(xy[1]) == 1)
    _reaches(pairs, lambda xy: len(xy[0]) == 2 and len(xy[1]) == 2)
    _reaches(pairs, lambda xy: len(xy[0]) == 1 and len(xy[1]) >= 3)
    _reaches(pairs, lambda xy: len(xy[0]) >= 3 and xy[0][:-2] != xy[1][:-2] and len(xy[1]) >= 3)


@given(data=st.data())
def test_axes_are_accepted_by_numpy(data: st.DataObject) -> None:
    shape = data.draw(testing.shapes())
    axis = data.draw(testing.axes(shape))
    np.sum(np.ones(shape), axis=axis)
    np.sum(np.ones(shape), axis=data.draw(testing.axes(len(shape))))
    positive = data.draw(testing.axes(len(shape), allow_negative=False, allow_none=False))
    assert positive is not None
    assert all(a >= 0 for a in (positive if isinstance(positive, tuple) else (positive,)))


def test_axes_reach_every_form() -> None:
    _reaches(testing.axes(3), lambda a: a is None)
    _reaches(testing.axes(3), lambda a: isinstance(a, int) and a < 0)
    _reaches(testing.axes(3), lambda a: isinstance(a, tuple) and len(a) == 2 and min(a) < 0)
    _reaches(testing.axes(3), lambda a: a == ())
    _reaches(testing.axes(0), lambda a: a == ())


def test_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="domain must be one of"):
        testing.arrays(domain="negative")
    with pytest.raises(ValueError, match="margin must be a number > 0"):
        testing.arrays(margin=0)
    with pytest.raises(ValueError, match="distinct=True needs a bounded domain"):
        testing.arrays(domain="finite", distinct=True)
    with pytest.raises(ValueError, match="dtype must be float32 or float64"):
        find(testing.arrays((), dtype=np.int64), lambda a: True, settings=FIND)
    with pytest.raises(ValueError, match="has no values between"):
        find(testing.arrays((), domain="unit", max_value=0.05), lambda a: True, settings=FIND)
    with pytest.raises(ValueError, match="do not fit"):
        find(testing.arrays((1000,), distinct=True), lambda a: True, settings=FIND)
    with pytest.raises(ValueError, match="no axis argument fits"):
        testing.axes(0, allow_none=False, allow_tuple=False)


def test_tl_testing_is_the_module() -> None:
    import tinygrad_lite.tools.testing

    assert tl.testing is tinygrad_lite.tools.testing is testing
    with pytest.raises(AttributeError, match="has no attribute 'nonexistent'"):
        tl.nonexistent  # noqa: B018 (the attribute access is the test)


_HIDE_HYPOTHESIS = """
import sys

class HideHypothesis:
    def find_spec(self, name, path=None, target=None):
        if name == "hypothesis" or name.startswith("hypothesis."):
            raise ImportError(f"No module named {name!r} (hidden by the test)")
        return None

sys.meta_path.insert(0, HideHypothesis())
"""


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_tinygrad_lite_imports_without_hypothesis() -> None:
    code = _HIDE_HYPOTHESIS + (
        "import tinygrad_lite as tl\n"
        "assert tl.gradcheck(lambda x: x.exp(), [1.0, 2.0])\n"
        "assert 'hypothesis' not in sys.modules\n"
        "for attempt in ('tl.testing', 'import tinygrad_lite.tools.testing'):\n"
        "    try:\n"
        "        exec(attempt)\n"
        "    except ImportError as error:\n"
        "        print(error)\n"
    )
    result = _run(code)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "tinygrad_lite.tools.testing needs hypothesis: pip install hypothesis" in line
        assert "pip install 'tinygrad-lite[test]'" in line


def test_importing_tinygrad_lite_does_not_import_hypothesis() -> None:
    result = _run("import sys, tinygrad_lite; print('hypothesis' in sys.modules)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
