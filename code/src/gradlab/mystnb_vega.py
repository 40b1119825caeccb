"""myst-nb plugin: a notebook's Vega-Lite output becomes a live chart on the website.

myst-nb renders only the mime types it knows and drops the others, so without this plugin
``gradlab.charts.show`` leaves nothing on the page. Registered in ``code/pyproject.toml``
under the entry-point group ``myst_nb.mime_renderers``; myst-nb loads it in every build.

Each chart becomes a container and a script that hands the spec to ``vegaEmbed``. The
Vega, Vega-Lite and vega-embed scripts themselves are vendored (``tools/vendor_assets.sh``)
and added only to pages that hold ``CHART_CLASS`` (``tools/site_assets.py``).
"""

import json
from html import escape

from docutils import nodes

from .charts import VEGALITE_MIME

CHART_CLASS = "gradlab-chart"
# No "…" menu: its links (Vega editor, export) would leave the offline site.
EMBED_OPTIONS = {"actions": False, "renderer": "svg"}
# A chart as wide as the text (up to 640 px) for specs of width "container"; Vega's controls
# come unstyled: a column of labelled rows, names aligned, radio labels apart.
STYLE = """<style>
div.gradlab-chart { display: block; width: 100%; max-width: 640px; }
.gradlab-chart .vega-bind { margin: 0.35em 0; }
.gradlab-chart .vega-bind-name { display: inline-block; min-width: 7em; }
.gradlab-chart .vega-bind input[type="range"] { width: min(14em, 45vw); vertical-align: middle; }
.gradlab-chart .vega-bind-radio label { margin: 0 1em 0 0.3em; }
</style>
"""


def chart_html(spec, chart_id):
    """The container and the script that draws ``spec`` into it (Vega loads in the head)."""
    label = escape(spec.get("description", ""), quote=True)
    # "</" may not appear inside a script element; "<\/" is the same JSON string.
    arguments = ", ".join(json.dumps(value, ensure_ascii=False).replace("</", "<\\/")
                          for value in (f"#{chart_id}", spec, EMBED_OPTIONS))
    return (f'{STYLE}<div class="{CHART_CLASS}" id="{chart_id}" role="figure" '
            f'aria-label="{label}"></div>\n'
            f"<script>vegaEmbed({arguments}).catch(console.error);</script>\n")


class VegaLiteRenderer:
    """myst-nb ``MimeRenderPlugin`` for ``application/vnd.vegalite.v5+json`` outputs."""

    # (builder, mime type, priority): chosen first wherever it is present, on every builder.
    mime_priority_overrides = [("*", VEGALITE_MIME, 1)]

    @staticmethod
    def handle_mime(renderer, data, inline):
        if inline or data.mime_type != VEGALITE_MIME:
            return None
        spec = data.content if isinstance(data.content, dict) else json.loads(data.string)
        chart_id = f"{CHART_CLASS}-{data.cell_index}-{data.output_index}"
        return [nodes.raw(text=chart_html(spec, chart_id), format="html",
                          classes=["output", "vegalite"])]
