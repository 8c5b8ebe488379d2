"""models.cli.jobs: the built-in models train exactly as their own modules do."""

from __future__ import annotations

import numpy as np
import pytest

from models import single_neuron, xor_modern, xor_net
from models.cli import comparison, jobs


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
