/* featherflow._src.framework._ctensor: the eager tensor's storage and its hottest constructor.
 *
 * Optional (setup.py builds it where a C compiler exists; FEATHERFLOW_NATIVE=0 turns it off).
 * Without it, tensor.py defines the same fields as __slots__ with a Python __del__, and
 * dispatch.py runs its Python `binary`: that Python code is the specification of everything
 * here, and tests/framework/test_ctensor.py holds the two to the same results.
 *
 * - TensorBase: the base of EagerTensor. It stores the five fields every tensor has (_value,
 *   _dtype, _device, _shape, _nbytes) and returns the tensor's bytes to its device's counter
 *   when the tensor is freed (Python's __del__ runs a frame per tensor; this runs none). Tensors
 *   hold no references that could form a cycle (an array, a dtype, a device, a shape), so
 *   EagerTensors are not tracked by the cyclic garbage collector.
 * - make(value, dtype, device, nbytes): tensor.make.
 * - binary(op, x, y): dispatch.binary, the entry of the arithmetic operators and of the
 *   gradients of AddV2/Sub/Mul/...: the kernel call and the tensor construction with no Python
 *   frame around them. Whatever its fast path does not take goes to dispatch.execute, as in
 *   Python.
 *
 * Python state it reads (dispatch.py hands it over through `configure`): the thread-local
 * context, the global context, dispatch.execute, the error translation, the NumPy scalar size
 * table and the dtype table. No NumPy C API: NumPy arrays are read through their attributes.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *value;
    PyObject *dtype;
    PyObject *device;
    PyObject *shape;
    Py_ssize_t nbytes;
    PyObject *weakreflist;
} TensorObject;

static PyTypeObject TensorBaseType;

/* Set by configure(). */
static PyTypeObject *tensor_cls;      /* EagerTensor */
static PyObject *ndarray_type;        /* numpy.ndarray */
static PyObject *scalar_bytes;        /* dict: NumPy scalar type -> itemsize */
static PyObject *owned_bytes;         /* dispatch._owned_bytes(out) */
static PyObject *by_np;               /* dict: numpy dtype -> DType */
static PyObject *from_numpy;          /* dtypes.from_numpy(numpy dtype) */
static PyObject *thread_state;        /* context.THREAD */
static PyObject *global_state;        /* context.GLOBAL */
static PyObject *translate_fn;        /* dispatch._translate(exc, op) -> exception */
static PyObject *ff_errors;           /* exception classes raised as they are */
static PyObject *recorder;            /* tape._record(op, inputs, attrs, outputs) or None */
static PyObject *recorder2;           /* tape._record2(op, x, y, out, tapes) or None */
static PyObject *execute_py;          /* dispatch.execute_py: the Python execute */
static PyObject *binary_py;           /* dispatch.binary_py: the Python binary */
static PyObject *make_py;             /* tensor.make_py: the Python make */
static long long trainable_mask;      /* tape._TRAINABLE_MASK; 0: no recording in C */
static PyObject *errstate_var;        /* NumPy's floating-point error state (a ContextVar) */
static PyObject *errstate_ignore;     /* its value under np.errstate(all="ignore") */

/* Interned attribute names. */
static PyObject *s_plain, *s_device_spec, *s_tapes, *s_log_placement, *s_dtype, *s_base,
    *s_nbytes, *s_watched, *s_nodes;

/* A __slots__ field of OpDef, DType or Device (all slotted Python classes): read and written
 * at its offset in the object when the object's class is exactly the one configured, through
 * the generic attribute protocol otherwise. A slot is the only storage of its attribute (the
 * classes have no __dict__), so both ways reach the same value. */
typedef struct {
    const char *text;
    PyObject *name;
    PyTypeObject *cls;    /* NULL until configured: the generic path */
    Py_ssize_t offset;
} Field;

static Field f_fast_mask = {"fast_mask"}, f_same_dtype = {"same_dtype"}, f_quiet = {"quiet"},
    f_operator = {"operator"}, f_kernel = {"kernel"}, f_same_out = {"same_out"},
    f_out_dtype = {"out_dtype"}, f_differentiable = {"differentiable"}, f_bit = {"_bit"},
    f_num_outputs = {"num_outputs"},
    f_direct = {"direct"}, f_xp = {"xp"}, f_bytes_in_use = {"bytes_in_use"},
    f_peak_bytes = {"peak_bytes"};

