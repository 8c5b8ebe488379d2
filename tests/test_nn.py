"""nn: Module's parameter walk, state dicts, repr; the layers; the initialisers."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_lite as tl
from tinygrad_lite import Tensor, init, nn, ops


def seed_weights(*shapes: tuple[int, int]) -> list[np.ndarray]:
    """The seed's init: one RandomState(1), drawn in order, 2*r - 1."""
    random = np.random.RandomState(1)
    return [2 * random.random(shape) - 1 for shape in shapes]


def xor_net() -> nn.Sequential:
    w0, w1 = seed_weights((3, 4), (4, 1))
    return nn.Sequential(
        nn.Linear.from_weights(w0), nn.Sigmoid(), nn.Linear.from_weights(w1), nn.Sigmoid()
    )


class Block(nn.Module):
    def __init__(self) -> None:
        self.scale = Tensor([2.0], requires_grad=True)
        self.inner = nn.Linear(2, 3, rng=np.random.default_rng(0))
        self.heads = [nn.Linear(3, 1, bias=False, rng=np.random.default_rng(1)), nn.ReLU()]
        self.pair = (Tensor([1.0], requires_grad=True), "not a parameter", 3)
        self.note = np.ones(2)  # an array is not a parameter

    def forward(self, x: Tensor) -> Tensor:
        return self.heads[0](self.inner(x) * self.scale)


# ------------------------------------------------------------------ parameters


def test_sequential_names_parameters_by_position() -> None:
    model = xor_net()
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "2.weight"]
    assert model.parameters() == [model[0].weight, model[2].weight]


def test_parameters_are_found_in_definition_order_through_modules_lists_and_tuples() -> None:
    block = Block()
    names = [name for name, _ in block.named_parameters()]
    assert names == ["scale", "inner.weight", "inner.bias", "heads.0.weight", "pair.0"]
    assert block.parameters()[0] is block.scale


def test_a_shared_tensor_or_module_counts_once_under_its_first_name() -> None:
    layer = nn.Linear(2, 2, rng=np.random.default_rng(0))
    model = nn.Sequential(layer, nn.Sigmoid(), layer)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias"]

    class Tied(nn.Module):
        def __init__(self) -> None:
            self.encoder = nn.Linear(2, 2, rng=np.random.default_rng(0))
            self.decoder_weight = self.encoder.weight

    assert [name for name, _ in Tied().named_parameters()] == ["encoder.weight", "encoder.bias"]


def test_a_module_that_holds_itself_is_walked_once() -> None:
    model = nn.Sequential(nn.Linear(1, 1, rng=np.random.default_rng(0)))
    model.itself = model  # Sequential names only its layers; a plain Module walks all
    block = Block()
    block.me = block
    block.loop = [block]
    assert len(block.named_parameters()) == 5
    assert "Block(" in repr(block)


def test_deep_nesting_needs_no_recursion() -> None:
    model: nn.Module = nn.Linear(1, 1, rng=np.random.default_rng(0))
    for _ in range(3000):  # deeper than Python's recursion limit
        model = nn.Sequential(model)
    names = [name for name, _ in model.named_parameters()]
    assert names == [".".join(["0"] * 3000) + ".weight", ".".join(["0"] * 3000) + ".bias"]
    assert repr(model).count("Linear(") == 1


def test_modules_walks_the_same_tree_as_parameters() -> None:
    block = Block()
    outer = nn.Sequential(block, nn.Sigmoid())
    outer.extra = [block.inner, (nn.Tanh(),)]  # not walked: Sequential walks its layers
    names = [name for name, _ in outer.named_modules()]
    assert names == ["", "0", "0.inner", "0.heads.0", "0.heads.1", "1"]
    holder = Block()
    holder.more = [block.inner, (nn.Tanh(),)]  # a tuple in a list; block.inner again
    names = [name for name, _ in holder.named_modules()]
    assert names == ["", "inner", "heads.0", "heads.1", "more.0", "more.1.0"]
    assert holder.modules()[4] is block.inner and len(holder.modules()) == 6


