"""Drive JupyterLab in headless Chromium: a throwaway server, notebooks and ipywidgets sliders.

``jupyter_lab`` starts JupyterLab on 127.0.0.1 (a free port chosen by the
OS, a random token, Jupyter's config, data, runtime, settings, workspaces and
IPython folders in a fresh folder) and stops it by its process id on exit.
``Notebook`` opens one notebook in a Playwright page, runs all its cells and
moves its sliders with the keyboard.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from playwright.sync_api import Page

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

# No news pop-up over the page, no autosave over the notebooks, every cell in the DOM.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}


def find_chromium() -> str | None:
    """Path of Debian's Chromium, or None when there is none."""
    return shutil.which("chromium") or shutil.which("chromium", path="/usr/bin")


def chromium_or_skip() -> str:
    """Debian's Chromium for a test; skip where there is none, but fail in CI, which must have it."""
    path = find_chromium()
    if path is None:
        reason = "no Chromium: `make chromium` (apt-get install -y chromium) could not install it"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"{reason}, and CI must run the browser tests")
        pytest.skip(reason)
    return path


def wait_for(condition: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    """Poll ``condition`` until it returns something truthy; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
    return result


@dataclass
class Lab:
    """A running JupyterLab server."""

    process: subprocess.Popen
    base_url: str
    token: str
    log_path: Path

    def url(self, path: str) -> str:
        """Address of ``path`` on the server, token included."""
        return f"{self.base_url}{path}?token={self.token}"


def _isolated_env(home: Path) -> dict[str, str]:
    """The environment with every Jupyter and IPython folder under ``home``.

    The data folder is moved too; the venv's ``share/jupyter`` (sys.prefix),
    which holds the ipywidgets lab extension, stays on Jupyter's search path.
    """
    folders = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
               "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTERLAB_SETTINGS_DIR": "settings",
               "JUPYTERLAB_WORKSPACES_DIR": "workspaces", "IPYTHONDIR": "ipython"}
    env = dict(os.environ, JUPYTER_PLATFORM_DIRS="0", JUPYTER_PREFER_ENV_PATH="1")
    for var, name in folders.items():
        (home / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / name)
    for plugin, values in LAB_SETTINGS.items():
        path = home / "settings" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    return env


def _stop(process: subprocess.Popen) -> None:
    """Stop the server by its process id: SIGTERM (it shuts its kernels down), SIGKILL after 20 s.

    Kernels run in sessions of their own; one whose server was killed exits
    by itself when it sees its parent gone (ipykernel's parent poller).
    """
    if process.poll() is None:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def jupyter_lab(root_dir: Path, home: Path, startup_timeout: float = 60) -> Iterator[Lab]:
    """Run JupyterLab on ``root_dir`` with its state under ``home``; stop it on exit, also on error."""
    env = _isolated_env(home)
    token = secrets.token_hex(16)
    log_path = home / "jupyterlab.log"
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", "--port=0",
               "--allow-root", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
               f"--FileCheckpoints.checkpoint_dir={home / 'checkpoints'}"]  # not beside the notebooks
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        info_file = home / "runtime" / f"jpserver-{process.pid}.json"

        def server_info():
            if process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                return json.loads(info_file.read_text())
            except (OSError, ValueError):  # not written yet, or half written
                return None

        info = wait_for(server_info, startup_timeout, "JupyterLab's server info file")
        lab = Lab(process, f"http://127.0.0.1:{info['port']}/", token, log_path)
        wait_for(lambda: answers(lab.url("api/status")), startup_timeout, "JupyterLab to answer")
        yield lab
    finally:
        _stop(process)


def answers(url: str) -> bool:
    """True when ``url`` answers 200."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


IDLE_JS = """() => {
  const text = document.querySelector('#jp-main-statusbar')?.innerText || '';
  return text.includes('| Idle') && !text.includes('No Kernel');
}"""
RUN_DONE_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.innerText);
  return prompts.length > 0 && /\\d/.test(prompts[0]) && !prompts.some(p => p.includes('*'));
}"""
TRACEBACK = "Traceback (most recent call last)"


class Slider:
    """An ipywidgets slider, found by its label, and the output area of its panel."""

    def __init__(self, page: Page, label: str):
        self.label = label
        self.root = page.locator(".widget-slider").filter(
            has=page.locator(f".widget-label:text-is({json.dumps(label)})"))
        self.cell = page.locator(".jp-CodeCell").filter(has=self.root)
        self.handle = self.root.locator(".noUi-handle")
        self.output = self.cell.locator(".widget-output")

    def position(self) -> float:
        """Where the handle stands: noUiSlider's aria-valuetext (its aria-valuenow has one decimal only)."""
        return float(self.handle.get_attribute("aria-valuetext"))

    def readout(self) -> str:
        """The value printed beside the slider."""
        return self.root.locator(".widget-readout").inner_text()

    def image(self) -> str:
        """The ``src`` of the figure in the panel's output (a PNG data URL); "" while there is none."""
        return self.output.locator("img").evaluate_all("imgs => imgs.length ? imgs[0].src : ''")

    def text(self) -> str:
        """What the panel's output printed to stdout."""
        return "".join(self.output.locator(
            "[data-mime-type='application/vnd.jupyter.stdout']").all_inner_texts()).strip()

    def move_to(self, target: float, max_presses: int = 200) -> None:
        """Focus the handle and press arrow keys until it stands at ``target``."""
        self.handle.focus()
        direction = 1 if target > self.position() else -1
        for _ in range(max_presses):
            position = self.position()
            gap = (target - position) * direction
            if abs(gap) < 1e-6:  # float steps land on values such as 1.2000000000000002
                return
            if gap < 0:  # went past the target
                break
            self.handle.press("ArrowRight" if direction > 0 else "ArrowLeft")
            if self.position() == position:  # stuck at an end
                break
        raise AssertionError(f"slider {self.label!r} stopped at {self.position()}, not at {target}")


