"""The course as a static website, built from the executed notebooks without running them again.

``build_site`` copies the executed notebooks (``build/executed/``, written by
``make run``) into a staging folder, turns each pre-rendered slider (see
``snn_helpers.course.prerender``) into a plain HTML slider, writes a home
page, and runs Sphinx with myst-nb (``nb_execution_mode = "off"``) and
sphinx-book-theme, configured in ``docs/site/conf.py`` (so it needs a clone of
the project; ``build/`` is under the output folder of :mod:`snn_helpers.system.paths`). Everything the pages
load is local: math is typeset by a copy of MathJax that :func:`ensure_mathjax`
fetches once (pinned version, checked sha256) into ``build/vendor/``, beside the
copy of axe-core (:func:`ensure_axe`) that the site's tests check every page with.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import nbformat

from ..analysis.plots import img_html
from ..core.data import npm_pack, sha256_of
from ..system.paths import PROJECT_ROOT, executed_dir, shown, site_dir, source_checkout, vendor_dir
from .prerender import SLIDER_MIME
from .runner import notebook_paths

# The website is built from a clone: its configuration, the guide and the README are not package data.
CONF_DIR = PROJECT_ROOT / "docs" / "site"
TEACHING_GUIDE = PROJECT_ROOT / "docs" / "teaching.md"
README = PROJECT_ROOT / "README.md"

MATHJAX_VERSION = "3.2.2"
MATHJAX_SHA256 = "1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09"  # the npm tarball
# The SVG output draws glyphs as paths, so no web font is needed (Chromium refuses fonts on file:// pages);
# the TeX extensions and the menu's accessibility parts are loaded on demand from beside it.
MATHJAX_PARTS = ("es5/tex-mml-svg.js", "es5/input/", "es5/a11y/", "es5/ui/", "es5/sre/", "LICENSE")
# axe-core, the accessibility checker that tests/test_site.py runs on every page (WCAG 2.0/2.1 A and AA rules).
AXE_VERSION = "4.14.1"
AXE_SHA256 = "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745"  # the npm tarball
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


class SiteError(RuntimeError):
    """The website cannot be built (no executed notebooks, no MathJax, Sphinx failed)."""


def mathjax_static_dir() -> Path:
    """The folder whose ``mathjax/`` subfolder Sphinx copies into the site's ``_static/``.

    It is ``mathjax-<MATHJAX_VERSION>`` in :func:`vendor_dir`; :func:`ensure_mathjax` fills it.

    >>> mathjax_static_dir() == vendor_dir() / f"mathjax-{MATHJAX_VERSION}"
    True
    """
    return vendor_dir() / f"mathjax-{MATHJAX_VERSION}"


def _vendor_copy(package: str, version: str, sha256: str, final: Path, target, verbose: bool) -> None:
    """Fetch ``package@version`` from npm, check its sha256, and unpack into ``final`` what ``target`` keeps.

    target: maps a member's name inside the tarball (without ``package/``) to its path
    inside ``final``, or to None to leave it out. The files are unpacked in a temporary
    folder that is renamed to ``final`` only when complete, so an interrupted fetch
    leaves nothing half-written.
    """
    vendor_dir().mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=vendor_dir(), prefix=f".{package}-") as tmp:
        tmp = Path(tmp)
        if verbose:
            print(f"{package} {version}: fetching the npm package ...", flush=True)
        try:
            tarball = npm_pack(f"{package}@{version}", tmp)
        except (OSError, subprocess.SubprocessError) as err:
            raise SiteError(f"could not fetch {package} {version} ({type(err).__name__}: {err}); "
                            f"the website and its tests need it once, with internet access: run "
                            f"`make vendor` again where Node.js's npm can reach its registry") from err
        if sha256_of(tarball) != sha256:
            raise SiteError(f"the {package} {version} tarball does not match its sha256 {sha256}; it was not used")
        unpacked = tmp / "unpacked"
        with tarfile.open(tarball) as archive:
            for member in archive.getmembers():
                name = target(member.name.removeprefix("package/")) if member.isfile() else None
                if name is None:
                    continue
                (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
                with archive.extractfile(member) as src, open(unpacked / name, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        shutil.rmtree(final, ignore_errors=True)
        unpacked.rename(final)
    if verbose:
        print(f"{package} {version} ready in {shown(final)}", flush=True)


def ensure_mathjax(verbose: bool = True) -> Path:
    """Make sure the checked MathJax copy is in ``build/vendor/``; return its ``tex-mml-svg.js``.

    The npm tarball is checked against :data:`MATHJAX_SHA256`; only the parts in
    :data:`MATHJAX_PARTS` are kept, in ``mathjax/`` of :func:`mathjax_static_dir`.
    """
    script = mathjax_static_dir() / "mathjax" / "tex-mml-svg.js"
    if not script.is_file():
        _vendor_copy("mathjax", MATHJAX_VERSION, MATHJAX_SHA256, mathjax_static_dir(),
                     lambda name: ("mathjax/" + name.removeprefix("es5/")) if name.startswith(MATHJAX_PARTS)
                     else None, verbose)
    return script


def ensure_axe(verbose: bool = True) -> Path:
    """Make sure the checked axe-core copy (the accessibility checker the site tests run) is in
    ``build/vendor/axe-core-<AXE_VERSION>/``; return its ``axe.min.js``.

    Fetched once from npm like MathJax and checked against :data:`AXE_SHA256`; only
    ``axe.min.js`` and its licence are kept. The website itself does not load it.

    >>> ensure_axe(verbose=False).name  # doctest: +SKIP
    'axe.min.js'
    """
    folder = vendor_dir() / f"axe-core-{AXE_VERSION}"
    if not (folder / "axe.min.js").is_file():
        _vendor_copy("axe-core", AXE_VERSION, AXE_SHA256, folder,
                     lambda name: name if name in ("axe.min.js", "LICENSE") else None, verbose)
    return folder / "axe.min.js"


def ensure_vendor(verbose: bool = True) -> list[Path]:
    """Both checked copies, MathJax (for the website) and axe-core (for its tests); ``make vendor`` runs it.

    Returns ``[tex-mml-svg.js, axe.min.js]``. Raises :class:`SiteError` when a copy is
    missing and cannot be fetched, or does not match its sha256.

    >>> [path.name for path in ensure_vendor(verbose=False)]  # doctest: +SKIP
    ['tex-mml-svg.js', 'axe.min.js']
    """
    return [ensure_mathjax(verbose), ensure_axe(verbose)]


# ---------------------------------------------------------------- the notebook pages


def slider_html(payload: dict, images: Path, prefix: str) -> str:
    """An HTML range slider over the pre-rendered frames of ``payload``; writes their PNGs to ``images``.

    Each frame is a ``<figure>`` holding its image, with the figure's description
    as ``alt``, and its printed line; the one for the slider's value in the notebook
    is shown first, and ``docs/site/static/snn-site.js`` shows the others as the
    slider moves. From the keyboard: Tab to the slider, then the arrow keys (Home,
    End); a screen reader hears the value (``aria-valuetext``) and then the printed
    line (a polite live region). ``prefix`` is the images' folder as the page
    refers to it; it also makes the element ids unique on the page.

    payload: the ``SLIDER_MIME`` data of :func:`snn_helpers.course.widgets.prerender`,
    ``{"name", "value", "frames": [{"value", "image" (base64 PNG), "alt", "text"}, ...]}``
    with at least one frame (a frame without ``"alt"``, from an older run, is
    described by its value); images: a folder, created if missing (frame ``i``
    is written to ``<name>-<i>.png``). Returns one ``<div>`` of HTML.

    >>> import tempfile
    >>> frames = [{"value": v, "image": base64.b64encode(b"png").decode(), "alt": f"{v} bars", "text": f"spikes: {v}"}
    ...           for v in (1, 2)]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     page = slider_html({"name": "beta", "value": 2, "frames": frames}, Path(folder), "_sliders")
    ...     sorted(path.name for path in Path(folder).iterdir())
    ['beta-0.png', 'beta-1.png']
    >>> page.count("<figure"), 'value="1"' in page, 'aria-valuetext="2"' in page, 'alt="2 bars"' in page
    (2, True, True, True)
    """
    name, frames = payload["name"], payload["frames"]
    values = [frame["value"] for frame in frames]
    start = values.index(payload["value"]) if payload["value"] in values else 0
    images.mkdir(parents=True, exist_ok=True)
    ident = "snn-slider-" + re.sub(r"[^A-Za-z0-9]+", "-", prefix).strip("-")
    label = html.escape(name)
    figures = []
    for i, frame in enumerate(frames):
        (images / f"{name}-{i}.png").write_bytes(base64.b64decode(frame["image"]))
        hidden = "" if i == start else " hidden"
        alt = frame.get("alt") or f"The figure for {name} = {frame['value']:g}"
        figures.append(
            f'<figure class="snn-slider-frame" data-value="{frame["value"]:g}"{hidden}>'
            f'{img_html(f"{prefix}/{name}-{i}.png", alt)}'
            f'<figcaption><pre class="snn-slider-text">{html.escape(frame["text"])}</pre></figcaption>'
            "</figure>")
    labels = json.dumps([f"{value:g}" for value in values])
    return (f'<div class="snn-slider" data-name="{label}" role="group" aria-labelledby="{ident}-label">'
            f'<div class="snn-slider-controls"><label id="{ident}-label" for="{ident}">{label}</label> '
            f'<input id="{ident}" type="range" min="0" max="{len(frames) - 1}" step="1" value="{start}" '
            f"data-labels='{labels}' aria-valuetext=\"{values[start]:g}\" aria-describedby=\"{ident}-note\"> "
            f'<output class="snn-slider-value" for="{ident}" aria-hidden="true">{values[start]:g}</output></div>'
            f'<p class="snn-slider-note" id="{ident}-note">Drawn in advance for {len(frames)} values of {label} '
            f'({", ".join(f"{value:g}" for value in values)}); use the arrow keys to step through them. '
            "In JupyterLab this slider is live and takes any value.</p>"
            '<p class="snn-slider-live snn-visually-hidden" aria-live="polite"></p>'
            + "".join(figures) + "</div>")


def figure_output(output, folder: Path, prefix: str):
    """A figure output that carries a text alternative, as the site shows it; ``None`` for any other output.

    An output whose ``image/png`` or ``image/gif`` has an ``alt`` in its metadata
    (what :class:`snn_helpers.analysis.plots.DescribedFigure` and :class:`~snn_helpers.analysis.plots.Animation`
    display) becomes HTML: an ``<img>`` of the image, written to ``folder`` (created
    if missing) under the name of its sha256, with that ``alt``;
    ``docs/site/static/snn-site.js`` gives every GIF on a page a stop/play button.
    prefix: the folder as the page refers to it.

    >>> import tempfile
    >>> output = nbformat.v4.new_output("display_data", data={"image/png": base64.b64encode(b"png").decode()},
    ...                                 metadata={"image/png": {"alt": "Two bars."}})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     shown = figure_output(output, Path(folder), "_figures")
    >>> shown.data["text/html"]
    '<img src="_figures/8f8cbb7d.png" alt="Two bars." class="snn-figure">'
    >>> figure_output(nbformat.v4.new_output("stream", text="hello\\n"), Path("."), "_figures") is None
    True
    """
    for mime, suffix in (("image/gif", ".gif"), ("image/png", ".png")):
        alt = output.get("metadata", {}).get(mime, {}).get("alt") if mime in output.get("data", {}) else None
        if alt:
            data = base64.b64decode(output["data"][mime])
            name = hashlib.sha256(data).hexdigest()[:8] + suffix
            folder.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
            return nbformat.v4.new_output(output["output_type"], data={
                "text/html": img_html(f"{prefix}/{name}", alt)[:-1] + ' class="snn-figure">'},
                **({"execution_count": output["execution_count"]} if output["output_type"] == "execute_result"
                   else {}))
    return None


def write_stills(folder: Path) -> list[Path]:
    """Beside every GIF under ``folder``, its last frame as ``<name>-still.png``; return the stills written.

    The site shows the still instead of the animation when the reader stops it
    or asks for reduced motion (``docs/site/static/snn-site.js``).

    >>> import tempfile
    >>> from PIL import Image
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     frames = [Image.new("L", (4, 4), shade) for shade in (0, 255)]
    ...     frames[0].save(Path(folder) / "a.gif", save_all=True, append_images=frames[1:])
    ...     (still,) = write_stills(Path(folder))
    ...     still.name, Image.open(still).convert("L").getpixel((0, 0))
    ('a-still.png', 255)
    """
    from PIL import Image

    stills = []
    for gif in sorted(Path(folder).rglob("*.gif")):
        with Image.open(gif) as animation:
            animation.seek(animation.n_frames - 1)
            still = gif.with_name(gif.stem + "-still.png")
            animation.convert("RGB").save(still)
        stills.append(still)
    return stills


def notebook_title(notebook) -> str:
    """The first heading of the notebook's first cell, without its number: ``Spike encoding: ...``.

    notebook: an ``nbformat`` notebook whose first cell holds a ``# `` line.
    Raises :class:`SiteError` when it does not.

    >>> notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · Spike encoding")])
    >>> notebook_title(notebook)
    'Spike encoding'
    """
    for line in notebook.cells[0].source.splitlines():
        if line.startswith("# "):
            return re.sub(r"^[0-9A-Z]{1,2}\d*\s*·\s*", "", line[2:].strip())
    raise SiteError("the notebook's first cell has no '# ' title")


def estimated_time(notebook) -> str | None:
    """The text after ``**Estimated time.**`` in the markdown cells before the first code cell.

    notebook: an ``nbformat`` notebook. Returns None when no cell before the
    first code cell gives a time.

    >>> cells = [nbformat.v4.new_markdown_cell("# 01 · Spikes\\n\\n**Estimated time.** 45 minutes."),
    ...          nbformat.v4.new_code_cell("x = 1")]
    >>> estimated_time(nbformat.v4.new_notebook(cells=cells))
    '45 minutes.'
    >>> estimated_time(nbformat.v4.new_notebook(cells=cells[::-1])) is None  # after the code: not read
    True
    """
    for cell in notebook.cells:
        if cell.cell_type == "code":
            break
        match = re.search(r"\*\*Estimated time[.:]?\*\*:?\s*(.+)", cell.source)
        if match:
            return match.group(1).strip()
    return None


def page_notice(name: str, sliders: int) -> nbformat.NotebookNode:
    """The markdown cell under each notebook's title: where the live notebook is, and a download.

    name: the notebook's file name (``01_spike_encoding.ipynb``); sliders: how many
    pre-rendered sliders its page shows (>= 0), which changes the wording.

    >>> cell = page_notice("01_spike_encoding.ipynb", sliders=2)
    >>> cell.cell_type, "sliders are live" in cell.source
    ('markdown', True)
    """
    live = ("there its sliders are live. On this page each slider switches between figures drawn in "
            "advance for a few values." if sliders else "there you can change it and run it again.")
    return nbformat.v4.new_markdown_cell(
        f"```{{note}}\nThis page shows the notebook as `make run` executed it, with its outputs. "
        f"Download {{download}}`{name} <_notebooks/{name}>` (the notebook without outputs) and open "
        f"it in JupyterLab (`make lab`) to run it yourself: {live}\n```")


def stage_notebook(executed: Path, committed: Path, stage: Path) -> dict:
    """Copy one executed notebook into ``stage`` as the site will show it; return its summary.

    Live widgets are dropped (no kernel on a website), each pre-rendered slider
    becomes HTML, each figure with a text alternative an ``<img>`` with that ``alt``
    (:func:`figure_output`), and a notice with the download link opens the page. The
    committed notebook (no outputs) is copied to ``_notebooks/`` for download.

    executed, committed: ``.ipynb`` files; stage: an existing folder. Returns
    ``{"doc", "title", "time", "sliders", "number"}`` for :func:`home_page`.

    >>> import tempfile
    >>> cells = [nbformat.v4.new_markdown_cell("# 01 · Spikes\\n\\n**Estimated time.** 45 minutes."),
    ...          nbformat.v4.new_code_cell("x = 1")]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     notebook = Path(folder) / "01_spikes.ipynb"
    ...     nbformat.write(nbformat.v4.new_notebook(cells=cells), notebook)
    ...     (Path(folder) / "stage").mkdir()
    ...     stage_notebook(notebook, notebook, Path(folder) / "stage")
    {'doc': '01_spikes', 'title': 'Spikes', 'time': '45 minutes.', 'sliders': 0, 'number': '01'}
    """
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata.pop("widgets", None)
    sliders = 0
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW_MIME in data:
                continue
            if SLIDER_MIME in data:
                sliders += 1
                folder = f"_sliders/{executed.stem}/{sliders}"
                output = nbformat.v4.new_output(
                    "display_data", data={"text/html": slider_html(data[SLIDER_MIME], stage / folder, folder)})
            folder = f"_figures/{executed.stem}"
            outputs.append(figure_output(output, stage / folder, folder) or output)
        cell.outputs = outputs
    title, minutes = notebook_title(notebook), estimated_time(notebook)
    notebook.cells.insert(1, page_notice(executed.name, sliders))
    nbformat.validate(notebook)
    nbformat.write(notebook, stage / executed.name)
    (stage / "_notebooks").mkdir(exist_ok=True)
    shutil.copyfile(committed, stage / "_notebooks" / executed.name)
    return {"doc": executed.stem, "title": title, "time": minutes, "sliders": sliders,
            "number": executed.stem.split("_")[0]}


# ---------------------------------------------------------------- the home page


def readme_section(text: str, heading: str) -> str:
    """The body of the README section ``## heading`` (up to the next ``## ``), stripped; ``""`` if absent.

    >>> readme = "# Course\\n\\n## Figures\\n\\n![raster](img/raster.png)\\n\\n## Licence\\n\\nMIT\\n"
    >>> readme_section(readme, "Figures")
    '![raster](img/raster.png)'
    >>> readme_section(readme, "Install")
    ''
    """
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, flags=re.S | re.M)
    return match.group(1).strip() if match else ""


def local_links(markdown: str) -> str:
    """Links written for the repository (README, teacher's guide), made to work on the site.

    Notebooks become their pages, the README the home page, ``img/`` figures
    are copied beside the page; a link to any other file of the repository
    becomes its text followed by the file's path, since the site does not hold it.
    Web addresses and ``#anchors`` are left alone.

    >>> local_links("[01](notebooks/01_x.ipynb), [home](README.md), [code](snn_helpers/course/site.py)")
    '[01](01_x.ipynb), [home](index.md), code (`snn_helpers/course/site.py` in the repository)'
    >>> local_links("![raster](./img/raster.png) and [web](https://example.org)")
    '![raster](img/raster.png) and [web](https://example.org)'
    """
    def fix(match):
        bang, text, target = match.groups()
        if re.match(r"^([a-z]+:|#)", target):
            return match.group(0)
        path = re.sub(r"^(\./|\.\./)+", "", target)
        if bang:
            return f"![{text}]({path})"
        if re.fullmatch(r"(notebooks/)?\w+\.ipynb", path):
            return f"[{text}]({path.removeprefix('notebooks/')})"
        if path == "README.md":
            return f"[{text}](index.md)"
        return f"{text} (`{path}` in the repository)"

    return re.sub(r"(!?)\[([^\]]*)\]\(([^)\s]+)\)", fix, markdown)


def total_minutes(pages: list[dict]) -> int | None:
    """The sum of the leading minutes of every estimated time, or None when one is missing or unreadable.

    pages: summaries from :func:`stage_notebook`; each ``"time"`` is a string that
    starts ``<n> min`` (``"45 minutes (...)"``) or None.

    >>> total_minutes([{"time": "45 minutes (15 reading)"}, {"time": "30 min"}])
    75
    >>> total_minutes([{"time": "45 minutes"}, {"time": None}]) is None
    True
    """
    minutes = [re.match(r"(\d+)\s*min", page["time"] or "") for page in pages]
    return sum(int(m.group(1)) for m in minutes) if all(minutes) else None


def home_page(pages: list[dict], readme: str, has_guide: bool) -> str:
    """The site's ``index.md``: what the course teaches, the notebooks in order with their times,
    the teacher's guide, and the README's figures.

    pages: summaries from :func:`stage_notebook`, in order; readme: the README's
    text (a ``# `` title, an introduction, optionally ``## Figures``); has_guide:
    whether ``teaching.md`` is on the site. Returns MyST Markdown.

    >>> pages = [{"number": "01", "doc": "01_x", "title": "Spikes", "time": "45 minutes"}]
    >>> page = home_page(pages, "# SNN course\\n\\nLearn spikes.\\n", has_guide=False)
    >>> page.splitlines()[0], "| 01 | {doc}`Spikes <01_x>` | 45 minutes |" in page, "about 45 minutes" in page
    ('# SNN course', True, True)
    """
    title = re.search(r"^# (.+)$", readme, flags=re.M).group(1)
    intro = readme.split("\n## ", 1)[0].split("\n", 1)[1].strip()
    rows = "\n".join(f"| {page['number']} | {{doc}}`{page['title']} <{page['doc']}>` | "
                     f"{page['time'] or 'not given'} |" for page in pages)
    total = total_minutes(pages)
    lines = [f"# {title}", "", intro, "",
             "## The notebooks, in order", "",
             "Work through them in this order; each builds on the ones before it. Every page shows "
             "the notebook as `make run` executed it, and offers the notebook itself for download.", "",
             "| | Notebook | Estimated time |", "|---|---|---|", rows, ""]
    if total is not None:
        lines += [f"In all, about {total} minutes.", ""]
    if has_guide:
        lines += ["## For teachers", "", "The {doc}`teacher's guide <teaching>` explains how to run the "
                  "course in a classroom.", ""]
    figures = readme_section(readme, "Figures")
    if figures:
        lines += ["## Figures", "", local_links(figures), ""]
    toc = [page["doc"] for page in pages] + (["teaching"] if has_guide else [])
    lines += ["```{toctree}", ":hidden:", ":maxdepth: 1", ":caption: Notebooks", "", *toc, "```", ""]
    return "\n".join(lines)


def figure_paths(markdown: str) -> list[str]:
    """The local image paths ``![...](img/...)`` in ``markdown``, in order (web images are left out).

    >>> figure_paths("![a](img/a.png), ![b](https://example.org/b.png), ![c](img/c.svg)")
    ['img/a.png', 'img/c.svg']
    """
    return re.findall(r"!\[[^\]]*\]\((img/[^)\s]+)\)", markdown)


# ---------------------------------------------------------------- the build


def ordered_notebooks(executed: Path) -> list[tuple[Path, Path]]:
    """``(executed copy, committed notebook)`` for every notebook the runner runs, in its order.

    executed: the folder of executed copies. Raises :class:`SiteError`, naming
    them, when some copy is missing.

    >>> import tempfile
    >>> names = [path.name for path in notebook_paths()]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     for name in names:
    ...         (Path(folder) / name).touch()
    ...     [copy.name for copy, committed in ordered_notebooks(folder)] == names
    True
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     ordered_notebooks(empty)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    snn_helpers.course.site.SiteError: no executed copy of 01_spike_encoding.ipynb, ... first
    """
    pairs = [(Path(executed) / path.name, path) for path in notebook_paths()]
    missing = [copy.name for copy, _ in pairs if not copy.is_file()]
    if missing:
        raise SiteError(f"no executed copy of {', '.join(missing)} in {shown(executed)}: run "
                        "`make run` (or `python -m snn_helpers run-notebooks`) first")
    return pairs


def build_site(executed=None, out=None, quick: bool | None = None, verbose: bool = True) -> Path:
    """Build the website from the executed notebooks; return the path of its ``index.html``.

    ``executed`` defaults to :func:`~snn_helpers.system.paths.executed_dir` (``build/executed``, or
    ``build/quick/executed`` in quick mode), ``out`` to :func:`~snn_helpers.system.paths.site_dir`
    (``build/site`` or ``build/quick/site``), both under the output folder; ``quick``
    as for :func:`~snn_helpers.system.paths.quick_mode` (``None``: ``SNN_QUICK`` decides). Nothing is executed; the staging folder and Sphinx's cache sit
    beside ``out``. Raises :class:`SiteError` outside a clone of the project
    (the site's configuration is not package data).
    """
    if not source_checkout():
        raise SiteError("the website is built from a clone of the project: its docs/site/ and README.md "
                        "are not in the installed package")
    start = time.perf_counter()
    executed = Path(executed) if executed is not None else executed_dir(quick)
    out = Path(out) if out is not None else site_dir(quick)
    pairs = ordered_notebooks(executed)
    ensure_mathjax(verbose)
    stage = out.with_name(out.name + "-source")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    pages = [stage_notebook(copy, committed, stage) for copy, committed in pairs]
    readme = README.read_text(encoding="utf-8")
    has_guide = TEACHING_GUIDE.is_file()
    home = home_page(pages, readme, has_guide)
    (stage / "index.md").write_text(home, encoding="utf-8")
    guide = local_links(TEACHING_GUIDE.read_text(encoding="utf-8")) if has_guide else ""
    if has_guide:
        (stage / "teaching.md").write_text(guide, encoding="utf-8")
    for figure in sorted(set(figure_paths(home) + figure_paths(guide))):
        if (PROJECT_ROOT / figure).is_file():
            (stage / figure).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(PROJECT_ROOT / figure, stage / figure)
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-E", "-c", str(CONF_DIR),
               "-d", str(out.with_name(out.name + "-doctrees")), str(stage), str(out)]
    env = {**os.environ, "SNN_SITE_MATHJAX": str(mathjax_static_dir())}  # read by docs/site/conf.py
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    warnings = result.stderr.strip()
    if result.returncode != 0:
        raise SiteError(f"Sphinx failed (exit {result.returncode}):\n{warnings}")
    for folder in ("_sliders", "_figures"):  # the sliders' and the notebooks' figures, named by the pages' HTML
        if (stage / folder).is_dir():
            shutil.copytree(stage / folder, out / folder)
    write_stills(out)
    seconds = time.perf_counter() - start
    if verbose:
        if warnings:
            print(warnings)
        size = sum(path.stat().st_size for path in out.rglob("*") if path.is_file())
        print(f"website: {len(pages)} notebooks, {sum(p['sliders'] for p in pages)} pre-rendered sliders, "
              f"{size / 1e6:.1f} MB, built in {seconds:.1f} s")
        print(f"open {(out / 'index.html').as_uri()} in a browser")
    return out / "index.html"
