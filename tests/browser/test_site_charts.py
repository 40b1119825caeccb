"""The explorers' kernel-free charts on the site: drawn offline, every control alive, fast.

A chart is a ``gradlab.charts`` Vega-Lite spec that ``gradlab.mystnb_vega`` wrote into the
page; Vega draws it as SVG inside ``.gradlab-chart``, with its controls (range sliders, radio
buttons, menus, check boxes) in a form below it. The pages are found from the build.
"""

import re

import pytest

from browsing import SITE, chapter_pages, site_pages
from test_site_pages import WEIGHT

CHART = ".gradlab-chart"
CONTROLS = f"{CHART} .vega-bindings input, {CHART} .vega-bindings select"
FRAME_MS = 16.0
PAGE_WEIGHT_LIMIT_MB = 1.0
MOVES = 20  # control moves per repaint measurement


def chart_pages():
    """Pages whose HTML holds a chart container."""
    if not (SITE / "index.html").is_file():
        return []
    return [page for page in site_pages() if 'class="gradlab-chart"' in (SITE / page).read_text(
        "utf-8")]


def open_charts(visit, chart_page):
    """Open the page and wait until Vega has drawn every chart on it."""
    page_visit = visit(chart_page)
    page = page_visit.page
    charts = page.locator(CHART)
    assert charts.count() >= 1, f"{chart_page}: no chart container"
    for i in range(charts.count()):
        charts.nth(i).locator("svg.marks").wait_for(timeout=10000)
    return page_visit


# One control per group: a radio group counts once (its buttons share a name).
CONTROL_GROUPS = """() => {
    const groups = new Map();
    for (const input of document.querySelectorAll(%r)) {
        const chart = input.closest(%r);
        const key = chart.id + "/" + input.name;
        if (!groups.has(key)) groups.set(key, {chart: chart.id, name: input.name,
                                               type: input.type || input.tagName.toLowerCase()});
    }
    return [...groups.values()];
}""" % (CONTROLS, CHART)

# Moves a control to another value as a reader would, returns a description of the move.
MOVE = """([chartId, name, forward]) => {
    const inputs = [...document.querySelectorAll(`#${chartId} .vega-bindings [name="${name}"]`)];
    const input = inputs[0];
    if (input.type === "radio") {
        const current = inputs.findIndex(i => i.checked);
        const next = inputs[(current + (forward ? 1 : inputs.length - 1)) % inputs.length];
        next.checked = true;
        next.dispatchEvent(new Event("change", {bubbles: true}));
        return next.value;
    }
    if (input.type === "checkbox") {
        input.checked = !input.checked;
        input.dispatchEvent(new Event("change", {bubbles: true}));
        return String(input.checked);
    }
    if (input.tagName === "SELECT") {
        const n = input.options.length;
        input.selectedIndex = (input.selectedIndex + (forward ? 1 : n - 1)) % n;
        input.dispatchEvent(new Event("change", {bubbles: true}));
        return input.value;
    }
    input.value = forward ? input.max : input.min;
    input.dispatchEvent(new Event("input", {bubbles: true}));
    return input.value;
}"""

SVG = "chartId => document.querySelector(`#${chartId} svg.marks`).outerHTML"
# Whether a slider or a menu sits at its last value (where End or ArrowDown does nothing).
AT_END = """el => el.tagName === "SELECT" ? el.selectedIndex === el.options.length - 1
                                       : el.type === "range" && +el.value === +el.max"""

# Median over MOVES moves of one control: from the move to the first animation frame at which
# the chart's SVG shows it (performance.now), and Vega's share of it (until the SVG changed).
# Each move starts at a different point of a frame, as a reader's does.
REPAINT = """async ([chartId, name, moves]) => {
    const move = %s;
    const svg = () => document.querySelector(`#${chartId} svg.marks`);
    const frame = () => new Promise(resolve => requestAnimationFrame(resolve));
    const toFrame = [], toSvg = [];
    for (let i = 0; i < moves; i++) {
        await frame();
        await new Promise(resolve => setTimeout(resolve, (i * 7) %% 16));
        const before = svg().outerHTML;
        let changed = null;
        const observer = new MutationObserver(() => { changed ??= performance.now(); });
        observer.observe(svg(), {subtree: true, childList: true, attributes: true,
                                 characterData: true});
        const start = performance.now();
        move([chartId, name, i %% 2 === 0]);
        for (let f = 0; f < 60 && svg().outerHTML === before; f++) await frame();
        if (svg().outerHTML === before) return {error: `no repaint after move ${i}`};
        const painted = performance.now();
        observer.disconnect();
        toFrame.push(painted - start);
        toSvg.push((changed ?? painted) - start);
    }
    const median = xs => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    return {frame: median(toFrame), vega: median(toSvg)};
}""" % MOVE


