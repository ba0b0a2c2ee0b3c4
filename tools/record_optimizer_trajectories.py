"""Records Keras 3 (TensorFlow 2.21) optimizer trajectories into
tests/fixtures/optimizer_trajectories.json (needs TensorFlow:
/work/tfenv/bin/python tools/record_optimizer_trajectories.py).

Each case: an optimizer class and its options, two small float32 variables, fixed gradients for
5 steps (dense, None, or IndexedSlices), and what TensorFlow produced: the variables after every
step, `iterations` after every step, the optimizer variables' names and final values. The test
suite (tests/keras/test_optimizer_trajectories.py) replays every case in featherflow.
"""
import json
import os
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "fixtures", "optimizer_trajectories.json")
STEPS = 5
SHAPES = {"a": (3,), "b": (2, 2)}
F32 = dict(rtol=2e-5, atol=1e-6)
LOOSE = dict(rtol=1e-4, atol=1e-5)   # sign / norm-ratio algorithms (Lion, Lamb, Adafactor)


def _f32(x):
    return np.asarray(x, np.float32).tolist()


def _grads(seed, shapes=SHAPES, none_at=None, inf_at=None, sparse=False):
    """Fixed per-step gradients: lists (dense), None, or {indices, values, dense_shape}."""
    rng = np.random.RandomState(seed)
    steps = []
    for s in range(STEPS):
        row = []
        for name, shape in shapes.items():
            g = rng.uniform(-1.0, 1.0, shape).astype(np.float32)
            if none_at is not None and (s, name) == none_at:
                row.append(None)
                continue
            if inf_at is not None and (s, name) == inf_at:
                g.flat[0] = np.inf
            if sparse:
                # Rows [0, 2, 0] for a (duplicate index: TF sums it), [1] for b.
                idx = [0, 2, 0] if len(shape) == 1 else [1]
                vals = rng.uniform(-1.0, 1.0, (len(idx),) + shape[1:]).astype(np.float32)
                row.append({"indices": idx, "values": _f32(vals), "dense_shape": list(shape)})
            else:
                row.append(_f32(g))
        steps.append(row)
    return steps


def _init(shapes=SHAPES):
    rng = np.random.RandomState(1)
    return {n: _f32(rng.uniform(-1.0, 1.0, s)) for n, s in shapes.items()}


def case(cid, cls, tol=F32, shapes=SHAPES, grads=None, seed=0, **extra):
    c = {"id": cid, "cls": cls, "kwargs": extra.pop("kwargs", {}), "init": _init(shapes),
         "grads": grads if grads is not None else _grads(seed, shapes), "tol": tol}
    c.update(extra)
    return c