static int field_configure(Field *f, PyObject *cls) {
    PyObject *d = PyObject_GetAttr(cls, f->name);
    if (d == NULL) return -1;
    Py_CLEAR(f->cls);
    if (Py_TYPE(d) == &PyMemberDescr_Type) {
        PyMemberDef *m = ((PyMemberDescrObject *)d)->d_member;
        if (m->type == T_OBJECT_EX && !(m->flags & READONLY)) {
            Py_INCREF(cls);  /* held, so the class (and its layout) outlives the offset */
            f->cls = (PyTypeObject *)cls;
            f->offset = m->offset;
        }
    }
    Py_DECREF(d);
    return 0;
}

/* A new reference to obj.<field>, or NULL with AttributeError (or another error). */
static inline PyObject *field_get(Field *f, PyObject *obj) {
    if (Py_TYPE(obj) == f->cls) {
        PyObject *v = *(PyObject **)((char *)obj + f->offset);
        if (v != NULL) {
            Py_INCREF(v);
            return v;
        }
    }
    return PyObject_GetAttr(obj, f->name);
}

/* obj.<field> = value (value borrowed). */
static inline int field_set(Field *f, PyObject *obj, PyObject *value) {
    if (Py_TYPE(obj) == f->cls) {
        Py_INCREF(value);
        Py_XSETREF(*(PyObject **)((char *)obj + f->offset), value);
        return 0;
    }
    return PyObject_SetAttr(obj, f->name, value);
}

#define Tensor_Check(o) PyObject_TypeCheck((o), &TensorBaseType)

/* -- the device byte counter ---------------------------------------------------------------- */

/* device.bytes_in_use += n; peak_bytes follows it up (Device.allocated). */
static int account(PyObject *device, Py_ssize_t n) {
    PyObject *used = field_get(&f_bytes_in_use, device);
    if (used == NULL) return -1;
    Py_ssize_t u = PyNumber_AsSsize_t(used, PyExc_OverflowError);
    Py_DECREF(used);
    if (u == -1 && PyErr_Occurred()) return -1;
    u += n;
    PyObject *now = PyLong_FromSsize_t(u);
    if (now == NULL) return -1;
    if (field_set(&f_bytes_in_use, device, now) < 0) {
        Py_DECREF(now);
        return -1;
    }
    if (n > 0) {
        PyObject *peak = field_get(&f_peak_bytes, device);
        if (peak == NULL) {
            Py_DECREF(now);
            return -1;
        }
        Py_ssize_t p = PyNumber_AsSsize_t(peak, PyExc_OverflowError);
        Py_DECREF(peak);
        if (p == -1 && PyErr_Occurred()) {
            Py_DECREF(now);
            return -1;
        }
        if (u > p && field_set(&f_peak_bytes, device, now) < 0) {
            Py_DECREF(now);
            return -1;
        }
    }
    Py_DECREF(now);
    return 0;
}

/* -- TensorBase ------------------------------------------------------------------------------ */

static void tensor_dealloc(PyObject *self) {
    TensorObject *t = (TensorObject *)self;
    /* Weak references first: once they are gone nothing can reach the dying tensor, so the
     * counter's update below may run Python code (a Device subclass's property) safely. */
    if (t->weakreflist != NULL) PyObject_ClearWeakRefs(self);
    if (t->nbytes && t->device != NULL) {
        /* What EagerTensor.__del__ does without the extension. A failure cannot propagate
         * from a deallocation: it is reported as unraisable, as Python reports __del__'s,
         * naming the device (the tensor itself has no references left to hand out). */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (account(t->device, -t->nbytes) < 0) PyErr_WriteUnraisable(t->device);
        PyErr_Restore(type, value, tb);
    }
    Py_CLEAR(t->value);
    Py_CLEAR(t->dtype);
    Py_CLEAR(t->device);
    Py_CLEAR(t->shape);
    Py_TYPE(self)->tp_free(self);
}

/* TensorBase.__new__(cls): an empty tensor (what object.__new__ gives the Python class). */
static PyObject *tensor_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *t = type->tp_alloc(type, 0);
    /* EagerTensor is a Python class, so its instances start tracked by the cyclic collector;
     * its fields cannot form a cycle, so they leave it (subclasses with fields of their own
     * stay tracked). */
    if (t != NULL && type == tensor_cls) PyObject_GC_UnTrack(t);
    return t;
}

static PyMemberDef tensor_members[] = {
    {"_value", T_OBJECT_EX, offsetof(TensorObject, value), 0, NULL},
    {"_dtype", T_OBJECT_EX, offsetof(TensorObject, dtype), 0, NULL},
    {"_device", T_OBJECT_EX, offsetof(TensorObject, device), 0, NULL},
    {"_shape", T_OBJECT_EX, offsetof(TensorObject, shape), 0, NULL},
    {NULL}
};

/* _nbytes: a C integer, set from anything with __index__ (a NumPy integer too). */
static PyObject *get_nbytes(PyObject *self, void *closure) {
    return PyLong_FromSsize_t(((TensorObject *)self)->nbytes);
}

