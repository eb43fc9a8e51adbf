# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""A C reader for the contour JSON of docs/data.md that builds exactly what
``glyph_core.contours.parse_contours`` builds, for many glyphs in one call without the GIL.

It only takes the common road: plain ASCII JSON, the known command names, numbers it can convert
with one correctly rounded operation (at most 2**53 as a decimal mantissa, a power of ten up to
1e22). Anything else, including every input the Python parser rejects, is marked for fallback:
the caller hands those glyphs to ``parse_contours``, which stays the definition of the format and
of its error messages.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from libc.stdint cimport int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, realloc
from libc.string cimport memcmp, memcpy

import numpy as np

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL


cdef enum:
    VERB_MOVE = 0
    VERB_LINE = 1
    VERB_QUAD = 2
    VERB_CUBIC = 3
    VERB_CLOSE = 4

cdef enum:
    CMD_MOVE = 0
    CMD_LINE = 1
    CMD_QCURVE = 2
    CMD_CUBIC = 3
    CMD_CLOSE = 4

# Exact powers of ten: every one up to 1e22 is a double.
cdef double POW10[23]
POW10[0] = 1.0
for _i in range(1, 23):
    POW10[_i] = POW10[_i - 1] * 10.0
cdef uint64_t MAX_EXACT = (<uint64_t>1) << 53


cdef struct Builder:
    double *pts          # x, y pairs of every glyph parsed so far
    int64_t npts
    int64_t pcap
    uint8_t *verbs
    int64_t nverbs
    int64_t vcap
    int64_t glyph_pts    # npts when the current glyph started
    int64_t max_points
    int open_contour
    int segments
    int closed
    double *run          # scratch for the points of one command
    int64_t rcap


cdef int reserve(Builder *b, int64_t points, int64_t verbs) noexcept nogil:
    cdef int64_t cap
    cdef void *mem
    if b.npts + points > b.pcap:
        cap = (b.npts + points) * 2 + 1024
        mem = realloc(b.pts, cap * 2 * sizeof(double))
        if mem == NULL:
            return -1
        b.pts = <double *>mem
        b.pcap = cap
    if b.nverbs + verbs > b.vcap:
        cap = (b.nverbs + verbs) * 2 + 1024
        mem = realloc(b.verbs, cap)
        if mem == NULL:
            return -1
        b.verbs = <uint8_t *>mem
        b.vcap = cap
    return 0


cdef int add(Builder *b, int verb, const double *xy, int count) noexcept nogil:
    """Append one verb and its points, refusing (-1) past max_points as parse_contours does."""
    if (b.npts - b.glyph_pts) + count > b.max_points:
        return -1
    if reserve(b, count, 2):   # room for this verb and a CLOSE after it
        return -1
    b.verbs[b.nverbs] = <uint8_t>verb
    b.nverbs += 1
    memcpy(&b.pts[2 * b.npts], xy, count * 2 * sizeof(double))
    b.npts += count
    return 0


cdef void close_contour(Builder *b) noexcept nogil:
    if not b.open_contour:
        return
    if b.segments == 0:
        # A lone moveTo draws nothing and is dropped.
        b.nverbs -= 1
        b.npts -= 1
    else:
        b.verbs[b.nverbs] = VERB_CLOSE   # add() reserved room for it
        b.nverbs += 1
        b.closed += 1
    b.open_contour = 0


cdef int move_to(Builder *b, const double *xy) noexcept nogil:
    close_contour(b)
    if add(b, VERB_MOVE, xy, 1):
        return -1
    b.open_contour = 1
    b.segments = 0
    return 0


cdef int segment(Builder *b, int verb, const double *xy, int count) noexcept nogil:
    if not b.open_contour:
        return -1
    if add(b, verb, xy, count):
        return -1
    b.segments += 1
    return 0


cdef inline void midpoint(const double *a, const double *c, double *out) noexcept nogil:
    out[0] = (a[0] + c[0]) * 0.5
    out[1] = (a[1] + c[1]) * 0.5


cdef int quadratic_run(Builder *b, const double *pts, int count) noexcept nogil:
    """TrueType qCurveTo: off-curve points pts[0 .. count-2], end point pts[count-1]."""
    cdef int i
    cdef double seg[4]
    if count == 1:
        return segment(b, VERB_LINE, pts, 1)
    for i in range(count - 1):
        seg[0] = pts[2 * i]
        seg[1] = pts[2 * i + 1]
        if i == count - 2:
            seg[2] = pts[2 * count - 2]
            seg[3] = pts[2 * count - 1]
        else:
            midpoint(&pts[2 * i], &pts[2 * i + 2], &seg[2])
        if segment(b, VERB_QUAD, seg, 2):
            return -1
    return 0


