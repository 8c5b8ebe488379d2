"""What the command line works on: a model with its data, loss and optimizer (a ``Job``).

A job comes from a built-in name (the seed's networks, the modern XOR net and the digit
classifiers, each from its own module) or from a TOML file (``models.cli.config``). Every
command uses the same few operations: an epoch of training, the loss, the predictions or
accuracies, the names of the tensors.

A job trains on all its rows at once (one step per epoch, as the seed does) or, given a
``batch_size``, in shuffled mini-batches (``models.minibatch``). A classifier (a job with
``class_names``) learns class labels and reports its accuracy, on a test split if it has
one.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import tinygrad_lite as tl
from models import digits, minibatch
from models.cli import config, gradients
from models.cli.comparison import Comparison, compare_minibatch, compare_seed
from tinygrad_lite import nn, optim

LOSSES: dict[str, Callable[[tl.Tensor, Any], tl.Tensor]] = {
    "sse": nn.sse_loss,
    "mse": nn.mse_loss,
    "bce": nn.binary_cross_entropy,
    "bce_with_logits": nn.binary_cross_entropy_with_logits,
    "cross_entropy": nn.cross_entropy,
    "nll": nn.nll_loss,
}
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "Sigmoid": nn.Sigmoid,
    "ReLU": nn.ReLU,
    "Tanh": nn.Tanh,
}


class ModelError(ValueError):
    """A MODEL argument that is neither a built-in name nor a TOML file."""


@dataclass
class Job:
    """A model, the data it learns, and how: everything a command needs."""

    name: str
    model: nn.Module
    inputs: tl.Tensor
    targets: tl.Tensor  # (samples, outputs), or (samples,) class labels for a classifier
    loss_name: str
    optimizer: optim.Optimizer
    epochs: int
    lr: float
    seed: int
    input_names: tuple[str, ...]
    target_names: tuple[str, ...]
    logits: bool = False  # the model outputs logits: predictions are sigmoid(output)
    # compare: runs autodiff and the hand-written version side by side (None: there is none)
    hand_written: Callable[[Job, int, Callable[[int], None] | None], Comparison] | None = None
    batch_size: int | None = None  # rows per step; None: all of them, one step per epoch
    rng: np.random.Generator | None = None  # shuffles the batches
    scheduler: Any = None  # an optim.lr_scheduler, stepped after each epoch
    class_names: tuple[str, ...] | None = None  # a classifier: the name of each class
    test_inputs: tl.Tensor | None = None
    test_targets: tl.Tensor | None = None
    module: Any = None  # the module of a built-in model
    loss_fn: Callable[[tl.Tensor, Any], tl.Tensor] = field(init=False)
    _first_batch: tuple[tl.Tensor, tl.Tensor] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.loss_fn = LOSSES[self.loss_name]

    @property
    def classifier(self) -> bool:
        return self.class_names is not None

    @property
    def steps_per_epoch(self) -> int:
        n = len(self.inputs.data)
        return 1 if self.batch_size is None else max(1, math.ceil(n / self.batch_size))

    def first_batch(self) -> tuple[tl.Tensor, tl.Tensor]:
        """The rows one step trains on, for the commands that look at one step (graph,
        trace, gradcheck, compile): all of them, or the first ``batch_size``; the same two
        Tensors at every call (so that ``names()`` names them)."""
        if self.batch_size is None:
            return self.inputs, self.targets
        if self._first_batch is None:
            rows = slice(0, self.batch_size)
            self._first_batch = (
                tl.Tensor(self.inputs.data[rows]),
                tl.Tensor(self.targets.data[rows]),
            )
        return self._first_batch

    def loss(self) -> tl.Tensor:
        """The loss of the model on the first batch (a graph, ready for backward)."""
        inputs, targets = self.first_batch()
        return self.loss_fn(self.model(inputs), targets)

    def step(self) -> float:
        """One step of training on all the rows; returns the loss before the update."""
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(self.inputs), self.targets)
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def train_epoch(
        self,
        on_step: Callable[[], None] | None = None,
        step: Callable[[tl.Tensor, tl.Tensor], tl.Tensor] | None = None,
    ) -> float:
        """One epoch: one step on all the rows, or a step per mini-batch; then the schedule,
        if any. Returns the loss before the update (for mini-batches, the mean over the
        rows of the loss each batch had before its own step). ``step``, if given, is a
        ``training_step()`` to run instead (one that ``tl.compile`` made), with the same
        batches and the same results."""
        if self.batch_size is None:
            loss = self.step() if step is None else step(self.inputs, self.targets).item()
            if on_step is not None:
                on_step()
        elif step is None:
            assert self.rng is not None
            loss = minibatch.train_epoch(
                self.model,
                self.optimizer,
                self.inputs,
                self.targets,
                self.batch_size,
                self.rng,
                on_step,
                self.loss_fn,
            )
        else:
            self.model.train()
            total = 0.0
            for x, y in tl.data.batches(
                self.inputs, self.targets, batch_size=self.batch_size, rng=self.rng
            ):
                total += step(x, y).item() * len(x.data)
                if on_step is not None:
                    on_step()
            loss = total / len(self.inputs.data)
        if self.scheduler is not None:
            self.scheduler.step()
        return loss

    def training_step(self) -> Callable[[tl.Tensor, tl.Tensor], tl.Tensor]:
        """``step(X, y)``: one step of training on the rows given, returning the loss before
        the update; the function ``tl.compile`` records (``train --compile``, ``compile``).
        It names the model and the optimizer as locals, so that the program names the
        parameters after the model's own (model_0_weight)."""
        model, optimizer, loss_fn = self.model, self.optimizer, self.loss_fn

        def step(X: tl.Tensor, y: tl.Tensor) -> tl.Tensor:  # noqa: N803 (the seed's names)
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            optimizer.step()
            return loss

        return step

    def hand_written_source(self) -> str | None:
        """The source of the hand-written training (its helpers, fp, bp and loop), or None
        for a model that has none."""
        if self.hand_written is None:
            return None
        loop = "manual_steps" if hasattr(self.module, "manual_steps") else "manual_train"
        names = ("im2col", "col2im", "fp", "bp", loop)
        functions = [getattr(self.module, name, None) for name in names]
        return "\n\n".join(inspect.getsource(f) for f in functions if f is not None)

    def evaluate(self) -> float:
        """The loss on all the training rows now, in evaluation mode, without a graph."""
        with tl.no_grad(), _evaluating(self.model):
            return self.loss_fn(self.model(self.inputs), self.targets).item()

    def predictions(self) -> np.ndarray:
        """The model's outputs on the inputs (probabilities, for a model giving logits);
        for a classifier, the class of each test row (each training row, without a test
        split)."""
        if self.classifier:
            inputs = self.inputs if self.test_inputs is None else self.test_inputs
            return minibatch.predict(self.model, inputs)
        with tl.no_grad(), _evaluating(self.model):
            out = self.model(self.inputs)
            return (out.sigmoid() if self.logits else out).numpy()

    def accuracies(self) -> tuple[float, float | None]:
        """A classifier's accuracy on the training rows and on the test rows (None without
        a test split)."""
        train = minibatch.accuracy(self.model, self.inputs, self.targets.data)
        if self.test_inputs is None or self.test_targets is None:
            return train, None
        return train, minibatch.accuracy(self.model, self.test_inputs, self.test_targets.data)

    def names(self) -> dict[str, tl.Tensor]:
        """Names for graphs and traces: the data as X and y, the parameters by their names."""
        inputs, targets = self.first_batch()
        return {"X": inputs, "y": targets, **dict(self.model.named_parameters())}

    def optimizer_text(self) -> str:
        """The optimizer and the settings it was given: ``SGD(lr=0.1, momentum=0.9)``."""
        settings = [f"lr={self.lr:g}"]
        for key in ("momentum", "weight_decay", "nesterov"):
            value = getattr(self.optimizer, key, None)
            if value:
                settings.append(f"{key}={value:g}" if key != "nesterov" else "nesterov=True")
        return f"{type(self.optimizer).__name__}({', '.join(settings)})"

    def settings(self) -> dict[str, Any]:
        found = {
            "epochs": self.epochs,
            "lr": self.lr,
            "seed": self.seed,
            "loss": self.loss_name,
            "optimizer": type(self.optimizer).__name__,
        }
        if self.batch_size is not None:
            found["batch_size"] = self.batch_size
        return found

    def describe(self) -> str:
        """One line: the settings, for the top of an output."""
        batches = "" if self.batch_size is None else f", batches of {self.batch_size}"
        schedule = "" if self.scheduler is None else f", {type(self.scheduler).__name__}"
        test = "" if self.test_inputs is None else f" (and {len(self.test_inputs.data)} to test)"
        return (
            f"{_epochs(self.epochs)}, {self.optimizer_text()}{schedule}{batches}, "
            f"{self.loss_name} loss, seed {self.seed}, {len(self.inputs.data)} samples{test}"
        )

    def gradcheck(self) -> list[gradients.GradcheckResult]:
        """``tl.gradcheck`` of the loss on the first batch with respect to each parameter, at
        the current weights (``models.cli.gradients``)."""
        return gradients.check_parameters(self.model, self.loss)


