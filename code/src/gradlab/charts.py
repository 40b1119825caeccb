"""Kernel-free charts: an explorer as a Vega-Lite 5 spec, drawn by the reader's browser.

A chart is an Altair 5 chart over data the package computed (a table over every control's
grid, or Vega expressions where the maths is a formula), with named ``alt.param`` controls.
``show`` displays only the mime bundle ``application/vnd.vegalite.v5+json``: JupyterLab 4
renders it with its own Vega, with no kernel; the website renders it through the myst-nb
plugin ``gradlab.mystnb_vega`` and the vendored Vega scripts. Altair's default renderer, which
loads Vega from a CDN, is never used.

A spec is stored in the committed notebook, and strict nbval compares it across machines, so
it must be the same everywhere: every param and chart is named (Altair would number them),
data are rounded in Python (``table``) and stored once (Altair moves ``alt.InlineData`` into
the top-level ``datasets``, named by a hash of its content), and the ``$schema`` URL goes
(its patch version is Altair's, and JupyterLab warns when it is newer than its own Vega-Lite).

The figure style is ``plots.style``'s: the Okabe-Ito colours, each series with its own
stroke dash and marker shape (``series``), type readable at 1280 px and on a phone, log axes
that say so (``log_scale``). Vega draws Unicode text, not LaTeX: write g₁, ‖g‖, η.
"""

import json
import math
import numbers
import re

import altair as alt
import numpy as np
from IPython.display import display

from .plots.style import COLORS
from .report import significant

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
THEME = "gradlab"
DIGITS = 4  # significant digits kept in a chart's data
# A chart's plot width in px (``window_width``): the website's text column is 640 px wide.
WIDEST, NARROWEST, MARGIN = 520, 200, 130

# plots.style.LINESTYLES and MARKERS in Vega's terms, one per colour of plots.style.COLORS.
DASHES = [[1, 0], [6, 3], [6, 3, 1, 3], [1, 3], [5, 1], [3, 1, 1, 1, 1, 1], [1, 6]]
SHAPES = ["circle", "square", "triangle-up", "diamond", "triangle-down", "cross",
          "triangle-right"]
_NUMBERED = re.compile(r'"(param|view)_\d+"')  # names Altair makes up, counted per session


@alt.theme.register(THEME, enable=False)
def theme():
    """The course's Vega-Lite config: readable type, light grid, no frame, Okabe-Ito colours."""
    label, title = 13, 14
    return alt.theme.ThemeConfig({
        "config": {
            "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
            "view": {"continuousWidth": 360, "continuousHeight": 240, "stroke": None},
            "axis": {"labelFontSize": label, "titleFontSize": title, "titleFontWeight": "normal",
                     "gridOpacity": 0.3, "tickColor": "#444", "domainColor": "#444"},
            "legend": {"labelFontSize": label, "titleFontSize": label, "orient": "bottom",
                       "direction": "vertical", "symbolStrokeWidth": 2, "symbolSize": 120,
                       "labelLimit": 0},
            "title": {"fontSize": title + 1, "fontWeight": "normal", "anchor": "start"},
            "text": {"fontSize": label},
            "line": {"strokeWidth": 2},
            "point": {"size": 60, "filled": True},
            "range": {"category": COLORS, "symbol": SHAPES},
        }
    })


def table(columns, digits=DIGITS):
    """Columns (name -> 1-D sequence, all of one length) as CSV text in ``alt.InlineData``.

    Numbers are rounded to ``digits`` significant digits, so the last digits of a float
    (which differ between BLAS kernels) never reach the committed notebook, and are parsed
    back as numbers (``inf`` included); other columns stay text. CSV is a third of the bytes
    of a list of records, and the notebook stores it as one string.
    """
    names = list(columns)
    values = [np.asarray(columns[name]).tolist() for name in names]
    if not names or len({len(column) for column in values}) != 1:
        raise ValueError("a chart's table needs columns of one length")
    numeric = [all(_is_number(v) for v in column) for column in values]
    for name, column, is_number in zip(names, values, numeric):
        if not is_number and not all(isinstance(v, str) and not _CSV_SPECIAL.search(v)
                                     for v in column):
            raise TypeError(f"column {name!r}: a chart's table holds numbers or plain text")
    cells = [[_number(v, digits) for v in column] if is_number else column
             for column, is_number in zip(values, numeric)]
    text = "\n".join([",".join(names)] + [",".join(row) for row in zip(*cells)]) + "\n"
    parse = {name: "number" for name, is_number in zip(names, numeric) if is_number}
    return alt.InlineData(values=text, format=alt.DataFormat(type="csv", parse=parse))


_CSV_SPECIAL = re.compile(r'[,"\n\r]')


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _number(value, digits):
    """CSV text of ``value`` at ``digits`` significant digits, as JavaScript's Number reads it."""
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(significant(float(value), digits))


