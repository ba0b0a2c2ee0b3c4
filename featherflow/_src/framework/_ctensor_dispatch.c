/* featherflow._src.framework._ctensor, dispatch half: the fast paths of dispatch.execute and
 * dispatch.binary, and recording on one tape (see _ctensor.c). */
#include "_ctensor.h"

/* The kernel failed: raise it as it is (TF's errors, and BaseExceptions that are not
 * Exceptions: KeyboardInterrupt, SystemExit), or raise dispatch._translate's error from it, as
 * the Python `except Exception as e: raise _translate(e, op) from e` does. The kernel's error
 * is made the exception being handled meanwhile, so Python chains __context__ as it would
 * there (for an error of _translate itself too). */
static PyObject *kernel_failed(PyObject *op) {
    if (PyErr_ExceptionMatches(ff_errors) || !PyErr_ExceptionMatches(PyExc_Exception))
        return NULL;
    PyObject *type, *exc, *tb;
    PyErr_Fetch(&type, &exc, &tb);
    PyErr_NormalizeException(&type, &exc, &tb);
    if (tb != NULL) PyException_SetTraceback(exc, tb);
    PyObject *saved_type, *saved_value, *saved_tb;
    PyErr_GetExcInfo(&saved_type, &saved_value, &saved_tb);
    Py_INCREF(exc);
    PyErr_SetExcInfo(type, exc, tb);  /* steals type, a reference to exc, and tb */
    PyObject *translated = PyObject_CallFunctionObjArgs(translate_fn, exc, op, NULL);
    if (translated != NULL) {
        Py_INCREF(exc);
        PyException_SetCause(translated, exc);  /* steals; also suppresses the context */
        PyErr_SetObject((PyObject *)Py_TYPE(translated), translated);
        Py_DECREF(translated);
    }
    PyErr_SetExcInfo(saved_type, saved_value, saved_tb);
    Py_DECREF(exc);
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

/* What binary does not take: execute(op, (x, y)), as the Python binary calls it (the C
 * execute, which still takes a quiet op, then the Python one for the rest). */
static PyObject *slow(PyObject *op, PyObject *x, PyObject *y) {
    PyObject *inputs = PyTuple_Pack(2, x, y);
    if (inputs == NULL) return NULL;
    PyObject *call_args[2] = {op, inputs};
    PyObject *r = ct_execute(NULL, call_args, 2, NULL);
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
    PyObject *t = ct_new_tensor(out, dtype, dev, Py_None, n);
    Py_DECREF(dtype);
    Py_DECREF(out);
    if (t == NULL || plain) return t;
    int r = field_true(&f_differentiable, op);
    if (r > 0) r = record(op, inputs, x, y, attrs, t);
    if (r < 0) Py_CLEAR(t);
    return t;
}

/* finish for an op without exactly one output: an update's empty result as it is, or the
 * outputs wrapped by dispatch._wrap_many; recorded through the Python recorder. */
static PyObject *finish_several(PyObject *op, PyObject *dev, PyObject *out, int plain,
                                PyObject *inputs, PyObject *attrs) {
    if (out == NULL) return kernel_failed(op);
    int any = PyObject_IsTrue(out);
    PyObject *outs = out;
    if (any > 0) {
        outs = PyObject_CallFunctionObjArgs(wrap_many, out, dev, NULL);
        Py_DECREF(out);
    } else if (any < 0) {
        Py_DECREF(out);
        return NULL;
    }
    if (outs == NULL || plain) return outs;
    int r = field_true(&f_differentiable, op);
    if (r > 0 && recorder != NULL && recorder != Py_None) {
        PyObject *rec_args[4] = {op, inputs, attrs, outs};
        PyObject *done = PyObject_Vectorcall(recorder, rec_args, 4, NULL);
        r = done == NULL ? -1 : 0;
        Py_XDECREF(done);
    }
    if (r < 0) Py_CLEAR(outs);
    return outs;
}

/* dispatch.binary: see its Python definition, which this follows line by line. */
PyObject *ct_binary(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwnames) {
    if (ct_need_config() < 0) return NULL;
    if (nargs != 3 || kwnames != NULL || (PyTypeObject *)Py_TYPE(args[0]) != f_kernel.cls)
        /* keywords, a wrong count, an OpDef subclass or not an OpDef: the Python binary */
        return PyObject_Vectorcall(binary_py, args, nargs, kwnames);
    PyObject *op = args[0], *x = args[1], *y = args[2];
    if (!Tensor_Check(x) || !Tensor_Check(y)) return slow(op, x, y);
    TensorObject *tx = (TensorObject *)x, *ty = (TensorObject *)y;
    /* References of our own: a kernel may rebind the inputs' fields while it runs. */
    PyObject *dev = tx->device, *d0 = tx->dtype, *xv = tx->value, *yv = ty->value;
    if (dev == NULL || d0 == NULL || xv == NULL || yv == NULL || ty->device == NULL ||
        ty->dtype == NULL)  /* a field deleted: the Python binary raises its AttributeError */
        return PyObject_Vectorcall(binary_py, args, nargs, NULL);
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

/* dispatch.execute, for what its fast path takes: see execute_py, which this follows.
 * Anything else (an op name, keywords, a device scope, mixed devices, a dtype the op must
 * validate, non-tuple inputs, a non-dict attrs) is execute_py's. */
PyObject *ct_execute(PyObject *module, PyObject *const *args, Py_ssize_t nargs,
                     PyObject *kwnames) {
    if (ct_need_config() < 0) return NULL;
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
    int plain, mixed = 0, several = 0;
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
        PyObject *one = num == NULL ? NULL : PyLong_FromLong(1);
        several = one == NULL ? -1 : PyObject_RichCompareBool(num, one, Py_NE);  /* != 1 */
        r = several < 0 ? -1 : 1;
        Py_XDECREF(one);
        Py_XDECREF(num);
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
        if (v == NULL) {  /* deleted since the check (Python code ran): the Python execute */
            result = PyObject_Vectorcall(execute_py, args, nargs, NULL);
            goto done;
        }
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
    result = several ? finish_several(op, dev, out, plain, inputs, attrs)
                     : finish(op, d0, dev, out, plain, inputs, NULL, NULL, attrs);
done:
    Py_XDECREF(token);
    Py_XDECREF(values);
    Py_XDECREF(xp);
    Py_XDECREF(kernel);
    Py_DECREF(d0);
    Py_DECREF(dev);
    return result;
}
