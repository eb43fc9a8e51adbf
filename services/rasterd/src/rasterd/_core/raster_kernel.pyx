# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -ffp-contract=off
"""Outline -> binary mask, many glyphs per call and without the GIL (behind ``rasterd.raster``).

Per glyph: check the verb stream, flatten curves into polylines, take the bounding box, scale and
place, fill at the supersampled size by sampling pixel centres (scanline over an active edge list,
winding counted per crossing, spans written as bits), then resize exactly as Pillow's BICUBIC does
and keep values >= 128 (``resample``). ``-ffp-contract=off`` keeps every floating-point step the
same as in the NumPy reference of the tests.
"""

from libc.stdint cimport int16_t, int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memset
from libc.math cimport isfinite

cdef extern from "bitops.h" nogil:
    int count_trailing_zeros "rd_ctz64" (uint64_t v)

from rasterd._core.resample cimport Plans, ResamplePlan, ResampleWork, downsample_bits, plan_for, work_free, work_init

cdef enum:
    INSERTION_SORT_MAX = 48     # longer crossing lists of a row go to qsort

cdef enum:
    # Per-glyph status codes; rasterd.raster turns them into RasterError messages.
    OK = 0
    BAD_VERB = 1
    BAD_STRUCTURE = 2
    POINT_COUNT = 3
    NOT_FINITE = 4
    TOO_MANY_POINTS = 5
    EXTENT_OVERFLOW = 6
    EXTENT_TOO_SMALL = 7
    NO_CONTOURS = 8
    NO_MEMORY = 9

STATUS_NAMES = {
    BAD_VERB: "bad_verb",
    BAD_STRUCTURE: "bad_structure",
    POINT_COUNT: "point_count",
    NOT_FINITE: "not_finite",
    TOO_MANY_POINTS: "too_many_points",
    EXTENT_OVERFLOW: "extent_overflow",
    EXTENT_TOO_SMALL: "extent_too_small",
    NO_CONTOURS: "no_contours",
    NO_MEMORY: "no_memory",
}


cdef struct Edge:
    double x0
    double y0
    double dxdy
    int row0       # first sample row crossed
    int row1       # one past the last sample row crossed
    int downward   # 1 when the edge runs towards larger y (down the image)


cdef struct Params:
    int canvas
    int supersample
    int render
    int subdivisions
    double diacritic_ratio
    int diacritic_target
    int evenodd
    int center
    int64_t max_points
    const double *quad_coeffs    # (subdivisions - 1) * 3
    const double *cubic_coeffs   # (subdivisions - 1) * 4


cdef struct Work:
    double *fx
    double *fy
    int64_t fcap
    int64_t *contour_start
    int64_t ccap
    Edge *edges
    int *order
    int *active
    int32_t *keys
    int64_t ecap
    int *row_count      # render + 1
    uint64_t *bits      # render rows of row_words words (+1 padding word)
    int row_words
    ResampleWork resample


cdef inline void set_span(uint64_t *row, int a, int b) noexcept nogil:
    """Set bits [a, b) of a row, a < b."""
    cdef int wa = a >> 6
    cdef int wb = (b - 1) >> 6
    cdef uint64_t ma = (~(<uint64_t>0)) << (a & 63)
    cdef uint64_t mb = (~(<uint64_t>0)) >> (63 - ((b - 1) & 63))
    cdef int w
    if wa == wb:
        row[wa] |= ma & mb
        return
    row[wa] |= ma
    for w in range(wa + 1, wb):
        row[w] = ~(<uint64_t>0)
    row[wb] |= mb


# ---------------------------------------------------------------------------------------------
# Outline -> mask


cdef int grow_points(Work *w, int64_t need) noexcept nogil:
    cdef int64_t cap
    cdef double *fx
    cdef double *fy
    if need <= w.fcap:
        return 0
    cap = need * 2 if need > 1024 else 2048
    fx = <double *>realloc(w.fx, cap * sizeof(double))
    if fx == NULL:
        return -1
    w.fx = fx
    fy = <double *>realloc(w.fy, cap * sizeof(double))
    if fy == NULL:
        return -1
    w.fy = fy
    w.fcap = cap
    return 0


cdef int grow_contours(Work *w, int64_t need) noexcept nogil:
    cdef int64_t cap
    cdef int64_t *cs
    if need <= w.ccap:
        return 0
    cap = need * 2 if need > 64 else 128
    cs = <int64_t *>realloc(w.contour_start, cap * sizeof(int64_t))
    if cs == NULL:
        return -1
    w.contour_start = cs
    w.ccap = cap
    return 0


