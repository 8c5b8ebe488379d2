"""Hypothesis profiles: "dev" explores at random; "ci" is derandomized, so a CI run is
repeatable; "thorough" runs many more examples (1000 per property test), to hunt bugs
(HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_properties.py). CI sets CI=true;
HYPOTHESIS_PROFILE picks one explicitly."""

import os

import pytest
from hypothesis import settings

settings.register_profile("dev", max_examples=40, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, database=None, print_blob=True
)
settings.register_profile("thorough", max_examples=500, deadline=None)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") == "true" else "dev")
)


def pytest_addoption(parser: pytest.Parser) -> None:
    # Here, at the root of the tests, so that pytest knows it from the start.
    parser.addoption(
        "--oracle-programs",
        type=int,
        default=None,
        help="how many random programs the differential tests against PyTorch (tests/oracle/) "
        "check in all",
    )
