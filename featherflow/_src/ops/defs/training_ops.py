"""TensorFlow's fused optimizer updates: ResourceApply* (dense), in place on variable buffers.

Each op takes variable handles first (the variable and its slots, e.g. `var, m, v`), then TF's
other inputs in TF's order and with TF's names (the kernels' parameter names ARE the tf.raw_ops
keyword names), then TF's attrs as keyword parameters. Every op:

- writes the variable and its slot buffers IN PLACE (in-place ufuncs / `out=`) and returns nothing
  (`num_outputs=0`); the number of temporaries of the variable's size it allocates is stated
  next to each op ("temps: N");
- validates dtypes and shapes before its first write, with TF's messages, so a failed update
  leaves var and slots unchanged;
- is not differentiable (nothing is recorded on a tape).

The element-wise formulas follow TF's CPU kernels operation by operation (same order of
floating-point operations), so float32 results agree with TF's to the last bit or within the
rounding of TF's vectorized rsqrt/pow. Sparse forms live in `training_ops_sparse.py`, the
multi-tensor Adam in `training_ops_multi.py`.

Callers that hold Variables must move each written variable to a private buffer first
(copy-on-write) and hold its lock: `variables.variable.writing` does both, and `tf.raw_ops` calls
it for every resource op without outputs. `featherflow._src.train.updates` is the Python API.
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from featherflow._src.framework import errors
from featherflow._src.ops.registry import primitive

# Inputs that are variable handles (their buffers are written in place).
RESOURCE_INPUTS = frozenset({"var", "m", "v", "vhat", "accum", "accum_update", "ms", "mom", "mg",
                             "linear"})
_TF_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def tf_type_name(dtype) -> str:
    name = np.dtype(dtype).name
    return _TF_NAMES.get(name, name)


def dims(shape) -> str:
    return "[" + ",".join(str(int(d)) for d in shape) + "]"


def _is_float(dtype, complex_ok) -> bool:
    dtype = np.dtype(dtype)
    return dtype.kind == "f" or dtype.name == "bfloat16" or (complex_ok and dtype.kind == "c")


class Spec:
    """What a training op's validation needs to know about its signature."""

    def __init__(self, name, params, scalar_messages, complex_ok, sparse, extra_check):
        self.name = name
        self.inputs = [p.name for p in params if p.default is p.empty]
        self.resources = [n for n in self.inputs if n in RESOURCE_INPUTS]
        self.attr_defaults = {p.name: p.default for p in params if p.default is not p.empty}
        self.scalars = [n for n in self.inputs
                        if n not in RESOURCE_INPUTS and n not in ("grad", "delta", "indices")]
        self.grad_name = "delta" if "delta" in self.inputs else "grad"
        self.scalar_messages = scalar_messages or {}
        self.complex_ok = complex_ok
        self.sparse = sparse
        self.extra_check = extra_check


def _no_kernel(spec, t_dtype, attrs, index_dtype=None):
    # TF lists the op's own attrs, then T (then Tindices).
    shown = {}
    for key, default in spec.attr_defaults.items():
        value = attrs.get(key, default)
        shown[key] = str(value).lower() if isinstance(value, bool) else str(value)
    shown["T"] = "DT_" + tf_type_name(t_dtype).upper()
    if index_dtype is not None:
        shown["Tindices"] = "DT_" + tf_type_name(index_dtype).upper()
    text = ", ".join(f"{k}={v}" for k, v in shown.items())
    return errors.InvalidArgumentError(
        None, None, f"No OpKernel was registered to support Op '{spec.name}' used by "
        f"{{{{node {spec.name}}}}} with these attrs: [{text}] [Op:{spec.name}]")


