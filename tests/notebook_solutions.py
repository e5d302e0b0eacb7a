"""The reference answers of the notebooks' exercises, taken from the notebooks themselves, and the
assertions that every test of a check shares.

The tests of the checks (``tests/test_exercises_<topic>.py``) get each reference
answer from its solution cell, so that there is no second copy of it to drift.
Each wrong answer they keep comes with the symptom its first failure must show and
the fix that neither that message nor the hint of its repeat may give away
(:func:`assert_ladder`); each check refuses a wrapper around the library's own
answer (:func:`assert_refused`).
"""
from __future__ import annotations

import re

import nbformat
import pytest

from snn_helpers.course.exercises import ExerciseError, forget_failures
from snn_helpers.system.paths import PROJECT_ROOT


def python_of(source: str) -> str:
    """A code cell without its IPython magics (``%matplotlib inline``)."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def solution(notebook: str, grade_id: str):
    """What the solution cell ``grade_id`` of ``notebooks/<notebook>`` defines.

    The cell runs after the notebook's first code cell (its imports), as the
    checks in the notebook do; the one name it defines is returned.
    """
    cells = [cell for cell in nbformat.read(PROJECT_ROOT / "notebooks" / notebook, as_version=4).cells
             if cell.cell_type == "code"]
    namespace: dict = {}
    exec(compile(python_of(cells[0].source), f"{notebook}:imports", "exec"), namespace)
    known = set(namespace)
    sources = [cell.source for cell in cells if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id]
    assert len(sources) == 1, f"{notebook} has {len(sources)} cells with grade_id {grade_id!r}, not one"
    exec(compile(sources[0], f"{notebook}:{grade_id}", "exec"), namespace)
    defined = [name for name in namespace if name not in known]
    assert len(defined) == 1, f"{notebook}:{grade_id} defines {defined}, not one name"
    return namespace[defined[0]]


def failures(check, answer) -> tuple[ExerciseError, ExerciseError]:
    """The first failure of ``check(answer)`` in a fresh session, and that of the same call repeated."""
    forget_failures()
    try:
        seen = []
        for _ in range(2):
            with pytest.raises(ExerciseError) as caught:
                check(answer)
            seen.append(caught.value)
        return seen[0], seen[1]
    finally:
        forget_failures()


def assert_ladder(check, answer, symptom: str, fix) -> None:
    """``check`` rejects ``answer``: first with a message matching the regex ``symptom`` and no hint,
    then, repeated, with the same message and a hint; ``fix`` (a phrase, or a tuple of phrases) is in
    neither."""
    first, second = failures(check, answer)
    assert re.search(symptom, str(first)), f"{symptom!r} not in the first message {str(first)!r}"
    assert "Hint:" not in str(first) and first.hint, f"no hint kept for a repeat of {first.kind!r}"
    assert second.kind == first.kind and str(second) == f"{first}\nHint: {first.hint}"
    for phrase in (fix,) if isinstance(fix, str) else fix:
        assert phrase.lower() not in str(second).lower(), f"the message gives the fix {phrase!r} away: {second}"


def assert_refused(check, wrapper, library) -> None:
    """``check`` refuses ``wrapper`` (a function or class), which only calls the library's ``library``
    (a function or class), in words; afterwards the library is back in place, in its module, in the
    wrapper's namespace and, for a class, in its methods."""
    functions = [getattr(v, "__func__", v) for v in vars(wrapper).values()] if isinstance(wrapper, type) else [wrapper]
    namespace = next(function.__globals__ for function in functions if hasattr(function, "__globals__"))
    before = dict(namespace)
    methods = dict(vars(library)) if isinstance(library, type) else {}
    with pytest.raises(ExerciseError, match=r"calls snn_helpers\.[\w.]+, the library's own version of this "
                                            r"exercise.*still works everywhere else") as caught:
        check(wrapper)
    assert caught.value.kind == "library"
    assert all(namespace.get(key) is value for key, value in before.items())
    module = __import__(library.__module__, fromlist=["_"])
    assert getattr(module, library.__name__) is library
    assert all(vars(library)[key] is value for key, value in methods.items())
