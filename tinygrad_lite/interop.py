"""Moving a model to PyTorch and back: the same layers, the same weights, the same numbers.

    module = interop.to_torch(model)        # torch.nn.Sequential of torch.nn layers
    model = interop.from_torch(module)      # and back, as tinygrad_lite layers
    state = interop.to_torch_state_dict(model)            # names and layouts as PyTorch's
    ours = interop.from_torch_state_dict(state, model)    # and back, for load_state_dict

PyTorch is optional (``pip install "tinygrad-lite[torch]"``); it is imported on the first
call, and without it each function says so in one line. A model moves when it is one of
the layers in ``COUNTERPARTS`` or a ``Sequential`` of them, nested as deep as it likes,
or of a class of its own that says how it moves (below); anything else (a
Module with a ``forward`` of its own, a layer with no twin, a setting the twin lacks) is
an error naming it, never a different network. A state dict has no ``forward`` to
translate: the state dict functions take a model of any class, as long as its parameters
are all in layers of ``COUNTERPARTS``.

A class of its own moves when it holds the way over itself: a method ``__to_torch__(self,
dtype)`` that returns its twin, a ``torch.nn.Module`` whose ``forward`` computes the same
and whose attributes have the same names (so that state dicts fit both), usually built
with ``to_torch`` on each of its layers; and, on the twin's class, ``__from_torch__(self,
dtype)`` for the way back. ``dtype`` is numpy's float32 or float64, or None (each layer's
own). A protocol like numpy's ``__array__``: nothing is registered.

The differences of layout are the matrices of ``Linear`` and ``RNNCell``: (in, out) here,
their transposes in PyTorch. The one difference of rule is max pooling's gradient at a tie
(docs/design.md). The guide is docs/pytorch.md.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from tinygrad_lite.nn import (
    AvgPool2d,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Linear,
    LogSoftmax,
    MaxPool2d,
    Module,
    ReLU,
    RNNCell,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinygrad_lite.tensor import Tensor

__all__ = [
    "COUNTERPARTS",
    "Counterpart",
    "from_torch",
    "from_torch_state_dict",
    "to_torch",
    "to_torch_state_dict",
]

INSTALL = 'pip install "tinygrad-lite[torch]"'
TO_TORCH = "__to_torch__"  # the method of a class of ours that builds its PyTorch twin
FROM_TORCH = "__from_torch__"  # and the method of the twin's class that builds ours back


@dataclass(frozen=True)
class Counterpart:
    """A layer of ours and its twin in ``torch.nn``: what it takes to build one from the other.

    ``settings(layer)``: the keyword arguments of PyTorch's class for our ``layer``.
    ``build(module, parameters)``: our layer for PyTorch's ``module``, given its parameters
    already in our layout; a ValueError for a setting of ``module`` that ours lacks.
    ``transposed``: the parameters we store as the transpose of PyTorch's layout.
    """

    ours: type[Module]
    theirs: str  # the class's name in torch.nn
    settings: Callable[[Any], dict[str, Any]]
    build: Callable[[Any, dict[str, np.ndarray]], Module]
    transposed: tuple[str, ...] = ()


def _no_settings(layer: Any) -> dict[str, Any]:
    return {}


def _pooling(layer: Any) -> dict[str, Any]:
    return {"kernel_size": layer.kernel_size, "stride": layer.stride}


def _conv2d(module: Any, p: dict[str, np.ndarray]) -> Module:
    _only(module, dilation=(1, 1), groups=1, padding_mode="zeros")
    if isinstance(module.padding, str):
        raise ValueError(
            f"Conv2d(padding={module.padding!r}) has no counterpart here: padding is numbers"
        )
    layer = Conv2d(
        module.in_channels,
        module.out_channels,
        module.kernel_size,
        module.stride,
        module.padding,
        bias="bias" in p,
        rng=np.random.default_rng(0),  # replaced at once by the module's values
    )
    return _holding(layer, p)


def _max_pool2d(module: Any, p: dict[str, np.ndarray]) -> Module:
    _only(module, padding=(0, 0), dilation=(1, 1), ceil_mode=False, return_indices=False)
    return MaxPool2d(module.kernel_size, module.stride)


def _avg_pool2d(module: Any, p: dict[str, np.ndarray]) -> Module:
    # count_include_pad counts padding, and there is none
    _only(module, padding=(0, 0), ceil_mode=False, divisor_override=None)
    return AvgPool2d(module.kernel_size, module.stride)


def _embedding(module: Any, p: dict[str, np.ndarray]) -> Module:
    # norm_type only matters with a max_norm
    _only(module, padding_idx=None, max_norm=None, scale_grad_by_freq=False, sparse=False)
    return Embedding.from_pretrained(p["weight"], freeze=False)


def _rnn_cell(module: Any, p: dict[str, np.ndarray]) -> Module:
    return RNNCell.from_weights(
        p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh"), module.nonlinearity
    )


def _softmax(ours: type[Softmax] | type[LogSoftmax]) -> Callable[[Any, Any], Module]:
    def build(module: Any, p: dict[str, np.ndarray]) -> Module:
        if module.dim is None:
            raise ValueError(
                f"{type(module).__name__}(dim=None) has no counterpart here (PyTorch guesses "
                f"the dim from the input's rank): give dim"
            )
        return ours(module.dim)

    return build


COUNTERPARTS = (
    Counterpart(
        Linear,
        "Linear",
        settings=lambda layer: {
            "in_features": layer.in_features,
            "out_features": layer.out_features,
            "bias": layer.bias is not None,
        },
        build=lambda module, p: Linear.from_weights(p["weight"], p.get("bias")),
        transposed=("weight",),
    ),
    Counterpart(Sigmoid, "Sigmoid", _no_settings, lambda module, p: Sigmoid()),
    Counterpart(ReLU, "ReLU", _no_settings, lambda module, p: ReLU()),
    Counterpart(Tanh, "Tanh", _no_settings, lambda module, p: Tanh()),
    Counterpart(
        Conv2d,
        "Conv2d",
        settings=lambda layer: {
            "in_channels": layer.in_channels,
            "out_channels": layer.out_channels,
            "kernel_size": layer.kernel_size,
            "stride": layer.stride,
            "padding": layer.padding,
            "bias": layer.bias is not None,
        },
        build=_conv2d,
    ),
    Counterpart(MaxPool2d, "MaxPool2d", _pooling, _max_pool2d),
    Counterpart(AvgPool2d, "AvgPool2d", _pooling, _avg_pool2d),
    Counterpart(
        Flatten,
        "Flatten",
        settings=lambda layer: {"start_dim": layer.start_dim, "end_dim": layer.end_dim},
        build=lambda module, p: Flatten(module.start_dim, module.end_dim),
    ),
    # The same p; the zeroed elements are each library's own draw.
    Counterpart(Dropout, "Dropout", lambda layer: {"p": layer.p}, lambda m, p: Dropout(m.p)),
    Counterpart(Softmax, "Softmax", lambda layer: {"dim": layer.axis}, _softmax(Softmax)),
    Counterpart(LogSoftmax, "LogSoftmax", lambda layer: {"dim": layer.axis}, _softmax(LogSoftmax)),
    Counterpart(
        Embedding,
        "Embedding",
        settings=lambda layer: {
            "num_embeddings": layer.num_embeddings,
            "embedding_dim": layer.embedding_dim,
        },
        build=_embedding,  # a lookup table in PyTorch's layout already
    ),
    Counterpart(
        RNNCell,
        "RNNCell",
        settings=lambda layer: {
            "input_size": layer.input_size,
            "hidden_size": layer.hidden_size,
            "bias": layer.bias_ih is not None,
            "nonlinearity": layer.nonlinearity,
        },
        build=_rnn_cell,
        transposed=("weight_ih", "weight_hh"),  # (in, out) here, as Linear's weight
    ),
)
_BY_OURS = {c.ours: c for c in COUNTERPARTS}


# ------------------------------------------------------------------------ to PyTorch


def to_torch(model: Module, dtype: Any = None) -> Any:
    """The same network as PyTorch modules (``torch.nn.Sequential``, ``torch.nn.Linear``,
    ...), holding copies of the same weights in PyTorch's layout.

    ``dtype``: ``None`` keeps each layer's own (float64 unless it was made float32), or
    float32 / float64 (a name, a numpy or a torch dtype) for every layer. A layer that
    appears twice stays one shared module; ``training`` and each parameter's
    ``requires_grad`` carry over. Nothing draws from PyTorch's random generator.
    """
    torch = _torch("to_torch")
    target = _float_dtype("to_torch", dtype, torch)
    built: dict[int, Any] = {}
    # Children come after their parent in the walk: in reverse, each is built before it.
    for _, module in reversed(_walk(model, "to_torch")):
        if id(module) in built:
            continue
        if type(module) is Sequential:
            theirs = torch.nn.Sequential(*(built[id(layer)] for layer in module.layers))
        elif type(module) in _BY_OURS:
            theirs = _layer_to_torch(torch, module, target)
        else:  # a class that moves itself (_walk let nothing else through)
            theirs = getattr(module, TO_TORCH)(target)
            _check_twin("to_torch", module, theirs, torch.nn.Module, "a torch.nn.Module")
        theirs.training = module.training  # train() would also set the children's
        built[id(module)] = theirs
    return built[id(model)]


def _layer_to_torch(torch: Any, layer: Module, dtype: np.dtype | None) -> Any:
    counterpart = _BY_OURS[type(layer)]
    cls = getattr(torch.nn, counterpart.theirs)
    parameters = layer.named_parameters()
    if not parameters:
        return cls(**counterpart.settings(layer))
    own = _torch_dtype(torch, parameters[0][1].data.dtype if dtype is None else dtype)
    # skip_init: the module without its random init (PyTorch's generator is left alone).
    module = torch.nn.utils.skip_init(cls, **counterpart.settings(layer), dtype=own)
    state = {name: torch.from_numpy(_theirs(counterpart, name, p.data)) for name, p in parameters}
    module.load_state_dict(state)  # strict, and cast to the module's dtype
    for name, p in parameters:
        module.get_parameter(name).requires_grad_(p.requires_grad)
    return module


def to_torch_state_dict(
    state: Module | Mapping[str, Any], model: Module | None = None, dtype: Any = None
) -> dict[str, Any]:
    """A state dict in PyTorch's names and layouts, which ``to_torch(model)`` loads with
    ``load_state_dict`` (and ``torch.save``/``torch.load(weights_only=True)`` carry).

    ``state``: the model itself, or a state dict of ours (``model.state_dict()``,
    ``tl.load(path)``) with ``model=`` the network it belongs to, which says each
    parameter's layout. Names and shapes are checked against ``model``. A layer that
    appears twice is there under both names, as in PyTorch. ``dtype`` as in ``to_torch``.

    ``model`` may be of a class of its own, with a ``forward`` that ``to_torch`` cannot
    translate: the state dict fits the same class written in PyTorch, with the same
    attribute names, as long as every parameter is in a layer of ``COUNTERPARTS``.
    """
    torch = _torch("to_torch_state_dict")
    target = _float_dtype("to_torch_state_dict", dtype, torch)
    if isinstance(state, Module):
        if model is not None:
            raise TypeError(
                "to_torch_state_dict: give a model, or a state dict and model=, not both models"
            )
        model, state = state, state.state_dict()
    elif not isinstance(state, Mapping):
        raise TypeError(
            f"to_torch_state_dict: state must be a Module or a state dict (name -> array), "
            f"got {type(state).__name__}"
        )
    elif not isinstance(model, Module):
        raise TypeError(
            f"to_torch_state_dict: a state dict needs model=, the Module it belongs to (its "
            f"layers say each parameter's layout), got {type(model).__name__}"
        )
    arrays = _our_arrays(state, model)
    names = {id(p): name for name, p in model.named_parameters()}
    result = {}
    for where, layer, counterpart in _layers(model, "to_torch_state_dict"):
        for local, p in layer.named_parameters():
            array = _theirs(counterpart, local, arrays[names[id(p)]])
            result[_join(where, local)] = torch.from_numpy(
                array if target is None else array.astype(target)
            )
    return result


def _our_arrays(state: Mapping[str, Any], model: Module) -> dict[str, np.ndarray]:
    """``state``'s arrays, checked to be exactly ``model``'s names with its shapes."""
    own = dict(model.named_parameters())
    _check_names("to_torch_state_dict", list(state), list(own))
    arrays = {}
    for name, p in own.items():
        value = state[name]
        array = value.data if isinstance(value, Tensor) else value
        if not isinstance(array, np.ndarray) or array.dtype.kind not in "biuf":
            raise TypeError(
                f"to_torch_state_dict: '{name}' is {type(value).__name__}; accepted: a numeric "
                f"numpy array or a Tensor"
            )
        if array.shape != p.data.shape:
            raise ValueError(
                f"to_torch_state_dict: '{name}' has shape {array.shape} in the state dict but "
                f"{p.data.shape} in the model (a state dict in PyTorch's layout goes through "
                f"from_torch_state_dict)"
            )
        # as a Tensor takes them: ints and bools as float64
        arrays[name] = array if array.dtype.kind == "f" else array.astype(np.float64)
    return arrays


# ---------------------------------------------------------------------- from PyTorch


def from_torch(module: Any, dtype: Any = None) -> Module:
    """The same network as tinygrad_lite layers, holding copies of ``module``'s weights.

    ``module``: a ``torch.nn.Sequential`` (nested as deep as it likes; children named or
    numbered, named by position here) of the layers in ``COUNTERPARTS``, or one such
    layer; a module whose class has a ``__from_torch__`` method builds itself. ``dtype``:
    ``None`` keeps float32 and float64 (and reads half precision as float32, which holds
    it exactly), or float32 / float64 for every layer.
    ``training`` and each parameter's ``requires_grad`` carry over.
    """
    torch = _torch("from_torch")
    target = _float_dtype("from_torch", dtype, torch)
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    by_theirs = {getattr(torch.nn, c.theirs): c for c in COUNTERPARTS}
    modules: list[tuple[str, Any]] = []  # what is built here, parents first
    whole: list[str] = []  # the places of modules that build themselves, children and all
    for where, theirs in module.named_modules():  # parents first, each module once
        if any(_within(where, place) for place in whole):
            continue
        if _moves_itself(theirs, FROM_TORCH):
            whole.append(where)
        elif type(theirs) is not torch.nn.Sequential and type(theirs) not in by_theirs:
            raise TypeError(_no_counterpart("from_torch", where, _torch_name(torch, theirs)))
        modules.append((where, theirs))
    built: dict[int, Module] = {}
    for where, theirs in reversed(modules):
        if type(theirs) is torch.nn.Sequential:
            if any(id(child) not in built for child in theirs):
                raise ValueError(f"from_torch: {_place(where)} holds itself")
            ours: Module = Sequential(*(built[id(child)] for child in theirs))
        elif type(theirs) in by_theirs:
            ours = _layer_from_torch(torch, by_theirs[type(theirs)], where, theirs, target)
        else:
            ours = getattr(theirs, FROM_TORCH)(target)
            _check_twin("from_torch", theirs, ours, Module, "a tinygrad_lite nn.Module")
        ours.training = theirs.training
        built[id(theirs)] = ours
    return built[id(module)]


def _layer_from_torch(
    torch: Any, counterpart: Counterpart, where: str, module: Any, dtype: np.dtype | None
) -> Module:
    theirs = dict(module.named_parameters(recurse=False))
    parameters = {
        name: _ours(counterpart, name, _numpy(torch, p, dtype)) for name, p in theirs.items()
    }
    try:
        layer = counterpart.build(module, parameters)
    except ValueError as error:
        raise ValueError(f"from_torch: {_place(where)}: {error}") from None
    for name, p in layer.named_parameters():
        p.requires_grad = bool(theirs[name].requires_grad)
    return layer


def from_torch_state_dict(state: Mapping[str, Any], model: Module) -> dict[str, np.ndarray]:
    """A state dict of ours made from PyTorch's (``module.state_dict()``,
    ``torch.load(path, weights_only=True)``) for ``model``: ``model.load_state_dict`` takes it.

    The names must be exactly those of ``to_torch(model).state_dict()`` (for a model of a
    class of its own, of the same class written in PyTorch: see ``to_torch_state_dict``),
    and each shape PyTorch's for that parameter; a layer that appears twice must hold the
    same values under both names. float32 and float64 keep their dtype, half precision
    becomes float32.
    """
    torch = _torch("from_torch_state_dict")
    if not isinstance(state, Mapping):
        raise TypeError(
            f"from_torch_state_dict: state must be a state dict (name -> tensor), got "
            f"{type(state).__name__}"
        )
    if not isinstance(model, Module):
        raise TypeError(
            f"from_torch_state_dict: model must be the tinygrad_lite Module the state dict "
            f"is for, got {type(model).__name__}"
        )
    names = {id(p): name for name, p in model.named_parameters()}
    expected = [
        (_join(where, local), counterpart, local, p)
        for where, layer, counterpart in _layers(model, "from_torch_state_dict")
        for local, p in layer.named_parameters()
    ]
    _check_names("from_torch_state_dict", list(state), [key for key, *_ in expected])
    result: dict[str, np.ndarray] = {}
    for key, counterpart, local, p in expected:
        value = state[key]
        if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
            array = _numpy(torch, value, None)
        elif isinstance(value, np.ndarray) and value.dtype.kind == "f":
            array = value if value.itemsize >= 4 else value.astype(np.float32)
        else:
            what = f"of dtype {value.dtype}" if hasattr(value, "dtype") else "not a tensor"
            raise TypeError(
                f"from_torch_state_dict: '{key}' is {type(value).__name__} {what}; accepted: "
                f"a floating-point torch.Tensor or numpy array"
            )
        shape = _theirs(counterpart, local, p.data).shape
        if array.shape != shape:
            raise ValueError(
                f"from_torch_state_dict: '{key}' has shape {array.shape} in the state "
                f"dict but {shape} in PyTorch's layout of this model ({p.data.shape} here)"
            )
        array = _ours(counterpart, local, array)
        name = names[id(p)]
        if name in result and not np.array_equal(result[name], array):
            raise ValueError(
                f"from_torch_state_dict: '{key}' and '{name}' are one parameter of the model "
                f"(the layer appears twice) but differ in the state dict"
            )
        result.setdefault(name, array)
    return {name: result[name] for name in names.values()}


# -------------------------------------------------------------------------- helpers


def _torch(caller: str) -> ModuleType:
    """PyTorch, imported on first use, or a one-line error saying how to install it."""
    try:
        return importlib.import_module("torch")
    except ModuleNotFoundError as error:
        if error.name != "torch":
            raise  # PyTorch is there but broken: its own error says more
        raise ModuleNotFoundError(
            f"{caller} needs PyTorch, which is not installed: {INSTALL}", name="torch"
        ) from None


def _walk(model: Any, caller: str, strict: bool = True) -> list[tuple[str, Module]]:
    """(dotted name, module) for ``model`` and every module in it, each parent before its
    children; a module at two places comes twice, as in PyTorch's state dicts.

    ``strict`` (what ``to_torch`` can build): every module is a ``Sequential``, a layer
    of the table or of a class that moves itself, else a TypeError naming it. Otherwise
    (a state dict, which has no ``forward`` to translate) a Module of any class may hold
    such layers, in attributes, lists and tuples, named as ``named_parameters`` names
    them; but a parameter outside the layers of the table is a TypeError naming it, since
    only its layer could say its layout. An explicit stack, so nesting of any depth is
    fine; ``path`` holds the ids on the current branch, so a module that holds itself is
    found rather than walked forever.
    """
    if not isinstance(model, Module):
        raise TypeError(f"{caller}: expected a tinygrad_lite nn.Module, got {type(model).__name__}")
    found: list[tuple[str, Module]] = []
    path: list[int] = []
    stack: list[tuple[str, Any, int]] = [("", model, 0)]
    while stack:
        where, value, depth = stack.pop()
        del path[depth:]
        if id(value) in path:
            raise ValueError(f"{caller}: {_place(where)} holds itself")
        path.append(id(value))
        if isinstance(value, Tensor):
            raise TypeError(
                f"{caller}: parameter '{where}' is not in a layer that has a counterpart, so "
                f"its layout there is unknown; what moves: {_movable()}"
            )
        if type(value) in _BY_OURS or (strict and _moves_itself(value, TO_TORCH)):
            found.append((where, value))  # its parameters are its own (or its twin's) to move
            continue
        children: list[tuple[Any, Any]]
        if isinstance(value, (list, tuple)):
            children = list(enumerate(value))
        elif type(value) is Sequential or (not strict and isinstance(value, Module)):
            found.append((where, value))
            children = list(value._attributes())  # what named_parameters walks
        else:
            raise TypeError(_no_counterpart(caller, where, type(value).__name__))
        stack.extend(
            (_join(where, str(name)), child, depth + 1)
            for name, child in reversed(children)
            if isinstance(child, (Tensor, Module, list, tuple))
        )
    return found


def _layers(model: Module, caller: str) -> list[tuple[str, Module, Counterpart]]:
    """(dotted name, layer, its counterpart) for every layer of the table in ``model``, a
    Module of any class (``_walk`` with ``strict=False``)."""
    return [
        (where, module, _BY_OURS[type(module)])
        for where, module in _walk(model, caller, strict=False)
        if type(module) in _BY_OURS
    ]


def _movable() -> str:
    return f"{', '.join(sorted(c.theirs for c in COUNTERPARTS))} and Sequentials of them"


def _no_counterpart(caller: str, where: str, name: str) -> str:
    hook = TO_TORCH if caller == "to_torch" else FROM_TORCH
    return (
        f"{caller}: {_place(where)} is {name}, which has no counterpart (a Module with a "
        f"forward of its own, or a layer the other side lacks); what moves: {_movable()}, "
        f"and a class that has a {hook} method"
    )


def _moves_itself(module: Any, hook: str) -> bool:
    """Whether ``module``'s class holds the way over (``TO_TORCH`` or ``FROM_TORCH``)."""
    return callable(getattr(type(module), hook, None))