def validate(spec, xp, args, attrs):
    """Checks dtypes and shapes of a training op's inputs (TF's messages); writes nothing.
    Returns the indices array for sparse ops (else None)."""
    named = dict(zip(spec.inputs, args))
    # Dtype attr T: every non-resource input but `indices` has it (TF checks this first).
    t_inputs = [(i, n) for i, n in enumerate(spec.inputs)
                if n not in RESOURCE_INPUTS and n != "indices"]
    t_dtype = named[t_inputs[0][1]].dtype
    for i, n in t_inputs[1:]:
        d = named[n].dtype
        if d != t_dtype:
            raise ValueError(f"cannot compute {spec.name} as input #{i}(zero-based) was expected "
                             f"to be a {tf_type_name(t_dtype)} tensor but is a "
                             f"{tf_type_name(d)} tensor")
    indices = named.get("indices")
    if indices is not None and np.dtype(indices.dtype) not in (np.int32, np.int64):
        raise ValueError(f"Value for attr 'Tindices' of {tf_type_name(indices.dtype)} is not in "
                         f"the list of allowed values: int32, int64")
    if not _is_float(t_dtype, spec.complex_ok):
        raise _no_kernel(spec, t_dtype, attrs, None if indices is None else indices.dtype)
    var = named["var"]
    for n in spec.resources:
        if named[n].dtype != t_dtype:
            # NOTE: TensorFlow aborts the process here (a failed CHECK); we raise instead.
            raise ValueError(f"{n} has dtype {tf_type_name(named[n].dtype)} but the update's "
                             f"other inputs have dtype {tf_type_name(t_dtype)}")
    for n in spec.resources[1:]:
        if named[n].shape != var.shape:
            raise ValueError(f"var and {n} do not have the same shape{dims(var.shape)} "
                             f"{dims(named[n].shape)}")
    if spec.sparse and var.ndim < 1:
        raise ValueError("var must be at least 1 dimensional")
    for n in spec.scalars:
        if named[n].ndim != 0:
            fmt = spec.scalar_messages.get(n, "{name} is not a scalar: {shape}")
            raise ValueError(fmt.format(name=n, shape=dims(named[n].shape)))
    if spec.extra_check is not None:
        spec.extra_check(named, attrs)
    grad = named[spec.grad_name]
    if not spec.sparse:
        if grad.shape != var.shape:
            raise ValueError(f"var and {spec.grad_name} do not have the same "
                             f"shape{dims(var.shape)} {dims(grad.shape)}")
        return None
    if indices.ndim != 1:
        raise ValueError("indices must be one-dimensional")
    if grad.ndim != var.ndim:
        raise ValueError(f"var and grad do not have the same rank{dims(var.shape)} "
                         f"{dims(grad.shape)}")
    for d in range(1, var.ndim):
        if var.shape[d] != grad.shape[d]:
            raise ValueError(f"var and grad must match in dimension {d}")
    if grad.shape[0] != indices.shape[0]:
        raise ValueError("grad must be the same size as indices in the first dimension.")
    idx = xp.asarray(indices)
    if idx.size:
        bad = (idx < 0) | (idx >= var.shape[0])
        if bool(bad.any()):
            at = int(xp.argmax(bad))
            raise ValueError(f"Index {int(idx[at])} at offset {at} in indices is out of range")
    return idx


def training_op(name, scalar_messages=None, complex_ok=True, sparse=False, extra_check=None):
    """Registers `update(xp, <TF inputs>, <TF attrs>=default)` as training primitive `name`:
    the registered kernel validates everything, then calls `update`, which writes in place."""

    def wrap(update):
        sig = inspect.signature(update)
        spec = Spec(name, list(sig.parameters.values())[1:], scalar_messages, complex_ok,
                    sparse, extra_check)

        @functools.wraps(update)
        def kernel(xp, *args, **attrs):
            validate(spec, xp, args, attrs)
            update(xp, *args, **attrs)
            return ()

        op = primitive(name, same_dtype=0, num_outputs=0, differentiable=False)(kernel)
        kernel.spec = spec
        return op

    return wrap


_LR_SPACED = {"lr": "lr is not a scalar : {shape}"}  # TF's message has a space before the colon


# ---------------------------------------------------------------------------------------------
# Element-wise update bodies, shared with the sparse (row-gathered) and multi-tensor forms.
# `t` and `u` are scratch arrays of var's shape; the bodies allocate nothing else.
# ---------------------------------------------------------------------------------------------
def adam_alpha(xp, beta1_power, beta2_power, lr):
    """Adam's step size lr * sqrt(1 - beta2^t) / (1 - beta1^t), in the variable's dtype."""
    return lr * xp.sqrt(1 - beta2_power) / (1 - beta1_power)


