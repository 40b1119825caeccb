"""No built page loads a script, stylesheet, font or image from the web (no browser needed).

The browser tests also abort and report any request leaving 127.0.0.1 at run time; this
check reads the built files, so it runs even where Chromium cannot be installed.
"""

import re
from html.parser import HTMLParser

from browsing import SITE, site_pages

WEB = re.compile(r"^\s*(https?:)?//", re.IGNORECASE)
# url(...) and @import in CSS, e.g. web fonts from a font CDN.
CSS_WEB_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*((?:https?:)?//[^'")\s]+)""",
                         re.IGNORECASE)
LOADED_BY = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src",
             "video": "src", "embed": "src", "object": "data", "input": "src"}
LINK_RELS_LOADED = {"stylesheet", "preload", "modulepreload", "prefetch", "icon", "font",
                    "manifest", "apple-touch-icon", "import"}


class WebAssets(HTMLParser):
    """Every http(s):// URL a page would fetch by itself when opened."""

    def __init__(self, html):
        super().__init__()
        self.urls, self._in_style = [], False
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._in_style = tag == "style"
        url = attrs.get(LOADED_BY.get(tag, ""), "")
        if tag == "link" and set((attrs.get("rel") or "").lower().split()) & LINK_RELS_LOADED:
            url = attrs.get("href", "")
        if url and WEB.match(url):
            self.urls.append(f"<{tag}> {url}")
        self.urls.extend(f"style attribute: {found}"
                         for found in CSS_WEB_URL.findall(attrs.get("style") or ""))

    def handle_data(self, data):
        if self._in_style:
            self.urls.extend(f"<style>: {found}" for found in CSS_WEB_URL.findall(data))

    def handle_endtag(self, tag):
        self._in_style = False


def test_site_is_built():
    assert (SITE / "index.html").is_file(), f"no built site in {SITE}: run `make book` first"


def test_pages_load_nothing_from_the_web():
    found = {page: WebAssets((SITE / page).read_text("utf-8")).urls for page in site_pages()}
    assert {page: urls for page, urls in found.items() if urls} == {}


def test_stylesheets_load_no_web_fonts_or_imports():
    found = {str(css.relative_to(SITE)): CSS_WEB_URL.findall(css.read_text("utf-8", "replace"))
             for css in SITE.rglob("*.css")}
    assert {css: urls for css, urls in found.items() if urls} == {}


def test_the_check_sees_a_web_script():
    """The parser catches the forms a CDN reference takes (guards against a vacuous pass)."""
    html = ('<script src="https://cdn.example/x.js"></script>'
            '<link rel="stylesheet" href="//cdn.example/x.css">'
            '<style>@font-face { src: url("https://fonts.example/f.woff2") }</style>'
            '<script src="_static/local.js"></script><a href="https://example.org">ok</a>')
    assert len(WebAssets(html).urls) == 3
