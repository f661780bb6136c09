/*
 * Counts over the text the engine reads, in C: its only compiled code.
 *
 * key_count, formula_count and newline_count return exactly what their pure-Python twins
 * in _scan.py return (the tests compare the two on every corpus and on generated text),
 * so the module is an accelerator, never a second definition: when it is missing the
 * engine runs the twins. repeats_key answers what the key count is used to prove (no
 * object repeats a key), checked against a JSON parser; where its bytes cannot tell it
 * says so and the count decides. Limited API (abi3): one build serves every CPython from
 * 3.13 on, and the layer's arm64 copy is cross-compiled from this file
 * (layers/core/Makefile).
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

/* Byte classes: where the key scan stops (structure, or the end of a string). */
static const unsigned char TOKEN[256] = {['{'] = 1, ['}'] = 1, ['"'] = 1};
static const unsigned char TOKEN_OR_LINE[256] = {['{'] = 1, ['}'] = 1, ['"'] = 1, ['\n'] = 1};
static const unsigned char STRING_END[256] = {['"'] = 1, ['\\'] = 1};
static const unsigned char STRING_END_OR_LINE[256] = {['"'] = 1, ['\\'] = 1, ['\n'] = 1};

#define MAX_DEPTH 64
#define MAX_KEYS 512

typedef struct {
    const unsigned char *at;
    Py_ssize_t len;
} key_ref;

/*
 * Whether some object of well-formed JSON text repeats a key: 0 no, 1 yes, -1 when the
 * bytes cannot tell (a key with an escape, which may spell another key's characters
 * differently, or text past the bounds below): the caller then decides another way.
 * With `lines`, the text is NDJSON whose lines may be broken: each line is read on its
 * own, so a broken one (an unclosed string or object) cannot hide a repeat in another.
 * Keys are compared as bytes, which for unescaped keys of valid UTF-8 is comparing their
 * characters. Each object's keys are compared with that object's earlier keys only.
 */
static int repeated_key(const unsigned char *s, Py_ssize_t n, int lines) {
    key_ref keys[MAX_KEYS];
    Py_ssize_t first[MAX_DEPTH]; /* keys[first[d]:] belong to the object open at depth d */
    int depth = -1;
    Py_ssize_t used = 0, i = 0;
    while (i < n) {
        /* Numbers, literals, commas, colons and spaces between the tokens that matter. */
        while (i < n && !(lines ? TOKEN_OR_LINE[s[i]] : TOKEN[s[i]])) {
            i++;
        }
        if (i >= n) {
            break;
        }
        unsigned char c = s[i];
        if (c == '{') {
            if (++depth >= MAX_DEPTH) {
                return -1;
            }
            first[depth] = used;
            i++;
        } else if (c == '}') {
            if (depth >= 0) {
                used = first[depth--];
            }
            i++;
        } else if (c == '\n' && lines) {
            /* A line is a record: whatever the line before left open ends here. */
            depth = -1;
            used = 0;
            i++;
        } else if (c == '"') {
            Py_ssize_t start = i + 1, j = start;
            int escaped = 0, cut = 0;
            for (;;) {
                while (j < n && !(lines ? STRING_END_OR_LINE[s[j]] : STRING_END[s[j]])) {
                    j++;
                }
                if (j >= n) {
                    return -1; /* unterminated: not well-formed */
                }
                if (s[j] == '"') {
                    break;
                }
                if (s[j] == '\n' || j + 1 >= n || (lines && s[j + 1] == '\n')) {
                    cut = 1; /* a line ends inside the string: a broken record */
                    break;
                }
                escaped = 1;
                j += 2;
            }
            if (cut) {
                if (!lines) {
                    return -1; /* a backslash ends the text: not well-formed */
                }
                i = s[j] == '\n' ? j : j + 1;
                continue;
            }
            Py_ssize_t len = j - start, k = j + 1;
            while (k < n && is_ws(s[k]) && !(lines && s[k] == '\n')) {
                k++;
            }
            if (k < n && s[k] == ':' && depth >= 0) {
                if (escaped || used >= MAX_KEYS) {
                    return -1;
                }
                for (Py_ssize_t m = first[depth]; m < used; m++) {
                    if (keys[m].len == len && memcmp(keys[m].at, s + start, (size_t)len) == 0) {
                        return 1;
                    }
                }
                keys[used].at = s + start;
                keys[used].len = len;
                used++;
                k++;
            }
            i = k;
        } else {
            i++;
        }
    }
    return 0;
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

/* b"\n" in the text: memchr from one to the next (lines are hundreds of bytes long). */
static Py_ssize_t count_newlines(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t found = 0;
    const unsigned char *p = s, *end = s + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        found++;
        p++;
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

static Py_ssize_t repeats_in_text(const unsigned char *s, Py_ssize_t n) {
    return repeated_key(s, n, 0);
}

static Py_ssize_t repeats_in_lines(const unsigned char *s, Py_ssize_t n) {
    return repeated_key(s, n, 1);
}

static PyObject *repeats_key(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, repeats_in_text);
}

static PyObject *line_repeats_key(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, repeats_in_lines);
}

static PyObject *newline_count(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, count_newlines);
}

static PyObject *formula_count(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, count_formulas);
}

static PyMethodDef methods[] = {
    {"key_count", key_count, METH_O,
     "key_count(text, /)\n--\n\nString tokens of JSON text followed by a colon."},
    {"repeats_key", repeats_key, METH_O,
     "repeats_key(text, /)\n--\n\n1 if an object of JSON text repeats a key, 0 if not, -1 if "
     "its bytes cannot tell."},
    {"line_repeats_key", line_repeats_key, METH_O,
     "line_repeats_key(text, /)\n--\n\nrepeats_key for NDJSON text, each line read on its own."},
    {"newline_count", newline_count, METH_O,
     "newline_count(text, /)\n--\n\nb\"\\n\" in the text (what bytes.count(b\"\\n\") returns)."},
    {"formula_count", formula_count, METH_O,
     "formula_count(text, /)\n--\n\nString values starting like a spreadsheet formula."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "Counts over the text the engine reads, in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&module); }
