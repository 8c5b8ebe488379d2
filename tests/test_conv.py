"""Convolution, pooling, dropout and the new layers: values against loops written from the
definitions and against PyTorch, Im2col and Col2im as each other's adjoint, the checker
failing a wrong col2im, PyTorch's init and repr, and every bad argument a clear error.
(Finite differences, first and second order: tests/test_properties.py.)"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_lite as tl
from tinygrad_lite import Tensor, nn, optim
from tinygrad_lite.function import Function
from tinygrad_lite.ops import Col2im, Im2col, MaxPool

RNG = np.random.default_rng(0)


def conv_by_loops(x: np.ndarray, w: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """The definition, a pixel at a time."""
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    n, _, h, wd = xp.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, :, i * stride : i * stride + kh, j * stride : j * stride + kw]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out


def pool_by_loops(x: np.ndarray, k: int, stride: int, reduce: Any) -> np.ndarray:
    n, c, h, w = x.shape
    oh, ow = (h - k) // stride + 1, (w - k) // stride + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            window = x[:, :, i * stride : i * stride + k, j * stride : j * stride + k]
            out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


# ---------------------------------------------------------------------- values


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (1, 1), (2, 0), (2, 2), (3, 1)])
def test_conv2d_is_the_definition(stride: int, padding: int) -> None:
    x, w, b = RNG.normal(size=(2, 3, 7, 6)), RNG.normal(size=(4, 3, 3, 2)), RNG.normal(size=4)
    out = nn.conv2d(Tensor(x), Tensor(w), Tensor(b), stride=stride, padding=padding)
    expected = conv_by_loops(x, w, stride, padding) + b[:, None, None]
    assert out.shape == expected.shape
    assert np.allclose(out.numpy(), expected, rtol=1e-13, atol=1e-13)


def test_pooling_is_the_definition() -> None:
    x = RNG.normal(size=(2, 3, 7, 6))
    for k, stride in [(2, 2), (3, 1), (2, 3)]:
        got = nn.max_pool2d(Tensor(x), k, stride).numpy()
        assert np.array_equal(got, pool_by_loops(x, k, stride, np.max))
        got = nn.avg_pool2d(Tensor(x), k, stride).numpy()
        assert np.allclose(got, pool_by_loops(x, k, stride, np.mean), rtol=1e-15)
    assert nn.max_pool2d(Tensor(x), 2).shape == (2, 3, 3, 3)  # stride: the kernel
    assert nn.avg_pool2d(Tensor(x), (2, 3)).shape == (2, 3, 3, 2)


def test_the_gradient_of_max_pooling_goes_to_the_maximum_and_ties_share() -> None:
    x = Tensor([[[[1.0, 2.0], [2.0, 0.0]]]], requires_grad=True)
    nn.max_pool2d(x, 2).sum().backward()
    assert x.grad is not None
    assert np.array_equal(x.grad.data, [[[[0.0, 0.5], [0.5, 0.0]]]])
    y = Tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    nn.max_pool2d(y, 2, stride=1).sum().backward()  # overlapping windows add up
    assert y.grad is not None
    assert np.array_equal(y.grad.data[0, 0], [[0, 0, 0], [0, 1, 1], [0, 1, 1]])


def composed_max_pool(x: Tensor, kernel: tuple[int, int]) -> Tensor:
    """Max pooling of windows side by side as Im2col and a max over each window's pixels."""
    n, c, h, w = x.shape
    cols = Im2col.apply(x, kernel=kernel, stride=kernel, padding=(0, 0))
    windows = cols.reshape(n, h // kernel[0], w // kernel[1], c, kernel[0] * kernel[1])
    return windows.max(axis=4).permute(0, 3, 1, 2)


@settings(deadline=None, max_examples=60)
@given(st.data())
def test_max_pool_is_im2col_and_max(data: st.DataObject) -> None:
    # Small integers tie often, and NaNs take the maximum: the values and the gradient (ties
    # share it) are the composed path's, whatever the memory layout.
    n, c = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    kernel = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    oh, ow = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    shape = (n, c, oh * kernel[0], ow * kernel[1])
    size = math.prod(shape)
    values = data.draw(
        st.lists(st.sampled_from([0.0, 1.0, 2.0, np.nan]), min_size=size, max_size=size)
    )
    x = np.array(values).reshape(shape)
    if data.draw(st.booleans()):  # laid out channels last, as a convolution's output is
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    grad, tangent = RNG.normal(size=(n, c, oh, ow)), RNG.normal(size=shape)
    results = []
    for pool in (lambda t: MaxPool.apply(t, kernel=kernel), lambda t: composed_max_pool(t, kernel)):
        t = Tensor(x, requires_grad=True)
        out = pool(t)
        out.backward(Tensor(grad))
        assert t.grad is not None
        with tl.forward_ad.dual_level():
            dual = tl.forward_ad.make_dual(Tensor(x), Tensor(tangent))
            out_t = tl.forward_ad.unpack_dual(pool(dual)).tangent
        results.append((out.numpy(), t.grad.numpy(), out_t.numpy()))
    (out, dx, out_t), (composed_out, composed_dx, composed_out_t) = results
    # Equal values, NaN where NaN (Col2im adds a -0.0 gradient to 0.0, which MaxPool keeps).
    np.testing.assert_array_equal(out, composed_out)
    np.testing.assert_array_equal(dx, composed_dx)
    # The tangent sums the tied pixels' shares, in an order of its own.
    np.testing.assert_allclose(out_t, composed_out_t, rtol=1e-15, atol=1e-15)


def test_max_pool_takes_windows_side_by_side_and_cuts_off_the_rest() -> None:
    x = Tensor(RNG.normal(size=(2, 3, 7, 5)), requires_grad=True)
    out = nn.max_pool2d(x, (2, 3))  # the last row and the last two columns are in no window
    assert isinstance(out._ctx, MaxPool)
    kept = Tensor(x.numpy()[:, :, :6, :3])
    assert np.array_equal(out.numpy(), composed_max_pool(kept, (2, 3)).numpy())
    out.sum().backward()
    assert x.grad is not None
    assert not x.grad.numpy()[:, :, 6:, :].any() and not x.grad.numpy()[:, :, :, 3:].any()
    assert np.array_equal(x.grad.numpy().sum(axis=(2, 3)), np.full((2, 3), 3.0))
    overlapping = nn.max_pool2d(x, 2, stride=1)  # other strides: composed
    assert not isinstance(overlapping._ctx, MaxPool)


def test_max_pool_has_second_derivatives() -> None:
    # dx = grad * share is recorded under create_graph, linear in grad: a gradient through
    # dx reaches what made grad (here s), as it does through the composed path.
    x, s, v = (
        RNG.normal(size=(2, 2, 4, 4)),
        RNG.normal(size=(2, 2, 2, 2)),
        RNG.normal(size=(2, 2, 4, 4)),
    )
    results = []
    for pool in (lambda t: nn.max_pool2d(t, 2), lambda t: composed_max_pool(t, (2, 2))):
        dx = tl.grad(lambda x, s: (pool(x) * s).sum())  # noqa: B023 (called at once)
        ds = tl.grad(lambda s: (dx(x, s) * Tensor(v)).sum())(s)  # noqa: B023
        results.append(ds.numpy())
    assert results[0].tobytes() == results[1].tobytes()
    assert results[0].any()


@settings(deadline=None, max_examples=30)
@given(st.data())
def test_im2col_and_col2im_are_adjoint(data: st.DataObject) -> None:
    # <im2col(x), c> = <x, col2im(c)> for every x and c: the pair are each other's transpose,
    # which is what makes each the other's backward.
    n, c, h, w = (data.draw(st.integers(1, 3)) for _ in range(4))
    ph, pw = data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))
    kernel = (data.draw(st.integers(1, h + 2 * ph)), data.draw(st.integers(1, w + 2 * pw)))
    stride = (data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3)))
    params = {"kernel": kernel, "stride": stride, "padding": (ph, pw)}
    x = RNG.normal(size=(n, c, h, w))
    cols = Im2col().forward(x, **params)
    other = RNG.normal(size=cols.shape)
    back = Col2im().forward(other, shape=x.shape, **params)
    assert back.shape == x.shape
    assert math.isclose(np.vdot(cols, other), np.vdot(x, back), rel_tol=1e-12, abs_tol=1e-12)


