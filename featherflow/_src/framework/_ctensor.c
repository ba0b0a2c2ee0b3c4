/* featherflow._src.framework._ctensor: the eager tensor's storage and dispatch's fast path.
 *
 * Optional (setup.py builds it where a C compiler exists; FEATHERFLOW_NATIVE=0 turns it off).
 * Without it, tensor.py defines the same fields as __slots__ with a Python __del__, and
 * dispatch.py runs its Python `execute` and `binary`: that Python code is the specification of
 * everything here, and tests/framework/test_ctensor.py holds the two to the same results.
 *
 * This file: the storage, make, the configuration and the module.
 * - TensorBase: the base of EagerTensor. It stores the five fields every tensor has (_value,
 *   _dtype, _device, _shape, _nbytes) and returns the tensor's bytes to its device's counter
 *   when the tensor is freed (Python's __del__ runs a frame per tensor; this runs none). Tensors
 *   hold no references that could form a cycle (an array, a dtype, a device, a shape), so
 *   EagerTensors are not tracked by the cyclic garbage collector.
 * - make(value, dtype, device, nbytes): tensor.make.
 * _ctensor_dispatch.c: execute(op, inputs, attrs) and binary(op, x, y), dispatch's fast paths
 * (the kernel call and the tensor construction with no Python frame around them), and
 * recording on one tape. Whatever the fast paths do not take goes to the Python functions.
 *
 * Python state they read (dispatch.py and tape.py hand it over through `configure` and
 * `set_recorder`): the thread-local and global contexts, the Python dispatch functions, the
 * error translation, the NumPy scalar size table and the dtype table, and the slot offsets of
 * OpDef, DType and Device. No NumPy C API: NumPy arrays are read through their attributes.
 */
#include "_ctensor.h"

/* Set by configure(). */
PyTypeObject *tensor_cls;      /* EagerTensor */
PyObject *ndarray_type;        /* numpy.ndarray */
PyObject *scalar_bytes;        /* dict: NumPy scalar type -> itemsize */
PyObject *owned_bytes;         /* dispatch._owned_bytes(out) */
PyObject *by_np;               /* dict: numpy dtype -> DType */
PyObject *from_numpy;          /* dtypes.from_numpy(numpy dtype) */
PyObject *thread_state;        /* context.THREAD */
PyObject *global_state;        /* context.GLOBAL */
PyObject *translate_fn;        /* dispatch._translate(exc, op) -> exception */
PyObject *ff_errors;           /* exception classes raised as they are */
PyObject *recorder;            /* tape._record(op, inputs, attrs, outputs) or None */
PyObject *recorder2;           /* tape._record2(op, x, y, out, tapes) or None */
PyObject *execute_py;          /* dispatch.execute_py: the Python execute */
PyObject *binary_py;           /* dispatch.binary_py: the Python binary */
PyObject *make_py;             /* tensor.make_py: the Python make */
PyObject *wrap_many;           /* dispatch._wrap_many(outs, device) */
long long trainable_mask;      /* tape._TRAINABLE_MASK; 0: no recording in C */
PyObject *errstate_var;        /* NumPy's floating-point error state (a ContextVar) */
PyObject *errstate_ignore;     /* its value under np.errstate(all="ignore") */

/* Interned attribute names. */
PyObject *s_plain, *s_device_spec, *s_tapes, *s_log_placement, *s_dtype, *s_base,
    *s_nbytes, *s_watched, *s_nodes;


Field f_fast_mask = {"fast_mask"}, f_same_dtype = {"same_dtype"}, f_quiet = {"quiet"},
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

/* -- the device byte counter ---------------------------------------------------------------- */

/* device.bytes_in_use += n; peak_bytes follows it up (Device.allocated). */
int ct_account(PyObject *device, Py_ssize_t n) {
    /* Python's own arithmetic and comparison on the counters, as Device.allocated and
     * EagerTensor.__del__ do (the same results and errors for whatever they hold). */
    PyObject *used = field_get(&f_bytes_in_use, device);
    if (used == NULL) return -1;
    PyObject *delta = PyLong_FromSsize_t(n < 0 ? -n : n);
    PyObject *now = delta == NULL ? NULL : n < 0 ? PyNumber_InPlaceSubtract(used, delta)
                                                 : PyNumber_InPlaceAdd(used, delta);
    Py_XDECREF(delta);
    Py_DECREF(used);
    if (now == NULL) return -1;
    int rc = field_set(&f_bytes_in_use, device, now);
    if (rc == 0 && n > 0) {
        PyObject *peak = field_get(&f_peak_bytes, device);
        int higher = peak == NULL ? -1 : PyObject_RichCompareBool(now, peak, Py_GT);
        Py_XDECREF(peak);
        rc = higher < 0 ? -1 : higher ? field_set(&f_peak_bytes, device, now) : 0;
    }
    Py_DECREF(now);
    return rc;
}

