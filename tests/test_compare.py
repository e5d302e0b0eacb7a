"""SNN against ANN: the MLP, operation counts, energy and firing rates."""
import pytest
import torch

from snn_helpers import SNN
from snn_helpers.analysis.ann import ANN, ann_activity, evaluate_ann, fit_ann
from snn_helpers.analysis.costs import PJ_PER_AC, PJ_PER_MAC, ann_macs, energy_pj, snn_activity, synaptic_ops
from snn_helpers.course.conclusions import conclusion_markdown


def test_ann_has_the_snn_shape_and_its_macs_are_its_weights():
    ann = ANN()
    assert ann(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    weights = sum(m.weight.numel() for m in ann if isinstance(m, torch.nn.Linear))
    assert ann_macs(ann.sizes) == weights == 784 * 512 + 512 * 256 + 256 * 10 == 535_040
    assert sum(isinstance(m, torch.nn.ReLU) for m in ann) == 2  # none after the output layer


def test_synaptic_ops_count_one_accumulate_per_spike_and_outgoing_synapse():
    into_1 = torch.zeros(3, 2, 5)  # T=3, B=2, 5 inputs
    into_1[0, 0, :2] = 1  # image 0: 2 spikes at t=0 ...
    into_1[2, 0, 4] = 1  # ... and 1 at t=2; image 1: 3 spikes
    into_1[1, 1, 1:4] = 1
    into_2 = torch.zeros(3, 2, 4)
    into_2[:, 1, 0] = 1  # image 1: 3 spikes; image 0: none
    # per image: layer 1 (6 spikes * 7 synapses) / 2 images, layer 2 (3 spikes * 2) / 2
    assert synaptic_ops([into_1, into_2], [7, 2]) == [21.0, 3.0]
    with pytest.raises(ValueError, match="layer_inputs and fan_outs"):
        synaptic_ops([into_1], [7, 2])


def test_snn_activity_matches_a_hand_count():
    """Pixels of 1.0 always fire, of 0.0 never; layer 1 always fires, layer 2 never does."""
    model = SNN(sizes=(4, 3, 2), reset="subtract")
    with torch.no_grad():
        model.fcs[0].weight.fill_(2.0)
        model.fcs[0].bias.zero_()
        model.fcs[1].weight.zero_()
        model.fcs[1].bias.zero_()
    images = torch.tensor([[1.0, 1.0, 0.0, 0.0]] * 2)
    stats = snn_activity(model, [(images, torch.zeros(2))], num_steps=5, device=torch.device("cpu"))
    assert stats["images"] == 2
    assert stats["layers"] == ["input", "layer 1", "layer 2"]
    assert stats["rates"] == [0.5, 1.0, 0.0]
    assert stats["synops"] == [2 * 5 * 3, 3 * 5 * 2]  # input spikes * 3 synapses, layer-1 spikes * 2
    assert stats["neuron_updates"] == (3 + 2) * 5


def test_energy_uses_the_published_figures():
    assert (PJ_PER_MAC, PJ_PER_AC) == (4.6, 0.9)
    assert energy_pj(macs=10, acs=100) == pytest.approx(46 + 90)
    with pytest.raises(ValueError, match="acs"):
        energy_pj(acs=-1)


def test_fit_ann_learns_a_separable_problem():
    torch.manual_seed(0)
    x = torch.randn(512, 6)
    y = (x[:, 0] > 0).long()
    batches = [(x[i:i + 64], y[i:i + 64]) for i in range(0, 512, 64)]
    ann = ANN(sizes=(6, 16, 2))
    history = fit_ann(ann, batches, epochs=5, lr=1e-2, device=torch.device("cpu"))
    assert history[-1] < history[0]
    assert evaluate_ann(ann, batches, device=torch.device("cpu")) > 0.9


def test_ann_activity_counts_non_zero_inputs_of_every_weight_layer():
    ann = ANN(sizes=(2, 2, 3))
    with torch.no_grad():
        ann[1].weight.copy_(torch.tensor([[1.0, 0.0], [-1.0, 0.0]]))
        ann[1].bias.zero_()
    images = torch.tensor([[1.0, 5.0], [2.0, 0.0], [-3.0, 0.0], [0.0, 0.0]])
    stats = ann_activity(ann, [(images[:2], None), (images[2:], None)], device=torch.device("cpu"))
    # pixels: 4 of 8 non-zero; hidden: one unit of two is positive for the first three images, none for the last
    assert stats["active"] == [0.5, 3 / 8]
    assert stats["macs_skipping_zeros"] == [4 / 4 * 2, 3 / 4 * 3]


def conclusion_results(**changes):
    """A results dict for conclusion_markdown, with numbers unlike any of a real run."""
    results = {
        "ann_accuracy": 0.9711, "snn_accuracy": 0.9733, "ann_train_seconds": 12.5, "snn_train_seconds": 50.0,
        "ann_test_seconds": 0.25, "snn_test_seconds": 1.5, "test_images": 1234, "ann_macs": 535_040,
        "ann_sparse_macs": 100_001, "snn_acs": 600_123, "snn_macs": 7_780, "input_spikes": 987.6,
        "energy": {"ANN": energy_pj(macs=535_040), "ANN, zeros skipped": energy_pj(macs=100_001),
                   "SNN": energy_pj(macs=7_780, acs=600_123)},
        "snn_hidden_rates": [0.104, 0.171], "ann_hidden_active": [0.333, 0.555], "num_steps": 4,
        "accuracy_by_steps": [0.2, 0.965, 0.97, 0.9733, 0.974],
    }
    results.update(changes)
    return results


NOISE = {"noise_points": 0.9, "noise_source": "a figure made up for the test"}


def test_conclusion_quotes_the_numbers_it_is_given():
    text = conclusion_markdown(conclusion_results(), **NOISE)
    for quoted in ("97.33%", "97.11%", "4.0 times as long as the ANN to train (50.0 s against 12.5 s)",
                   "6.0 times as long as the ANN to classify the 1,234 test images (1.50 s against 0.25 s)",
                   "600,123 accumulates plus 7,780 membrane updates", "535,040 multiply-accumulates",
                   "988 Poisson spikes", "over the 4 time steps", "100,001 multiply-accumulates",
                   f"{energy_pj(macs=7_780, acs=600_123) / 1e6:.2f} µJ", "10%–17%", "33%–56%",
                   "reaches 97.33% with 4; 2 steps already come within one point", "a single step gives 20.00%",
                   "0.90 points taken as noise (a figure made up for the test)", "indicative"):
        assert quoted in text, quoted
    assert "**Accuracy: a draw.**" in text and "one training run of each" in text  # 0.22 points: noise
    assert "the SNN does more" in text and "the ANN wins" in text
    assert "no more than the SNN, so in this estimate the saving comes from skipping zeros" in text
    assert text.count("\n* ") == 5 and text.startswith("* ")


def test_conclusion_verdicts_follow_the_numbers():
    ahead = conclusion_markdown(conclusion_results(ann_accuracy=0.95), **NOISE)
    assert "**Accuracy: the SNN is ahead.**" in ahead and "2.33 points" in ahead
    behind = conclusion_markdown(conclusion_results(snn_accuracy=0.96), noise_points=1.0, noise_source="x")
    assert "**Accuracy: the ANN is ahead.**" in behind and "1.11 points, more than the 1.00 points" in behind
    fewer = conclusion_markdown(conclusion_results(snn_acs=100_000, energy={
        "ANN": 2.0e6, "ANN, zeros skipped": 1.0e6, "SNN": 0.5e6}), **NOISE)
    assert "the SNN does fewer" in fewer and "more than the SNN, so here spiking saves energy" in fewer
    assert "the number of operations" not in fewer.split("Where it can win")[0]
    fast = conclusion_markdown(conclusion_results(snn_train_seconds=10.0, snn_test_seconds=0.1), **NOISE)
    assert "Speed on this computer (indicative): mixed" in fast and "0.8 times as long as" in fast
    assert "wall time" not in fast.split("**Where")[1]


def test_quick_mode_gives_no_accuracy_verdict():
    quick = conclusion_markdown(conclusion_results(ann_accuracy=0.5), **NOISE, quick=True)
    assert "**Accuracy: no verdict in quick mode.**" in quick and "ahead" not in quick
    assert "mostly noise" in quick
    assert "mostly noise" not in conclusion_markdown(conclusion_results(), **NOISE)


def test_fewer_time_steps_win_only_when_they_save_at_least_half():
    """With 4 training steps, 2 steps within one point is a win (50% fewer); 3 steps is a loss, never both."""
    half = conclusion_markdown(conclusion_results(), **NOISE)
    loses, wins = half.split("**Where it can win:**")
    assert "answering with 2 of its 4 time steps" in wins and "50% fewer steps" in wins
    assert "latency" not in loses
    late = conclusion_markdown(conclusion_results(accuracy_by_steps=[0.2, 0.5, 0.965, 0.9733, 0.974]), **NOISE)
    loses, wins = late.split("**Where it can win:**")
    assert "latency: it needs 3 of its 4 time steps" in loses and "time steps" not in wins


def test_conclusion_refuses_incomplete_results():
    results = conclusion_results()
    del results["energy"]
    with pytest.raises(ValueError, match="energy"):
        conclusion_markdown(results, **NOISE)
    with pytest.raises(ValueError, match="num_steps"):
        conclusion_markdown(conclusion_results(num_steps=9), **NOISE)
    with pytest.raises(ValueError, match="noise_source"):
        conclusion_markdown(conclusion_results(), 0.9, " ")
