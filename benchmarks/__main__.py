"""``python -m benchmarks [--smoke] [--rounds N] [--only W1 W2 W3] [--no-torch]``"""

from benchmarks import process

process.set_up()  # before numpy loads (see process.py)

from benchmarks.run import main  # noqa: E402 (after the process's settings)

raise SystemExit(main())
