"""The teaching notebooks fit their reading budget, and their estimated times add up.

For every teaching notebook (01-06) the estimated-time line under the title is
recomputed from the notebook itself (:mod:`snn_helpers.course.lab_time`): the words in
view, the reading minutes, the exercises, the total, and the teacher's guide's
lab plan must quote the same times. The word count the line states may be off by
:data:`WORD_TOLERANCE` words, so that a small edit of the prose does not force a
new line each time; the minutes must follow exactly from the count the line states,
so a line is never more than a minute of reading away from the truth.
"""
import re

import nbformat
import pytest

from snn_helpers.course import lab_time
from snn_helpers.course.runner import notebook_paths
from snn_helpers.system.paths import PROJECT_ROOT

WORD_TOLERANCE = 50
GUIDE = PROJECT_ROOT / "docs" / "teaching.md"
TEACHING = [path for path in notebook_paths() if re.match(r"0\d_", path.name)]
APPENDICES = [path for path in notebook_paths() if path not in TEACHING]


def test_there_are_six_teaching_notebooks():
    assert [path.name[:2] for path in TEACHING] == ["01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("path", TEACHING, ids=lambda path: path.name[:2])
def test_words_in_view_fit_the_budget(path):
    words = lab_time.words_in_view(nbformat.read(path, as_version=4))
    assert words <= lab_time.WORD_BUDGET, (
        f"{path.name} has {words:,} words of markdown in view, over the budget of {lab_time.WORD_BUDGET:,}: "
        "fold implementation details into <details><summary>For the curious: ...</summary> blocks")


@pytest.mark.parametrize("path", TEACHING, ids=lambda path: path.name[:2])
def test_the_estimated_time_follows_from_the_notebook(path):
    notebook = nbformat.read(path, as_version=4)
    stated = lab_time.notebook_estimate(notebook)
    words = lab_time.words_in_view(notebook)
    line = lab_time.format_estimate(words, stated.exercises, stated.running)
    assert stated.rate == lab_time.READING_RATE, f"{path.name}: read at {lab_time.READING_RATE} words a minute"
    assert abs(stated.words - words) <= WORD_TOLERANCE, (
        f"{path.name} states {stated.words:,} words in view, but has {words:,}; write\n{line}")
    assert stated.reading == lab_time.reading_minutes(stated.words), (
        f"{path.name}: {stated.words:,} words take {lab_time.reading_minutes(stated.words)} min, not "
        f"{stated.reading}")
    assert list(stated.exercises) == lab_time.exercises(notebook), (
        f"{path.name} lists exercises {list(stated.exercises)}, but holds {lab_time.exercises(notebook)}")
    parts = stated.reading + sum(stated.exercises.values()) + stated.running
    assert stated.total == parts, f"{path.name}: the total {stated.total} min is not the sum of its parts, {parts}"


@pytest.mark.parametrize("path", TEACHING, ids=lambda path: path.name[:2])
def test_the_guides_lab_plan_quotes_the_notebooks_times(path):
    planned = lab_time.guide_plan(GUIDE.read_text()).get(path.name[:2])
    stated = lab_time.notebook_estimate(nbformat.read(path, as_version=4))
    quoted = {"reading": stated.reading, "exercises": sum(stated.exercises.values()),
              "running": stated.running, "total": stated.total}
    assert planned == quoted, f"docs/teaching.md's lab plan gives {path.name[:2]} {planned}, its line {quoted}"


@pytest.mark.parametrize("path", APPENDICES, ids=lambda path: path.name[:2])
def test_the_guide_quotes_each_appendixs_time(path):
    found = re.match(r"(\d+) min", lab_time.estimated_time(nbformat.read(path, as_version=4)) or "")
    assert found, f"{path.name}: the opening states no '**Estimated time.** N min...'"
    assert re.search(rf"\b{path.name[:2]} (?:takes )?about {found.group(1)} min", GUIDE.read_text()), (
        f"docs/teaching.md does not give {path.name[:2]}'s {found.group(1)} minutes")


def test_folded_text_and_comments_are_not_counted():
    cell = nbformat.v4.new_markdown_cell(
        "One two three.\n\n<details><summary>For the curious: how</summary>\n\nfour five "
        "<details>six</details> seven\n\n</details>\n<!-- eight nine -->\n$\\beta = 0.9$")
    assert lab_time.words_in_view(nbformat.v4.new_notebook(cells=[cell])) == 6


def test_an_over_budget_notebook_fails_naming_it_and_its_count(tmp_path):
    path = tmp_path / "07_long.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("word " * 1501)]), path)
    with pytest.raises(AssertionError, match=r"07_long\.ipynb has 1,501 words"):
        test_words_in_view_fit_the_budget(path)


def test_a_line_that_does_not_add_up_is_refused():
    good = ("45 min: 15 min reading (1,480 words at 100 words a minute), 20 min for exercises 1.1 (10) and "
            "1.2 (10), 10 min running.")
    assert lab_time.parse_estimate(good).exercises == {"1.1": 10, "1.2": 10}
    with pytest.raises(lab_time.LabTimeError, match="not the sum"):
        lab_time.parse_estimate(good.replace("20 min for", "25 min for"))
    with pytest.raises(lab_time.LabTimeError, match="not in the form"):
        lab_time.parse_estimate(good.replace("1.2 (10)", "1.2 (ten)"))
    assert lab_time.parse_estimate(lab_time.format_estimate(1480, {"1.1": 10, "1.2": 10}, 10).removeprefix(
        "**Estimated time.** ")) == \
        lab_time.parse_estimate(good)


def test_each_lab_of_the_guide_adds_up_and_fits_two_hours():
    labs = lab_time.lab_lengths(GUIDE.read_text())
    assert labs, "docs/teaching.md has no '**Lab ...**' line followed by its table"
    for lab, (added, stated) in labs.items():
        assert added == stated, f"docs/teaching.md, {lab}: its rows add up to {added} min, its 'in all' says {stated}"
        assert stated <= 120, f"docs/teaching.md, {lab}: {stated} min does not fit a two-hour lab"
    planned = [number for number in lab_time.guide_plan(GUIDE.read_text())]
    assert sorted(planned) == [path.name[:2] for path in TEACHING], f"the labs plan notebooks {planned}"