def cases():
    out = []
    sched = lambda name, **cfg: {"schedule": name, "config": cfg}  # noqa: E731
    add = out.append
    # -- SGD
    add(case("sgd", "SGD", kwargs={"learning_rate": 0.1}))
    add(case("sgd_momentum", "SGD", kwargs={"learning_rate": 0.1, "momentum": 0.9}))
    add(case("sgd_nesterov", "SGD", kwargs={"learning_rate": 0.1, "momentum": 0.9,
                                            "nesterov": True}))
    add(case("sgd_weight_decay", "SGD", kwargs={"learning_rate": 0.1, "weight_decay": 0.05}))
    add(case("sgd_clipnorm", "SGD", kwargs={"learning_rate": 0.1, "clipnorm": 0.5}))
    add(case("sgd_clipvalue", "SGD", kwargs={"learning_rate": 0.1, "clipvalue": 0.3}))
    add(case("sgd_global_clipnorm", "SGD", kwargs={"learning_rate": 0.1,
                                                   "global_clipnorm": 0.7}))
    add(case("sgd_loss_scale_factor", "SGD", kwargs={"learning_rate": 0.1,
                                                     "loss_scale_factor": 4.0}))
    add(case("sgd_none_grad", "SGD", kwargs={"learning_rate": 0.1, "momentum": 0.5},
             grads=_grads(0, none_at=(2, "b"))))
    # -- Adam family
    add(case("adam", "Adam", kwargs={"learning_rate": 0.01}))
    add(case("adam_amsgrad", "Adam", kwargs={"learning_rate": 0.01, "amsgrad": True}))
    add(case("adam_weight_decay_exclude", "Adam",
             kwargs={"learning_rate": 0.01, "weight_decay": 0.1},
             exclude_var_names=["b"]))
    add(case("adamw", "AdamW", kwargs={"learning_rate": 0.01}))
    add(case("adamw_amsgrad", "AdamW", kwargs={"learning_rate": 0.01, "weight_decay": 0.2,
                                               "amsgrad": True}))
    add(case("adamax", "Adamax", kwargs={"learning_rate": 0.01}))
    add(case("nadam", "Nadam", kwargs={"learning_rate": 0.01}))
    # -- RMSprop
    add(case("rmsprop", "RMSprop", kwargs={"learning_rate": 0.01}))
    add(case("rmsprop_centered", "RMSprop", kwargs={"learning_rate": 0.01, "centered": True}))
    add(case("rmsprop_momentum", "RMSprop", kwargs={"learning_rate": 0.01, "momentum": 0.5}))
    add(case("rmsprop_centered_momentum", "RMSprop",
             kwargs={"learning_rate": 0.01, "momentum": 0.5, "centered": True, "rho": 0.8}))
    # -- Adagrad, Adadelta, Ftrl
    add(case("adagrad", "Adagrad", kwargs={"learning_rate": 0.1}))
    add(case("adadelta", "Adadelta", kwargs={"learning_rate": 1.0, "rho": 0.9}))
    add(case("ftrl", "Ftrl", kwargs={"learning_rate": 0.1}))
    add(case("ftrl_regularized", "Ftrl",
             kwargs={"learning_rate": 0.1, "learning_rate_power": -0.6,
                     "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
                     "l2_shrinkage_regularization_strength": 0.03, "beta": 0.1,
                     "initial_accumulator_value": 0.2}))
    # -- Lion, Lamb, Adafactor
    add(case("lion", "Lion", tol=LOOSE, kwargs={"learning_rate": 0.01}))
    add(case("lamb", "Lamb", tol=LOOSE, kwargs={"learning_rate": 0.01}))
    add(case("adafactor", "Adafactor", tol=LOOSE, shapes={"a": (3,), "b": (2, 3)},
             kwargs={"learning_rate": 0.1}))
    add(case("adafactor_no_relative_step", "Adafactor", tol=LOOSE,
             shapes={"a": (3,), "b": (2, 3)},
             kwargs={"learning_rate": 0.5, "relative_step": False, "clip_threshold": 0.5}))
    # -- EMA and gradient accumulation
    add(case("adam_ema_finalize", "Adam", kwargs={"learning_rate": 0.05, "use_ema": True,
                                                  "ema_momentum": 0.9}, finalize=True))
    add(case("sgd_ema_overwrite", "SGD", kwargs={"learning_rate": 0.1, "use_ema": True,
                                                 "ema_momentum": 0.8,
                                                 "ema_overwrite_frequency": 2}))
    add(case("adam_accumulate", "Adam", kwargs={"learning_rate": 0.05,
                                                "gradient_accumulation_steps": 2}))
    add(case("sgd_momentum_accumulate", "SGD",
             kwargs={"learning_rate": 0.1, "momentum": 0.9, "gradient_accumulation_steps": 3}))
    # -- schedules as learning rates
    add(case("sgd_exponential_staircase", "SGD", kwargs={"learning_rate": sched(
        "ExponentialDecay", initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5,
        staircase=True)}))
    add(case("adam_piecewise", "Adam", kwargs={"learning_rate": sched(
        "PiecewiseConstantDecay", boundaries=[1, 3], values=[0.1, 0.05, 0.01])}))
    add(case("sgd_polynomial_cycle", "SGD", kwargs={"learning_rate": sched(
        "PolynomialDecay", initial_learning_rate=0.1, decay_steps=2, end_learning_rate=0.01,
        power=2.0, cycle=True)}))
    add(case("sgd_inverse_time", "SGD", kwargs={"learning_rate": sched(
        "InverseTimeDecay", initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5)}))
    add(case("adam_cosine_warmup", "Adam", kwargs={"learning_rate": sched(
        "CosineDecay", initial_learning_rate=0.0, decay_steps=3, alpha=0.1,
        warmup_target=0.1, warmup_steps=2)}))
    add(case("sgd_cosine_restarts", "SGD", kwargs={"learning_rate": sched(
        "CosineDecayRestarts", initial_learning_rate=0.1, first_decay_steps=2, t_mul=2.0,
        m_mul=0.5, alpha=0.1)}))
    # -- LossScaleOptimizer: an inf gradient at step 2 skips the step and halves the scale;
    # dynamic_growth_steps=2 doubles it after two finite steps.
    add(case("loss_scale_sgd", "LossScaleOptimizer",
             kwargs={"initial_scale": 8.0, "dynamic_growth_steps": 2},
             inner={"cls": "SGD", "kwargs": {"learning_rate": 0.1, "momentum": 0.9}},
             grads=_grads(0, inf_at=(2, "b"))))
    add(case("loss_scale_adam", "LossScaleOptimizer", kwargs={"initial_scale": 4.0},
             inner={"cls": "Adam", "kwargs": {"learning_rate": 0.01}},
             grads=_grads(3, inf_at=(1, "a"))))
    # -- IndexedSlices gradients
    for cls, kw in [("SGD", {"learning_rate": 0.1}),
                    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
                    ("Adam", {"learning_rate": 0.01}), ("AdamW", {"learning_rate": 0.01}),
                    ("Adamax", {"learning_rate": 0.01}), ("Nadam", {"learning_rate": 0.01}),
                    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
                    ("Adagrad", {"learning_rate": 0.1}), ("Adadelta", {"learning_rate": 1.0}),
                    ("Ftrl", {"learning_rate": 0.1}), ("Lion", {"learning_rate": 0.01})]:
        cid = f"{cls.lower()}{'_momentum' if kw.get('momentum') else ''}_sparse"
        add(case(cid, cls, tol=LOOSE if cls == "Lion" else F32, kwargs=kw,
                 grads=_grads(5, sparse=True)))
    return out


