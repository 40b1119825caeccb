#!/usr/bin/env bash
# Fetch the JavaScript the website needs (MathJax 3, require.js, the ipywidgets HTML manager,
# Vega, Vega-Lite and vega-embed for the explorers' charts)
# from the npm registry into _vendor/, so the built site loads nothing from a CDN.
# _vendor/ is git-ignored and copied into the site by `html_extra_path` in _config.yml. Run by
# `make book` and by tools/site_assets.py at the start of every `jupyter-book build`.
# Idempotent: does nothing when _vendor/ already holds these exact versions.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(mathjax@3.2.2 @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.7
          vega@5.33.1 vega-lite@5.23.0 vega-embed@6.29.0)
DEST=_vendor
STAMP="$DEST/.packages"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "${PACKAGES[*]}" ]]; then
    exit 0
fi
if ! command -v npm >/dev/null; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    else
        echo "vendor_assets: npm is needed (Debian: apt-get install -y npm)" >&2
        exit 1
    fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! (cd "$work" && npm pack --silent "${PACKAGES[@]}" >npm.log 2>&1); then
    cat "$work/npm.log" >&2
    echo "vendor_assets: npm pack ${PACKAGES[*]} failed" >&2
    exit 1
fi
for tarball in "$work"/*.tgz; do
    mkdir -p "${tarball%.tgz}" && tar xzf "$tarball" -C "${tarball%.tgz}"
done
mathjax="$work/mathjax-3.2.2/package"
manager="$work/jupyter-widgets-html-manager-1.0.6/package"
requirejs="$work/requirejs-2.3.7/package"
vega_packages=(vega-5.33.1 vega-lite-5.23.0 vega-embed-6.29.0)

fresh="$DEST.tmp"
rm -rf "$fresh"
# MathJax: the combined TeX+MathML -> CommonHTML component, the TeX extensions it autoloads,
# its web fonts, and the accessibility parts its menu loads on demand.
mkdir -p "$fresh/mathjax/output"
cp -r "$mathjax/es5/tex-mml-chtml.js" "$mathjax/es5/input" "$mathjax/es5/a11y" \
      "$mathjax/es5/sre" "$mathjax/es5/ui" "$mathjax/LICENSE" "$fresh/mathjax/"
mkdir -p "$fresh/mathjax/output/chtml/fonts"
cp -r "$mathjax/es5/output/chtml/fonts/woff-v2" "$fresh/mathjax/output/chtml/fonts/"
# The widget manager's AMD bundle and the icon fonts its CSS refers to (no source maps).
mkdir -p "$fresh/jupyter-widgets"
cp "$manager/dist/embed-amd.js" "$manager/dist/"*.{woff2,woff,ttf,eot,svg} "$manager/LICENSE" \
   "$fresh/jupyter-widgets/"
mkdir -p "$fresh/requirejs"
cp "$requirejs/require.js" "$fresh/requirejs/"
# Vega, Vega-Lite and vega-embed: their browser builds (UMD: each defines a global unless
# require.js is already on the page), loaded by pages that show a chart (tools/site_assets.py).
mkdir -p "$fresh/vega"
for package in "${vega_packages[@]}"; do
    name=${package%-*}
    cp "$work/$package/package/build/$name.min.js" "$fresh/vega/"
    # vega's tarball has no LICENSE file; each package.json names the licence (BSD-3-Clause)
    cp "$work/$package/package/package.json" "$fresh/vega/$name.package.json"
done
echo "${PACKAGES[*]}" > "$fresh/.packages"

rm -rf "$DEST"
mv "$fresh" "$DEST"
echo "vendor_assets: ${PACKAGES[*]} -> $DEST/ ($(du -sh "$DEST" | cut -f1))"
