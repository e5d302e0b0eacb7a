"""Notebook 04's exercise checks: the notebook's solutions pass, plausible wrong answers fail with a
message that says what is wrong (and, repeated, a hint), never the fix; the library's own is refused."""
import pytest
import torch
from notebook_solutions import assert_ladder, assert_refused
from notebook_solutions import solution as notebook_solution

from snn_helpers.core.readout import confusion_counts, top_classes
from snn_helpers.course.exercises.evaluation import check_confusion, check_predict_with_ties


def solution(grade_id: str):
    """The reference answer of the notebook's solution cell ``grade_id``."""
    return notebook_solution("04_evaluation_and_spike_counts.ipynb", grade_id)


confusion_by_hand = solution("ex04_1_confusion")
predict_with_ties = solution("ex04_2_ties")


def test_the_notebook_solutions_pass(capsys):
    check_confusion(confusion_by_hand)
    check_predict_with_ties(predict_with_ties)
    assert capsys.readouterr().out.count("✓") == 2


CONFUSION_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, num_classes).T,
     r"row 0 should count the images whose TRUE label is 0 .* PREDICTED as 0", "[true_class, predicted]"),
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, num_classes).float(),
     r"an integer dtype\), but yours has dtype torch.float32",
     "dtype=torch.long"),
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, int(max(p.max(), t.max())) + 1),
     r"num_classes=12 .* shape \[12, 12\]", "torch.zeros(num_classes"),
    (lambda p, t, num_classes=10: torch.diag(torch.bincount(t, minlength=num_classes)),
     r"entry \[0, 0\] should be \d+ \(images of digit 0 predicted as 0\)", "table[true_class, predicted] += 1"),
    (lambda p, t, num_classes=10: confusion_by_hand(p[:-1], t[:-1], num_classes), r"adds up to \d+, but there are",
     "zip("),
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, num_classes).tolist(), r"returned a list", "torch.zeros"),
]


@pytest.mark.parametrize("wrong, symptom, fix", CONFUSION_MISTAKES, ids=[
    "rows-are-predictions", "float", "shape-from-data", "diagonal-only", "drops-an-image", "list"])
def test_wrong_confusion_matrices_show_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_confusion, wrong, symptom, fix)


def confusion_by_the_library(preds, truth, num_classes=10):
    return confusion_counts(preds, truth, num_classes)


def test_the_confusion_check_refuses_the_library():
    assert_refused(check_confusion, confusion_by_the_library, confusion_counts)
    assert confusion_counts(torch.tensor([1]), torch.tensor([0]), 2).tolist() == [[0, 1], [0, 0]]


def highest_on_ties(counts):
    """argmax from the other end: the highest of the tied classes."""
    preds, tied = predict_with_ties(counts)
    return counts.shape[1] - 1 - counts.flip(1).argmax(1), tied


def top_without_keepdim(counts):
    """A natural mistake: the top count [N] compared with the counts [N, 10] (a raw shape error)."""
    tied = (counts == counts.max(dim=1).values).sum(dim=1) > 1
    return counts.argmax(dim=1), tied


def ties_by_the_library(counts):
    leaders = [top_classes(row) for row in counts]
    return counts.argmax(1), torch.tensor([len(top) > 1 for top in leaders])


TIE_MISTAKES = [  # (wrong answer, what its first message must say, the fix it must not give away)
    (lambda c: (c.argmax(1), torch.zeros(len(c), dtype=torch.bool)), r"so it is a tie, but your tied\[\d+\] is False",
     "(counts == top)"),
    (lambda c: (c.argmax(1), c.max(1).values == 0), r"share the top count, so it is a tie", "(counts == top)"),
    (lambda c: (c.argmax(1), ((c == c.max(1, keepdim=True).values).sum(1) > 1) & (c.max(1).values > 0)),
     r"no output spike at all", "> 0"),
    (lambda c: (c.argmax(1), torch.ones(len(c), dtype=torch.bool)), r"alone has the most spikes, so it is no tie",
     "sum(dim=1) > 1"),
    (highest_on_ties, r"names the lowest tied class, 0", "argmax(1)"),
    (lambda c: (c.argmin(1), predict_with_ties(c)[1]), r"has the most spikes .* but you predicted", "argmax"),
    (lambda c: c.argmax(1), r"should return two things, \(preds, tied\)", "return preds, tied"),
    (lambda c: (c.argmax(1).float(), predict_with_ties(c)[1]), r"integer dtype\), .*torch.float32", ".long()"),
    (lambda c: (c.argmax(1), predict_with_ties(c)[1].long()), r"dtype torch.bool", "> 1"),
    (lambda c: (c.argmax(1, keepdim=True), predict_with_ties(c)[1]), r"preds should have one entry per image",
     "keepdim=False"),
    (top_without_keepdim, r"sizes do not line up \(one has 10 entries where the other has 300\); the counts are "
                          r"\[300, 10\]", "keepdim"),
]


@pytest.mark.parametrize("wrong, symptom, fix", TIE_MISTAKES, ids=[
    "never-tied", "only-silent", "silent-not-tied", "always-tied", "highest", "argmin", "one-output", "float-preds",
    "int-tied", "keepdim", "no-keepdim"])
def test_wrong_tie_handling_shows_the_symptom_then_a_hint(wrong, symptom, fix):
    assert_ladder(check_predict_with_ties, wrong, symptom, fix)


def test_the_tie_check_refuses_the_library():
    assert_refused(check_predict_with_ties, ties_by_the_library, top_classes)
