// The search page's summaries are the text of the pages found, and a page's formulas are TeX
// that MathJax typesets only when the page itself is shown. Before a summary is cut from a
// page, its formulas become plain text: "T = 50" and "‖g‖ ≤ c", not "\(T = 50\)".
(() => {
  const SYMBOLS = {
    alpha: "α", beta: "β", gamma: "γ", delta: "δ", epsilon: "ε", varepsilon: "ε", eta: "η",
    theta: "θ", lambda: "λ", mu: "μ", rho: "ρ", sigma: "σ", tau: "τ", phi: "φ", odot: "⊙",
    Delta: "Δ", Sigma: "Σ", partial: "∂", nabla: "∇", infty: "∞", sum: "Σ", prod: "∏",
    sqrt: "√", cdot: "·", times: "×", le: "≤", leq: "≤", ge: "≥", geq: "≥", ne: "≠",
    neq: "≠", approx: "≈", to: "→", rightarrow: "→", leftarrow: "←", gg: "≫", ll: "≪",
    lVert: "‖", rVert: "‖", Vert: "‖", lvert: "|", rvert: "|", in: "∈", top: "ᵀ",
    ldots: "…", dots: "…", cdots: "⋯", pm: "±", propto: "∝",
  };
  const ACCENTS = { hat: "\u0302", bar: "\u0304", tilde: "\u0303", dot: "\u0307" };  // combining
  const SPACES = /\\[,;:! ]|\\q?quad|\\left|\\right|\\big+[lr]?|\\Big+[lr]?|&|\\\\/g;

  function plain(tex) {
    let text = tex.trim().replace(/^\\[([]|\\[)\]]$/g, "");
    text = text.replace(/\\begin\{[^}]*\}|\\end\{[^}]*\}|\\(tag|label)\{[^}]*\}/g, " ");
    text = text.replace(/\\mathcal\{L\}/g, "ℒ");
    text = text.replace(/\\(hat|bar|tilde|dot)\s*\{?([A-Za-z])\}?/g,
      (whole, accent, letter) => letter + ACCENTS[accent]);
    text = text.replace(/\\frac\{([^{}]*)\}\{([^{}]*)\}/g, "($1)/($2)");
    text = text.replace(/\\(?:operatorname|mathrm|mathbf|mathcal|text|textrm)\{([^{}]*)\}/g, "$1");
    text = text.replace(SPACES, " ");
    text = text.replace(/\\([A-Za-z]+)/g, (whole, name) => SYMBOLS[name] ?? name);
    text = text.replace(/([_^])\{([^{}]*)\}/g, (whole, mark, inner) =>
      inner.length > 1 ? `${mark}(${inner})` : mark + inner);
    return text.replace(/[{}]/g, "").replace(/\\(.)/g, "$1").replace(/\s+/g, " ").trim();
  }

  document.addEventListener("DOMContentLoaded", () => {
    if (typeof Search === "undefined") return;  // only the search page has Sphinx's Search
    const pageText = Search.htmlToText;
    Search.htmlToText = (htmlString, anchor) => {
      const page = new DOMParser().parseFromString(htmlString, "text/html");
      page.querySelectorAll(".math").forEach((formula) => {
        formula.textContent = plain(formula.textContent);
      });
      return pageText(page.documentElement.outerHTML, anchor);
    };
  });
})();
