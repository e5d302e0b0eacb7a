"""Accuracy against time steps: running scores, the curve and the slider demo."""
import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from snn_helpers import SNN, poisson_encode
from snn_helpers.timesteps import accuracy_by_steps, decisions_by_steps, plot_accuracy_by_steps, steps_demo

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


def test_steps_demo_prints_and_returns_the_same_numbers(capsys):
    torch.manual_seed(0)
    model = SNN(sizes=(784, 16, 10), threshold=0.2)
    image = torch.rand(1, 28, 28)
    result = steps_demo(3, model, image, 7, [0.1, 0.2, 0.3, 0.4], seed=1)
    again = steps_demo(3, model, image, 7, [0.1, 0.2, 0.3, 0.4], seed=1)
    assert result == again and result["accuracy"] == pytest.approx(30.0)
    x = poisson_encode(image.unsqueeze(0), 3, torch.Generator().manual_seed(1))
    assert result["spikes"][0] == int(x.sum())
    _, rec = model(x, record=True)
    assert result["spikes"][1:] == [int(s.sum()) for s in rec["spikes"]]
    assert result["predicted"] == int(rec["spikes"][-1].sum(0)[0].argmax())
    line = capsys.readouterr().out.splitlines()[0]
    assert line.startswith("steps: 3 | accuracy: 30.0% | predicted: ")
    assert f"input {result['spikes'][0]}" in line
    with pytest.raises(ValueError, match="num_steps"):
        steps_demo(5, model, image, 7, [0.1, 0.2, 0.3, 0.4])


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


def test_steps_demo_leaves_the_model_where_and_as_it_was(capsys, monkeypatch):
    torch.manual_seed(0)
    model = SNN(sizes=(784, 16, 10), threshold=0.2).train()
    before = {key: value.clone() for key, value in model.state_dict().items()}

    def refuse(*args, **kwargs):
        raise AssertionError("steps_demo moved the caller's model")

    for name in ("cpu", "cuda", "to"):
        monkeypatch.setattr(model, name, refuse)
    steps_demo(2, model, torch.rand(1, 28, 28), 3, [0.5, 0.6])
    assert model.training, "steps_demo left the model in eval mode"
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    if torch.cuda.is_available():  # on a GPU machine: a model on the GPU stays there and still works
        model = SNN(sizes=(784, 16, 10), threshold=0.2).cuda()
        image = (torch.rand(1, 28, 28) < 0.3).float()  # pixels 0 or 1: the input spikes are certain
        result = steps_demo(2, model, image, 3, [0.5, 0.6])
        assert next(model.parameters()).is_cuda and result["spikes"][0] == 2 * int(image.sum())


def test_steps_demo_names_a_tie(capsys):
    model = SNN(sizes=(784, 16, 10), threshold=1e6)  # nothing can fire: all ten classes tie at 0
    result = steps_demo(1, model, torch.rand(1, 28, 28), 4, [0.1])
    assert result["predicted"] == 0 and result["tied"] == list(range(10))
    assert "predicted: 0 (no output spike: all 10 classes tied at 0, argmax takes 0) (label 4)" in \
        capsys.readouterr().out
