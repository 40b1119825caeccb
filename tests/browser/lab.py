"""JupyterLab (or Notebook 7) on the local edition, and a Chromium page driving one notebook.

``LabServer`` starts ``jupyter lab`` (or ``jupyter notebook``) from this interpreter's
environment on 127.0.0.1 with a random token, in a private folder: the local edition of the
chapters as ``make lab`` writes it (``gradlab.local_edition``: numbers written in, references
resolved, no solutions), so nothing is ever saved into the committed notebooks; its own
settings (no news or update prompts, every cell kept in the page) and its own workspace.
``LabNotebook`` opens one notebook, runs it, reads the saved result, and finds its explorers.
"""

import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


from browsing import ROOT, SCREENSHOTS

from gradlab import local_edition

CHAPTERS = ROOT / "chapters"
LAB_SCREENSHOTS = SCREENSHOTS / "lab"
# JupyterLab user settings (plugin id -> values): no news/update toasts, no "Select Kernel"
# dialog (the notebook's own kernel starts), every cell stays in the DOM ("none" windowing) so
# the test finds all of them without scrolling.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autoStartDefaultKernel": True},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
RENDERED = ".myst, .jp-RenderedMarkdown"  # a markdown cell's rendered text, with or without MyST
STARTUP_TIMEOUT = 90  # s: the server answering
RUN_TIMEOUT = 240    # s: one notebook's "Run All Cells"
START_TIMEOUT = 10   # s: its first cell starting
REDRAW_TIMEOUT = 30   # s: an explorer's figure after a key press
PRESSES = 7  # key presses on each explorer's slider: its latency is their median


def chapter_notebooks():
    return sorted(path.name for path in CHAPTERS.glob("*.ipynb"))