def test_train_and_eval_set_training_everywhere_and_return_the_module() -> None:
    block = Block()
    model = nn.Sequential(nn.Linear(2, 2, rng=np.random.default_rng(0)), block)
    assert model.training and block.heads[1].training  # a new module trains
    assert model.eval() is model
    assert [m.training for m in model.modules()] == [False] * 6
    assert model.train() is model
    assert all(m.training for m in model.modules())
    block.eval()  # a part of the model only
    assert model.training and not block.training and not block.inner.training
    assert model[0].training
    assert model.train(False) is model and not any(m.training for m in model.modules())
    assert nn.ReLU().training  # the mode is each instance's own
    assert list(model.state_dict()) == ["0.weight", "0.bias"] + [
        f"1.{name}" for name in Block().state_dict()
    ]  # the mode is no parameter


@pytest.mark.parametrize("mode", [1, "eval", None])
def test_train_takes_only_a_bool(mode: object) -> None:
    with pytest.raises(TypeError, match="mode must be True or False"):
        nn.ReLU().train(mode)  # type: ignore[arg-type]


def test_zero_grad_sets_grads_to_none() -> None:
    model = xor_net()
    nn.sse_loss(model(Tensor([[0.0, 1.0, 1.0]])), Tensor([[1.0]])).backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_module_without_forward_says_so() -> None:
    class Empty(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty must define forward"):
        Empty()(Tensor(1.0))


# ------------------------------------------------------------------ state dict


def test_state_dict_is_a_copy_in_parameter_order() -> None:
    model = xor_net()
    state = model.state_dict()
    assert list(state) == ["0.weight", "2.weight"]
    assert np.array_equal(state["0.weight"], model[0].weight.data)
    state["0.weight"][0, 0] = 123.0
    assert model[0].weight.data[0, 0] != 123.0


def test_load_state_dict_copies_values_in() -> None:
    source, target = Block(), Block()
    for p in source.parameters():
        p.data[...] = np.arange(p.size).reshape(p.shape) + 0.5
    result = target.load_state_dict(source.state_dict())
    assert result == nn.IncompatibleKeys([], [])
    for (name, p), q in zip(source.named_parameters(), target.parameters()):
        assert np.array_equal(p.data, q.data), name
    assert target.scale.requires_grad and target.scale.is_leaf


def test_load_state_dict_accepts_tensors_and_casts_to_the_parameter_dtype() -> None:
    layer = nn.Linear.from_weights(np.zeros((2, 1), dtype=np.float32))
    layer.load_state_dict({"weight": Tensor([[1.5], [2.5]])})
    assert layer.weight.dtype == np.float32
    assert layer.weight.tolist() == [[1.5], [2.5]]


def test_strict_load_names_missing_and_unexpected_parameters() -> None:
    model = xor_net()
    before = model.state_dict()
    state = model.state_dict()
    state["2.weights"] = state.pop("2.weight")
    with pytest.raises(ValueError, match=r"missing \['2.weight'\].*unexpected \['2.weights'\]"):
        model.load_state_dict(state)
    for name, p in model.named_parameters():
        assert np.array_equal(p.data, before[name])


def test_non_strict_load_reports_what_it_skipped() -> None:
    model = xor_net()
    state = {"0.weight": np.ones((3, 4)), "extra": np.zeros(1)}
    result = model.load_state_dict(state, strict=False)
    assert result.missing_keys == ["2.weight"]
    assert result.unexpected_keys == ["extra"]
    assert np.array_equal(model[0].weight.data, np.ones((3, 4)))


def test_a_shape_mismatch_names_the_parameter_and_changes_nothing() -> None:
    model = xor_net()
    before = model.state_dict()
    state = {"0.weight": np.ones((3, 4)), "2.weight": np.ones((1, 4))}
    with pytest.raises(ValueError, match=r"'2.weight' has shape \(1, 4\).*\(4, 1\)"):
        model.load_state_dict(state)
    with pytest.raises(ValueError, match="'2.weight'"):
        model.load_state_dict(state, strict=False)
    # 0.weight fitted, but nothing is copied until every entry has been checked.
    assert np.array_equal(model[0].weight.data, before["0.weight"])


@pytest.mark.parametrize(
    "state, error",
    [
        ([("0.weight", np.ones((3, 4)))], TypeError),
        ({"0.weight": [[1.0] * 4] * 3, "2.weight": np.ones((4, 1))}, TypeError),
        ({"0.weight": np.full((3, 4), "x"), "2.weight": np.ones((4, 1))}, TypeError),
    ],
)
def test_load_state_dict_rejects_what_is_not_a_state_dict(state: object, error: type) -> None:
    with pytest.raises(error, match="load_state_dict"):
        xor_net().load_state_dict(state)  # type: ignore[arg-type]


def test_loading_bumps_the_version_so_an_old_graph_refuses_to_backpropagate() -> None:
    model = xor_net()
    loss = nn.sse_loss(model(Tensor([[1.0, 0.0, 1.0]])), Tensor([[1.0]]))
    model.load_state_dict(model.state_dict())
    with pytest.raises(RuntimeError, match="changed in place"):
        loss.backward()


# ------------------------------------------------------------------ call and repr


def test_a_model_call_enters_np_errstate_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # A module call and a loss each switch numpy's warnings off once, around the whole call
    # (fp_quiet decorates them with an errstate made once, at import): inside, the warnings
    # are already off, and no op or nested module makes an errstate of its own.
    made = []
    errstate = np.errstate

    def counting(**kwargs: object) -> object:
        made.append(kwargs)
        return errstate(**kwargs)  # type: ignore[arg-type]

    model = xor_net()
    seen = []

    class Probe(nn.Module):
        def forward(self, x: Tensor) -> Tensor:
            seen.append(np.geterr())
            return model(x * 1e308 * 10)  # overflows to inf: no warning may leak

    x = Tensor([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]])
    monkeypatch.setattr(np, "errstate", counting)
    out = Probe()(x)
    assert made == []
    assert seen == [{"divide": "ignore", "over": "ignore", "under": "ignore", "invalid": "ignore"}]
    assert np.geterr()["over"] == "warn"
    for loss in (nn.sse_loss, nn.mse_loss, nn.binary_cross_entropy):
        loss(out, Tensor([[1.0], [0.0]]))
        assert made == [], loss.__name__
    nn.sse_loss(Tensor([1e200]), Tensor([-1e200]))  # overflows to inf, quietly


