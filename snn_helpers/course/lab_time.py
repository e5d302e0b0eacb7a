"""How long a notebook takes a student: its words in view, its exercises and its estimated-time line.

Each teaching notebook states under its title how long it takes, in one fixed form::

    **Estimated time.** 45 min: 15 min reading (1,480 words at 100 words a minute),
    20 min for exercises 1.1 (10) and 1.2 (10), 10 min running.

(one line in the notebook; ``no exercises`` where it has none). The reading time
is the markdown a student sees, the *words in view*, at :data:`READING_RATE`
words a minute, rounded up. Folded blocks (``<details>…</details>``, opened only
by the curious) and HTML comments are not in view. The exercises are the
notebook's nbgrader solution cells; the running time is the time its cells take
in full mode on a 2-core laptop. ``tests/test_lab_time.py`` recomputes all of it,
so the line, the notebook and the teacher's guide cannot drift apart.

The examples use this module's names and ``nbformat``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import nbformat

from .site import estimated_time
from .student import exercise_cells

READING_RATE = 100   # words a minute: a newcomer reading technical text
WORD_BUDGET = 1500   # words in view per teaching notebook

FORMAT = ("**Estimated time.** <total> min: <m> min reading (<words> words at <rate> words a minute), "
          "<m> min for exercises <n.k> (<m>) and <n.k> (<m>), <m> min running.")

_FOLDED = re.compile(r"<details\b(?:(?!<details\b).)*?</details\s*>", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINE = re.compile(
    r"^(?P<total>\d+) min: (?P<reading>\d+) min reading \((?P<words>[\d,]+) words at (?P<rate>\d+) words a "
    r"minute\), (?:no exercises|(?P<ex_minutes>\d+) min for exercises? (?P<exercises>.+?)), "
    r"(?P<running>\d+) min running\.$")
_EXERCISE = re.compile(r"(\d+\.\d+) \((\d+)\)")


class LabTimeError(ValueError):
    """An estimated-time line that is missing or not in the form of :data:`FORMAT`."""


@dataclass(frozen=True)
class Estimate:
    """What an estimated-time line states, in minutes (``words``: the words in view it counted;
    ``rate``: words a minute; ``exercises``: each exercise's minutes, in the notebook's order).

    >>> Estimate(total=20, reading=15, words=1465, rate=100, exercises={}, running=5) == parse_estimate(
    ...     "20 min: 15 min reading (1,465 words at 100 words a minute), no exercises, 5 min running.")
    True
    """
    total: int
    reading: int
    words: int
    rate: int
    exercises: dict[str, int]
    running: int


def in_view(markdown: str) -> str:
    """``markdown`` without its folded ``<details>…</details>`` blocks (nested ones too) and HTML comments.

    >>> in_view("Seen. <details><summary>Hint</summary>Folded.</details> Seen too. <!-- a note -->")
    'Seen.  Seen too. '
    """
    text = _COMMENT.sub("", markdown)
    while True:
        folded = _FOLDED.sub("", text)
        if folded == text:
            return text
        text = folded


def words_in_view(notebook: nbformat.NotebookNode) -> int:
    """The words a student sees in ``notebook``: every run of non-space characters (``\\S+``) in its
    markdown cells once :func:`in_view` has removed what is folded. Code and outputs do not count.

    >>> cells = [nbformat.v4.new_markdown_cell("# 01 · Spikes\\n\\nA spike is a 1.<details>not this</details>"),
    ...          nbformat.v4.new_code_cell("print('not code either')")]
    >>> words_in_view(nbformat.v4.new_notebook(cells=cells))  # '#', '01', '·', 'Spikes', 'A', ... '1.'
    9
    """
    return sum(len(re.findall(r"\S+", in_view(cell.source))) for cell in notebook.cells
               if cell.cell_type == "markdown")


def exercises(notebook: nbformat.NotebookNode) -> list[str]:
    """The numbers of ``notebook``'s exercises, in order, read from the ``grade_id`` of each nbgrader
    solution cell (``ex04_2_ties`` is exercise ``"4.2"``).

    >>> solution = nbformat.v4.new_code_cell("x = 1", metadata={"nbgrader": {"solution": True,
    ...                                                          "grade_id": "ex04_2_ties"}})
    >>> exercises(nbformat.v4.new_notebook(cells=[solution]))
    ['4.2']
    """
    numbers = []
    for solution, _ in exercise_cells(notebook):
        grade_id = solution.metadata.nbgrader.get("grade_id", "")
        match = re.match(r"ex(\d+)_(\d+)_", grade_id)
        if not match:
            raise LabTimeError(f"solution cell {solution.get('id')!r}: grade_id {grade_id!r} does not name an "
                               "exercise as ex<notebook>_<number>_<name>, e.g. ex04_2_ties")
        numbers.append(f"{int(match.group(1))}.{int(match.group(2))}")
    return numbers


def parse_estimate(text: str) -> Estimate:
    """The parts of an estimated-time line: ``text`` is what follows ``**Estimated time.**``.

    >>> parse_estimate("45 min: 15 min reading (1,480 words at 100 words a minute), "
    ...                "20 min for exercises 1.1 (10) and 1.2 (10), 10 min running.").exercises
    {'1.1': 10, '1.2': 10}
    >>> parse_estimate("35 min: 30 min reading (2,950 words at 100 words a minute), no exercises, "
    ...                "5 min running.").total
    35
    >>> parse_estimate("45 minutes (15 reading, 20 exercises)")
    Traceback (most recent call last):
    ...
    snn_helpers.course.lab_time.LabTimeError: estimated time '45 minutes (15 reading, 20 exercises)' is not in the form '**Estimated time.** <total> min: <m> min reading (<words> words at <rate> words a minute), <m> min for exercises <n.k> (<m>) and <n.k> (<m>), <m> min running.'
    """
    match = _LINE.match(text.strip())
    listed = match and match.group("exercises")
    pairs = _EXERCISE.findall(listed) if listed else []
    if not match or (listed and re.sub(r"(, | and )", "", _EXERCISE.sub("", listed))):
        raise LabTimeError(f"estimated time {text.strip()!r} is not in the form {FORMAT!r}")
    exercise_minutes = {number: int(minutes) for number, minutes in pairs}
    if listed and int(match.group("ex_minutes")) != sum(exercise_minutes.values()):
        raise LabTimeError(f"estimated time {text.strip()!r}: the exercises' {match.group('ex_minutes')} min "
                           f"are not the sum of their times, {sum(exercise_minutes.values())} min")
    return Estimate(total=int(match.group("total")), reading=int(match.group("reading")),
                    words=int(match.group("words").replace(",", "")), rate=int(match.group("rate")),
                    exercises=exercise_minutes, running=int(match.group("running")))


def reading_minutes(words: int, rate: int = READING_RATE) -> int:
    """Minutes to read ``words`` words at ``rate`` words a minute, rounded up to a whole minute.

    >>> reading_minutes(1480), reading_minutes(1500), reading_minutes(1501)
    (15, 15, 16)
    """
    return math.ceil(words / rate)


def format_estimate(words: int, exercise_minutes: dict[str, int], running: int, rate: int = READING_RATE) -> str:
    """The estimated-time line, ``**Estimated time.**`` included, for ``words`` words in view, the
    exercises' minutes (``{"1.1": 10}``, in the notebook's order; ``{}`` for none) and ``running`` minutes.

    >>> format_estimate(1480, {"1.1": 10, "1.2": 10}, 10)
    '**Estimated time.** 45 min: 15 min reading (1,480 words at 100 words a minute), 20 min for exercises 1.1 (10) and 1.2 (10), 10 min running.'
    >>> format_estimate(1203, {}, 5)
    '**Estimated time.** 18 min: 13 min reading (1,203 words at 100 words a minute), no exercises, 5 min running.'
    """
    reading = reading_minutes(words, rate)
    listed = [f"{number} ({minutes})" for number, minutes in exercise_minutes.items()]
    if not listed:
        doing = "no exercises"
    else:
        names = listed[0] if len(listed) == 1 else ", ".join(listed[:-1]) + " and " + listed[-1]
        doing = (f"{sum(exercise_minutes.values())} min for exercise{'s' if len(listed) > 1 else ''} {names}")
    total = reading + sum(exercise_minutes.values()) + running
    return (f"**Estimated time.** {total} min: {reading} min reading ({words:,} words at {rate} words a "
            f"minute), {doing}, {running} min running.")


def notebook_estimate(notebook: nbformat.NotebookNode) -> Estimate:
    """The estimated-time line under ``notebook``'s title (before its first code cell), parsed.

    >>> cell = nbformat.v4.new_markdown_cell("# 05 · SNN and ANN\\n\\n" + format_estimate(1203, {}, 5))
    >>> notebook_estimate(nbformat.v4.new_notebook(cells=[cell])).running
    5
    """
    text = estimated_time(notebook)
    if text is None:
        raise LabTimeError(f"no '**Estimated time.**' line before the first code cell; write one as {FORMAT!r}")
    return parse_estimate(text)


def guide_plan(markdown: str) -> dict[str, dict[str, int]]:
    """The per-notebook times in the teacher's guide's lab tables: each row ``| 04 · Evaluation | 14 min |
    15 min | 2 min | 31 min | notes |`` (reading, exercises, running, in all; ``none`` for no exercises;
    any further columns are notes) as ``{"04": {"reading": 14, "exercises": 15, "running": 2, "total": 31}}``.

    >>> guide_plan("| notebook | reading | exercises | running | in all | notes |\\n|---|---|---|---|---|---|\\n"
    ...            "| 05 · SNN against ANN | 15 min | none | 5 min | 20 min | the slider |")
    {'05': {'reading': 15, 'exercises': 0, 'running': 5, 'total': 20}}
    """
    plan = {}
    row = re.compile(r"^\| *(\d\d) · [^|]+\|" + r" *(\d+ min|none) *\|" * 4, re.M)
    for match in row.finditer(markdown):
        minutes = [0 if cell == "none" else int(cell.split()[0]) for cell in match.groups()[1:]]
        plan[match.group(1)] = dict(zip(("reading", "exercises", "running", "total"), minutes))
    return plan


def lab_lengths(markdown: str) -> dict[str, tuple[int, int]]:
    """Each lab table of the teacher's guide: ``{lab: (the minutes its rows add up to, its "in all" row)}``.

    A lab is a ``**Lab ...**`` line followed by a table whose fifth column gives each row's minutes
    (``10 min``; an empty cell counts 0) and whose last row, ``| in all | ... |``, the lab's length.

    >>> lab_lengths("**Lab 3: the rest.**\\n\\n| notebook | reading | exercises | running | in all |\\n"
    ...             "|---|---|---|---|---|\\n| break | | | | 10 min |\\n| 05 · SNN | 15 min | none | 5 min | 20 min |\\n"
    ...             "| in all | | | | 30 min |\\n")
    {'Lab 3: the rest.': (30, 30)}
    """
    labs = {}
    for match in re.finditer(r"^\*\*(Lab [^*]+)\*\*.*?\n\n((?:\|.*\n?)+)", markdown, re.M):
        rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in match.group(2).splitlines()]
        minutes = {row[0]: int(row[4].split()[0]) if row[4].endswith("min") else 0
                   for row in rows[2:] if len(row) >= 5}
        stated = minutes.pop("in all", None)
        if stated is None:
            raise LabTimeError(f"{match.group(1)!r}: its table has no '| in all | ... |' row")
        labs[match.group(1)] = (sum(minutes.values()), stated)
    return labs