cdef int all_off_curve(Builder *b, const double *off, int count) noexcept nogil:
    """A closed contour of off-curve points only; on-curve points are the implied midpoints."""
    cdef int i, j
    cdef double start[2]
    cdef double seg[4]
    close_contour(b)
    midpoint(&off[2 * count - 2], off, start)
    if move_to(b, start):
        return -1
    for i in range(count):
        j = (i + 1) % count
        seg[0] = off[2 * i]
        seg[1] = off[2 * i + 1]
        midpoint(&off[2 * i], &off[2 * j], &seg[2])
        if segment(b, VERB_QUAD, seg, 2):
            return -1
    close_contour(b)
    return 0


# ---------------------------------------------------------------------------------------------
# Lexing: every function returns the position after what it read, or NULL to fall back.


cdef inline const char *skip_ws(const char *p, const char *end) noexcept nogil:
    while p < end and (p[0] == c' ' or p[0] == c'\n' or p[0] == c'\r' or p[0] == c'\t'):
        p += 1
    return p


cdef inline int is_digit(char c) noexcept nogil:
    return c'0' <= c <= c'9'


cdef const char *read_number(const char *p, const char *end, double *out) noexcept nogil:
    """A JSON number Python would read to the same double with one exact operation."""
    cdef int negative = 0, is_float = 0, digits = 0, exp_negative = 0
    cdef int64_t exponent = 0, exp_value = 0
    cdef uint64_t mantissa = 0
    cdef double value
    if p < end and p[0] == c'-':
        negative = 1
        p += 1
    if p >= end or not is_digit(p[0]):
        return NULL
    if p[0] == c'0':
        p += 1
        if p < end and is_digit(p[0]):
            return NULL
    else:
        while p < end and is_digit(p[0]):
            if mantissa or p[0] != c'0':
                digits += 1
                if digits > 19:
                    return NULL
            mantissa = mantissa * 10 + <uint64_t>(p[0] - c'0')
            p += 1
    if p < end and p[0] == c'.':
        is_float = 1
        p += 1
        if p >= end or not is_digit(p[0]):
            return NULL
        while p < end and is_digit(p[0]):
            if mantissa or p[0] != c'0':
                digits += 1
                if digits > 19:
                    return NULL
            mantissa = mantissa * 10 + <uint64_t>(p[0] - c'0')
            exponent -= 1
            p += 1
    if p < end and (p[0] == c'e' or p[0] == c'E'):
        is_float = 1
        p += 1
        if p < end and (p[0] == c'+' or p[0] == c'-'):
            exp_negative = p[0] == c'-'
            p += 1
        if p >= end or not is_digit(p[0]):
            return NULL
        while p < end and is_digit(p[0]):
            if exp_value < 100000:
                exp_value = exp_value * 10 + (p[0] - c'0')
            p += 1
        exponent += -exp_value if exp_negative else exp_value
    if mantissa > MAX_EXACT:
        return NULL
    if not is_float:
        # Python reads an integer literal as int, then float(): "-0" is +0.0.
        value = <double>mantissa
        out[0] = -value if (negative and mantissa) else value
        return p
    if mantissa == 0:
        value = 0.0
    elif 0 <= exponent <= 22:
        value = <double>mantissa * POW10[exponent]
    elif -22 <= exponent < 0:
        value = <double>mantissa / POW10[-exponent]
    else:
        return NULL
    out[0] = -value if negative else value
    return p


cdef const char *read_pair(const char *p, const char *end, double *xy) noexcept nogil:
    """'[x, y]' with p just after the '['."""
    p = read_number(skip_ws(p, end), end, &xy[0])
    if p == NULL:
        return NULL
    p = skip_ws(p, end)
    if p >= end or p[0] != c',':
        return NULL
    p = read_number(skip_ws(p + 1, end), end, &xy[1])
    if p == NULL:
        return NULL
    p = skip_ws(p, end)
    if p >= end or p[0] != c']':
        return NULL
    return p + 1