/* -- TensorBase ------------------------------------------------------------------------------ */

static void tensor_dealloc(PyObject *self) {
    TensorObject *t = (TensorObject *)self;
    if (t->nbytes && t->device != NULL) {
        /* What EagerTensor.__del__ does without the extension, at the same moment: before
         * the weak references' callbacks run (they see the bytes returned). Python code may
         * run here (a Device subclass's property); a weak reference to the dying tensor gives
         * None already (its count is 0), so nothing can reach it. A failure cannot propagate
         * from a deallocation: it is reported as unraisable, as Python reports __del__'s,
         * naming the device (the tensor itself has no references left to hand out). */
        PyObject *type, *value, *tb;
        PyErr_Fetch(&type, &value, &tb);
        if (ct_account(t->device, -t->nbytes) < 0) PyErr_WriteUnraisable(t->device);
        PyErr_Restore(type, value, tb);
    }
    if (t->weakreflist != NULL) PyObject_ClearWeakRefs(self);
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

/* __weakref__: the first weak reference, or None (what Python gives a class with the slot). */
static PyObject *get_weakref(PyObject *self, void *closure) {
    PyObject *w = ((TensorObject *)self)->weakreflist;
    w = w != NULL ? w : Py_None;
    Py_INCREF(w);
    return w;
}

static PyGetSetDef tensor_getset[] = {
    {"_nbytes", get_nbytes, set_nbytes, NULL, NULL},
    {"__weakref__", get_weakref, NULL, NULL, NULL},
    {NULL}
};

PyTypeObject TensorBaseType = {
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
PyObject *ct_new_tensor(PyObject *value, PyObject *dtype, PyObject *device, PyObject *shape,
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
    /* Set before the counter's update, as tensor.make does: if the update fails partway,
     * freeing the tensor takes back what was added. */
    t->nbytes = nbytes;
    if (nbytes && ct_account(device, nbytes) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    return (PyObject *)t;
}

/* -- module functions ------------------------------------------------------------------------ */

int ct_need_config(void) {
    if (tensor_cls == NULL || execute_py == NULL || binary_py == NULL || wrap_many == NULL) {
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
    return ct_new_tensor(args[0], args[1], args[2], Py_None, nbytes);
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
        *ev, *ei, *wm;
    if (!PyArg_ParseTuple(args, "OO!OO!OOOOOOOO!O!O!OOO:configure", &nd, &PyDict_Type, &sb, &ob,
                          &PyDict_Type, &bn, &fn, &th, &gl, &ex, &bi, &tr, &errs, &PyType_Type,
                          &opdef, &PyType_Type, &dtype, &PyType_Type, &device, &ev, &ei, &wm))
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
                          &ff_errors, &errstate_var, &errstate_ignore, &wrap_many};
    PyObject *values[] = {nd, sb, ob, bn, fn, th, gl, ex, bi, tr, errs, ev, ei, wm};
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
     "errstate_ignore, wrap_many): hands over the Python state execute() and binary() read."},
    {"set_recorder", set_recorder, METH_VARARGS,
     "set_recorder(record, record2, trainable_mask=0): record(op, inputs, attrs, outputs) and "
     "record2(op, x, y, out, tapes), called for differentiable ops under a tape; with a mask "
     "(tape._TRAINABLE_MASK), the one-tape case of record is done in C."},
    {"execute", (PyCFunction)(void (*)(void))ct_execute, METH_FASTCALL | METH_KEYWORDS,
     "execute(op, inputs=(), attrs=None): dispatch.execute."},
    {"make", (PyCFunction)(void (*)(void))make, METH_FASTCALL | METH_KEYWORDS,
     "make(value, dtype, device, nbytes=0): an EagerTensor; nbytes are added to the device's "
     "counter."},
    {"binary", (PyCFunction)(void (*)(void))ct_binary, METH_FASTCALL | METH_KEYWORDS,
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
