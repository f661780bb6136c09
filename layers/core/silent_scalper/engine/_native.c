/*
 * Counts over the text the engine reads, CSV blocks split into columns, the loop that
 * decodes a refused block's windows, the lookups of the records a refused block set
 * aside, and glibc's heap setting, in C: the engine's only compiled code.
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
#include <limits.h>
#include <stdint.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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
    uint64_t seen[MAX_DEPTH];    /* a bit per key of that object, from its length and ends */
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
            seen[depth] = 0;
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
                /* A key is compared with the object's earlier keys only when one of
                 * them set its bit (from the length and end bytes): a repeat always
                 * does, and most objects' keys differ in those already. */
                uint64_t bit = UINT64_C(1)
                               << ((len == 0 ? 0 : (size_t)len * 7 + s[start] + 3u * s[j - 1]) & 63);
                if (seen[depth] & bit) {
                    for (Py_ssize_t m = first[depth]; m < used; m++) {
                        if (keys[m].len == len && (len == 0 || keys[m].at[0] == s[start]) &&
                            memcmp(keys[m].at, s + start, (size_t)len) == 0) {
                            return 1;
                        }
                    }
                }
                seen[depth] |= bit;
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

/* Where "[-+][0-9.]+(?:[eE][-+]?[0-9]+)?" starting at s ends (NULL: no such text there):
 * a signed number, as _csv_columnar._SIGNED_NUMBER and the JSON formula count read it. */
