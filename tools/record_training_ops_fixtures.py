"""Records TensorFlow's optimizer-update results and error messages for featherflow's tests.

Run with TensorFlow installed:  /work/tfenv/bin/python tools/record_training_ops_fixtures.py
Writes tests/fixtures/training_ops.json:
- "updates": for each case, the op, attrs, hyperparameters, the initial var and slots, the
  gradients (and indices) of 3 steps, and TF's var and slots after those steps;
- "errors": invalid calls described by shapes/dtypes, with TF's exception class and message.
Sparse cases include duplicate indices (TF applies them one after another).
"""
from __future__ import annotations

import json
import pathlib

import numpy as np
import tensorflow as tf

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "training_ops.json"
POSITIVE = {"accum", "v", "vhat", "ms", "accum_update"}
ADAM = dict(beta1_power=0.9 ** 2, beta2_power=0.999 ** 2, lr=0.01, beta1=0.9, beta2=0.999,
            epsilon=1e-7)
RMS = dict(lr=0.01, rho=0.9, momentum=0.5, epsilon=1e-7)
FTRL = dict(lr=0.05, l1=0.01, l2=0.02, lr_power=-0.5)

# (op, slots, scalars, attrs)
DENSE = [
    ("ResourceApplyGradientDescent", [], dict(alpha=0.1), {}),
    ("ResourceApplyMomentum", ["accum"], dict(lr=0.1, momentum=0.9), {}),
    ("ResourceApplyMomentum", ["accum"], dict(lr=0.1, momentum=0.9), dict(use_nesterov=True)),
    ("ResourceApplyKerasMomentum", ["accum"], dict(lr=0.1, momentum=0.9), {}),
    ("ResourceApplyKerasMomentum", ["accum"], dict(lr=0.1, momentum=0.9),
     dict(use_nesterov=True)),
    ("ResourceApplyAdam", ["m", "v"], ADAM, {}),
    ("ResourceApplyAdam", ["m", "v"], ADAM, dict(use_nesterov=True)),
    ("ResourceApplyAdamWithAmsgrad", ["m", "v", "vhat"], ADAM, {}),
    ("ResourceApplyAdaMax", ["m", "v"], dict(beta1_power=0.81, lr=0.01, beta1=0.9, beta2=0.999,
                                             epsilon=1e-7), {}),
    ("ResourceApplyAdagrad", ["accum"], dict(lr=0.1), {}),
    ("ResourceApplyAdagrad", ["accum"], dict(lr=0.1), dict(update_slots=False)),
    ("ResourceApplyAdagradV2", ["accum"], dict(lr=0.1, epsilon=1e-3), {}),
    ("ResourceApplyAdadelta", ["accum", "accum_update"], dict(lr=1.0, rho=0.95, epsilon=1e-6),
     {}),
    ("ResourceApplyRMSProp", ["ms", "mom"], RMS, {}),
    ("ResourceApplyCenteredRMSProp", ["mg", "ms", "mom"], RMS, {}),
    ("ResourceApplyFtrl", ["accum", "linear"], FTRL, {}),
    ("ResourceApplyFtrl", ["accum", "linear"], dict(FTRL, lr_power=-0.3), {}),
    ("ResourceApplyFtrl", ["accum", "linear"], FTRL, dict(multiply_linear_by_lr=True)),
    ("ResourceApplyFtrlV2", ["accum", "linear"], dict(FTRL, l2_shrinkage=0.1), {}),
]
SPARSE = [
    ("ResourceSparseApplyMomentum", ["accum"], dict(lr=0.1, momentum=0.9), {}),
    ("ResourceSparseApplyMomentum", ["accum"], dict(lr=0.1, momentum=0.9),
     dict(use_nesterov=True)),
    ("ResourceSparseApplyKerasMomentum", ["accum"], dict(lr=0.1, momentum=0.9), {}),
    ("ResourceSparseApplyKerasMomentum", ["accum"], dict(lr=0.1, momentum=0.9),
     dict(use_nesterov=True)),
    ("ResourceSparseApplyAdagrad", ["accum"], dict(lr=0.1), {}),
    ("ResourceSparseApplyAdagradV2", ["accum"], dict(lr=0.1, epsilon=1e-3), {}),
    ("ResourceSparseApplyAdadelta", ["accum", "accum_update"],
     dict(lr=1.0, rho=0.95, epsilon=1e-6), {}),
    ("ResourceSparseApplyRMSProp", ["ms", "mom"], RMS, {}),
    ("ResourceSparseApplyCenteredRMSProp", ["mg", "ms", "mom"], RMS, {}),
    ("ResourceSparseApplyFtrl", ["accum", "linear"], FTRL, {}),
    ("ResourceSparseApplyFtrl", ["accum", "linear"], FTRL, dict(multiply_linear_by_lr=True)),
    ("ResourceSparseApplyFtrlV2", ["accum", "linear"], dict(FTRL, l2_shrinkage=0.1), {}),
]
SPARSE_INDICES = [[0, 3, 0], [4, 1], [2, 2, 2, 1]]