def _schedule(spec):
    return getattr(tf.keras.optimizers.schedules, spec["schedule"])(**spec["config"])


def _make(spec):
    kw = dict(spec["kwargs"])
    if isinstance(kw.get("learning_rate"), dict):
        kw["learning_rate"] = _schedule(kw["learning_rate"])
    cls = getattr(tf.keras.optimizers, spec["cls"])
    if "inner" in spec:
        return cls(_make(spec["inner"]), **kw)
    return cls(**kw)


def _grad(g):
    if g is None:
        return None
    if isinstance(g, dict):
        return tf.IndexedSlices(tf.constant(g["values"], tf.float32),
                                tf.constant(g["indices"], tf.int64),
                                tf.constant(g["dense_shape"], tf.int64))
    return tf.constant(g, tf.float32)


def run(spec):
    tf.keras.backend.clear_session()   # optimizer names start at "sgd", "adam" again
    names = list(spec["init"])
    variables = [tf.Variable(np.asarray(spec["init"][n], np.float32), name=n) for n in names]
    opt = _make(spec)
    if spec.get("exclude_var_names"):
        opt.exclude_from_weight_decay(var_names=spec["exclude_var_names"])
    values, iterations, extras = [], [], []
    for step in spec["grads"]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            opt.apply_gradients(zip([_grad(g) for g in step], variables))
        values.append([_f32(v.numpy()) for v in variables])
        iterations.append(int(opt.iterations.numpy()))
        if spec["cls"] == "LossScaleOptimizer":
            extras.append({"dynamic_scale": float(opt.dynamic_scale.numpy()),
                           "step_counter": int(opt.step_counter.numpy())})
    if spec.get("finalize"):
        opt.finalize_variable_values(variables)
        values.append([_f32(v.numpy()) for v in variables])
    opt_vars = [(v.value.name if hasattr(v, "value") else v.name, v) for v in opt.variables]
    spec["result"] = {
        "values": values, "iterations": iterations, "extras": extras,
        "optimizer_variables": [{"name": n, "dtype": v.dtype if isinstance(v.dtype, str)
                                 else v.dtype.name, "value": np.asarray(v.numpy()).tolist()}
                                for n, v in opt_vars],
    }
    return spec


SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5,
                          "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [2, 5], "values": [1.0, 0.5, 0.1]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 4}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 4,
                         "end_learning_rate": 0.01, "power": 0.5, "cycle": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 2, "decay_rate": 0.5,
                          "staircase": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 6}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 6, "alpha": 0.2}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 6, "warmup_target": 0.2,
                     "warmup_steps": 3}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 3}),
    ("CosineDecayRestarts", {"initial_learning_rate": 0.1, "first_decay_steps": 2,
                             "t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
]
SCHEDULE_STEPS = [0, 1, 2, 3, 4, 5, 7, 9, 12, 20]


def record_schedules():
    out = []
    for name, cfg in SCHEDULES:
        s = getattr(tf.keras.optimizers.schedules, name)(**cfg)
        vals = [float(np.float32(s(tf.constant(st, tf.int64)))) for st in SCHEDULE_STEPS]
        out.append({"schedule": name, "config": cfg, "steps": SCHEDULE_STEPS, "values": vals,
                    "get_config": s.get_config()})
    return out


def main():
    recorded = []
    for spec in cases():
        try:
            recorded.append(run(spec))
        except Exception as e:  # noqa: BLE001 - a case TF refuses is left out, and said so
            print(f"skipped {spec['id']}: {type(e).__name__}: {e}", file=sys.stderr)
    data = {"tensorflow": tf.__version__, "keras": tf.keras.__version__
            if hasattr(tf.keras, "__version__") else None, "steps": STEPS,
            "cases": recorded, "schedules": record_schedules()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print(f"wrote {len(recorded)} trajectories and {len(data['schedules'])} schedules to {OUT}")


if __name__ == "__main__":
    main()
