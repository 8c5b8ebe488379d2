"""tinygrad_lite.interop without PyTorch: importing it needs nothing, and each function and
``--save-torch`` say in one line how to install PyTorch. The moves themselves are checked
against PyTorch in test_interop_torch.py.

These run whether or not PyTorch is installed: a child Python in which ``import torch``
fails (``sys.modules["torch"] = None``, the import system's way to block a module) plays
the machine without it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import tinygrad_lite as tl
from tinygrad_lite import interop

WITHOUT_TORCH = "import sys; sys.modules['torch'] = None\n"


def without_torch(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TORCH + code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_interop_does_not_import_torch() -> None:
    result = subprocess.run(
        [sys.executable, "-c", "import tinygrad_lite, sys; print('torch' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip() == "False", result.stderr
    assert tl.interop is interop


def test_each_function_says_in_one_line_how_to_install_pytorch(tmp_path: Path) -> None:
    code = """
import json
from tinygrad_lite import interop, nn
model = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
calls = {
    "to_torch": lambda: interop.to_torch(model),
    "from_torch": lambda: interop.from_torch(object()),
    "to_torch_state_dict": lambda: interop.to_torch_state_dict(model),
    "from_torch_state_dict": lambda: interop.from_torch_state_dict({}, model),
}
errors = {}
for name, call in calls.items():
    try:
        call()
    except ModuleNotFoundError as error:
        errors[name] = [str(error), error.name]
print(json.dumps(errors))
"""
    result = without_torch(code, tmp_path)
    errors = json.loads(result.stdout)
    assert set(errors) == {
        "to_torch",
        "from_torch",
        "to_torch_state_dict",
        "from_torch_state_dict",
    }, result.stderr
    for name, (message, module) in errors.items():
        assert message == (
            f'{name} needs PyTorch, which is not installed: pip install "tinygrad-lite[torch]"'
        )
        assert module == "torch"


@pytest.mark.parametrize("model", ["xor", "char-rnn"])
def test_save_torch_without_pytorch_is_a_usage_error_before_any_training(
    tmp_path: Path, model: str
) -> None:
    args = ["train", model, "--save-torch", "m.pt"]
    code = f"from models.cli import main; sys.exit(main({args!r}))"
    result = without_torch(code, tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""  # nothing trained, nothing printed
    assert result.stderr == (
        "tinygrad-lite: error: --save-torch needs PyTorch, which is not installed: "
        'pip install "tinygrad-lite[torch]"\n'
    )
    assert not list(tmp_path.iterdir())


def test_save_torch_checks_the_file_type_before_pytorch(tmp_path: Path) -> None:
    code = "from models.cli import main; sys.exit(main(['train', 'xor', '--save-torch', 'm.npz']))"
    result = without_torch(code, tmp_path)
    assert result.returncode == 2
    assert "--save-torch m.npz: unknown file type '.npz'; accepted: .pt, .pth" in result.stderr


def test_the_table_of_counterparts_names_each_layer_once() -> None:
    ours = [c.ours for c in interop.COUNTERPARTS]
    theirs = [c.theirs for c in interop.COUNTERPARTS]
    assert len(set(ours)) == len(ours) and len(set(theirs)) == len(theirs)
    # each entry is a layer of nn, beside PyTorch's class of the same name
    for counterpart in interop.COUNTERPARTS:
        assert getattr(tl.nn, counterpart.ours.__name__) is counterpart.ours
        assert counterpart.theirs == counterpart.ours.__name__


def test_every_layer_of_nn_has_a_counterpart() -> None:
    layers = {
        value
        for value in vars(tl.nn).values()
        if isinstance(value, type) and issubclass(value, tl.nn.Module)
    }
    assert layers - {c.ours for c in interop.COUNTERPARTS} == {tl.nn.Module, tl.nn.Sequential}