static int set_nbytes(PyObject *self, PyObject *value, void *closure) {
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_nbytes cannot be deleted");
        return -1;
    }
    Py_ssize_t n = PyNumber_AsSsize_t(value, PyExc_OverflowError);
    if (n == -1 && PyErr_Occurred()) return -1;
    ((TensorObject *)self)->nbytes = n;
    return 0;
}

static PyGetSetDef tensor_getset[] = {
    {"_nbytes", get_nbytes, set_nbytes, NULL, NULL},
    {NULL}
};

static PyTypeObject TensorBaseType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "featherflow._src.framework._ctensor.TensorBase",
    .tp_basicsize = sizeof(TensorObject),
    .tp_dealloc = tensor_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "The storage of an eager tensor (see featherflow/_src/framework/_ctensor.c).",
    .tp_weaklistoffset = offsetof(TensorObject, weakreflist),
    .tp_members = tensor_members,
    .tp_getset = tensor_getset,
    .tp_new = tensor_new,
};

/* A new EagerTensor owning `value`; takes a reference to each argument. */
static PyObject *new_tensor(PyObject *value, PyObject *dtype, PyObject *device, PyObject *shape,
                            Py_ssize_t nbytes) {
    TensorObject *t = (TensorObject *)tensor_cls->tp_alloc(tensor_cls, 0);
    if (t == NULL) return NULL;
    PyObject_GC_UnTrack(t);  /* see tensor_new */
    Py_INCREF(value);
    t->value = value;
    Py_INCREF(dtype);
    t->dtype = dtype;
    Py_INCREF(device);
    t->device = device;
    Py_INCREF(shape);
    t->shape = shape;
    if (nbytes) {
        if (account(device, nbytes) < 0) {
            Py_DECREF(t);  /* nbytes is still 0: the counter is left as it was */
            return NULL;
        }
        t->nbytes = nbytes;
    }
    return (PyObject *)t;
}

/* -- module functions ------------------------------------------------------------------------ */

static int need_config(void) {
    if (tensor_cls == NULL || execute_py == NULL || binary_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "featherflow._ctensor is not configured");
        return -1;
    }
    return 0;
}

static PyObject *make(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                      PyObject *kwnames) {
    if (tensor_cls == NULL || make_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "featherflow._ctensor has no tensor class");
        return NULL;
    }
    if (kwnames != NULL || nargs < 3 || nargs > 4)  /* the Python make: keywords, errors */
        return PyObject_Vectorcall(make_py, args, nargs, kwnames);
    Py_ssize_t nbytes = 0;
    if (nargs == 4) {
        nbytes = PyNumber_AsSsize_t(args[3], PyExc_OverflowError);
        if (nbytes == -1 && PyErr_Occurred()) return NULL;
    }
    return new_tensor(args[0], args[1], args[2], Py_None, nbytes);
}

static inline int truth(PyObject *v) {
    if (v == NULL) return -1;
    int r = v == Py_True ? 1 : v == Py_False || v == Py_None ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* An attribute's truth value: 1, 0, or -1 with an exception. */
static int attr_true(PyObject *obj, PyObject *name) {
    return truth(PyObject_GetAttr(obj, name));
}

static int field_true(Field *f, PyObject *obj) {
    return truth(field_get(f, obj));
}

static long long field_bits(Field *f, PyObject *obj) {
    PyObject *v = field_get(f, obj);
    if (v == NULL) return -1;
    long long r = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return r;
}

/* The kernel failed: raise it as it is (TF's errors), or dispatch._translate's error from it. */
/* `exc` (a reference, stolen) as the __context__ of the exception now set: what Python gives
 * an exception raised while `exc` is being handled. */
static void chain_context(PyObject *exc) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value != NULL && value != exc) PyException_SetContext(value, exc);
    else Py_DECREF(exc);
    PyErr_Restore(type, value, tb);
}

/* The kernel failed: raise it as it is (TF's errors, and BaseExceptions that are not
 * Exceptions: KeyboardInterrupt, SystemExit), or raise dispatch._translate's error from it, as
 * the Python `except Exception as e: raise _translate(e, op) from e` does. */
static PyObject *kernel_failed(PyObject *op) {
    if (PyErr_ExceptionMatches(ff_errors) || !PyErr_ExceptionMatches(PyExc_Exception))
        return NULL;
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (tb != NULL) {
        PyException_SetTraceback(exc, tb);
        Py_DECREF(tb);
    }
    Py_DECREF(type);
    PyObject *translated = PyObject_CallFunctionObjArgs(translate_fn, exc, op, NULL);
    if (translated == NULL) {
        chain_context(exc);
        return NULL;
    }
    /* raise translated from exc: its cause and its context are exc. PyErr_SetObject sets the
     * context to the exception the caller may be handling, so it is set again after. */
    Py_INCREF(exc);
    PyException_SetCause(translated, exc);
    PyErr_SetObject((PyObject *)Py_TYPE(translated), translated);
    Py_DECREF(translated);
    chain_context(exc);
    return NULL;
}

