/* Shared by the two halves of featherflow._src.framework._ctensor: _ctensor.c (the tensor's
 * storage, make, configuration and the module) and _ctensor_dispatch.c (execute, binary and
 * recording on a tape). See _ctensor.c for what the extension is and why. */
#ifndef FEATHERFLOW_CTENSOR_H
#define FEATHERFLOW_CTENSOR_H

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

extern PyTypeObject TensorBaseType;

/* Set by configure(). */
extern PyTypeObject *tensor_cls;      /* EagerTensor */
extern PyObject *ndarray_type;        /* numpy.ndarray */
extern PyObject *scalar_bytes;        /* dict: NumPy scalar type -> itemsize */
extern PyObject *owned_bytes;         /* dispatch._owned_bytes(out) */
extern PyObject *by_np;               /* dict: numpy dtype -> DType */
extern PyObject *from_numpy;          /* dtypes.from_numpy(numpy dtype) */
extern PyObject *thread_state;        /* context.THREAD */
extern PyObject *global_state;        /* context.GLOBAL */
extern PyObject *translate_fn;        /* dispatch._translate(exc, op) -> exception */
extern PyObject *ff_errors;           /* exception classes raised as they are */
extern PyObject *recorder;            /* tape._record(op, inputs, attrs, outputs) or None */
extern PyObject *recorder2;           /* tape._record2(op, x, y, out, tapes) or None */
extern PyObject *execute_py;          /* dispatch.execute_py: the Python execute */
extern PyObject *binary_py;           /* dispatch.binary_py: the Python binary */
extern PyObject *make_py;             /* tensor.make_py: the Python make */
extern PyObject *wrap_many;           /* dispatch._wrap_many(outs, device) */
extern long long trainable_mask;      /* tape._TRAINABLE_MASK; 0: no recording in C */
extern PyObject *errstate_var;        /* NumPy's floating-point error state (a ContextVar) */
extern PyObject *errstate_ignore;     /* its value under np.errstate(all="ignore") */

/* Interned attribute names. */
extern PyObject *s_plain, *s_device_spec, *s_tapes, *s_log_placement, *s_dtype, *s_base,
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

extern Field f_fast_mask, f_same_dtype, f_quiet,
    f_operator, f_kernel, f_same_out,
    f_out_dtype, f_differentiable, f_bit,
    f_num_outputs,
    f_direct, f_xp, f_bytes_in_use,
    f_peak_bytes;


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


static inline int truth(PyObject *v) {
    if (v == NULL) return -1;
    int r = v == Py_True ? 1 : v == Py_False || v == Py_None ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return r;
}

/* An attribute's truth value: 1, 0, or -1 with an exception. */
static inline int attr_true(PyObject *obj, PyObject *name) {
    return truth(PyObject_GetAttr(obj, name));
}

static inline int field_true(Field *f, PyObject *obj) {
    return truth(field_get(f, obj));
}

static inline long long field_bits(Field *f, PyObject *obj) {
    PyObject *v = field_get(f, obj);
    if (v == NULL) return -1;
    long long r = PyLong_AsLongLong(v);
    Py_DECREF(v);
    return r;
}

#define Tensor_Check(o) PyObject_TypeCheck((o), &TensorBaseType)

/* _ctensor.c */
int ct_account(PyObject *device, Py_ssize_t n);
PyObject *ct_new_tensor(PyObject *value, PyObject *dtype, PyObject *device, PyObject *shape,
                        Py_ssize_t nbytes);
int ct_need_config(void);

/* _ctensor_dispatch.c */
PyObject *ct_binary(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwnames);
PyObject *ct_execute(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames);

#endif
