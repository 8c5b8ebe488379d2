"""Seeded random programs of the public ops, run by tinygrad_lite and by PyTorch side by
side (tests/oracle/differential.py draws and replays them), compared value by value:
forward values, dtypes and shapes, gradients, second derivatives and the double-backward
trick, ``tl.grad`` of computed arguments and nested, optimizer trajectories, and the
IEEE special values. A failure prints the program.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip(
    "torch",
    reason="PyTorch is not installed: the differential tests against it are skipped "
    "(pip install torch==2.13.0, then pip install -e '.[oracle]')",
)

from differential import (  # noqa: E402
    Generator,
    MismatchError,
    Ours,
    Program,
    Theirs,
    close,
    compare,
    compare_grads,
    compare_nodes,
    loss,
    requiring,
    run,
    weights_for,
)

import tinygrad_lite as tl  # noqa: E402
from tinygrad_lite import Tensor, nn, optim  # noqa: E402

pytestmark = [
    pytest.mark.oracle,
    # PyTorch's advice when backward() records itself; create_graph is the point here.
    pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True"),
    # (PyTorch's forward mode imports a module of its own that uses torch.jit.script)
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]


def _explain(program: Program, check: Callable[[], None]) -> None:
    try:
        check()
    except MismatchError as error:
        raise MismatchError(f"{error}\nprogram:\n{program.describe()}") from None


def _steps(seed: int, low: int = 2, high: int = 10) -> int:
    return random.Random(seed * 31 + 5).randint(low, high)


def test_values_and_gradients(seed: int) -> None:
    mixed = seed % 3 == 1  # float32 leaves meet float64 constants and tensors
    program = Generator(seed, mixed=mixed).draw(_steps(seed))

    def check() -> None:
        ours, theirs = run(program, Ours()), run(program, Theirs())
        # float32 arithmetic rounds otherwise in each library, also upstream of float64 results
        compare_nodes(ours, theirs, loose=mixed)
        weights = weights_for(seed, ours)
        if not weights:
            return
        loss(ours, weights, Ours()).backward()
        loss(theirs, weights, Theirs()).backward()
        compare_grads("grad", ours, theirs, loose=mixed)

    _explain(program, check)


def test_second_derivatives(seed: int) -> None:
    """Hessian-vector products through create_graph; every other program seeds the first
    backward with gradient=v, a tensor that requires grad, and checks d/dv as well."""
    mixed = seed % 4 == 3
    program = Generator(seed + 10_000, mixed=mixed).draw(_steps(seed, 2, 7))
    rng = np.random.default_rng(seed)

    def check() -> None:
        ours, theirs = run(program, Ours()), run(program, Theirs())
        weights = weights_for(seed, ours)
        if not weights:
            return
        v_ours = v_theirs = None
        if seed % 2:
            z = max(weights)  # a node that requires grad, not reduced
            v = rng.uniform(-1, 1, ours[z].shape).astype(ours[z].dtype)
            v_ours, v_theirs = Tensor(v, requires_grad=True), torch.tensor(v, requires_grad=True)
            ours[z].backward(gradient=v_ours, create_graph=True)
            theirs[z].backward(gradient=v_theirs, create_graph=True)
        else:
            loss(ours, weights, Ours()).backward(create_graph=True)
            loss(theirs, weights, Theirs()).backward(create_graph=True)
        compare_grads("grad (create_graph)", ours, theirs, loose=mixed)
        leaves = [i for i in requiring(ours) if ours[i].is_leaf and ours[i].grad is not None]
        directions = {i: rng.uniform(-1, 1, ours[i].shape) for i in leaves}
        h_ours = h_theirs = None
        for i in leaves:
            term_ours = (ours[i].grad * directions[i]).sum()
            term_theirs = (theirs[i].grad * torch.tensor(directions[i])).sum()
            h_ours = term_ours if h_ours is None else h_ours + term_ours
            h_theirs = term_theirs if h_theirs is None else h_theirs + term_theirs
            ours[i].grad, theirs[i].grad = None, None
        if h_ours is None:
            return
        compare("h", h_ours, h_theirs, loose=mixed)
        if h_ours.requires_grad:
            h_ours.backward()
        if h_theirs.requires_grad:
            h_theirs.backward()
        compare_grads("second derivative", ours, theirs, loose=mixed, zeros_or_none=True)
        if v_ours is not None:
            compare_grads(
                "d/dv (gradient= in the graph)",
                [v_ours],
                [v_theirs],
                loose=mixed,
                zeros_or_none=True,
            )

    _explain(program, check)


# Shape-preserving ops that compute the argument given to tl.grad from a leaf x.
ARGUMENTS: list[tuple[str, Callable[[Any], Any]]] = [
    ("x * 2", lambda x: x * 2),
    ("x + 1", lambda x: x + 1),
    ("x[...]", lambda x: x[...]),
    ("x.reshape(shape)", lambda x: x.reshape(tuple(x.shape))),
    ("x.expand(shape)", lambda x: x.expand(tuple(x.shape))),
    ("x.exp()", lambda x: x.exp()),
    ("x", lambda x: x),
]


def test_grad_of_computed_arguments(seed: int) -> None:
    """tl.grad(f)(a) against torch.func.grad(f)(a), where a is computed from a leaf that
    requires grad, and the nested grad of that through a."""
    program = Generator(seed + 20_000).draw(_steps(seed, 2, 7))
    leaves = [i for i, (_, rg) in enumerate(program.leaves) if rg]
    if not leaves:
        return
    rng = random.Random(seed)
    position = rng.choice(leaves)
    name, argument = rng.choice(ARGUMENTS)
    base = program.leaves[position][0]

    def f_for(fw: Any) -> Callable[[Any], Any]:
        # f closes over the other leaves that require grad, made once; the constants it
        # makes at each call (the program may change them in place)
        others = [fw.leaf(v, rg) if rg else None for v, rg in program.leaves]

        def f(a: Any) -> Any:
            fresh = [
                t if t is not None else fw.leaf(v, False)
                for t, (v, _) in zip(others, program.leaves)
            ]
            fresh[position] = a
            nodes = run(program, fw, fresh)
            weights = weights_for(seed, nodes_ours)
            total = loss(nodes, weights, fw)
            return total if total is not None else (a * 0).sum()

        return f

    nodes_ours = run(program, Ours())
    outer_weights = np.random.default_rng(seed).uniform(-1, 1, base.shape)

    def check() -> None:
        x_ours = Tensor(base, requires_grad=True)
        x_theirs = torch.tensor(base, requires_grad=True)
        f_ours, f_theirs = f_for(Ours()), f_for(Theirs())
        g_ours = tl.grad(f_ours)(argument(x_ours))
        g_theirs = torch.func.grad(f_theirs)(argument(x_theirs))
        compare(f"tl.grad(f)({name})", g_ours, g_theirs)

        def outer_ours(x: Any) -> Any:
            return (tl.grad(f_ours)(argument(x)) * outer_weights).sum()

        weights_theirs = torch.tensor(outer_weights)

        def outer_theirs(x: Any) -> Any:
            return (torch.func.grad(f_theirs)(argument(x)) * weights_theirs).sum()

        nested_ours = tl.grad(outer_ours)(Tensor(base))
        nested_theirs = torch.func.grad(outer_theirs)(torch.tensor(base))
        compare(f"nested grad through {name}", nested_ours, nested_theirs)

    _explain(program, check)


# Programs test_forward_mode compared, and those PyTorch's transforms could not run (the
# test after it checks that few were refused).
FORWARD_TALLY = {"compared": 0, "refused": 0}


def _forward_function(
    program: Program, fw: Any, position: int, outputs: Callable[[list[Any]], Any]
) -> Callable[[Any], Any]:
    """f(a): the program with its leaf at ``position`` replaced by ``a``, returning
    ``outputs(nodes)``; f closes over the other leaves that require grad, made once, and
    makes the constants at each call (the program may change them in place)."""
    others = [fw.leaf(v, rg) if rg else None for v, rg in program.leaves]

    def f(a: Any) -> Any:
        fresh = [
            t if t is not None else fw.leaf(v, False) for t, (v, _) in zip(others, program.leaves)
        ]
        fresh[position] = a
        return outputs(run(program, fw, fresh))

    return f


def _compare_all(what: str, ours: Any, theirs: Any, loose: bool) -> None:
    if isinstance(theirs, torch.Tensor):
        compare(what, ours, theirs, loose=loose)
        return
    if not isinstance(ours, tuple) or len(ours) != len(theirs):
        raise MismatchError(
            f"{what}: tinygrad_lite gave {ours!r:.80}, PyTorch {len(theirs)} results"
        )
    for k, (a, b) in enumerate(zip(ours, theirs)):
        _compare_all(f"{what}[{k}]", a, b, loose)


def _in_dtypes_of(tangents: Any, outputs: Any) -> Any:
    """PyTorch's forward-mode results (tangents, or jacfwd's blocks), each in its output's
    dtype.

    Documented difference (design.md): torch.func's forward mode can give a float32
    output a float64 tangent (jvp, for a 0-d float32 tensor times a Python number; jacfwd,
    batching with vmap, for clamp or where with a 0-d float64 operand), where
    torch.autograd.forward_ad, and PyTorch's rule, give the output's dtype; ours does.
    """
    if isinstance(outputs, torch.Tensor):
        return tangents.to(outputs.dtype)
    return tuple(t.to(o.dtype) for t, o in zip(tangents, outputs))


def test_forward_mode(seed: int) -> None:
    """tl.jvp, tl.vjp, tl.jacfwd and tl.jacrev against torch.func's, for f from a leaf of a
    program (given as it is, or computed from a leaf that requires grad) to a tuple of its
    nodes; then tl.hessian against torch.func.hessian on a scalar loss of a smaller program.
    A program that PyTorch's transforms refuse to run is left out, and counted."""
    mixed = seed % 4 == 3
    program = Generator(seed + 50_000, mixed=mixed).draw(_steps(seed, 2, 7))
    leaves = [i for i, (_, rg) in enumerate(program.leaves) if rg]
    if not leaves:
        return
    rng = random.Random(seed)
    data = np.random.default_rng(seed)
    position = rng.choice(leaves)
    base = program.leaves[position][0]
    name, argument = rng.choice(ARGUMENTS) if rng.random() < 0.3 else ("x", lambda x: x)
    nodes_ours = run(program, Ours())
    picked = sorted(weights_for(seed, nodes_ours))
    if not picked:
        return

    def outputs(nodes: list[Any]) -> Any:
        return tuple(nodes[i] for i in picked)

    tangent = data.uniform(-1, 1, base.shape).astype(base.dtype)
    cotangents = [
        data.uniform(-1, 1, nodes_ours[i].shape).astype(nodes_ours[i].dtype) for i in picked
    ]

    def primal(fw: Any) -> Any:
        if name == "x":
            return fw.leaf(base, False)
        return argument(fw.leaf(base, True))

    def check() -> None:
        f_ours = _forward_function(program, Ours(), position, outputs)
        f_theirs = _forward_function(program, Theirs(), position, outputs)
        u_ours = tuple(Tensor(u) for u in cotangents)
        u_theirs = tuple(torch.tensor(u) for u in cotangents)
        try:
            # (vmap, inside jacfwd and jacrev, refuses an in-place change of an unbatched
            # tensor by a batched one, and fails on some ops over an input with no elements)
            out, out_t = torch.func.jvp(f_theirs, (primal(Theirs()),), (torch.tensor(tangent),))
            jvp_theirs = out, _in_dtypes_of(out_t, out)
            out_theirs, vjp_fn = torch.func.vjp(f_theirs, primal(Theirs()))
            vjp_theirs = vjp_fn(u_theirs)
            jacfwd_theirs = _in_dtypes_of(torch.func.jacfwd(f_theirs)(primal(Theirs())), out_theirs)
            jacrev_theirs = torch.func.jacrev(f_theirs)(primal(Theirs()))
        except (RuntimeError, IndexError):
            FORWARD_TALLY["refused"] += 1
            return
        try:
            jvp_ours = tl.jvp(f_ours, (primal(Ours()),), (Tensor(tangent),))
        except RuntimeError as error:
            # Documented difference (design.md, "Tangents live in the level"): an in-place
            # change to a dual tensor is refused here; PyTorch changes its tangent in place.
            if "this tensor is dual" not in str(error):
                raise
            FORWARD_TALLY["refused"] += 1
            return
        _compare_all(f"jvp({name}): output", jvp_ours[0], jvp_theirs[0], mixed)
        _compare_all(f"jvp({name}): tangent", jvp_ours[1], jvp_theirs[1], mixed)
        out_ours, vjp_fn_ours = tl.vjp(f_ours, primal(Ours()))
        _compare_all(f"vjp({name}): output", out_ours, out_theirs, mixed)
        _compare_all(f"vjp({name}): vjp_fn(u)", vjp_fn_ours(u_ours), vjp_theirs, mixed)
        _compare_all(f"jacfwd({name})", tl.jacfwd(f_ours)(primal(Ours())), jacfwd_theirs, mixed)
        _compare_all(f"jacrev({name})", tl.jacrev(f_ours)(primal(Ours())), jacrev_theirs, mixed)
        FORWARD_TALLY["compared"] += 1

    _explain(program, check)

    # the Hessian of a scalar loss, on a smaller program
    program = Generator(seed + 60_000, mixed=mixed).draw(_steps(seed, 1, 4))
    leaves = [i for i, (_, rg) in enumerate(program.leaves) if rg]
    if not leaves:
        return
    position = rng.choice(leaves)
    base = program.leaves[position][0]
    weights = weights_for(seed, run(program, Ours()))

    def scalar_loss(fw: Any) -> Callable[[list[Any]], Any]:
        def total(nodes: list[Any]) -> Any:
            value = loss(nodes, weights, fw)
            return value if value is not None else (nodes[0] * 0).sum()

        return total

    def check_hessian() -> None:
        f_ours = _forward_function(program, Ours(), position, scalar_loss(Ours()))
        f_theirs = _forward_function(program, Theirs(), position, scalar_loss(Theirs()))
        try:
            theirs = torch.func.hessian(f_theirs)(torch.tensor(base))
        except (RuntimeError, IndexError):
            FORWARD_TALLY["refused"] += 1
            return
        try:
            hessian = tl.hessian(f_ours)(Tensor(base))
        except RuntimeError as error:
            if "this tensor is dual" not in str(error):  # (as above)
                raise
            FORWARD_TALLY["refused"] += 1
            return
        compare("hessian", hessian, theirs, loose=mixed)
        FORWARD_TALLY["compared"] += 1

    _explain(program, check_hessian)


