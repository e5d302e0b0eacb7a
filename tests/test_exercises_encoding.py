"""The checks of notebook 01's exercises: the notebook's solutions pass, plausible wrong answers fail
with a message that says what is wrong (and, repeated, a hint), never how to fix it."""
import pytest
import torch
from notebook_solutions import assert_ladder, assert_refused
from notebook_solutions import solution as notebook_solution

from snn_helpers import latency_encode, poisson_encode
from snn_helpers.core.encoding import encode
from snn_helpers.course.exercises import ExerciseError
from snn_helpers.course.exercises.encoding import check_latency_encoder, check_rate_encoder


def solution(grade_id: str):
    """The reference answer of the notebook's solution cell ``grade_id``."""
    return notebook_solution("01_spike_encoding.ipynb", grade_id)


def steps_like(images, num_steps):
    """Step numbers ``[num_steps, 1, ..., 1]`` that broadcast against ``images``."""
    return torch.arange(num_steps).reshape(-1, *[1] * images.dim())


# Wrong rate encoders, each a mistake a student could make.
def returns_the_image(images, num_steps):
    return images


def fires_with_one_minus_x(images, num_steps):
    return (torch.rand(num_steps, *images.shape) < 1 - images).float()


def fires_with_x_squared(images, num_steps):
    return (torch.rand(num_steps, *images.shape) < images ** 2).float()


def one_draw_for_all_steps(images, num_steps):
    return (torch.rand(images.shape) < images).float().expand(num_steps, *images.shape).clone()


def one_draw_per_step_for_all_pixels(images, num_steps):
    return (torch.rand(num_steps, *[1] * images.dim()) < images).float()


def new_draw_every_other_step(images, num_steps):
    draws = torch.rand((num_steps + 1) // 2, *images.shape).repeat_interleave(2, dim=0)[:num_steps]
    return (draws < images).float()


def returns_booleans(images, num_steps):
    return torch.rand(num_steps, *images.shape) < images


def returns_probabilities(images, num_steps):
    return images.expand(num_steps, *images.shape) * 1.0


RATE_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (returns_the_image, r"shape \[40, 21\].*expected \[200, 40, 21\]", "torch.rand"),
    (fires_with_one_minus_x, r"black pixels \(intensity 0\) fired \d+ times", "< images"),
    (fires_with_x_squared, r"fires 0\.\d+ of the time for a pixel of intensity 0\.\d+; it should be within",
     "below the intensity"),
    (one_draw_for_all_steps, r"the steps are not independent: 100% of the pixels", "time dimension in the shape"),
    (one_draw_per_step_for_all_pixels, r"the pixels are not independent", ("*images.shape", "one random number per")),
    (new_draw_every_other_step, r"the steps are not independent: a pixel .* repeats its previous step",
     ("time dimension in the shape", "num_steps, *images.shape")),
    (returns_booleans, r"dtype torch.bool.*floats", ".float()"),
    (returns_probabilities, r"neither 0 nor 1", ("torch.rand", "bernoulli")),
]


@pytest.mark.parametrize("encoder, symptom, fix", RATE_MISTAKES, ids=[w.__name__ for w, _, _ in RATE_MISTAKES])
def test_wrong_rate_encoders_show_the_symptom_then_a_hint(encoder, symptom, fix):
    assert_ladder(check_rate_encoder, encoder, symptom, fix)


def rate_by_the_library(images, num_steps):
    return poisson_encode(images, num_steps)


def rate_by_the_dispatcher(images, num_steps):
    return encode(images, num_steps, "rate")


@pytest.mark.parametrize("wrapper", [rate_by_the_library, rate_by_the_dispatcher])
def test_the_rate_check_refuses_the_library(wrapper):
    assert_refused(check_rate_encoder, wrapper, poisson_encode)
    assert poisson_encode(torch.ones(2), 3).sum() == 6  # still works outside the check


def test_the_notebooks_rate_encoder_passes(capsys):
    check_rate_encoder(solution("ex01_1_rate_encoder"))
    assert capsys.readouterr().out.startswith("✓ my_rate_encode fires at the rate")


