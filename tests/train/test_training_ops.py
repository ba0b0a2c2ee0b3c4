"""Optimizer update ops: TF golden values, independent NumPy references, TF's errors.

tests/fixtures/training_ops.json is written by tools/record_training_ops_fixtures.py with TF 2.21.
"""
import json
import pathlib

import numpy as np
import pytest

import featherflow as tf
from featherflow._src.ops.defs import training_ops as T
from featherflow._src.train import updates

FIXTURE = json.loads((pathlib.Path(__file__).parent.parent / "fixtures" /
                      "training_ops.json").read_text())
DEVICES = ["/CPU:0", "/GPU:0"]
RESOURCES = T.RESOURCE_INPUTS


def _case_id(c):
    flags = "-".join(f"{k}" for k, v in c["attrs"].items() if v)
    return f"{c['op']}-{c['dtype']}" + (f"-{flags}" if flags else "") + \
        (f"-p{c['scalars']['lr_power']}" if c["scalars"].get("lr_power", -0.5) != -0.5 else "")


def _grad_name(op):
    return "delta" if op == "ResourceApplyGradientDescent" else "grad"


def _run_raw(case, device):
    """Runs a fixture case through tf.raw_ops on handles; returns the Variables."""
    dtype = tf.as_dtype(case["dtype"])
    with tf.device(device):
        variables = {k: tf.Variable(np.asarray(v, case["dtype"])) for k, v in
                     case["initial"].items()}
        fn = getattr(tf.raw_ops, case["op"])
        for step, g in enumerate(case["grads"]):
            kwargs = {k: v.handle for k, v in variables.items()}
            kwargs.update({k: tf.constant(v, dtype) for k, v in case["scalars"].items()})
            kwargs[_grad_name(case["op"])] = tf.constant(np.asarray(g, case["dtype"]))
            if case["indices"] is not None:
                kwargs["indices"] = tf.constant(case["indices"][step], tf.int32)
            assert fn(**kwargs, **case["attrs"]) is None
    return variables


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", FIXTURE["updates"], ids=_case_id)
def test_matches_tensorflow(case, device):
    variables = _run_raw(case, device)
    tol = 2e-6 if case["dtype"] == "float32" else 1e-13
    for name, want in case["after"].items():
        got = variables[name].numpy()
        assert got.dtype == np.dtype(case["dtype"])
        np.testing.assert_allclose(got, np.asarray(want, case["dtype"]), rtol=tol, atol=tol,
                                   err_msg=f"{case['op']}: {name}")


# ---------------------------------------------------------------------------------------------
# Independent NumPy references of TF's documented formulas (float64)
# ---------------------------------------------------------------------------------------------
def _adam(s, g, h, a, amsgrad=False):
    alpha = h["lr"] * np.sqrt(1 - h["beta2_power"]) / (1 - h["beta1_power"])
    s["m"] = h["beta1"] * s["m"] + (1 - h["beta1"]) * g
    s["v"] = h["beta2"] * s["v"] + (1 - h["beta2"]) * g * g
    denom = s["v"]
    if amsgrad:
        s["vhat"] = np.maximum(s["vhat"], s["v"])
        denom = s["vhat"]
    m = h["beta1"] * s["m"] + (1 - h["beta1"]) * g if a.get("use_nesterov") else s["m"]
    s["var"] = s["var"] - alpha * m / (np.sqrt(denom) + h["epsilon"])


def _momentum(s, g, h, a):
    s["accum"] = s["accum"] * h["momentum"] + g
    if a.get("use_nesterov"):
        s["var"] = s["var"] - (g * h["lr"] + s["accum"] * h["momentum"] * h["lr"])
    else:
        s["var"] = s["var"] - h["lr"] * s["accum"]


def _keras_momentum(s, g, h, a):
    s["accum"] = s["accum"] * h["momentum"] - h["lr"] * g
    step = s["accum"] * h["momentum"] - h["lr"] * g if a.get("use_nesterov") else s["accum"]
    s["var"] = s["var"] + step


def _adamax(s, g, h, a):
    s["m"] = h["beta1"] * s["m"] + (1 - h["beta1"]) * g
    s["v"] = np.maximum(h["beta2"] * s["v"], np.abs(g))
    s["var"] = s["var"] - h["lr"] / (1 - h["beta1_power"]) * s["m"] / (s["v"] + h["epsilon"])


def _adagrad(s, g, h, a):
    if a.get("update_slots", True):
        s["accum"] = s["accum"] + g * g
    if "epsilon" in h:
        s["var"] = s["var"] - h["lr"] * g / (np.sqrt(s["accum"]) + h["epsilon"])
    else:
        s["var"] = s["var"] - h["lr"] * g / np.sqrt(s["accum"])


def _adadelta(s, g, h, a):
    rho, eps = h["rho"], h["epsilon"]
    s["accum"] = rho * s["accum"] + (1 - rho) * g * g
    upd = np.sqrt(s["accum_update"] + eps) / np.sqrt(s["accum"] + eps) * g
    s["accum_update"] = rho * s["accum_update"] + (1 - rho) * upd * upd
    s["var"] = s["var"] - h["lr"] * upd


