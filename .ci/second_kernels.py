"""The second set of numerical kernels that CI runs the numerics-dependent tests under.

numpy picks its SIMD kernels for exp, log, tanh and friends by CPU feature, and OpenBLAS
its dot kernels by CPU, so the last bits of a result depend on the machine. A test or an
example that expects one machine's last bits passes there and fails elsewhere. Running
the tests again under other kernels catches that on whatever machine CI runs:

- ``NPY_DISABLE_CPU_FEATURES``: the widest SIMD level whose loss changes the bits of
  numpy's float64 ``exp``, ``log`` or ``tanh`` here, with every wider feature the CPU has,
  so that numpy falls back to its next kernel down (on numpy 2.4, an AVX-512 machine then
  computes as an AVX2 one, an AVX2 one as numpy's baseline). numpy refuses to import when
  told to disable a feature of its baseline or one it does not dispatch to, so the names
  come from numpy itself (its dispatch list, the CPU's features, the kernels
  ``numpy.lib.introspect.opt_func_info`` lists), and each candidate is tried: some
  kernels give the same bits as the next one down (numpy 2.0's AVX512_SKX and AVX512F).
- ``OPENBLAS_CORETYPE``: OpenBLAS's oldest kernels for the architecture (``Prescott`` on
  x86-64, ``ARMV8`` on ARM), when numpy's BLAS is an OpenBLAS built for several cores.

A variable the environment already sets is left as it is (both runs keep it). Prints one
``NAME=value`` line per variable to set (none when nothing applies), and on stderr what
was chosen and which bits it changes here.

    python .ci/second_kernels.py
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

# float64 functions whose last bits depend on numpy's SIMD level (the ones the project uses)
TRANSCENDENTAL = ("exp", "log", "tanh")
OLDEST_OPENBLAS_CORE = {
    "x86_64": "Prescott",
    "amd64": "Prescott",
    "aarch64": "ARMV8",
    "arm64": "ARMV8",
}


class Facts(NamedTuple):
    """What numpy says about a machine: its SIMD levels and its BLAS."""

    dispatch: list[str]  # the features numpy dispatches to, narrowest first
    present: dict[str, bool]  # which of them the CPU has
    kernels: list[str]  # the kernels of float64 exp, log, tanh ("AVX512F", "FMA3__AVX2")
    blas_name: str
    blas_config: str  # OpenBLAS's build configuration ("... DYNAMIC_ARCH ...")
    machine: str  # platform.machine()


def simd_candidates(
    dispatch: Sequence[str], present: Mapping[str, bool], kernels: Sequence[str]
) -> list[str]:
    """Values of NPY_DISABLE_CPU_FEATURES to try, the smallest change first.

    For each kernel above numpy's baseline (a target such as ``AVX512F``, or ``FMA3__AVX2``
    when it needs both), the features it needs and every wider one the CPU has: disabling
    them sends numpy to a narrower kernel. Features the CPU lacks are never named.
    """
    starts = {
        min(dispatch.index(feature) for feature in kernel.split("__"))
        for kernel in kernels
        if all(feature in dispatch for feature in kernel.split("__"))
    }
    candidates: list[str] = []
    for start in sorted(starts, reverse=True):
        features = " ".join(f for f in dispatch[start:] if present.get(f))
        if features and features not in candidates:
            candidates.append(features)
    return candidates


def openblas_core(blas_name: str, blas_config: str, machine: str) -> tuple[str | None, str]:
    """The value of OPENBLAS_CORETYPE, or None, and why."""
    if "openblas" not in blas_name.lower():
        return None, f"numpy's BLAS is {blas_name or 'unknown'}, not OpenBLAS"
    if "DYNAMIC_ARCH" not in blas_config:
        return None, "numpy's OpenBLAS is built for one core only"
    core = OLDEST_OPENBLAS_CORE.get(machine.lower())
    if core is None:
        return None, f"no OpenBLAS core chosen for {machine}"
    return core, f"OpenBLAS's oldest {machine} kernels"


def choose(
    environment: Mapping[str, str], facts: Facts, changes_bits: Callable[[str], bool]
) -> tuple[list[str], list[str]]:
    """(``NAME=value`` assignments, notes) for the machine that ``facts`` describes.

    ``changes_bits(features)`` says whether disabling ``features`` changes the bits of
    float64 exp, log or tanh.
    """
    assignments, notes = [], []
    if "NPY_DISABLE_CPU_FEATURES" in environment or "NPY_ENABLE_CPU_FEATURES" in environment:
        notes.append("numpy: NPY_*_CPU_FEATURES is set by the environment; kept for both runs")
    else:
        candidates = simd_candidates(facts.dispatch, facts.present, facts.kernels)
        chosen = next((c for c in candidates if changes_bits(c)), None)
        if chosen:
            assignments.append(f"NPY_DISABLE_CPU_FEATURES={chosen}")
            notes.append(f"numpy: disabling {chosen}")
        elif candidates:
            notes.append("numpy: no level it can drop changes exp, log, tanh here; skipped")
        else:
            notes.append("numpy: exp, log, tanh run on its baseline code here; skipped")
    if "OPENBLAS_CORETYPE" in environment:
        value = environment["OPENBLAS_CORETYPE"]
        notes.append(f"BLAS: OPENBLAS_CORETYPE={value} is set by the environment; kept")
    else:
        core, why = openblas_core(facts.blas_name, facts.blas_config, facts.machine)
        if core:
            assignments.append(f"OPENBLAS_CORETYPE={core}")
        notes.append(f"BLAS: {why}; " + (f"OPENBLAS_CORETYPE={core}" if core else "skipped"))
    return assignments, notes


def machine_facts() -> Facts:
    """What numpy says about this machine (no SIMD levels if this numpy does not say)."""
    import numpy as np

    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        from numpy.lib.introspect import opt_func_info
    except ImportError:  # a numpy that keeps these elsewhere: numpy is then left alone
        __cpu_dispatch__, __cpu_features__, opt_func_info = [], {}, None
    kernels = []
    for name in TRANSCENDENTAL if opt_func_info else ():
        for signature, targets in opt_func_info(f"^{name}$", "float64").get(name, {}).items():
            if signature == "dd":
                kernels += re.sub(r"baseline\([^)]*\)", "", targets["available"]).split()
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("blas", {})
    return Facts(
        dispatch=list(__cpu_dispatch__),
        present=dict(__cpu_features__),
        kernels=kernels,
        blas_name=str(blas.get("name", "")),
        blas_config=str(blas.get("openblas configuration", "")),
        machine=platform.machine(),
    )


FINGERPRINT = """
import numpy as np
rng = np.random.default_rng(0)
x, a, b = rng.standard_normal(4096), rng.standard_normal((64, 48)), rng.standard_normal((48, 64))
for name, value in [("exp", np.exp(x)), ("log", np.log(np.abs(x))), ("tanh", np.tanh(x)),
                    ("dot", np.dot(a, b)), ("vdot", np.vdot(x, x))]:
    print(name, value.tobytes().hex())
