/* featherflow._src.ops._fused: one-pass element-wise optimizer updates on host buffers.
 *
 * The NumPy bodies in ops/defs/training_ops.py run ~12 ufunc passes per piece of a variable;
 * these loops do the same arithmetic in one pass, reading each of var, m, v and grad once and
 * writing var, m and v once, so an Adam step over many variables runs near the memory
 * bandwidth. Each loop performs the NumPy body's operations in the same order, each rounded to
 * the buffer's type (built with -ffp-contract=off and without -ffast-math, so nothing is fused
 * or reassociated; sqrt and division are IEEE correctly rounded in both), and the results agree
 * to the bit (tests/train/test_fused_kernels.py). The GIL is released inside the loops, so the
 * caller's threads update disjoint pieces concurrently.
 *
 * Every function takes `pieces`: a sequence of sequences of C-contiguous buffers of one format,
 * 'f' (float32) or 'd' (float64) and one length, then the scalars as Python floats (values of
 * the buffers' type, so converting them is exact). Nothing is written unless every buffer of
 * every piece has been checked. They return True, or False (writing nothing) when two buffers
 * of one piece overlap: the loops assume they don't, and the caller takes the NumPy path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

typedef struct {
    Py_buffer *views;
    Py_ssize_t count; /* views acquired so far */
    Py_ssize_t n_pieces;
    int width;        /* buffers per piece */
    char format;      /* 'f' or 'd' */
    int overlap;      /* two buffers of one piece share memory: the loops assume they don't */
} Pieces;

static void release_pieces(Pieces *p) {
    for (Py_ssize_t i = 0; i < p->count; i++) PyBuffer_Release(&p->views[i]);
    PyMem_Free(p->views);
    p->views = NULL;
    p->count = 0;
}

static char buffer_format(const Py_buffer *view) {
    const char *f = view->format ? view->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if (f[0] == 'f' && f[1] == '\0' && view->itemsize == 4) return 'f';
    if (f[0] == 'd' && f[1] == '\0' && view->itemsize == 8) return 'd';
    return 0;
}

/* Acquires every buffer; the first `n_written` of each piece must be writable. */
static int acquire_pieces(PyObject *seq, int width, int n_written, Pieces *p) {
    memset(p, 0, sizeof(*p));
    p->width = width;
    PyObject *fast = PySequence_Fast(seq, "pieces must be a sequence");
    if (fast == NULL) return -1;
    p->n_pieces = PySequence_Fast_GET_SIZE(fast);
    p->views = PyMem_Calloc((size_t)(p->n_pieces * width) + 1, sizeof(Py_buffer));
    if (p->views == NULL) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < p->n_pieces; i++) {
        PyObject *piece = PySequence_Fast(PySequence_Fast_GET_ITEM(fast, i),
                                          "each piece must be a sequence of buffers");
        if (piece == NULL) goto fail;
        if (PySequence_Fast_GET_SIZE(piece) != width) {
            PyErr_Format(PyExc_ValueError, "piece %zd has %zd buffers, expected %d", i,
                         PySequence_Fast_GET_SIZE(piece), width);
            Py_DECREF(piece);
            goto fail;
        }
        for (int j = 0; j < width; j++) {
            Py_buffer *view = &p->views[p->count];
            int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (j < n_written ? PyBUF_WRITABLE : 0);
            if (PyObject_GetBuffer(PySequence_Fast_GET_ITEM(piece, j), view, flags) < 0) {
                Py_DECREF(piece);
                goto fail;
            }
            p->count++;
            char format = buffer_format(view);
            if (format == 0) {
                PyErr_Format(PyExc_TypeError, "piece %zd, buffer %d: expected float32 or "
                             "float64 elements, got format '%s'", i, j,
                             view->format ? view->format : "B");
                Py_DECREF(piece);
                goto fail;
            }
            if (p->format == 0) p->format = format;
            Py_buffer *first = &p->views[i * width];
            if (format != p->format || view->len != first->len) {
                PyErr_Format(PyExc_ValueError, "piece %zd, buffer %d: expected %zd bytes of "
                             "format '%c', got %zd bytes of format '%c'", i, j, first->len,
                             p->format, view->len, format);
                Py_DECREF(piece);
                goto fail;
            }
        }
        Py_DECREF(piece);
        for (int a = 0; a < width && !p->overlap; a++)
            for (int b = a + 1; b < width; b++) {
                const char *x = p->views[i * width + a].buf, *y = p->views[i * width + b].buf;
                Py_ssize_t len = p->views[i * width].len;
                if (len > 0 && x < y + len && y < x + len) {
                    p->overlap = 1;
                    break;
                }
            }
    }
    Py_DECREF(fast);
    return 0;