def _epochs(count: int) -> str:
    return f"{count} epoch" if count == 1 else f"{count} epochs"


class _evaluating:  # noqa: N801 (a context manager, named like no_grad)
    """Evaluation mode inside (Dropout off), the model's own mode again after."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.was_training = model.training

    def __enter__(self) -> None:
        self.model.eval()

    def __exit__(self, *exc_info: object) -> None:
        self.model.train(self.was_training)


# ---------------------------------------------------------------------------- making jobs


def make(
    model: str, epochs: int | None = None, lr: float | None = None, seed: int | None = None
) -> Job:
    """The job for a MODEL argument; ``epochs``, ``lr`` and ``seed`` override its own."""
    if model in BUILT_IN:
        return BUILT_IN[model](epochs, lr, seed)
    path = Path(model)
    if path.suffix.lower() == ".toml" or path.is_file():
        return from_config(config.load(path), epochs, lr, seed)
    raise ModelError(
        f"unknown model {model!r}; accepted: {', '.join(BUILT_IN)}, or the path of a .toml file"
    )


def from_config(
    declared: config.NetworkConfig, epochs: int | None, lr: float | None, seed: int | None
) -> Job:
    """A job from a checked TOML declaration (see ``models.cli.config``)."""
    seed = declared.seed if seed is None else seed
    lr = declared.lr if lr is None else lr
    epochs = declared.epochs if epochs is None else epochs
    rng = np.random.RandomState(seed)  # the initial weights, layer by layer
    shuffle = np.random.default_rng(seed)  # the batches, then what Dropout drops
    model = nn.Sequential(
        *(_layer(layer, declared.init, rng, shuffle) for layer in declared.layers)
    )
    optimizer = _optimizer(declared, model, lr)
    data = declared.data
    test = data.test_inputs is not None and data.test_targets is not None
    return Job(
        name=declared.name,
        model=model,
        inputs=tl.Tensor(data.inputs),
        targets=tl.Tensor(data.targets),
        loss_name=declared.loss,
        optimizer=optimizer,
        epochs=epochs,
        lr=lr,
        seed=seed,
        input_names=data.input_names,
        target_names=data.target_names,
        logits=declared.loss == "bce_with_logits",
        batch_size=declared.batch_size,
        rng=shuffle,
        scheduler=_scheduler(declared, optimizer, epochs),
        class_names=data.class_names,
        test_inputs=tl.Tensor(data.test_inputs) if test else None,
        test_targets=tl.Tensor(data.test_targets) if test else None,
    )


def _layer(
    layer: config.Layer, init: str, rng: np.random.RandomState, shuffle: np.random.Generator
) -> nn.Module:
    """The module a declared layer makes. ``init = "uniform"`` draws a trained layer's
    weight, then its bias, from U[-1, 1) (the seed's init); "default" is the layer's own."""
    kind, arguments = layer.kind, layer.arguments
    if kind == "Linear":
        if init == "uniform":
            shape = (arguments["in_features"], arguments["out_features"])
            weight = tl.init.uniform(shape, rng=rng)
            has_bias = arguments["bias"]
            bias = tl.init.uniform((shape[1],), rng=rng) if has_bias else None
            return nn.Linear.from_weights(weight, bias)
        return nn.Linear(**arguments, rng=rng)
    if kind == "Conv2d":
        conv = nn.Conv2d(**arguments, rng=rng)
        if init == "uniform":
            conv.weight.data[...] = tl.init.uniform(conv.weight.shape, rng=rng)
            if conv.bias is not None:
                conv.bias.data[...] = tl.init.uniform(conv.bias.shape, rng=rng)
        return conv
    if kind in ("MaxPool2d", "AvgPool2d"):
        return getattr(nn, kind)(**arguments)
    if kind == "Flatten":
        return nn.Flatten(**arguments)
    if kind == "Dropout":
        return nn.Dropout(**arguments, rng=shuffle)
    if kind in ("Softmax", "LogSoftmax"):
        return getattr(nn, kind)(**arguments)
    return ACTIVATIONS[kind]()


def _optimizer(declared: config.NetworkConfig, model: nn.Module, lr: float) -> optim.Optimizer:
    params = model.parameters()
    decay = {} if declared.weight_decay is None else {"weight_decay": declared.weight_decay}
    if declared.optimizer == "sgd":
        return optim.SGD(
            params, lr=lr, momentum=declared.momentum, nesterov=declared.nesterov, **decay
        )
    if declared.optimizer == "rmsprop":
        return optim.RMSprop(params, lr=lr, momentum=declared.momentum, **decay)
    kinds = {"adam": optim.Adam, "adamw": optim.AdamW, "adagrad": optim.Adagrad}
    return kinds[declared.optimizer](params, lr=lr, **decay)


def _scheduler(declared: config.NetworkConfig, optimizer: optim.Optimizer, epochs: int) -> Any:
    if declared.schedule == "step":
        return optim.lr_scheduler.StepLR(optimizer, declared.step_size, declared.gamma)
    if declared.schedule == "cosine":
        return optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, epochs), eta_min=declared.eta_min
        )
    return None


def has_hand_written(name: str) -> bool:
    """Whether the built-in model ``name`` has a hand-written backprop to compare with."""
    return name in HAND_WRITTEN


def _seed_job(name: str) -> Callable[[int | None, float | None, int | None], Job]:
    """The job of a seed network: its module's model, data and epochs, sse_loss and SGD."""

    def make_job(epochs: int | None, lr: float | None, seed: int | None) -> Job:
        module = _module(name)
        seed = 1 if seed is None else seed
        lr = 1.0 if lr is None else lr
        model = module.build(seed)
        return Job(
            name=name,
            model=model,
            inputs=tl.Tensor(module.X),
            targets=tl.Tensor(module.y),
            loss_name="sse",
            optimizer=optim.SGD(model.parameters(), lr=lr),
            epochs=module.EPOCHS if epochs is None else epochs,
            lr=lr,
            seed=seed,
            input_names=tuple(f"x{i}" for i in range(module.X.shape[1])),
            target_names=("y",),
            hand_written=_compare_seed,
            module=module,
        )

    return make_job


def _digits_job(name: str) -> Callable[[int | None, float | None, int | None], Job]:
    """The job of a digit classifier: its module's model and settings, on the fixed split
    of the shipped digits, trained as its own ``train`` trains it."""

    def make_job(epochs: int | None, lr: float | None, seed: int | None) -> Job:
        module = _module(name)
        seed = 0 if seed is None else seed
        lr = module.LR if lr is None else lr
        model = module.build(seed)
        split = digits.load_split()
        shape = module.INPUT_SHAPE  # of one sample
        return Job(
            name=name,
            model=model,
            inputs=tl.Tensor(split.x_train.reshape(-1, *shape)),
            targets=tl.Tensor(split.y_train),
            loss_name="cross_entropy",
            optimizer=module.make_optimizer(model, lr),
            epochs=module.EPOCHS if epochs is None else epochs,
            lr=lr,
            seed=seed,
            input_names=tuple(f"pixel{i}" for i in range(split.x_train.shape[1])),
            target_names=("digit",),
            hand_written=_compare_minibatch,
            batch_size=module.BATCH_SIZE,
            rng=np.random.default_rng(seed),
            class_names=tuple(str(c) for c in range(digits.N_CLASSES)),
            test_inputs=tl.Tensor(split.x_test.reshape(-1, *shape)),
            test_targets=tl.Tensor(split.y_test),
            module=module,
        )

    return make_job


def _module(name: str) -> Any:
    # Imported when asked for, so that `tinygrad-lite train some.toml` loads none of them.
    if name == "single-neuron":
        from models import single_neuron

        return single_neuron
    if name == "xor":
        from models import xor_net

        return xor_net
    if name == "xor-modern":
        from models import xor_modern

        return xor_modern
    if name == "digits-mlp":
        from models import digits_mlp

        return digits_mlp
    from models import digits_cnn

    return digits_cnn


MODERN_LR = 0.05  # the default lr of xor_modern.train (a test holds the two together)


def _modern_job(epochs: int | None, lr: float | None, seed: int | None) -> Job:
    """XOR as one would write it today (``models.xor_modern``): Adam on BCE with logits."""
    module = _module("xor-modern")
    seed = 0 if seed is None else seed
    lr = MODERN_LR if lr is None else lr
    model = module.build(seed)
    return Job(
        name="xor-modern",
        model=model,
        inputs=tl.Tensor(module.X),
        targets=tl.Tensor(module.y),
        loss_name="bce_with_logits",
        optimizer=optim.Adam(model.parameters(), lr=lr),
        epochs=module.EPOCHS if epochs is None else epochs,
        lr=lr,
        seed=seed,
        input_names=("x0", "x1"),
        target_names=("y",),
        logits=True,
        module=module,
    )


HAND_WRITTEN = ("single-neuron", "xor", "digits-mlp", "digits-cnn")
BUILT_IN: dict[str, Callable[[int | None, float | None, int | None], Job]] = {
    "single-neuron": _seed_job("single-neuron"),
    "xor": _seed_job("xor"),
    "xor-modern": _modern_job,
    "digits-mlp": _digits_job("digits-mlp"),
    "digits-cnn": _digits_job("digits-cnn"),
}


# ------------------------------------------------------------------------------ compare


def _compare_seed(
    job: Job, count: int, on_epoch: Callable[[int], None] | None = None
) -> Comparison:
    """The seed module's autodiff ``train`` and its hand-written ``manual_train``, in
    lockstep from the job's initial weights (``models.cli.comparison``)."""
    return compare_seed(job.name, job.module, job.model, job.epochs, count, job.seed, on_epoch)


def _compare_minibatch(
    job: Job, count: int, on_step: Callable[[int], None] | None = None
) -> Comparison:
    """A classifier's autodiff ``train`` and its hand-written ``manual_steps``, in lockstep
    step by step from the job's initial weights (``models.cli.comparison``)."""
    return compare_minibatch(job.name, job.module, job.model, job.epochs, count, job.seed, on_step)