static const unsigned char *signed_number_end(const unsigned char *s, const unsigned char *end) {
    if (s >= end || (*s != '-' && *s != '+')) {
        return NULL;
    }
    const unsigned char *r = s + 1, *digits = r;
    while (r < end && (is_digit(*r) || *r == '.')) {
        r++;
    }
    if (r == digits) {
        return NULL;
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
    return r;
}

/* Whether s[0:] starts "[-+][0-9.]+(?:[eE][-+]?[0-9]+)?\"" (a signed number's text). */
static int signed_number(const unsigned char *s, const unsigned char *end) {
    const unsigned char *r = signed_number_end(s, end);
    return r != NULL && r < end && *r == '"';
}

/*
 * Eight bytes at a time (SWAR): in a little-endian word, the high bit of each byte equal
 * to `byte`, and no other bit. Exact per byte: ((x & 0x7F) + 0x7F) cannot carry into the
 * next byte, so no byte's answer depends on another's. Little-endian makes byte k of the
 * text byte k of the word, as the callers' shifts and ctz assume; other machines take
 * the byte loops.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&              \
    (defined(__GNUC__) || defined(__clang__))
#define SWAR 1
#define LOW7 UINT64_C(0x7F7F7F7F7F7F7F7F)
#define ONES UINT64_C(0x0101010101010101)
static inline uint64_t byte_is(uint64_t word, unsigned char byte) {
    uint64_t x = word ^ (ONES * byte);
    return ~(((x & LOW7) + LOW7) | x | LOW7);
}
static inline uint64_t load_word(const unsigned char *p) {
    uint64_t word;
    memcpy(&word, p, 8);
    return word;
}
#define BYTE_AT(mask) ((Py_ssize_t)(__builtin_ctzll(mask) >> 3))
#else
#define SWAR 0
#endif

static inline int formula_start(unsigned char c) {
    return c == '=' || c == '+' || c == '-' || c == '@';
}

/* Whether the quote at s[q] opens a formula-like value as the regex below reads it: the
 * byte after it starts a formula, and :, [ or , comes before it (JSON whitespace between),
 * and the string is not a signed number. */
static inline int formula_at(const unsigned char *s, Py_ssize_t q, const unsigned char *end) {
    const unsigned char *first = s + q + 1;
    if (first >= end || !formula_start(*first)) {
        return 0;
    }
    const unsigned char *b = s + q;
    while (b > s && is_ws(b[-1])) {
        b--;
    }
    return b > s && (b[-1] == ':' || b[-1] == '[' || b[-1] == ',') && !signed_number(first, end);
}

/*
 * Matches of [:\[,][ \t\r\n]*+"(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?")[=+\-@]: a string
 * value that starts like a spreadsheet formula, unless it is a signed number. Text, not
 * tokens, as the regex reads it (so broken JSON counts alike); matches cannot overlap.
 * Every quote followed by a formula's first character is examined; JSON text has a
 * quote every few bytes and few such pairs, so the pairs are found eight at a time.
 */
static Py_ssize_t count_formulas(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t found = 0, i = 0;
    const unsigned char *end = s + n;
#if SWAR
    /* bit 8k+7 of `pairs`: s[i + k] is a quote and s[i + k + 1] a formula's start */
    for (; i + 9 <= n; i += 8) {
        uint64_t next = load_word(s + i + 1);
        uint64_t pairs = byte_is(load_word(s + i), '"') &
                         (byte_is(next, '=') | byte_is(next, '+') | byte_is(next, '-') |
                          byte_is(next, '@'));
        while (pairs) {
            found += formula_at(s, i + BYTE_AT(pairs), end);
            pairs &= pairs - 1;
        }
    }
#endif
    for (; i < n; i++) {
        if (s[i] == '"') {
            found += formula_at(s, i, end);
        }
    }
    return found;
}

/* One byte's occurrences in the text: memchr from one to the next (line feeds are
 * hundreds of bytes apart, a CSV block's quotes tens). */
static Py_ssize_t count_byte(const unsigned char *s, Py_ssize_t n, int byte) {
    Py_ssize_t found = 0;
    const unsigned char *p = s, *end = s + n;
    while (p < end && (p = memchr(p, byte, (size_t)(end - p))) != NULL) {
        found++;
        p++;
    }
    return found;
}

static Py_ssize_t count_newlines(const unsigned char *s, Py_ssize_t n) {
    return count_byte(s, n, '\n');
}

static Py_ssize_t count_quotes(const unsigned char *s, Py_ssize_t n) {
    return count_byte(s, n, '"');
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
 * Cell grammars of the CSV column checks, one cell at a time: each accepts exactly the
 * cells RE2 (Arrow's match_substring_regex) matches with the pattern named beside it in
 * _csv_columnar.py, which stays their definition (the tests compare the two on generated
 * and corpus cells; `$` is the end of the cell, as RE2 reads it).
 */
static inline int two_digits(const unsigned char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

static int digits_at(const unsigned char *s, const char *shape) {
    /* s matches shape, where 'd' is any ASCII digit and any other character itself */
    for (; *shape; s++, shape++) {
        if (*shape == 'd' ? !is_digit(*s) : *s != (unsigned char)*shape) {
            return 0;
        }
    }
    return 1;
}

/* _DATE_TIME: RFC 3339 date-time, the day checked against its month and year. */
static int date_time_cell(const unsigned char *s, Py_ssize_t n) {
    if (n < 20 || !digits_at(s, "dddd-dd-dd") || (s[10] != 'T' && s[10] != 't') ||
        !digits_at(s + 11, "dd:dd:dd")) {
        return 0;
    }
    int century = two_digits(s), year = two_digits(s + 2), month = two_digits(s + 5);
    int day = two_digits(s + 8);
    /* The pattern's leap years: the year's last two digits a multiple of 4 other than 00,
     * or 00 after a non-zero multiple of 4 (so 0000 is none). */
    int leap = year ? year % 4 == 0 : century % 4 == 0 && century != 0;
    static const int days[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12 || day < 1 || day > days[month] + (month == 2 && leap)) {
        return 0;
    }
    if (two_digits(s + 11) > 23 || two_digits(s + 14) > 59 || two_digits(s + 17) > 60) {
        return 0;
    }
    Py_ssize_t i = 19;
    if (s[i] == '.') {
        Py_ssize_t j = i + 1;
        while (j < n && is_digit(s[j])) {
            j++;
        }
        if (j == i + 1) {
            return 0;
        }
        i = j;
    }
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        return i + 1 == n;
    }
    return n - i == 6 && (s[i] == '+' || s[i] == '-') && digits_at(s + i + 1, "dd:dd") &&
           two_digits(s + i + 1) <= 23 && two_digits(s + i + 4) <= 59;
}

static const unsigned char ALNUM[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
    ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1,
    ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
    ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1,
    ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* _ATEXT: ALNUM and the specials of an e-mail address's dot-atom. */
static const unsigned char ATEXT_SPECIAL[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['/'] = 1, ['='] = 1, ['?'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['{'] = 1, ['|'] = 1,
    ['}'] = 1, ['~'] = 1, ['-'] = 1,
};

static inline int atext(unsigned char c) { return ALNUM[c] || ATEXT_SPECIAL[c]; }

/* _EMAIL: a dot-atom local part, then two or more host-name labels; with `bounded`, also
 * at most 254 bytes with a local part of at most 64 (RFC 5321's limits, as the column
 * check adds them: length <= 254 and the first '@' at <= 64). */
static int email_cell(const unsigned char *s, Py_ssize_t n, int bounded) {
    Py_ssize_t i = 0;
    for (;;) {
        Py_ssize_t start = i;
        while (i < n && atext(s[i])) {
            i++;
        }
        if (i == start) {
            return 0;
        }
        if (i < n && s[i] == '.') {
            i++;
            continue;
        }
        break;
    }
    if (i >= n || s[i] != '@' || (bounded && (i > 64 || n > 254))) {
        return 0;
    }
    int labels = 0;
    for (i++;; i++) {
        Py_ssize_t start = i;
        while (i < n && (ALNUM[s[i]] || s[i] == '-')) {
            i++;
        }
        if (i == start || i - start > 63 || !ALNUM[s[start]] || !ALNUM[s[i - 1]]) {
            return 0;
        }
        labels++;
        if (i >= n || s[i] != '.') {
            break;
        }
    }
    return i == n && labels >= 2;
}

/* -?(?:0|[1-9][0-9]{0,most-1}), then for a number (?:\.[0-9]{1,fraction})?, to the end. */
static int decimal_cell(const unsigned char *s, Py_ssize_t n, Py_ssize_t most,
                        Py_ssize_t fraction) {
    Py_ssize_t i = n > 0 && s[0] == '-';
    if (i >= n || !is_digit(s[i])) {
        return 0;
    }
    if (s[i] == '0') {
        i++;
    } else {
        Py_ssize_t start = i;
        while (i < n && is_digit(s[i]) && i - start < most) {
            i++;
        }
    }
    if (fraction && i < n && s[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < n && is_digit(s[i]) && i - start < fraction) {
            i++;
        }
        if (i == start) {
            return 0;
        }
    }
    return i == n;
}

/* An RFC 3339 date-time as the exact rule reads it (rules.DATE_TIME_PATTERN): the column
 * grammar, and no year 0000 (the rule's look-ahead, which RE2 and so the column grammar
 * cannot say). */
static int rule_date_time(const unsigned char *s, Py_ssize_t n) {
    return date_time_cell(s, n) && memcmp(s, "0000", 4) != 0;
}

enum { DATE_TIME, EMAIL, SHORT_NUMBER, INT64, EMAIL_BOUNDED, RULE_DATE_TIME };

static int format_cell(int kind, const unsigned char *s, Py_ssize_t n) {
    switch (kind) {
    case DATE_TIME:
        return date_time_cell(s, n);
    case EMAIL:
    case EMAIL_BOUNDED:
        return email_cell(s, n, kind == EMAIL_BOUNDED);
    case SHORT_NUMBER:
        return decimal_cell(s, n, 16, 16); /* _SHORT_NUMBER */
    case RULE_DATE_TIME:
        return rule_date_time(s, n);
    default:
        return decimal_cell(s, n, 18, 0); /* _INT64 */
    }
}

/* ^[first][rest]{shortest-1,longest-1}$ (tables of allowed bytes; first = rest when the
 * pattern names no first class), as _csv_columnar.ClassShape reads a pattern. */
typedef struct {
    const unsigned char *first, *rest;
    Py_ssize_t shortest, longest; /* longest < 0: no limit */
} class_shape;

static int class_cell(const class_shape *c, const unsigned char *s, Py_ssize_t n) {
    if (n < c->shortest || (c->longest >= 0 && n > c->longest)) {
        return 0;
    }
    if (n && !c->first[s[0]]) {
        return 0;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        if (!c->rest[s[i]]) {
            return 0;
        }
    }
    return 1;
}

/* An integer property's inclusive bounds, for integer_cell. */
typedef struct {
    long long lo, hi;
} int_range;

/* _INT64 (-?(?:0|[1-9][0-9]{0,17})) whose value is within the range; a sign is refused
 * when the range has no negative value, as the string kernels of the path without this
 * module refuse it. 18 digits fit a long long. */
static int integer_cell(const int_range *range, const unsigned char *s, Py_ssize_t n) {
    if (!decimal_cell(s, n, 18, 0)) {
        return 0;
    }
    int negative = s[0] == '-';
    if (negative && range->lo >= 0) {
        return 0;
    }
    long long value = 0;
    for (Py_ssize_t i = negative; i < n; i++) {
        value = value * 10 + (s[i] - '0');
    }
    if (negative) {
        value = -value;
    }
    return value >= range->lo && value <= range->hi;
}

/* A number property's bounds for number_cell, both strict (NaN: none). */
typedef struct {
    double lo, hi;
} number_range;

/* Powers of ten a double holds exactly: the fast path's divisors. */
static const double EXACT_TENS[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* _SHORT_NUMBER whose value, correctly rounded to a double, is strictly within the
 * range, as Arrow's cast and comparison decide it. Only texts of at most 15 significant
 * digits are read: their digits are an integer a double holds exactly, and one division
 * by an exact power of ten is correctly rounded (Clinger's fast path). A longer text is
 * refused here and so left to the exact check. */
static int number_cell(const number_range *range, const unsigned char *s, Py_ssize_t n) {
    if (!decimal_cell(s, n, 16, 16)) {
        return 0;
    }
    int negative = s[0] == '-';
    long long digits = 0;
    int significant = 0, fraction = 0, in_fraction = 0;
    for (Py_ssize_t i = negative; i < n; i++) {
        if (s[i] == '.') {
            in_fraction = 1;
            continue;
        }
        if (digits || s[i] != '0') {
            significant++;
        }
        digits = digits * 10 + (s[i] - '0');
        fraction += in_fraction;
        if (significant > 15) {
            return 0;
        }
    }
    double value = (double)digits / EXACT_TENS[fraction];
    if (negative) {
        value = -value;
    }
    return (range->lo != range->lo || value > range->lo) &&
           (range->hi != range->hi || value < range->hi);
}

/* 0 (a ValueError set) unless `count` cells from `start` fit the int32 offsets and the
 * data, in order. */
static int offsets_fit(const Py_buffer *offsets, const Py_buffer *data, Py_ssize_t start,
                       Py_ssize_t count) {
    const int32_t *at = (const int32_t *)offsets->buf;
    if (start < 0 || count < 0 ||
        (start + count + 1) * (Py_ssize_t)sizeof(int32_t) > offsets->len ||
        (count && (at[start] < 0 || at[start + count] > data->len))) {
        PyErr_SetString(PyExc_ValueError, "the offsets do not fit the buffers");
        return 0;
    }
    for (Py_ssize_t r = start; r < start + count; r++) {
        if (at[r + 1] < at[r]) {
            PyErr_SetString(PyExc_ValueError, "the offsets are not in order");
            return 0;
        }
    }
    return 1;
}

/* What cell_bitmap holds each cell to: a format grammar, a class shape, or an integer or
 * number grammar within its range. */
typedef struct {
    enum { BY_FORMAT, BY_CLASS, BY_INTEGER, BY_NUMBER } by;
    union {
        int format; /* DATE_TIME .. RULE_DATE_TIME */
        const class_shape *shape;
        int_range integers;
        number_range numbers;
    } u;
} cell_rule;

static inline int cell_matches(const cell_rule *rule, const unsigned char *s, Py_ssize_t n) {
    switch (rule->by) {
    case BY_CLASS:
        return class_cell(rule->u.shape, s, n);
    case BY_INTEGER:
        return integer_cell(&rule->u.integers, s, n);
    case BY_NUMBER:
        return number_cell(&rule->u.numbers, s, n);
    default:
        return format_cell(rule->u.format, s, n);
    }
}

/*
 * The cells of an Arrow string array (its int32 offsets and data buffers, from cell
 * `start`, `count` cells) that `rule` accepts, as an Arrow bitmap (bit i of byte i/8,
 * least significant first). NULL with ValueError when the buffers are too short.
 */
static PyObject *cell_bitmap(Py_buffer *offsets, Py_buffer *data, Py_ssize_t start,
                             Py_ssize_t count, const cell_rule *rule) {
    const int32_t *at = (const int32_t *)offsets->buf;
    if (!offsets_fit(offsets, data, start, count)) {
        return NULL;
    }
    PyObject *bits = PyBytes_FromStringAndSize(NULL, (count + 7) / 8);
    if (bits == NULL) {
        return NULL;
    }
    unsigned char *out = (unsigned char *)PyBytes_AsString(bits);
    memset(out, 0, (size_t)((count + 7) / 8));
    const unsigned char *text = (const unsigned char *)data->buf;
    /* A local copy: the bitmap's unsigned char stores may alias *rule, which would make
     * the compiler reload the rule for every cell. */
    const cell_rule local = *rule;
    for (Py_ssize_t r = 0; r < count; r++) {
        const unsigned char *cell = text + at[start + r];
        Py_ssize_t len = at[start + r + 1] - at[start + r];
        if (cell_matches(&local, cell, len)) {
            out[r >> 3] |= (unsigned char)(1u << (r & 7));
        }
    }
    return bits;
}

/* cell_bitmap of `rule` (NULL: an exception is set already, none is made), the two
 * buffers released either way: the tail every match_* function shares. */
static PyObject *released_bitmap(Py_buffer *offsets, Py_buffer *data, Py_ssize_t start,
                                 Py_ssize_t count, const cell_rule *rule) {
    PyObject *bits = rule ? cell_bitmap(offsets, data, start, count, rule) : NULL;
    PyBuffer_Release(offsets);
    PyBuffer_Release(data);
    return bits;
}

static PyObject *match_format(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data;
    Py_ssize_t start, count;
    cell_rule rule = {.by = BY_FORMAT};
    if (!PyArg_ParseTuple(args, "y*y*nni:match_format", &offsets, &data, &start, &count,
                          &rule.u.format)) {
        return NULL;
    }
    int known = rule.u.format >= DATE_TIME && rule.u.format <= RULE_DATE_TIME;
    if (!known) {
        PyErr_SetString(PyExc_ValueError, "no such cell grammar");
    }
    return released_bitmap(&offsets, &data, start, count, known ? &rule : NULL);
}

static PyObject *match_integer(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data;
    Py_ssize_t start, count;
    cell_rule rule = {.by = BY_INTEGER};
    if (!PyArg_ParseTuple(args, "y*y*nnLL:match_integer", &offsets, &data, &start, &count,
                          &rule.u.integers.lo, &rule.u.integers.hi)) {
        return NULL;
    }
    return released_bitmap(&offsets, &data, start, count, &rule);
}

static PyObject *match_number(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data;
    Py_ssize_t start, count;
    cell_rule rule = {.by = BY_NUMBER};
    if (!PyArg_ParseTuple(args, "y*y*nndd:match_number", &offsets, &data, &start, &count,
                          &rule.u.numbers.lo, &rule.u.numbers.hi)) {
        return NULL;
    }
    return released_bitmap(&offsets, &data, start, count, &rule);
}

/* The cells of an Arrow string array starting like a formula (= + - @) that are not just
 * a signed number: _csv_columnar._formulas in one pass. */
static PyObject *formula_cells(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data;
    Py_ssize_t start, count;
    if (!PyArg_ParseTuple(args, "y*y*nn:formula_cells", &offsets, &data, &start, &count)) {
        return NULL;
    }
    PyObject *found = NULL;
    if (offsets_fit(&offsets, &data, start, count)) {
        const int32_t *at = (const int32_t *)offsets.buf;
        const unsigned char *text = (const unsigned char *)data.buf;
        Py_ssize_t formulas = 0;
        for (Py_ssize_t r = start; r < start + count; r++) {
            Py_ssize_t len = at[r + 1] - at[r];
            if (len == 0) {
                continue;
            }
            const unsigned char *cell = text + at[r];
            unsigned char first = cell[0];
            if (first == '=' || first == '@' ||
                ((first == '+' || first == '-') && signed_number_end(cell, cell + len) != cell + len)) {
                formulas++;
            }
        }
        found = PyLong_FromSsize_t(formulas);
    }
    PyBuffer_Release(&offsets);
    PyBuffer_Release(&data);
    return found;
}

/* A class shape's two byte tables, from the arguments: 0 (a ValueError set) unless each
 * is 256 bytes. */
static int class_tables(class_shape *shape, const Py_buffer *first, const Py_buffer *rest) {
    if (first->len != 256 || rest->len != 256) {
        PyErr_SetString(PyExc_ValueError, "a class is a table of 256 bytes");
        return 0;
    }
    shape->first = (const unsigned char *)first->buf;
    shape->rest = (const unsigned char *)rest->buf;
    return 1;
}

static PyObject *match_class(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer offsets, data, first, rest;
    class_shape shape;
    Py_ssize_t start, count;
    if (!PyArg_ParseTuple(args, "y*y*nny*y*nn:match_class", &offsets, &data, &start, &count,
                          &first, &rest, &shape.shortest, &shape.longest)) {
        return NULL;
    }
    cell_rule rule = {.by = BY_CLASS, .u.shape = &shape};
    int tables = class_tables(&shape, &first, &rest);
    PyObject *bits = released_bitmap(&offsets, &data, start, count, tables ? &rule : NULL);
    PyBuffer_Release(&first);
    PyBuffer_Release(&rest);
    return bits;
}

static int class_every_line(const class_shape *shape, const unsigned char *p, Py_ssize_t n) {
    const unsigned char *end = p + n;
    for (;;) {
        const unsigned char *line_end = memchr(p, '\n', (size_t)(end - p));
        if (!class_cell(shape, p, (line_end ? line_end : end) - p)) {
            return 0;
        }
        if (line_end == NULL) {
            return 1;
        }
        p = line_end + 1;
    }
}

/*
 * Whether every line of the text (ending at LF; the last may not) is made of plain
 * character classes, as match_class reads a cell: the NDJSON and JSON batch check of a
 * class pattern over a batch's distinct values joined by LF.
 */
static PyObject *class_lines(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer text, first, rest;
    class_shape shape;
    if (!PyArg_ParseTuple(args, "y*y*y*nn:class_lines", &text, &first, &rest, &shape.shortest,
                          &shape.longest)) {
        return NULL;
    }
    PyObject *result = NULL;
    if (class_tables(&shape, &first, &rest)) {
        result = PyBool_FromLong(class_every_line(&shape, text.buf, text.len));
    }
    PyBuffer_Release(&text);
    PyBuffer_Release(&first);
    PyBuffer_Release(&rest);
    return result;
}


/*
 * How many lines the text has (ending at LF; the last may not) when every one is a
 * rule_date_time, 0 when a line is not: the NDJSON and JSON batch check of a date-time
 * property over a batch's values joined by LF.
 */
static Py_ssize_t count_date_time_lines(const unsigned char *s, Py_ssize_t n) {
    const unsigned char *p = s, *end = s + n;
    Py_ssize_t lines = 0;
    for (;;) {
        const unsigned char *line_end = memchr(p, '\n', (size_t)(end - p));
        if (!rule_date_time(p, (line_end ? line_end : end) - p)) {
            return 0;
        }
        lines++;
        if (line_end == NULL) {
            return lines;
        }
        p = line_end + 1;
    }
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static long long days_from_civil(int y, int m, int d) {
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097LL + doe - 719468;
}

/*
 * The UTC instant of a date-time line (date_time_cell accepts it) in microseconds, or 0
 * in *exact when the line is one whose datetime the caller must build to compare: a
 * leap second, more than six fraction digits (not microseconds exactly), or year 0001
 * or 9999 (an offset may move the instant out of datetime's range).
 */
static long long instant_of(const unsigned char *s, Py_ssize_t n, int *exact) {
    int year = two_digits(s) * 100 + two_digits(s + 2);
    int second = two_digits(s + 17);
    long long micros = 0;
    Py_ssize_t i = 19;
    if (s[i] == '.') {
        int digits = 0;
        for (i++; i < n && is_digit(s[i]); i++, digits++) {
            if (digits < 6) {
                micros = micros * 10 + (s[i] - '0');
            }
        }
        if (digits > 6) {
            *exact = 0;
        }
        for (; digits < 6; digits++) {
            micros *= 10;
        }
    }
    if (second == 60 || year == 1 || year == 9999) {
        *exact = 0;
    }
    long long offset = 0;
    if (s[i] == '+' || s[i] == '-') {
        offset = (two_digits(s + i + 1) * 60LL + two_digits(s + i + 4)) * 60;
        offset = s[i] == '-' ? -offset : offset;
    }
    long long seconds = days_from_civil(year, two_digits(s + 5), two_digits(s + 8)) * 86400 +
                        two_digits(s + 11) * 3600LL + two_digits(s + 14) * 60LL + second -
                        offset;
    return seconds * 1000000 + micros;
}

/*
 * The lines (ending at LF; the last may not) holding the earliest and the latest
 * instant, the first of each in line order, as (earliest, latest): what min() and max()
 * of their datetimes pick. None when a line is not a rule_date_time or is
 * one instant_of leaves to the caller.
 */
static PyObject *date_time_span(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer text;
    if (PyObject_GetBuffer(arg, &text, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *p = text.buf, *end = p + text.len;
    Py_ssize_t line = 0, earliest = -1, latest = -1;
    long long low = 0, high = 0;
    int exact = 1;
    for (;;) {
        const unsigned char *line_end = memchr(p, '\n', (size_t)(end - p));
        Py_ssize_t n = (line_end ? line_end : end) - p;
        if (!rule_date_time(p, n)) {
            exact = 0;
            break;
        }
        long long at = instant_of(p, n, &exact);
        if (!exact) {
            break;
        }
        if (earliest < 0 || at < low) {
            earliest = line;
            low = at;
        }
        if (latest < 0 || at > high) {
            latest = line;
            high = at;
        }
        if (line_end == NULL) {
            break;
        }
        p = line_end + 1;
        line++;
    }
    PyBuffer_Release(&text);
    if (!exact) {
        Py_RETURN_NONE;
    }
    return Py_BuildValue("(nn)", earliest, latest);
}

/*
 * CSV records into columns, for the columnar path (_csv_columnar.py), in the one plain
 * form whose reading every reader agrees on: rows end in LF, CRLF or a bare CR (classic
 * Mac line ends; a CR that ends the block ends its last row), no line is blank,
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
            } else if (s[i] == '\r') {
                i += i + 1 < n && s[i + 1] == '\n' ? 2 : 1; /* CRLF, or a bare CR */
                row_ends = 1;
            } else {
                return -1; /* a quote inside an unquoted field, or a character after a
                              closing quote */
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

/* The copy of one field into its column: "" read as ". */
static inline void csv_copy(const unsigned char *s, const csv_field *f, unsigned char *to) {
    const unsigned char *from = s + f->start;
    if (f->len == f->raw) {
        memcpy(to, from, (size_t)f->raw);
        return;
    }
    for (int32_t k = 0; k < f->raw; k++) {
        *to++ = from[k];
        if (from[k] == '"') {
            k++; /* the second quote of a doubled pair */
        }
    }
}

/*
 * Every column's text and its int32 offsets, as Arrow lays out a string array, into
 * `columns` (a list of `width` (offsets, data) pairs). Rows are copied in order, each
 * field into its column, so the block and the fields are each read once, front to back.
 * Returns -1 with an exception set.
 */
static int csv_columns(const unsigned char *s, const csv_field *fields, Py_ssize_t rows,
                       Py_ssize_t width, PyObject *columns) {
    int status = -1;
    Py_ssize_t *total = PyMem_Calloc((size_t)width, sizeof(Py_ssize_t));
    unsigned char **out = PyMem_Calloc((size_t)width, sizeof(unsigned char *));
    int32_t **at = PyMem_Calloc((size_t)width, sizeof(int32_t *));
    PyObject **data = PyMem_Calloc((size_t)width, sizeof(PyObject *));
    PyObject **offsets = PyMem_Calloc((size_t)width, sizeof(PyObject *));
    if (!total || !out || !at || !data || !offsets) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t r = 0; r < rows; r++) {
        for (Py_ssize_t c = 0; c < width; c++) {
            total[c] += fields[r * width + c].len;
        }
    }
    for (Py_ssize_t c = 0; c < width; c++) {
        data[c] = PyBytes_FromStringAndSize(NULL, total[c]);
        offsets[c] = PyBytes_FromStringAndSize(NULL, (rows + 1) * (Py_ssize_t)sizeof(int32_t));
        if (data[c] == NULL || offsets[c] == NULL) {
            goto done;
        }
        out[c] = (unsigned char *)PyBytes_AsString(data[c]);
        at[c] = (int32_t *)PyBytes_AsString(offsets[c]);
        at[c][0] = 0;
        total[c] = 0; /* from here on: the bytes written so far */
    }
    for (Py_ssize_t r = 0; r < rows; r++) {
        const csv_field *row = fields + r * width;
        for (Py_ssize_t c = 0; c < width; c++) {
            csv_copy(s, &row[c], out[c] + total[c]);
            total[c] += row[c].len;
            at[c][r + 1] = (int32_t)total[c];
        }
    }
    for (Py_ssize_t c = 0; c < width; c++) {
        PyObject *pair = Py_BuildValue("(NN)", offsets[c], data[c]);
        offsets[c] = data[c] = NULL; /* the pair (or nothing) owns them now */
        if (pair == NULL) {
            goto done;
        }
        PyList_SetItem(columns, c, pair);
    }
    status = 0;
done:
    if (data && offsets) {
        for (Py_ssize_t c = 0; c < width; c++) {
            Py_XDECREF(data[c]);
            Py_XDECREF(offsets[c]);
        }
    }
    PyMem_Free(total);
    PyMem_Free(out);
    PyMem_Free(at);
    PyMem_Free(data);
    PyMem_Free(offsets);
    return status;
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
    for (const unsigned char *p = s, *end = s + n; (p = memchr(p, '\r', (size_t)(end - p))); p++) {
        room++; /* and one per CR (a CRLF counted twice: room to spare) */
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
    if (csv_columns(s, fields, rows, width, columns) < 0) {
        Py_DECREF(columns);
        goto done;
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

/* Where the window of text s[pos:n] that is at least `step` bytes long ends: after the
 * first line feed at or past pos + step (NDJSON), or after the `}` of the first `},` there
 * (the elements of a JSON array), else at n. */
static Py_ssize_t window_end(const unsigned char *s, Py_ssize_t n, Py_ssize_t pos,
                             Py_ssize_t step, int framed) {
    Py_ssize_t from = pos + step;
    while (step < n - pos && from < n) {
        const unsigned char *q = memchr(s + from, framed ? '}' : '\n', (size_t)(n - from));
        if (q == NULL) {
            break;
        }
        Py_ssize_t at = q - s;
        if (!framed || (at + 1 < n && s[at + 1] == ',')) {
            return at + 1;
        }
        from = at + 1;
    }
    return n;
}

/* One window's text for the decoder: a slice of the view, or for array elements the
 * window framed as an array, "[" + text + "]". */
static PyObject *window_text(PyObject *view, const unsigned char *s, Py_ssize_t pos,
                             Py_ssize_t end, int framed) {
    if (!framed) {
        return PySequence_GetSlice(view, pos, end);
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, end - pos + 2);
    if (out != NULL) {
        char *to = PyBytes_AsString(out);
        to[0] = '[';
        memcpy(to + 1, s + pos, (size_t)(end - pos));
        to[end - pos + 1] = ']';
    }
    return out;
}

/* Append `a` to `first` and `b` to `second` (two parallel lists); -1 on failure. */
static int append_pair(PyObject *first, Py_ssize_t a, PyObject *second, Py_ssize_t b) {
    PyObject *x = PyLong_FromSsize_t(a), *y = PyLong_FromSsize_t(b);
    int failed = x == NULL || y == NULL || PyList_Append(first, x) < 0 ||
                 PyList_Append(second, y) < 0;
    Py_XDECREF(x);
    Py_XDECREF(y);
    return failed ? -1 : 0;
}

/*
 * The windows of a refused NDJSON block, or of a refused run of JSON array elements
 * (`framed`), decoded while the decoder accepts them: the twin of
 * _scan.decode_windows_python, which says what each argument is. The loop is the same
 * as in Python; what it saves is the interpreter's work between two decodes.
 */
static PyObject *decode_windows(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *decode, *view, *stop_on, *decoded, *marks, *marks_at;
    Py_ssize_t pos, line, step;
    int framed = 0;
    if (!PyArg_ParseTuple(args, "OOnnnOO!OO|p", &decode, &view, &pos, &line, &step, &stop_on,
                          &PyList_Type, &decoded, &marks, &marks_at, &framed)) {
        return NULL;
    }
    int marked = marks != Py_None || marks_at != Py_None;
    if (marked && !(PyList_Check(marks) && PyList_Check(marks_at))) {
        PyErr_SetString(PyExc_TypeError, "marks and marks_at must be lists, or both None");
        return NULL;
    }
    Py_buffer buf;
    if (PyObject_GetBuffer(view, &buf, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)buf.buf;
    Py_ssize_t n = buf.len, end = n; /* the text done: (pos, line, n, None) */
    PyObject *raised = NULL, *result = NULL;
    if (pos < 0 || step < 0) {
        PyErr_SetString(PyExc_ValueError, "pos and step must not be negative");
        goto done;
    }
    while (pos < n) {
        end = window_end(s, n, pos, step, framed);
        if (marked && append_pair(marks, line, marks_at, pos) < 0) {
            goto done;
        }
        PyObject *window = window_text(view, s, pos, end, framed);
        if (window == NULL) {
            goto done;
        }
        PyObject *objs = PyObject_Vectorcall(decode, &window, 1, NULL);
        Py_DECREF(window);
        if (objs == NULL) {
            PyObject *exc = PyErr_GetRaisedException();
            if (PyErr_GivenExceptionMatches(exc, stop_on)) {
                raised = exc;
                break;
            }
            PyErr_SetRaisedException(exc);
            goto done;
        }
        Py_ssize_t got = PyList_Check(objs) ? PyList_Size(objs) : -1;
        if (got < 0 || PyList_SetSlice(decoded, PY_SSIZE_T_MAX, PY_SSIZE_T_MAX, objs) < 0) {
            if (got < 0 && !PyErr_Occurred()) {
                PyErr_SetString(PyExc_TypeError, "decode must return a list");
            }
            Py_DECREF(objs);
            goto done;
        }
        Py_DECREF(objs);
        line += got;
        pos = framed && end < n ? end + 1 : end; /* past the comma between two elements */
    }
    if (raised == NULL) {
        end = n;
    }
    result = Py_BuildValue("(nnnO)", pos, line, end, raised == NULL ? Py_None : raised);
    Py_XDECREF(raised);
done:
    PyBuffer_Release(&buf);
    return result;
}

/*
 * Lines `wanted` (line indices, in order) of NDJSON text, each without its line feed: the
 * twin of _scan.line_texts_python (the definition), found by stepping from line feed to
 * line feed once.
 */
static PyObject *line_texts(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *text, *wanted;
    if (!PyArg_ParseTuple(args, "OO!", &text, &PyList_Type, &wanted)) {
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(text, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len, count = PyList_Size(wanted), line = 0, start = 0;
    PyObject *out = PyList_New(count);
    for (Py_ssize_t i = 0; out != NULL && i < count; i++) {
        Py_ssize_t k = PyLong_AsSsize_t(PyList_GetItem(wanted, i));
        if (k == -1 && PyErr_Occurred()) {
            Py_CLEAR(out);
            break;
        }
        if (k < line) { /* a negative index, or one before the last */
            PyErr_SetString(PyExc_ValueError, "wanted must be line indices, in order");
            Py_CLEAR(out);
            break;
        }
        while (line < k) {
            const unsigned char *q = memchr(s + start, '\n', (size_t)(n - start));
            if (q == NULL) {
                break;
            }
            start = q - s + 1;
            line++;
        }
        if (line < k) {
            PyErr_SetString(PyExc_IndexError, "line index out of range");
            Py_CLEAR(out);
            break;
        }
        const unsigned char *q = memchr(s + start, '\n', (size_t)(n - start));
        Py_ssize_t stop = q == NULL ? n : q - s;
        PyObject *item = PyBytes_FromStringAndSize((const char *)s + start, stop - start);
        if (item == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SetItem(out, i, item);
    }
    PyBuffer_Release(&view);
    return out;
}

/*
 * Where the buffer of each of `views` starts in the buffer of `base`, or None when one
 * does not lie within it: the offsets of msgspec.Raw values decoded from `base`, which
 * msgspec keeps as views of the text it read. No Python twin: _json._offsets finds the
 * same offsets from the values' texts.
 */
static PyObject *buffer_offsets(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *base, *views;
    if (!PyArg_ParseTuple(args, "OO!", &base, &PyList_Type, &views)) {
        return NULL;
    }
    Py_buffer whole;
    if (PyObject_GetBuffer(base, &whole, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const char *start = (const char *)whole.buf, *stop = start + whole.len;
    Py_ssize_t count = PyList_Size(views);
    PyObject *out = PyList_New(count);
    for (Py_ssize_t i = 0; out != NULL && i < count; i++) {
        Py_buffer part;
        if (PyObject_GetBuffer(PyList_GetItem(views, i), &part, PyBUF_SIMPLE) < 0) {
            Py_CLEAR(out);
            break;
        }
        const char *at = (const char *)part.buf;
        int inside = at >= start && part.len <= stop - at;
        PyBuffer_Release(&part);
        if (!inside) {
            Py_DECREF(out);
            out = Py_NewRef(Py_None);
            break;
        }
        PyObject *offset = PyLong_FromSsize_t(at - start);
        if (offset == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SetItem(out, i, offset);
    }
    PyBuffer_Release(&whole);
    return out;
}

/*
 * glibc's malloc told to keep what is freed: blocks under `mmap_threshold` bytes come from
 * the heap, and the heap's free top is given back to the system only past
 * `trim_threshold` bytes. True when glibc took both; False elsewhere (another C library),
 * where nothing changes. engine/heap.py says why.
 */
static PyObject *keep_heap(PyObject *self, PyObject *args) {
    (void)self;
    int mmap_threshold, trim_threshold;
    if (!PyArg_ParseTuple(args, "ii", &mmap_threshold, &trim_threshold)) {
        return NULL;
    }
#ifdef __GLIBC__
    int taken = mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 &&
                mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
    return PyBool_FromLong(taken);
#else
    (void)mmap_threshold;
    (void)trim_threshold;
    Py_RETURN_FALSE;
#endif
}

/*
 * Where an object's fields lie: `probe` is an instance whose field i holds sentinels[i]
 * (distinct objects held nowhere else in it), `size` its type's __basicsize__. The offset
 * of each field is where its sentinel's address is stored, found by reading the
 * instance's words past its header; None unless each sentinel is found exactly once.
 * A msgspec Struct keeps its fields as object pointers inline (member descriptors of
 * T_OBJECT_EX), which the limited API gives no offsets of: value_failures and
 * field_members read them there. _fields.slot_offsets checks the answer against getattr.
 */
static PyObject *slot_offsets(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *probe, *sentinels;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "OO!n", &probe, &PyTuple_Type, &sentinels, &size)) {
        return NULL;
    }
    Py_ssize_t count = PyTuple_Size(sentinels), word = (Py_ssize_t)sizeof(PyObject *);
    if (size < (Py_ssize_t)(2 * word) || size % word != 0) {
        PyErr_SetString(PyExc_ValueError, "size must be a whole number of words past the header");
        return NULL;
    }
    PyObject *out = PyList_New(count);
    for (Py_ssize_t i = 0; out != NULL && i < count; i++) {
        PyObject *sentinel = PyTuple_GetItem(sentinels, i);
        Py_ssize_t found = -1, seen = 0;
        for (Py_ssize_t at = 2 * word; at < size; at += word) {
            if (*(PyObject **)((char *)probe + at) == sentinel) {
                found = at;
                seen++;
            }
        }
        if (seen != 1) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        PyObject *offset = PyLong_FromSsize_t(found);
        if (offset == NULL) {
            Py_CLEAR(out);
            break;
        }
        PyList_SetItem(out, i, offset);
    }
    return out;
}

/* Whether `offset` is a field's slot in an object of `size` bytes: a whole word past the
 * object's header (reference count and type) and within it. */
static int is_slot(Py_ssize_t offset, Py_ssize_t size) {
    Py_ssize_t word = (Py_ssize_t)sizeof(PyObject *);
    return offset >= 2 * word && offset <= size - word && offset % word == 0;
}

/* One check of value_failures: a kind and its bounds, read once per call. */
typedef struct {
    Py_ssize_t offset;
    int kind; /* 0 integer in [lo, hi], 1 number in (flo, fhi), 2 length in [lo, hi], 3 enum */
    long long lo, hi;
    double flo, fhi;
    PyObject *allowed; /* kind 3: a tuple of str */
    Py_ssize_t choices;    /* kind 3: how many */
    const char **texts;    /* kind 3: each one's UTF-8 (held by `allowed`) */
    Py_ssize_t *lengths;   /* and its length */
} ValueCheck;

/*
 * Whether `value` breaks `check`. The lenient twin decodes exact ints, floats and strs
 * (a type is msgspec's to refuse), so the types are compared as pointers; a value of
 * another type breaks the check, which only sends its record to the exact check.
 */
static int breaks_check(PyObject *value, const ValueCheck *check) {
    PyTypeObject *type = Py_TYPE(value);
    switch (check->kind) {
    case 0: {
        if (type != &PyLong_Type) {
            return 1;
        }
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            return 1;
        }
        return overflow != 0 || v < check->lo || v > check->hi;
    }
    case 1: {
        if (type != &PyFloat_Type) {
            return 1;
        }
        double v = PyFloat_AsDouble(value);
        return !(v > check->flo) || !(v < check->fhi);
    }
    case 2: {
        if (type != &PyUnicode_Type) {
            return 1;
        }
        Py_ssize_t n = PyUnicode_GetLength(value);
        return n < check->lo || n > check->hi;
    }
    default: {
        if (type != &PyUnicode_Type) {
            return 1;
        }
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(value, &size);
        if (text == NULL) {
            PyErr_Clear();
            return 1;
        }
        for (Py_ssize_t i = 0; i < check->choices; i++) {
            if (check->lengths[i] == size && memcmp(check->texts[i], text, (size_t)size) == 0) {
                return 0;
            }
        }
        return 1;
    }
    }
}

/*
 * The records of `objs` (instances of exactly `record_type`, whose __basicsize__ is
 * `size`) with a value that breaks one of `checks`, each (offset, kind, low, high,
 * allowed): kind 0 an integer within [low, high], 1 a number strictly between low and
 * high, 2 a string of [low, high] code points, 3 a string among `allowed`; a bound of
 * None is no bound. A field holding `unset` or None is not checked. Returns (the
 * records' indices, the first check each breaks). _constraints.value_failures_python is
 * the definition (it reads the fields by name).
 */
static PyObject *value_failures(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *objs, *record_type, *checks, *unset;
    Py_ssize_t size;
    if (!PyArg_ParseTuple(args, "O!OnO!O", &PyList_Type, &objs, &record_type, &size,
                          &PyList_Type, &checks, &unset)) {
        return NULL;
    }
    Py_ssize_t count = PyList_Size(checks);
    ValueCheck *plan = PyMem_Calloc((size_t)(count > 0 ? count : 1), sizeof(ValueCheck));
    if (plan == NULL) {
        return PyErr_NoMemory();
    }
    PyObject *indices = NULL, *which = NULL, *result = NULL;
    for (Py_ssize_t c = 0; c < count; c++) {
        PyObject *low, *high, *allowed;
        ValueCheck *check = &plan[c];
        if (!PyArg_ParseTuple(PyList_GetItem(checks, c), "niOOO", &check->offset, &check->kind,
                              &low, &high, &allowed)) {
            goto done;
        }
        if (!is_slot(check->offset, size) || check->kind < 0 || check->kind > 3) {
            PyErr_SetString(PyExc_ValueError, "a check's offset or kind is out of range");
            goto done;
        }
        if (check->kind == 1) {
            check->flo = low == Py_None ? -Py_HUGE_VAL : PyFloat_AsDouble(low);
            check->fhi = high == Py_None ? Py_HUGE_VAL : PyFloat_AsDouble(high);
        } else {
            check->lo = low == Py_None ? LLONG_MIN : PyLong_AsLongLong(low);
            check->hi = high == Py_None ? LLONG_MAX : PyLong_AsLongLong(high);
        }
        if (PyErr_Occurred()) {
            goto done;
        }
        check->allowed = allowed;
        if (check->kind == 3) {
            if (!PyTuple_Check(allowed)) {
                PyErr_SetString(PyExc_TypeError, "an enum check's allowed values must be a tuple");
                goto done;
            }
            check->choices = PyTuple_Size(allowed);
            size_t slots = (size_t)(check->choices > 0 ? check->choices : 1);
            check->texts = PyMem_Calloc(slots, sizeof(const char *));
            check->lengths = PyMem_Calloc(slots, sizeof(Py_ssize_t));
            if (check->texts == NULL || check->lengths == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            for (Py_ssize_t i = 0; i < check->choices; i++) {
                PyObject *choice = PyTuple_GetItem(allowed, i);
                check->texts[i] = PyUnicode_Check(choice)
                                      ? PyUnicode_AsUTF8AndSize(choice, &check->lengths[i])
                                      : NULL;
                if (check->texts[i] == NULL) {
                    if (!PyErr_Occurred()) {
                        PyErr_SetString(PyExc_TypeError, "an enum check's values must be str");
                    }
                    goto done;
                }
            }
        }
    }
    indices = PyList_New(0);
    which = PyList_New(0);
    if (indices == NULL || which == NULL) {
        goto done;
    }
    Py_ssize_t n = PyList_Size(objs);
    /* The limited API's Py_None is a function call: read once, not once a value. */
    PyObject *none = Py_None;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *obj = PyList_GetItem(objs, i);
        if ((PyObject *)Py_TYPE(obj) != record_type) {
            PyErr_SetString(PyExc_TypeError, "a record is not of the record type");
            goto done;
        }
        for (Py_ssize_t c = 0; c < count; c++) {
            PyObject *value = *(PyObject **)((char *)obj + plan[c].offset);
            if (value == NULL || value == unset || value == none ||
                !breaks_check(value, &plan[c])) {
                continue;
            }
            if (append_pair(indices, i, which, c) < 0) {
                goto done;
            }
            break;
        }
    }
    result = PyTuple_Pack(2, indices, which);
done:
    Py_XDECREF(indices);
    Py_XDECREF(which);
    for (Py_ssize_t c = 0; c < count; c++) {
        PyMem_Free((void *)plan[c].texts);
        PyMem_Free(plan[c].lengths);
    }
    PyMem_Free(plan);
    return result;
}

/*
 * The indices of the records of `objs` (instances of exactly `record_type`, whose
 * __basicsize__ is `size`) whose field at `offset` holds a str of the set `wanted`, in
 * order; None when a record is of another type (the caller then reads the field by
 * name). _fields.FieldReader.members is the definition: one pass reading the slot,
 * where the pattern checks' search for their refused values read every value into a
 * list and scanned it once per value.
 */
static PyObject *field_members(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *objs, *record_type, *wanted;
    Py_ssize_t size, offset;
    if (!PyArg_ParseTuple(args, "O!OnnO!", &PyList_Type, &objs, &record_type, &size, &offset,
                          &PySet_Type, &wanted)) {
        return NULL;
    }
    if (!is_slot(offset, size)) {
        PyErr_SetString(PyExc_ValueError, "the offset is not a field's slot");
        return NULL;
    }
    PyObject *out = PyList_New(0);
    Py_ssize_t n = PyList_Size(objs);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *obj = PyList_GetItem(objs, i);
        if ((PyObject *)Py_TYPE(obj) != record_type) {
            Py_DECREF(out);
            Py_RETURN_NONE;
        }
        PyObject *value = *(PyObject **)((char *)obj + offset);
        if (value == NULL || Py_TYPE(value) != &PyUnicode_Type) {
            continue;
        }
        int found = PySet_Contains(wanted, value);
        PyObject *index = found > 0 ? PyLong_FromSsize_t(i) : NULL;
        if (found < 0 || (found > 0 && (index == NULL || PyList_Append(out, index) < 0))) {
            Py_XDECREF(index);
            Py_CLEAR(out);
            break;
        }
        Py_XDECREF(index);
    }
    return out;
}

/*
 * The lines of NDJSON text that hold JSON whitespace only (spaces, tabs, carriage
 * returns), which msgspec's decode_lines skips: (index, start, start of the next line)
 * each, in order. A final line feed ends the last line; it does not start a blank one.
 * _scan.blank_lines_python is the definition.
 */
static PyObject *blank_lines(PyObject *self, PyObject *arg) {
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    const unsigned char *s = (const unsigned char *)view.buf;
    Py_ssize_t n = view.len, line = 0, start = 0;
    PyObject *out = PyList_New(0);
    while (out != NULL && start < n) {
        const unsigned char *q = memchr(s + start, '\n', (size_t)(n - start));
        Py_ssize_t stop = q == NULL ? n : q - s;
        Py_ssize_t j = start;
        while (j < stop && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) {
            j++;
        }
        if (j == stop) {
            PyObject *item = Py_BuildValue("(nnn)", line, start, q == NULL ? n : stop + 1);
            if (item == NULL || PyList_Append(out, item) < 0) {
                Py_XDECREF(item);
                Py_CLEAR(out);
                break;
            }
            Py_DECREF(item);
        }
        line++;
        start = stop + 1;
    }
    PyBuffer_Release(&view);
    return out;
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

static Py_ssize_t repeats_in_text(const unsigned char *s, Py_ssize_t n) {
    return repeated_key(s, n, 0);
}

static Py_ssize_t repeats_in_lines(const unsigned char *s, Py_ssize_t n) {
    return repeated_key(s, n, 1);
}

/* The module's one-argument functions: a counter over the bytes of the argument. */
#define BYTES_FUNCTION(name, counter_fn)                                                     \
    static PyObject *name(PyObject *self, PyObject *arg) {                                 \
        (void)self;                                                                        \
        return count_with(arg, counter_fn);                                                \
    }

BYTES_FUNCTION(key_count, count_keys)
BYTES_FUNCTION(repeats_key, repeats_in_text)
BYTES_FUNCTION(line_repeats_key, repeats_in_lines)
BYTES_FUNCTION(newline_count, count_newlines)
BYTES_FUNCTION(quote_count, count_quotes)
BYTES_FUNCTION(formula_count, count_formulas)
BYTES_FUNCTION(utf8_prefix, utf8_valid_prefix)
BYTES_FUNCTION(date_time_lines, count_date_time_lines)

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
    {"quote_count", quote_count, METH_O,
     "quote_count(text, /)\n--\n\nb'\"' in the text (what bytes.count(b'\"') returns)."},
    {"formula_count", formula_count, METH_O,
     "formula_count(text, /)\n--\n\nString values starting like a spreadsheet formula."},
    {"utf8_prefix", utf8_prefix, METH_O,
     "utf8_prefix(data, /)\n--\n\nBytes of complete, valid UTF-8 the data starts with."},
    {"match_format", match_format, METH_VARARGS,
     "match_format(offsets, data, start, count, kind, /)\n--\n\nThe cells of an Arrow "
     "string array a cell grammar accepts (0 date-time, 1 e-mail, 2 short number, 3 int64, "
     "4 e-mail within RFC 5321's lengths, 5 date-time without year 0000), as an Arrow bitmap."},
    {"match_integer", match_integer, METH_VARARGS,
     "match_integer(offsets, data, start, count, lo, hi, /)\n--\n\nThe cells of an Arrow "
     "string array that are int64 texts within [lo, hi] (no sign when lo >= 0), as an "
     "Arrow bitmap."},
    {"match_number", match_number, METH_VARARGS,
     "match_number(offsets, data, start, count, lo, hi, /)\n--\n\nThe cells of an Arrow "
     "string array that are short numbers of at most 15 significant digits strictly "
     "between lo and hi (NaN: no bound), as an Arrow bitmap."},
    {"formula_cells", formula_cells, METH_VARARGS,
     "formula_cells(offsets, data, start, count, /)\n--\n\nThe cells of an Arrow string "
     "array starting like a formula that are not just a signed number."},
    {"match_class", match_class, METH_VARARGS,
     "match_class(offsets, data, start, count, first, rest, shortest, longest, /)\n--\n\n"
     "The cells of an Arrow string array made of plain character classes, as an Arrow bitmap."},
    {"date_time_lines", date_time_lines, METH_O,
     "date_time_lines(text, /)\n--\n\nThe lines of the text if every one is an RFC 3339 "
     "date-time as the exact rule reads it, else 0."},
    {"date_time_span", date_time_span, METH_O,
     "date_time_span(text, /)\n--\n\nThe lines of the earliest and latest instants "
     "(first of each), or None."},
    {"class_lines", class_lines, METH_VARARGS,
     "class_lines(text, first, rest, shortest, longest, /)\n--\n\nWhether every line of the "
     "text is made of plain character classes."},
    {"slot_offsets", slot_offsets, METH_VARARGS,
     "slot_offsets(probe, sentinels, size, /)\n--\n\nThe offset in the probe object of "
     "each sentinel it holds, or None unless each is there exactly once."},
    {"field_members", field_members, METH_VARARGS,
     "field_members(objs, record_type, size, offset, wanted, /)\n--\n\nThe indices of the "
     "records whose field at offset holds a str of the set wanted, or None when one is of "
     "another type."},
    {"value_failures", value_failures, METH_VARARGS,
     "value_failures(objs, record_type, size, checks, unset, /)\n--\n\nThe records with a "
     "field value breaking a check (integer or length range, open number range, enum): "
     "(indices, the first check each breaks)."},
    {"blank_lines", blank_lines, METH_O,
     "blank_lines(text, /)\n--\n\nThe lines of NDJSON text holding JSON whitespace only: "
     "(index, start, start of the next line) each."},
    {"decode_windows", decode_windows, METH_VARARGS,
     "decode_windows(decode, view, pos, line, step, stop_on, decoded, marks, marks_at, "
     "framed=False, /)\n--\n\nThe windows of a refused NDJSON block (or, framed, of JSON array "
     "elements) decoded while the decoder accepts them: (pos, line, end, exception or None)."},
    {"keep_heap", keep_heap, METH_VARARGS,
     "keep_heap(mmap_threshold, trim_threshold, /)\n--\n\nglibc's malloc told to serve blocks "
     "under mmap_threshold from the heap and to trim its free top only past trim_threshold; "
     "whether it took both (False without glibc)."},
    {"buffer_offsets", buffer_offsets, METH_VARARGS,
     "buffer_offsets(base, views, /)\n--\n\nWhere each view's buffer starts in base's, or "
     "None when one lies outside it."},
    {"line_texts", line_texts, METH_VARARGS,
     "line_texts(text, wanted, /)\n--\n\nThe lines wanted (indices, in order) of NDJSON text, "
     "each without its line feed."},
    {"split_csv", split_csv, METH_VARARGS,
     "split_csv(block, width, field_limit, /)\n--\n\nThe block's CSV rows as Arrow string "
     "columns: (rows, [(offsets, data)], line breaks in cells, lines per row or None), or "
     "None if the block is not in the plain form every reader agrees on."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_native", "Counts over the text the engine reads, CSV blocks split into columns, the decode windows of refused blocks and the lookups of their refused records, and glibc's heap setting, in C.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__native(void) { return PyModuleDef_Init(&module); }
