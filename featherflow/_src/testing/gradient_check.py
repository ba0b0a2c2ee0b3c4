"""The one numerical gradient checker, and tf.test.compute_gradient built on the same idea.

`check_grads(f, xs)` compares the analytic vector-Jacobian product with a float64 central finite
difference along one random direction: for random u (output-shaped) and v (input-shaped),
<u, J v> is computed both as sum_i <VJP(u)_i, v_i> (the tape) and as
<u, (f(x + eps v) - f(x - eps v)) / (2 eps)>. One projection checks every entry of J with
probability 1, at the cost of two function evaluations.
"""
from __future__ import annotations

import numpy as np

from featherflow._src.framework import dtypes as _dt

# TensorFlow's default perturbation for compute_gradient: 2**-10.
_DEFAULT_DELTA = 1.0 / 1024


def _host(t):
    return np.asarray(t.numpy() if hasattr(t, "numpy") else t)


def _vjp_dot(f, xs, u, v):
    """<u, J v> via the tape, for tensors xs and host arrays u, v (a scalar float64 tensor)."""
    from featherflow._src.api.math_ops import add_n, cast  # noqa: PLC0415
    from featherflow._src.api.reduce_ops import reduce_sum  # noqa: PLC0415
    from featherflow._src.autodiff.tape import GradientTape  # noqa: PLC0415
    from featherflow._src.framework.convert import constant  # noqa: PLC0415

    with GradientTape() as tape:
        tape.watch(xs)
        y = f(*xs)
    grads = tape.gradient(y, xs, output_gradients=constant(u, dtype=y.dtype))
    terms = [reduce_sum(cast(g, _dt.float64) * constant(np.asarray(vi, np.float64), dtype=_dt.float64)) for g, vi in zip(grads, v)
             if g is not None]
    return add_n(terms) if terms else constant(0.0, dtype=_dt.float64)


def check_grads(f, xs, order=1, rtol=1e-6, atol=1e-8, eps=1e-6, seed=0):
    """Checks the gradients of `f` at `xs` (float64 values) up to `order`; AssertionError if off.

    Order 2 checks the gradient of x -> <u, J(x) v> the same way, i.e. the gradients of the
    gradient functions themselves (which run on an outer tape).
    """
    from featherflow._src.framework.convert import constant  # noqa: PLC0415

    def const(a):
        # NOTE: an explicit dtype: 0-d arithmetic on host gives NumPy scalars, which must stay
        # float64 whatever conversion infers for them.
        return constant(np.asarray(a, dtype=np.float64), dtype=_dt.float64)

    rng = np.random.default_rng(seed)
    hosts = [np.asarray(x, dtype=np.float64) for x in xs]
    ts = [const(h) for h in hosts]
    y0 = _host(f(*ts))
    u = np.asarray(rng.standard_normal(y0.shape))
    v = [np.asarray(rng.standard_normal(h.shape)) for h in hosts]
    analytic = float(_host(_vjp_dot(f, ts, u, v)))
    plus = _host(f(*[const(h + eps * d) for h, d in zip(hosts, v)]))
    minus = _host(f(*[const(h - eps * d) for h, d in zip(hosts, v)]))
    numeric = float(np.sum(u * (plus - minus)) / (2 * eps))
    if not abs(analytic - numeric) <= atol + rtol * abs(numeric):
        raise AssertionError(f"gradient check failed (order {order}): analytic <u, J v> = "
                             f"{analytic!r}, numeric = {numeric!r}")
    if order > 1:
        check_grads(lambda *a: _vjp_dot(f, list(a), u, v), hosts, order - 1, rtol, atol, eps,
                    seed + 1)


def compute_gradient(f, x, delta=None):
    """The theoretical and numerical Jacobians of `f` at `x` (tf.test.compute_gradient).

    Returns two tuples with one NumPy array per argument, each shaped
    (output size, argument size) as TensorFlow's are, in the argument's dtype.

    >>> import featherflow as tf
    >>> theoretical, numerical = tf.test.compute_gradient(tf.square, [tf.constant([1.0, 2.0])])
    >>> theoretical[0]
    array([[2., 0.],
           [0., 4.]], dtype=float32)
    """
    from featherflow._src.autodiff.tape import GradientTape  # noqa: PLC0415
    from featherflow._src.framework.convert import convert_to_tensor  # noqa: PLC0415

    if not isinstance(x, (list, tuple)):
        raise ValueError("`x` must be a list or tuple of values convertible to a Tensor "
                         f"(arguments to `f`), not a {type(x)}")
    xs = [convert_to_tensor(v) for v in x]
    for i, t in enumerate(xs):
        if not t.dtype.is_floating:
            raise ValueError(f"Cannot compute gradient for unsupported type {t.dtype.name} of "
                             f"argument {i}")
    delta = _DEFAULT_DELTA if delta is None else float(delta)
    with GradientTape(persistent=True) as tape:
        tape.watch(xs)
        y = convert_to_tensor(f(*xs))
    y_size = int(np.prod(y.shape.as_list(), dtype=np.int64))
    theoretical, numerical = [], []
    for i, t in enumerate(xs):
        x_size = int(np.prod(t.shape.as_list(), dtype=np.int64))
        j = tape.jacobian(y, t, unconnected_gradients="zero")
        theoretical.append(_host(j).reshape(y_size, x_size).astype(t.dtype._np))
        numerical.append(_numeric(f, xs, i, delta, y_size).T)
    return tuple(theoretical), tuple(numerical)


def _numeric(f, xs, i, delta, y_size):
    from featherflow._src.framework.convert import convert_to_tensor  # noqa: PLC0415

    t = xs[i]
    base = _host(t)
    flat = base.reshape(-1)
    out = np.zeros((flat.size, y_size), dtype=t.dtype._np)
    args = list(xs)
    for k in range(flat.size):
        cols = []
        for step in (delta, -delta):
            moved = flat.copy()
            moved[k] = moved[k] + step
            args[i] = convert_to_tensor(moved.reshape(base.shape))
            cols.append(_host(f(*args)).astype(np.float64).reshape(-1))
        out[k] = (cols[0] - cols[1]) / (2 * delta)
    return out
