"""Notebook 03's exercise checks: the notebook's solutions pass, plausible wrong answers fail with the
symptom (and, repeated, a hint), never the fix, and the library's own loop and LIF step are refused."""
import pytest
import torch
from notebook_solutions import assert_ladder, assert_refused
from notebook_solutions import solution as notebook_solution
from torch.nn import functional as F

from snn_helpers import fit
from snn_helpers.core.neurons import LIF, after_reset
from snn_helpers.course.exercises.training import (
    check_lif_backward,
    check_spike_count_loss,
    check_train_one_epoch,
    train_epoch,
)


def solutions() -> dict:
    """The notebook's reference answers, by name."""
    return {"spike_count_loss": notebook_solution("03_training.ipynb", "ex03_1_spike_count_loss"),
            "train_one_epoch": notebook_solution("03_training.ipynb", "ex03_2_train_one_epoch"),
            "lif_backward": notebook_solution("03_training.ipynb", "ex03_3_lif_backward")}


@pytest.fixture(scope="module")
def solved():
    return solutions()


def test_the_notebook_solutions_pass(solved, capsys):
    check_spike_count_loss(solved["spike_count_loss"])
    check_train_one_epoch(solved["train_one_epoch"])
    check_lif_backward(solved["lif_backward"])
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(line.startswith("✓ ") for line in out)


def test_the_checks_leave_the_global_random_state_alone(solved):
    before = torch.get_rng_state()
    check_train_one_epoch(solved["train_one_epoch"])
    assert torch.equal(torch.get_rng_state(), before)


# ------------------------------------------------------------------ exercise 3.1: wrong answers

def stub(spikes, labels):
    raise NotImplementedError()


LOSS_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (lambda s, y: F.cross_entropy(s.sum(0), y).item(), "returned a float, not a torch tensor", ".item()"),
    (lambda s, y: F.cross_entropy(s.sum(0), y, reduction="none"), r"returned shape \(16,\).*one number",
     "reduction"),
    (lambda s, y: F.cross_entropy(s.sum(0).detach(), y), "carries no gradient", ".detach()"),
    (lambda s, y: F.cross_entropy(s[-1], y), "last time step's spikes alone", "sum(0)"),
    (lambda s, y: F.cross_entropy(s.mean(0), y), r"spike rates \(counts divided by T = 8\)", "sum(0)"),
    (lambda s, y: F.cross_entropy(s.sum(0), y, reduction="sum"), "as large as the batch", "reduction"),
    (lambda s, y: F.nll_loss(s.sum(0), y), "as if the counts were log-probabilities", "cross_entropy"),
    (lambda s, y: F.cross_entropy(s.sum(0).softmax(1), y), r"your loss is \d\.\d+, it should be", "softmax"),
    (lambda s, y: F.cross_entropy(s.sum(1), y), r"scores for 8 images but there are 16 labels", "sum(0)"),
    (lambda s, y: F.cross_entropy(s.sum(-1), y), r"scores for 8 images but there are 16 labels", "sum(0)"),
    (stub, "not written yet", "spikes.sum"),
]


@pytest.mark.parametrize("wrong, symptom, fix", LOSS_MISTAKES, ids=[w for _, w, _ in LOSS_MISTAKES])
def test_a_wrong_loss_shows_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_spike_count_loss, wrong, symptom, fix)


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


def keeps_the_tensors(model, loader, optimizer, num_steps, encode):
    return epoch_with(record=lambda loss, y: loss)(model, loader, optimizer, num_steps, encode)


EPOCH_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (epoch_with(zero_grad=False), "every mini-batch's gradient is added to those of all the earlier", "zero_grad()"),
    (epoch_with(step=False), "did not change", "optimizer.step()"),
    (epoch_with(order="backward-zero-step"), "did not change", "before `loss.backward()`"),
    (epoch_with(loss=lambda out, y: F.cross_entropy(out[-1], y)), "only the last time step", "sum(0)"),
    (epoch_with(loss=lambda out, y: F.cross_entropy(out.mean(0), y)), "spike rates", "sum(0)"),
    (epoch_with(loss=lambda out, y: F.cross_entropy(out.sum(0), y, reduction="sum")), "your first loss is",
     "reduction"),
    (encodes_twice, "your first loss is", "once per mini-batch, call"),
    (epoch_with(record=lambda loss, y: loss.item() * len(y)), "weights are right, but the loss of mini-batch 1",
     "len("),
    (no_return, "returned NoneType", "return losses"),
    (last_loss_only, "returned 1 losses, but the loader has 4", "append"),
    (keeps_the_tensors, "tensors, not floats.*keeps all 4 graphs in memory", ".item()"),
]