def test_some_page_has_a_chart():
    assert chart_pages(), f"no page of {SITE} shows a chart"


@pytest.mark.parametrize("chart_page", chart_pages())
def test_charts_draw_offline_without_errors(visit, chart_page):
    page_visit = open_charts(visit, chart_page)
    page = page_visit.page
    assert page.evaluate("typeof vegaEmbed") == "function"
    assert not page_visit.problems, "\n".join(page_visit.problems)


@pytest.mark.parametrize("chart_page", chart_pages())
def test_charts_have_descriptions_and_labelled_controls(visit, chart_page):
    page = open_charts(visit, chart_page).page
    problems = page.evaluate("""([charts, controls]) => {
        const problems = [];
        for (const chart of document.querySelectorAll(charts))
            if (!(chart.getAttribute("aria-label") || "").trim())
                problems.push(`${chart.id}: no description`);
        for (const input of document.querySelectorAll(controls)) {
            const bind = input.closest(".vega-bind");
            const name = bind && bind.querySelector(".vega-bind-name");
            const own = [...input.labels].map(label => label.innerText.trim()).join(" ");
            if (!name || !name.innerText.trim() || name.offsetParent === null)
                problems.push(`${input.name}: no visible label`);
            if (input.type === "radio" && !own)
                problems.push(`${input.name}=${input.value}: option without a label`);
        }
        return problems;
    }""", [CHART, CONTROLS])
    assert problems == []


@pytest.mark.parametrize("chart_page", chart_pages())
def test_every_control_changes_its_chart(visit, chart_page):
    page = open_charts(visit, chart_page).page
    groups = page.evaluate(CONTROL_GROUPS)
    assert groups, f"{chart_page}: a chart without controls"
    unchanged = []
    for group in groups:
        for forward in (True, False):
            before = page.evaluate(SVG, group["chart"])
            value = page.evaluate(MOVE, [group["chart"], group["name"], forward])
            page.wait_for_timeout(50)
            if page.evaluate(SVG, group["chart"]) == before:
                unchanged.append(f"{group['chart']}: {group['name']} = {value}")
    assert unchanged == []


@pytest.mark.parametrize("chart_page", chart_pages())
def test_every_control_works_from_the_keyboard(visit, chart_page):
    page = open_charts(visit, chart_page).page
    groups = page.evaluate(CONTROL_GROUPS)
    failed = []
    for group in groups:
        selector = f"#{group['chart']} .vega-bindings [name=\"{group['name']}\"]"
        control = page.locator(f"{selector}:checked" if group["type"] == "radio" else selector)
        control = control.first
        control.focus()
        if not control.evaluate("el => el === document.activeElement && el.tabIndex >= 0"):
            failed.append(f"{group['name']}: cannot take the keyboard focus")
            continue
        keys = {"radio": ("ArrowRight", "ArrowLeft"), "checkbox": ("Space", "Space"),
                "select-one": ("ArrowDown", "ArrowUp")}.get(group["type"], ("End", "Home"))
        if control.evaluate(AT_END):  # away from the end first
            keys = keys[::-1]
        for key in keys:
            before = page.evaluate(SVG, group["chart"])
            page.keyboard.press(key)
            page.wait_for_timeout(50)
            if page.evaluate(SVG, group["chart"]) == before:
                failed.append(f"{group['name']}: {key} did not change the chart")
    assert failed == []


@pytest.mark.parametrize("chart_page", chart_pages())
def test_a_control_move_repaints_within_a_frame(visit, chart_page, record_property):
    page = open_charts(visit, chart_page).page
    slow = []
    for group in page.evaluate(CONTROL_GROUPS):
        timing = page.evaluate(REPAINT, [group["chart"], group["name"], MOVES])
        assert "error" not in timing, f"{group['name']}: {timing.get('error')}"
        record_property(f"repaint_ms {group['chart']}/{group['name']}",
                        (round(timing["frame"], 1), round(timing["vega"], 1)))
        print(f"{chart_page} {group['chart']} {group['name']}: median {timing['frame']:.1f} ms "
              f"to the frame, {timing['vega']:.1f} ms until Vega changed the SVG")
        if timing["frame"] >= FRAME_MS:
            slow.append(f"{group['name']}: {timing['frame']:.1f} ms")
    assert slow == []