def adam_body(xp, var, m, v, grad, alpha, beta1, beta2, epsilon, use_nesterov, t, u):
    xp.subtract(grad, m, out=t)                # m += (g - m) * (1 - beta1)
    t *= 1 - beta1
    m += t
    xp.multiply(grad, grad, out=t)             # v += (g^2 - v) * (1 - beta2)
    t -= v
    t *= 1 - beta2
    v += t
    if use_nesterov:                           # var -= ((g*(1-b1) + b1*m) * alpha) / (sqrt(v)+eps)
        xp.multiply(grad, 1 - beta1, out=t)
        xp.multiply(m, beta1, out=u)
        t += u
        t *= alpha
    else:                                      # var -= (m * alpha) / (sqrt(v) + eps)
        xp.multiply(m, alpha, out=t)
    xp.sqrt(v, out=u)
    u += epsilon
    t /= u
    var -= t


def _temps(xp, var, n):
    return [xp.empty_like(var) for _ in range(n)]


def gradient_descent_body(xp, var, delta, alpha, t):
    xp.multiply(delta, alpha, out=t)
    var -= t


@training_op("ResourceApplyGradientDescent")
def resource_apply_gradient_descent(xp, var, alpha, delta, use_locking=False):
    """var -= alpha * delta. temps: 1."""
    gradient_descent_body(xp, var, delta, alpha, *_temps(xp, var, 1))


@training_op("ResourceApplyMomentum")
def resource_apply_momentum(xp, var, accum, lr, grad, momentum, use_locking=False,
                            use_nesterov=False):
    """accum = accum * momentum + grad; var -= accum * lr, or with Nesterov
    var -= grad * lr + accum * momentum * lr. temps: 1 (2 with Nesterov)."""
    accum *= momentum
    accum += grad
    if use_nesterov:
        t = xp.multiply(grad, lr)
        u = xp.multiply(accum, momentum)
        u *= lr
        t += u
    else:
        t = xp.multiply(accum, lr)
    var -= t


@training_op("ResourceApplyKerasMomentum")
def resource_apply_keras_momentum(xp, var, accum, lr, grad, momentum, use_locking=False,
                                  use_nesterov=False):
    """accum = accum * momentum - grad * lr; var += accum, or with Nesterov
    var += accum * momentum - grad * lr. temps: 1 (2 with Nesterov)."""
    keras_momentum_body(xp, var, accum, grad, lr, momentum, use_nesterov,
                        *_temps(xp, var, 2 if use_nesterov else 1))


def keras_momentum_body(xp, var, accum, grad, lr, momentum, use_nesterov, t, u=None):
    accum *= momentum
    xp.multiply(grad, lr, out=t)
    accum -= t
    if use_nesterov:
        xp.multiply(accum, momentum, out=u)
        u -= t
        var += u
    else:
        var += accum


@training_op("ResourceApplyAdam", scalar_messages=_LR_SPACED)
def resource_apply_adam(xp, var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon,
                        grad, use_locking=False, use_nesterov=False):
    """alpha = lr * sqrt(1 - beta2_power) / (1 - beta1_power); m += (g - m) * (1 - beta1);
    v += (g^2 - v) * (1 - beta2); var -= alpha * m / (sqrt(v) + epsilon) (Nesterov: m replaced
    by g * (1 - beta1) + beta1 * m). temps: 2."""
    alpha = adam_alpha(xp, beta1_power, beta2_power, lr)
    adam_body(xp, var, m, v, grad, alpha, beta1, beta2, epsilon, use_nesterov, *_temps(xp, var, 2))


