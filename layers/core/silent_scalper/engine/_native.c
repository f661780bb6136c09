/*
 * Two counts over JSON text, in C: the engine's only compiled code.
 *
 * Each function returns exactly what its pure-Python twin in _scan.py returns (the
 * tests compare the two on every corpus and on generated text), so the module is an
 * accelerator, never a second definition: when it is missing the engine runs the
 * Python twin. Limited API (abi3): one build serves every CPython from 3.13 on, and
 * the layer's arm64 copy is cross-compiled from the same file (layers/core/Makefile).
 */
#define PY_SSIZE_T_CLEAN
#define Py_LIMITED_API 0x030D0000
#include <Python.h>
#include <string.h>

static inline int is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
static inline int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/*
 * String tokens followed by JSON whitespace and a colon: the keys of well-formed JSON.
 * Tokens are found from the left as the regex "(?:[^"\\]++|\\.)*+" finds them; an
 * unterminated string ends the count (the regex finds no token there either, and in
 * well-formed text there is none).
 */
static Py_ssize_t count_keys(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t keys = 0, i = 0;
    while (i < n) {
        const unsigned char *q = memchr(s + i, '"', (size_t)(n - i));
        if (q == NULL) {
            break;
        }
        Py_ssize_t j = q - s + 1;
        for (;;) {
            while (j < n && s[j] != '"' && s[j] != '\\') {
                j++;
            }
            if (j >= n) {
                return keys;
            }
            if (s[j] == '"') {
                break;
            }
            if (j + 1 >= n) {
                return keys; /* a backslash ends the text: no closing quote */
            }
            j += 2;
        }
        j++;
        Py_ssize_t k = j;
        while (k < n && is_ws(s[k])) {
            k++;
        }
        if (k < n && s[k] == ':') {
            keys++;
            j = k + 1;
        }
        i = j;
    }
    return keys;
}

/* Whether s[0:] starts "[-+][0-9.]+(?:[eE][-+]?[0-9]+)?\"" (a signed number's text). */
static int signed_number(const unsigned char *s, const unsigned char *end) {
    if (s >= end || (*s != '-' && *s != '+')) {
        return 0;
    }
    const unsigned char *r = s + 1, *digits = r;
    while (r < end && (is_digit(*r) || *r == '.')) {
        r++;
    }
    if (r == digits) {
        return 0;
    }
    if (r < end && (*r == 'e' || *r == 'E')) {
        const unsigned char *e = r + 1;
        if (e < end && (*e == '-' || *e == '+')) {
            e++;
        }
        const unsigned char *exponent = e;
        while (e < end && is_digit(*e)) {
            e++;
        }
        if (e > exponent) {
            r = e;
        }
    }
    return r < end && *r == '"';
}

/*
 * Matches of [:\[,][ \t\r\n]*+"(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?")[=+\-@]: a string
 * value that starts like a spreadsheet formula, unless it is a signed number. Text, not
 * tokens, as the regex reads it (so broken JSON counts alike); matches cannot overlap.
 */
static Py_ssize_t count_formulas(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t found = 0;
    const unsigned char *p = s, *end = s + n;
    while (p < end) {
        p = memchr(p, '"', (size_t)(end - p));
        if (p == NULL || p + 1 >= end) {
            break;
        }
        const unsigned char *first = p + 1;
        if (*first == '=' || *first == '+' || *first == '-' || *first == '@') {
            const unsigned char *b = p;
            while (b > s && is_ws(b[-1])) {
                b--;
            }
            if (b > s && (b[-1] == ':' || b[-1] == '[' || b[-1] == ',') &&
                !signed_number(first, end)) {
                found++;
            }
        }
        p = first;
    }
    return found;
}

typedef Py_ssize_t (*counter)(const unsigned char *, Py_ssize_t);

static PyObject *count_with(PyObject *arg, counter count) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Py_ssize_t found;
    Py_BEGIN_ALLOW_THREADS
    found = count((const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(found);
}

static PyObject *key_count(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, count_keys);
}

static PyObject *formula_count(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, count_formulas);
}

static PyMethodDef methods[] = {
    {"key_count", key_count, METH_O,
     "key_count(text, /)\n--\n\nString tokens of JSON text followed by a colon."},
    {"formula_count", formula_count, METH_O,
     "formula_count(text, /)\n--\n\nString values starting like a spreadsheet formula."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "Counts over JSON text, in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&module); }