cdef int grow_edges(Work *w, int64_t need) noexcept nogil:
    cdef int64_t cap
    cdef void *p
    if need <= w.ecap:
        return 0
    cap = need * 2 if need > 1024 else 2048
    p = realloc(w.edges, cap * sizeof(Edge))
    if p == NULL:
        return -1
    w.edges = <Edge *>p
    p = realloc(w.order, cap * sizeof(int))
    if p == NULL:
        return -1
    w.order = <int *>p
    p = realloc(w.active, cap * sizeof(int))
    if p == NULL:
        return -1
    w.active = <int *>p
    p = realloc(w.keys, cap * sizeof(int32_t))
    if p == NULL:
        return -1
    w.keys = <int32_t *>p
    w.ecap = cap
    return 0


cdef int check_outline(const double *pts, int64_t npts, const uint8_t *verbs, int64_t nverbs,
                       int64_t max_points) noexcept nogil:
    """Verbs well formed (every contour MOVE ... CLOSE), points match the verbs, all finite."""
    cdef int64_t i, used = 0
    cdef int open_contour = 0, contours = 0
    cdef uint8_t v
    if npts > max_points:
        return TOO_MANY_POINTS
    for i in range(nverbs):
        v = verbs[i]
        if v > 4:
            return BAD_VERB
        if v == 0:
            if open_contour:
                return BAD_STRUCTURE
            open_contour = 1
            contours += 1
            used += 1
        elif v == 4:
            if not open_contour:
                return BAD_STRUCTURE
            open_contour = 0
        else:
            if not open_contour:
                return BAD_STRUCTURE
            used += v if v < 3 else 3
    if open_contour:
        return BAD_STRUCTURE
    if used != npts:
        return POINT_COUNT
    if contours == 0:
        return NO_CONTOURS
    for i in range(2 * npts):
        if not isfinite(pts[i]):
            return NOT_FINITE
    return OK


cdef int flatten(const double *pts, const uint8_t *verbs, int64_t nverbs, const Params *p,
                 Work *w, int64_t *npoints, int64_t *ncontours) noexcept nogil:
    """Curves -> polyline points (font units) in w.fx / w.fy, contour c spanning
    [contour_start[c], contour_start[c + 1])."""
    cdef int64_t n = 0, nc = 0, i
    cdef int k, sub = p.subdivisions
    cdef const double *q
    cdef double x0 = 0, y0 = 0
    cdef uint8_t v
    for i in range(nverbs):
        v = verbs[i]
        if v == 0:
            if grow_points(w, n + 1) or grow_contours(w, nc + 2):
                return NO_MEMORY
            w.contour_start[nc] = n
            nc += 1
            x0 = pts[0]
            y0 = pts[1]
            w.fx[n] = x0
            w.fy[n] = y0
            n += 1
            pts += 2
        elif v == 1:
            if grow_points(w, n + 1):
                return NO_MEMORY
            x0 = pts[0]
            y0 = pts[1]
            w.fx[n] = x0
            w.fy[n] = y0
            n += 1
            pts += 2
        elif v == 2:
            if grow_points(w, n + sub):
                return NO_MEMORY
            for k in range(sub - 1):
                q = &p.quad_coeffs[3 * k]
                w.fx[n] = q[0] * x0 + q[1] * pts[0] + q[2] * pts[2]
                w.fy[n] = q[0] * y0 + q[1] * pts[1] + q[2] * pts[3]
                n += 1
            x0 = pts[2]
            y0 = pts[3]
            w.fx[n] = x0
            w.fy[n] = y0
            n += 1
            pts += 4
        elif v == 3:
            if grow_points(w, n + sub):
                return NO_MEMORY
            for k in range(sub - 1):
                q = &p.cubic_coeffs[4 * k]
                w.fx[n] = q[0] * x0 + q[1] * pts[0] + q[2] * pts[2] + q[3] * pts[4]
                w.fy[n] = q[0] * y0 + q[1] * pts[1] + q[2] * pts[3] + q[3] * pts[5]
                n += 1
            x0 = pts[4]
            y0 = pts[5]
            w.fx[n] = x0
            w.fy[n] = y0
            n += 1
            pts += 6
    w.contour_start[nc] = n
    npoints[0] = n
    ncontours[0] = nc
    return OK


