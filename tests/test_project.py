"""The house rules that a machine can check: layering, lint, types, README and CI agree."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tinygrad_lite"

# Imports point down. The folders are the layers, from the bottom:
#   the core      tinygrad_lite/*.py and tinygrad_lite/ops/: Tensor, Function, the engine
#   nn, optim     tinygrad_lite/nn/, tinygrad_lite/optim/: built from the core's Tensor ops
#   interop       tinygrad_lite/interop.py: nn's layers to PyTorch's and back
#   the tools     tinygrad_lite/tools/: watch the core (trace, viz, anomaly, gradcheck)
#   the compiler  tinygrad_lite/compile/: records and replays steps of all of the above
#   the package   tinygrad_lite/__init__.py: the public names
#   the networks  models/*.py
#   the CLI       models/cli/
# A module may import from a lower layer, and inside its own layer from a module of lower
# rank (RANKS; a file not listed has rank 0, so two such files cannot import each other).
# docs/design.md explains the order.
BANDS = ("core", "nn/optim", "interop", "tools", "compile", "package", "networks", "cli")
RANKS = {
    # the core
    "tinygrad_lite.grad_mode": 0,
    "tinygrad_lite.shapes": 0,
    "tinygrad_lite.convert": 1,
    "tinygrad_lite.function": 1,
    "tinygrad_lite.engine": 1,
    "tinygrad_lite.ops.elementwise": 2,
    "tinygrad_lite.ops.movement": 2,
    "tinygrad_lite.ops.matmul": 2,
    "tinygrad_lite.ops.conv": 2,
    "tinygrad_lite.ops.reductions": 3,
    "tinygrad_lite.ops.losses": 4,
    "tinygrad_lite.ops": 5,
    "tinygrad_lite.tensor": 6,
    "tinygrad_lite.forward_ad": 7,
    "tinygrad_lite.data": 7,
    "tinygrad_lite.hooks": 7,
    "tinygrad_lite.autograd": 8,
    "tinygrad_lite.func": 9,
    # nn and optim
    "tinygrad_lite.nn.init": 0,
    "tinygrad_lite.nn.utils": 0,
    "tinygrad_lite.nn.module": 1,
    "tinygrad_lite.nn.losses": 1,
    "tinygrad_lite.nn.functional": 1,
    "tinygrad_lite.nn.serialization": 1,
    "tinygrad_lite.optim.optimizers": 1,
    "tinygrad_lite.optim.lr_scheduler": 2,
    "tinygrad_lite.nn.layers": 2,
    "tinygrad_lite.nn.sequence": 2,
    "tinygrad_lite.nn": 3,
    "tinygrad_lite.optim": 3,
    # interop
    "tinygrad_lite.interop": 0,
    # the tools
    "tinygrad_lite.tools.labels": 0,
    "tinygrad_lite.tools.gradcheck": 0,
    "tinygrad_lite.tools.testing": 0,
    "tinygrad_lite.tools.trace": 1,
    "tinygrad_lite.tools.anomaly": 1,
    "tinygrad_lite.tools.explain.layout": 0,
    "tinygrad_lite.tools.explain.page": 0,
    "tinygrad_lite.tools.explain.record": 1,
    "tinygrad_lite.tools.explain.steps": 2,
    "tinygrad_lite.tools.explain.views": 3,
    "tinygrad_lite.tools.explain": 4,
    "tinygrad_lite.tools.viz": 5,
    "tinygrad_lite.tools": 6,
    # the compiler, in the order a recording goes
    "tinygrad_lite.compile.traced": 0,
    "tinygrad_lite.compile.tape": 1,
    "tinygrad_lite.compile.passes": 2,
    "tinygrad_lite.compile.codegen": 3,
    "tinygrad_lite.compile.fastpath": 4,
    "tinygrad_lite.compile.step": 5,
    "tinygrad_lite.compile": 6,
    # the command line
    "models.cli.checks": 0,
    "models.cli.arguments": 0,
    "models.cli.network": 1,
    "models.cli.dataset": 1,
    "models.cli.comparison": 0,
    "models.cli.gradients": 1,
    "models.cli.config": 2,
    "models.cli.jobs": 3,
    "models.cli.report": 4,
    "models.cli.recurrent": 4,
    "models.cli.unrolled": 5,
    "models.cli.explain": 4,
    "models.cli.cli": 6,
    "models.cli": 7,
    "models.__main__": 8,
}


def _module_name(path: Path) -> str:
    """``tinygrad_lite.ops.matmul`` for tinygrad_lite/ops/matmul.py, ``tinygrad_lite.ops``
    for its __init__.py."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _band(module: str) -> int:
    """The layer of a module of the package or of models, found from its folder."""
    parts = module.split(".")
    if parts[0] == "models":
        command_line = parts[1:2] == ["cli"] or module == "models.__main__"
        return BANDS.index("cli" if command_line else "networks")
    if module == "tinygrad_lite":
        return BANDS.index("package")
    folder = parts[1]
    if folder in ("nn", "optim"):
        return BANDS.index("nn/optim")
    if folder in ("interop", "tools", "compile"):
        return BANDS.index(folder)
    return BANDS.index("core")  # a file at the top of the package, or ops/