@training_op("ResourceApplyAdamWithAmsgrad", scalar_messages=_LR_SPACED, complex_ok=False)
def resource_apply_adam_with_amsgrad(xp, var, m, v, vhat, beta1_power, beta2_power, lr, beta1,
                                     beta2, epsilon, grad, use_locking=False):
    """Adam with vhat = max(vhat, v) in the denominator. temps: 2."""
    alpha = adam_alpha(xp, beta1_power, beta2_power, lr)
    t, u = _temps(xp, var, 2)
    xp.subtract(grad, m, out=t)
    t *= 1 - beta1
    m += t
    xp.multiply(grad, grad, out=t)
    t -= v
    t *= 1 - beta2
    v += t
    xp.maximum(vhat, v, out=vhat)
    xp.multiply(m, alpha, out=t)
    xp.sqrt(vhat, out=u)
    u += epsilon
    t /= u
    var -= t


@training_op("ResourceApplyAdaMax", scalar_messages=_LR_SPACED, complex_ok=False)
def resource_apply_ada_max(xp, var, m, v, beta1_power, lr, beta1, beta2, epsilon, grad,
                           use_locking=False):
    """m += (g - m) * (1 - beta1); v = max(beta2 * v, |g|);
    var -= lr / (1 - beta1_power) * (m / (v + epsilon)). temps: 1."""
    t = xp.subtract(grad, m)
    t *= 1 - beta1
    m += t
    v *= beta2
    xp.abs(grad, out=t)
    xp.maximum(v, t, out=v)
    xp.add(v, epsilon, out=t)
    xp.divide(m, t, out=t)
    t *= lr / (1 - beta1_power)
    var -= t


def adagrad_body(xp, var, accum, lr, grad, update_slots, t, u, epsilon=None):
    """Adagrad (epsilon None: var -= g * lr * rsqrt(accum)) or AdagradV2
    (var -= g * lr / (sqrt(accum) + epsilon))."""
    if update_slots:
        xp.multiply(grad, grad, out=t)
        accum += t
    xp.multiply(grad, lr, out=t)
    xp.sqrt(accum, out=u)
    if epsilon is None:
        xp.divide(1, u, out=u)
        t *= u
    else:
        u += epsilon
        t /= u
    var -= t


@training_op("ResourceApplyAdagrad")
def resource_apply_adagrad(xp, var, accum, lr, grad, use_locking=False, update_slots=True):
    """accum += g^2 (if update_slots); var -= g * lr * rsqrt(accum). temps: 2."""
    adagrad_body(xp, var, accum, lr, grad, update_slots, *_temps(xp, var, 2))


@training_op("ResourceApplyAdagradV2")
def resource_apply_adagrad_v2(xp, var, accum, lr, epsilon, grad, use_locking=False,
                              update_slots=True):
    """accum += g^2 (if update_slots); var -= g * lr / (sqrt(accum) + epsilon). temps: 2."""
    adagrad_body(xp, var, accum, lr, grad, update_slots, *_temps(xp, var, 2), epsilon=epsilon)


def adadelta_body(xp, var, accum, accum_update, lr, rho, epsilon, grad, t, u):
    accum *= rho                               # accum = accum * rho + g^2 * (1 - rho)
    xp.multiply(grad, grad, out=t)
    t *= 1 - rho
    accum += t
    xp.add(accum_update, epsilon, out=t)       # update = sqrt(au + eps) * rsqrt(accum + eps) * g
    xp.sqrt(t, out=t)
    xp.add(accum, epsilon, out=u)
    xp.sqrt(u, out=u)
    xp.divide(1, u, out=u)
    t *= u
    t *= grad
    xp.multiply(t, t, out=u)                   # au = au * rho + update^2 * (1 - rho)
    u *= 1 - rho
    accum_update *= rho
    accum_update += u
    t *= lr                                    # var -= update * lr
    var -= t


@training_op("ResourceApplyAdadelta")
def resource_apply_adadelta(xp, var, accum, accum_update, lr, rho, epsilon, grad,
                            use_locking=False):
    """accum = rho * accum + (1 - rho) * g^2; update = sqrt(accum_update + eps) *
    rsqrt(accum + eps) * g; accum_update = rho * accum_update + (1 - rho) * update^2;
    var -= lr * update. temps: 2."""
    adadelta_body(xp, var, accum, accum_update, lr, rho, epsilon, grad, *_temps(xp, var, 2))


