"""Every page of the built site in Chromium: clean load, typeset math, alt text, screenshot."""

import pytest

from browsing import PAGE_WEIGHT_KEY, SCREENSHOTS, SITE, chapter_pages, site_pages

PAGE_WEIGHT_LIMIT_MB = 5

# Text outside code, scripts and typeset math: where raw TeX must not survive.
PROSE_TEXT = """() => {
    const skip = "pre, code, script, style, textarea, mjx-container, .highlight";
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const texts = [];
    while (walker.nextNode()) {
        const parent = walker.currentNode.parentElement;
        if (parent && !parent.closest(skip)) texts.push(walker.currentNode.textContent);
    }
    return texts.join(" ");
}"""

# Bytes the browser decoded: [the page and its own images, everything it loaded].
WEIGHT = """() => {
    const navigation = performance.getEntriesByType("navigation")[0];
    const resources = performance.getEntriesByType("resource");
    const own = resources.filter(r => new URL(r.name).pathname.includes("/_images/"));
    const sum = entries => entries.reduce((total, r) => total + r.decodedBodySize, 0);
    return [navigation.decodedBodySize + sum(own), navigation.decodedBodySize + sum(resources)];
}"""


def test_page_loads_without_errors(visit, page_path, record_property):
    page_visit = visit(page_path)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page_visit.page.screenshot(path=SCREENSHOTS / f"{page_path[:-5].replace('/', '__')}.png",
                               full_page=True)
    assert not page_visit.problems, "\n".join(page_visit.problems)
    own, total = page_visit.page.evaluate(WEIGHT)
    record_property(PAGE_WEIGHT_KEY, (page_path, own, total))
    assert own < PAGE_WEIGHT_LIMIT_MB * 1e6, f"{page_path} weighs {own / 1e6:.1f} MB"


def test_math_is_typeset(visit, page_path):
    page = visit(page_path).page
    math = page.locator(".bd-article .math")
    untypeset = [math.nth(i).inner_text() for i in range(math.count())
                 if math.nth(i).locator("mjx-container").count() == 0]
    assert untypeset == []
    prose = page.evaluate(PROSE_TEXT)
    for delimiter in ("\\(", "\\[", "$$"):
        assert delimiter not in prose, f"raw TeX {delimiter!r} left in the text of {page_path}"


def test_chapters_have_typeset_math(visit):
    chapters = chapter_pages()
    if not chapters:
        pytest.skip("no chapter page is built yet")
    assert any(visit(path).page.locator(".bd-article mjx-container").count() for path in chapters)


def test_every_image_has_alt_text(visit, page_path):
    page = visit(page_path).page
    images = page.locator("img")
    missing = [images.nth(i).evaluate("img => img.outerHTML.slice(0, 160)")
               for i in range(images.count())
               if not (images.nth(i).get_attribute("alt") or "").strip()]
    assert missing == []


def test_site_has_its_reference_pages():
    assert {"index.html", "search.html", "genindex.html", "glossary.html",
            "bibliography.html"} <= set(site_pages())


def test_chapter_figures_and_equations_are_numbered(visit):
    """Figures carry "Fig. N.M" and labelled display equations "(N.M)", as the text cites them."""
    problems = []
    for path in chapter_pages():
        page = visit(path).page
        unnumbered = page.evaluate("""() => [
            ...[...document.querySelectorAll(".bd-article img")]
                .filter(img => !img.closest(".animation"))
                .filter(img => !img.closest("figure")?.querySelector(".caption-number"))
                .map(img => "figure without a number: " + (img.alt || img.src).slice(0, 80)),
            ...[...document.querySelectorAll(".bd-article div.math[id^='equation-']")]
                .filter(eq => !eq.querySelector(".eqno"))
                .map(eq => "equation without a number: " + eq.id)]""")
        problems += [f"{path}: {problem}" for problem in unnumbered]
    assert problems == []


def test_no_page_shows_a_frozen_widget():
    """Explorers' ipywidget outputs are removed (`remove-output`); their twins are shown.

    A widget view on a static page shows its first state and its sliders do nothing; the
    widget JavaScript (html-manager 1.0.6) also calls MathJax 2's ``MathJax.Hub`` and loads its
    icon fonts relative to the page, which fail in the page tests.
    """
    shown = [page for page in site_pages()
             if "application/vnd.jupyter.widget-view+json" in (SITE / page).read_text("utf-8")]
    assert shown == [], "tag the widget display cells `remove-output`"


def test_chapters_show_their_own_table_of_contents(visit):
    for path in chapter_pages():
        page = visit(path).page
        sections = page.locator(".bd-article section > h2").count()
        toc = page.locator("nav.page-toc")
        assert toc.is_visible(), f"{path}: no page contents beside the text"
        assert toc.locator("li.toc-h2").count() == sections > 0, path
