"""Serve the built website on 127.0.0.1 and open its pages in Debian's Chromium.

Run after `make book`, with `make test-site` (or `pytest tests/browser`). The browser tests
skip, saying why, only where Chromium is missing and cannot be installed.
"""

import functools
import http.server
import threading
from pathlib import Path

import pytest

from browsing import (CHROMIUM_ARGS, PAGE_WEIGHT_KEY, SITE, PageVisit, find_chromium,
                      import_playwright, install_chromium, site_pages)


def pytest_ignore_collect(collection_path, config):
    """Collect these tests only when asked for by path (`pytest tests/browser`).

    They test the built site, so `pytest tests` (`make test`, which runs before the build)
    leaves them out.
    """
    here = Path(__file__).parent
    asked = [Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
             for arg in config.args]
    if collection_path.is_relative_to(here) and not any(
            path.is_relative_to(here) for path in asked):
        return True
    return None


def pytest_generate_tests(metafunc):
    """Tests taking ``page_path`` run once per page of the built site."""
    if "page_path" in metafunc.fixturenames:
        pages = site_pages() if (SITE / "index.html").is_file() else ["index.html"]
        metafunc.parametrize("page_path", pages)


@pytest.fixture(scope="session")
def site():
    if not (SITE / "index.html").is_file():
        pytest.fail(f"no built site in {SITE}: run `make book` first")
    return SITE


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def base_url(site):
    """The site served over HTTP on 127.0.0.1, on a free port, for the whole session."""
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    path = find_chromium()
    if path is None:
        reason = install_chromium()
        path = find_chromium()
        if path is None:
            pytest.skip(f"Chromium is not installed and cannot be: {reason}")
    with import_playwright()() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def visit(browser, base_url):
    """Open site pages in fresh browser contexts: ``visit("chapters/x.html").page``
    (``viewport=PHONE`` for a phone's width)."""
    visits = []

    def open_page(path, viewport=None):
        visits.append(PageVisit(browser, base_url, path, viewport))
        return visits[-1]

    yield open_page
    for page_visit in visits:
        page_visit.close()


def pytest_terminal_summary(terminalreporter):
    rows = [value for report in terminalreporter.stats.get("passed", [])
            for key, value in report.user_properties if key == PAGE_WEIGHT_KEY]
    if not rows:
        return
    terminalreporter.section("page weight in MB: the page and its images / with shared scripts")
    width = max(len(page) for page, *_ in rows)
    for page, own, total in sorted(rows):
        terminalreporter.write_line(f"{page:<{width}}  {own / 1e6:6.2f} / {total / 1e6:6.2f}")
