"""Replays the Keras 3 / TF 2.21 optimizer trajectories recorded by
tools/record_optimizer_trajectories.py (5 steps, float32, tolerance per case in the fixture:
rtol 2e-5 / atol 1e-6, loosened to 1e-4 / 1e-5 for the sign- and norm-ratio algorithms)."""
import json
import os
import warnings

import numpy as np
import pytest

import featherflow as tf

PATH = os.path.join(os.path.dirname(__file__), "..", "fixtures", "optimizer_trajectories.json")
with open(PATH) as _f:
    DATA = json.load(_f)
CASES = {c["id"]: c for c in DATA["cases"]}


def _schedule(spec):
    return getattr(tf.keras.optimizers.schedules, spec["schedule"])(**spec["config"])


def _prefix(spec):
    """The optimizer's name in the recording (its variables' first name component)."""
    return spec["result"]["optimizer_variables"][0]["name"].split("/")[0]


def make(spec, inner_name=None):
    kw = dict(spec["kwargs"])
    if isinstance(kw.get("learning_rate"), dict):
        kw["learning_rate"] = _schedule(kw["learning_rate"])
    cls = getattr(tf.keras.optimizers, spec["cls"])
    if "inner" in spec:
        inner_rec = spec["result"]["optimizer_variables"]
        inner_prefix = [v["name"] for v in inner_rec if v["name"].endswith("/iteration:0")][1]
        return cls(make(spec["inner"], inner_prefix.split("/")[0]), name=_prefix(spec), **kw)
    return cls(name=inner_name or _prefix(spec), **kw)


def grad(g):
    if g is None:
        return None
    if isinstance(g, dict):
        return tf.IndexedSlices(tf.constant(g["values"], tf.float32),
                                tf.constant(g["indices"], tf.int64),
                                tf.constant(g["dense_shape"], tf.int64))
    return tf.constant(g, tf.float32)


def replay(spec, fused=True):
    names = list(spec["init"])
    variables = [tf.Variable(np.asarray(spec["init"][n], np.float32), name=n) for n in names]
    opt = make(spec)
    if not fused:
        target = opt.inner_optimizer if spec["cls"] == "LossScaleOptimizer" else opt
        target._fused_step = None
    if spec.get("exclude_var_names"):
        opt.exclude_from_weight_decay(var_names=spec["exclude_var_names"])
    values, iterations, extras = [], [], []
    for step in spec["grads"]:
        g = [grad(x) for x in step]
        if any(x is None for x in g):
            with pytest.warns(UserWarning, match="Gradients do not exist for variables"):
                opt.apply_gradients(zip(g, variables))
        else:
            opt.apply_gradients(zip(g, variables))
        values.append([v.numpy() for v in variables])
        iterations.append(int(opt.iterations.numpy()))
        if spec["cls"] == "LossScaleOptimizer":
            extras.append({"dynamic_scale": float(opt.dynamic_scale.numpy()),
                           "step_counter": int(opt.step_counter.numpy())})
    if spec.get("finalize"):
        opt.finalize_variable_values(variables)
        values.append([v.numpy() for v in variables])
    return opt, values, iterations, extras


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composite"])
@pytest.mark.parametrize("cid", sorted(CASES))
def test_trajectory(cid, fused):
    spec = CASES[cid]
    want = spec["result"]
    opt, values, iterations, extras = replay(spec, fused)
    for step, (got_row, want_row) in enumerate(zip(values, want["values"])):
        for got, exp in zip(got_row, want_row):
            np.testing.assert_allclose(got, np.asarray(exp, np.float32), err_msg=f"step {step}",
                                       **spec["tol"])
            assert got.dtype == np.float32
    assert iterations == want["iterations"]
    assert extras == want["extras"]
    got_vars = opt.variables
    assert [v.name for v in got_vars] == [v["name"] for v in want["optimizer_variables"]]
    for v, exp in zip(got_vars, want["optimizer_variables"]):
        assert v.dtype.name == exp["dtype"], v.name
        np.testing.assert_allclose(v.numpy(), np.asarray(exp["value"], v.dtype.as_numpy_dtype
                                                         if hasattr(v.dtype, "as_numpy_dtype")
                                                         else None), err_msg=v.name,
                                   **spec["tol"])


@pytest.mark.parametrize("i", range(len(DATA["schedules"])))
def test_schedule_values(i):
    rec = DATA["schedules"][i]
    s = getattr(tf.keras.optimizers.schedules, rec["schedule"])(**rec["config"])
    got = [float(s(tf.constant(st, tf.int64))) for st in rec["steps"]]
    np.testing.assert_allclose(got, rec["values"], rtol=1e-6, atol=1e-9)
    assert s.get_config() == rec["get_config"]
    again = type(s).from_config(s.get_config())
    assert float(again(7)) == float(s(7))
    assert s(3).dtype == tf.float32