/* The output dtype: the first input's, the op's fixed one, or read off the result. */
static PyObject *out_dtype(PyObject *op, PyObject *d0, PyObject *out) {
    int same = field_true(&f_same_out, op);
    if (same < 0) return NULL;
    if (same) {
        Py_INCREF(d0);
        return d0;
    }
    PyObject *fixed = field_get(&f_out_dtype, op);
    if (fixed == NULL) return NULL;
    int truth = fixed == Py_None ? 0 : PyObject_IsTrue(fixed);
    if (truth) return truth < 0 ? (Py_DECREF(fixed), NULL) : fixed;
    Py_DECREF(fixed);
    PyObject *npdt = PyObject_GetAttr(out, s_dtype);
    if (npdt == NULL) return NULL;
    PyObject *dt = PyDict_GetItemWithError(by_np, npdt);  /* borrowed */
    if (dt != NULL && PyObject_IsTrue(dt) == 1) {
        Py_INCREF(dt);
    } else if (PyErr_Occurred()) {
        dt = NULL;
    } else {
        dt = PyObject_CallOneArg(from_numpy, npdt);
    }
    Py_DECREF(npdt);
    return dt;
}

/* The bytes a kernel result owns (dispatch's rule): an array its nbytes unless it is a view, a
 * NumPy scalar its itemsize (from a table), anything else what dispatch._owned_bytes says. */
static Py_ssize_t owned(PyObject *out) {
    if ((PyObject *)Py_TYPE(out) == ndarray_type) {
        PyObject *base = PyObject_GetAttr(out, s_base);
        if (base == NULL) return -1;
        int view = base != Py_None;
        Py_DECREF(base);
        if (view) return 0;
        PyObject *n = PyObject_GetAttr(out, s_nbytes);
        if (n == NULL) return -1;
        Py_ssize_t r = PyNumber_AsSsize_t(n, PyExc_OverflowError);
        Py_DECREF(n);
        return r;
    }
    PyObject *n = PyDict_GetItemWithError(scalar_bytes, (PyObject *)Py_TYPE(out));  /* borrowed */
    if (n != NULL) return PyNumber_AsSsize_t(n, PyExc_OverflowError);
    if (PyErr_Occurred()) return -1;
    n = PyObject_CallOneArg(owned_bytes, out);
    if (n == NULL) return -1;
    Py_ssize_t r = PyNumber_AsSsize_t(n, PyExc_OverflowError);
    Py_DECREF(n);
    return r;
}

static PyObject *slow(PyObject *op, PyObject *x, PyObject *y) {
    PyObject *inputs = PyTuple_Pack(2, x, y);
    if (inputs == NULL) return NULL;
    PyObject *r = PyObject_CallFunctionObjArgs(execute_py, op, inputs, NULL);
    Py_DECREF(inputs);
    return r;
}

/* Records `out` of `op` on the one active tape, as tape._record/_record2 do for one tape:
 * kept when an input is watched and the output's dtype is trainable; then the output is
 * watched too. `inputs` is a tuple, or NULL for (x, y). Returns 1 when done, 0 when the tape
 * is not the usual kind (the Python recorder then runs), -1 on error.
 * NOTE: the one-tape branch of tape._record, in C: keep the two in step. */