def test_the_checker_catches_a_col2im_that_forgets_overlapping_windows() -> None:
    class Assigning(Function):
        """col2im that writes each window instead of adding it: wrong where they overlap"""

        def forward(self, x: np.ndarray) -> np.ndarray:
            self.cols = Im2col().forward(x, kernel=(2, 2), stride=(1, 1), padding=(0, 0))
            return self.cols

        def backward(self, grad: Any, x: Any, out: Any) -> Any:
            windows = grad.reshape(1, 2, 2, 1, 2, 2)
            dx = np.zeros(x.shape)
            for di in range(2):
                for dj in range(2):
                    dx[:, :, di : di + 2, dj : dj + 2] = windows[..., di, dj].transpose(0, 3, 1, 2)
            return dx

    x = Tensor(RNG.normal(size=(1, 1, 3, 3)), requires_grad=True)
    patches = {"kernel": (2, 2), "stride": (1, 1), "padding": (0, 0)}
    assert tl.gradcheck(lambda t: Im2col.apply(t, **patches), x)
    with pytest.raises(tl.GradcheckError):
        tl.gradcheck(Assigning.apply, x)


def test_a_constant_image_makes_no_node_and_gets_no_gradient() -> None:
    x = Tensor(RNG.normal(size=(2, 1, 4, 4)))  # data: the first layer's input
    layer = nn.Conv2d(1, 2, 3, rng=np.random.default_rng(0))
    out = layer(x)
    ops = []
    node = out._ctx
    while node is not None:  # a chain: permute, reshape, affine (the im2col is a constant)
        ops.append(node.name)
        node = next((t._ctx for t in node.inputs if t._ctx is not None), None)
    assert "im2col" not in ops and "affine" in ops
    out.sum().backward()
    assert x.grad is None and layer.weight.grad is not None


