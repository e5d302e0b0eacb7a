"""Sphinx settings of the course website; ``python -m snn_helpers site`` (``make site``) runs it.

The sources are a staging folder that ``snn_helpers.course.site`` writes from the
executed notebooks, so nothing is executed here. Every script, style and font
the pages load is copied into the site: no page asks another host for anything.
"""
import os

# snn_helpers.course.site.build_site names the folder of its checked MathJax copy (build/vendor/mathjax-*/).
MATHJAX_DIR = os.environ.get("SNN_SITE_MATHJAX")
if not MATHJAX_DIR:
    raise RuntimeError("build the site with `python -m snn_helpers site` (make site), which sets SNN_SITE_MATHJAX")

project = "Spiking neural networks on MNIST"
author = "the course's authors"
copyright = "the course's authors"

extensions = ["myst_nb", "sphinx_copybutton"]
exclude_patterns = ["_notebooks", "_sliders", "_figures", "**/.ipynb_checkpoints"]

# myst-nb: show the outputs the executed notebooks carry; never execute; never fetch the
# widget scripts from a CDN (the live widgets are dropped: there is no kernel on a website).
nb_execution_mode = "off"
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# Math: the local MathJax copy (SVG output: no web fonts).
mathjax_path = "mathjax/tex-mml-svg.js"
mathjax3_config = {"svg": {"fontCache": "global"}}

html_theme = "sphinx_book_theme"
# Our copy of the theme's search button, whose accessible name is its visible text (WCAG 2.5.3).
templates_path = ["_templates"]
html_title = "Spiking neural networks on MNIST"
html_static_path = ["static", MATHJAX_DIR]
html_css_files = ["snn-site.css"]
html_js_files = ["snn-site.js"]
html_last_updated_fmt = None
html_theme_options = {
    "use_download_button": True,       # the executed notebook (.ipynb) behind each page
    "use_fullscreen_button": True,
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
html_context = {"default_mode": "light"}
html_show_sphinx = False
html_copy_source = True
copybutton_exclude = ".linenos, .gp, .go"
