r"""The exercises of ``05_exercises.ipynb`` (chapter 5).

Numeric questions: the scalar chain through depth, step lengths and the clip rate,
powers near 1 over long ranges, clipped descent on a steep quadratic. Open question: the
diagnosis of a run that turns NaN. Functions called on random inputs and compared
with the package and with properties: ``clip_by_value``, ``clip_by_global_norm``,
``linear_backward``, ``bptt_step``. And the regression threshold sweep.
"""

from functools import lru_cache

import numpy as np

from .. import clip, nn, rnn
from ..experiments import regression
from ..judging import (Case, Exercise, Wrong, as_array, as_number, as_tuple, close,
                       number_judge, open_judge, passed, returned, vector_judge)

NOTEBOOK, CHAPTER = "05_exercises.ipynb", 5
EXERCISES = []

# --- depth and weight: the signal at layer 1 of a 5-layer scalar chain is w^4 ---

EXERCISES.append(Exercise(
    "depth_w3",
    number_judge(3.0**4, mistakes=[
        (3.0**5, "that is w to the fifth: from layer 5 back to layer 1 the signal crosses "
                 "four weights, not five."),
        (3.0 * 4, "the factors multiply, they do not add.")]),
    hint="Each layer multiplies the backward signal by w. How many weights lie between "
         "the output of layer 5 and layer 1?",
    solution="Four weights lie between layer 5 and layer 1, so the signal is 3**4 = 81."))

EXERCISES.append(Exercise(
    "depth_w09",
    number_judge(0.9**4, mistakes=[
        (0.9**5, "that is w to the fifth: count the weights between layer 5 and layer 1.")]),
    hint="Same chain as before with w = 0.9: a product of equal factors.",
    solution="0.9**4 = 0.6561: the signal shrinks by a tenth per layer."))

EXERCISES.append(Exercise(
    "depth_constant",
    number_judge(1.0, mistakes=[(-1.0, "with w = -1 the size stays constant but the sign "
                                       "flips at every layer; give the positive weight.")]),
    hint="For which w does w**k not depend on k?",
    solution="w = 1 (more generally |w| = 1): then w**k has size 1 at every depth."))

# --- step lengths under clipping: ||dw|| = lr * min(||g||, c), and the clip rate ---

STEP_NORMS = (0.5, 4.0, 0.8, 10.0, 2.0, 0.25)  # the gradient norms of six steps
STEP_LR, STEP_CLIP = 0.1, 1.0
_FACTORS = clip.clip_coefficient(np.array(STEP_NORMS), STEP_CLIP)
_STEPS = STEP_LR * np.array(STEP_NORMS) * _FACTORS

EXERCISES.append(Exercise(
    "step_lengths",
    vector_judge(_STEPS, rtol=1e-6, mistakes=[
        (STEP_LR * np.array(STEP_NORMS), "those are the unclipped steps: a gradient above the "
                                         "threshold is scaled down to norm c first."),
        (np.full(len(STEP_NORMS), STEP_LR * STEP_CLIP),
         "a gradient below the threshold is left as it is: only the larger ones shrink."),
        (np.array(STEP_NORMS) * _FACTORS, "those are the clipped gradients' norms; the step "
                                          "is the learning rate times that.")]),
    hint="A step moves the weights by lr times the clipped gradient, whose norm is "
         "min(norm, c). Give six numbers, in the order of the steps.",
    solution=f"lr * min(norm, 1): {np.round(_STEPS, 6).tolist()}; no step is longer than "
             "lr * c = 0.1."))

EXERCISES.append(Exercise(
    "clip_rate",
    number_judge(float(np.mean(_FACTORS < 1)), mistakes=[
        (float(np.sum(_FACTORS < 1)), "that is the number of clipped steps; the rate is the "
                                      "fraction of all steps.")]),
    hint="Count the steps whose gradient norm is above the threshold, then divide by the "
         "number of steps.",
    solution="Three of six gradients (4, 10 and 2) are above 1: the clip rate is 0.5."))

# --- long sequences: 1.01^100 and 0.99^100 ---