# ---------------------------------------------------------------------- dropout


def test_dropout_zeroes_with_probability_p_and_scales_the_rest() -> None:
    x = Tensor(np.ones((200, 50)), requires_grad=True)
    out = nn.dropout(x, 0.25, rng=np.random.default_rng(1))
    kept = out.numpy() != 0
    assert abs(kept.mean() - 0.75) < 0.02
    assert np.array_equal(out.numpy()[kept], np.full(kept.sum(), 1 / 0.75))
    keep = np.random.default_rng(1).random((200, 50)) >= 0.25  # the formula, to the bit
    assert np.array_equal(out.numpy(), x.numpy() * (keep.astype(float) / (1 - 0.25)))
    out.sum().backward()
    assert x.grad is not None and np.array_equal(x.grad.data, out.numpy())
    assert nn.dropout(x, 0.5, training=False) is x
    assert nn.dropout(x, 0.0, rng=np.random.default_rng(1)) is x
    assert not nn.dropout(x, 1.0, rng=np.random.default_rng(1)).numpy().any()
    half = Tensor(np.ones(4), dtype=np.float32)
    assert nn.dropout(half, 0.5, rng=np.random.default_rng(0)).dtype == np.float32


def test_the_dropout_layer_draws_from_its_rng_and_is_the_identity_in_evaluation() -> None:
    layer = nn.Dropout(0.5, rng=np.random.default_rng(2))
    x = Tensor(np.ones((4, 4)))
    first, second = layer(x).numpy(), layer(x).numpy()
    assert not np.array_equal(first, second)  # a new mask each call
    again = nn.Dropout(0.5, rng=np.random.default_rng(2))
    assert np.array_equal(again(x).numpy(), first)  # the same generator, the same masks
    assert layer.eval()(x) is x
    assert not np.array_equal(layer.train()(x).numpy(), x.numpy())
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).eval()
    assert np.array_equal(model(x).numpy(), model[0](x).numpy())  # eval() reaches it
    assert repr(layer) == "Dropout(p=0.5)" and layer.parameters() == []


# ---------------------------------------------------------------------- layers


def test_conv2d_layer_init_is_pytorchs_and_repeatable() -> None:
    layer = nn.Conv2d(3, 8, (3, 2), rng=np.random.default_rng(3))
    assert layer.weight.shape == (8, 3, 3, 2) and layer.bias is not None
    assert layer.bias.shape == (8,)
    # kaiming_uniform(a=sqrt(5)): bound = sqrt(3) * sqrt(2 / 6) / sqrt(fan_in) = 1/sqrt(fan_in)
    expected = nn.init.kaiming_uniform((8, 3, 3, 2), a=math.sqrt(5), rng=np.random.default_rng(3))
    assert np.array_equal(layer.weight.numpy(), expected)
    bound = 1 / math.sqrt(3 * 3 * 2)
    for values in (layer.weight.numpy(), layer.bias.numpy()):
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound
    again = nn.Conv2d(3, 8, (3, 2), rng=np.random.default_rng(3))
    assert np.array_equal(again.weight.numpy(), layer.weight.numpy())
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    assert nn.Conv2d(1, 1, 1, bias=False).bias is None