static int record_one(PyObject *tape, PyObject *op, PyObject *inputs, PyObject *x, PyObject *y,
                      PyObject *attrs, PyObject *out) {
    PyObject *w = PyObject_GetAttr(tape, s_watched);
    if (w == NULL) return -1;
    if (!PyDict_CheckExact(w)) {
        Py_DECREF(w);
        return 0;
    }
    Py_ssize_t n = inputs != NULL ? PyTuple_GET_SIZE(inputs) : 2;
    int hit = 0;
    for (Py_ssize_t i = 0; i < n && !hit; i++) {
        PyObject *t = inputs != NULL ? PyTuple_GET_ITEM(inputs, i) : i ? y : x;
        PyObject *key = PyLong_FromVoidPtr(t);
        if (key == NULL) {
            Py_DECREF(w);
            return -1;
        }
        hit = PyDict_Contains(w, key);
        Py_DECREF(key);
        if (hit < 0) {
            Py_DECREF(w);
            return -1;
        }
    }
    long long bit = hit ? field_bits(&f_bit, ((TensorObject *)out)->dtype) : 0;
    if (bit == -1 && PyErr_Occurred()) {
        Py_DECREF(w);
        return -1;
    }
    if (!(bit & trainable_mask)) {
        Py_DECREF(w);
        return 1;
    }
    PyObject *nodes = PyObject_GetAttr(tape, s_nodes);
    if (nodes == NULL) {
        Py_DECREF(w);
        return -1;
    }
    int rc = -1;
    PyObject *ins = inputs != NULL ? (Py_INCREF(inputs), inputs) : PyTuple_Pack(2, x, y);
    PyObject *outs = PyTuple_Pack(1, out);
    PyObject *node = ins && outs ? PyTuple_Pack(4, op, ins, attrs, outs) : NULL;
    PyObject *key = node ? PyLong_FromVoidPtr(out) : NULL;
    if (key != NULL && PyList_Append(nodes, node) == 0 && PyDict_SetItem(w, key, out) == 0)
        rc = 1;
    Py_XDECREF(key);
    Py_XDECREF(node);
    Py_XDECREF(outs);
    Py_XDECREF(ins);
    Py_DECREF(nodes);
    Py_DECREF(w);
    return rc;
}

/* Records a differentiable op's output on the active tapes: in C for one tape, through the
 * Python recorder otherwise. Returns 0, or -1 on error. */
static int record(PyObject *op, PyObject *inputs, PyObject *x, PyObject *y, PyObject *attrs,
                  PyObject *out) {
    PyObject *fn = inputs != NULL ? recorder : recorder2;
    if (fn == NULL || fn == Py_None) return 0;
    PyObject *tapes = PyObject_GetAttr(thread_state, s_tapes);
    if (tapes == NULL) return -1;
    int done = 0;
    if (trainable_mask && PyTuple_CheckExact(tapes) && PyTuple_GET_SIZE(tapes) == 1)
        done = record_one(PyTuple_GET_ITEM(tapes, 0), op, inputs, x, y, attrs, out);
    if (done == 0) {
        PyObject *r;
        if (inputs != NULL) {
            PyObject *outs = PyTuple_Pack(1, out);
            if (outs == NULL) {
                Py_DECREF(tapes);
                return -1;
            }
            PyObject *args[4] = {op, inputs, attrs, outs};
            r = PyObject_Vectorcall(fn, args, 4, NULL);
            Py_DECREF(outs);
        } else {
            PyObject *args[5] = {op, x, y, out, tapes};
            r = PyObject_Vectorcall(fn, args, 5, NULL);
        }
        done = r == NULL ? -1 : 1;
        Py_XDECREF(r);
    }
    Py_DECREF(tapes);
    return done < 0 ? -1 : 0;
}

/* Whether an op on `dev` can take the fast path in this thread now: no device scope, no
 * placement log, a directly-usable device. 1 yes (`*plain`: no tape either), 0 no, -1 error. */
static int fast_context(PyObject *dev, int *plain) {
    *plain = attr_true(thread_state, s_plain);
    if (*plain < 0) return -1;
    if (!*plain) {
        PyObject *spec = PyObject_GetAttr(thread_state, s_device_spec);
        if (spec == NULL) return -1;
        Py_DECREF(spec);
        if (spec != Py_None) return 0;
    }
    int r = attr_true(global_state, s_log_placement);
    if (r != 0) return r < 0 ? -1 : 0;
    return field_true(&f_direct, dev);
}

/* Whether the inputs' dtypes need no validation: the first is one the op runs unchecked, and
 * the others match it or the op lets them differ (`mixed`: some input's dtype differs). */
static int fast_dtypes(PyObject *op, PyObject *d0, int mixed) {
    long long mask = field_bits(&f_fast_mask, op);
    if (mask == -1 && PyErr_Occurred()) return -1;
    long long bit = field_bits(&f_bit, d0);
    if (bit == -1 && PyErr_Occurred()) return -1;
    if (!(mask & bit)) return 0;
    if (!mixed) return 1;
    int r = field_true(&f_same_dtype, op);
    return r < 0 ? -1 : !r;
}

/* The tensor of a kernel's result `out` (a new reference, stolen; NULL: the kernel failed),
 * recorded on the active tapes when not `plain`: the end of both fast paths. */
static PyObject *finish(PyObject *op, PyObject *d0, PyObject *dev, PyObject *out, int plain,
                        PyObject *inputs, PyObject *x, PyObject *y, PyObject *attrs) {
    if (out == NULL) return kernel_failed(op);
    PyObject *dtype = out_dtype(op, d0, out);
    Py_ssize_t n = dtype == NULL ? -1 : owned(out);
    if (n == -1 && PyErr_Occurred()) {
        Py_XDECREF(dtype);
        Py_DECREF(out);
        return NULL;
    }
    PyObject *t = new_tensor(out, dtype, dev, Py_None, n);
    Py_DECREF(dtype);
    Py_DECREF(out);
    if (t == NULL || plain) return t;
    int r = field_true(&f_differentiable, op);
    if (r > 0) r = record(op, inputs, x, y, attrs, t);
    if (r < 0) Py_CLEAR(t);
    return t;
}