def test_a_call_keeps_floating_point_warnings_quiet() -> None:
    # pytest turns warnings into errors: exp overflows inside the sigmoid here.
    out = nn.Sigmoid()(Tensor([-1000.0, 1000.0]))
    assert out.tolist() == [0.0, 1.0]


def test_repr_looks_like_pytorch() -> None:
    model = nn.Sequential(nn.Linear(3, 4, rng=np.random.default_rng(0)), nn.Sigmoid())
    assert repr(model) == (
        "Sequential(\n  (0): Linear(in_features=3, out_features=4, bias=True)\n  (1): Sigmoid()\n)"
    )
    nested = nn.Sequential(model, nn.Tanh())
    assert repr(nested) == (
        "Sequential(\n"
        "  (0): Sequential(\n"
        "    (0): Linear(in_features=3, out_features=4, bias=True)\n"
        "    (1): Sigmoid()\n"
        "  )\n"
        "  (1): Tanh()\n"
        ")"
    )
    assert repr(Block()) == (
        "Block(\n"
        "  (inner): Linear(in_features=2, out_features=3, bias=True)\n"
        "  (heads.0): Linear(in_features=3, out_features=1, bias=False)\n"
        "  (heads.1): ReLU()\n"
        ")"
    )
    assert repr(nn.ReLU()) == "ReLU()"


# ------------------------------------------------------------------ Linear


def test_linear_forward_is_the_seeds_dot_bit_for_bit() -> None:
    X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])  # noqa: N806 (the seed's name)
    (w,) = seed_weights((3, 4))
    layer = nn.Sequential(nn.Linear.from_weights(w), nn.Sigmoid())
    assert np.array_equal(layer(Tensor(X)).data, 1 / (1 + np.exp(-np.dot(X, w))))
    assert layer[0].weight.shape == (3, 4)  # (in_features, out_features)


def test_linear_with_bias_computes_x_at_w_plus_b() -> None:
    rng = np.random.default_rng(3)
    w, b, x = rng.normal(size=(3, 2)), rng.normal(size=2), rng.normal(size=(5, 3))
    layer = nn.Linear.from_weights(w, b)
    assert np.array_equal(layer(Tensor(x)).data, x @ w + b)
    assert np.array_equal(layer(x).data, x @ w + b)  # an array is taken as a constant
    layer(Tensor(x)).sum().backward()
    assert np.allclose(layer.weight.grad.data, x.T @ np.ones((5, 2)))
    assert np.array_equal(layer.bias.grad.data, [5.0, 5.0])


