"""The op registry: the one list of primitive ops.

An op is defined once, in `ops/defs/*.py`: its TensorFlow name, its dtype rule, its `xp` kernel and
its gradient sit together::

    @primitive("Sqrt", dtypes=FLOAT_COMPLEX)
    def sqrt(xp, x):
        return xp.sqrt(x)

    @register_gradient("Sqrt")
    def _sqrt_grad(op, grad):
        ...

`tf.raw_ops` and the "every op has a gradient or is declared non-differentiable" test are built
from this registry.
"""
from __future__ import annotations

from featherflow._src.framework import dtypes as _dt
from featherflow._src.framework import errors

REGISTRY: dict[str, "OpDef"] = {}


class OpDef:
    """A primitive op: name, kernel, dtype rule and gradient.

    kernel(xp, *arrays, **attrs) gets backend arrays and returns a backend array (or a tuple/list
    of them when `num_outputs` is not 1).
    dtypes: the allowed dtypes of the first input (TF's attr `T`), None for any.
    out_dtype: "same" (the first input's dtype), a DType, or None (read off the result).
    same_dtype: how many leading inputs must share the first input's dtype (TF raises
    InvalidArgumentError when they do not): 0 for none, -1 for all.
    differentiable: False declares the op non-differentiable (no gradient, nothing recorded).
    check: optional extra validation, check(inputs, attrs), raising TF's error.
    """

    __slots__ = ("name", "kernel", "_dtypes", "same_dtype", "num_outputs", "_grad",
                 "differentiable", "check", "stateful", "doc", "mask", "out_dtype",
                 "quiet", "same_out", "check_free", "fast_mask", "vjp2", "operator")

    def __init__(self, name, kernel, dtypes=None, same_dtype=-1, num_outputs=1,
                 differentiable=True, check=None, stateful=False, out_dtype=None, quiet=True):
        self.name = name
        self.kernel = kernel
        self.same_dtype = same_dtype
        # The dtypes (as bits) for which `check` has nothing to say: all without a check, none
        # with one unless `checked_dtypes` declares them.
        self.check_free = -1 if check is None else 0
        self.dtypes = dtypes  # also sets `mask` and `fast_mask`
        self.num_outputs = num_outputs
        self._grad = None
        # For ops of two inputs and one output whose gradient is also available without an op
        # view: vjp2(x, y, z, grad, skip) -> (dx, dy), what `grad` computes (the reverse walk
        # calls it directly). Set by the gradient's registration, cleared by a new one.
        self.vjp2 = None
        # For kernels that are one Python operator on their two values (`x + y`): that operator
        # (operator.add, ...), which dispatch.binary calls without the kernel's frame.
        self.operator = None
        self.differentiable = differentiable
        self.check = check
        self.stateful = stateful
        self.doc = kernel.__doc__
        # "same": the output has the first input's dtype; a DType: always that dtype; None: read
        # it off the kernel's result. Tests check every op's output dtype against this.
        self.out_dtype = out_dtype
        # dispatch tests this bool, not `out_dtype == "same"` (DType.__eq__ is Python code).
        self.same_out = isinstance(out_dtype, str) and out_dtype == "same"
        # quiet: run the kernel under NumPy's "ignore" error state. Needed when a kernel calls
        # NumPy's Python-level functions (np.sum, np.mean, ...), whose warnings NumPy credits to
        # its own modules, out of reach of the warnings filter on featherflow's kernels (see
        # dispatch.py). Plain ufunc/operator kernels set quiet=False and skip the ~0.25 us.
        self.quiet = quiet

    @property
    def dtypes(self):
        return self._dtypes

    @dtypes.setter
    def dtypes(self, value):
        self._dtypes = None if value is None else frozenset(value)
        # A bit per allowed dtype: dispatch's fast path checks `mask & dtype._bit`.
        self.mask = -1 if value is None else sum(d._bit for d in self._dtypes)
        self._refresh_fast_mask()

    def _refresh_fast_mask(self):
        # The dtypes for which only "allowed, and all inputs share it" is left to check, which
        # dispatch's fast path inlines; 0 when same_dtype asks for a partial check.
        self.fast_mask = self.mask & self.check_free if self.same_dtype in (-1, 0) else 0

    @property
    def grad(self):
        """The gradient function, grad(op_view, *output_grads) -> input gradients."""
        return self._grad

    @grad.setter
    def grad(self, fn):
        # A new gradient function replaces the direct path that computed the old one.
        self._grad = fn
        self.vjp2 = None

    def validate(self, inputs, attrs):
        """TensorFlow's dtype rule for this op; raises InvalidArgumentError."""
        if inputs:
            d0 = inputs[0]._dtype
            if self.dtypes is not None and d0 not in self.dtypes:
                allowed = ", ".join(sorted(d.name for d in self.dtypes))
                raise errors.InvalidArgumentError(
                    None, None, f"Value for attr 'T' of {d0.name} is not in the list of allowed "
                    f"values: {allowed} [Op:{self.name}]")
            n = len(inputs) if self.same_dtype < 0 else min(self.same_dtype, len(inputs))
            for i in range(1, n):
                d = inputs[i]._dtype
                if d is not d0:
                    raise errors.InvalidArgumentError(
                        None, None, f"cannot compute {self.name} as input #{i}(zero-based) was "
                        f"expected to be a {d0.name} tensor but is a {d.name} tensor "
                        f"[Op:{self.name}]")
        if self.check is not None:
            self.check(inputs, attrs)

    def __repr__(self):
        return f"<OpDef {self.name}>"