def _rmsprop(s, g, h, a, centered=False):
    rho = h["rho"]
    s["ms"] = rho * s["ms"] + (1 - rho) * g * g
    denom = s["ms"] + h["epsilon"]
    if centered:
        s["mg"] = rho * s["mg"] + (1 - rho) * g
        denom = denom - s["mg"] ** 2
    s["mom"] = h["momentum"] * s["mom"] + h["lr"] * g / np.sqrt(denom)
    s["var"] = s["var"] - s["mom"]


def _ftrl(s, g, h, a):
    p, lr, l1, l2 = -h["lr_power"], h["lr"], h["l1"], h["l2"]
    gs = g + 2 * h.get("l2_shrinkage", 0.0) * s["var"]
    new = s["accum"] + g * g
    if a.get("multiply_linear_by_lr"):
        s["linear"] = s["linear"] + gs * lr - (new ** p - s["accum"] ** p) * s["var"]
        quad, l1 = new ** p + 2 * l2 * lr, l1 * lr
    else:
        s["linear"] = s["linear"] + gs - (new ** p - s["accum"] ** p) / lr * s["var"]
        quad = new ** p / lr + 2 * l2
    lin = s["linear"]
    s["var"] = np.where(np.abs(lin) > l1, (np.sign(lin) * l1 - lin) / quad, 0.0)
    s["accum"] = new


REFERENCES = {
    "GradientDescent": lambda s, g, h, a: s.update(var=s["var"] - h["alpha"] * g),
    "Momentum": _momentum, "KerasMomentum": _keras_momentum, "Adam": _adam,
    "AdamWithAmsgrad": lambda s, g, h, a: _adam(s, g, h, a, amsgrad=True),
    "AdaMax": _adamax, "Adagrad": _adagrad, "AdagradV2": _adagrad, "Adadelta": _adadelta,
    "RMSProp": _rmsprop, "CenteredRMSProp": lambda s, g, h, a: _rmsprop(s, g, h, a, True),
    "Ftrl": _ftrl, "FtrlV2": _ftrl,
}


def _reference(case):
    """The case's result from the NumPy reference, in float64; sparse entries one at a time."""
    kind = case["op"].replace("ResourceSparseApply", "").replace("ResourceApply", "")
    ref = REFERENCES[kind]
    state = {k: np.asarray(v, np.float64) for k, v in case["initial"].items()}
    for step, g in enumerate(case["grads"]):
        g = np.asarray(g, np.float64)
        if case["indices"] is None:
            ref(state, g, case["scalars"], case["attrs"])
            continue
        for k, row in enumerate(case["indices"][step]):
            sub = {n: a[row].copy() for n, a in state.items()}
            ref(sub, g[k], case["scalars"], case["attrs"])
            for n, a in state.items():
                a[row] = sub[n]
    return state


def _public_name(op):
    kind = op.replace("ResourceSparseApply", "sparse_apply_").replace("ResourceApply", "apply_")
    words = {"GradientDescent": "gradient_descent", "KerasMomentum": "keras_momentum",
             "AdamWithAmsgrad": "adam_with_amsgrad", "AdaMax": "ada_max",
             "AdagradV2": "adagrad_v2", "CenteredRMSProp": "centered_rms_prop",
             "RMSProp": "rms_prop", "FtrlV2": "ftrl_v2", "Momentum": "momentum", "Adam": "adam",
             "Adagrad": "adagrad", "Adadelta": "adadelta", "Ftrl": "ftrl"}
    for k, v in words.items():
        if kind.endswith(k):
            return kind[:-len(k)] + v
    raise KeyError(op)


@pytest.mark.parametrize("case", FIXTURE["updates"], ids=_case_id)
def test_matches_numpy_reference_through_updates_api(case):
    fn = getattr(updates, _public_name(case["op"]))
    variables = {k: tf.Variable(np.asarray(v, case["dtype"])) for k, v in case["initial"].items()}
    for step, g in enumerate(case["grads"]):
        kwargs = {k: v for k, v in variables.items()}
        kwargs.update(case["scalars"])  # Python floats: converted to the variable's dtype
        kwargs[_grad_name(case["op"])] = np.asarray(g, case["dtype"])
        if case["indices"] is not None:
            kwargs["indices"] = case["indices"][step]
        fn(**kwargs, **case["attrs"])
    want = _reference(case)
    tol = 2e-5 if case["dtype"] == "float32" else 1e-12
    for name, v in variables.items():
        np.testing.assert_allclose(v.numpy(), want[name], rtol=tol, atol=tol, err_msg=name)


def test_every_training_op_has_a_fixture_and_a_public_function():
    ops = {name for name in tf.raw_ops.__dir__() if name.startswith(("ResourceApply",
                                                                     "ResourceSparseApply"))}
    covered = {c["op"] for c in FIXTURE["updates"]}
    assert ops == covered
    for op in ops:
        assert callable(getattr(updates, _public_name(op)))
        assert not tf.raw_ops.__getattr__(op) is None


