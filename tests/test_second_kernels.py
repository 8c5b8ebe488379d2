""".ci/second_kernels.py: the second set of numerical kernels CI runs the numerics-dependent
tests under. It must name only what numpy accepts on the machine at hand (numpy refuses to
import otherwise), pick a level whose loss changes the bits of exp, log or tanh, and leave
alone what the environment already sets."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "second_kernels.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("second_kernels", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sk = _load()

# numpy 2.4 dispatches to x86-64 levels; numpy 2.0 to 2.3 to single features.
LEVELS = ["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"]
FEATURES = ["SSSE3", "SSE41", "POPCNT", "SSE42", "AVX", "F16C", "FMA3", "AVX2", "AVX512F"]
FEATURES += ["AVX512CD", "AVX512_KNL", "AVX512_KNM", "AVX512_SKX", "AVX512_CLX"]
FEATURES += ["AVX512_CNL", "AVX512_ICL"]
SKYLAKE = [*FEATURES[:10], "AVX512_SKX", "AVX512_CLX"]  # no KNL, KNM, CNL, ICL
OPENBLAS = ("scipy-openblas", "OpenBLAS 0.3.31  USE64BITINT DYNAMIC_ARCH NO_AFFINITY Haswell")


def _facts(dispatch: list[str], present: list[str], kernels: list[str], **blas: str) -> Any:
    return sk.Facts(
        dispatch=dispatch,
        present={f: f in present for f in dispatch},
        kernels=kernels,
        blas_name=blas.get("name", OPENBLAS[0]),
        blas_config=blas.get("config", OPENBLAS[1]),
        machine=blas.get("machine", "x86_64"),
    )


@pytest.mark.parametrize(
    ("dispatch", "present", "kernels", "expected"),
    [
        # An AVX-512 machine: first as an AVX2 one, then as the baseline; AVX512_SPR, which
        # the CPU lacks, is never named.
        (
            LEVELS,
            LEVELS[:3],
            ["X86_V4", "X86_V3"],
            ["X86_V4 AVX512_ICL", "X86_V3 X86_V4 AVX512_ICL"],
        ),
        # An AVX2 machine: a kernel for X86_V4 exists, but there is nothing of it to disable.
        (LEVELS, LEVELS[:1], ["X86_V4", "X86_V3"], ["X86_V3"]),
        # numpy 2.0 on Skylake-X: AVX512_SKX, then AVX512F, then FMA3__AVX2 (needs both).
        (
            FEATURES,
            SKYLAKE,
            ["AVX512_SKX", "AVX512F", "FMA3__AVX2", "AVX512_SKX", "FMA3__AVX2"],
            [
                "AVX512_SKX AVX512_CLX",
                "AVX512F AVX512CD AVX512_SKX AVX512_CLX",
                "FMA3 AVX2 AVX512F AVX512CD AVX512_SKX AVX512_CLX",
            ],
        ),
        (LEVELS, LEVELS[:3], [], []),  # exp, log and tanh have only baseline kernels
    ],
    ids=["avx512", "avx2", "numpy-2.0-skylake", "baseline-only"],
)
def test_simd_candidates_are_the_kernels_levels_smallest_change_first(
    dispatch: list[str], present: list[str], kernels: list[str], expected: list[str]
) -> None:
    facts = _facts(dispatch, present, kernels)
    assert sk.simd_candidates(facts.dispatch, facts.present, facts.kernels) == expected


def test_the_first_candidate_that_changes_the_bits_is_chosen() -> None:
    facts = _facts(FEATURES, SKYLAKE, ["AVX512_SKX", "AVX512F", "FMA3__AVX2"])
    tried: list[str] = []

    def changes_bits(features: str) -> bool:
        tried.append(features)
        return "AVX512F" in features  # AVX512_SKX's kernel gives AVX512F's bits

    assignments, notes = sk.choose({}, facts, changes_bits)
    assert tried == ["AVX512_SKX AVX512_CLX", "AVX512F AVX512CD AVX512_SKX AVX512_CLX"]
    assert assignments == [
        "NPY_DISABLE_CPU_FEATURES=AVX512F AVX512CD AVX512_SKX AVX512_CLX",
        "OPENBLAS_CORETYPE=Prescott",
    ]


def test_numpy_is_left_alone_when_no_level_changes_the_bits() -> None:
    arm = _facts(["ASIMDHP", "ASIMDDP", "SVE"], ["ASIMDHP"], [], machine="aarch64")
    assignments, notes = sk.choose({}, arm, lambda features: True)
    assert assignments == ["OPENBLAS_CORETYPE=ARMV8"]
    assert notes[0] == "numpy: exp, log, tanh run on its baseline code here; skipped"
    x86 = _facts(LEVELS, LEVELS[:1], ["X86_V3"])
    assignments, notes = sk.choose({}, x86, lambda features: False)
    assert assignments == ["OPENBLAS_CORETYPE=Prescott"]
    assert "no level it can drop changes exp, log, tanh here; skipped" in notes[0]


@pytest.mark.parametrize(
    ("name", "config", "machine", "why"),
    [
        ("accelerate", "", "arm64", "numpy's BLAS is accelerate, not OpenBLAS"),
        ("openblas", "OpenBLAS 0.3.26 Haswell", "x86_64", "built for one core only"),
        ("scipy-openblas", OPENBLAS[1], "ppc64le", "no OpenBLAS core chosen for ppc64le"),
    ],
)
def test_no_openblas_core_where_it_does_not_apply(
    name: str, config: str, machine: str, why: str
) -> None:
    facts = _facts(LEVELS, ["X86_V3"], ["X86_V3"], name=name, config=config, machine=machine)
    assignments, notes = sk.choose({}, facts, lambda features: True)
    assert assignments == ["NPY_DISABLE_CPU_FEATURES=X86_V3"]
    assert why in notes[1] and notes[1].endswith("skipped")


def test_what_the_environment_sets_is_kept() -> None:
    facts = _facts(LEVELS, ["X86_V3"], ["X86_V3"])
    environment = {"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES": "X86_V3"}
    assignments, notes = sk.choose(environment, facts, lambda features: True)
    assert assignments == []
    assert "kept" in notes[0] and "OPENBLAS_CORETYPE=Haswell" in notes[1]


def test_on_this_machine_numpy_imports_under_the_second_kernels() -> None:
    # A feature numpy does not dispatch to, or one of its baseline, makes numpy refuse to
    # import (or warn, which the tests turn into an error).
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, check=True
    )
    assignments = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert set(assignments) <= {"NPY_DISABLE_CPU_FEATURES", "OPENBLAS_CORETYPE"}
    check = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            "import numpy as np; np.exp(np.ones((4, 3))) @ np.ones((3, 4))",
        ],
        env={**os.environ, **assignments},
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "second kernels: they change the bits of" in result.stderr or not assignments