def primitive(name, dtypes=None, same_dtype=-1, num_outputs=1, differentiable=True,
              check=None, stateful=False, out_dtype=None, quiet=True):
    """Registers the decorated `xp` kernel as primitive op `name`; returns its OpDef."""

    def wrap(kernel):
        if name in REGISTRY:
            raise ValueError(f"Op {name!r} is already registered.")
        op = OpDef(name, kernel, dtypes, same_dtype, num_outputs, differentiable, check, stateful,
                   out_dtype, quiet)
        REGISTRY[name] = op
        return op

    return wrap


def checked_dtypes(op, ok):
    """Declares that `op`'s check passes for every input whose first dtype is in `ok` (its
    leading inputs sharing that dtype): dispatch's fast path then skips validate() for them."""
    if op.same_dtype not in (-1, 0):
        raise ValueError(f"{op.name}: checked_dtypes needs same_dtype -1 or 0")
    op.check_free = sum(d._bit for d in ok)
    op._refresh_fast_mask()
    return op


def register_gradient(op_type):
    """Registers the decorated function as the gradient of `op_type`.

    grad_fn(op, *output_grads) -> input gradients. `op` has `.inputs`, `.outputs`, `.attrs`,
    `.name` (see autodiff/tape.py). Gradients are written with public ops so that they record on
    an outer tape (higher-order gradients).
    """

    def wrap(fn):
        get(op_type).grad = fn
        return fn

    return wrap


def not_differentiable(op_type):
    """Declares `op_type` as having no gradient (tf.no_gradient)."""
    get(op_type).differentiable = False


def get(name) -> OpDef:
    try:
        return REGISTRY[name]
    except KeyError:
        raise errors.NotFoundError(None, None, f"Op type not registered '{name}'") from None


# Common dtype groups for `dtypes=`.
FLOATS = _dt.FLOATS
FLOAT_COMPLEX = _dt.FLOAT_COMPLEX
NUMBERS = _dt.NUMBER_DTYPES
REAL = _dt.REAL_NUMBERS
INTS = _dt.INTS
SIGNED_INTS = (_dt.int8, _dt.int16, _dt.int32, _dt.int64)
INT_LIKE = INTS + (_dt.bool,)
INDEX = (_dt.int32, _dt.int64)