/* dispatch.binary: see its Python definition, which this follows line by line. */
static PyObject *binary(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                        PyObject *kwnames) {
    if (need_config() < 0) return NULL;
    if (nargs != 3 || kwnames != NULL || (PyTypeObject *)Py_TYPE(args[0]) != f_kernel.cls)
        /* keywords, a wrong count, an OpDef subclass or not an OpDef: the Python binary */
        return PyObject_Vectorcall(binary_py, args, nargs, kwnames);
    PyObject *op = args[0], *x = args[1], *y = args[2];
    if (!Tensor_Check(x) || !Tensor_Check(y)) return slow(op, x, y);
    TensorObject *tx = (TensorObject *)x, *ty = (TensorObject *)y;
    /* References of our own: a kernel may rebind the inputs' fields while it runs. */
    PyObject *dev = tx->device, *d0 = tx->dtype, *xv = tx->value, *yv = ty->value;
    if (dev == NULL || d0 == NULL || xv == NULL || yv == NULL) return slow(op, x, y);
    Py_INCREF(dev);
    Py_INCREF(d0);
    Py_INCREF(xv);
    Py_INCREF(yv);
    PyObject *result = NULL;
    int plain;
    int r = ty->device != dev ? 0 : fast_context(dev, &plain);
    if (r > 0) r = fast_dtypes(op, d0, ty->dtype != d0);
    if (r > 0) {
        r = field_true(&f_quiet, op);
        r = r < 0 ? -1 : !r;
    }
    if (r <= 0) {
        if (r == 0) result = slow(op, x, y);
        goto done;
    }
    PyObject *fn = field_get(&f_operator, op);
    if (fn == NULL) goto done;
    PyObject *out;
    if (fn != Py_None) {
        PyObject *call_args[2] = {xv, yv};
        out = PyObject_Vectorcall(fn, call_args, 2, NULL);
    } else {
        PyObject *kernel = field_get(&f_kernel, op);
        PyObject *xp = kernel == NULL ? NULL : field_get(&f_xp, dev);
        if (xp == NULL) {
            Py_XDECREF(kernel);
            Py_DECREF(fn);
            goto done;
        }
        PyObject *call_args[3] = {xp, xv, yv};
        out = PyObject_Vectorcall(kernel, call_args, 3, NULL);
        Py_DECREF(xp);
        Py_DECREF(kernel);
    }
    Py_DECREF(fn);
    result = finish(op, d0, dev, out, plain, NULL, x, y, Py_None);
done:
    Py_DECREF(yv);
    Py_DECREF(xv);
    Py_DECREF(d0);
    Py_DECREF(dev);
    return result;
}

/* dispatch.execute, for what its fast path takes with one output: see execute_py, which this
 * follows. Anything else (an op name, a device scope, mixed devices, a dtype the op must
 * validate, several outputs, a non-dict attrs) is execute_py's. */
