/*
 * Counts over the text the engine reads, and CSV blocks split into columns, in C: the
 * engine's only compiled code.
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
#include <stdint.h>
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


/*
 * The length of the longest prefix of `s` made of complete, valid UTF-8 sequences (the
 * Unicode standard's well-formed byte sequences, table 3-7): where Python's strict UTF-8
 * decoder reports its first error (UnicodeDecodeError.start), or n if it reports none.
 * An error is always at the first byte of the sequence that fails, whether the sequence
 * is ill-formed or cut off by the end. ASCII is skipped eight bytes at a time.
 */
static Py_ssize_t utf8_valid_prefix(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        uint64_t word;
        while (i + 8 <= n) {
            memcpy(&word, s + i, 8);
            if (word & UINT64_C(0x8080808080808080)) {
                break;
            }
            i += 8;
        }
        if (i >= n) {
            break;
        }
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        Py_ssize_t more;                    /* continuation bytes after the lead byte */
        unsigned char low = 0x80, high = 0xBF; /* the range of the first of them */
        if (c >= 0xC2 && c <= 0xDF) {
            more = 1;
        } else if (c >= 0xE0 && c <= 0xEF) {
            more = 2;
            low = c == 0xE0 ? 0xA0 : 0x80;  /* no overlong forms */
            high = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            more = 3;
            low = c == 0xF0 ? 0x90 : 0x80;
            high = c == 0xF4 ? 0x8F : 0xBF; /* nothing past U+10FFFF */
        } else {
            return i; /* a continuation byte, or a byte no sequence starts with */
        }
        if (i + more >= n || s[i + 1] < low || s[i + 1] > high) {
            return i;
        }
        for (Py_ssize_t k = 2; k <= more; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                return i;
            }
        }
        i += more + 1;
    }
    return n;
}

/*
 * CSV records into columns, for the columnar path (_csv_columnar.py), in the one plain
 * form whose reading every reader agrees on: rows end in LF or CRLF, no line is blank,
 * every row has `width` fields, an unquoted field holds no '"' and no CR, a quoted field
 * opens at a field start, holds no CR, doubles its inner quotes and closes before a
 * comma, a line end or the end of the block, and no field (unescaped) is longer than
 * the field limit. A block in any other form is not parsed here (split_csv returns
 * None) and takes the path it always took; the tests hold what is parsed here to
 * pyarrow's and the csv module's readings of the same block.
 */
typedef struct {
    int32_t start; /* the field's first byte in the block (after an opening quote) */
    int32_t raw;   /* its bytes in the block, between the quotes if quoted */
    int32_t len;   /* its bytes once "" is read as " (raw, unless quoted with "") */
} csv_field;

/* Where an unquoted field may end, and where a quoted one needs a look. */
static const unsigned char CSV_PLAIN_STOP[256] = {[','] = 1, ['"'] = 1, ['\r'] = 1, ['\n'] = 1};
static const unsigned char CSV_QUOTED_STOP[256] = {['"'] = 1, ['\r'] = 1, ['\n'] = 1};

/*
 * The fields of the block's rows, row after row, into `fields` (room for `room` rows);
 * `lines[r]` gets row r's physical lines (1 + the line feeds in its quoted fields).
 * Returns the rows, or -1 if the block is not in the plain form (see above).
 */
static Py_ssize_t csv_fields(const unsigned char *s, Py_ssize_t n, Py_ssize_t width,
                             Py_ssize_t limit, Py_ssize_t room, csv_field *fields,
                             int64_t *lines, Py_ssize_t *breaks_out) {
    Py_ssize_t i = 0, rows = 0, breaks = 0;
    while (i < n) {
        if (s[i] == '\n' || s[i] == '\r' || rows >= room) {
            return -1; /* a blank line (or a bare CR) */
        }
        Py_ssize_t row_breaks = 0;
        csv_field *row = fields + rows * width;
        for (Py_ssize_t f = 0;; f++) {
            if (f >= width) {
                return -1;
            }
            Py_ssize_t start, raw, len;
            if (i < n && s[i] == '"') {
                Py_ssize_t j = i + 1, doubled = 0;
                start = j;
                for (;;) {
                    while (j < n && !CSV_QUOTED_STOP[s[j]]) {
                        j++;
                    }
                    if (j >= n || s[j] == '\r') {
                        return -1; /* unterminated, or a CR in a quoted field */
                    }
                    if (s[j] == '\n') {
                        row_breaks++;
                        j++;
                    } else if (j + 1 < n && s[j + 1] == '"') {
                        doubled++;
                        j += 2;
                    } else {
                        break;
                    }
                }
                raw = j - start;
                len = raw - doubled;
                i = j + 1;
            } else {
                Py_ssize_t j = i;
                while (j < n && !CSV_PLAIN_STOP[s[j]]) {
                    j++;
                }
                start = i;
                raw = len = j - i;
                i = j;
            }
            if (len > limit) {
                return -1;
            }
            row[f].start = (int32_t)start;
            row[f].raw = (int32_t)raw;
            row[f].len = (int32_t)len;
            int row_ends;
            if (i >= n) {
                row_ends = 1; /* the block's last row has no line end */
            } else if (s[i] == ',') {
                if (++i >= n) {
                    return -1; /* a comma ends the block: leave the empty field to others */
                }
                row_ends = 0;
            } else if (s[i] == '\n') {
                i++;
                row_ends = 1;
            } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
                i += 2;
                row_ends = 1;
            } else {
                return -1; /* a bare CR, a quote inside an unquoted field, or a
                              character after a closing quote */
            }
            if (row_ends) {
                if (f + 1 != width) {
                    return -1;
                }
                break;
            }
        }
        lines[rows++] = 1 + row_breaks;
        breaks += row_breaks;
    }
    *breaks_out = breaks;
    return rows;
}