def chapter_digests():
    """SHA-256 of every tracked chapter notebook: a run in JupyterLab must change none."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(CHAPTERS.glob("*.ipynb"))}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LabServer:
    """``jupyter lab`` (``app="notebook"``: Notebook 7 without any extension) serving a
    private local edition of the chapters; ``stop()`` ends it."""

    def __init__(self, folder, app="jupyterlab"):
        self.folder, self.app = Path(folder), app
        self.root = self.folder / "chapters"
        local_edition.write_local_edition(ROOT, self.root)
        # The notebooks as written, read before a server can save over them (reading a file
        # JupyterLab is writing can find it empty).
        self.local = {path.name: json.loads(path.read_text())
                      for path in self.root.glob("*.ipynb")}
        if app == "notebook":  # plain Notebook 7: MyST rendering switched off
            config = self.folder / "config" / "labconfig"
            config.mkdir(parents=True)
            (config / "page_config.json").write_text(
                json.dumps({"disabledExtensions": {"jupyterlab-myst": True}}))
        settings = self.folder / "settings"
        for plugin, values in SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        self.token = secrets.token_hex(16)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(self.folder / "config"),
               "JUPYTER_RUNTIME_DIR": str(self.folder / "runtime")}
        env.setdefault("OPENBLAS_NUM_THREADS", "1")  # as `make`: 2 cores, repeatable runs
        self.log_path = self.folder / "jupyterlab.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", app, "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
             f"--ServerApp.root_dir={self.root}",
             f"--LabApp.user_settings_dir={settings}",
             f"--LabApp.workspaces_dir={self.folder / 'workspaces'}",
             "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
            cwd=self.folder, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._wait_until_up()

    def log_tail(self, chars=2000):
        return self.log_path.read_text()[-chars:]

    def api(self, path, method="GET"):
        request = urllib.request.Request(f"{self.url}api/{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def _wait_until_up(self):
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.process.returncode}:\n"
                                   f"{self.log_tail()}")
            try:
                self.api("status")
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"jupyter lab did not answer in {STARTUP_TIMEOUT} s:\n"
                           f"{self.log_tail()}")

    def notebook_url(self, name):
        """The notebook alone in a fresh workspace (``reset``: no tabs from a previous test)."""
        if self.app == "notebook":
            return f"{self.url}notebooks/{name}?token={self.token}"
        return f"{self.url}lab/tree/{name}?reset&token={self.token}"

    def shut_down_kernels(self):
        """End every kernel session (each test starts its notebook's own kernel)."""
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# Installed before a key press on a slider: records when the key went down and when the
# explorer's figure (the <img> in its output widget) changed its image after it.
_WATCH_REDRAW = """(output) => {
    const source = () => { const image = output.querySelector('img'); return image && image.src; };
    const before = source();
    const watch = window.__labRedraw = {key: null, drawn: null};
    document.addEventListener('keydown', () => { watch.key = watch.key ?? performance.now(); },
                              {capture: true, once: true});
    const observer = new MutationObserver(() => {
        const now = source();
        if (watch.key !== null && now && now !== before) {
            watch.drawn = performance.now();
            observer.disconnect();
        }
    });
    observer.observe(output, {subtree: true, childList: true, attributes: true});
}"""

_IMAGE_DECODED = """async (output) => {
    const image = output.querySelector('img');
    if (!image) return false;
    await image.decode().catch(() => null);
    return image.complete && image.naturalWidth > 0;
}"""

_PROMPTS = f"""() => [...document.querySelectorAll(
    '{PANEL} .jp-CodeCell .jp-InputArea-prompt')].map(prompt => prompt.textContent)"""


class LabNotebook:
    """One chapter notebook open in JupyterLab in ``page``."""

    def __init__(self, server, page, name):
        self.server, self.page, self.name = server, page, name
        self.panel = page.locator(PANEL)
        page.goto(server.notebook_url(name))
        self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
        if not self._every_cell_in_the_page(timeout=20):
            # The first notebook of a session can open before the settings (windowingMode
            # "none") apply, and then keeps only the cells in view in the page.
            page.reload()
            self.panel.locator(".jp-Notebook .jp-Cell").first.wait_for(timeout=60_000)
            assert self._every_cell_in_the_page(timeout=30), f"{name}: cells missing from the page"
        self.wait_for_kernel_idle(timeout=60)

    def _every_cell_in_the_page(self, timeout):
        """Whether, within ``timeout`` seconds, the page holds a cell element per cell."""
        cells = len(self.server.local[self.name]["cells"])
        try:
            self.page.wait_for_function(
                f"n => document.querySelectorAll('{PANEL} .jp-Notebook .jp-Cell').length >= n",
                arg=cells, timeout=timeout * 1000)
        except Exception:  # Playwright's TimeoutError
            return False
        return True

    def kernel_status(self):
        return self.panel.locator(".jp-Notebook-ExecutionIndicator").first.get_attribute(
            "data-status")

    def wait_for_kernel_idle(self, timeout):
        deadline = time.monotonic() + timeout
        while self.kernel_status() != "idle":
            self.handle_dialog()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: kernel not idle after {timeout} s "
                                   f"(status {self.kernel_status()!r})")
            time.sleep(0.2)

    def handle_dialog(self):
        """Accept the kernel JupyterLab proposes if it asks for one, and fail on any other dialog.

        A server that has just started may open the first notebook before it knows the
        kernel specs, and then asks which kernel to start; a student would press Select.
        """
        dialog = self.page.locator(".jp-Dialog")
        if not dialog.count():
            return
        text = dialog.first.inner_text()
        if text.startswith("Select Kernel") and "Python 3" in text:
            dialog.first.locator("button.jp-mod-accept").click()
            dialog.first.wait_for(state="detached", timeout=10_000)
            return
        raise RuntimeError(f"{self.name}: JupyterLab asks: {text!r}")

    def menu(self, label, command):
        """Click ``command`` (a JupyterLab command id) in the menu bar's ``label`` menu."""
        self.page.locator(".lm-MenuBar-itemLabel", has_text=label).first.click()
        self.page.locator(f'li.lm-Menu-item[data-command="{command}"]').click()

    def run_all(self):
        """Run > Run All Cells, then wait until no cell is queued and the kernel is idle.

        Returns the seconds it took. A cell that raises stops the run; the cells after it
        go back to ``[ ]``, which ``errors()`` then reports. A click that lands while the
        kernel is still connecting can be lost: if no cell has started after
        ``START_TIMEOUT`` s, the menu is clicked again.
        """
        start = time.monotonic()
        deadline = start + RUN_TIMEOUT
        clicked_at, started, settled = None, False, 0
        while settled < 3:  # idle and nothing queued, three polls in a row
            now = time.monotonic()
            if now > deadline:
                raise TimeoutError(f"{self.name}: still running after {RUN_TIMEOUT} s")
            if not started and (clicked_at is None or now - clicked_at > START_TIMEOUT):
                self.menu("Run", "runmenu:run-all")
                clicked_at = now
            self.handle_dialog()
            prompts = self.page.evaluate(_PROMPTS)
            busy = any("*" in prompt for prompt in prompts)
            started = started or busy or any(any(c.isdigit() for c in p) for p in prompts)
            idle = started and not busy and self.kernel_status() == "idle"
            settled = settled + 1 if idle else 0
            time.sleep(0.25)
        return time.monotonic() - start

    def save(self):
        """File > Save, then wait until the tab is no longer marked dirty."""
        self.menu("File", "docmanager:save")
        self.page.wait_for_function(
            "() => !document.querySelector('.lm-TabBar-tab.jp-mod-current.jp-mod-dirty')",
            timeout=30_000)

    def saved(self):
        return json.loads((self.server.root / self.name).read_text())

    def errors(self):
        """Save, then list the errors in the saved notebook and the code cells that never ran."""
        self.save()
        problems, not_run = [], 0
        for index, cell in enumerate(self.saved()["cells"]):
            if cell["cell_type"] != "code":
                continue
            problems += [f"cell {index}: {output['ename']}: {output['evalue'][:300]}"
                         for output in cell["outputs"] if output["output_type"] == "error"]
            not_run += cell["execution_count"] is None and bool(cell["source"])
        return problems + ([f"{not_run} code cells did not run"] if not_run else [])

    def screenshot_pages(self, folder, height=2400):
        """Screenshots of the whole notebook, one per screenful (page-01.png, ...)."""
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        viewport = self.page.viewport_size
        self.page.set_viewport_size({"width": viewport["width"], "height": height})
        scroller = self.panel.locator(".jp-WindowedPanel-outer").first
        paths, top = [], -1
        try:
            scroller.evaluate("element => element.scrollTo(0, 0)")
            while len(paths) < 60:
                self.page.wait_for_timeout(150)
                paths.append(folder / f"page-{len(paths) + 1:02d}.png")
                self.page.screenshot(path=paths[-1])
                top, previous = scroller.evaluate(
                    "element => (element.scrollBy(0, element.clientHeight - 40),"
                    " element.scrollTop)"), top
                if top == previous:
                    break
        finally:
            self.page.set_viewport_size(viewport)
        return paths

    def explorers(self):
        """The ``widgets.interactive`` explorers rendered in the outputs (sliders + output)."""
        explorers = self.panel.locator(".jp-OutputArea-output .widget-interact")
        return [explorers.nth(index) for index in range(explorers.count())]

    def move_slider(self, explorer, before_path, after_path, presses=PRESSES):
        """Press an arrow key ``presses`` times on the explorer's first slider, each time waiting
        for the new figure; screenshot the figure before the first press and after the last.

        Each press goes right, or left when the slider is at its maximum, so every press moves
        it. Returns (before PNG bytes, after PNG bytes, the milliseconds from each key press to
        the new image in the page). Raises AssertionError when the explorer shows no figure or
        none follows a key press.
        """
        output = explorer.locator(".widget-output").first
        assert output.evaluate(_IMAGE_DECODED), "the explorer shows no figure"
        output.scroll_into_view_if_needed()
        before = output.screenshot(path=before_path)
        handle = explorer.locator(".widget-slider .noUi-handle").first
        latencies = []
        for press in range(1, presses + 1):
            output.evaluate(_WATCH_REDRAW)
            handle.focus()
            at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
            self.page.keyboard.press("ArrowLeft" if at_max else "ArrowRight")
            try:
                self.page.wait_for_function("() => window.__labRedraw.drawn !== null",
                                            timeout=REDRAW_TIMEOUT * 1000)
            except Exception as error:  # Playwright's TimeoutError
                raise AssertionError(f"no new figure {REDRAW_TIMEOUT} s after key press {press}") \
                    from error
            watch = self.page.evaluate("() => window.__labRedraw")
            latencies.append(watch["drawn"] - watch["key"])
            assert output.evaluate(_IMAGE_DECODED), f"the figure of key press {press} did not load"
            self.wait_for_kernel_idle(timeout=REDRAW_TIMEOUT)
        after = output.screenshot(path=after_path)
        return before, after, latencies

    def rendered_markdown(self):
        """Text of every markdown cell as the reader sees it (not its source), once every one
        has been rendered (jupyterlab-myst renders into ``.myst``, asynchronously; plain
        JupyterLab and Notebook 7 into ``.jp-RenderedMarkdown``)."""
        self.page.wait_for_function(f"""() => {{
            const cells = [...document.querySelectorAll('{PANEL} .jp-MarkdownCell')];
            return cells.every(cell => {{
                const shown = cell.querySelector('{RENDERED}');
                return shown && shown.textContent.trim().length > 0; }}); }}""", timeout=60_000)
        return self.panel.locator(f".jp-MarkdownCell :is({RENDERED})").all_inner_texts()

    def visible_text(self):
        """All text of the notebook as shown: markdown, code and outputs."""
        return self.panel.locator(".jp-Notebook").first.inner_text()

    def run_new_cell(self, code):
        """Add a code cell at the end, type ``code``, run it; returns its output's text."""
        cells = self.page.locator(".jp-Notebook .jp-Cell")
        count = cells.count()
        cells.last.locator(".jp-InputPrompt").first.click()
        self.page.keyboard.press("Escape")
        self.page.keyboard.press("b")
        cells.nth(count).wait_for(timeout=10_000)
        self.page.keyboard.press("Enter")
        self.page.keyboard.insert_text(code)
        self.page.keyboard.press("Shift+Enter")
        output = cells.nth(count).locator(".jp-OutputArea-output")
        output.first.wait_for(timeout=30_000)
        self.wait_for_kernel_idle(timeout=30)
        return output.first.inner_text()

    def unrendered_markdown_cells(self):
        return self.panel.locator(".jp-MarkdownCell:not(.jp-mod-rendered)").count()

    def exercise_titles(self):
        """The exercises' bold headings ("Exercise 2.3 · Title") in the rendered markdown."""
        return [text for text in self.bold() if text.startswith("Exercise ")]

    def captions(self):
        return [text for text in self.bold() if text.startswith("Figure ")]

    def bold(self):
        self.rendered_markdown()
        return self.panel.locator(f".jp-MarkdownCell :is({RENDERED}) strong").all_inner_texts()
