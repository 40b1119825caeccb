"""Every page reads on a laptop and on a phone: nothing cut off, legible figures, no drafting.

- At 390 px no page scrolls sideways (the page's own width, not a table or code block that
  scrolls inside its box).
- At 1280 px every displayed equation fits its column: its typeset width is not above the
  width of the box that holds it.
- At 1280 px a figure's smallest text (the course style's 9 pt at 100 dpi) is at least 9 px
  on screen: no figure is scaled below 72 % of its pixel width.
- No page shows drafting words ("spec", "specification") or a raw MyST role.
"""

import re

from browsing import PHONE, chapter_pages

SMALLEST_TYPE_PT, FIGURE_DPI, LEGIBLE_PX = 9, 100, 9
DRAFTING = re.compile(r"\b(spec|specs|specification)\b", re.IGNORECASE)
RAW_ROLE = re.compile(r"\{(glue|numref|eq|cite|ref|doc|term)(:\w+)?\}`")

SIDEWAYS = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
WIDE_EQUATIONS = """() => [...document.querySelectorAll('.bd-article mjx-container[display="true"]')]
    .filter(math => math.getBoundingClientRect().width > math.parentElement.clientWidth + 1)
    .map(math => (math.closest('[id]') || {}).id || math.textContent.slice(0, 60))"""
SHRUNK_FIGURES = """(limit) => [...document.querySelectorAll('.bd-article img')]
    .filter(img => img.naturalWidth > 300 && img.getBoundingClientRect().width > 0)
    .filter(img => img.getBoundingClientRect().width / img.naturalWidth < limit)
    .map(img => `${(img.alt || img.src).slice(0, 60)}: shown at ${
        Math.round(100 * img.getBoundingClientRect().width / img.naturalWidth)} %`)"""


def test_no_page_scrolls_sideways_on_a_phone(visit, page_path):
    overflow = visit(page_path, viewport=PHONE).page.evaluate(SIDEWAYS)
    assert overflow <= 0, f"{page_path} is {overflow} px wider than a 390 px phone"


def test_displayed_equations_fit_their_column(visit):
    wide = {path: visit(path).page.evaluate(WIDE_EQUATIONS) for path in chapter_pages()}
    assert {path: ids for path, ids in wide.items() if ids} == {}


def test_figure_text_is_legible(visit):
    natural_px = SMALLEST_TYPE_PT * FIGURE_DPI / 72
    limit = LEGIBLE_PX / natural_px
    shrunk = {path: visit(path).page.evaluate(SHRUNK_FIGURES, limit) for path in chapter_pages()}
    assert {path: found for path, found in shrunk.items() if found} == {}


def test_no_drafting_words_or_raw_roles(visit, page_path):
    text = visit(page_path).page.locator("main").first.inner_text()
    assert not DRAFTING.findall(text), f"{page_path}: {DRAFTING.findall(text)[:5]}"
    assert not RAW_ROLE.findall(text), f"{page_path}: raw MyST roles"