cdef const char *read_points(const char *p, const char *end, Builder *b, int *count,
                             int *null_end) noexcept nogil:
    """A command's point list with p at its '[': either one bare pair '[x, y]' or '[[x, y], ...]',
    whose last item may be null (TrueType all-off-curve contour). Points go to b.run."""
    cdef int n = 0
    cdef void *mem
    null_end[0] = 0
    p = skip_ws(p + 1, end)
    if p >= end:
        return NULL
    if p[0] == c'-' or is_digit(p[0]):
        if b.rcap < 1:
            mem = realloc(b.run, 64 * 2 * sizeof(double))
            if mem == NULL:
                return NULL
            b.run = <double *>mem
            b.rcap = 64
        count[0] = 1
        return read_pair(p, end, b.run)
    if p[0] != c'[':
        return NULL
    while True:
        if p >= end:
            return NULL
        if p[0] == c'[':
            if n >= b.rcap:
                mem = realloc(b.run, (2 * n + 64) * 2 * sizeof(double))
                if mem == NULL:
                    return NULL
                b.run = <double *>mem
                b.rcap = 2 * n + 64
            p = read_pair(p + 1, end, &b.run[2 * n])
            if p == NULL:
                return NULL
            n += 1
        elif end - p >= 4 and memcmp(p, b"null", 4) == 0:
            p = skip_ws(p + 4, end)
            if p >= end or p[0] != c']':
                return NULL
            null_end[0] = 1
            count[0] = n
            return p + 1
        else:
            return NULL
        p = skip_ws(p, end)
        if p >= end:
            return NULL
        if p[0] == c']':
            count[0] = n
            return p + 1
        if p[0] != c',':
            return NULL
        p = skip_ws(p + 1, end)


cdef int command_kind(const char *name, Py_ssize_t length) noexcept nogil:
    if length == 6 and memcmp(name, b"moveTo", 6) == 0:
        return CMD_MOVE
    if length == 6 and memcmp(name, b"lineTo", 6) == 0:
        return CMD_LINE
    if length == 8 and memcmp(name, b"qCurveTo", 8) == 0:
        return CMD_QCURVE
    if (length == 7 and memcmp(name, b"cubicTo", 7) == 0) or (length == 7 and memcmp(name, b"curveTo", 7) == 0):
        return CMD_CUBIC
    if (length == 9 and memcmp(name, b"closePath", 9) == 0) or (length == 7 and memcmp(name, b"endPath", 7) == 0):
        return CMD_CLOSE
    return -1


cdef const char *read_command(const char *p, const char *end, Builder *b) noexcept nogil:
    """One '["name", args]' with p at its '[', applied to the builder."""
    cdef const char *name
    cdef int kind, failed, count = 0, null_end = 0, has_args = 0
    p = skip_ws(p + 1, end)
    if p >= end or p[0] != c'"':
        return NULL
    name = p + 1
    p = name
    while p < end and p[0] != c'"':
        if p[0] == c'\\' or <unsigned char>p[0] < 0x20 or <unsigned char>p[0] >= 0x80:
            return NULL
        p += 1
    if p >= end:
        return NULL
    kind = command_kind(name, p - name)
    if kind < 0:
        return NULL
    p = skip_ws(p + 1, end)
    if p >= end:
        return NULL
    if p[0] == c',':
        p = skip_ws(p + 1, end)
        if p >= end:
            return NULL
        if end - p >= 4 and memcmp(p, b"null", 4) == 0:
            p += 4
        elif kind == CMD_CLOSE:
            # closePath takes null or [] only.
            if p[0] != c'[':
                return NULL
            p = skip_ws(p + 1, end)
            if p >= end or p[0] != c']':
                return NULL
            p += 1
        else:
            if p[0] != c'[':
                return NULL
            p = read_points(p, end, b, &count, &null_end)
            if p == NULL:
                return NULL
            has_args = 1
        p = skip_ws(p, end)
    if p >= end or p[0] != c']':
        return NULL
    p += 1
    if kind == CMD_CLOSE:
        close_contour(b)
        return p
    if not has_args:
        return NULL
    if null_end:
        failed = kind != CMD_QCURVE or count == 0 or all_off_curve(b, b.run, count)
    elif kind == CMD_MOVE:
        failed = count != 1 or move_to(b, b.run)
    elif kind == CMD_LINE:
        failed = count != 1 or segment(b, VERB_LINE, b.run, 1)
    elif kind == CMD_CUBIC:
        failed = count != 3 or segment(b, VERB_CUBIC, b.run, 3)
    else:
        failed = quadratic_run(b, b.run, count)
    if failed:
        return NULL
    return p