def _initial(rng, slots, shape, dtype):
    init = {"var": rng.standard_normal(shape).astype(dtype)}
    for s in slots:
        if s in POSITIVE:
            init[s] = rng.uniform(0.5, 1.5, shape).astype(dtype)
        else:
            init[s] = (0.1 * rng.standard_normal(shape)).astype(dtype)
    return init


def _run(op, init, scalars, attrs, grads, indices, dtype):
    variables = {k: tf.Variable(v) for k, v in init.items()}
    fn = getattr(tf.raw_ops, op)
    for step, g in enumerate(grads):
        kwargs = {k: v.handle for k, v in variables.items()}
        kwargs.update({k: tf.constant(v, dtype) for k, v in scalars.items()})
        kwargs["delta" if op == "ResourceApplyGradientDescent" else "grad"] = tf.constant(g)
        if indices is not None:
            kwargs["indices"] = tf.constant(indices[step], tf.int32)
        fn(**kwargs, **attrs)
    return {k: v.numpy().tolist() for k, v in variables.items()}


def record_updates():
    rng = np.random.default_rng(1234)
    cases = []
    table = [(c, False, "float32") for c in DENSE] + [(c, True, "float32") for c in SPARSE]
    table.append((DENSE[5], False, "float64"))
    table.append((SPARSE[4], True, "float64"))
    for (op, slots, scalars, attrs), sparse, dtype in table:
        shape = (5, 3) if sparse else (3, 4)
        init = _initial(rng, slots, shape, dtype)
        indices = SPARSE_INDICES if sparse else None
        grads = [rng.standard_normal((len(i), 3) if sparse else shape).astype(dtype)
                 for i in (indices or [None] * 3)]
        after = _run(op, init, scalars, attrs, grads, indices, dtype)
        cases.append(dict(op=op, dtype=dtype, attrs=attrs, scalars=scalars,
                          initial={k: v.tolist() for k, v in init.items()},
                          grads=[g.tolist() for g in grads], indices=indices, after=after))
    return cases