def test_layers_repr_like_pytorch() -> None:
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, rng=np.random.default_rng(0)),
        nn.MaxPool2d(2),
        nn.AvgPool2d(2, stride=1),
        nn.Flatten(),
        nn.Dropout(0.1),
        nn.Softmax(axis=1),
        nn.LogSoftmax(axis=-1),
        nn.Conv2d(2, 3, 1, stride=2, bias=False),
    )
    assert repr(model).splitlines()[1:-1] == [
        "  (0): Conv2d(1, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))",
        "  (1): MaxPool2d(kernel_size=(2, 2), stride=(2, 2))",
        "  (2): AvgPool2d(kernel_size=(2, 2), stride=(1, 1))",
        "  (3): Flatten(start_dim=1, end_dim=-1)",
        "  (4): Dropout(p=0.1)",
        "  (5): Softmax(axis=1)",
        "  (6): LogSoftmax(axis=-1)",
        "  (7): Conv2d(2, 3, kernel_size=(1, 1), stride=(2, 2), bias=False)",
    ]


def test_the_layers_apply_their_functions() -> None:
    x = Tensor(RNG.normal(size=(2, 3, 6, 6)))
    assert np.array_equal(nn.MaxPool2d(2)(x).numpy(), nn.max_pool2d(x, 2).numpy())
    assert np.array_equal(nn.AvgPool2d(3, 1)(x).numpy(), nn.avg_pool2d(x, 3, 1).numpy())
    assert nn.Flatten()(x).shape == (2, 108)
    assert nn.Flatten(0, 1)(x).shape == (6, 6, 6)
    assert np.array_equal(nn.Softmax(1)(x).numpy(), x.softmax(1).numpy())
    assert np.array_equal(nn.LogSoftmax()(x).numpy(), x.log_softmax(-1).numpy())
    conv = nn.Conv2d(3, 2, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    expected = nn.conv2d(x, conv.weight, conv.bias, stride=2, padding=1)
    assert np.array_equal(conv(x).numpy(), expected.numpy())


def test_a_small_cnn_learns_a_toy_task() -> None:
    # Images whose class is the quadrant holding the bright pixel.
    rng = np.random.default_rng(4)
    labels = rng.integers(0, 4, 64)
    images = rng.normal(scale=0.1, size=(64, 1, 6, 6))
    for i, label in enumerate(labels):
        row, column = divmod(int(label), 2)
        images[i, 0, 3 * row + rng.integers(0, 3), 3 * column + rng.integers(0, 3)] += 3.0
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(3),
        nn.Flatten(),
        nn.Linear(16, 4, rng=rng),
    )
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = Tensor(images), Tensor(labels.astype(float))
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = nn.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    accuracy = (model(x).argmax(axis=1).numpy() == labels).mean()
    assert losses[-1] < 0.2 * losses[0] and accuracy == 1.0


# ---------------------------------------------------------------------- errors