cdef inline int ceil_clamped(double a, int hi) noexcept nogil:
    """ceil(a) clamped to [0, hi]; NaN maps to 0."""
    cdef int i
    if not (a > -1.0):
        return 0
    if a > hi:
        return hi
    i = <int>a
    if <double>i < a:
        i += 1
    return i if i > 0 else 0


cdef int cmp_int32(const void *a, const void *b) noexcept nogil:
    cdef int32_t x = (<const int32_t *>a)[0]
    cdef int32_t y = (<const int32_t *>b)[0]
    return (x > y) - (x < y)


cdef inline void sort_keys(int32_t *keys, int n) noexcept nogil:
    cdef int i, j
    cdef int32_t v
    if n > INSERTION_SORT_MAX:
        qsort(keys, n, sizeof(int32_t), cmp_int32)
        return
    for i in range(1, n):
        v = keys[i]
        j = i - 1
        while j >= 0 and keys[j] > v:
            keys[j + 1] = keys[j]
            j -= 1
        keys[j + 1] = v


cdef int fill(Work *w, int64_t npoints, int64_t ncontours, int size, int evenodd,
              int *ink) noexcept nogil:
    """Fill the pixel-space polygons into the bit canvas (size x size) by sampling pixel centres:
    a pixel is ink when the winding number of the crossings at or left of its centre is nonzero
    (odd for even-odd). ``ink`` receives the rows/columns [r0, r1) x [c0, c1) that got ink."""
    cdef int64_t c, i, a, b, nedges = 0, next_edge
    cdef double x0, y0, x1, y1, ylo, yhi, yc
    cdef int row0, row1, j, nact, keep, nkeys, m, col, winding, inside, span_start, in_span
    cdef int r0 = size, r1 = 0, c0 = size, c1 = 0
    cdef Edge *e
    cdef uint64_t *row
    cdef int32_t key
    if grow_edges(w, npoints):
        return NO_MEMORY
    for c in range(ncontours):
        a = w.contour_start[c]
        b = w.contour_start[c + 1]
        for i in range(a, b):
            x0 = w.fx[i]
            y0 = w.fy[i]
            if i + 1 < b:
                x1 = w.fx[i + 1]
                y1 = w.fy[i + 1]
            else:
                x1 = w.fx[a]
                y1 = w.fy[a]
            if y0 == y1:
                continue
            if y0 < y1:
                ylo = y0
                yhi = y1
            else:
                ylo = y1
                yhi = y0
            row0 = ceil_clamped(ylo - 0.5, size)
            row1 = ceil_clamped(yhi - 0.5, size)
            if row0 >= row1:
                continue
            e = &w.edges[nedges]
            e.x0 = x0
            e.y0 = y0
            e.dxdy = (x1 - x0) / (y1 - y0)
            e.row0 = row0
            e.row1 = row1
            e.downward = y1 > y0
            nedges += 1
    if nedges == 0:
        ink[0] = ink[1] = ink[2] = ink[3] = 0
        return OK
    # Counting sort of the edges by first row.
    memset(w.row_count, 0, (size + 1) * sizeof(int))
    for i in range(nedges):
        w.row_count[w.edges[i].row0 + 1] += 1
    for j in range(size):
        w.row_count[j + 1] += w.row_count[j]
    for i in range(nedges):
        j = w.edges[i].row0
        w.order[w.row_count[j]] = <int>i
        w.row_count[j] += 1
    nact = 0
    next_edge = 0
    j = w.edges[w.order[0]].row0
    while j < size:
        while next_edge < nedges and w.edges[w.order[next_edge]].row0 == j:
            w.active[nact] = w.order[next_edge]
            nact += 1
            next_edge += 1
        if nact == 0:
            if next_edge >= nedges:
                break
            j = w.edges[w.order[next_edge]].row0
            continue
        yc = j + 0.5
        nkeys = 0
        keep = 0
        for m in range(nact):
            e = &w.edges[w.active[m]]
            col = ceil_clamped(e.x0 + (yc - e.y0) * e.dxdy - 0.5, size)
            w.keys[nkeys] = (col << 1) | e.downward
            nkeys += 1
            if e.row1 > j + 1:
                w.active[keep] = w.active[m]
                keep += 1
        nact = keep
        sort_keys(w.keys, nkeys)
        row = w.bits + <int64_t>j * w.row_words
        winding = 0
        in_span = 0
        span_start = 0
        m = 0
        while m < nkeys:
            col = w.keys[m] >> 1
            while m < nkeys and (w.keys[m] >> 1) == col:
                winding += 1 if (w.keys[m] & 1) else -1
                m += 1
            inside = (winding & 1) if evenodd else (winding != 0)
            if inside and not in_span:
                in_span = 1
                span_start = col
            elif in_span and not inside:
                in_span = 0
                if col > span_start:
                    set_span(row, span_start, col)
                    if span_start < c0:
                        c0 = span_start
                    if col > c1:
                        c1 = col
                    if j < r0:
                        r0 = j
                    r1 = j + 1
        if in_span and size > span_start:
            set_span(row, span_start, size)
            if span_start < c0:
                c0 = span_start
            c1 = size
            if j < r0:
                r0 = j
            r1 = j + 1
        j += 1
    if r0 >= r1:
        r0 = r1 = c0 = c1 = 0
    ink[0] = r0
    ink[1] = r1
    ink[2] = c0
    ink[3] = c1
    return OK