/* One column's text (its fields, "" read as ") and its int32 offsets, as Arrow lays out
 * a string array. */
static int csv_column(const unsigned char *s, const csv_field *fields, Py_ssize_t rows,
                      Py_ssize_t width, Py_ssize_t col, PyObject **data_out,
                      PyObject **offsets_out) {
    Py_ssize_t total = 0;
    for (Py_ssize_t r = 0; r < rows; r++) {
        total += fields[r * width + col].len;
    }
    PyObject *data = PyBytes_FromStringAndSize(NULL, total);
    PyObject *offsets = PyBytes_FromStringAndSize(NULL, (rows + 1) * (Py_ssize_t)sizeof(int32_t));
    if (data == NULL || offsets == NULL) {
        Py_XDECREF(data);
        Py_XDECREF(offsets);
        return -1;
    }
    unsigned char *out = (unsigned char *)PyBytes_AsString(data);
    int32_t *at = (int32_t *)PyBytes_AsString(offsets);
    int32_t pos = 0;
    at[0] = 0;
    for (Py_ssize_t r = 0; r < rows; r++) {
        const csv_field *f = &fields[r * width + col];
        const unsigned char *from = s + f->start;
        if (f->len == f->raw) {
            memcpy(out + pos, from, (size_t)f->raw);
        } else {
            unsigned char *to = out + pos;
            for (int32_t k = 0; k < f->raw; k++) {
                *to++ = from[k];
                if (from[k] == '"') {
                    k++; /* the second quote of a doubled pair */
                }
            }
        }
        pos += f->len;
        at[r + 1] = pos;
    }
    *data_out = data;
    *offsets_out = offsets;
    return 0;
}

static PyObject *split_csv(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer view;
    Py_ssize_t width, limit;
    if (!PyArg_ParseTuple(args, "y*nn:split_csv", &view, &width, &limit)) {
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len, room = 1;
    PyObject *result = NULL;
    csv_field *fields = NULL;
    int64_t *lines = NULL;
    if (width < 1 || n == 0 || n > INT32_MAX) {
        goto plain_form_not_met;
    }
    for (const unsigned char *p = s, *end = s + n; (p = memchr(p, '\n', (size_t)(end - p))); p++) {
        room++; /* a row per line feed, and one unterminated */
    }
    fields = PyMem_Malloc((size_t)(room * width) * sizeof(csv_field));
    lines = PyMem_Malloc((size_t)room * sizeof(int64_t));
    if (fields == NULL || lines == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t rows, breaks = 0;
    Py_BEGIN_ALLOW_THREADS
    rows = csv_fields(s, n, width, limit, room, fields, lines, &breaks);
    Py_END_ALLOW_THREADS
    if (rows <= 0) {
        goto plain_form_not_met;
    }
    PyObject *columns = PyList_New(width);
    if (columns == NULL) {
        goto done;
    }
    for (Py_ssize_t c = 0; c < width; c++) {
        PyObject *data, *offsets;
        if (csv_column(s, fields, rows, width, c, &data, &offsets) < 0) {
            Py_DECREF(columns);
            goto done;
        }
        PyObject *pair = Py_BuildValue("(NN)", offsets, data);
        if (pair == NULL) {
            Py_DECREF(columns);
            goto done;
        }
        PyList_SetItem(columns, c, pair);
    }
    PyObject *steps = Py_None;
    Py_INCREF(steps);
    if (breaks) {
        Py_DECREF(steps);
        steps = PyBytes_FromStringAndSize((const char *)lines, rows * (Py_ssize_t)sizeof(int64_t));
        if (steps == NULL) {
            Py_DECREF(columns);
            goto done;
        }
    }
    result = Py_BuildValue("(nNnN)", rows, columns, breaks, steps);
    goto done;
plain_form_not_met:
    result = Py_None;
    Py_INCREF(result);
done:
    PyMem_Free(fields);
    PyMem_Free(lines);
    PyBuffer_Release(&view);
    return result;
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

static PyObject *utf8_prefix(PyObject *self, PyObject *arg) {
    (void)self;
    return count_with(arg, utf8_valid_prefix);
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
    {"utf8_prefix", utf8_prefix, METH_O,
     "utf8_prefix(data, /)\n--\n\nBytes of complete, valid UTF-8 the data starts with."},
    {"split_csv", split_csv, METH_VARARGS,
     "split_csv(block, width, field_limit, /)\n--\n\nThe block's CSV rows as Arrow string "
     "columns: (rows, [(offsets, data)], line breaks in cells, lines per row or None), or "
     "None if the block is not in the plain form every reader agrees on."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "Counts over the text the engine reads, and CSV blocks split into columns, in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&module); }