@pytest.mark.parametrize("x_needs_grad", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_linear_with_bias_is_one_node_with_the_compositions_bits(
    x_needs_grad: bool, dtype: type
) -> None:
    # A batch of rows takes ops.Affine, one node; its value and gradients must be those of
    # x @ w + b built from Matmul, Expand and Add, to the bit.
    rng = np.random.default_rng(4)
    w, b = rng.normal(size=(3, 2)).astype(dtype), rng.normal(size=2).astype(dtype)
    x = rng.normal(size=(5, 3)).astype(dtype)
    layer = nn.Linear.from_weights(w, b)
    xs = [Tensor(x, requires_grad=x_needs_grad) for _ in range(2)]
    fused = layer(xs[0])
    assert fused._ctx.name == "affine"
    w2, b2 = Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    composed = xs[1] @ w2 + b2
    assert fused.data.tobytes() == composed.data.tobytes() and fused.dtype == composed.dtype
    g = rng.normal(size=(5, 2)).astype(dtype)
    fused.backward(g)
    composed.backward(g)
    assert layer.weight.grad.data.tobytes() == w2.grad.data.tobytes()
    assert layer.bias.grad.data.tobytes() == b2.grad.data.tobytes()
    if x_needs_grad:
        assert xs[0].grad.data.tobytes() == xs[1].grad.data.tobytes()
    else:
        assert xs[0].grad is None


def test_affine_gradients_pass_gradcheck_and_gradgradcheck() -> None:
    rng = np.random.default_rng(5)
    x, w, b = (Tensor(rng.normal(size=s), requires_grad=True) for s in ((4, 3), (3, 2), (2,)))
    assert tl.gradcheck(ops.Affine.apply, x, w, b, atol=1e-6, rtol=1e-5)
    assert tl.gradgradcheck(ops.Affine.apply, x, w, b, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("shape", [(3,), (2, 5, 3)])
def test_linear_on_a_single_row_or_a_batch_of_matrices_composes_the_ops(shape: tuple) -> None:
    rng = np.random.default_rng(6)
    layer = nn.Linear(3, 2, rng=rng)
    x = rng.normal(size=shape)
    out = layer(Tensor(x))
    assert out._ctx.name == "add" and out.shape == (*shape[:-1], 2)
    np.testing.assert_array_equal(out.data, x @ layer.weight.data + layer.bias.data)


def test_linear_default_init_is_pytorchs_bound_and_repeatable() -> None:
    layer = nn.Linear(16, 8, rng=np.random.default_rng(0))
    assert layer.weight.shape == (16, 8) and layer.bias.shape == (8,)
    assert layer.weight.requires_grad and layer.bias.requires_grad
    for p in layer.parameters():
        assert np.all(np.abs(p.data) <= 0.25)  # 1/sqrt(16)
    assert np.abs(layer.weight.data).max() > 0.2  # spread over the range, not tiny
    again = nn.Linear(16, 8, rng=np.random.default_rng(0))
    assert np.array_equal(layer.weight.data, again.weight.data)
    legacy = nn.Linear(16, 8, rng=np.random.RandomState(0))
    assert legacy.weight.shape == (16, 8)
    assert nn.Linear(16, 8).weight.shape == (16, 8)  # rng=None: a fresh generator


def test_linear_draws_weight_then_bias_from_the_generator() -> None:
    layer = nn.Linear(3, 2, rng=np.random.RandomState(5))
    random = np.random.RandomState(5)
    bound = 1 / np.sqrt(3)
    w = -bound + 2 * bound * random.random((3, 2))
    b = -bound + 2 * bound * random.random(2)
    assert np.array_equal(layer.weight.data, w)
    assert np.array_equal(layer.bias.data, b)


def test_from_weights_copies_exact_values() -> None:
    w = np.array([[0.1], [0.2]])
    layer = nn.Linear.from_weights(w, bias=[0.3])
    w[0, 0] = 9.0
    assert layer.weight.tolist() == [[0.1], [0.2]]
    assert layer.bias.tolist() == [0.3]
    assert (layer.in_features, layer.out_features) == (2, 1)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((3.0, 4), TypeError, "in_features must be an int"),
        ((3, True), TypeError, "out_features must be an int"),
        ((0, 4), ValueError, "in_features must be at least 1"),
        ((3, 4, "yes"), TypeError, "bias must be True or False"),
        ((3, 4, True, 7), TypeError, "rng must be"),
    ],
)
def test_linear_rejects_bad_arguments(args: tuple, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        nn.Linear(*args)


def test_from_weights_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="weight must be 2-D"):
        nn.Linear.from_weights([1.0, 2.0])
    with pytest.raises(ValueError, match=r"bias must have shape \(1,\)"):
        nn.Linear.from_weights([[1.0], [2.0]], bias=[1.0, 2.0])