cdef int render_glyph(const double *pts, int64_t npts, const uint8_t *verbs, int64_t nverbs,
                      double em_height, const Params *p, const Plans *plan, Work *w,
                      uint8_t *mask, double *meta, uint8_t *diacritic, int16_t *target_dim) noexcept nogil:
    """One glyph: checks, flatten, metadata (bbox[4], scale, ratio in ``meta``), fill, downsample."""
    cdef int status
    cdef int64_t npoints = 0, ncontours = 0, i, r
    cdef double min_x, min_y, max_x, max_y, width, height, major, ratio, scale, rs, off_x, off_y
    cdef int target, is_diacritic, x, size = p.render
    cdef int ink[4]
    cdef uint64_t bits
    cdef uint64_t *row
    status = check_outline(pts, npts, verbs, nverbs, p.max_points)
    if status != OK:
        return status
    status = flatten(pts, verbs, nverbs, p, w, &npoints, &ncontours)
    if status != OK:
        return status
    min_x = max_x = w.fx[0]
    min_y = max_y = w.fy[0]
    for i in range(1, npoints):
        if w.fx[i] < min_x:
            min_x = w.fx[i]
        if w.fx[i] > max_x:
            max_x = w.fx[i]
        if w.fy[i] < min_y:
            min_y = w.fy[i]
        if w.fy[i] > max_y:
            max_y = w.fy[i]
    width = max_x - min_x
    height = max_y - min_y
    if not (isfinite(width) and isfinite(height)):
        return EXTENT_OVERFLOW
    major = width if width > height else height
    if not (em_height > 0.0 and isfinite(em_height)):
        em_height = height
    ratio = major / em_height
    is_diacritic = ratio < p.diacritic_ratio
    target = p.diacritic_target if is_diacritic else p.canvas
    scale = target / major if major > 0.0 else 1.0
    if not isfinite(scale):
        return EXTENT_TOO_SMALL
    meta[0] = min_x
    meta[1] = min_y
    meta[2] = max_x
    meta[3] = max_y
    meta[4] = scale
    meta[5] = ratio
    diacritic[0] = is_diacritic
    target_dim[0] = target
    if major == 0.0:
        return OK
    rs = scale * p.supersample
    off_x = (size - width * rs) * 0.5 if p.center else 0.0
    off_y = (size - height * rs) * 0.5 if p.center else 0.0
    for i in range(npoints):
        w.fx[i] = (w.fx[i] - min_x) * rs + off_x
        w.fy[i] = (max_y - w.fy[i]) * rs + off_y
    status = fill(w, npoints, ncontours, size, p.evenodd, ink)
    if status != OK:
        return status
    if p.supersample == 1:
        for r in range(ink[0], ink[1]):
            row = w.bits + r * w.row_words
            for x in range(ink[2] >> 6, ((ink[3] - 1) >> 6) + 1):
                bits = row[x]
                while bits:
                    mask[r * size + x * 64 + count_trailing_zeros(bits)] = 255
                    bits &= bits - 1
    else:
        downsample_bits(w.bits, ink[0], ink[1], ink[2], ink[3], plan, &w.resample, mask, 1)
    if ink[1] > ink[0]:
        memset(w.bits + <int64_t>ink[0] * w.row_words, 0, <size_t>(ink[1] - ink[0]) * w.row_words * sizeof(uint64_t))
    return OK