def _check_twin(caller: str, module: Any, twin: Any, cls: type, what: str) -> None:
    if not isinstance(twin, cls):
        hook = TO_TORCH if caller == "to_torch" else FROM_TORCH
        raise TypeError(
            f"{caller}: {type(module).__qualname__}.{hook} returned {type(twin).__name__}; "
            f"accepted: {what}"
        )


def _within(where: str, place: str) -> bool:
    """Whether the module at ``where`` is inside the one at ``place`` (dotted names)."""
    return place == "" or where.startswith(place + ".")


def _only(module: Any, **accepted: Any) -> None:
    """A ValueError for a setting of PyTorch's ``module`` other than the one value ours has
    (an int setting is read as the pair PyTorch would make of it)."""
    for name, value in accepted.items():
        given = getattr(module, name)
        if isinstance(value, tuple) and isinstance(given, int):
            given = (given,) * len(value)
        if given != value:
            raise ValueError(
                f"{type(module).__name__}({name}={getattr(module, name)!r}) has no counterpart "
                f"here, whose {type(module).__name__} has {name}={value!r} only"
            )


def _holding(layer: Module, parameters: dict[str, np.ndarray]) -> Module:
    """``layer`` with its parameters replaced by ``parameters`` (their dtype kept), each of
    the shape it had."""
    for name, p in layer.named_parameters():
        value = Tensor(parameters[name], requires_grad=True)
        assert value.shape == p.shape, (name, value.shape, p.shape)
        setattr(layer, name, value)
    return layer