static PyObject *execute(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                         PyObject *kwnames) {
    if (need_config() < 0) return NULL;
    PyObject *op = nargs > 0 ? args[0] : NULL, *inputs = nargs > 1 ? args[1] : NULL;
    PyObject *attrs = nargs > 2 ? args[2] : Py_None;
    if (kwnames != NULL || nargs < 2 || nargs > 3 || (PyTypeObject *)Py_TYPE(op) != f_kernel.cls ||
        !PyTuple_CheckExact(inputs) || PyTuple_GET_SIZE(inputs) == 0 ||
        !(attrs == Py_None || PyDict_CheckExact(attrs)))
        return PyObject_Vectorcall(execute_py, args, nargs, kwnames);
    Py_ssize_t n = PyTuple_GET_SIZE(inputs);
    PyObject *x = PyTuple_GET_ITEM(inputs, 0);
    if (!Tensor_Check(x) || ((TensorObject *)x)->device == NULL ||
        ((TensorObject *)x)->dtype == NULL)
        return PyObject_Vectorcall(execute_py, args, nargs, NULL);
    /* References of our own: a kernel may rebind the inputs' fields while it runs (the values
     * passed to it are held by a tuple of our own, below). */
    PyObject *dev = ((TensorObject *)x)->device, *d0 = ((TensorObject *)x)->dtype;
    Py_INCREF(dev);
    Py_INCREF(d0);
    PyObject *result = NULL, *values = NULL, *kernel = NULL, *xp = NULL, *token = NULL;
    int plain, mixed = 0;
    int r = fast_context(dev, &plain);
    for (Py_ssize_t i = 0; r > 0 && i < n; i++) {
        PyObject *t = PyTuple_GET_ITEM(inputs, i);
        if (!Tensor_Check(t) || ((TensorObject *)t)->device != dev ||
            ((TensorObject *)t)->value == NULL)
            r = 0;
        else if (((TensorObject *)t)->dtype != d0)
            mixed = 1;
    }
    if (r > 0) r = fast_dtypes(op, d0, mixed);
    if (r > 0) {
        PyObject *num = field_get(&f_num_outputs, op);
        if (num == NULL) {
            r = -1;
        } else {
            long one = PyLong_Check(num) ? PyLong_AsLong(num) : 0;
            Py_DECREF(num);
            r = one == -1 && PyErr_Occurred() ? -1 : one == 1;
        }
    }
    if (r <= 0) {
        if (r == 0) result = PyObject_Vectorcall(execute_py, args, nargs, NULL);
        goto done;
    }
    int quiet = field_true(&f_quiet, op);
    if (quiet < 0) goto done;
    kernel = field_get(&f_kernel, op);
    xp = kernel == NULL ? NULL : field_get(&f_xp, dev);
    values = xp == NULL ? NULL : PyTuple_New(n + 1);
    if (values == NULL) goto done;
    Py_INCREF(xp);
    PyTuple_SET_ITEM(values, 0, xp);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *v = ((TensorObject *)PyTuple_GET_ITEM(inputs, i))->value;
        Py_INCREF(v);
        PyTuple_SET_ITEM(values, i + 1, v);
    }
    if (quiet && errstate_var != Py_None) {
        /* _run_quiet: the kernel runs under NumPy's "ignore" error state */
        token = PyContextVar_Set(errstate_var, errstate_ignore);
        if (token == NULL) goto done;
    }
    PyObject **stack = &PyTuple_GET_ITEM(values, 0);
    PyObject *out = attrs != Py_None && PyDict_GET_SIZE(attrs)
        ? PyObject_VectorcallDict(kernel, stack, n + 1, attrs)
        : PyObject_Vectorcall(kernel, stack, n + 1, NULL);
    if (token != NULL) {
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        int failed = PyContextVar_Reset(errstate_var, token);
        if (failed < 0) {
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
            Py_XDECREF(out);
            goto done;
        }
        PyErr_Restore(type, value, tb);
    }
    result = finish(op, d0, dev, out, plain, inputs, NULL, NULL, attrs);
done:
    Py_XDECREF(token);
    Py_XDECREF(values);
    Py_XDECREF(xp);
    Py_XDECREF(kernel);
    Py_DECREF(d0);
    Py_DECREF(dev);
    return result;
}

static PyObject *configure_class(PyObject *module, PyObject *args) {
    PyObject *cls, *py_make;
    if (!PyArg_ParseTuple(args, "OO:configure_class", &cls, &py_make)) return NULL;
    /* Instances are untracked from the cyclic collector when made: the class must be a
     * Python subclass (tracked) that adds no fields (nothing that could form a cycle). */
    if (!PyType_Check(cls) || !PyType_IsSubtype((PyTypeObject *)cls, &TensorBaseType) ||
        !PyType_HasFeature((PyTypeObject *)cls, Py_TPFLAGS_HAVE_GC) ||
        ((PyTypeObject *)cls)->tp_basicsize != TensorBaseType.tp_basicsize ||
        ((PyTypeObject *)cls)->tp_dictoffset != 0) {
        PyErr_SetString(PyExc_TypeError, "configure_class: the tensor class must be a Python "
                        "subclass of TensorBase with no fields of its own (__slots__ = ())");
        return NULL;
    }
    Py_INCREF(cls);
    Py_XSETREF(tensor_cls, (PyTypeObject *)cls);
    Py_INCREF(py_make);
    Py_XSETREF(make_py, py_make);
    Py_RETURN_NONE;
}

