"""Checks for the notebooks' exercises, one module per notebook topic.

A check takes the student's function, calls it on small inputs it makes itself
and either prints one line starting with a tick or raises :class:`ExerciseError`.
Random code is judged by statistics with tolerances, never draw for draw.

Every failure has a *kind* (a short name such as ``"frozen steps"``), a
*symptom* (what the check saw, with the numbers, and what it expected) and a
*hint* (a nudge towards the cause, not the fix; the fix stays in the notebook's
folded hint). The first failure of a kind shows the symptom only; when the same
check fails the same way again in the same kernel session, the hint is added.
The checks are wrapped by :func:`exercise`, which keeps that count and, while the
student's code runs, swaps the library's own answer to the exercise for a
tripwire, so that a wrapper around it is refused in words.

The notebooks hold the exercises as nbgrader solution cells (the instructor
version); ``python -m snn_helpers student`` turns them into stubs for the class.
"""
from __future__ import annotations

import collections
import contextlib
import functools
import re
import sys
import types

__all__ = ["ExerciseError", "attempt", "exercise", "expect", "fail", "forget_failures", "passed", "reword"]

_SEEN: collections.Counter = collections.Counter()  # (check, kind) -> failures in this process
_ARMED: list = []  # the running check's (library objects, student namespaces, answer's name), innermost last


class ExerciseError(AssertionError):
    """A check's verdict, in words a student can act on: ``kind``, ``symptom`` and ``hint``.

    ``str(error)`` is the symptom, followed by the hint when :func:`exercise` found
    the failure repeated.

    >>> err = ExerciseError("the spikes sum to 0", kind="silent", hint="does anything ever fire?")
    >>> str(err), err.kind
    ('the spikes sum to 0', 'silent')
    """

    def __init__(self, symptom: str, kind: str = "other", hint: str = "", *, repeated: bool = False):
        super().__init__(f"{symptom}\nHint: {hint}" if repeated and hint else symptom)
        self.symptom, self.kind, self.hint = symptom, kind, hint


def fail(kind: str, symptom: str, hint: str):
    """Raise :class:`ExerciseError` for a failure of ``kind``: what was seen, and a hint for later.

    >>> fail("silent", "your neuron never fired in 20 steps", "compare the potential with θ")
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: your neuron never fired in 20 steps
    """
    raise ExerciseError(symptom, kind, hint)


def expect(condition: bool, kind: str, symptom: str, hint: str) -> None:
    """Raise :class:`ExerciseError` (see :func:`fail`) unless ``condition`` holds.

    >>> expect(1 + 1 == 2, "arithmetic", "arithmetic is broken", "count again")
    >>> expect(False, "values", "the spikes must be 0 or 1; one is 0.5", "what does a comparison give?")
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: the spikes must be 0 or 1; one is 0.5
    """
    if not condition:
        fail(kind, symptom, hint)


def forget_failures() -> None:
    """Forget every failure counted so far: the next failure of each kind shows its symptom only.

    >>> forget_failures()
    """
    _SEEN.clear()


def exercise(*library):
    """Decorate a check: count its failures by kind (adding the hint to a repeat), and refuse,
    while the student's code runs under :func:`attempt`, any call of ``library``.

    library: the library's own answers to this exercise: functions (every binding of each in the
    modules of ``snn_helpers``, in their dictionaries such as ``SURROGATES``, and in the
    student's own namespace is swapped for a tripwire) and classes (their methods are). All is
    restored when the student's call ends, even on error, so the library works everywhere else.

    >>> from snn_helpers.core.encoding import latency_encode
    >>> @exercise(latency_encode)
    ... def check_double(double):
    ...     expect(attempt(double, 2) == 4, "wrong", f"double(2) gave {attempt(double, 2)}", "2 + 2")
    >>> check_double(lambda x: x + 2)
    >>> check_double(lambda x: 2 * x + 1)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: double(2) gave 5
    >>> check_double(lambda x: 2 * x + 2)  # the same kind again: the hint is added
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: double(2) gave 6
    Hint: 2 + 2
    >>> check_double(lambda x: latency_encode(x, 1))
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `<lambda>` calls snn_helpers.core.encoding.latency_encode, ...
    """
    def decorate(check):
        @functools.wraps(check)
        def run(answer):
            _ARMED.append((library, _namespaces(answer), getattr(answer, "__name__", "your answer")))
            try:
                return check(answer)
            except ExerciseError as err:
                _SEEN[check.__qualname__, err.kind] += 1
                if _SEEN[check.__qualname__, err.kind] > 1 and err.hint:
                    raise ExerciseError(err.symptom, err.kind, err.hint, repeated=True) from err.__cause__
                raise
            finally:
                _ARMED.pop()
        return run
    return decorate


def _namespaces(answer) -> list[dict]:
    """The global namespaces of the student's answer: a function's, or those of a class's methods."""
    functions = [answer]
    if isinstance(answer, type):
        functions = [getattr(value, "__func__", value) for value in vars(answer).values()]
    spaces = {id(f.__globals__): f.__globals__ for f in functions if isinstance(f, types.FunctionType)}
    return list(spaces.values())


