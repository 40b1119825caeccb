"""Kernel-free charts: stable specs (strict nbval compares them), labelled, shown by mime alone."""

import json
from importlib.metadata import entry_points

import altair as alt
import numpy as np
import pytest

from gradlab import charts, mystnb_vega


def small_chart(**properties):
    threshold = alt.param(name="c", value=1.0,
                          bind=alt.binding_range(min=0, max=2, step=0.5, name="threshold c"))
    data = charts.table({"step": np.arange(4), "norm": 10.0 ** np.arange(4) / 3})
    line = alt.Chart(data).mark_line().encode(x="step:Q", y=alt.Y("norm:Q",
                                                                  **charts.log_scale("norm")))
    rule = alt.Chart(data).mark_rule().encode(y=alt.datum(alt.expr("c")))
    return alt.layer(line, rule).add_params(threshold).properties(
        **{"name": "small", "description": "a norm per step", **properties})


def test_spec_is_the_same_every_time_without_schema():
    first, second = charts.spec(small_chart()), charts.spec(small_chart())
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert "$schema" not in first
    assert first["name"] == "small" and first["description"] == "a norm per step"


def test_spec_is_in_the_course_theme():
    config = charts.spec(small_chart())["config"]
    assert config["range"]["category"][:2] == ["#0072B2", "#E69F00"]
    assert config["axis"]["labelFontSize"] >= 12
    assert charts.spec(small_chart())["layer"][0]["encoding"]["y"]["title"] == "norm (log scale)"


def test_data_are_rounded_and_stored_once():
    spec = charts.spec(small_chart())
    (values,) = spec["datasets"].values()  # two layers, one table
    assert values == "step,norm\n0,0.3333\n1,3.333\n2,33.33\n3,333.3\n"
    assert spec["data"]["format"] == {"type": "csv", "parse": {"step": "number", "norm": "number"}}
    assert all("data" not in layer for layer in spec["layer"])


def test_table_writes_numbers_javascript_reads_and_plain_text():
    data = charts.table({"x": [2 / 3, np.inf, -np.inf, np.nan, 1.23456e-20], "n": np.arange(5),
                         "s": list("abcde")})
    assert data.values.splitlines() == ["x,n,s", "0.6667,0,a", "Infinity,1,b", "-Infinity,2,c",
                                        "NaN,3,d", "1.235e-20,4,e"]
    assert data.format.parse == {"x": "number", "n": "number"}
    with pytest.raises(TypeError, match="plain text"):
        charts.table({"s": ["a,b"]})
    with pytest.raises(TypeError, match="plain text"):
        charts.table({"b": [True, False]})
    with pytest.raises(ValueError, match="one length"):
        charts.table({"x": [1, 2], "y": [1]})


def test_spec_refuses_what_nbval_or_a_reader_would_trip_over():
    with pytest.raises(ValueError, match="description"):
        charts.spec(small_chart(description=" "))
    with pytest.raises(ValueError, match="name the chart"):
        charts.spec(alt.Chart(charts.table({"x": [1]})).mark_point().properties(
            description="a point"))
    unnamed = alt.param(value=1, bind=alt.binding_range(min=0, max=2, name="c"))
    with pytest.raises(ValueError, match="param_"):
        charts.spec(small_chart().add_params(unnamed))
    unlabelled = alt.param(name="d", value=1, bind=alt.binding_range(min=0, max=2))
    with pytest.raises(ValueError, match="visible label"):
        charts.spec(small_chart().add_params(unlabelled))


def test_description_argument_replaces_the_charts_own():
    assert charts.spec(small_chart(), "norms, log scale")["description"] == "norms, log scale"


def test_series_differ_by_colour_dash_and_shape():
    encodings = charts.series("run", ["a", "b", "c"])
    ranges = {channel: encoding.to_dict()["scale"]["range"] for channel, encoding in
              encodings.items()}
    assert set(ranges) == {"color", "strokeDash", "shape"}
    for values in ranges.values():
        assert len({json.dumps(v) for v in values}) == 3
    with pytest.raises(ValueError, match="series"):
        charts.series("run", [str(i) for i in range(8)])


def test_show_displays_the_vegalite_bundle_alone(monkeypatch):
    shown = []
    monkeypatch.setattr(charts, "display", lambda *args, **kwargs: shown.append((args, kwargs)))
    charts.show(small_chart())
    [((bundle,), options)] = shown
    assert options == {"raw": True}
    assert bundle == {charts.VEGALITE_MIME: charts.spec(small_chart())}


def test_the_website_plugin_is_registered_for_myst_nb():
    (entry,) = [ep for ep in entry_points(group="myst_nb.mime_renderers") if ep.name == "vegalite"]
    assert entry.load() is mystnb_vega.VegaLiteRenderer
    assert ("*", charts.VEGALITE_MIME, 1) in mystnb_vega.VegaLiteRenderer.mime_priority_overrides


class FakeMime:
    def __init__(self, mime_type, content):
        self.mime_type, self.content, self.cell_index, self.output_index = mime_type, content, 3, 0

    @property
    def string(self):
        return self.content if isinstance(self.content, str) else json.dumps(self.content)


def test_the_plugin_writes_a_container_and_its_script():
    spec = {**charts.spec(small_chart()), "description": "a </script> in the text"}
    (node,) = mystnb_vega.VegaLiteRenderer.handle_mime(None, FakeMime(charts.VEGALITE_MIME, spec),
                                                       False)
    html = node.astext()
    assert '<div class="gradlab-chart" id="gradlab-chart-3-0" role="figure"' in html
    assert 'aria-label="a &lt;/script&gt; in the text"' in html
    script = html.split("<script>", 1)[1]
    assert script.count("</script>") == 1 and "<\\/script>" in script
    assert script.startswith('vegaEmbed("#gradlab-chart-3-0", ')


def test_the_plugin_leaves_other_outputs_to_myst_nb():
    handle = mystnb_vega.VegaLiteRenderer.handle_mime
    assert handle(None, FakeMime("text/plain", "x"), False) is None
    assert handle(None, FakeMime(charts.VEGALITE_MIME, {}), True) is None



def test_controls_are_labelled_and_refuse_values_off_the_grid():
    menu = charts.choice("T", "T", 50, (20, 50, 100)).param.to_dict()
    assert menu["value"] == 50 and menu["bind"] == {"input": "select", "options": [20, 50, 100],
                                                    "name": "T "}
    radio = charts.choice("mode", "clip by", "norm", ("value", "norm"), radio=True).param.to_dict()
    assert radio["bind"]["input"] == "radio"
    stop = charts.slider("rho", "radius ρ", 1.1, 0.1, 3.0, 0.1).param.to_dict()
    assert stop["value"] == 1.1 and stop["bind"]["input"] == "range"
    assert stop["bind"]["name"] == "radius ρ "
    with pytest.raises(ValueError, match="T: 70 is not on the chart's grid"):
        charts.choice("T", "T", 70, (20, 50, 100))
    for off in (1.15, 3.1, 0.0):
        with pytest.raises(ValueError, match="radius ρ"):
            charts.slider("rho", "radius ρ", off, 0.1, 3.0, 0.1)


def test_window_width_sets_vegas_width_signal_from_the_window():
    spec = charts.spec(charts.window_width(small_chart(), widest=500, margin=100))
    assert spec["width"] == 500
    (width,) = [param for param in spec["params"] if param["name"] == "width"]
    assert width["expr"] == f"clamp(windowSize()[0] - 100, {charts.NARROWEST}, 500)"
