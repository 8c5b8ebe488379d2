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

# Each module of the package and its layer: a module may import only from lower layers.
# models -> nn/optim -> tensor -> ops/engine -> numpy (docs/design.md explains the order).
LAYERS = {
    "mode": 0,
    "shapes": 0,
    "convert": 1,
    "traced": 0,
    "function": 1,
    "engine": 1,
    "ops": 2,
    "tape": 2,
    "passes": 3,
    "codegen": 4,
    "fastpath": 5,
    "tensor": 3,
    "autograd": 4,
    "gradcheck": 5,
    "init": 4,
    "nn": 5,
    "serialization": 5,
    "labels": 4,
    "viz": 5,
    "trace": 5,
    "anomaly": 5,
    "optim": 6,
    "testing": 6,
    "compile": 7,
    "__init__": 9,
}


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


def _package_imports(path: Path) -> list[tuple[str, int]]:
    """(imported tinygrad_lite module, line) for every import that runs in ``path``."""
    found = []
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            assert not any(a.name == "*" for a in node.names), f"{path.name}: star import"
            module = node.module or ""
            if module == "tinygrad_lite":
                found += [(f"tinygrad_lite.{a.name}", node.lineno) for a in node.names]
            elif module.startswith("tinygrad_lite") or module.startswith("models"):
                found.append((module, node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in ("tinygrad_lite", "models"):
                    found.append((alias.name, node.lineno))
    return found


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_imports_point_down(path: Path) -> None:
    name = path.stem
    assert name in LAYERS, f"{path.name} has no layer in LAYERS: add it where it belongs"
    for module, line in _package_imports(path):
        assert not module.startswith("models"), f"{path.name}:{line} imports {module}"
        if name == "__init__":
            continue
        assert module != "tinygrad_lite", f"{path.name}:{line} imports the package root"
        target = module.split(".")[1]
        assert LAYERS[target] < LAYERS[name], (
            f"{path.name}:{line} imports {module}, which is not below it"
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