# ---------------------------------------------------------------------------------------------
# Errors: TF's class and message; nothing written
# ---------------------------------------------------------------------------------------------
def _error_inputs(e):
    dtype = e.get("dtype", "float32")
    var_shape = e.get("var_shape", [3])
    variables = {"var": tf.Variable(np.ones(var_shape, dtype))}
    for s in e["slots"]:
        variables[s] = tf.Variable(np.ones(e.get("slot_shapes", {}).get(s, var_shape), dtype))
    kwargs = {k: v.handle for k, v in variables.items()}
    for s in e["scalars"]:
        value = e.get("scalar_values", {}).get(s, 0.5 if s != "lr_power" else -0.5)
        kwargs[s] = tf.constant(np.full(e.get("scalar_shapes", {}).get(s, []), value, dtype))
    grad = np.ones(e.get("grad_shape", var_shape), e.get("grad_dtype", dtype))
    kwargs[_grad_name(e["op"])] = tf.constant(grad)
    if "indices" in e:
        kwargs["indices"] = tf.constant(e["indices"], tf.int32)
    return variables, kwargs


@pytest.mark.parametrize("e", FIXTURE["errors"], ids=lambda e: e["op"] + ":" + e["message"][:40])
def test_errors_match_tensorflow_and_write_nothing(e):
    variables, kwargs = _error_inputs(e)
    before = {k: v.numpy() for k, v in variables.items()}
    with pytest.raises(getattr(tf.errors, e["error"])) as info:
        getattr(tf.raw_ops, e["op"])(**kwargs)
    # TF's "No OpKernel" message goes on with its registered kernels; the first line must match.
    assert str(info.value).split("\n")[0].startswith(e["message"])
    for k, v in variables.items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_failed_update_midway_through_slots_leaves_everything_unchanged():
    var = tf.Variable([1.0, 2.0, 3.0])
    m, v = tf.Variable([0.5, 0.5, 0.5]), tf.Variable([0.25, 0.25, 0.25])
    with pytest.raises(tf.errors.InvalidArgumentError, match="var and grad"):
        updates.apply_adam(var, m, v, 0.9, 0.99, 0.1, 0.9, 0.99, 1e-7, [1.0, 2.0])
    np.testing.assert_array_equal(var.numpy(), [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(m.numpy(), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [0.25, 0.25, 0.25])


def test_slot_of_another_dtype_raises_instead_of_crashing():
    var, accum = tf.Variable([1.0]), tf.Variable(np.ones(1, np.float64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="accum has dtype double"):
        updates.apply_adagrad(var, accum, 0.1, [1.0])
    np.testing.assert_array_equal(accum.numpy(), [1.0])


def test_updates_api_errors():
    with pytest.raises(TypeError, match="must be a tf.Variable"):
        updates.apply_gradient_descent(tf.constant([1.0]), 0.1, [1.0])
    with pytest.raises(TypeError, match="missing required argument 'delta'"):
        updates.apply_gradient_descent(tf.Variable([1.0]), 0.1)
    with pytest.raises(TypeError, match="unexpected arguments"):
        updates.apply_gradient_descent(tf.Variable([1.0]), 0.1, [1.0], use_nesterov=True)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_other_float_dtypes_keep_their_dtype(dtype):
    var = tf.Variable(tf.cast([1.0, 2.0], dtype))
    accum = tf.Variable(tf.cast([0.5, 0.5], dtype))
    updates.apply_adagrad(var, accum, 0.5, tf.cast([1.0, 1.0], dtype))
    assert var.dtype == tf.as_dtype(dtype) and var.numpy().dtype == tf.as_dtype(dtype).as_numpy_dtype
    want = np.array([1.0, 2.0]) - 0.5 / np.sqrt(1.5)
    np.testing.assert_allclose(var.numpy().astype(np.float64), want, rtol=1e-2)


def test_sparse_duplicates_are_sequential_and_deduplicate_gives_keras_sum():
    var, accum = tf.Variable(np.ones((3, 2), np.float32)), tf.Variable(np.zeros((3, 2),
                                                                                np.float32))
    updates.sparse_apply_adagrad(var, accum, 0.1, [[1.0, 2.0], [3.0, 4.0]], [1, 1])
    np.testing.assert_allclose(accum.numpy()[1], [10.0, 20.0])  # 1 + 9, 4 + 16: sequential
    np.testing.assert_array_equal(var.numpy()[[0, 2]], np.ones((2, 2)))
    values, idx = updates.deduplicate(tf.constant([[1.0, 2.0], [3.0, 4.0], [1.0, 1.0]]),
                                      tf.constant([1, 1, 0]))
    np.testing.assert_array_equal(values.numpy(), [[4.0, 6.0], [1.0, 1.0]])
    np.testing.assert_array_equal(idx.numpy(), [1, 0])


def test_sparse_with_no_indices_is_a_no_op():
    var, accum = tf.Variable(np.ones((3, 2), np.float32)), tf.Variable(np.ones((3, 2),
                                                                               np.float32))
    updates.sparse_apply_adagrad(var, accum, 0.1, np.zeros((0, 2), np.float32),
                                 np.zeros(0, np.int32))
    np.testing.assert_array_equal(var.numpy(), np.ones((3, 2)))
