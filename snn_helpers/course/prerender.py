"""The website's pre-render protocol: how a notebook run hands the site its sliders, with no IPython.

A slider panel cannot move on a website, which has no kernel. So when
``make run`` executes the notebooks it sets :data:`PRERENDER_ENV`
(``SNN_PRERENDER=1``) for their kernels; each slider panel then also displays
one output of type :data:`SLIDER_MIME` that holds the demo drawn ahead for a
few values of one slider (:func:`snn_helpers.course.widgets.prerender` writes it).
:mod:`snn_helpers.course.site` turns that output into a plain HTML slider. The
payload is ``{"demo", "name", "value", "arguments", "frames": [{"value",
"image", "alt", "text"}, ...]}``: the demo's name, the slider's name and
current value, the other arguments, and one frame (a base64 PNG, its text
alternative and the printed line) per value.

This module holds only those names, so that the runner and the site read them
without importing the widgets (and IPython with them).
"""
from __future__ import annotations

import os

PRERENDER_ENV = "SNN_PRERENDER"
SLIDER_MIME = "application/vnd.snn-slider+json"


def prerender_requested() -> bool:
    """True when the environment variable ``SNN_PRERENDER`` is ``1`` (anything else, or unset: False).

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {PRERENDER_ENV: "1"}):
    ...     prerender_requested()
    True
    >>> with mock.patch.dict(os.environ, {PRERENDER_ENV: "yes"}):
    ...     prerender_requested()
    False
    """
    return os.environ.get(PRERENDER_ENV, "0") == "1"
