"""Chapter 4's additions to the regression experiment: many runs at once, sweeps, explorer."""

import numpy as np
import pytest

from gradlab.experiments import regression

SETTINGS = [{}, {"global_clipnorm": 1.0}, {"clipnorm": 1.0}, {"clipvalue": 5.0},
            {"global_clipnorm": 3.0, "clipvalue": 0.5}]


@pytest.fixture(scope="module")
def dataset():
    return regression.load()


def test_run_many_equals_run_for_every_clipping_rule(dataset):
    many = regression.run_many(dataset, SETTINGS, [0, 3], epochs=2)
    for i, setting in enumerate(SETTINGS):
        for j, seed in enumerate([0, 3]):
            single = regression.run(dataset, seed=seed, epochs=2, **setting)
            np.testing.assert_allclose(many.test_mse[i, j], single.test_mse, rtol=1e-9)
            np.testing.assert_allclose(many.train_mse[i, j], single.train_mse, rtol=1e-9)
            assert many.share_clipped[i, j] == pytest.approx(single.history.share_clipped())
            np.testing.assert_allclose(many.train_curve[i, j], single.history.epoch_loss
                                       if single.history.diverged is None else np.nan,
                                       rtol=1e-9)
            if single.history.diverged is None:
                np.testing.assert_allclose(many.test_curve[i, j], single.history.val_loss,
                                           rtol=1e-9)
                assert many.diverged_epoch[i, j] == -1


def test_unclipped_divergence_is_located_like_fit(dataset):
    many = regression.run_many(dataset, [{}], [0, 1, 2], epochs=1)
    for j, seed in enumerate([0, 1, 2]):
        diverged = regression.run(dataset, seed=seed, epochs=1).history.diverged
        assert (many.diverged_epoch[0, j], many.diverged_step[0, j]) == (diverged.epoch,
                                                                        diverged.step)
        assert np.isnan(many.test_mse[0, j]) and np.isnan(many.test_curve[0, j, 0])


def test_any_global_threshold_prevents_nan(dataset):
    # each step moves the weights by at most lr * c / (1 - momentum): nothing can overflow
    many = regression.run_many(dataset, [{"global_clipnorm": c} for c in (1e-2, 1e3)], [0],
                               epochs=3)
    assert np.all(many.diverged_epoch == -1) and np.all(np.isfinite(many.test_mse))


def test_equal_norm_and_value_thresholds_leave_the_value_clip_idle(dataset):
    # after global-norm clipping to c no element can exceed c, so clipvalue=c changes nothing
    sweep = regression.threshold_sweep(dataset, [0.3, 30.0], [0], epochs=2,
                                       modes=("global norm", "global norm and value"))
    np.testing.assert_array_equal(sweep["global norm"].test_mse,
                                  sweep["global norm and value"].test_mse)
    assert sweep["global norm"].test_mse.shape == (2, 1)


def test_sweep_rejects_unknown_mode(dataset):
    with pytest.raises(ValueError, match="unknown sweep mode"):
        regression.threshold_sweep(dataset, [1.0], [0], modes=("median",))


@pytest.mark.parametrize("setting, message", [({"clip": 1.0}, "unknown clipping option"),
                                              ({"clipvalue": -1.0}, "clipvalue")])
def test_run_many_rejects_bad_settings(dataset, setting, message):
    with pytest.raises(ValueError, match=message):
        regression.run_many(dataset, [setting], [0], epochs=1)


def test_compare_clipping_with_a_huge_threshold_equals_no_clipping(dataset):
    runs = regression.compare_clipping(dataset, lr=1e-4, threshold=1e12, epochs=3)
    assert runs.test_curve.shape == (2, 1, 3)
    np.testing.assert_array_equal(runs.test_curve[0], runs.test_curve[1])
    assert runs.share_clipped[1, 0] == 0.0


def test_summary_rows(dataset):
    many = regression.run_many(dataset, [{}, {"global_clipnorm": 1.0}], [0, 1], epochs=1)
    rows = many.summary(["none", "global 1"])
    assert rows[0] == {"run": "none", "steps clipped": "0 %", "diverged": "2 of 2 (epoch 1)"}
    assert rows[1]["diverged"] == "0 of 2" and rows[1]["steps clipped"] == "100 %"


def test_order_twins_start_at_rounding_distance_and_drift_apart(dataset):
    twins = regression.order_twins(dataset, [{"clipvalue": 5.0}], seed=0, epochs=40)
    first, second = twins.test_curve[:, 0]
    assert abs(second[0] - first[0]) < 1e-9 * first[0]
    assert abs(second[-1] - first[-1]) > 1e-3 * first[-1]


def test_a_reversed_batch_is_the_same_gradient_up_to_rounding(dataset):
    plain, backwards = (regression.run_many(dataset, [{"global_clipnorm": 1.0}], [0, 1],
                                            epochs=2, reverse=[r]) for r in (False, True))
    np.testing.assert_allclose(backwards.test_curve, plain.test_curve, rtol=1e-9)