EXERCISES.append(Exercise(
    "long_101",
    number_judge(1.01**100, rtol=1e-4, mistakes=[
        (1 + 100 * 0.01, "that adds a hundred times 0.01; the factors multiply.")]),
    hint="A factor of 1.01 applied 100 times: use ** in Python.",
    solution="1.01**100 ≈ 2.7048 (close to e, because (1 + 1/n)**n → e)."))

EXERCISES.append(Exercise(
    "long_099",
    number_judge(0.99**100, rtol=1e-4, mistakes=[
        (1 - 100 * 0.01, "that subtracts a hundred times 0.01; the factors multiply.")]),
    hint="A factor of 0.99 applied 100 times.",
    solution="0.99**100 ≈ 0.3660 (close to 1/e)."))

# --- clipped descent on a steep quadratic: bounded, but not convergent ---

QUAD_CURVATURE, QUAD_LR, QUAD_CLIP, QUAD_START = 100.0, 0.1, 1.0, 3.04


def quadratic_descent(n_steps, max_norm=None):
    r"""Iterates of gradient descent on :math:`f(w) = a w^2 / 2` (gradient :math:`a w`) from
    ``QUAD_START`` at ``QUAD_LR``, the gradient clipped to :math:`[-c, c]` when ``max_norm``
    is given: :math:`w \leftarrow w - \eta\,\mathrm{clip}(a w)`."""
    ws = [QUAD_START]
    for _ in range(n_steps):
        g = QUAD_CURVATURE * ws[-1]
        if max_norm is not None:
            g = float(np.clip(g, -max_norm, max_norm))
        ws.append(ws[-1] - QUAD_LR * g)
    return np.array(ws)


_CYCLE = np.sort(quadratic_descent(100, QUAD_CLIP)[-2:])

EXERCISES.append(Exercise(
    "quad_factor",
    number_judge(abs(1 - QUAD_LR * QUAD_CURVATURE), mistakes=[
        (QUAD_LR * QUAD_CURVATURE, "that is the step's size relative to w: the new w is "
                                   "w minus that step."),
        (1 - QUAD_LR * QUAD_CURVATURE, "the sign flips at every step; the question asks by "
                                       "what factor |w| grows.")]),
    hint="Write w_(t+1) = w_t - lr * a * w_t as a multiple of w_t.",
    solution=f"w_(t+1) = (1 - lr * a) w_t = -9 w_t: |w| grows ninefold a step, with "
             "alternating sign."))

EXERCISES.append(Exercise(
    "quad_cycle",
    vector_judge(_CYCLE, rtol=1e-6, atol=1e-9, mistakes=[
        (_CYCLE[::-1], "the right pair, but give the smaller value first.")]),
    hint="While |a w| > c every clipped step moves w by lr * c = 0.1 towards 0. Iterate "
         "(a loop, or by hand) until the values repeat; answer [smaller, larger].",
    solution=f"Thirty steps of 0.1 take w from 3.04 to 0.04; there a w = 4 is still clipped, "
             f"so w jumps to -0.06, then back: the run alternates between "
             f"{_CYCLE.round(6).tolist()} for ever."))

# --- diagnosis: an open question with a rubric ---

EXERCISES.append(Exercise(
    "diagnosis",
    open_judge([
        "Per step (not per epoch): the global gradient norm before clipping; expect it "
        "steady, then growing by orders of magnitude over a few steps just before the NaN.",
        "Per layer: gradient norms, to see where the growth starts (which layer or time "
        "step); one layer far above the others points at it.",
        "The update-to-weight ratio ||lr * step|| / ||w|| per layer: around 1e-3 is "
        "healthy; near or above 1 means the step rewrites the weights.",
        "The loss per step and the first step with a non-finite loss, gradient or weight; "
        "the weight norms growing just before it.",
        "Confirmation: rerun with clipping (for example global norm 1) or a smaller "
        "learning rate from the same seed; if the NaN disappears and the norm trace is "
        "bounded, the gradients were exploding. Also rule out bad data (NaN inputs, a "
        "log of 0).",
    ]),
    hint="Think of what to log at every optimiser step, and what values of it would be "
         "normal and what would be alarming.",
    solution="See the rubric: per-step global gradient norm, per-layer norms, update/weight "
             "ratio, first non-finite step, and a rerun with clipping as confirmation.",
    scored=False))

# --- implementation exercises: the student's function is called on random inputs ---