fail:
    Py_DECREF(fast);
    release_pieces(p);
    return -1;
}

/* Acquires `seq` for a loop: 1 to run it, 0 when buffers overlap (released: the caller returns
 * False), -1 on error (raised). */
static int begin(PyObject *seq, int width, int n_written, Pieces *p) {
    if (acquire_pieces(seq, width, n_written, p) < 0) return -1;
    if (p->overlap) {
        release_pieces(p);
        return 0;
    }
    return 1;
}

/* Each loop is compiled for AVX-512, AVX2 and baseline x86-64, and the dynamic loader picks the
 * widest the CPU runs (GCC's target_clones, an ifunc). Wider vectors change no result: the
 * operations and their order are the same, each still rounded to T, and sqrt and division are
 * correctly rounded at every width (-ffp-contract=off keeps FMA out of the AVX2/AVX-512 code).
 * On the 2-core EPYC this halves an Adam step over cache-resident buffers, and subnormal
 * operands (Adam's momentum decays into them under dead ReLUs) cost no more than normal ones
 * there, where the SSE2 loop slowed down 1.7x. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__GLIBC__)
#define WIDEST __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define WIDEST
#endif

#define BUF(p, i, j, T) ((T *)(p)->views[(i) * (p)->width + (j)].buf)
#define LEN(p, i, T) ((p)->views[(i) * (p)->width].len / (Py_ssize_t)sizeof(T))

/* -- Adam (ResourceApplyAdam), with Keras' decoupled weight decay in front when `decay` ------
 *   var -= (var * wd) * lr                                   (decay only)
 *   m   += (g - m) * c1                  c1 = 1 - beta1
 *   v   += (g * g - v) * c2              c2 = 1 - beta2
 *   var -= (m * alpha) / (sqrt(v) + eps)                        (plain)
 *   var -= ((g * c1 + m * beta1) * alpha) / (sqrt(v) + eps)     (nesterov)
 */
#define ADAM_LOOP(T, SQRT)                                                                    \
    WIDEST static void adam_##T(Pieces *p, T alpha, T c1, T c2, T eps, T beta1, int nesterov,  \
                         int decay, T wd, T lr) {                                            \
        for (Py_ssize_t i = 0; i < p->n_pieces; i++) {                                       \
            T *restrict var = BUF(p, i, 0, T), *restrict m = BUF(p, i, 1, T);               \
            T *restrict v = BUF(p, i, 2, T);                                                 \
            const T *restrict g = BUF(p, i, 3, T);                                           \
            Py_ssize_t n = LEN(p, i, T);                                                     \
            /* the branches are loop-invariant: the compiler unswitches them */              \
            for (Py_ssize_t k = 0; k < n; k++) {                                             \
                T x = var[k], gk = g[k];                                                     \
                if (decay) x -= (x * wd) * lr;                                               \
                T mk = m[k] + (gk - m[k]) * c1;                                              \
                T vk = v[k] + (gk * gk - v[k]) * c2;                                         \
                m[k] = mk;                                                                   \
                v[k] = vk;                                                                   \
                T step = nesterov ? (gk * c1 + mk * beta1) * alpha : mk * alpha;             \
                var[k] = x - step / (SQRT(vk) + eps);                                        \
            }                                                                                \
        }                                                                                    \
    }

ADAM_LOOP(float, sqrtf)
ADAM_LOOP(double, sqrt)

static PyObject *fused_adam(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *seq, *wd_obj;
    double alpha, c1, c2, eps, beta1, lr;
    int nesterov;
    if (!PyArg_ParseTuple(args, "OdddddpOd:adam", &seq, &alpha, &c1, &c2, &eps, &beta1,
                          &nesterov, &wd_obj, &lr))
        return NULL;
    int decay = wd_obj != Py_None;
    double wd = 0.0;
    if (decay) {
        wd = PyFloat_AsDouble(wd_obj);
        if (wd == -1.0 && PyErr_Occurred()) return NULL;
    }
    Pieces p;
    int ready = begin(seq, 4, 3, &p);
    if (ready <= 0) return ready < 0 ? NULL : Py_NewRef(Py_False);
    Py_BEGIN_ALLOW_THREADS
    if (p.format == 'f')
        adam_float(&p, (float)alpha, (float)c1, (float)c2, (float)eps, (float)beta1, nesterov,
                   decay, (float)wd, (float)lr);
    else if (p.format == 'd')
        adam_double(&p, alpha, c1, c2, eps, beta1, nesterov, decay, wd, lr);
    Py_END_ALLOW_THREADS
    release_pieces(&p);
    Py_RETURN_TRUE;
}