def _place(where: str) -> str:
    return f"layer '{where}'" if where else "the model"


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _torch_name(torch: Any, module: Any) -> str:
    """``torch.nn.LeakyReLU`` for PyTorch's own layers, ``mymodule.Net`` for others."""
    cls = type(module)
    if getattr(torch.nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _theirs(counterpart: Counterpart, name: str, array: np.ndarray) -> np.ndarray:
    """Our array of parameter ``name`` in PyTorch's layout, as a new contiguous array."""
    return np.ascontiguousarray(array.T if name in counterpart.transposed else array).copy()


def _ours(counterpart: Counterpart, name: str, array: np.ndarray) -> np.ndarray:
    """PyTorch's array of parameter ``name`` in our layout (the transpose is its own inverse)."""
    return _theirs(counterpart, name, array)


def _numpy(torch: Any, tensor: Any, dtype: np.dtype | None) -> np.ndarray:
    """A numpy copy of a torch tensor: float32 and float64 kept (or ``dtype``), half
    precision widened to float32."""
    tensor = tensor.detach().cpu()
    if tensor.dtype not in (torch.float32, torch.float64):
        tensor = tensor.float()
    array: np.ndarray = tensor.numpy().copy()
    return array if dtype is None else array.astype(dtype)


def _float_dtype(caller: str, dtype: Any, torch: Any) -> np.dtype | None:
    """``dtype`` (None, a name, a numpy or torch dtype) as numpy's float32 or float64."""
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        dtype = str(dtype).removeprefix("torch.")
    try:
        found = np.dtype(dtype)
    except (TypeError, ValueError):
        found = None
    if found not in (np.float32, np.float64):
        raise TypeError(f"{caller}: dtype must be float32, float64 or None, got {dtype!r}")
    return found


def _torch_dtype(torch: Any, dtype: np.dtype) -> Any:
    return torch.float32 if dtype == np.float32 else torch.float64


def _check_names(caller: str, given: list[Any], expected: list[str]) -> None:
    missing = [name for name in expected if name not in given]
    unexpected = [str(name) for name in given if name not in expected]
    if missing or unexpected:
        raise ValueError(
            f"{caller}: the state dict does not fit the model: missing "
            f"{missing or 'nothing'}, unexpected {unexpected or 'nothing'}; the model's are "
            f"{expected}"
        )