def _clip_by_value_calls(rng):
    return [Case((rng.normal(0.0, 2.0, shape), c))
            for shape, c in (((6,), 1.0), ((3, 4), 0.5), ((2, 5), 3.0))]


def _judge_clip_by_value(cases, outcomes):
    for case, outcome in zip(cases, outcomes):
        g, c = case.args
        out = as_array(returned(outcome), g.shape, "your function's output")
        outside = np.abs(out) > c * (1 + 1e-12)
        if outside.any():
            raise Wrong(f"an entry of your output is {out[outside][0]:.4g} while c = {c:g}: "
                        "every entry must lie in [-c, c].")
        inside = np.abs(g) <= c
        if not np.allclose(out[inside], g[inside], rtol=1e-12, atol=0):
            raise Wrong("entries already inside [-c, c] must stay unchanged.")
        if not np.allclose(out[~inside], np.sign(g[~inside]) * c, rtol=1e-12, atol=0):
            raise Wrong("entries outside [-c, c] must become c or -c, with their sign.")
        if not np.allclose(out, clip.clip_by_value(g, c)):
            raise Wrong("your output differs from gradlab.clip.clip_by_value.")
    return passed("your function matches the package on random inputs.")


EXERCISES.append(Exercise(
    "clip_by_value", _judge_clip_by_value, calls=_clip_by_value_calls,
    hint="NumPy has a function that bounds every entry between a low and a high value. "
         "Return a new array; do not change g.",
    solution="def clip_by_value(g, c):\n    return np.clip(g, -c, c)",
    show_solution=False))


def _clip_by_global_norm_calls(rng):
    cases = [([(3, 2), (4,)], 5.0, 1.0), ([(5,), (2, 2), (3,)], 0.1, 10.0),
             ([(4,), (4,)], 3.0, 1.0)]
    return [Case(([rng.normal(0.0, scale, s) for s in shapes], max_norm))
            for shapes, scale, max_norm in cases]


def _judge_clip_by_global_norm(cases, outcomes):
    for case, outcome in zip(cases, outcomes):
        grads, max_norm = case.args
        clipped, total = as_tuple(returned(outcome), 2, ("clipped list", "total norm"))
        total = as_number(total, "the total norm you return")
        true_total = clip.global_norm(grads)
        if not close(total, true_total, 1e-9):
            raise Wrong(f"the total norm you return is {total:.6g}; it should be the norm "
                        "of the input gradients before clipping (the norm of the per-tensor "
                        "norms).")
        if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
            raise Wrong(f"the first thing returned should be a list of {len(grads)} arrays, "
                        "one per input gradient.")
        clipped = [as_array(c, g.shape, f"clipped gradient {i}")
                   for i, (c, g) in enumerate(zip(clipped, grads))]
        _check_one_factor(clipped, grads, true_total, max_norm)
    return passed("your function matches the package on random inputs.")


def _check_one_factor(clipped, grads, true_total, max_norm):
    """Global clipping: one factor for every tensor, the norm bounded, the package's factor."""
    factors = [float(np.vdot(c, g) / np.vdot(g, g)) for c, g in zip(clipped, grads)]
    if not all(np.allclose(c, f * g, rtol=1e-9, atol=1e-15)
               for c, f, g in zip(clipped, factors, grads)):
        raise Wrong("a clipped tensor is not a multiple of its gradient: the direction "
                    "changed.")
    if not np.allclose(factors, factors[0], rtol=1e-9):
        raise Wrong("your tensors were scaled by different factors: that is per-tensor "
                    "clipping; global clipping uses one factor for all of them.")
    new_norm = clip.global_norm(clipped)
    if new_norm > max_norm * (1 + 1e-9):
        raise Wrong(f"the clipped gradients' global norm is {new_norm:.6g}, above the "
                    f"threshold {max_norm:g}.")
    if true_total <= max_norm and not close(factors[0], 1.0, 1e-9):
        raise Wrong("gradients whose global norm is below the threshold must stay "
                    "unchanged.")
    reference, _ = clip.clip_by_global_norm(grads, max_norm)
    if not all(np.allclose(c, r, rtol=1e-6, atol=0) for c, r in zip(clipped, reference)):
        raise Wrong(f"the clipped global norm is {new_norm:.6g}, too far below the "
                    f"threshold {max_norm:g}: scale by max_norm / (total + 1e-6).")


