"""Module, the base class of layers and models, and Sequential, layers applied in order.

A ``Module`` needs no registration: its parameters are the Tensors found in its attributes
(and in the Modules, lists and tuples they hold), in the order the attributes were set.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple, TypeVar

import numpy as np

from tinygrad_lite.grad_mode import fp_quiet, no_grad
from tinygrad_lite.hooks import thread_mode
from tinygrad_lite.tensor import Tensor

M = TypeVar("M", bound="Module")


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict(strict=False)`` left alone (PyTorch's name and fields)."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of layers and models: subclass it and write ``forward``.

    Every Tensor held in an attribute is a parameter, found by walking the attributes in
    the order they were set, into nested Modules, lists and tuples; a Tensor or Module
    reached twice counts once, under the first name. There is nothing to register and no
    ``super().__init__()`` to call. Calling the module runs ``forward`` inside one
    ``fp_quiet`` (numpy's floating-point warnings off once per call, not once per op).
    """

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    @fp_quiet()
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if thread_mode.observers:  # a study tool watches: tell it which layer runs the ops
            return _observed_call(self, args, kwargs)
        return self.forward(*args, **kwargs)

    def _observed_forward(self, *args: Any, **kwargs: Any) -> Any:
        """``forward`` while a study tool watches (a Module that runs its layers without
        calling them, as Sequential does for speed, reports them here)."""
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ parameters

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(dotted name, Tensor) for every parameter: ``[("0.weight", w), ...]``."""
        return self._walk(Tensor)

    def parameters(self) -> list[Tensor]:
        """Every parameter, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def named_modules(self) -> list[tuple[str, Module]]:
        """(dotted name, Module) for this module (named ``""``) and every one inside it."""
        return self._walk(Module)

    def modules(self) -> list[Module]:
        """This module and every Module inside it, in the order of ``named_modules()``."""
        return [m for _, m in self.named_modules()]

    def _walk(self, kind: type) -> list[tuple[str, Any]]:
        """(dotted name, value) of every Tensor or Module (``kind``) reached from this
        module through attributes, lists and tuples, each once, in definition order."""
        found: list[tuple[str, Any]] = []
        seen: set[int] = set()  # ids of the Tensors, Modules and containers already walked
        # An explicit stack rather than recursion: nesting of any depth is fine. Children go
        # on in reverse so that they come off in definition order.
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:
            name, value = stack.pop()
            if not isinstance(value, (Tensor, Module, list, tuple)) or id(value) in seen:
                continue  # numbers, arrays, strings, None are neither
            seen.add(id(value))
            if isinstance(value, kind):
                found.append((name, value))
            if isinstance(value, Tensor):
                continue
            if isinstance(value, Module):
                children = list(value._attributes())
            else:
                children = [(str(i), item) for i, item in enumerate(value)]
            prefix = f"{name}." if name else ""
            stack.extend((prefix + child, item) for child, item in reversed(children))
        return found

    # ------------------------------------------------------------- training mode

    # Every module starts in training mode; ``train()`` and ``eval()`` set it on an instance.
    training: bool = True

    def train(self: M, mode: bool = True) -> M:
        """Set ``training`` to ``mode`` on this module and every Module inside it (what
        layers such as ``Dropout`` read); returns the module itself, as PyTorch's does."""
        if not isinstance(mode, (bool, np.bool_)):
            raise TypeError(
                f"{type(self).__name__}.train: mode must be True or False, got {mode!r}"
            )
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self: M) -> M:
        """``train(False)``: evaluation mode for this module and every Module inside it."""
        return self.train(False)

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (PyTorch's default): the next backward
        starts afresh, and a parameter the loss did not reach is told apart from one whose
        gradient is 0."""
        for p in self.parameters():
            p.grad = None

    def _attributes(self) -> Iterator[tuple[str, Any]]:
        """(name, value) of what may hold parameters; Sequential numbers its layers."""
        return iter(vars(self).items())

    # ------------------------------------------------------------------ state dict

    def state_dict(self) -> dict[str, np.ndarray]:
        """name -> a copy of the parameter's values, in the order of ``named_parameters()``."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Copy values into the parameters of the same names (in place, under no_grad).

        Every name and shape is checked before anything is copied, so a state dict that
        does not fit leaves the model as it was. ``strict=True``: the names must be exactly
        the model's, else a ValueError lists the missing and unexpected ones.
        ``strict=False``: those are skipped and returned as ``IncompatibleKeys``. Shapes
        must match either way; a mismatch is a ValueError naming the parameter.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"load_state_dict: expected a mapping of name -> array (as state_dict() or "
                f"tl.load() return), got {type(state_dict).__name__}"
            )
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state_dict]
        unexpected = [str(name) for name in state_dict if name not in own]
        if strict and (missing or unexpected):
            raise ValueError(
                f"load_state_dict: the state dict does not fit this {type(self).__name__}: "
                f"missing {missing or 'nothing'}, unexpected {unexpected or 'nothing'}; "
                f"the model's parameters are {list(own)} (strict=False skips the misfits)"
            )
        updates = []
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            array = value.data if isinstance(value, Tensor) else value
            if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
                what = (
                    f"an array of dtype {array.dtype}"
                    if isinstance(array, np.ndarray)
                    else type(value).__name__
                )
                raise TypeError(
                    f"load_state_dict: '{name}' is {what}; accepted: a numeric numpy array or "
                    f"a Tensor"
                )
            if array.shape != p.data.shape:
                raise ValueError(
                    f"load_state_dict: '{name}' has shape {array.shape} in the state dict but "
                    f"{p.data.shape} in the model"
                )
            updates.append((p, array))
        with no_grad():
            for p, array in updates:
                p.copy_(array)  # bumps the version: a graph built before the load refuses it
        return IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------------ repr

    def extra_repr(self) -> str:
        """The text inside this module's parentheses (its settings); empty by default."""
        return ""

    def _child_modules(self) -> list[tuple[str, Module]]:
        """The Modules held directly, or in a list or tuple attribute ("blocks.0")."""
        children = []
        for name, value in self._attributes():
            if isinstance(value, Module):
                children.append((name, value))
            elif isinstance(value, (list, tuple)):
                children += [
                    (f"{name}.{i}", m) for i, m in enumerate(value) if isinstance(m, Module)
                ]
        return children

    def __repr__(self) -> str:
        """PyTorch's layout: ``Name(settings)``, or one indented ``(name): child`` per line."""
        lines: list[str] = []
        # Items are (depth, label, module) to open, or (depth, None, None) to close a
        # bracket; an explicit stack, so nesting of any depth is fine.
        stack: list[tuple[int, str | None, Module | None]] = [(0, "", self)]
        seen: set[int] = set()
        while stack:
            depth, label, module = stack.pop()
            indent = "  " * depth
            if module is None:
                lines.append(indent + ")")
                continue
            head = f"{indent}{label}{type(module).__name__}({module.extra_repr()}"
            children = module._child_modules()
            if not children:
                lines.append(head + ")")
                continue
            if id(module) in seen:  # shown in full above (and a module inside itself ends here)
                lines.append(head + "...)")
                continue
            seen.add(id(module))
            lines.append(head)
            stack.append((depth, None, None))
            stack.extend((depth + 1, f"({name}): ", m) for name, m in reversed(children))
        return "\n".join(lines)