IMAGE = Tensor(np.zeros((1, 2, 5, 5)))
WEIGHT = Tensor(np.zeros((3, 2, 3, 3)))


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: nn.conv2d(np.zeros((1, 2, 5, 5)), WEIGHT), TypeError, "must be a Tensor"),
        (lambda: nn.conv2d(Tensor(np.zeros((2, 5, 5))), WEIGHT), ValueError, "unsqueeze(0)"),
        (lambda: nn.conv2d(IMAGE, Tensor(np.zeros((3, 2, 3)))), ValueError, "(out_channels"),
        (lambda: nn.conv2d(IMAGE, Tensor(np.zeros((3, 1, 3, 3)))), ValueError, "2 channels"),
        (lambda: nn.conv2d(IMAGE, WEIGHT, Tensor(np.zeros(2))), ValueError, "shape (3,)"),
        (lambda: nn.conv2d(IMAGE, WEIGHT, np.zeros(3)), ValueError, "bias"),
        (lambda: nn.conv2d(IMAGE, WEIGHT, stride=0), ValueError, "stride must be at least 1"),
        (lambda: nn.conv2d(IMAGE, WEIGHT, stride=1.5), TypeError, "pair of ints"),
        (lambda: nn.conv2d(IMAGE, WEIGHT, stride=(1, 2, 3)), TypeError, "pair of ints"),
        (lambda: nn.conv2d(IMAGE, WEIGHT, padding=-1), ValueError, "padding must be at least 0"),
        (lambda: nn.conv2d(IMAGE, Tensor(np.zeros((1, 2, 6, 1)))), ValueError, "does not fit"),
        (lambda: nn.max_pool2d(IMAGE, 6), ValueError, "6x6 does not fit an image of 5x5"),
        (lambda: nn.max_pool2d(IMAGE, 0), ValueError, "kernel_size must be at least 1"),
        (lambda: nn.avg_pool2d(IMAGE, 2, stride=0), ValueError, "stride"),
        (lambda: nn.avg_pool2d(Tensor(np.zeros((5, 5))), 2), ValueError, "(N, C, H, W)"),
        (lambda: nn.dropout(IMAGE, 1.5), ValueError, "[0, 1]"),
        (lambda: nn.dropout(IMAGE, "0.5"), TypeError, "number"),
        (lambda: nn.dropout(IMAGE, 0.5, training=1), TypeError, "training"),
        (lambda: nn.dropout(IMAGE, 0.5, rng=1), TypeError, "rng"),
        (lambda: nn.dropout([1.0], 0.5), TypeError, "Tensor"),
        (lambda: nn.Conv2d(0, 1, 3), ValueError, "in_channels must be at least 1"),
        (lambda: nn.Conv2d(1, 2.0, 3), TypeError, "out_channels"),
        (lambda: nn.Conv2d(1, 2, (3, 0)), ValueError, "kernel_size"),
        (lambda: nn.Conv2d(1, 2, 3, bias=None), TypeError, "bias"),
        (lambda: nn.Conv2d(1, 2, 3, rng="seed"), TypeError, "rng"),
        (lambda: nn.Conv2d(1, 2, 3)(IMAGE), ValueError, "2 channels"),
        (lambda: nn.MaxPool2d((2, 2, 2)), TypeError, "pair"),
        (lambda: nn.Dropout(-0.1), ValueError, "[0, 1]"),
        (lambda: nn.Flatten(1.0), TypeError, "start_dim"),
        (lambda: nn.Softmax(axis=None), TypeError, "axis"),
    ],
)
def test_bad_arguments_are_clear_errors(call: Any, error: type[Exception], words: str) -> None:
    with pytest.raises(error) as raised:
        call()
    assert words in str(raised.value)


# --------------------------------------------------------------------- PyTorch


@pytest.mark.parametrize(("stride", "padding"), [(1, 0), (2, 1), ((2, 1), (0, 2)), (3, 2)], ids=str)
def test_conv2d_matches_pytorch(stride: Any, padding: Any) -> None:
    torch = pytest.importorskip("torch")
    x, w, b = RNG.normal(size=(2, 3, 8, 7)), RNG.normal(size=(4, 3, 3, 2)), RNG.normal(size=4)
    mine = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    their = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    out = nn.conv2d(*mine, stride=stride, padding=padding)
    expected = torch.nn.functional.conv2d(*their, stride=stride, padding=padding)
    seed = RNG.normal(size=out.shape)
    out.backward(seed)
    expected.backward(torch.tensor(seed))
    assert np.allclose(out.numpy(), expected.detach().numpy(), rtol=1e-13, atol=1e-13)
    for m, t in zip(mine, their):
        assert m.grad is not None
        assert np.allclose(m.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), (3, 1), ((2, 3), (1, 2))], ids=str)
def test_pooling_matches_pytorch(kernel: Any, stride: Any) -> None:
    torch = pytest.importorskip("torch")
    x = RNG.normal(size=(2, 3, 7, 8))  # no ties: PyTorch gives a tie's gradient to one pixel
    for ours, theirs in [
        (nn.max_pool2d, torch.nn.functional.max_pool2d),
        (nn.avg_pool2d, torch.nn.functional.avg_pool2d),
    ]:
        mine, their = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(mine, kernel, stride), theirs(their, kernel, stride)
        seed = RNG.normal(size=out.shape)
        out.backward(seed)
        expected.backward(torch.tensor(seed))
        assert np.allclose(out.numpy(), expected.detach().numpy(), rtol=1e-14, atol=1e-15)
        assert mine.grad is not None
        assert np.allclose(mine.grad.data, their.grad.numpy(), rtol=1e-14, atol=1e-15)


def test_conv2d_layer_matches_pytorchs_with_the_same_weights() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=np.random.default_rng(0))
    theirs = torch.nn.Conv2d(2, 3, 3, stride=2, padding=1, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.numpy()))  # type: ignore[union-attr]
    x = RNG.normal(size=(2, 2, 5, 5))
    expected = theirs(torch.tensor(x)).detach().numpy()
    assert np.allclose(ours(Tensor(x)).numpy(), expected, rtol=1e-13, atol=1e-14)
    assert repr(ours) == repr(theirs)