def _tripwire(qualified: str, name: str):
    def tripwire(*args, **kwargs):
        fail("library", f"`{name}` calls {qualified}, the library's own version of this exercise, so the check "
                        f"would only see the library at work, not your code. Here the point is to write it "
                        f"yourself; {qualified} still works everywhere else in the notebook.",
             "write the computation out with torch operations, following the task's equations; the folded "
             "hint under the task shows where to start")
    return tripwire


@contextlib.contextmanager
def _tripwires_set():
    """Swap the running check's library objects for tripwires; put everything back on the way out."""
    if not _ARMED:
        yield
        return
    library, namespaces, name = _ARMED[-1]
    swapped = []  # (set, original) in the order done

    def swap(container, key, target, qualified, method=False):
        wire = _tripwire(qualified, name)
        if method:
            original = container.__dict__[key]
            setattr(container, key, staticmethod(wire) if isinstance(original, staticmethod) else wire)
            swapped.append((lambda value, c=container, k=key: setattr(c, k, value), original))
        elif isinstance(container, dict):
            swapped.append((lambda value, c=container, k=key: c.__setitem__(k, value), target))
            container[key] = wire
        else:
            swapped.append((lambda value, c=container, k=key: setattr(c, k, value), target))
            setattr(container, key, wire)

    try:
        modules = [module for module_name, module in list(sys.modules.items())
                   if module_name.split(".")[0] == "snn_helpers" and module is not None]
        for target in library:
            qualified = f"{target.__module__}.{target.__qualname__}"
            if isinstance(target, type):
                for key, value in list(vars(target).items()):
                    if isinstance(value, (types.FunctionType, staticmethod)) and (
                            key in ("__init__", "__call__") or not key.startswith("__")):
                        label = qualified if key.startswith("__") else f"{qualified}.{key}"
                        swap(target, key, value, label, method=True)
                continue
            for module in modules:
                for key, value in list(vars(module).items()):
                    if value is target:
                        swap(module, key, target, qualified)
                    elif isinstance(value, dict):
                        for entry, item in list(value.items()):
                            if item is target:
                                swap(value, entry, target, qualified)
            for space in namespaces:
                for key, value in list(space.items()):
                    if value is target:
                        swap(space, key, target, qualified)
        yield
    finally:
        for put, original in reversed(swapped):
            put(original)


def attempt(function, *args, **kwargs):
    """Call the student's ``function(*args, **kwargs)`` and return its result.

    A stub that still raises ``NotImplementedError`` and any other exception are
    turned into an :class:`ExerciseError` that names the function and says what
    happened, so a check never ends in a bare traceback from inside the helpers
    (:func:`reword` gives a natural mistake's raw error a sentence of its own).
    Inside a check wrapped by :func:`exercise` the library's own answer is a
    tripwire while the call runs.

    >>> attempt(lambda x: 2 * x, 3)
    6
    >>> def stub(x):
    ...     raise NotImplementedError()
    >>> attempt(stub, 1)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: `stub` is not written yet: replace `raise NotImplementedError()` with your code, then run its cell and this check again.
    """
    name = getattr(function, "__name__", repr(function))
    if not callable(function):
        fail("not a function", f"expected a function, got {type(function).__name__}: the check was given the "
                               f"result of a call, not the function itself",
             "the check takes the function's name alone, without parentheses after it")
    try:
        with _tripwires_set():
            return function(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseError(f"`{name}` is not written yet: replace `raise NotImplementedError()` with your "
                            f"code, then run its cell and this check again.", "not written",
                            "the cell with your function must run (Shift+Enter) before its check") from None
    except ExerciseError:
        raise
    except Exception as err:  # any failure inside the student's code is reported, not hidden
        raise ExerciseError(f"`{name}` raised {type(err).__name__}: {err}", "raised",
                            "the last lines of the traceback name the line of your code that failed; "
                            "print the shapes of the tensors it uses") from err


@contextlib.contextmanager
def reword(pattern: str, kind: str, symptom, hint: str):
    """Turn the raw error of a natural mistake into a sentence of the check's own.

    Inside the block, an :class:`ExerciseError` made by :func:`attempt` from an exception whose
    text matches the regular expression ``pattern`` becomes the failure ``kind`` with the
    symptom ``symptom(match)`` (a function of the ``re.Match``) and ``hint``.

    >>> with reword(r"division by zero", "zero", lambda m: "it divided by zero", "what if x = 0?"):
    ...     attempt(lambda x: 1 / x, 0)
    Traceback (most recent call last):
    ...
    snn_helpers.course.exercises.ExerciseError: it divided by zero
    """
    try:
        yield
    except ExerciseError as err:
        match = re.search(pattern, str(err.__cause__)) if err.kind == "raised" and err.__cause__ else None
        if match is None:
            raise
        raise ExerciseError(symptom(match), kind, hint) from err.__cause__


def passed(message: str) -> None:
    """Print the check's verdict when everything holds.

    >>> passed("your encoder fires at the rate of each pixel's intensity")
    ✓ your encoder fires at the rate of each pixel's intensity
    """
    print(f"✓ {message}")
