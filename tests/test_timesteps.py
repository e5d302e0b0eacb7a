"""Accuracy against time steps: running scores, the curve and the slider demo."""
import matplotlib
import matplotlib.pyplot as plt
import pytest
import torch

from snn_helpers import SNN, poisson_encode
from snn_helpers.timesteps import accuracy_by_steps, plot_accuracy_by_steps, steps_demo

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
