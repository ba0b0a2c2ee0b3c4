"""TensorFlow's sparse optimizer updates: ResourceSparseApply*, in place on the touched rows.

`grad` holds one row per entry of `indices` (rows of `var` along its first axis). Only those rows
of the variable and its slots are read and written: they are gathered, updated with the same
element-wise body as the dense op, and scattered back. Temporaries are sized by the touched
rows, never by the variable.

NOTE: duplicate indices. TensorFlow's sparse kernels apply the entries of `indices` one after
the other, so a row that appears twice is updated twice in sequence (e.g. Adagrad's accumulator
gets g1^2 then g2^2, not (g1 + g2)^2) -- verified with TF 2.21 for every op here and recorded in
tests/fixtures/training_ops.json. We match that exactly by splitting the entries into rounds in
which every row appears at most once (round k holds each row's k-th occurrence); rows are
independent, so this is the same as TF's sequential loop. Keras' optimizers sum duplicate rows
*before* calling these ops (`IndexedSlices` deduplication), which is a different result:
`featherflow._src.train.updates.deduplicate` does that summing for callers that want it.

TF has no sparse Adam raw op (Keras' Adam updates sparse gradients through scatter ops), so none
is defined here.
"""
from __future__ import annotations

from featherflow._src.ops.defs import training_ops as T
from featherflow._src.ops.defs.training_ops import training_op


def occurrence_rounds(xp, idx):
    """Positions into `idx` grouped into rounds of distinct rows, each row's occurrences in
    order across the rounds. One round (all positions) when the indices are distinct."""
    n = int(idx.shape[0])
    if n == 0:
        return []
    order = xp.argsort(idx, kind="stable")
    ranked = idx[order]
    if not bool((ranked[1:] == ranked[:-1]).any()):
        return [xp.arange(n)]
    positions = xp.arange(n)
    starts = xp.concatenate([xp.ones(1, dtype=bool), ranked[1:] != ranked[:-1]])
    group_start = xp.maximum.accumulate(xp.where(starts, positions, 0))
    rank = positions - group_start
    return [order[rank == k] for k in range(int(rank.max()) + 1)]


def apply_rows(xp, idx, buffers, grad, body):
    """Runs `body(*row_buffers, row_grad)` on the rows `idx` of `buffers` (var then slots) and
    writes the rows back, one round of distinct rows at a time."""
    for pos in occurrence_rounds(xp, idx):
        rows = idx[pos]
        gathered = [b[rows] for b in buffers]
        body(*gathered, grad[pos])
        for b, r in zip(buffers, gathered):
            b[rows] = r


def _dense(op):
    """The element-wise update function behind dense training op `op` (validation skipped)."""
    return op.kernel.__wrapped__


_LR_SPACED = {"lr": "lr is not a scalar : {shape}"}


@training_op("ResourceSparseApplyMomentum", sparse=True, scalar_messages=_LR_SPACED)
def resource_sparse_apply_momentum(xp, var, accum, lr, grad, indices, momentum,
                                   use_locking=False, use_nesterov=False):
    """ResourceApplyMomentum on the rows `indices`."""
    body = _dense(T.resource_apply_momentum)
    apply_rows(xp, xp.asarray(indices), (var, accum), grad,
               lambda v, a, g: body(xp, v, a, lr, g, momentum, use_nesterov=use_nesterov))


@training_op("ResourceSparseApplyKerasMomentum", sparse=True, scalar_messages=_LR_SPACED)
def resource_sparse_apply_keras_momentum(xp, var, accum, lr, grad, indices, momentum,
                                         use_locking=False, use_nesterov=False):
    """ResourceApplyKerasMomentum on the rows `indices`."""
    body = _dense(T.resource_apply_keras_momentum)
    apply_rows(xp, xp.asarray(indices), (var, accum), grad,
               lambda v, a, g: body(xp, v, a, lr, g, momentum, use_nesterov=use_nesterov))


@training_op("ResourceSparseApplyAdagrad", sparse=True)
def resource_sparse_apply_adagrad(xp, var, accum, lr, grad, indices, use_locking=False,
                                  update_slots=True):
    """ResourceApplyAdagrad on the rows `indices`."""
    apply_rows(xp, xp.asarray(indices), (var, accum), grad,
               lambda v, a, g: T.adagrad_body(xp, v, a, lr, g, update_slots,
                                              xp.empty_like(v), xp.empty_like(v)))


@training_op("ResourceSparseApplyAdagradV2", sparse=True)
def resource_sparse_apply_adagrad_v2(xp, var, accum, lr, epsilon, grad, indices,
                                     use_locking=False, update_slots=True):
    """ResourceApplyAdagradV2 on the rows `indices`."""
    apply_rows(xp, xp.asarray(indices), (var, accum), grad,
               lambda v, a, g: T.adagrad_body(xp, v, a, lr, g, update_slots, xp.empty_like(v),
                                              xp.empty_like(v), epsilon=epsilon))


@training_op("ResourceSparseApplyAdadelta", sparse=True)
def resource_sparse_apply_adadelta(xp, var, accum, accum_update, lr, rho, epsilon, grad, indices,
                                   use_locking=False):
    """ResourceApplyAdadelta on the rows `indices`."""
    apply_rows(xp, xp.asarray(indices), (var, accum, accum_update), grad,
               lambda v, a, au, g: T.adadelta_body(xp, v, a, au, lr, rho, epsilon, g,
                                                   xp.empty_like(v), xp.empty_like(v)))


