"""In-place safety: every change made through the API is counted, and a backward pass that
needs a value changed since the forward pass raises instead of using the new value.

PyTorch's rule: each tensor has a version counter, bumped by every in-place change; each op
remembers the versions of its inputs; the engine compares them before it runs the op's
backward rule. The tests below change things in every way the API allows, and check that the
gradient is either right or refused, never silently wrong.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor

CHANGED = "changed in place after the forward pass"


def _net() -> tuple[Tensor, Tensor, Tensor]:
    """x (data, no grad), w (a parameter) and a loss that saves both for its backward."""
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    w = Tensor([[0.5], [-1.0]], requires_grad=True)
    loss = (x @ w).sigmoid().sum()
    return x, w, loss


def _reference_grad() -> np.ndarray:
    x, w, loss = _net()
    loss.backward()
    assert w.grad is not None
    return w.grad.numpy()


# ----------------------------------------------------------------- every in-place method


IN_PLACE = {
    "add_": lambda t: t.add_(1.0),
    "sub_": lambda t: t.sub_(Tensor([[1.0, 1.0], [1.0, 1.0]])),
    "mul_": lambda t: t.mul_(np.array([2.0, 3.0])),
    "copy_": lambda t: t.copy_([[0.0, 0.0], [0.0, 0.0]]),
    "zero_": lambda t: t.zero_(),
    "__setitem__": lambda t: t.__setitem__((0, 1), 7.0),
    "__setitem__ slice": lambda t: t.__setitem__(slice(None), Tensor([5.0, 6.0])),
}


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_every_in_place_method_bumps_the_version(change) -> None:
    t = Tensor([[1.0, 2.0], [3.0, 4.0]])
    before = t._version
    change(t)
    assert t._version > before


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_changing_the_data_after_the_forward_pass_is_refused(change) -> None:
    x, w, loss = _net()
    change(x)
    with pytest.raises(RuntimeError, match=f"matmul: .*{CHANGED}"):
        loss.backward()
    assert w.grad is None  # nothing half-accumulated


@pytest.mark.parametrize("change", IN_PLACE.values(), ids=IN_PLACE.keys())
def test_changing_a_leaf_under_no_grad_after_the_forward_pass_is_refused(change) -> None:
    x, w, loss = _net()
    w2 = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    loss2 = (x * w2).sum() * w2.sum()
    with tl.no_grad():
        change(w2)
    with pytest.raises(RuntimeError, match=CHANGED):
        loss2.backward()


def test_a_failed_in_place_change_does_not_bump_the_version() -> None:
    t = Tensor([1.0, 2.0])
    with pytest.raises(ValueError):
        t.add_([1.0, 2.0, 3.0])
    with pytest.raises(IndexError):
        t[5] = 1.0
    assert t._version == 0


def test_the_error_names_the_op_that_needs_the_value() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    y = (x * c).sum()
    c.add_(1.0)
    with pytest.raises(RuntimeError, match=r"^mul: an input of shape \(2,\) was changed in place"):
        y.backward()


# ------------------------------------------------------------------ retain_graph, repeats


def test_change_between_two_retained_backward_passes_is_refused() -> None:
    x, w, loss = _net()
    loss.backward(retain_graph=True)
    first = w.grad.numpy()
    with tl.no_grad():
        w.sub_(0.1 * w.grad)  # what an optimizer step does
    with pytest.raises(RuntimeError, match=CHANGED):
        loss.backward()
    # The refused pass added nothing to .grad.
    np.testing.assert_array_equal(w.grad.numpy(), first)


def test_two_retained_backward_passes_without_a_change_accumulate() -> None:
    x, w, loss = _net()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), 2 * _reference_grad())


def test_a_fresh_forward_pass_after_the_change_is_accepted() -> None:
    x, w, loss = _net()
    x.mul_(2.0)
    loss = (x @ w).sigmoid().sum()
    loss.backward()
    s = 1 / (1 + np.exp(-(x.data @ w.data)))
    np.testing.assert_allclose(w.grad.numpy(), x.data.T @ (s * (1 - s)))


def test_in_place_is_refused_on_a_tensor_inside_the_graph() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 2
    for change in (lambda: h.add_(1.0), lambda: h.zero_(), lambda: h.__setitem__(0, 1.0)):
        with pytest.raises(RuntimeError, match="computed by mul"):
            change()
    # Under no_grad too: h still belongs to the graph.
    with tl.no_grad(), pytest.raises(RuntimeError, match="computed by mul"):
        h.mul_(2.0)


def test_in_place_is_refused_on_a_leaf_that_requires_grad_while_recording() -> None:
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="no_grad"):
        w.sub_(1.0)
    assert w._version == 0


# ---------------------------------------------------------------------- copies stay apart


def test_a_detached_tensor_is_a_copy() -> None:
    x, w, loss = _net()
    d = w.detach()
    with tl.no_grad():
        d.mul_(100.0)
    assert w._version == 0
    loss.backward()  # accepted: w itself never changed
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())


def test_tensor_of_a_tensor_is_a_copy() -> None:
    x, w, loss = _net()
    x_copy = Tensor(x)
    x_copy.add_(100.0)
    w_copy = Tensor(w, requires_grad=False)
    w_copy.zero_()
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())


def test_numpy_returns_a_copy() -> None:
    x, w, loss = _net()
    x.numpy()[...] = 0.0
    w.numpy()[...] = 0.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())


def test_an_array_given_to_the_constructor_is_copied() -> None:
    data = np.array([[1.0, 2.0], [3.0, 4.0]])
    x = Tensor(data)
    w = Tensor([[0.5], [-1.0]], requires_grad=True)
    loss = (x @ w).sigmoid().sum()
    data[...] = 0.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())


def test_an_array_operand_is_copied() -> None:
    w = Tensor([[0.5], [-1.0]], requires_grad=True)
    data = np.array([[1.0, 2.0], [3.0, 4.0]])
    loss = (data @ w).sigmoid().sum()  # numpy defers to Tensor.__rmatmul__
    data[...] = 0.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())


def test_np_array_of_a_tensor_is_a_copy() -> None:
    # A snapshot of the weights, updated by hand (as when comparing with hand-written
    # backprop), must not change the weights behind the version counter.
    x, w, loss = _net()
    snapshot = np.array(w.detach())  # (np.array(w) itself is refused: w requires grad)
    snapshot -= 1.0
    snapshot = w.numpy()
    snapshot -= 1.0
    assert np.array(x, dtype=np.float32).dtype == np.float32
    np.array(x, dtype=np.float32)[...] = 0.0
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())
    np.testing.assert_array_equal(w.data, [[0.5], [-1.0]])


VIEWS = {
    "reshape": lambda t: t.reshape(4, 1),
    "reshape -1": lambda t: t.reshape(-1),
    "transpose": lambda t: t.transpose(),
    "permute": lambda t: t.permute(1, 0),
    "T": lambda t: t.T,
    "mT": lambda t: t.mT,
    "index": lambda t: t[0],
    "slice": lambda t: t[:, ::-1],
    "expand": lambda t: t.expand(3, 2, 2),
}


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_shape_ops_outside_a_graph_never_share_memory_with_their_input(view) -> None:
    # numpy would return views; a leaf holding a view of another's data could change it (or
    # be changed by it) without either version counter seeing the change.
    x = Tensor([[1.0, 2.0], [3.0, 4.0]])
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    assert not np.shares_memory(view(x).data, x.data)
    with tl.no_grad():
        assert not np.shares_memory(view(w).data, w.data)


@pytest.mark.parametrize("view", VIEWS.values(), ids=VIEWS.keys())
def test_a_view_inside_the_graph_whose_input_changed_is_refused(view) -> None:
    # Inside a recorded graph the movement ops may return numpy's views (for speed). A rule
    # that saved the view then sees the input's new values, and runs before the movement
    # op's node: the backward pass must still refuse, not hand out what that rule computed.
    w = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = Tensor([[1.0, 1.0], [1.0, 1.0]], requires_grad=True)
    v = view(w)
    loss = (v * v).sum() + (x * v.sum()).sum()
    with tl.no_grad():
        w.mul_(10.0)
    with pytest.raises(RuntimeError, match=CHANGED):
        loss.backward()
    assert w.grad is None and x.grad is None
    with pytest.raises(RuntimeError, match=CHANGED):
        tl.grad(lambda x: (x * v.sum()).sum() + (v * v).sum())(x)


def test_changing_the_data_after_transposing_it_gives_the_right_gradient() -> None:
    x, w, _ = _net()
    loss = (x.T.T @ w).sigmoid().sum()  # x.T is a leaf: x needs no gradient
    x.mul_(10.0)
    loss.backward()  # uses the values x had when x.T was taken
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())


def test_changing_a_reshaped_leaf_under_no_grad_leaves_the_parameter_alone() -> None:
    x, w, loss = _net()
    with tl.no_grad():
        v = w.reshape(1, 2)
        v.add_(100.0)  # changes v, a tensor of its own
    loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), _reference_grad())
    np.testing.assert_array_equal(w.data, [[0.5], [-1.0]])


def test_an_index_array_changed_after_the_forward_pass_does_not_move_the_gradient() -> None:
    w = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    index = np.array([0, 0])
    mask = np.array([False, True, False])
    y = w[index].sum() + w[mask].sum()
    index[:] = 2
    mask[:] = True
    y.backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 1.0, 0.0])


def test_gradients_handed_out_never_share_memory() -> None:
    # add's rule hands the same gradient to both inputs; scaling one gradient in place
    # (gradient clipping does) must not scale the other.
    def f(a: Tensor, b: Tensor) -> Tensor:
        return (a + b).sum()

    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    f(a, b).backward()
    a.grad.mul_(5.0)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])

    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(Tensor([1.0, 1.0]), create_graph=True)
    a.grad.mul_(5.0)
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])

    da, db = tl.grad(f, argnums=(0, 1))(Tensor([1.0, 2.0]), Tensor([3.0, 4.0]))
    da.mul_(5.0)
    np.testing.assert_array_equal(db.numpy(), [1.0, 1.0])

    def nested(a: Tensor, b: Tensor) -> Tensor:
        da, db = tl.grad(f, argnums=(0, 1))(a, b)
        da.mul_(5.0)
        return (db * a).sum()

    a = Tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_array_equal(tl.grad(nested)(a, Tensor([3.0, 4.0])).numpy(), [1.0, 1.0])


# ---------------------------------------------------------------------------- optimizers

OPTIMIZERS = {
    "SGD": lambda params: tl.optim.SGD(params, lr=0.1),
    "SGD momentum": lambda params: tl.optim.SGD(params, lr=0.1, momentum=0.9),
    "Adam": lambda params: tl.optim.Adam(params, lr=0.1),
}


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_backward_after_an_optimizer_step_through_the_old_graph_is_refused(make) -> None:
    x, w, loss = _net()
    b = Tensor([0.5], requires_grad=True)
    loss = loss + (b * b).sum()
    opt = make([w, b])
    loss.backward(retain_graph=True)
    first = w.grad.numpy()
    opt.step()
    assert w._version > 0 and b._version > 0
    with pytest.raises(RuntimeError, match=CHANGED):
        loss.backward()
    np.testing.assert_array_equal(w.grad.numpy(), first)  # the refused pass added nothing


@pytest.mark.parametrize("make", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_an_optimizer_step_then_a_fresh_forward_pass_is_accepted(make) -> None:
    x, w, loss = _net()
    opt = make([w])
    loss.backward()
    opt.step()
    opt.zero_grad()
    loss = (x @ w).sigmoid().sum()
    loss.backward()
    s = 1 / (1 + np.exp(-(x.data @ w.data)))
    np.testing.assert_allclose(w.grad.numpy(), x.data.T @ (s * (1 - s)))


def test_load_state_dict_counts_as_an_in_place_change() -> None:
    model = tl.nn.Linear(2, 1)
    x = Tensor([[1.0, 2.0]])
    loss = model(x).sum() * model.weight.sum()
    model.load_state_dict({k: v + 1.0 for k, v in model.state_dict().items()})
    with pytest.raises(RuntimeError, match=CHANGED):
        loss.backward()
