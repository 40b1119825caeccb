r"""The spiral experiment of chapter 4: does value clipping make a spiral learnable?

Model: MLP 2 -> 128 -> 64 -> 1, LeakyReLU(0.01) hidden layers with He-leaky
initialisation, a sigmoid output layer with Xavier initialisation; binary
cross-entropy on probabilities (clamped to :math:`[10^{-7}, 1-10^{-7}]` as Keras
does); full-batch SGD with momentum 0.9. Data: ``make_spiral(100)`` (200 points,
raw coordinates up to about 13 in absolute value), optionally standardised.

The *effective* learning rate of SGD with momentum :math:`\mu` in the averaged form
:math:`v \leftarrow \mu v + (1-\mu) g,\ w \leftarrow w - \eta v` is :math:`(1-\mu)\eta`:
it is the classic form :math:`v \leftarrow \mu v + g,\ w \leftarrow w - \eta' v` with
:math:`\eta' = (1-\mu)\eta`.
"""

from dataclasses import dataclass

import numpy as np

from .. import data, losses, nn, optim, train

MOMENTUM = 0.9
BCE_EPS = 1e-7
FORM_NAMES = {"pytorch": "classic", "keras": "classic (Keras)", "averaged": "averaged"}


def load(standardise=False, seed=0):
    """Spiral inputs X (200, 2) and labels y (200, 1); optionally standardised per column."""
    X, y = data.make_spiral(100, seed=seed)
    return (data.standardise(X)[0] if standardise else X), y


def build_model(seed=0):
    """2 -> 128 -> 64 -> 1 with LeakyReLU(0.01) (He-leaky) and a sigmoid output (Xavier)."""
    rng = np.random.default_rng(seed)
    return nn.Sequential(
        nn.Linear(2, 128, "he_leaky", rng, name="layer1"), nn.LeakyReLU(0.01),
        nn.Linear(128, 64, "he_leaky", rng, name="layer2"), nn.LeakyReLU(0.01),
        nn.Linear(64, 1, "xavier", rng, name="layer3"), nn.Sigmoid())


def effective_lr(lr, form, momentum=MOMENTUM):
    """Learning rate of the classic form that takes the same steps: (1 - mu) lr if averaged."""
    return (1.0 - momentum) * lr if form == "averaged" else lr


@dataclass
class SpiralRun:
    """One run: its history, the trained model, final accuracy and saturated share.

    ``saturated`` is the fraction of training points whose predicted probability
    sits inside the loss clamp (within ``BCE_EPS`` of 0 or 1): such a point gives
    a zero gradient, so a network that saturates on the wrong side stops learning.
    """

    history: train.History
    model: nn.Sequential
    accuracy: float
    saturated: float

    @property
    def final_loss(self):
        return self.history.loss[-1] if self.history.loss else float("nan")


def run(X, y, lr, form="averaged", clipvalue=None, seed=0, epochs=200, momentum=MOMENTUM):
    """Train once with full-batch SGD; ``clipvalue`` ``None`` means no clipping."""
    model = build_model(seed)
    clipping = {} if clipvalue is None else {"clipvalue": clipvalue}
    optimizer = optim.SGD(model.parameters(), lr, momentum=momentum, form=form, **clipping)
    history = train.fit(model, losses.BCELoss(BCE_EPS), optimizer, X, y, epochs=epochs,
                        seed=seed)
    with np.errstate(over="ignore", invalid="ignore"):
        p = model.forward(X)
    accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
    saturated = float(np.mean((p < BCE_EPS) | (p > 1.0 - BCE_EPS)))
    return SpiralRun(history, model, accuracy, saturated)


@dataclass
class Case:
    """One cell of the ablation: a setting and its runs over seeds."""

    form: str
    lr: float
    clipvalue: float | None
    inputs: str
    runs: list

    @property
    def saturated(self):
        """Mean over seeds of the share of training points inside the loss clamp."""
        return float(np.mean([r.saturated for r in self.runs]))


def label(case):
    """A short row label: "averaged 0.1, raw" with ", clip 1" when clipped."""
    text = f"{FORM_NAMES[case.form]} {case.lr:g}, {case.inputs}"
    return text if case.clipvalue is None else f"{text}, clip {case.clipvalue:g}"


def saturation_rows(cases):
    """One row per (form, lr, inputs): effective lr and the saturated share without and
    with clipping (means over seeds, in %), for a narrow table."""
    groups = {}
    for case in cases:
        groups.setdefault((case.form, case.lr, case.inputs), []).append(case)
    rows = []
    for (form, lr, inputs), group in groups.items():
        shares = " / ".join(f"{100 * c.saturated:.0f} %"
                            for c in sorted(group, key=lambda c: c.clipvalue is not None))
        rows.append({"momentum form, lr (effective)":
                     f"{FORM_NAMES[form]}, {lr:g} ({effective_lr(lr, form):g})",
                     "inputs": inputs, "saturated, no clip / clip": shares})
    return rows


def ablation(form_lrs, clipvalues, inputs, seeds, epochs=200):
    """Every combination of (form, lr) x clip value x inputs ("raw"/"standardised"), per seed."""
    datasets = {name: load(standardise=(name == "standardised")) for name in inputs}
    cases = []
    for form, lr in form_lrs:
        for name in inputs:
            for clipvalue in clipvalues:
                X, y = datasets[name]
                runs = [run(X, y, lr, form, clipvalue, seed, epochs) for seed in seeds]
                cases.append(Case(form, lr, clipvalue, name, runs))
    return cases


def probability_grid(model, extent, resolution=120):
    """The model's P(class 1) on a square grid over [-extent, extent]^2.

    Returns ``xs`` (resolution,), ``ys`` (resolution,) and ``p`` (resolution, resolution)
    with ``p[i, j]`` at ``(xs[j], ys[i])``.
    """
    xs = np.linspace(-extent, extent, resolution)
    grid = np.stack(np.meshgrid(xs, xs), axis=-1).reshape(-1, 2)
    with np.errstate(over="ignore", invalid="ignore"):
        p = model.forward(grid)
    return xs, xs.copy(), p.reshape(resolution, resolution)
