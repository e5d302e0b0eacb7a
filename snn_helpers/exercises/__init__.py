"""Checks for the notebooks' exercises, one module per notebook topic.

A check takes the student's function, calls it on small inputs it makes itself
and either prints one line starting with a tick or raises :class:`ExerciseError`
with a sentence that says what is wrong, with the numbers. Random code is judged
by statistics with tolerances, never draw for draw.

The notebooks hold the exercises as nbgrader solution cells (the instructor
version); ``python -m snn_helpers student`` turns them into stubs for the class.
"""
from __future__ import annotations

__all__ = ["ExerciseError", "attempt", "expect", "passed"]


class ExerciseError(AssertionError):
    """A check's verdict, in words a student can act on."""


def attempt(function, *args, **kwargs):
    """Call the student's ``function(*args, **kwargs)`` and return its result.

    A stub that still raises ``NotImplementedError`` and any other exception are
    turned into an :class:`ExerciseError` that names the function and says what
    happened, so a check never ends in a bare traceback from inside the helpers.

    >>> attempt(lambda x: 2 * x, 3)
    6
    >>> def stub(x):
    ...     raise NotImplementedError()
    >>> attempt(stub, 1)
    Traceback (most recent call last):
    ...
    snn_helpers.exercises.ExerciseError: `stub` is not written yet: replace `raise NotImplementedError()` with your code, then run its cell and this check again.
    """
    name = getattr(function, "__name__", repr(function))
    if not callable(function):
        raise ExerciseError(f"expected a function, got {type(function).__name__}: pass the function itself, "
                            f"without calling it (no parentheses)")
    try:
        return function(*args, **kwargs)
    except NotImplementedError:
        raise ExerciseError(f"`{name}` is not written yet: replace `raise NotImplementedError()` with your "
                            f"code, then run its cell and this check again.") from None
    except ExerciseError:
        raise
    except Exception as err:  # any failure inside the student's code is reported, not hidden
        raise ExerciseError(f"`{name}` raised {type(err).__name__}: {err}") from err


def expect(condition: bool, message: str) -> None:
    """Raise :class:`ExerciseError` with ``message`` unless ``condition`` holds.

    >>> expect(1 + 1 == 2, "arithmetic is broken")
    >>> expect(False, "the spikes must be 0 or 1")
    Traceback (most recent call last):
    ...
    snn_helpers.exercises.ExerciseError: the spikes must be 0 or 1
    """
    if not condition:
        raise ExerciseError(message)


def passed(message: str) -> None:
    """Print the check's verdict when everything holds.

    >>> passed("your encoder fires at the rate of each pixel's intensity")
    ✓ your encoder fires at the rate of each pixel's intensity
    """
    print(f"✓ {message}")