def packed_log10(values, decimals):
    """``log10(values)`` at ``decimals`` decimals as one space-separated text field.

    A curve of a table kept as one field of one row (``unpack`` splits it in the browser) costs
    about ``decimals + 4`` bytes a point. Zero, inf and NaN become ``NaN`` (a gap on the axis).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log10(np.abs(np.asarray(values, dtype=np.float64)))
    return " ".join(f"{round(v, decimals) + 0.0:.{decimals}f}" if np.isfinite(v) else "NaN"
                    for v in logs)  # + 0.0: never "-0.0"


def with_positions(chart, key, grid, positions, field):
    """``chart`` with the text field ``field``: the x positions (``positions(value)``, integers)
    of the packed curves of a row, looked up by the row's ``key`` among ``grid``'s values."""
    shared = table({key: list(grid), field: [" ".join(map(str, positions(value)))
                                            for value in grid]})
    return chart.transform_lookup(lookup=key, from_=alt.LookupData(shared, key, [field]))


def unpack(chart, fields):
    """``chart`` with its packed text ``fields`` split, one row per entry, read as numbers."""
    return (chart.transform_calculate(**{f: f"split(datum.{f}, ' ')" for f in fields})
            .transform_flatten(list(fields))
            .transform_calculate(**{f: f"toNumber(datum.{f})" for f in fields}))


def series(field, names, title=None):
    """Encodings that tell the series ``names`` apart by colour, stroke dash and marker shape.

    Returns ``{"color": ..., "strokeDash": ..., "shape": ...}`` for ``encode(**...)``; the
    series keep ``plots.style``'s order (blue solid circles first), with one shared legend.
    """
    names = list(names)
    if not 1 <= len(names) <= len(COLORS):
        raise ValueError(f"a chart tells 1 to {len(COLORS)} series apart, got {len(names)}")
    n = len(names)
    legend = alt.Legend(title=title)
    return {
        "color": alt.Color(f"{field}:N", scale=alt.Scale(domain=names, range=COLORS[:n]),
                           legend=legend),
        "strokeDash": alt.StrokeDash(f"{field}:N",
                                     scale=alt.Scale(domain=names, range=DASHES[:n]),
                                     legend=legend),
        "shape": alt.Shape(f"{field}:N", scale=alt.Scale(domain=names, range=SHAPES[:n]),
                           legend=legend),
    }


def choice(name, label, value, options, radio=False):
    """A param starting at ``value``, bound to a menu (or ``radio`` buttons) of ``options`` and
    labelled ``label``. Raises ``ValueError`` when ``value`` is not an option: a chart holds
    its grid only."""
    options = list(options)
    if value not in options:
        raise ValueError(f"{label}: {value!r} is not on the chart's grid, one of {options}")
    binding = alt.binding_radio if radio else alt.binding_select
    return alt.param(name=name, value=value, bind=binding(options=options, name=f"{label} "))


def slider(name, label, value, low, high, step):
    """A param starting at ``value``, bound to a range slider from ``low`` to ``high`` by
    ``step`` and labelled ``label``. Raises ``ValueError`` when ``value`` is not a slider stop."""
    stops = (value - low) / step
    if not (low <= value <= high and math.isclose(stops, round(stops), abs_tol=1e-6)):
        raise ValueError(f"{label}: {value!r} is not on the chart's grid, {low} to {high} by "
                         f"{step}")
    return alt.param(name=name, value=value,
                     bind=alt.binding_range(min=low, max=high, step=step, name=f"{label} "))


def window_width(chart, widest=WIDEST, margin=MARGIN):
    """``chart`` with its plot ``widest`` px wide, or narrower on a narrow window (a phone):
    its width is the window's less ``margin`` px (axes, legend, the page's padding).

    Vega's ``width`` signal, overridden by a param of that name. ``width="container"`` would
    follow the chart's element instead, which JupyterLab's output area leaves as narrow as
    the controls (the charts drew about 250 px wide there).
    """
    return chart.properties(width=widest).add_params(
        alt.param(name="width", expr=f"clamp(windowSize()[0] - {margin}, {NARROWEST}, {widest})"))


def log_scale(title):
    """A log scale, an axis title that says so and labels as powers of ten (1e+12, not 1,000,…)

    For quantities that grow exponentially; spread over ``alt.X``/``alt.Y``.
    """
    return {"scale": alt.Scale(type="log"), "title": f"{title} (log scale)",
            "axis": alt.Axis(format="~e")}


def spec(chart, description=None):
    """The chart's Vega-Lite dict in the course theme, checked to be stable and labelled.

    ``description`` (what a screen reader says instead of the picture) replaces the chart's
    own. Raises ``ValueError`` for a chart without one, for a chart nbval would see change
    between runs (an unnamed param or view, an unnamed top-level chart), or for a control
    without a visible label.
    """
    if description is not None:
        chart = chart.properties(description=description)
    with alt.theme.enable(THEME):
        result = chart.to_dict()
    result.pop("$schema", None)
    if not str(result.get("description", "")).strip():
        raise ValueError("a chart needs a description for screen readers")
    if "name" not in result:
        raise ValueError("name the chart (chart.properties(name=...)): Altair numbers views")
    numbered = _NUMBERED.search(json.dumps(result))
    if numbered:
        raise ValueError(f"name every param and view: Altair made up {numbered.group(0)}")
    for param in _params(result):
        bind = param.get("bind")
        if isinstance(bind, dict) and "input" in bind and not str(bind.get("name", "")).strip():
            raise ValueError(f"the control of param {param['name']!r} needs a visible label "
                             "(bind=...(name=...))")
    return result


def _params(node):
    """Every param declared anywhere in a spec (top level, layers, concatenations)."""
    if isinstance(node, dict):
        yield from node.get("params", [])
        for key, value in node.items():
            if key != "params":
                yield from _params(value)
    elif isinstance(node, list):
        for item in node:
            yield from _params(item)


def show(chart, description=None):
    """Display ``chart`` as the Vega-Lite mime bundle alone (see ``spec``)."""
    display({VEGALITE_MIME: spec(chart, description)}, raw=True)