class Notebook:
    """One notebook in JupyterLab's single-document view, with screenshots under ``shots``."""

    def __init__(self, page: Page, lab: Lab, path: str, shots: Path):
        self.page, self.lab, self.path, self.shots = page, lab, path, shots

    def status(self) -> str:
        """The status bar's text, e.g. ``Python 3 (ipykernel) | Idle``."""
        return self.page.locator("#jp-main-statusbar").inner_text()

    def open(self, timeout: float) -> None:
        """Load the notebook and wait until its kernel is really idle.

        Right after a cold start the toolbar says idle before the kernel
        exists, and "Run All" then runs nothing: the status bar says
        ``No Kernel`` until it does.
        """
        self.page.goto(self.lab.url(f"doc/tree/{self.path}"))
        self.page.wait_for_function(IDLE_JS, timeout=timeout * 1000)

    def run_all(self, timeout: float) -> None:
        """Run > Run All Cells; wait until no cell is queued; fail if a cell raised or did not run.

        The notebooks are committed without execution counts (tests/test_notebooks.py
        checks), so a number in the first prompt means the run has begun.
        """
        self.page.get_by_role("menuitem", name="Run", exact=True).click()
        self.page.get_by_role("menuitem", name=re.compile("^Run All Cells")).click()
        self.page.wait_for_function(RUN_DONE_JS, timeout=timeout * 1000)
        prompts = self.page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
        errors = [text for text in self.page.locator(
            "[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts() if TRACEBACK in text]
        if errors or not all(re.fullmatch(r"\[\d+\]:", p.strip()) for p in prompts):
            raise AssertionError(f"{self.path}: a cell raised or did not run (prompts: {prompts}):\n"
                                 + "\n".join(errors))

    def slider(self, label: str, timeout: float = 60) -> Slider:
        """The slider labelled ``label``, once its panel shows a figure and a printed line."""
        slider = Slider(self.page, label)
        slider.root.wait_for(timeout=timeout * 1000)
        try:
            wait_for(lambda: slider.image() and slider.text(), timeout, "the first drawing")
        except TimeoutError:
            raise AssertionError(f"{self.path}: the panel of {label!r} should show a figure and a printed "
                                 f"line; figure: {'yes' if slider.image() else 'none'}, "
                                 f"printed: {slider.text()!r}") from None
        return slider

    def wait_redrawn(self, slider: Slider, old_image: str, timeout: float, quiet: float = 1.0) -> None:
        """Wait until the panel shows a figure other than ``old_image`` and the kernel was idle ``quiet`` s.

        Each arrow key sends the kernel one change, and each change redraws:
        the kernel's quiet second means the last one has been drawn.
        """
        idle_since = None

        def settled():
            nonlocal idle_since
            if "| Idle" not in self.status() or slider.image() == old_image:
                idle_since = None
            elif idle_since is None:
                idle_since = time.monotonic()
            return idle_since is not None and time.monotonic() - idle_since >= quiet

        try:
            wait_for(settled, timeout, "a redraw", interval=0.1)
        except TimeoutError:
            raise AssertionError(f"{self.path}: the figure was not redrawn within {timeout:.0f} s "
                                 f"after moving {slider.label!r}") from None

    def screenshot(self, name: str, slider: Slider | None = None) -> None:
        """Save the slider's cell (or the page) as ``shots/name.png``."""
        (slider.cell if slider else self.page).screenshot(path=self.shots / f"{name}.png")


@contextmanager
def open_notebook(page: Page, lab: Lab, path: str, shots: Path, timeout: float = 90) -> Iterator[Notebook]:
    """Open ``path`` in ``page``; on any error save ``shots/failure.png`` and the server's log; re-raise."""
    shutil.rmtree(shots, ignore_errors=True)
    shots.mkdir(parents=True)
    notebook = Notebook(page, lab, path, shots)
    try:
        notebook.open(timeout)
        yield notebook
    except BaseException:
        notebook.screenshot("failure")
        shutil.copy(lab.log_path, shots / "jupyterlab.log")
        raise
