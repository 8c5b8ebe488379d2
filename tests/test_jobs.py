"""models.cli.jobs: the built-in models train exactly as their own modules do."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models import digits, digits_cnn, digits_mlp, minibatch, single_neuron, xor_modern, xor_net
from models.cli import comparison, jobs
from tinygrad_lite import optim

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("name", "module", "seed"),
    [("single-neuron", single_neuron, 1), ("xor", xor_net, 1), ("xor-modern", xor_modern, 0)],
)
def test_a_built_in_job_is_its_modules_training_bit_for_bit(
    name: str, module: object, seed: int
) -> None:
    epochs = 60
    reference = module.build(seed)  # type: ignore[attr-defined]
    expected = module.train(reference, epochs)  # type: ignore[attr-defined]
    job = jobs.make(name, epochs=epochs)
    assert job.seed == seed
    losses = [job.step() for _ in range(job.epochs)]
    np.testing.assert_array_equal(losses, expected)
    for (_, ours), (_, theirs) in zip(job.model.named_parameters(), reference.named_parameters()):
        np.testing.assert_array_equal(ours.data, theirs.data)


def test_predictions_of_a_logit_model_are_probabilities() -> None:
    job = jobs.make("xor-modern", epochs=200)
    for _ in range(job.epochs):
        job.step()
    np.testing.assert_array_equal(job.predictions(), xor_modern.predict(job.model, xor_modern.X))


def test_checkpoints_spread_over_the_run() -> None:
    assert comparison.checkpoints(30, 3) == [1, 10, 20, 30]
    assert comparison.checkpoints(2, 5) == [1, 2]
    assert comparison.checkpoints(0, 5) == [0]


def test_the_comparison_catches_a_hand_written_loop_that_differs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job = jobs.make("single-neuron", epochs=5)
    result = job.hand_written(job, 5, None)  # type: ignore[misc]
    assert result.identical and result.differences[-1] == [0.0]

    seed_loop = single_neuron.manual_train

    def off_by_one_ulp(state: dict[str, np.ndarray], epochs: int) -> dict[str, np.ndarray]:
        seed_loop(state, epochs)
        state["0.weight"][0, 0] = np.nextafter(state["0.weight"][0, 0], np.inf)
        return state

    monkeypatch.setattr(single_neuron, "manual_train", off_by_one_ulp)
    job = jobs.make("single-neuron", epochs=5)
    result = job.hand_written(job, 5, None)  # type: ignore[misc]
    assert not result.identical
    assert 0 < result.differences[-1][0] < 1e-12
    assert "bit-identical: no" in result.table()


def test_gradcheck_finds_a_wrong_gradient() -> None:
    job = jobs.make("single-neuron")
    results = job.gradcheck()
    assert [r.parameter for r in results] == ["0.weight"] and results[0].passed
    assert results[0].abs_error < 1e-8

    class Doubled:
        """A loss whose gradient is twice what its value says: the check must fail."""

        def __init__(self, loss_fn: object) -> None:
            self.loss_fn = loss_fn

        def __call__(self, pred: object, target: object) -> object:
            loss = self.loss_fn(pred, target)  # type: ignore[operator]
            return loss + (loss - loss.detach())

    job.loss_fn = Doubled(job.loss_fn)  # type: ignore[assignment]
    (result,) = job.gradcheck()
    assert not result.passed
    np.testing.assert_allclose(result.analytic, 2 * result.numeric, rtol=1e-5)


@pytest.mark.parametrize("name", ["digits-mlp", "digits-cnn"])
def test_a_digits_job_trains_as_its_module_bit_for_bit(name: str) -> None:
    module = digits_mlp if name == "digits-mlp" else digits_cnn
    reference = module.build(0)
    expected = module.train(reference, epochs=2)
    job = jobs.make(name, epochs=2)
    steps: list[int] = []
    losses = [job.train_epoch(lambda: steps.append(1)) for _ in range(job.epochs)]
    assert len(steps) == 2 * job.steps_per_epoch == 90
    np.testing.assert_array_equal(losses, expected)
    for (_, ours), (_, theirs) in zip(job.model.named_parameters(), reference.named_parameters()):
        assert ours.data.tobytes() == theirs.data.tobytes()
    train, test = job.accuracies()
    split = digits.load_split()
    test_images = split.x_test.reshape(-1, *module.INPUT_SHAPE)
    assert test == minibatch.accuracy(reference, test_images, split.y_test)
    assert 0.9 < train <= 1


def test_the_declared_digits_train_as_digits_mlp_bit_for_bit() -> None:
    declared = jobs.make(str(ROOT / "examples" / "digits.toml"), epochs=2)
    built_in = jobs.make("digits-mlp", epochs=2)
    assert declared.describe() == built_in.describe()
    for job in (declared, built_in):
        for _ in range(job.epochs):
            job.train_epoch()
    for (_, ours), (_, theirs) in zip(
        declared.model.named_parameters(), built_in.model.named_parameters()
    ):
        assert ours.data.tobytes() == theirs.data.tobytes()


def test_a_compiled_epoch_of_mini_batches_is_the_eager_epoch() -> None:
    import tinygrad_lite as tl

    eager, compiled = jobs.make("digits-mlp", epochs=2), jobs.make("digits-mlp", epochs=2)
    step = tl.compile(compiled.training_step())
    for _ in range(2):
        assert eager.train_epoch() == compiled.train_epoch(step=step)
    assert step.compiled
    for (_, ours), (_, theirs) in zip(
        eager.model.named_parameters(), compiled.model.named_parameters()
    ):
        assert ours.data.tobytes() == theirs.data.tobytes()


def test_a_declared_classifier_with_dropout_a_schedule_and_adamw(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "digits.toml").read_text()
    text = text.replace(
        '[[layers]]\ntype = "ReLU"\n',
        '[[layers]]\ntype = "ReLU"\n\n[[layers]]\ntype = "Dropout"\np = 0.2\n',
    )
    text = text.replace('optimizer = "sgd"', 'optimizer = "adamw"').replace("momentum = 0.9\n", "")
    text = text.replace("lr = 0.1", "lr = 0.003\nschedule = 'step'\nstep_size = 1\ngamma = 0.5")
    path = tmp_path / "net.toml"
    path.write_text(text)
    job = jobs.make(str(path), epochs=3)
    assert isinstance(job.optimizer, optim.AdamW) and job.optimizer.weight_decay == 0.01
    assert [type(m).__name__ for m in job.model] == ["Linear", "ReLU", "Dropout", "Linear"]
    lrs = []
    for _ in range(job.epochs):
        lrs.append(job.optimizer.lr)
        job.train_epoch()
    assert lrs == [0.003, 0.0015, 0.00075]
    assert job.model.training  # accuracies are measured in eval mode, then training resumes
    train, test = job.accuracies()
    assert job.model.training and test is not None and test > 0.9
    # Dropout is off in evaluation mode: the accuracy does not change from call to call.
    assert job.accuracies() == (train, test)
