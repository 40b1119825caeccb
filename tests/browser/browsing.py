"""The built site and a Chromium page over it: what the browser tests share.

Playwright never downloads a browser of its own here: it drives Debian's Chromium through
``executable_path``, installed with apt-get when missing and running as root.
"""

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# GRADLAB_SITE points the tests at another build (a scratch book, the student edition's site).
SITE = Path(os.environ.get("GRADLAB_SITE") or ROOT / "_build" / "html").resolve()
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_NAMES = ("chromium", "chromium-browser")
# As root on a closed network: no sandbox, no GPU, nothing phoning home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}  # a phone in portrait
PAGE_WEIGHT_KEY = "page_weight"  # user property read by the terminal summary

os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"


def site_pages():
    """Every HTML page of the built site, relative to its root ("chapters/x.html").

    Folders starting with "_" hold sources, images and the theme's assets; the vendored
    libraries (mathjax/, requirejs/, jupyter-widgets/) hold no HTML.
    """
    return sorted(path.relative_to(SITE).as_posix() for path in SITE.rglob("*.html")
                  if not any(part.startswith("_") for part in path.relative_to(SITE).parts))


def chapter_pages():
    return [page for page in site_pages() if page.startswith("chapters/")]


def find_chromium():
    return next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)


def install_chromium():
    """Install Debian's chromium package; returns None, or why it could not."""
    if not shutil.which("apt-get"):
        return "there is no apt-get on this machine"
    if os.geteuid() != 0:
        return "apt-get needs root and the tests do not run as root"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            return f"`{' '.join(command)}` failed: {done.stderr.strip()[-300:]}"
    return None


def import_playwright():
    """Playwright's sync API; pip-installs the package into this interpreter if missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # requirements.txt lists it; this helps a virtualenv made before
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "playwright"],
                       check=True)
        from playwright.sync_api import sync_playwright
    return sync_playwright


class PageVisit:
    """One page opened in a fresh browser context, with every problem it ran into.

    Problems: console errors, uncaught exceptions, failed requests, HTTP errors, and any
    request leaving the local server (aborted: the site must work offline).
    """

    def __init__(self, browser, base_url, path, viewport=None):
        self.url = base_url + path
        self.problems = []
        self.context = browser.new_context(viewport=viewport or VIEWPORT)
        self.context.route("**/*", functools.partial(self._route, base_url))
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"uncaught error: {error}"))
        self.page.on("requestfailed", self._request_failed)
        self.page.on("response", self._response)
        self.page.goto(self.url, wait_until="networkidle")
        self.wait_for_mathjax()

    def _route(self, base_url, route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            self.problems.append(f"request leaving the site: {route.request.url}")
            route.abort()

    def _console(self, message):
        if message.type == "error":
            self.problems.append(f"console error: {message.text} at {message.location}")

    def _request_failed(self, request):
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response):
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def wait_for_mathjax(self):
        """Wait until MathJax, where the page loads it, has typeset the page."""
        self.page.evaluate("""async () => {
            if (!window.MathJax) return;
            for (let i = 0; i < 200 && !(MathJax.startup && MathJax.startup.promise); i++)
                await new Promise(resolve => setTimeout(resolve, 50));
            if (MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
        }""")

    def close(self):
        self.context.close()