@pytest.mark.parametrize("wrong, symptom, fix", EPOCH_MISTAKES, ids=[w for _, w, _ in EPOCH_MISTAKES])
def test_a_wrong_epoch_shows_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_train_one_epoch, wrong, symptom, fix)


def epoch_by_the_library(model, loader, optimizer, num_steps, encode):
    return train_epoch(model, loader, optimizer, num_steps, encode)


def epoch_by_fit(model, loader, optimizer, num_steps, encode):
    return fit(model, loader, epochs=1, num_steps=num_steps, progress=False)


@pytest.mark.parametrize("wrapper, library", [(epoch_by_the_library, train_epoch), (epoch_by_fit, fit)])
def test_the_epoch_check_refuses_the_library(wrapper, library):
    assert_refused(check_train_one_epoch, wrapper, library)


# ------------------------------------------------------------------ exercise 3.3: wrong answers

def backward_with(*, reset_path=True, beta_on_membrane=True, spike_path=True, membrane_path=True, sign=-1):
    """The backward of one LIF step with one thing changed."""
    def lif_backward(grad_spike, grad_membrane, potential, spike, surrogate, beta):
        slope = 1 - spike + (sign * potential * surrogate if reset_path else 0)
        grad = (grad_spike * surrogate if spike_path else 0) + (grad_membrane * slope if membrane_path else 0)
        return grad, (beta * grad if beta_on_membrane else grad)
    return lif_backward


def swapped(*args):
    grad_current, grad_membrane = backward_with()(*args)
    return grad_membrane, grad_current


def summed(*args):
    grad_current, grad_membrane = backward_with()(*args)
    return grad_current.sum(0), grad_membrane.sum(0)


BACKWARD_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (backward_with(reset_path=False), r"your dL/dI is .*, autograd through LIF.step gives .*off most near θ = 1",
     ("potential * surrogate", "- U g", "U·g")),
    (backward_with(beta_on_membrane=False), r"your dL/dM_in is .*1\.25 times autograd's", "beta *"),
    (backward_with(membrane_path=False), "does not depend on dL/dM_out at all", "grad_membrane *"),
    (backward_with(spike_path=False), "does not depend on dL/dS at all", "grad_spike * surrogate"),
    (backward_with(sign=+1), "the reset path points the wrong way", "1 - S - U"),
    (swapped, "your dL/dI is autograd's dL/dM_in and the other way round", "return grad_potential,"),
    (summed, r"should be a tensor of shape \[4, 6\], like the inputs, got shape \[6\]", ".sum"),
]


@pytest.mark.parametrize("wrong, symptom, fix", BACKWARD_MISTAKES, ids=[w for _, w, _ in BACKWARD_MISTAKES])
def test_a_wrong_lif_backward_shows_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_lif_backward, wrong, symptom, fix)


def backward_by_autograd_of_the_library(grad_spike, grad_membrane, potential, spike, surrogate, beta):
    current, membrane = potential.clone().requires_grad_(True), torch.zeros_like(potential).requires_grad_(True)
    spikes, _, after = LIF(beta=beta).step(current, membrane)
    return torch.autograd.grad((grad_spike * spikes + grad_membrane * after).sum(), (current, membrane))


def backward_through_after_reset(grad_spike, grad_membrane, potential, spike, surrogate, beta):
    membrane = potential.clone().requires_grad_(True)
    grad, = torch.autograd.grad((grad_membrane * after_reset(membrane, spike, 1.0, "zero")).sum(), membrane)
    return grad, beta * grad


@pytest.mark.parametrize("wrapper, library", [(backward_by_autograd_of_the_library, LIF),
                                              (backward_through_after_reset, after_reset)])
def test_the_backward_check_refuses_the_library(wrapper, library):
    assert_refused(check_lif_backward, wrapper, library)
    assert LIF(beta=0.5).step(torch.ones(1, 1), torch.zeros(1, 1))[0].item() == 1.0  # still works outside
