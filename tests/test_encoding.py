"""The spike codes: rate (Poisson) shapes, statistics, reproducibility; latency and delta exactly."""
import math

import pytest
import torch

from snn_helpers import SNN, delta_encode, latency_encode, poisson_encode
from snn_helpers.core.encoding import CODE_NAMES, encode, encode_batch, encode_lit


def test_shape_and_values_are_binary_floats():
    images = torch.rand(4, 1, 28, 28)
    spikes = poisson_encode(images, num_steps=7)
    assert spikes.shape == (7, 4, 1, 28, 28)
    assert spikes.dtype == images.dtype
    assert set(spikes.unique().tolist()) <= {0.0, 1.0}


def test_firing_rate_matches_intensity_within_binomial_tolerance():
    intensities = torch.linspace(0, 1, 101).reshape(1, 1, 101)
    num_steps = 4000
    spikes = poisson_encode(intensities, num_steps, generator=torch.Generator().manual_seed(0))
    rate = spikes.mean(0).flatten()
    p = intensities.flatten()
    sigma = torch.sqrt(p * (1 - p) / num_steps)
    # 5 sigma per pixel: a wrong encoder (e.g. rate = p**2 or 1 - p) is off by far more
    assert torch.all((rate - p).abs() <= 5 * sigma + 1e-9), (rate - p).abs().max()


def test_black_never_fires_and_white_always_fires():
    images = torch.tensor([[0.0, 1.0]])
    spikes = poisson_encode(images, num_steps=500)
    assert spikes[:, 0, 0].sum() == 0
    assert spikes[:, 0, 1].sum() == 500


def test_steps_are_independent_draws():
    images = torch.full((1, 1000), 0.5)
    spikes = poisson_encode(images, num_steps=2, generator=torch.Generator().manual_seed(1))
    agreement = (spikes[0] == spikes[1]).float().mean().item()
    assert abs(agreement - 0.5) < 5 * math.sqrt(0.25 / 1000)