class Sequential(Module):
    """Layers applied in order: ``Sequential(a, b, c)(x) = c(b(a(x)))``.

    Indexable (``model[0]``, a slice gives a Sequential), ``len`` and iterable; its
    parameters are named by position (``"0.weight"``), as in PyTorch.
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                hint = ""
                if isinstance(layer, type) and issubclass(layer, Module):
                    hint = f" (the class itself: did you mean {layer.__name__}()?)"
                raise TypeError(
                    f"Sequential: layer {i} is {type(layer).__name__} {layer!r}{hint}; "
                    f"accepted: Modules such as nn.Linear(3, 4) or nn.Sigmoid()"
                )
        self.layers = layers

    def forward(self, x: Any) -> Any:
        for layer in self.layers:
            # forward rather than layer(x): fp_quiet is already on for the whole model
            x = layer.forward(x)
        return x

    def _observed_forward(self, x: Any) -> Any:
        for layer in self.layers:  # each layer's call reported, as layer(x) would
            x = _observed_call(layer, (x,), {})
        return x

    def _attributes(self) -> Iterator[tuple[str, Any]]:
        return ((str(i), layer) for i, layer in enumerate(self.layers))

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise TypeError(f"Sequential: index must be an int or a slice, got {index!r}")
        if not -len(self.layers) <= index < len(self.layers):
            raise IndexError(
                f"Sequential: index {index} is out of range for {len(self.layers)} layers"
            )
        return self.layers[index]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)


def _observed_call(module: Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``module.forward(*args, **kwargs)``, reported to the observers (``grad_mode.Observer``):
    ``enter_module`` before, ``exit_module`` after, with the result (None if it raised)."""
    observers = thread_mode.observers
    for observer in observers:
        observer.enter_module(module)
    out = None
    try:
        out = module._observed_forward(*args, **kwargs)
        return out
    finally:
        for observer in reversed(observers):
            observer.exit_module(module, out)