EXERCISES.append(Exercise(
    "clip_by_global_norm", _judge_clip_by_global_norm, calls=_clip_by_global_norm_calls,
    hint="First the norm of all tensors together: sqrt of the sum of squared per-tensor "
         "norms. Then multiply every tensor by min(1, max_norm / (total + 1e-6)).",
    solution="def clip_by_global_norm(grads, max_norm):\n"
             "    total = np.sqrt(sum(np.sum(g**2) for g in grads))\n"
             "    factor = min(1.0, max_norm / (total + 1e-6))\n"
             "    return [g * factor for g in grads], total",
    show_solution=False))

_LINEAR_NAMES = ("grad_x", "grad_W", "grad_b")


def _linear_backward_calls(rng):
    """Random layers and batches; the reference gradients come from ``nn.Linear``."""
    cases = []
    for batch, n_in, n_out in ((4, 3, 2), (1, 5, 3), (6, 2, 4)):
        layer = nn.Linear(n_in, n_out, rng=rng)
        layer.bias.value = rng.normal(size=n_out)
        x, grad_out = rng.normal(size=(batch, n_in)), rng.normal(size=(batch, n_out))
        W, b = layer.weight.value.copy(), layer.bias.value.copy()
        layer.forward(x)
        reference = (layer.backward(grad_out), layer.weight.grad.copy(), layer.bias.grad.copy())
        cases.append(Case((x, W, b, grad_out), reference))
    return cases


def _judge_linear_backward(cases, outcomes):
    for case, outcome in zip(cases, outcomes):
        x, _, _, grad_out = case.args
        output = as_tuple(returned(outcome), 3, _LINEAR_NAMES)
        for name, mine, ref in zip(_LINEAR_NAMES, output, case.reference):
            mine = as_array(mine, ref.shape, name)
            if not np.allclose(mine, ref, rtol=1e-8, atol=1e-12):
                raise Wrong(_linear_mistake(name, mine, x, grad_out))
    return passed("grad_x, grad_W and grad_b match the package (itself checked against "
                  "finite differences) on random inputs.")


def _linear_mistake(name, mine, x, grad_out):
    if name == "grad_b" and np.allclose(mine, grad_out.mean(axis=0)):
        return "grad_b averages over the batch; the loss is a sum over the rows, so sum."
    return (f"{name} does not match finite differences of L = sum(y * grad_out); check "
            "which matrix is transposed and over which axis you sum.")


EXERCISES.append(Exercise(
    "linear_backward", _judge_linear_backward, calls=_linear_backward_calls,
    hint="y = x @ W + b. Each gradient has the shape of the thing it is the gradient of: "
         "(B, n_in) @ ... must give (n_in, n_out) for W.",
    solution="def linear_backward(x, W, b, grad_out):\n"
             "    return grad_out @ W.T, x.T @ grad_out, grad_out.sum(axis=0)",
    show_solution=False))


def _bptt_step_calls(rng):
    """One case per time step of two random RNNs, latest step first, as BPTT runs.

    Each step gets the package's gradient at its hidden state; the judge keeps what
    the step must carry back to the earlier state (the package's gradient there minus
    that state's direct gradient) and the package's total gradient of ``W_rec``.
    """
    cases = []
    for group, (steps, batch, n_in, hidden) in enumerate(((5, 3, 2, 4), (8, 1, 3, 3))):
        net = rnn.RNN(n_in, hidden, "tanh", rng=rng, rec_std=1.5 / np.sqrt(hidden))
        h0 = rng.normal(size=(batch, hidden))
        hs = np.concatenate([h0[None], net.forward(rng.normal(size=(steps, batch, n_in)), h0)])
        direct = rng.normal(size=(steps, batch, hidden))
        net.backward(direct)
        W_rec = net.W_rec.value.copy()
        for t in reversed(range(steps)):
            carried = net.hidden_grads[t - 1] - direct[t - 1] if t > 0 else None
            cases.append(Case((net.hidden_grads[t].copy(), hs[t + 1], hs[t], W_rec),
                              (group, t, carried, net.W_rec.grad.copy())))
    return cases