def test_generator_makes_it_reproducible():
    images = torch.rand(2, 1, 28, 28)
    a = poisson_encode(images, 5, generator=torch.Generator().manual_seed(3))
    b = poisson_encode(images, 5, generator=torch.Generator().manual_seed(3))
    c = poisson_encode(images, 5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_encode_lit_keeps_exactly_the_lit_pixels_and_draws_the_same_spikes():
    images = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    images[images < 0.6] = 0.0  # about 40% of the pixels lit per image ...
    images[..., :5, :] = 0.0  # ... and a border black in every image
    images[0, 0, 10, 10] = 1.0
    spikes, pixels = encode_lit(images, 9, generator=torch.Generator().manual_seed(8))
    assert torch.equal(pixels, (images.flatten(1) > 0).any(0).nonzero().squeeze(1))
    assert spikes.shape == (9, 6, len(pixels)) and len(pixels) < 28 * 23
    full = poisson_encode(images, 9, generator=torch.Generator().manual_seed(8)).flatten(2)
    assert torch.equal(spikes, full[..., pixels])
    assert full.sum() == spikes.sum()  # nothing fired outside the lit pixels


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_encode_batch_draws_encode_lits_spikes_on_the_cpu_and_moves_them(device):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA GPU")
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    images[images < 0.5] = 0.0
    spikes, pixels = encode_batch(images, 6, torch.Generator().manual_seed(9), device)
    expected, lit = encode_lit(images, 6, torch.Generator().manual_seed(9))
    assert spikes.device.type == pixels.device.type == device
    assert torch.equal(spikes.cpu(), expected) and torch.equal(pixels.cpu(), lit)
    model = SNN((784, 16, 10), threshold=0.2).to(device)
    full = poisson_encode(images, 6, torch.Generator().manual_seed(9)).to(device)
    torch.testing.assert_close(model.scores(spikes, pixels), model.scores(full))


def test_encode_lit_of_an_all_black_batch_has_no_pixels_and_the_network_still_runs():
    spikes, pixels = encode_lit(torch.zeros(3, 1, 28, 28), 4)
    assert spikes.shape == (4, 3, 0) and pixels.numel() == 0
    assert SNN(sizes=(784, 8, 10))(spikes, pixels).shape == (4, 3, 10)


def test_latency_fires_each_lit_pixel_once_brighter_earlier_and_black_never():
    images = torch.arange(256.0).div(255).reshape(2, 1, 8, 16)  # every MNIST intensity k / 255
    spikes = latency_encode(images, 10)
    assert spikes.shape == (10, 2, 1, 8, 16) and spikes.dtype == images.dtype
    counts = spikes.sum(0)
    assert torch.equal(counts, (images > 0).to(images.dtype))    # lit pixels once, black never
    step = spikes.argmax(0)[images > 0].float()
    assert step.max() == 9 and step.min() == 0                      # faintest at the last step, white at 0
    assert torch.equal(step, torch.round((1 - images[images > 0]) * 9))
    order = images[images > 0].argsort()
    assert torch.all(step[order].diff() <= 0)                       # brighter never fires later


def test_latency_with_one_step_fires_every_lit_pixel_at_step_0():
    images = torch.tensor([[0.0, 0.01, 0.5, 1.0]])
    assert torch.equal(latency_encode(images, 1), torch.tensor([[[0.0, 1.0, 1.0, 1.0]]]))


def test_delta_fires_on_off_at_the_edges_of_a_moving_square_with_period_3():
    image = torch.zeros(1, 6, 6)
    image[0, 2:4, 2:4] = 1.0                                        # a 2 x 2 white square
    spikes = delta_encode(image, 7)
    assert spikes.shape == (7, 1, 6, 6)
    assert set(spikes.unique().tolist()) == {-1.0, 0.0, 1.0}
    assert torch.equal(spikes[3:6], spikes[0:3]) and torch.equal(spikes[6], spikes[0])
    right = torch.zeros(6, 6)                                        # step 0: the square moves right
    right[2:4, 4], right[2:4, 2] = 1.0, -1.0                         # ON at its new column, OFF at its old
    assert torch.equal(spikes[0, 0], right)
    up = torch.zeros(6, 6)                                           # step 2: from one down back up
    up[2, 2:4], up[4, 2:4] = 1.0, -1.0
    assert torch.equal(spikes[2, 0], up)
    assert spikes.sum(0).abs().max() <= 1                            # each full loop returns: ON and OFF cancel


def test_delta_threshold_decides_which_changes_fire():
    image = torch.zeros(1, 4, 4)
    image[0, :, 1] = 0.3                                             # a faint bar
    assert delta_encode(image, 3, threshold=0.29).abs().sum() > 0
    assert delta_encode(image, 3, threshold=0.3).abs().sum() == 0    # a change must exceed the threshold
    assert delta_encode(torch.full((1, 4, 4), 0.7), 3)[:, 0, 1:, 1:].abs().sum() == 0  # flat: no change inside


def test_encode_dispatches_to_the_three_codes():
    images = torch.rand(2, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    assert CODE_NAMES == ("rate", "latency", "delta")
    assert torch.equal(encode(images, 4, "rate", torch.Generator().manual_seed(1)),
                       poisson_encode(images, 4, torch.Generator().manual_seed(1)))
    assert torch.equal(encode(images, 4, "latency"), latency_encode(images, 4))
    assert torch.equal(encode(images, 4, "delta"), delta_encode(images, 4))
    with pytest.raises(ValueError, match="code"):
        encode(images, 4, "phase")


@pytest.mark.parametrize("kwargs, error, name", [
    ({"threshold": -0.1}, ValueError, "threshold"),
    ({"threshold": 1.5}, ValueError, "threshold"),
    ({"threshold": "0.1"}, TypeError, "threshold"),
    ({"images": torch.rand(5)}, ValueError, "images"),
    ({"images": torch.full((4, 4), 2.0)}, ValueError, "images"),
    ({"num_steps": 0}, ValueError, "num_steps"),
])
def test_delta_rejects_bad_input_naming_the_argument(kwargs, error, name):
    args = {"images": torch.rand(4, 4), "num_steps": 3, **kwargs}
    with pytest.raises(error, match=name):
        delta_encode(**args)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"num_steps": 0}, ValueError, "num_steps"),
    ({"num_steps": -3}, ValueError, "num_steps"),
    ({"num_steps": 2.5}, TypeError, "num_steps"),
    ({"images": torch.full((1, 4), 1.5)}, ValueError, "images"),
    ({"images": torch.full((1, 4), -0.1)}, ValueError, "images"),
    ({"images": torch.tensor([[0.2, float("nan")]])}, ValueError, "images"),
    ({"images": torch.zeros(1, 4, dtype=torch.uint8)}, TypeError, "images"),
])
@pytest.mark.parametrize("encoder", [poisson_encode, encode_lit, latency_encode, delta_encode])
def test_rejects_bad_input_naming_the_argument(kwargs, error, name, encoder):
    args = {"images": torch.rand(1, 4), "num_steps": 3, **kwargs}
    with pytest.raises(error, match=name):
        encoder(**args)


def test_the_three_codes_are_drawn_one_row_each_with_their_spike_counts():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from snn_helpers.analysis.plots import code_image, code_rows

    image = torch.zeros(1, 28, 28)
    image[0, 5:20, 12:15] = 1.0
    codes = {code: encode(image, 6, code, torch.Generator().manual_seed(0)) for code in CODE_NAMES}
    fig = code_rows(codes, "a bar")
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert "rate code: 270 spikes in 6 steps" in titles      # 45 white pixels, every step
    assert "latency code: 45 spikes in 6 steps" in titles    # 45 white pixels, once each
    assert f"delta code: {int(codes['delta'].abs().sum())} spikes in 6 steps" in titles
    assert "latency: per pixel" in titles
    with pytest.raises(ValueError, match="code"):
        code_image(codes["rate"], "phase")
    with pytest.raises(ValueError, match="codes"):
        code_rows({})
    plt.close("all")