# The one loop, inside the core: tensor.py's methods apply Functions, and Function.apply
# makes the Tensor it returns (function.py imports the module tensor, and uses it only
# when an op runs).
CORE_LOOP = {("tinygrad_lite.function", "tinygrad_lite.tensor")}


def _layer(module: str) -> tuple[int, int]:
    return _band(module), RANKS.get(module, 0)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (annotations only)."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))
    return nodes


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _package_imports(source: str, where: str) -> list[tuple[str, int]]:
    """(imported module of tinygrad_lite or models, line) for every import that runs in
    ``source``; ``from tinygrad_lite.nn import init`` imports the module nn.init."""
    found = []
    for node in _runtime_nodes(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            assert not any(a.name == "*" for a in node.names), f"{where}: star import"
            module = node.module or ""
            if module.split(".")[0] not in ("tinygrad_lite", "models"):
                continue
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.append((submodule if _is_module(submodule) else module, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("tinygrad_lite", "models"):
                    found.append((alias.name, node.lineno))
    return found


def _upward_imports(module: str, source: str) -> list[str]:
    """What is wrong with the imports of ``module`` (whose code is ``source``)."""
    wrong = []
    for target, line in _package_imports(source, module):
        where = f"{module}:{line} imports {target}"
        if module.startswith("tinygrad_lite") and target.startswith("models"):
            wrong.append(f"{where}: the framework never imports the networks")
        elif module.startswith("tinygrad_lite") and target == "tinygrad_lite":
            if module != "tinygrad_lite":
                wrong.append(f"{where}, the package root")
        elif (module, target) in CORE_LOOP:
            continue
        elif _layer(target) >= _layer(module) and not (
            module.startswith("models") and target == "tinygrad_lite"
        ):
            wrong.append(
                f"{where}, which is not below it ({BANDS[_band(target)]} rank "
                f"{RANKS.get(target, 0)}, against {BANDS[_band(module)]} rank "
                f"{RANKS.get(module, 0)})"
            )
    return wrong


SOURCES = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "models").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down(path: Path) -> None:
    module = _module_name(path)
    if module.startswith("models") and not module.startswith("models.cli"):
        # The networks beside each other: only that none imports the command line.
        wrong = [w for w in _upward_imports(module, path.read_text()) if "models.cli" in w]
    else:
        wrong = _upward_imports(module, path.read_text())
    assert not wrong, "\n".join(wrong)


def test_every_module_of_the_package_and_the_cli_has_a_rank() -> None:
    # A new file must be placed: below what it imports, above what imports it.
    for path in SOURCES:
        module = _module_name(path)
        if module != "tinygrad_lite" and _band(module) != BANDS.index("networks"):
            assert module in RANKS, f"{path.relative_to(ROOT)}: add {module} to RANKS"


def test_a_planted_upward_import_fails() -> None:
    # The check is only worth something if it catches what it is for.
    engine = (PACKAGE / "engine.py").read_text()
    for planted in (
        "from tinygrad_lite.compile.traced import Traced\n",  # the core naming the compiler
        "from tinygrad_lite.tools import trace\n",  # the core naming the tools
        "import tinygrad_lite.nn\n",  # the core naming nn
        "from tinygrad_lite import ops\n",  # below engine in name only: ops is above it
        "from models.cli import jobs\n",  # the framework naming the command line
    ):
        assert _upward_imports("tinygrad_lite.engine", planted + engine), planted
    assert _upward_imports("tinygrad_lite.nn.layers", "from tinygrad_lite.optim import SGD\n")
    assert _upward_imports("tinygrad_lite.tools.viz", "from tinygrad_lite.compile import tape\n")
    assert _upward_imports("models.sgd", "from models.cli import config\n")
    assert not _upward_imports("tinygrad_lite.engine", engine)


# Names of the core that code above it may import: the public ones, and the hooks. The
# core's private names are its own (see tinygrad_lite/hooks.py).
ABOVE_THE_CORE = ("nn/optim", "tools", "compile")


@pytest.mark.parametrize(
    "path",
    [p for p in SOURCES if BANDS[_band(_module_name(p))] in ABOVE_THE_CORE],
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_code_above_the_core_imports_only_its_public_names(path: Path) -> None:
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_lite"):
            target = node.module or ""
            if _band(target) != BANDS.index("core"):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, (
                f"{path.relative_to(ROOT)}:{node.lineno} imports {private} from {target}: "
                f"code above the core uses its public names and tinygrad_lite.hooks"
            )


def _names_defined_above_the_core() -> set[str]:
    """The classes defined above the core (those the core defines too, such as nn's
    Sigmoid beside the op Sigmoid, left out)."""
    above, core = set(), set()
    for path in SOURCES:
        band = BANDS[_band(_module_name(path))]
        tree = ast.parse(path.read_text())
        classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)}
        if band in ABOVE_THE_CORE:
            above |= classes
        elif band == "core":
            core |= classes
    return above - core


def test_the_core_names_nothing_above_it_not_even_in_a_comment() -> None:
    # A reader of the core learns the core: a layer above it is never named there (not in
    # a comment, not in an isinstance check); it plugs in through the hooks instead.
    classes = _names_defined_above_the_core()
    assert {"Traced", "Tape", "Linear", "SGD", "Trace"} <= classes
    higher = re.compile(
        r"\b(?:tl|tinygrad_lite)\.(?:nn|optim|tools|compile|trace|detect_anomaly|viz|"
        r"gradcheck|gradgradcheck|testing|save|load)\b|\bmodels\b|\b(?:"
        + "|".join(sorted(classes))
        + r")\b"
    )
    for path in SOURCES:
        if _band(_module_name(path)) == BANDS.index("core"):
            for number, line in enumerate(path.read_text().splitlines(), 1):
                found = higher.search(line)
                assert not found, (
                    f"{path.relative_to(ROOT)}:{number} names {found.group(0)}, from a layer "
                    f"above the core: {line.strip()}"
                )


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return found


def test_ruff_check() -> None:
    result = subprocess.run([_tool("ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format() -> None:
    result = subprocess.run(
        [_tool("ruff"), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy() -> None:
    result = subprocess.run([_tool("mypy")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _readme_command(marker: str) -> str:
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\n```sh\n(.+)\n```", text)
    assert match, f"README.md has no command after <!-- {marker} -->"
    return match.group(1)


def test_readme_commands_install_from_a_fresh_venv() -> None:
    for marker in ("main command", "test command"):
        command = _readme_command(marker)
        assert command.startswith("python3 -m venv .venv && . .venv/bin/activate && pip install")


def test_ci_runs_the_readme_test_command() -> None:
    # .ci/run reads the command from the README; check that it finds this very line.
    script = (ROOT / ".ci" / "run").read_text()
    awk = re.search(r"awk '(.+?)' README.md", script)
    assert awk, ".ci/run no longer reads the test command from README.md"
    found = subprocess.run(
        ["awk", awk.group(1), "README.md"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    assert found == _readme_command("test command")
