"""The differential tests against PyTorch: a tier of their own, run where PyTorch is
installed (``pip install torch==2.13.0`` first, the CPU wheel, then
``pip install -e ".[oracle]"``) and skipped with a message elsewhere.

``--oracle-programs N`` sets how many random programs the tier checks in all (shared
among the kinds of check below); CI passes a fixed number (.ci/run).
"""

from __future__ import annotations

import importlib.util

import pytest

# Without PyTorch the helper module cannot be imported, not even to collect its doctests;
# the test module skips itself with the message.
collect_ignore = [] if importlib.util.find_spec("torch") else ["differential.py"]

DEFAULT_PROGRAMS = 100  # a quick look in a plain test run
SHARES = {
    "test_values_and_gradients": 0.27,
    "test_second_derivatives": 0.14,
    "test_grad_of_computed_arguments": 0.13,
    "test_forward_mode": 0.08,
    "test_optimizer_trajectories": 0.115,
    "test_ieee_edges": 0.17,
    "test_network_functions": 0.095,
}


def programs(config: pytest.Config) -> int:
    chosen = config.getoption("--oracle-programs")
    return DEFAULT_PROGRAMS if chosen is None else chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "seed" in metafunc.fixturenames:
        share = SHARES[metafunc.function.__name__]
        metafunc.parametrize("seed", range(max(1, round(programs(metafunc.config) * share))))
