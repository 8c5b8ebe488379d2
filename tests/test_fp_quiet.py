"""fp_quiet: numpy's floating-point warnings are off inside, and everything is restored after.

pytest runs with warnings as errors, so a warning that leaked would fail these tests.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from tinygrad_lite.grad_mode import _mode, fp_quiet


@fp_quiet()
def _log_of_zero() -> tuple[float, bool, str]:
    return float(np.log(np.zeros(1))[0]), _mode.quiet, np.geterr()["divide"]


def test_decorator_silences_numpy_and_restores_the_state() -> None:
    before = np.geterr()
    value, quiet_inside, divide_inside = _log_of_zero()
    assert value == -np.inf
    assert quiet_inside and divide_inside == "ignore"
    assert not _mode.quiet and np.geterr() == before
    with pytest.warns(RuntimeWarning):  # outside, numpy warns again
        np.log(np.zeros(1))


def test_decorator_restores_the_state_after_an_exception() -> None:
    before = np.geterr()

    @fp_quiet()
    def fails() -> None:
        raise KeyError("inside")

    with pytest.raises(KeyError):
        fails()
    assert not _mode.quiet and np.geterr() == before


def test_nested_calls_leave_the_outer_call_quiet() -> None:
    @fp_quiet()
    def outer() -> tuple[bool, str]:
        _log_of_zero()  # a quiet call inside a quiet call must not end the outer one
        with fp_quiet():
            pass
        return _mode.quiet, np.geterr()["invalid"]

    assert outer() == (True, "ignore")
    with fp_quiet():
        assert _log_of_zero()[1:] == (True, "ignore")
        assert _mode.quiet
    assert not _mode.quiet


def test_quiet_is_per_thread() -> None:
    seen: list[tuple[bool, str]] = []

    def other_thread() -> None:
        seen.append((_mode.quiet, np.geterr()["divide"]))

    @fp_quiet()
    def run_other_thread() -> None:
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()

    run_other_thread()
    assert seen == [(False, "warn")]


def test_without_numpys_private_names_np_errstate_does_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # fp_quiet sets numpy's error state through two names private to numpy 2; where they
    # are missing, it falls back to np.errstate, with the same effect.
    import builtins

    from tinygrad_lite import grad_mode

    real_import = builtins.__import__

    def without_private_names(name: str, *args: object, **kwargs: object) -> object:
        if name in ("numpy._core._multiarray_umath", "numpy._core._ufunc_config"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", without_private_names)
    state, set_state, reset_state = grad_mode._quiet_state()
    monkeypatch.setattr(builtins, "__import__", real_import)
    assert state is None and set_state is grad_mode._enter_errstate
    monkeypatch.setattr(grad_mode, "_set_state", set_state)
    monkeypatch.setattr(grad_mode, "_reset_state", reset_state)
    before = np.geterr()
    value, quiet_inside, divide_inside = _log_of_zero()
    assert value == -np.inf and quiet_inside and divide_inside == "ignore"
    with fp_quiet():
        assert np.geterr()["over"] == "ignore"
    assert not _mode.quiet and np.geterr() == before
