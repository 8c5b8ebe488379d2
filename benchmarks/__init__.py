"""Side-by-side timing of tinygrad_lite against hand-written numpy: ``python -m benchmarks``.

Not part of the installed package and not run by the test suite; CI runs
``python -m benchmarks --smoke``, which checks that the benchmark still works and that
tinygrad_lite still agrees with the hand-written code, without asserting any timing.
"""
