"""A sample nbgrader configuration for a course built on these notebooks (nbgrader 0.9).

Copy it to the root of your course folder, the folder that holds ``source/``,
and change the course id. "Grading with nbgrader" in docs/teaching.md explains
each setting; tests/test_nbgrader_course.py grades a course with this file as it is.
"""
c = get_config()  # noqa: F821 (nbgrader defines get_config when it reads this file)

c.CourseDirectory.course_id = "snn-mnist"

# What the notebooks write beside themselves when the package is a regular install
# (figures, checkpoints, executed copies and quick-mode outputs, and MNIST if someone
# fetched it there). None of it belongs in a release, a graded folder or feedback.
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",  # nbgrader's own defaults
    "build", "checkpoints", "img", "data",
]

# While nbgrader runs a notebook it sets NBGRADER_EXECUTION, and the notebooks
# switch themselves to quick mode (snn_helpers.system.paths.quick_mode). Even so, 30 s a
# cell (nbgrader's default) can be too little: 03's slowest quick-mode cells took
# 56 s and 34 s on a 2-core AMD EPYC shared with other jobs (load about 20).
# 300 s leaves room for a busy grading machine. Full mode (SNN_QUICK=0) needs
# more again: there 03's training cell alone trains 5 epochs on 60,000 images.
c.ExecutePreprocessor.timeout = 300

# The stubs that replace each answer: nbgrader's default for Python, which
# `make student` (python -m snn_helpers student) also uses.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