# Invalid calls: shapes of var/slots/grad/scalars (defaults: var [3], slots like var, grad like
# var, scalars []), optional dtypes and indices; TF's message is recorded.
ERRORS = [
    dict(op="ResourceApplyAdam", slot_shapes={"m": [4]}),
    dict(op="ResourceApplyAdam", grad_shape=[4]),
    dict(op="ResourceApplyAdam", scalar_shapes={"lr": [2]}),
    dict(op="ResourceApplyAdam", scalar_shapes={"beta1_power": [2]}),
    dict(op="ResourceApplyAdam", grad_dtype="float64"),
    dict(op="ResourceApplyGradientDescent", grad_shape=[2]),
    dict(op="ResourceApplyGradientDescent", scalar_shapes={"alpha": [1]}),
    dict(op="ResourceApplyGradientDescent", dtype="int32"),
    dict(op="ResourceApplyMomentum", scalar_shapes={"momentum": [2]}),
    dict(op="ResourceApplyRMSProp", scalar_shapes={"lr": [2]}),
    dict(op="ResourceApplyFtrl", scalar_shapes={"lr_power": [1]}),
    dict(op="ResourceApplyFtrl", scalar_shapes={"l1": [2]}),
    dict(op="ResourceApplyFtrlV2", scalar_shapes={"l2_shrinkage": [2]}),
    dict(op="ResourceApplyAdagrad", slot_shapes={"accum": [2, 2]}),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 7]),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[4, 2], grad_shape=[2, 2],
         indices=[[0, 1]]),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[4, 2], grad_shape=[3, 2], indices=[0, 1]),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[4, 2], grad_shape=[2, 3], indices=[0, 1]),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[], grad_shape=[2], indices=[0, 1]),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[4, 2], slot_shapes={"accum": [4, 3]},
         grad_shape=[2, 2], indices=[0, 1]),
    dict(op="ResourceSparseApplyAdagrad", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 1],
         scalar_shapes={"lr": [1]}),
    dict(op="ResourceSparseApplyMomentum", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, -1]),
    dict(op="ResourceSparseApplyMomentum", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 1],
         scalar_shapes={"lr": [2]}),
    dict(op="ResourceSparseApplyRMSProp", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 9]),
    dict(op="ResourceSparseApplyFtrl", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 1],
         scalar_values={"l1": -1.0}),
    dict(op="ResourceSparseApplyFtrl", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 1],
         scalar_values={"lr": 0.0}),
    dict(op="ResourceSparseApplyFtrl", var_shape=[4, 2], grad_shape=[2, 2], indices=[0, 1],
         scalar_values={"lr_power": 0.5}),
]
SLOTS = {"ResourceApplyAdam": ["m", "v"], "ResourceApplyGradientDescent": [],
         "ResourceApplyMomentum": ["accum"], "ResourceApplyRMSProp": ["ms", "mom"],
         "ResourceApplyFtrl": ["accum", "linear"], "ResourceApplyFtrlV2": ["accum", "linear"],
         "ResourceApplyAdagrad": ["accum"], "ResourceSparseApplyAdagrad": ["accum"],
         "ResourceSparseApplyMomentum": ["accum"], "ResourceSparseApplyRMSProp": ["ms", "mom"],
         "ResourceSparseApplyFtrl": ["accum", "linear"]}
SCALARS = {"ResourceApplyAdam": list(ADAM), "ResourceApplyGradientDescent": ["alpha"],
           "ResourceApplyMomentum": ["lr", "momentum"], "ResourceApplyRMSProp": list(RMS),
           "ResourceApplyFtrl": list(FTRL), "ResourceApplyFtrlV2": list(FTRL) + ["l2_shrinkage"],
           "ResourceApplyAdagrad": ["lr"], "ResourceSparseApplyAdagrad": ["lr"],
           "ResourceSparseApplyMomentum": ["lr", "momentum"],
           "ResourceSparseApplyRMSProp": list(RMS), "ResourceSparseApplyFtrl": list(FTRL)}


def record_errors():
    out = []
    for e in ERRORS:
        op = e["op"]
        dtype = e.get("dtype", "float32")
        var_shape = e.get("var_shape", [3])
        kwargs = {"var": tf.Variable(np.ones(var_shape, dtype)).handle}
        for s in SLOTS[op]:
            shape = e.get("slot_shapes", {}).get(s, var_shape)
            kwargs[s] = tf.Variable(np.ones(shape, dtype)).handle
        for s in SCALARS[op]:
            shape = e.get("scalar_shapes", {}).get(s, [])
            value = e.get("scalar_values", {}).get(s, 0.5 if s != "lr_power" else -0.5)
            kwargs[s] = tf.constant(np.full(shape, value, dtype))
        grad = tf.constant(np.ones(e.get("grad_shape", var_shape), e.get("grad_dtype", dtype)))
        kwargs["delta" if op == "ResourceApplyGradientDescent" else "grad"] = grad
        if "indices" in e:
            kwargs["indices"] = tf.constant(e["indices"], tf.int32)
        try:
            getattr(tf.raw_ops, op)(**kwargs)
        except Exception as exc:  # noqa: BLE001 - we record whatever TF raises
            msg = str(exc).split("\n")[0]
            if "}} " in msg and msg.startswith("{{function_node"):
                msg = msg.split("}} ", 1)[1]
            msg = msg.split(" name: ")[0].rstrip()
            out.append(dict(e, slots=SLOTS[op], scalars=SCALARS[op], error=type(exc).__name__,
                            message=msg))
        else:
            raise SystemExit(f"TF accepted {e}")
    return out


def main():
    data = {"tensorflow": tf.__version__, "updates": record_updates(), "errors": record_errors()}
    OUT.write_text(json.dumps(data, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({len(data['updates'])} update cases, {len(data['errors'])} errors)")


if __name__ == "__main__":
    main()