# ------------------------------------------------------------------ activations, Sequential


@pytest.mark.parametrize(
    "layer, reference",
    [
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Tanh(), np.tanh),
    ],
)
def test_activations(layer: nn.Module, reference: object) -> None:
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    assert np.array_equal(layer(Tensor(x)).data, reference(x))  # type: ignore[operator]
    assert np.array_equal(layer(x).data, reference(x))  # type: ignore[operator]
    with pytest.raises(TypeError, match="Tensor"):
        layer("not numbers")


def test_sequential_is_indexable_sized_and_iterable() -> None:
    model = xor_net()
    assert len(model) == 4
    assert isinstance(model[1], nn.Sigmoid) and model[-1] is model[3]
    assert [type(m).__name__ for m in model] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and head[0] is model[0]
    x = Tensor([[1.0, 0.0, 1.0]])
    assert np.array_equal(model(x).data, model[2:](model[:2](x)).data)
    with pytest.raises(IndexError, match="index 4 is out of range for 4 layers"):
        model[4]
    with pytest.raises(TypeError, match="index must be an int or a slice"):
        model["0"]  # type: ignore[index]


def test_sequential_refuses_what_is_not_a_module() -> None:
    with pytest.raises(TypeError, match=r"did you mean Sigmoid\(\)"):
        nn.Sequential(nn.Linear(1, 1), nn.Sigmoid)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="layer 0 is ufunc"):
        nn.Sequential(np.tanh)  # type: ignore[arg-type]


# ------------------------------------------------------------------ initialisers


def test_uniform_is_the_seeds_init_bit_for_bit() -> None:
    random = np.random.RandomState(1)
    w0 = init.uniform((3, 4), -1.0, 1.0, rng=random)
    w1 = init.uniform((4, 1), rng=random)
    assert [np.array_equal(a, b) for a, b in zip((w0, w1), seed_weights((3, 4), (4, 1)))] == [
        True,
        True,
    ]


def test_initialisers_draw_from_the_given_generator() -> None:
    a = init.normal((1000,), 2.0, 0.5, rng=np.random.default_rng(7))
    b = init.normal((1000,), 2.0, 0.5, rng=np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert abs(a.mean() - 2.0) < 0.1 and abs(a.std() - 0.5) < 0.05
    x = init.xavier_uniform((20, 30), rng=np.random.default_rng(0))
    bound = np.sqrt(6 / 50)
    assert np.all(np.abs(x) <= bound) and np.abs(x).max() > 0.9 * bound
    assert init.uniform(4, rng=np.random.default_rng(0)).shape == (4,)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: init.uniform((2, 2), rng=None), TypeError),
        (lambda: init.uniform((2, 2), rng=np.random), TypeError),
        (lambda: init.uniform((2, -1), rng=np.random.default_rng()), TypeError),
        (lambda: init.uniform((2, 2), 1.0, -1.0, rng=np.random.default_rng()), ValueError),
        (lambda: init.uniform((2,), float("nan"), rng=np.random.default_rng()), ValueError),
        (lambda: init.normal((2,), std=-1.0, rng=np.random.default_rng()), ValueError),
        (lambda: init.xavier_uniform((4,), rng=np.random.default_rng()), ValueError),
        (lambda: init.xavier_uniform((2, 0), rng=np.random.default_rng()), ValueError),
    ],
)
def test_initialisers_reject_bad_arguments(call: object, error: type) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]


def test_the_package_exports_nn_optim_save_load() -> None:
    from tinygrad_lite import nn as nn_module
    from tinygrad_lite import optim

    assert tl.nn is nn_module and tl.nn.Linear is nn.Linear
    assert tl.optim.SGD is optim.SGD
    assert callable(tl.save) and callable(tl.load)