"""


def fingerprint(assignments: Mapping[str, str]) -> dict[str, str] | None:
    """The bits of exp, log, tanh, dot and vdot on fixed data under ``assignments``, or None
    when numpy refuses them (an error or a warning at import)."""
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", FINGERPRINT],
        env={**os.environ, **assignments},
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return None
    return dict(line.split() for line in result.stdout.splitlines())


def main() -> None:
    native = fingerprint({})
    if native is None:
        sys.exit("second kernels: numpy does not import cleanly (python -W error)")

    def changes_bits(features: str) -> bool:
        other = fingerprint({"NPY_DISABLE_CPU_FEATURES": features})
        return other is not None and any(other[f] != native[f] for f in TRANSCENDENTAL)

    assignments, notes = choose(os.environ, machine_facts(), changes_bits)
    if assignments:
        second = fingerprint(dict(a.split("=", 1) for a in assignments))
        if second is None:
            sys.exit(f"second kernels: numpy does not import cleanly under {assignments}")
        changed = [name for name in native if second[name] != native[name]]
        notes.append("they change the bits of " + (", ".join(changed) or "nothing here"))
    for note in notes:
        print(f"second kernels: {note}", file=sys.stderr)
    for assignment in assignments:
        print(assignment)


if __name__ == "__main__":
    main()