/* -- gradient descent (ResourceApplyGradientDescent): var -= delta * alpha ----------------- */
#define GD_LOOP(T)                                                                            \
    WIDEST static void gd_##T(Pieces *p, T alpha) {                                            \
        for (Py_ssize_t i = 0; i < p->n_pieces; i++) {                                       \
            T *restrict var = BUF(p, i, 0, T);                                               \
            const T *restrict d = BUF(p, i, 1, T);                                           \
            Py_ssize_t n = LEN(p, i, T);                                                     \
            for (Py_ssize_t k = 0; k < n; k++) var[k] -= d[k] * alpha;                       \
        }                                                                                    \
    }

GD_LOOP(float)
GD_LOOP(double)

static PyObject *fused_gradient_descent(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *seq;
    double alpha;
    if (!PyArg_ParseTuple(args, "Od:gradient_descent", &seq, &alpha)) return NULL;
    Pieces p;
    int ready = begin(seq, 2, 1, &p);
    if (ready <= 0) return ready < 0 ? NULL : Py_NewRef(Py_False);
    Py_BEGIN_ALLOW_THREADS
    if (p.format == 'f')
        gd_float(&p, (float)alpha);
    else if (p.format == 'd')
        gd_double(&p, alpha);
    Py_END_ALLOW_THREADS
    release_pieces(&p);
    Py_RETURN_TRUE;
}

/* -- Keras momentum (ResourceApplyKerasMomentum) --------------------------------------------
 *   accum = accum * momentum - g * lr
 *   var  += accum                                    (plain)
 *   var  += accum * momentum - g * lr                (nesterov)
 */
#define MOMENTUM_LOOP(T)                                                                      \
    WIDEST static void momentum_##T(Pieces *p, T lr, T mu, int nesterov) {                     \
        for (Py_ssize_t i = 0; i < p->n_pieces; i++) {                                       \
            T *restrict var = BUF(p, i, 0, T), *restrict accum = BUF(p, i, 1, T);           \
            const T *restrict g = BUF(p, i, 2, T);                                           \
            Py_ssize_t n = LEN(p, i, T);                                                     \
            for (Py_ssize_t k = 0; k < n; k++) {                                             \
                T t = g[k] * lr;                                                             \
                T a = accum[k] * mu - t;                                                     \
                accum[k] = a;                                                                \
                var[k] += nesterov ? a * mu - t : a;                                         \
            }                                                                                \
        }                                                                                    \
    }

MOMENTUM_LOOP(float)
MOMENTUM_LOOP(double)

static PyObject *fused_keras_momentum(PyObject *Py_UNUSED(self), PyObject *args) {
    PyObject *seq;
    double lr, mu;
    int nesterov;
    if (!PyArg_ParseTuple(args, "Oddp:keras_momentum", &seq, &lr, &mu, &nesterov)) return NULL;
    Pieces p;
    int ready = begin(seq, 3, 2, &p);
    if (ready <= 0) return ready < 0 ? NULL : Py_NewRef(Py_False);
    Py_BEGIN_ALLOW_THREADS
    if (p.format == 'f')
        momentum_float(&p, (float)lr, (float)mu, nesterov);
    else if (p.format == 'd')
        momentum_double(&p, lr, mu, nesterov);
    Py_END_ALLOW_THREADS
    release_pieces(&p);
    Py_RETURN_TRUE;
}

static PyMethodDef methods[] = {
    {"adam", fused_adam, METH_VARARGS,
     "adam(pieces, alpha, c1, c2, epsilon, beta1, nesterov, weight_decay, lr): Adam on each "
     "(var, m, v, grad) of pieces, in one pass; weight_decay None for none. False (nothing "
     "written) when buffers of a piece overlap."},
    {"gradient_descent", fused_gradient_descent, METH_VARARGS,
     "gradient_descent(pieces, alpha): var -= delta * alpha on each (var, delta) of pieces; "
     "False (nothing written) when they overlap."},
    {"keras_momentum", fused_keras_momentum, METH_VARARGS,
     "keras_momentum(pieces, lr, momentum, nesterov): Keras' momentum step on each (var, "
     "accum, grad) of pieces; False (nothing written) when they overlap."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fused",
    "One-pass optimizer updates on float32/float64 host buffers (see ops/_fused.c).", -1,
    methods,
};

PyMODINIT_FUNC PyInit__fused(void) { return PyModule_Create(&module); }
