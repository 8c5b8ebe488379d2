"""``python -m benchmarks [--smoke] [--rounds N] [--only W1 W2 W3] [--no-torch]``"""

import os

# One BLAS thread, set before numpy loads: on a machine shared with other work, BLAS threads
# that wait for a busy core make W3's timings swing by 10x. Set these variables to choose.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

from benchmarks.run import main  # noqa: E402 (after the thread settings)

raise SystemExit(main())