def rasterize_packed(
    const double[:, ::1] points,
    const uint8_t[::1] verbs,
    const int64_t[::1] point_offsets,
    const int64_t[::1] verb_offsets,
    const double[::1] em_heights,
    const double[:, ::1] quad_coeffs,
    const double[:, ::1] cubic_coeffs,
    int canvas, int supersample, double diacritic_ratio, int diacritic_target,
    bint evenodd, bint center, int64_t max_points,
    uint8_t[:, :, ::1] masks,
    double[:, ::1] meta,
    uint8_t[::1] diacritic,
    int16_t[::1] target_dim,
    int32_t[::1] status,
):
    """Rasterize N glyphs packed as concatenated points/verbs with (N + 1) offsets.

    Fills ``masks`` (N, canvas, canvas; zeroed by the caller), ``meta`` (N, 6: bbox, scale, ratio),
    ``diacritic``, ``target_dim`` and ``status`` (0 = ok, else a code of this module).
    """
    cdef Py_ssize_t n = em_heights.shape[0], g
    cdef Params p
    cdef Work w
    cdef int size = canvas * supersample
    cdef ResamplePlan plan = plan_for(size, size, canvas, canvas)
    cdef int64_t p0, v0
    if (masks.shape[0] != n or masks.shape[1] != canvas or masks.shape[2] != canvas or meta.shape[0] != n
            or meta.shape[1] != 6 or diacritic.shape[0] != n or target_dim.shape[0] != n or status.shape[0] != n):
        raise ValueError("output arrays do not match the batch")
    if points.shape[0] and points.shape[1] != 2:
        raise ValueError("points must have shape (P, 2)")
    if point_offsets.shape[0] != n + 1 or verb_offsets.shape[0] != n + 1:
        raise ValueError("offsets must have one entry per glyph plus one")
    if quad_coeffs.shape[1] != 3 or cubic_coeffs.shape[1] != 4 or quad_coeffs.shape[0] != cubic_coeffs.shape[0]:
        raise ValueError("curve coefficients must have shapes (n - 1, 3) and (n - 1, 4)")
    for g in range(n):
        if not (0 <= point_offsets[g] <= point_offsets[g + 1] <= points.shape[0]
                and 0 <= verb_offsets[g] <= verb_offsets[g + 1] <= verbs.shape[0]):
            raise ValueError(f"offsets of glyph {g} are out of order or out of range")
    p.canvas = canvas
    p.supersample = supersample
    p.render = size
    p.subdivisions = quad_coeffs.shape[0] + 1
    p.diacritic_ratio = diacritic_ratio
    p.diacritic_target = diacritic_target
    p.evenodd = evenodd
    p.center = center
    p.max_points = max_points
    p.quad_coeffs = &quad_coeffs[0, 0] if quad_coeffs.shape[0] else NULL
    p.cubic_coeffs = &cubic_coeffs[0, 0] if cubic_coeffs.shape[0] else NULL
    memset(&w, 0, sizeof(Work))
    w.row_words = (size + 63) // 64 + 1
    w.row_count = <int *>malloc((size + 1) * sizeof(int))
    w.bits = <uint64_t *>malloc(<size_t>size * w.row_words * sizeof(uint64_t))
    work_init(&w.resample, &plan.plans, w.row_words)
    try:
        if w.row_count == NULL or w.bits == NULL or w.resample.hbuf == NULL:
            raise MemoryError("raster work buffers")
        memset(w.bits, 0, <size_t>size * w.row_words * sizeof(uint64_t))
        with nogil:
            for g in range(n):
                p0 = point_offsets[g]
                v0 = verb_offsets[g]
                status[g] = render_glyph(
                    &points[0, 0] + 2 * p0 if points.shape[0] else NULL,
                    point_offsets[g + 1] - p0,
                    &verbs[0] + v0 if verbs.shape[0] else NULL,
                    verb_offsets[g + 1] - v0,
                    em_heights[g], &p, &plan.plans, &w,
                    &masks[g, 0, 0], &meta[g, 0], &diacritic[g], &target_dim[g],
                )
    finally:
        free(w.fx)
        free(w.fy)
        free(w.contour_start)
        free(w.edges)
        free(w.order)
        free(w.active)
        free(w.keys)
        free(w.row_count)
        free(w.bits)
        work_free(&w.resample)