@training_op("ResourceApplyRMSProp", scalar_messages=_LR_SPACED)
def resource_apply_rms_prop(xp, var, ms, mom, lr, rho, momentum, epsilon, grad,
                            use_locking=False):
    """ms += (g^2 - ms) * (1 - rho); mom = mom * momentum + g * lr / sqrt(ms + epsilon);
    var -= mom. temps: 2."""
    rms_prop_body(xp, var, None, ms, mom, grad, lr, rho, momentum, epsilon, *_temps(xp, var, 2))


def rms_prop_body(xp, var, mg, ms, mom, grad, lr, rho, momentum, epsilon, t, u):
    """(Centered if `mg` is given) RMSProp in TF's order of operations; without `mom` (Keras'
    RMSprop with momentum 0) var -= g * lr / sqrt(denominator) directly."""
    xp.multiply(grad, grad, out=t)             # ms += (g^2 - ms) * (1 - rho)
    t -= ms
    t *= 1 - rho
    ms += t
    if mg is None:                             # denom = ms + epsilon
        xp.add(ms, epsilon, out=u)
    else:
        xp.subtract(grad, mg, out=t)           # mg += (g - mg) * (1 - rho)
        t *= 1 - rho
        mg += t
        xp.multiply(mg, mg, out=u)             # denom = (ms - mg^2) + epsilon
        xp.subtract(ms, u, out=u)
        u += epsilon
    xp.sqrt(u, out=u)
    xp.multiply(grad, lr, out=t)
    t /= u
    if mom is None:
        var -= t
        return
    mom *= momentum
    mom += t
    var -= mom


@training_op("ResourceApplyCenteredRMSProp", scalar_messages=_LR_SPACED)
def resource_apply_centered_rms_prop(xp, var, mg, ms, mom, lr, rho, momentum, epsilon, grad,
                                     use_locking=False):
    """ms += (g^2 - ms) * (1 - rho); mg += (g - mg) * (1 - rho);
    mom = mom * momentum + g * lr / sqrt(ms - mg^2 + epsilon); var -= mom. temps: 2."""
    rms_prop_body(xp, var, mg, ms, mom, grad, lr, rho, momentum, epsilon, *_temps(xp, var, 2))


# featherflow's own per-variable ops for Keras 3 optimizers whose math TF's ops do not cover.
@training_op("FeatherApplyRMSPropNoMomentum", scalar_messages=_LR_SPACED)
def feather_apply_rms_prop_no_momentum(xp, var, ms, lr, rho, epsilon, grad, use_locking=False):
    """Keras' RMSprop(momentum=0): ResourceApplyRMSProp's update without the momentum slot:
    ms += (g^2 - ms) * (1 - rho); var -= g * lr / sqrt(ms + epsilon). temps: 2."""
    rms_prop_body(xp, var, None, ms, None, grad, lr, rho, None, epsilon, *_temps(xp, var, 2))


@training_op("FeatherApplyCenteredRMSPropNoMomentum", scalar_messages=_LR_SPACED)
def feather_apply_centered_rms_prop_no_momentum(xp, var, mg, ms, lr, rho, epsilon, grad,
                                                use_locking=False):
    """Keras' RMSprop(centered=True, momentum=0): ResourceApplyCenteredRMSProp without the
    momentum slot: var -= g * lr / sqrt(ms - mg^2 + epsilon). temps: 2."""
    rms_prop_body(xp, var, mg, ms, None, grad, lr, rho, None, epsilon, *_temps(xp, var, 2))


def keras_adagrad_body(xp, var, accum, grad, lr, epsilon, t, u):
    xp.multiply(grad, grad, out=t)             # accum += g^2
    accum += t
    xp.multiply(grad, lr, out=t)               # var -= (g * lr) / sqrt(accum + epsilon)
    xp.add(accum, epsilon, out=u)
    xp.sqrt(u, out=u)
    t /= u
    var -= t


@training_op("FeatherApplyAdagradKeras")
def feather_apply_adagrad_keras(xp, var, accum, lr, epsilon, grad, use_locking=False):
    """Keras 3's Adagrad: accum += g^2; var -= g * lr / sqrt(accum + epsilon) (epsilon inside
    the square root; TF's ResourceApplyAdagradV2 adds it outside). temps: 2."""
    keras_adagrad_body(xp, var, accum, grad, lr, epsilon, *_temps(xp, var, 2))