def _judge_bptt_step(cases, outcomes):
    sums = {}
    for case, outcome in zip(cases, outcomes):
        group, t, carried, total_grad = case.reference
        batch, hidden = case.args[0].shape
        grad_h_prev, grad_W_rec = as_tuple(returned(outcome), 2, ("grad_h_prev", "grad_W_rec"))
        grad_h_prev = as_array(grad_h_prev, (batch, hidden), "grad_h_prev")
        grad_W_rec = as_array(grad_W_rec, (hidden, hidden), "grad_W_rec")
        if carried is not None and not np.allclose(grad_h_prev, carried, rtol=1e-8,
                                                   atol=1e-12):
            raise Wrong(f"the gradient your step carries back to h_{t} does not match "
                        "the package's BPTT: the tanh derivative is 1 - h**2 at the later "
                        "step, and a row vector multiplies the transpose of W_rec.")
        sums[group] = sums.get(group, 0.0) + grad_W_rec
        if t == 0 and not np.allclose(sums[group], total_grad, rtol=1e-8, atol=1e-12):
            raise Wrong("grad_W_rec summed over the steps does not match the package: check "
                        "which hidden state multiplies the gradient and the transpose.")
    return passed("your step reproduces the package's full BPTT on random sequences.")


EXERCISES.append(Exercise(
    "bptt_step", _judge_bptt_step, calls=_bptt_step_calls,
    hint="h_t = tanh(a_t) with a_t = x_t W_in + h_{t-1} W_rec + b. First dL/da_t = "
         "grad_h * (1 - h_t**2); then push it through the matrix product, as in a Linear "
         "layer whose input is h_{t-1}.",
    solution="def bptt_step(grad_h, h, h_prev, W_rec):\n"
             "    grad_a = grad_h * (1.0 - h**2)\n"
             "    return grad_a @ W_rec.T, h_prev.T @ grad_a",
    show_solution=False))

# --- the regression threshold sweep ---

SWEEP_THRESHOLDS = (0.1, 1.0, 5.0, 20.0, 100.0)
SWEEP_SEEDS = (0, 1, 2)


@lru_cache(maxsize=1)
def sweep_medians():
    """Median final test MSE per (mode, threshold) of the chapter 4 regression sweep.

    Returns a dict mode -> array over ``SWEEP_THRESHOLDS`` (NaN where every seed diverged).
    Computed once per process (about a second).
    """
    sweep = regression.threshold_sweep(regression.load(), SWEEP_THRESHOLDS, SWEEP_SEEDS)
    with np.errstate(all="ignore"):
        return {mode: np.nanmedian(runs.test_mse, axis=1) for mode, runs in sweep.items()}


def _judge_sweep_best(answer):
    medians = sweep_medians()
    if not isinstance(answer, dict):
        raise Wrong("a dict is expected, mapping each mode name to the threshold you chose.")
    missing = [m for m in medians if m not in answer]
    if missing:
        raise Wrong(f"your dict has no entry for {', '.join(map(repr, missing))}.")
    for mode, values in medians.items():
        choice = as_number(answer[mode], f"your threshold for {mode!r}")
        if not any(close(choice, t, 1e-9) for t in SWEEP_THRESHOLDS):
            raise Wrong(f"{choice:g} is not one of the thresholds swept {SWEEP_THRESHOLDS}.")
        best = SWEEP_THRESHOLDS[int(np.nanargmin(values))]
        if not close(choice, best, 1e-9):
            raise Wrong(f"for {mode!r} another threshold gives a lower median test MSE; "
                        "compare the medians over seeds again.")
    return passed("those thresholds give the lowest median test MSE in each mode.")


EXERCISES.append(Exercise(
    "sweep_best", _judge_sweep_best,
    hint="regression.threshold_sweep(data, thresholds, seeds) returns, per mode, runs whose "
         "test_mse has one row per threshold and one column per seed; take the median over "
         "seeds (axis=1) and the threshold where it is smallest.",
    solution="sweep = regression.threshold_sweep(regression.load(), thresholds, seeds); "
             "best = {mode: thresholds[np.nanargmin(np.nanmedian(r.test_mse, axis=1))] "
             "for mode, r in sweep.items()}",
    accepts="one of the swept thresholds for each mode"))
