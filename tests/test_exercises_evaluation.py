"""Notebook 04's exercise checks: the notebook's solutions pass, plausible wrong answers fail with a
message that says what is wrong."""
import pytest
import torch
from notebook_solutions import solution as notebook_solution

from snn_helpers.exercises import ExerciseError
from snn_helpers.exercises.evaluation import check_confusion, check_predict_with_ties


def solution(grade_id: str):
    """The reference answer of the notebook's solution cell ``grade_id``."""
    return notebook_solution("04_evaluation_and_spike_counts.ipynb", grade_id)


confusion_by_hand = solution("ex04_1_confusion")
predict_with_ties = solution("ex04_2_ties")


def test_the_notebook_solutions_pass(capsys):
    check_confusion(confusion_by_hand)
    check_predict_with_ties(predict_with_ties)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize("wrong, message", [
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, num_classes).T,
     r"row 0 should count the images whose TRUE label is 0 .* PREDICTED as 0"),
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, num_classes).float(), r"integer dtype .*torch.float32"),
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, int(max(p.max(), t.max())) + 1),
     r"num_classes=12 .* shape \[12, 12\]"),
    (lambda p, t, num_classes=10: torch.diag(torch.bincount(t, minlength=num_classes)),
     r"entry \[0, 0\] should be \d+ \(images of digit 0 predicted as 0\)"),
    (lambda p, t, num_classes=10: confusion_by_hand(p[:-1], t[:-1], num_classes), r"adds up to \d+, but there are"),
    (lambda p, t, num_classes=10: confusion_by_hand(p, t, num_classes).tolist(), r"returned a list"),
], ids=["rows-are-predictions", "float", "shape-from-data", "diagonal-only", "drops-an-image", "list"])
def test_wrong_confusion_matrices_are_explained(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_confusion(wrong)


def highest_on_ties(counts):
    """argmax from the other end: the highest of the tied classes."""
    preds, tied = predict_with_ties(counts)
    return counts.shape[1] - 1 - counts.flip(1).argmax(1), tied


@pytest.mark.parametrize("wrong, message", [
    (lambda c: (c.argmax(1), torch.zeros(len(c), dtype=torch.bool)), r"so it is a tie, but your tied\[\d+\] is False"),
    (lambda c: (c.argmax(1), c.max(1).values == 0), r"share the top count, so it is a tie"),
    (lambda c: (c.argmax(1), ((c == c.max(1, keepdim=True).values).sum(1) > 1) & (c.max(1).values > 0)),
     r"no output spike at all"),
    (lambda c: (c.argmax(1), torch.ones(len(c), dtype=torch.bool)), r"alone has the most spikes, so it is no tie"),
    (highest_on_ties, r"names the lowest tied class, 0"),
    (lambda c: (c.argmin(1), predict_with_ties(c)[1]), r"has the most spikes .* but you predicted"),
    (lambda c: c.argmax(1), r"should return two things, \(preds, tied\)"),
    (lambda c: (c.argmax(1).float(), predict_with_ties(c)[1]), r"integer dtype .*torch.float32"),
    (lambda c: (c.argmax(1), predict_with_ties(c)[1].long()), r"dtype torch.bool"),
    (lambda c: (c.argmax(1, keepdim=True), predict_with_ties(c)[1]), r"preds should have one entry per image"),
], ids=["never-tied", "only-silent", "silent-not-tied", "always-tied", "highest", "argmin", "one-output",
        "float-preds", "int-tied", "keepdim"])
def test_wrong_tie_handling_is_explained(wrong, message):
    with pytest.raises(ExerciseError, match=message):
        check_predict_with_ties(wrong)