def test_chapter_pages_weigh_under_a_megabyte(visit):
    """Each chapter page's own bytes (HTML and its images; shared scripts are cached)."""
    chapters = chapter_pages()
    if not chapters:
        pytest.skip("no chapter page is built yet")
    heavy = {}
    for path in chapters:
        own, _ = visit(path).page.evaluate(WEIGHT)
        if own >= PAGE_WEIGHT_LIMIT_MB * 1e6:
            heavy[path] = f"{own / 1e6:.2f} MB"
    assert heavy == {}


def test_adam_spike_chart_answers_every_threshold_and_no_clipping(visit):
    """Chapter 6: the clip menu's last entry turns the clip off (the readout then names the
    unclipped run only); a clip at 1, below the stream's norm, leaves Adam's updates almost
    as they are without a spike."""
    page = open_charts(visit, "chapters/06_modern.html").page
    chart = page.locator(f"{CHART}:has(select[name=clip])")
    assert chart.count() == 1, "chapter 6 has one chart with a clip menu"
    menu = chart.locator("select[name=clip]")
    labels = menu.locator("option").all_inner_texts()
    assert labels[0] == "1" and labels[-1] == "no clipping", labels

    def readout():
        """The line of the chart's text that gives the ratios (it starts with ×)."""
        lines = chart.locator("svg.marks").evaluate(
            "svg => [...svg.querySelectorAll('text tspan, text')].map(t => t.textContent)")
        return [line for line in lines if line.startswith("×")]

    svg = chart.locator("svg.marks").element_handle()
    menu.select_option(label="no clipping")
    page.wait_for_function("el => el.textContent.includes('no clipping')", arg=svg)
    assert readout() and all(line.endswith("unclipped") for line in readout()), readout()
    menu.select_option(label="1")
    page.wait_for_function("el => el.textContent.includes('clip at 1')", arg=svg)
    (line,) = readout()
    unclipped, clipped = re.fullmatch(r"×([\d.]+) unclipped, ×([\d.]+) clipped", line).groups()
    assert float(unclipped) < 0.5 < 0.95 < float(clipped), line  # Adam barely notices the clip


TRAINING_PAGE = "chapters/04_clipping_experiments.html"
SET = """([chartId, name, value]) => {
    const input = document.querySelector(`#${chartId} .vega-bindings [name="${name}"]`);
    input.value = value;
    input.dispatchEvent(new Event("input", {bubbles: true}));
}"""
TEXTS = """chartId => [...document.querySelectorAll(`#${chartId} svg.marks text`)]
    .map(t => t.textContent)"""
AXIS_LABELS = """chartId => [...document.querySelectorAll(
    `#${chartId} svg.marks .role-axis-label text`)].map(t => t.textContent)"""


def test_training_chart_notes_divergence_and_chaos_on_a_fixed_axis(visit):
    """Chapter 4's training chart: notes say where a run diverged or turned chaotic, and the
    log y axis keeps its range whatever the sliders say."""
    assert (SITE / TRAINING_PAGE).is_file(), f"{TRAINING_PAGE} is not built"
    page = open_charts(visit, TRAINING_PAGE).page
    chart = page.locator(CHART).first.get_attribute("id")
    labels = []
    for lr, c, expected in (("-2", "0", "diverged at epoch 1"), ("-2.5", "0", "off the chart"),
                            ("0", "3", "depend on rounding"), ("-4", "-2", None)):
        page.evaluate(SET, [chart, "lr", lr])
        page.evaluate(SET, [chart, "c", c])
        page.wait_for_timeout(100)
        texts = " ".join(page.evaluate(TEXTS, chart))
        labels.append(page.evaluate(AXIS_LABELS, chart))
        if expected is None:
            assert "diverged" not in texts and "chaotic" not in texts, (lr, c)
        else:
            assert expected in texts, (lr, c, texts)
    assert all(found == labels[0] for found in labels) and "1e14" in labels[0]
