"""Crawl the served site: every internal href and src resolves, anchors included."""

import urllib.error
import urllib.request
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from browsing import chapter_pages

LINK_ATTRIBUTES = {"a": "href", "link": "href", "area": "href", "script": "src", "img": "src",
                   "source": "src", "iframe": "src", "video": "src", "audio": "src"}


class PageLinks(HTMLParser):
    """The URLs a page points at, and the anchors (ids and names) it defines."""

    def __init__(self, html):
        super().__init__()
        self.links, self.anchors = [], set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.anchors.update(attrs[key] for key in ("id", "name") if attrs.get(key))
        if attrs.get(LINK_ATTRIBUTES.get(tag, "")):
            self.links.append(attrs[LINK_ATTRIBUTES[tag]])
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.links.append(attrs.get("content", "").partition("url=")[2])  # a redirect


class Crawler:
    def __init__(self, base_url):
        self.base_url = base_url
        self.fetched = {}

    def fetch(self, url):
        """(HTTP status, parsed links of an HTML page or None), cached per URL."""
        if url not in self.fetched:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    body = response.read()
                    html = response.headers.get_content_type() == "text/html"
                    self.fetched[url] = (response.status,
                                         PageLinks(body.decode("utf-8")) if html else None)
            except urllib.error.HTTPError as error:
                self.fetched[url] = (error.code, None)
        return self.fetched[url]

    def broken_links(self, page_url):
        status, page = self.fetch(page_url)
        assert status == 200 and page is not None, f"{page_url}: HTTP {status}"
        broken = []
        for link in page.links:
            url, fragment = urldefrag(urljoin(page_url, link))
            if not url.startswith(self.base_url):
                continue  # another site, or mailto:, data:, javascript:
            url = url.split("?")[0]
            status, target = self.fetch(url)
            if status != 200:
                broken.append(f"{link} -> HTTP {status}")
            elif fragment and target is not None and fragment not in target.anchors:
                broken.append(f"{link} -> no anchor #{fragment}")
        return broken


@pytest.fixture(scope="module")
def crawler(base_url):
    return Crawler(base_url)


def test_internal_links_resolve(crawler, base_url, page_path):
    assert crawler.broken_links(base_url + page_path) == []


def test_every_page_is_reachable_from_the_landing_page(crawler, base_url):
    seen, queue = set(), [base_url + "index.html"]
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        _, page = crawler.fetch(url)
        for link in page.links if page else []:
            target = urldefrag(urljoin(url, link))[0].split("?")[0]
            if target.startswith(base_url) and target.endswith(".html"):
                queue.append(target)
    unreachable = [path for path in chapter_pages() + ["glossary.html", "bibliography.html"]
                   if base_url + path not in seen]
    assert unreachable == []


def test_chapters_offer_their_notebook_for_download(crawler, base_url):
    for path in chapter_pages():
        _, page = crawler.fetch(base_url + path)
        notebook = path.replace(".html", ".ipynb")
        assert any(urlsplit(urljoin(base_url + path, link)).path.endswith("/_sources/" + notebook)
                   for link in page.links), f"{path} has no download link to {notebook}"