cdef const char *read_subpath(const char *p, const char *end, Builder *b) noexcept nogil:
    """A list of commands with p at its '['; the open contour is closed at its end."""
    p = skip_ws(p + 1, end)
    if p < end and p[0] == c']':
        close_contour(b)
        return p + 1
    while True:
        if p >= end or p[0] != c'[':
            return NULL
        p = read_command(p, end, b)
        if p == NULL:
            return NULL
        p = skip_ws(p, end)
        if p >= end:
            return NULL
        if p[0] == c']':
            close_contour(b)
            return p + 1
        if p[0] != c',':
            return NULL
        p = skip_ws(p + 1, end)


cdef int read_glyph(const char *p, const char *end, Builder *b) noexcept nogil:
    """A whole contour string; 0 when it built a closed outline, -1 to fall back."""
    cdef const char *q
    p = skip_ws(p, end)
    if p >= end or p[0] != c'[':
        return -1
    q = skip_ws(p + 1, end)
    if q >= end or q[0] != c'[':
        return -1
    if skip_ws(q + 1, end) < end and skip_ws(q + 1, end)[0] == c'"':
        # The first item is a command: the whole list is one subpath.
        p = read_subpath(p, end, b)
    else:
        p = q
        while True:
            p = read_subpath(p, end, b)
            if p == NULL:
                return -1
            p = skip_ws(p, end)
            if p >= end:
                return -1
            if p[0] == c']':
                p += 1
                break
            if p[0] != c',':
                return -1
            p = skip_ws(p + 1, end)
            if p >= end or p[0] != c'[':
                return -1
    if p == NULL or skip_ws(p, end) != end:
        return -1
    if b.closed == 0:
        return -1
    return 0


def parse_batch(texts, long long max_points):
    """Parse many contour strings (str or bytes) at once.

    Returns ``(points (P, 2) float64, verbs uint8, point_offsets (N + 1), verb_offsets (N + 1),
    fallback bool (N,))``. A glyph marked ``fallback`` has an empty slice and must be parsed by
    ``glyph_core.contours.parse_contours`` (which also produces its error, if any).
    """
    cdef Py_ssize_t n = len(texts), g, size
    cdef const char *data
    cdef Builder b
    cdef int64_t verbs_before
    keep = list(texts)
    starts = np.zeros(n, dtype=np.intp)
    sizes = np.full(n, -1, dtype=np.intp)
    cdef Py_ssize_t[::1] starts_v = starts
    cdef Py_ssize_t[::1] sizes_v = sizes
    for g in range(n):
        text = keep[g]
        if isinstance(text, bytes):
            data = PyBytes_AS_STRING(text)
            size = PyBytes_GET_SIZE(text)
        elif isinstance(text, str):
            try:
                data = PyUnicode_AsUTF8AndSize(text, &size)
            except UnicodeError:
                continue
        else:
            continue
        starts_v[g] = <Py_ssize_t>data
        sizes_v[g] = size
    point_offsets = np.zeros(n + 1, dtype=np.int64)
    verb_offsets = np.zeros(n + 1, dtype=np.int64)
    fallback = np.zeros(n, dtype=bool)
    cdef int64_t[::1] po = point_offsets
    cdef int64_t[::1] vo = verb_offsets
    cdef uint8_t[::1] fb = fallback.view(np.uint8)
    b.pts = NULL
    b.verbs = NULL
    b.run = NULL
    b.npts = b.pcap = b.nverbs = b.vcap = b.rcap = 0
    b.max_points = max_points
    try:
        with nogil:
            for g in range(n):
                b.glyph_pts = b.npts
                verbs_before = b.nverbs
                b.open_contour = 0
                b.segments = 0
                b.closed = 0
                if sizes_v[g] < 0 or read_glyph(<const char *>starts_v[g], <const char *>starts_v[g] + sizes_v[g], &b):
                    fb[g] = 1
                    b.npts = b.glyph_pts
                    b.nverbs = verbs_before
                po[g + 1] = b.npts
                vo[g + 1] = b.nverbs
        points = np.empty((b.npts, 2), dtype=np.float64)
        verbs = np.empty(b.nverbs, dtype=np.uint8)
        if b.npts:
            memcpy(<void *><Py_ssize_t>points.ctypes.data, b.pts, b.npts * 2 * sizeof(double))
        if b.nverbs:
            memcpy(<void *><Py_ssize_t>verbs.ctypes.data, b.verbs, b.nverbs)
    finally:
        free(b.pts)
        free(b.verbs)
        free(b.run)
    return points, verbs, point_offsets, verb_offsets, fallback