def loop_over_steps(images, num_steps):
    return torch.stack([(torch.rand(images.shape) < images).float() for _ in range(num_steps)])


def bernoulli(images, num_steps):
    return torch.bernoulli(images.expand(num_steps, *images.shape))


@pytest.mark.parametrize("encoder", [loop_over_steps, bernoulli])
def test_other_correct_rate_encoders_pass(encoder):
    check_rate_encoder(encoder)


def test_the_rate_check_leaves_the_global_random_state_alone():
    torch.manual_seed(7)
    expected = torch.rand(3)
    torch.manual_seed(7)
    check_rate_encoder(solution("ex01_1_rate_encoder"))
    assert torch.equal(torch.rand(3), expected)


def test_a_stub_is_reported_as_not_written_yet():
    def my_rate_encode(images, num_steps):
        raise NotImplementedError()
    with pytest.raises(ExerciseError, match="not written yet"):
        check_rate_encoder(my_rate_encode)


# Wrong latency encoders.
def bright_fires_late(images, num_steps):
    return ((steps_like(images, num_steps) == torch.round(images * (num_steps - 1))) & (images > 0)).float()


def floors_instead_of_rounding(images, num_steps):
    first = ((1 - images) * (num_steps - 1)).floor()
    return ((steps_like(images, num_steps) == first) & (images > 0)).float()


def black_fires_at_the_last_step(images, num_steps):
    return (steps_like(images, num_steps) == torch.round((1 - images) * (num_steps - 1))).float()


def fires_from_its_step_on(images, num_steps):
    first = torch.round((1 - images) * (num_steps - 1))
    return ((steps_like(images, num_steps) >= first) & (images > 0)).float()


def divides_by_num_steps(images, num_steps):  # t = round((1 - x) * T) can fall off the end
    first = torch.round((1 - images) * num_steps)
    return ((steps_like(images, num_steps) == first) & (images > 0)).float()


def time_first_in_the_wrong_place(images, num_steps):
    spikes = ((steps_like(images, num_steps) == torch.round((1 - images) * (num_steps - 1))) & (images > 0))
    return spikes.float().movedim(0, -1)


LATENCY_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (bright_fires_late, r"bright pixels fire late, but they must fire early", "1 - x"),
    (floors_instead_of_rounding, r"fire at the wrong step: a pixel of intensity .* should fire at step \d+ .*"
                                 r"but yours fires at step", "use torch.round"),
    (black_fires_at_the_last_step, r"black pixel \(intensity 0\) fired 1 time", "images > 0"),
    (fires_from_its_step_on, r"fired \d+ times; in a latency code every pixel fires at most once", "=="),
    (divides_by_num_steps, r"lit pixels never fired", "num_steps - 1)"),
    (time_first_in_the_wrong_place, r"expected \[10, 16, 16\] = \[num_steps, \*images.shape\]", "reshape"),
]


@pytest.mark.parametrize("encoder, symptom, fix", LATENCY_MISTAKES, ids=[w.__name__ for w, _, _ in LATENCY_MISTAKES])
def test_wrong_latency_encoders_show_the_symptom_then_a_hint(encoder, symptom, fix):
    assert_ladder(check_latency_encoder, encoder, symptom, fix)


def latency_by_the_library(images, num_steps):
    return latency_encode(images, num_steps)


def test_the_latency_check_refuses_the_library():
    assert_refused(check_latency_encoder, latency_by_the_library, latency_encode)


def test_the_notebooks_latency_encoder_passes(capsys):
    check_latency_encoder(solution("ex01_2_latency_encoder"))
    assert capsys.readouterr().out.startswith("✓ my_latency_encode matches snn_helpers.latency_encode")


def test_an_error_inside_the_students_code_is_named():
    def my_latency_encode(images, num_steps):
        return images.reshape(num_steps, -1, 7)
    with pytest.raises(ExerciseError, match="`my_latency_encode` raised RuntimeError"):
        check_latency_encoder(my_latency_encode)
