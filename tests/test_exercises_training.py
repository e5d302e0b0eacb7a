"""Notebook 03's exercise checks: the notebook's solutions pass, plausible wrong answers fail with the right words."""
import pytest
import torch
from notebook_solutions import solution as notebook_solution
from torch.nn import functional as F

from snn_helpers.exercises import ExerciseError
from snn_helpers.exercises.training import check_spike_count_loss, check_train_one_epoch


def solutions() -> dict:
    """The notebook's reference answers, by name."""
    return {"spike_count_loss": notebook_solution("03_training.ipynb", "ex03_1_spike_count_loss"),
            "train_one_epoch": notebook_solution("03_training.ipynb", "ex03_2_train_one_epoch")}


@pytest.fixture(scope="module")
def solved():
    return solutions()


def test_the_notebook_solutions_pass(solved, capsys):
    check_spike_count_loss(solved["spike_count_loss"])
    check_train_one_epoch(solved["train_one_epoch"])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(line.startswith("✓ ") for line in out)


def test_the_checks_leave_the_global_random_state_alone(solved):
    before = torch.get_rng_state()
    check_train_one_epoch(solved["train_one_epoch"])
    assert torch.equal(torch.get_rng_state(), before)


# ------------------------------------------------------------------ exercise 3.1: wrong answers

def stub(spikes, labels):
    raise NotImplementedError()


LOSS_MISTAKES = [
    (lambda s, y: F.cross_entropy(s.sum(0), y).item(), "return the tensor itself"),
    (lambda s, y: F.cross_entropy(s.sum(0), y, reduction="none"), "one number"),
    (lambda s, y: F.cross_entropy(s.sum(0).detach(), y), "no gradient"),
    (lambda s, y: F.cross_entropy(s[-1], y), "last time step only"),
    (lambda s, y: F.cross_entropy(s.mean(0), y), "averaged the spikes over time"),
    (lambda s, y: F.cross_entropy(s.sum(0), y, reduction="sum"), "summed over the batch"),
    (lambda s, y: F.nll_loss(s.sum(0), y), "not log-probabilities"),
    (lambda s, y: F.cross_entropy(s.sum(0).softmax(1), y), "should be"),
    (stub, "not written yet"),
]


@pytest.mark.parametrize("wrong, words", LOSS_MISTAKES, ids=[w for _, w in LOSS_MISTAKES])
def test_a_wrong_loss_is_named(wrong, words):
    with pytest.raises(ExerciseError, match=words):
        check_spike_count_loss(wrong)


# ------------------------------------------------------------------ exercise 3.2: wrong answers

def epoch_with(*, loss=lambda out, y: F.cross_entropy(out.sum(0), y), zero_grad=True, step=True,
               order="zero-backward-step", record=lambda loss, y: loss.item()):
    """A training epoch with one thing changed."""
    def train_one_epoch(model, loader, optimizer, num_steps, encode):
        losses = []
        for images, labels in loader:
            value = loss(model(encode(images, num_steps)), labels)
            if order == "backward-zero-step":
                value.backward()
                optimizer.zero_grad()
            else:
                if zero_grad:
                    optimizer.zero_grad()
                value.backward()
            if step:
                optimizer.step()
            losses.append(record(value, labels))
        return losses
    return train_one_epoch


def no_return(model, loader, optimizer, num_steps, encode):
    epoch_with()(model, loader, optimizer, num_steps, encode)


def last_loss_only(model, loader, optimizer, num_steps, encode):
    return epoch_with()(model, loader, optimizer, num_steps, encode)[-1:]


def encodes_twice(model, loader, optimizer, num_steps, encode):
    def again(images, steps):
        encode(images, steps)
        return encode(images, steps)
    return epoch_with()(model, loader, optimizer, num_steps, again)


EPOCH_MISTAKES = [
    (epoch_with(zero_grad=False), "never reset the gradients"),
    (epoch_with(step=False), "did not change.*optimizer.step"),
    (epoch_with(order="backward-zero-step"), "did not change.*not between"),
    (epoch_with(loss=lambda out, y: F.cross_entropy(out[-1], y)), "last time step only"),
    (epoch_with(loss=lambda out, y: F.cross_entropy(out.mean(0), y)), "averages the output spikes over time"),
    (epoch_with(loss=lambda out, y: F.cross_entropy(out.sum(0), y, reduction="sum")), "first loss is"),
    (encodes_twice, "first loss is"),
    (epoch_with(record=lambda loss, y: loss.item() * len(y)), "weights are right, but the loss of mini-batch 1"),
    (no_return, "returned NoneType"),
    (last_loss_only, "returned 1 losses, but the loader has 4"),
]


@pytest.mark.parametrize("wrong, words", EPOCH_MISTAKES, ids=[w for _, w in EPOCH_MISTAKES])
def test_a_wrong_epoch_is_named(wrong, words):
    with pytest.raises(ExerciseError, match=words):
        check_train_one_epoch(wrong)
