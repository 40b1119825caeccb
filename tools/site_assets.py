"""Sphinx extension for the offline website: vendored scripts, and only the scripts a page uses.

Registered in _config.yml under ``sphinx: local_extensions``.

- Before the build reads its configuration, runs ``vendor_assets.sh`` (quick and idempotent)
  so that any ``jupyter-book build`` finds MathJax and the widget JavaScript in ``_vendor/``.
- Sphinx 7.4 lists an inline script that an extension adds after the builder started twice
  (once as added, once from its registry with the file name '' instead of None), so
  sphinx-thebe's ``const THEBE_JS_URL = ...`` runs twice and throws a SyntaxError in every
  page. Only the first of identical inline scripts is kept.
- A notebook that ran an ipywidget stores the widgets' state, and myst-nb then gives its page
  the widget state and the widget JavaScript (require.js and embed-amd.js, about 4.5 MB).
  The website removes the live explorers' outputs and shows their kernel-free charts instead,
  so a page that displays no widget view gets neither.
- The search page gets ``static/search_math.js``, which turns the pages' TeX into plain text
  before Sphinx cuts a result's summary from it (else a summary reads ``\\(T = 50\\)``).
- A page that shows a chart (``gradlab.mystnb_vega``) gets the vendored Vega, Vega-Lite and
  vega-embed, before require.js: loaded after it, they would register as anonymous AMD
  modules instead of defining ``vega``, ``vegaLite`` and ``vegaEmbed``.
"""

import posixpath
import subprocess
from pathlib import Path

from gradlab.mystnb_vega import CHART_CLASS

VENDOR_SCRIPT = Path(__file__).with_name("vendor_assets.sh")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
CHART_MARKER = f'class="{CHART_CLASS}"'
# Relative to _static/, like mathjax_path; in this order, before every default-priority script.
VEGA_SCRIPTS = ("../vega/vega.min.js", "../vega/vega-lite.min.js", "../vega/vega-embed.min.js")
VEGA_PRIORITY = 200
STATIC = Path(__file__).with_name("static")
SEARCH_SCRIPT = "search_math.js"


def vendor_assets(app, config):
    subprocess.run(["bash", str(VENDOR_SCRIPT)], check=True)
    config.html_static_path.append(str(STATIC))


def keep_used_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts is None:
        return
    if pagename == "search":
        app.builder.add_js_file(SEARCH_SCRIPT)
    if CHART_MARKER in context.get("body", ""):
        for path in VEGA_SCRIPTS:  # into this page's script_files, sorted by priority later
            app.builder.add_js_file(path, priority=VEGA_PRIORITY)
    widget_js = {posixpath.join("_static", path) for path in app.config.nb_ipywidgets_js}
    shows_widgets = WIDGET_VIEW in context.get("body", "")
    kept, inline_seen = [], set()
    for script in scripts:
        if not shows_widgets and (script.filename in widget_js
                                  or script.attributes.get("type") == WIDGET_STATE):
            continue
        if not script.filename:
            inline = tuple(sorted(script.attributes.items()))
            if inline in inline_seen:
                continue
            inline_seen.add(inline)
        kept.append(script)
    context["script_files"] = kept


def setup(app):
    # Before Sphinx checks that html_extra_path exists (priority 800).
    app.connect("config-inited", vendor_assets, priority=100)
    # After myst-nb has added the page's widget scripts (default priority 500).
    app.connect("html-page-context", keep_used_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
