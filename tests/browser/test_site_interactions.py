"""What a reader does on the site: open a solution, search (the explorers: test_site_charts.py)."""

import re

import pytest

from browsing import SITE, chapter_pages


def pages_containing(marker):
    """Chapter pages whose HTML holds ``marker``: found from the build, never listed by hand."""
    return [page for page in chapter_pages() if marker in (SITE / page).read_text("utf-8")]


def require_chapters():
    if not chapter_pages():
        pytest.skip("no chapter page is built yet")


SOLUTION_MARKER = 'class="solution dropdown'
PLAYER_MARKER = 'class="anim-slider"'


def test_some_chapter_has_solutions_and_no_page_an_image_player():
    require_chapters()
    assert pages_containing(SOLUTION_MARKER), "no chapter page has a solution dropdown"
    # The explorers are Vega-Lite charts (test_site_charts.py), not matplotlib's PNG players.
    assert pages_containing(PLAYER_MARKER) == [], "a page still has a PNG animation player"


def test_every_exercise_page_has_solutions():
    require_chapters()
    without = [page for page in pages_containing('class="exercise')
               if page not in pages_containing(SOLUTION_MARKER)]
    assert without == []


@pytest.mark.parametrize("chapter_path", pages_containing(SOLUTION_MARKER))
def test_solutions_start_closed_and_open_on_click(visit, chapter_path):
    page = visit(chapter_path).page
    solutions = page.locator(".solution.dropdown")
    assert solutions.count() >= 1
    for i in range(solutions.count()):
        solution = solutions.nth(i)
        content = solution.locator(":scope > section, :scope > :not(.admonition-title)").first
        assert content.is_hidden(), f"solution {i + 1} of {chapter_path} is open before any click"
        solution.locator("button.toggle-button").click()
        content.wait_for(state="visible", timeout=5000)
        assert content.is_visible()


def test_search_finds_clipping(visit):
    page = visit("search.html?q=clipping").page
    results = page.locator("#search-results ul.search li")
    results.first.wait_for(timeout=15000)
    assert results.count() >= 1
    if chapter_pages():
        links = results.locator("a").evaluate_all("links => links.map(a => a.href)")
        assert any("/chapters/" in link for link in links), links


def test_search_summaries_show_formulas_as_text_not_tex(visit):
    """Summaries are cut from the pages' text, where formulas are TeX until MathJax runs."""
    page = visit("search.html?q=layer").page
    summaries = page.locator("#search-results ul.search li p.context")
    summaries.first.wait_for(timeout=15000)
    page.wait_for_function("""() => {
        const items = document.querySelectorAll('#search-results ul.search li');
        return Search.status.innerText.startsWith('Search finished') &&
            document.querySelectorAll('#search-results ul.search li p.context').length
                === items.length; }""", timeout=30000)  # every summary fetched
    texts = summaries.all_inner_texts()
    assert texts, "no summaries"
    tex = [text for text in texts if re.search(r"\\[(\[]|\\[A-Za-z]{2,}", text)]
    assert tex == [], f"summaries with raw TeX: {tex[:2]}"