def test_forward_mode_compared_most_programs() -> None:
    """(After test_forward_mode:) PyTorch's transforms refused few of its programs."""
    total = FORWARD_TALLY["compared"] + FORWARD_TALLY["refused"]
    if not total:
        pytest.skip("test_forward_mode did not run")
    assert FORWARD_TALLY["refused"] <= 0.2 * total, FORWARD_TALLY


def _optimizer(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """An optimizer's name and settings, the same names and meanings in both frameworks."""
    name = rng.choice(["SGD", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
    settings: dict[str, Any] = {"lr": rng.choice([0.01, 0.05, 0.1])}
    decay = rng.choice([0.0, 0.0, 0.01])
    if name == "SGD":
        momentum = rng.choice([0.0, 0.9])
        nesterov = momentum > 0 and rng.random() < 0.5
        dampening = 0.0 if nesterov or not momentum else rng.choice([0.0, 0.1])
        settings.update(
            momentum=momentum, dampening=dampening, weight_decay=decay, nesterov=nesterov
        )
    elif name in ("Adam", "AdamW"):
        settings.update(
            betas=rng.choice([(0.9, 0.999), (0.8, 0.99)]),
            eps=rng.choice([1e-8, 1e-6]),
            weight_decay=decay if name == "Adam" else rng.choice([0.0, 0.01, 0.1]),
            amsgrad=rng.random() < 0.3,
        )
    elif name == "RMSprop":
        settings.update(
            alpha=rng.choice([0.99, 0.9]),
            eps=rng.choice([1e-8, 1e-6]),
            weight_decay=decay,
            momentum=rng.choice([0.0, 0.9]),
            centered=rng.random() < 0.3,
        )
    else:
        settings.update(
            lr_decay=rng.choice([0.0, 0.01]),
            weight_decay=decay,
            initial_accumulator_value=rng.choice([0.0, 0.1]),
            eps=rng.choice([1e-10, 1e-6]),
        )
    return name, settings


def _scheduler(rng: random.Random) -> tuple[str, dict[str, Any]] | None:
    """A learning rate schedule for a third of the runs, or None."""
    choice = rng.random()
    if choice < 0.15:
        return "StepLR", {"step_size": rng.choice([2, 5]), "gamma": rng.choice([0.5, 0.1])}
    if choice < 0.3:
        return "CosineAnnealingLR", {"T_max": rng.choice([5, 10]), "eta_min": 0.001}
    return None


def _parameters(program: Program, fw: Any, made_by_op: set[int]) -> list[Any]:
    """Leaves that require grad are the parameters; some are made under no_grad as the sum
    of two tensors (a computed tensor that becomes a leaf), then set to require grad."""
    params = []
    for i, (value, rg) in enumerate(program.leaves):
        if rg and i in made_by_op:
            with fw.no_grad():
                p = fw.leaf(value - 1, False) + fw.leaf(np.ones_like(value), False)
            if isinstance(p, Tensor):
                p.requires_grad = True
            else:
                p.requires_grad_(True)
            params.append(p)
        else:
            params.append(fw.leaf(value, rg))
    return params


def test_optimizer_trajectories(seed: int, tmp_path: Any) -> None:
    """Training on a random smooth loss with one of the optimizers (PyTorch's settings, a
    learning rate schedule in a third of the runs), up to 30 steps, some with two backward
    passes before a step (gradients accumulate), parameters of any shape 0-d included, some
    float32; then the parameters saved and loaded."""
    mixed = seed % 3 == 2
    program = Generator(seed + 30_000, smooth=True, mixed=mixed).draw(_steps(seed, 2, 6))
    rng = random.Random(seed)
    name, settings = _optimizer(rng)
    schedule = _scheduler(rng)
    made_by_op = {i for i in range(len(program.leaves)) if rng.random() < 0.3}
    # float32 runs are short: each library rounds float32 otherwise, and an optimizer that
    # normalizes the gradient (Adam, RMSprop) turns that noise into steps, which compound
    steps = rng.randint(2, 5) if mixed else rng.randint(5, 30)
    twice = rng.random() < 0.4
    targets_rng = np.random.default_rng(seed)

    def check() -> None:
        p_ours = _parameters(program, Ours(), made_by_op)
        p_theirs = _parameters(program, Theirs(), made_by_op)
        trained = [i for i, (_, rg) in enumerate(program.leaves) if rg]
        if not trained:
            return
        opt_ours = getattr(optim, name)([p_ours[i] for i in trained], **settings)
        opt_theirs = getattr(torch.optim, name)([p_theirs[i] for i in trained], **settings)
        schedulers = []
        if schedule is not None:
            kind, options = schedule
            schedulers = [
                getattr(optim.lr_scheduler, kind)(opt_ours, **options),
                getattr(torch.optim.lr_scheduler, kind)(opt_theirs, **options),
            ]
        nodes = run(program, Ours(), p_ours)
        picked = [i for i in requiring(nodes) if nodes[i].size > 0][-2:]
        targets = {i: targets_rng.uniform(-1, 1, nodes[i].shape) for i in picked}
        if not targets:
            return

        def square_loss(params: list[Any], fw: Any) -> Any:
            nodes = run(program, fw, params)
            total = None
            for i, target in targets.items():
                t = target if isinstance(fw, Ours) else torch.tensor(target)
                term = ((nodes[i] - t) ** 2).mean()
                total = term if total is None else total + term
            return total

        for step in range(steps):
            opt_ours.zero_grad()
            opt_theirs.zero_grad()
            loss_ours, loss_theirs = square_loss(p_ours, Ours()), square_loss(p_theirs, Theirs())
            compare(f"step {step}: loss", loss_ours, loss_theirs, loose=mixed)
            if not abs(loss_theirs.item()) < 1e6:
                break  # diverged: past here, the two overflow in their own orders
            loss_ours.backward()
            loss_theirs.backward()
            if twice:
                kept_ours = [p_ours[i].grad for i in trained]
                kept_theirs = [p_theirs[i].grad for i in trained]
                square_loss(p_ours, Ours()).backward()
                square_loss(p_theirs, Theirs()).backward()
                for i, (a, b) in enumerate(zip(kept_ours, kept_theirs)):
                    if a is not None:
                        what = f"step {step}: a kept .grad of parameter {i}"
                        compare(what, a, b, loose=mixed)
            compare_grads(f"step {step}: grad", p_ours, p_theirs, loose=mixed)
            opt_ours.step()
            opt_theirs.step()
            for scheduler in schedulers:
                scheduler.step()
            for i in trained:
                compare(f"step {step}: parameter {i}", p_ours[i], p_theirs[i], loose=mixed)
        path = os.path.join(tmp_path, "trained.npz")
        tl.save({f"p{i}": p_ours[i] for i in trained}, path)
        loaded = tl.load(path)
        for i in trained:
            what = f"parameter {i} saved and loaded"
            close(what, loaded[f"p{i}"], p_theirs[i].detach().numpy(), loose=mixed)

    _explain(program, check)


def test_ieee_edges(seed: int) -> None:
    """Leaves with 0, -0, nan, inf, subnormals here and there, and many matrix products
    with an operand of one element: values and gradients, NaN for NaN."""
    program = Generator(seed + 40_000, edges=True).draw(_steps(seed, 2, 6))

    def check() -> None:
        ours, theirs = run(program, Ours()), run(program, Theirs())
        compare_nodes(ours, theirs)
        weights = weights_for(seed, ours)
        if not weights:
            return
        loss(ours, weights, Ours()).backward()
        loss(theirs, weights, Theirs()).backward()
        compare_grads("grad", ours, theirs)

    _explain(program, check)


def _max_pool_sharing_ties(x: Any, kernel: int, stride: int) -> Any:
    """PyTorch's max_pool2d, with the gradient of a tie shared evenly among the tied pixels.

    Documented difference (ops.md, pooling): tinygrad_lite's max_pool2d is Im2col and Max,
    and Max shares a tie; PyTorch's max_pool2d gives it all to one pixel. amax shares ties.
    """
    n, c, h, w = x.shape
    cols = torch.nn.functional.unfold(x, kernel, stride=stride)  # (N, C*k*k, L)
    out = cols.reshape(n, c, kernel * kernel, -1).amax(dim=2)
    return out.reshape(n, c, (h - kernel) // stride + 1, (w - kernel) // stride + 1)


def test_network_functions(seed: int) -> None:
    """A small classifier's forward and backward, through nn's functions: conv2d (stride,
    padding, bias), an activation, max or average pooling, flatten, a dense layer, and one
    of the losses (cross_entropy with indices or probabilities, nll_loss, mse_loss,
    binary_cross_entropy, its logits form, sse_loss), each with its reduction."""
    rng = random.Random(seed)
    data = np.random.default_rng(seed)
    n, channels, size = rng.choice([1, 2, 3]), rng.choice([1, 2]), rng.choice([4, 5, 6])
    out_channels, kernel = rng.choice([1, 2, 3]), rng.choice([1, 2, 3])
    stride, padding = rng.choice([1, 2]), rng.choice([0, 1])
    activation = rng.choice(["relu", "tanh", "sigmoid"])
    pool = rng.choice(["max", "avg", None])
    pool_kernel, pool_stride = 2, rng.choice([1, 2])
    classes = rng.choice([2, 3, 4])
    loss_kind = rng.choice(
        ["cross_entropy", "cross_entropy_p", "nll_loss", "mse_loss", "bce", "bce_logits", "sse"]
    )
    reduction = rng.choice(["mean", "sum", "none"])
    arrays = {
        "x": data.uniform(-2, 2, (n, channels, size, size)),
        "weight": data.uniform(-1, 1, (out_channels, channels, kernel, kernel)),
        "bias": data.uniform(-1, 1, out_channels) if rng.random() < 0.7 else None,
    }
    conv = (size + 2 * padding - kernel) // stride + 1
    pooled = conv if pool is None else (conv - pool_kernel) // pool_stride + 1
    if pooled < 1:
        pool, pooled = None, conv
    features = out_channels * pooled * pooled
    arrays["w"] = data.uniform(-1, 1, (features, classes))
    arrays["b"] = data.uniform(-1, 1, classes)
    labels = data.integers(0, classes, n)
    probabilities = data.dirichlet(np.ones(classes), n)
    targets01 = data.uniform(0, 1, (n, classes))

    def forward(fw: Any) -> tuple[Any, dict[str, Any]]:
        ours = isinstance(fw, Ours)
        leaves = {k: None if v is None else fw.leaf(v, True) for k, v in arrays.items()}
        if ours:
            h = nn.conv2d(leaves["x"], leaves["weight"], leaves["bias"], stride, padding)
        else:
            h = torch.nn.functional.conv2d(
                leaves["x"], leaves["weight"], leaves["bias"], stride=stride, padding=padding
            )
        h = getattr(h, activation)()
        if pool == "max":
            h = (
                nn.max_pool2d(h, pool_kernel, pool_stride)
                if ours
                else _max_pool_sharing_ties(h, pool_kernel, pool_stride)
            )
        elif pool == "avg":
            h = (
                nn.avg_pool2d(h, pool_kernel, pool_stride)
                if ours
                else torch.nn.functional.avg_pool2d(h, pool_kernel, pool_stride)
            )
        z = h.flatten(1) @ leaves["w"] + leaves["b"]
        t = (lambda a: a) if ours else torch.tensor
        if loss_kind == "cross_entropy":
            target = labels if ours else torch.tensor(labels)
            if ours:
                out = nn.cross_entropy(z, target, reduction=reduction)
            else:
                out = torch.nn.functional.cross_entropy(z, target, reduction=reduction)
        elif loss_kind == "cross_entropy_p":
            if ours:
                out = nn.cross_entropy(z, probabilities, reduction=reduction)
            else:
                out = torch.nn.functional.cross_entropy(z, t(probabilities), reduction=reduction)
        elif loss_kind == "nll_loss":
            if ours:
                out = nn.nll_loss(z.log_softmax(1), labels, reduction=reduction)
            else:
                logp = torch.log_softmax(z, 1)
                out = torch.nn.functional.nll_loss(logp, torch.tensor(labels), reduction=reduction)
        elif loss_kind == "mse_loss":
            out = nn.mse_loss(z, targets01) if ours else ((z - t(targets01)) ** 2).mean()
        elif loss_kind == "bce":
            p = z.sigmoid()
            if ours:
                out = nn.binary_cross_entropy(p, targets01)
            else:
                out = torch.nn.functional.binary_cross_entropy(p, t(targets01))
        elif loss_kind == "bce_logits":
            if ours:
                out = nn.binary_cross_entropy_with_logits(z, targets01)
            else:
                out = torch.nn.functional.binary_cross_entropy_with_logits(z, t(targets01))
        else:
            out = nn.sse_loss(z, targets01) if ours else 0.5 * ((t(targets01) - z) ** 2).sum()
        return out, leaves

    def check() -> None:
        loss_ours, leaves_ours = forward(Ours())
        loss_theirs, leaves_theirs = forward(Theirs())
        compare("loss", loss_ours, loss_theirs)
        seed_grad = np.random.default_rng(seed + 1).uniform(-1, 1, loss_ours.shape)
        loss_ours.backward(gradient=seed_grad if loss_ours.shape else None)
        loss_theirs.backward(gradient=torch.tensor(seed_grad) if loss_ours.shape else None)
        for name in arrays:
            if arrays[name] is not None:
                compare(f"grad of {name}", leaves_ours[name].grad, leaves_theirs[name].grad)

    try:
        check()
    except MismatchError as error:
        raise MismatchError(
            f"{error}\nnetwork: batch {n}, {channels} -> {out_channels} channels of {size}x{size}"
            f", kernel {kernel}, stride {stride}, padding {padding}, {activation}, pool {pool} "
            f"({pool_kernel}, stride {pool_stride}), {classes} classes, {loss_kind} "
            f"({reduction})"
        ) from None