# NOTE: TF's sparse RMSProp kernels are written differently from the dense ones
# (ms = ms * rho + g^2 * (1 - rho) and rsqrt(...) * lr * g instead of ms += (g^2 - ms) * (1 - rho)
# and g * lr / sqrt(...)); the results differ in the last bits, so the sparse forms follow theirs.
@training_op("ResourceSparseApplyRMSProp", sparse=True)
def resource_sparse_apply_rms_prop(xp, var, ms, mom, lr, rho, momentum, epsilon, grad, indices,
                                   use_locking=False):
    """ms = ms * rho + g^2 * (1 - rho); mom = mom * momentum + rsqrt(ms + eps) * lr * g;
    var -= mom, on the rows `indices`."""

    def body(v, s, mo, g):
        s *= rho
        t = xp.multiply(g, g)
        t *= 1 - rho
        s += t
        xp.add(s, epsilon, out=t)
        xp.sqrt(t, out=t)
        xp.divide(1, t, out=t)
        t *= lr
        t *= g
        mo *= momentum
        mo += t
        v -= mo

    apply_rows(xp, xp.asarray(indices), (var, ms, mom), grad, body)


@training_op("ResourceSparseApplyCenteredRMSProp", sparse=True)
def resource_sparse_apply_centered_rms_prop(xp, var, mg, ms, mom, lr, rho, momentum, epsilon,
                                            grad, indices, use_locking=False):
    """ms = ms * rho + g^2 * (1 - rho); mg = mg * rho + g * (1 - rho);
    mom = mom * momentum + rsqrt(ms + eps - mg^2) * lr * g; var -= mom, on the rows."""

    def body(v, mgr, s, mo, g):
        s *= rho
        t = xp.multiply(g, g)
        t *= 1 - rho
        s += t
        mgr *= rho
        xp.multiply(g, 1 - rho, out=t)
        mgr += t
        xp.add(s, epsilon, out=t)
        u = xp.multiply(mgr, mgr)
        t -= u
        xp.sqrt(t, out=t)
        xp.divide(1, t, out=t)
        t *= lr
        t *= g
        mo *= momentum
        mo += t
        v -= mo

    apply_rows(xp, xp.asarray(indices), (var, mg, ms, mom), grad, body)


def _ftrl_values(named, attrs):
    """Sparse FTRL's value checks on its scalar hyperparameters (TF's messages)."""
    lr = named["lr"]
    if not (lr > 0 or (attrs.get("multiply_linear_by_lr") and lr == 0)):
        raise ValueError("lr is not a positive scalar (or zero if multiply_linear_by_lr is set): "
                         f"{T.dims(lr.shape)}")
    for n, what in (("l1", "l1"), ("l2", "l2"), ("l2_shrinkage", "l2 shrinkage")):
        if n in named and not named[n] >= 0:
            raise ValueError(f"{what} regularization strength is not a non-negative scalar: "
                             f"{T.dims(named[n].shape)}")
    if not named["lr_power"] <= 0:
        raise ValueError(f"lr_power is not a non-positive scalar: "
                         f"{T.dims(named['lr_power'].shape)}")


_FTRL_SCALARS = {
    "lr": "lr is not a positive scalar (or zero if multiply_linear_by_lr is set): {shape}",
    "l1": "l1 regularization strength is not a non-negative scalar: {shape}",
    "l2": "l2 regularization strength is not a non-negative scalar: {shape}",
    "l2_shrinkage": "l2 shrinkage regularization strength is not a non-negative scalar: {shape}",
    "lr_power": "lr_power is not a non-positive scalar: {shape}"}


def _ftrl_rows(xp, var, accum, linear, grad, indices, lr, l1, l2, lr_power, mlbl, shrinkage):
    def body(v, a, lin, g):
        n, t, u = (xp.empty_like(v) for _ in range(3))
        T.ftrl_body(xp, v, a, lin, g, lr, l1, l2, lr_power, mlbl, n, t, u,
                    l2_shrinkage=shrinkage)

    apply_rows(xp, xp.asarray(indices), (var, accum, linear), grad, body)


@training_op("ResourceSparseApplyFtrl", sparse=True, complex_ok=False,
             scalar_messages=_FTRL_SCALARS, extra_check=_ftrl_values)
def resource_sparse_apply_ftrl(xp, var, accum, linear, grad, indices, lr, l1, l2, lr_power,
                               use_locking=False, multiply_linear_by_lr=False):
    """ResourceApplyFtrl on the rows `indices`."""
    _ftrl_rows(xp, var, accum, linear, grad, indices, lr, l1, l2, lr_power,
               multiply_linear_by_lr, None)


@training_op("ResourceSparseApplyFtrlV2", sparse=True, complex_ok=False,
             scalar_messages=_FTRL_SCALARS, extra_check=_ftrl_values)
def resource_sparse_apply_ftrl_v2(xp, var, accum, linear, grad, indices, lr, l1, l2,
                                  l2_shrinkage, lr_power, use_locking=False,
                                  multiply_linear_by_lr=False):
    """ResourceApplyFtrlV2 on the rows `indices`."""
    _ftrl_rows(xp, var, accum, linear, grad, indices, lr, l1, l2, lr_power,
               multiply_linear_by_lr, l2_shrinkage)

