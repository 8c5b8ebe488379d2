"""tl.jvp, tl.vjp, tl.jacfwd, tl.jacrev, tl.hessian and tl.linearize against torch.func,
on random graphs and on the structures torch.func returns (tuples of outputs, argnums,
has_aux). Skipped where PyTorch is not installed (``pip install torch==2.13.0``)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Tensor, testing

torch = pytest.importorskip("torch")
func = torch.func


def quiet(transform: Any) -> Any:
    """A torch.func transform whose calls warn about nothing: PyTorch 2.13 warns from its
    own internals (torch.jit, torch.fx), which pytest turns into errors."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = transform(*args, **kwargs)
        if callable(result):
            return quiet(result)
        if isinstance(result, tuple):
            return tuple(quiet(r) if callable(r) else r for r in result)
        return result

    return wrapped


SETTINGS = settings(
    max_examples=max(settings.default.max_examples // 2, 10),
    suppress_health_check=[HealthCheck.too_slow],
)

# The same function written twice, op for op: with tinygrad_lite's Tensors and with
# PyTorch's. Each takes the module of its framework's functions (exp, tanh, ...) as `m`.
FUNCTIONS = {
    "sigmoid(x*y) + tanh(x)": lambda m, x, y: m.sigmoid(x * y) + m.tanh(x),
    "exp(x) / (1 + y*y)": lambda m, x, y: m.exp(x) / (1 + y * y),
    "log(1 + x*x) * y ** 3": lambda m, x, y: m.log(1 + x * x) * y**3,
    "relu(x - y) + abs(x + 2)": lambda m, x, y: m.relu(x - y) + m.abs(x + 2),
    "sum(x @ y.T) + max(x) * y[0, 0]": lambda m, x, y: m.sum(x @ y.T) + m.amax(x) * y[0, 0],
    "mean(x, axis 0) * y[0]": lambda m, x, y: m.mean(x, 0) * y[0],
}


class Ours:
    sigmoid = staticmethod(lambda t: t.sigmoid())
    tanh = staticmethod(lambda t: t.tanh())
    exp = staticmethod(lambda t: t.exp())
    log = staticmethod(lambda t: t.log())
    relu = staticmethod(lambda t: t.relu())
    abs = staticmethod(lambda t: t.abs())
    amax = staticmethod(lambda t: t.max())
    sum = staticmethod(lambda t: t.sum())
    mean = staticmethod(lambda t, axis: t.mean(axis))


class Theirs:
    sigmoid = staticmethod(torch.sigmoid)
    tanh = staticmethod(torch.tanh)
    exp = staticmethod(torch.exp)
    log = staticmethod(torch.log)
    relu = staticmethod(torch.relu)
    abs = staticmethod(torch.abs)
    amax = staticmethod(torch.amax)
    sum = staticmethod(torch.sum)
    mean = staticmethod(lambda t, axis: torch.mean(t, axis))


def _ours(name: str) -> Any:
    return lambda x, y: FUNCTIONS[name](Ours, x, y)


def _theirs(name: str) -> Any:
    return lambda x, y: FUNCTIONS[name](Theirs, x, y)


def _torch(a: Any) -> Any:
    return torch.from_numpy(np.array(a.data if isinstance(a, Tensor) else a, dtype=np.float64))


def _close(ours: Any, theirs: Any) -> None:
    if isinstance(ours, (tuple, list)):
        assert isinstance(theirs, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _close(a, b)
        return
    expected = theirs.detach().numpy()
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-10, atol=1e-12)


@st.composite
def points(draw: Any) -> tuple[Tensor, Tensor]:
    """x and y of shape (2, 3), away from the kinks of relu and abs; x without ties."""
    x = draw(testing.tensors((2, 3), requires_grad=False, domain="nonzero", distinct=True))
    y = draw(testing.tensors((2, 3), requires_grad=False, domain="nonzero", distinct=True))
    return x, y


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@SETTINGS
@given(xy=points(), data=st.data())
def test_jvp_and_vjp_match_torch_func(name: str, xy: Any, data: st.DataObject) -> None:
    x, y = xy
    if "log" in name:
        x = Tensor(np.abs(x.data))
    v = data.draw(testing.tangents(x, y), label="v")
    out, jv = tl.jvp(_ours(name), (x, y), v)
    t_out, t_jv = quiet(func.jvp)(
        _theirs(name), (_torch(x), _torch(y)), tuple(_torch(t) for t in v)
    )
    _close((out, jv), (t_out, t_jv))
    (u,) = data.draw(testing.tangents(out), label="u")
    _, vjp_fn = tl.vjp(_ours(name), x, y)
    _, t_vjp_fn = quiet(func.vjp)(_theirs(name), _torch(x), _torch(y))
    _close(vjp_fn(u), t_vjp_fn(_torch(u)))
    _, jvp_fn = tl.linearize(_ours(name), x, y)
    _, t_jvp_fn = quiet(func.linearize)(_theirs(name), _torch(x), _torch(y))
    _close(jvp_fn(*v), t_jvp_fn(*[_torch(t) for t in v]))


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@SETTINGS
@given(xy=points())
def test_jacobians_and_hessians_match_torch_func(name: str, xy: Any) -> None:
    x, y = xy
    if "log" in name:
        x = Tensor(np.abs(x.data))
    tx, ty = _torch(x), _torch(y)
    for ours, theirs in ((tl.jacfwd, quiet(func.jacfwd)), (tl.jacrev, quiet(func.jacrev))):
        _close(ours(_ours(name), (0, 1))(x, y), theirs(_theirs(name), (0, 1))(tx, ty))
        _close(ours(_ours(name), 1)(x, y), theirs(_theirs(name), 1)(tx, ty))

    def scalar(m: Any) -> Any:
        return lambda x, y: FUNCTIONS[name](m, x, y).sum()

    _close(
        tl.hessian(scalar(Ours), (0, 1))(x, y), quiet(func.hessian)(scalar(Theirs), (0, 1))(tx, ty)
    )


def test_tuple_outputs_argnums_and_aux_have_torch_func_structure() -> None:
    x, y = Tensor([0.5, -1.0]), Tensor([2.0, 0.25])

    def ours(x: Tensor, y: Tensor) -> tuple[tuple[Tensor, Tensor], Tensor]:
        return ((x * y).exp(), (x * x).sum()), x + 1

    def theirs(x: Any, y: Any) -> Any:
        return (torch.exp(x * y), torch.sum(x * x)), x + 1

    tx, ty = _torch(x), _torch(y)
    for mine, reference in ((tl.jacfwd, quiet(func.jacfwd)), (tl.jacrev, quiet(func.jacrev))):
        jac, aux = mine(ours, argnums=(0, 1), has_aux=True)(x, y)
        t_jac, t_aux = reference(theirs, argnums=(0, 1), has_aux=True)(tx, ty)
        _close(jac, t_jac)
        _close(aux, t_aux)
    v = (Tensor([1.0, 2.0]), Tensor([0.0, -1.0]))
    out, jv, aux = tl.jvp(ours, (x, y), v, has_aux=True)
    t_out, t_jv, t_aux = quiet(func.jvp)(
        theirs, (tx, ty), tuple(_torch(t) for t in v), has_aux=True
    )
    _close((out, jv, aux), (t_out, t_jv, t_aux))
    out, vjp_fn, aux = tl.vjp(ours, x, y, has_aux=True)
    t_out, t_vjp_fn, _ = quiet(func.vjp)(theirs, tx, ty, has_aux=True)
    u = (Tensor([1.0, -1.0]), Tensor(3.0))
    _close(vjp_fn(u), t_vjp_fn(tuple(_torch(c) for c in u)))