static PyObject *configure(PyObject *module, PyObject *args) {
    PyObject *nd, *sb, *ob, *bn, *fn, *th, *gl, *ex, *bi, *tr, *errs, *opdef, *dtype, *device,
        *ev, *ei;
    if (!PyArg_ParseTuple(args, "OO!OO!OOOOOOOO!O!O!OO:configure", &nd, &PyDict_Type, &sb, &ob,
                          &PyDict_Type, &bn, &fn, &th, &gl, &ex, &bi, &tr, &errs, &PyType_Type,
                          &opdef, &PyType_Type, &dtype, &PyType_Type, &device, &ev, &ei))
        return NULL;
    if (ev != Py_None && !PyContextVar_CheckExact(ev)) {
        PyErr_SetString(PyExc_TypeError, "configure: the error state must be a ContextVar");
        return NULL;
    }
    Field *op_fields[] = {&f_fast_mask, &f_same_dtype, &f_quiet, &f_operator, &f_kernel,
                          &f_same_out, &f_out_dtype, &f_differentiable, &f_num_outputs};
    for (size_t i = 0; i < sizeof(op_fields) / sizeof(op_fields[0]); i++)
        if (field_configure(op_fields[i], opdef) < 0) return NULL;
    Field *dev_fields[] = {&f_direct, &f_xp, &f_bytes_in_use, &f_peak_bytes};
    for (size_t i = 0; i < sizeof(dev_fields) / sizeof(dev_fields[0]); i++)
        if (field_configure(dev_fields[i], device) < 0) return NULL;
    if (field_configure(&f_bit, dtype) < 0) return NULL;
    PyObject **slots[] = {&ndarray_type, &scalar_bytes, &owned_bytes, &by_np, &from_numpy,
                          &thread_state, &global_state, &execute_py, &binary_py, &translate_fn,
                          &ff_errors, &errstate_var, &errstate_ignore};
    PyObject *values[] = {nd, sb, ob, bn, fn, th, gl, ex, bi, tr, errs, ev, ei};
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        Py_INCREF(values[i]);
        Py_XSETREF(*slots[i], values[i]);
    }
    Py_RETURN_NONE;
}

static PyObject *set_recorder(PyObject *module, PyObject *args) {
    PyObject *fn, *fn2;
    long long mask = 0;
    if (!PyArg_ParseTuple(args, "OO|L:set_recorder", &fn, &fn2, &mask)) return NULL;
    trainable_mask = mask;
    Py_INCREF(fn);
    Py_XSETREF(recorder, fn);
    Py_INCREF(fn2);
    Py_XSETREF(recorder2, fn2);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"configure_class", configure_class, METH_VARARGS,
     "configure_class(EagerTensor, make): the class make() and binary() build, and the Python "
     "make (for calls with keywords)."},
    {"configure", configure, METH_VARARGS,
     "configure(ndarray, scalar_bytes, owned_bytes, by_np, from_numpy, THREAD, GLOBAL, "
     "execute_py, binary_py, translate, errors, OpDef, DType, Device, errstate_var, "
     "errstate_ignore): hands over the Python state execute() and binary() read."},
    {"set_recorder", set_recorder, METH_VARARGS,
     "set_recorder(record, record2, trainable_mask=0): record(op, inputs, attrs, outputs) and "
     "record2(op, x, y, out, tapes), called for differentiable ops under a tape; with a mask "
     "(tape._TRAINABLE_MASK), the one-tape case of record is done in C."},
    {"execute", (PyCFunction)(void (*)(void))execute, METH_FASTCALL | METH_KEYWORDS,
     "execute(op, inputs=(), attrs=None): dispatch.execute."},
    {"make", (PyCFunction)(void (*)(void))make, METH_FASTCALL | METH_KEYWORDS,
     "make(value, dtype, device, nbytes=0): an EagerTensor; nbytes are added to the device's "
     "counter."},
    {"binary", (PyCFunction)(void (*)(void))binary, METH_FASTCALL | METH_KEYWORDS,
     "binary(op, x, y): dispatch.binary."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_ctensor", "The eager tensor's storage and constructor.", -1,
    methods
};

#define INTERN(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL

PyMODINIT_FUNC PyInit__ctensor(void) {
    INTERN(s_plain, "plain");
    INTERN(s_device_spec, "device_spec");
    INTERN(s_tapes, "tapes");
    INTERN(s_watched, "_watched");
    INTERN(s_nodes, "_nodes");
    INTERN(s_log_placement, "log_placement");
    INTERN(s_dtype, "dtype");
    INTERN(s_base, "base");
    INTERN(s_nbytes, "nbytes");
    Field *fields[] = {&f_fast_mask, &f_same_dtype, &f_quiet, &f_operator, &f_kernel,
                       &f_same_out, &f_out_dtype, &f_differentiable, &f_num_outputs, &f_bit,
                       &f_direct, &f_xp,
                       &f_bytes_in_use, &f_peak_bytes};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        INTERN(fields[i]->name, fields[i]->text);
    if (PyType_Ready(&TensorBaseType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module_def);
    if (m == NULL) return NULL;
    Py_INCREF(&TensorBaseType);
    if (PyModule_AddObject(m, "TensorBase", (PyObject *)&TensorBaseType) < 0) {
        Py_DECREF(&TensorBaseType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
