"""Accuracy against time steps: running scores, the decisions and the curve."""
import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from snn_helpers import SNN, poisson_encode
from snn_helpers.analysis.timesteps import accuracy_by_steps, decisions_by_steps, plot_accuracy_by_steps

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_running_scores_equal_the_scores_of_every_shorter_run(reset):
    torch.manual_seed(0)
    model = SNN(sizes=(784, 32, 10), reset=reset, threshold=0.3)
    x = (torch.rand(6, 4, 784) < 0.4).float()
    running = model.running_scores(x)
    assert running.shape == (6, 4, 10)
    for t in range(1, 7):
        torch.testing.assert_close(running[t - 1], model.scores(x[:t]))


def test_accuracy_by_steps_matches_one_evaluation_per_step_count():
    torch.manual_seed(0)
    model = SNN(sizes=(784, 32, 10), threshold=0.2).eval()
    g = torch.Generator().manual_seed(5)
    images, labels = torch.rand(16, 1, 28, 28, generator=g), torch.randint(0, 10, (16,), generator=g)
    loader = [(images[:8], labels[:8]), (images[8:], labels[8:])]
    curve = accuracy_by_steps(model, loader, 7, generator=torch.Generator().manual_seed(3),
                              device=torch.device("cpu"))
    draw = torch.Generator().manual_seed(3)
    xs = [poisson_encode(batch, 7, draw) for batch, _ in loader]  # the same draws, batch by batch
    for t in range(1, 8):
        preds = torch.cat([model.scores(x[:t]).argmax(1) for x in xs])
        assert curve[t - 1] == pytest.approx((preds == labels).float().mean().item())
    assert len(curve) == 7
    with pytest.raises(ValueError, match="max_steps"):
        accuracy_by_steps(model, loader, 0)


def test_plot_marks_the_training_value():
    fig = plot_accuracy_by_steps([0.5, 0.8, 0.9], train_steps=2)
    assert "80.00%" in fig.axes[0].get_legend().get_texts()[0].get_text()
    with pytest.raises(ValueError, match="train_steps"):
        plot_accuracy_by_steps([0.5, 0.8], train_steps=3)


class FixedScores(torch.nn.Module):
    """A stand-in whose running scores are given: ``running_scores`` ignores the input."""

    def __init__(self, running):
        super().__init__()
        self.running = running

    def running_scores(self, x, features=None):
        return self.running


def test_decisions_by_steps_counts_ties_and_silent_images():
    running = torch.tensor([[[0., 0, 0], [0, 1, 1], [1, 0, 0]],    # step 1: silent, tie 1-2, class 0
                            [[0., 1, 0], [0, 2, 1], [1, 1, 0]]])   # step 2: class 1, class 1, tie 0-1
    labels = torch.tensor([1, 2, 0])
    images = torch.zeros(3, 1, 28, 28)
    result = decisions_by_steps(FixedScores(running), [(images, labels)], 2, device=torch.device("cpu"))
    assert result["accuracy"] == pytest.approx([1 / 3, 2 / 3])   # argmax: [0, 1, 0] then [1, 1, 0]
    assert result["tied"] == pytest.approx([2 / 3, 1 / 3])
    assert result["silent"] == pytest.approx([1 / 3, 0.0])
    assert result["firing"] == pytest.approx([3 / 3, 5 / 3])  # output neurons with a spike, per image
    assert accuracy_by_steps(FixedScores(running), [(images, labels)], 2) == result["accuracy"]