def _accum_power(xp, a, lr_power, out):
    """a ** -lr_power, as sqrt(a) for TF's special case lr_power == -0.5."""
    if lr_power == -0.5:
        return xp.sqrt(a, out=out)
    if a.dtype.itemsize < 8 and a.dtype.kind == "f":
        # NOTE: in double, then rounded: NumPy's float32 power is a SIMD approximation whose
        # last bits change with the CPU (AVX-512 or not), and FTRL subtracts two powers, so
        # those bits become 1e-5 relative errors. The double power rounded once is the
        # correctly rounded value that TF's scalar pow gives, on every CPU.
        out[...] = xp.power(a.astype(xp.float64), -xp.float64(lr_power))
        return out
    return xp.power(a, -lr_power, out=out)


def ftrl_body(xp, var, accum, linear, grad, lr, l1, l2, lr_power, multiply_linear_by_lr,
              n, t, u, l2_shrinkage=None):
    """FTRL-proximal. `n`, `t`, `u` are scratch arrays of var's shape."""
    xp.multiply(grad, grad, out=n)             # new_accum = accum + g^2
    n += accum
    _accum_power(xp, n, lr_power, t)           # t = new_accum^-p - accum^-p
    _accum_power(xp, accum, lr_power, u)
    t -= u
    if multiply_linear_by_lr:                  # linear += g_s * lr - t * var
        t *= var
    else:                                      # linear += g_s - t / lr * var
        t /= lr
        t *= var
    if l2_shrinkage is None:                   # u = g_s (the gradient with shrinkage)
        xp.copyto(u, grad)
    else:
        xp.multiply(var, 2 * l2_shrinkage, out=u)
        xp.add(grad, u, out=u)
    if multiply_linear_by_lr:
        u *= lr
    u -= t
    linear += u
    _accum_power(xp, n, lr_power, t)           # quadratic
    if multiply_linear_by_lr:
        t += 2 * l2 * lr
        l1 = l1 * lr
    else:
        t /= lr
        t += 2 * l2
    xp.clip(linear, -l1, l1, out=u)            # var = (clip(linear, -l1, l1) - linear) / quadratic
    u -= linear
    xp.divide(u, t, out=var)
    xp.copyto(accum, n)


@training_op("ResourceApplyFtrl", complex_ok=False, scalar_messages={
    "l1": "l1 regularization strength is not a scalar: {shape}",
    "l2": "l2 regularization strength is not a scalar: {shape}",
    "lr_power": "lr_power is not a scalar{shape}"})
def resource_apply_ftrl(xp, var, accum, linear, grad, lr, l1, l2, lr_power, use_locking=False,
                        multiply_linear_by_lr=False):
    """FTRL-proximal (McMahan et al.): new_accum = accum + g^2;
    linear += g - (new_accum^-p - accum^-p) / lr * var; quadratic = new_accum^-p / lr + 2 * l2;
    var = (clip(linear, -l1, l1) - linear) / quadratic; accum = new_accum. temps: 3."""
    ftrl_body(xp, var, accum, linear, grad, lr, l1, l2, lr_power, multiply_linear_by_lr,
              *_temps(xp, var, 3))


@training_op("ResourceApplyFtrlV2", complex_ok=False, scalar_messages={
    "l1": "l1 regularization strength is not a scalar: {shape}",
    "l2": "l2 regularization strength is not a scalar: {shape}",
    "l2_shrinkage": "l2 shrinkage regularization strength is not a scalar: {shape}",
    "lr_power": "lr_power is not a scalar{shape}"})
def resource_apply_ftrl_v2(xp, var, accum, linear, grad, lr, l1, l2, l2_shrinkage, lr_power,
                           use_locking=False, multiply_linear_by_lr=False):
    """FTRL with the gradient g + 2 * l2_shrinkage * var in the linear term (the accumulator
    still uses g). temps: 3."""
    ftrl_body(xp, var, accum, linear, grad, lr, l1, l2, lr_power, multiply_linear_by_lr,
              *_temps(xp, var, 3), l2_shrinkage=l2_shrinkage)
