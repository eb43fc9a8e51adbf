# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -ffp-contract=off
"""Pillow's BICUBIC resize of binary images, bit for bit, working on bit rows.

Pillow resizes in two fixed-point passes (horizontal, clip to uint8, vertical, clip) with weights
from ``precompute_coeffs``; that arithmetic is redone here. What changes is how it is evaluated:

* Horizontal: on a binary row an output pixel only depends on the bits under its filter window, so
  a group of output columns is one lookup in a table indexed by the bits of their joint window.
* Vertical: an output pixel whose whole 2-D window is background is 0 and one whose window is all
  ink has a fixed value (precomputed), so only pixels near an edge are summed; which ones is decided
  per group with word-wide OR/AND of the window rows.
* Only output pixels whose window meets the ink's bounding box are visited.
"""

from libc.math cimport ceil
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcmp, memcpy, memset

import numpy as np

cdef extern from "bitops.h" nogil:
    void vertical4 "rd_vertical4" (const float *h, Py_ssize_t stride, const float *high4, const float *low4,
                                   int ntaps, int32_t *acc)
    void bytes_to_float4 "rd_bytes_to_float4" (const uint8_t *p, float *out)
    int count_trailing_zeros "rd_ctz64" (uint64_t v)
    int count_leading_zeros "rd_clz64" (uint64_t v)
    void pack_row "rd_pack_row" (const unsigned char *src, int width, uint64_t *words)

cdef enum:
    PRECISION_BITS = 22
    ROUNDING = 1 << 21                 # Pillow starts every sum at one half
    THRESHOLD_ACC = 128 << 22          # clip8(acc) >= 128  <=>  acc >= 128 << 22
    CHUNK_BITS = 8
    GROUP = 4                          # output columns per group
    MAX_GROUP_BITS = 14                # widest group window with its own table (16K entries)


cdef double bicubic(double x) noexcept nogil:
    # Keys' cubic, a = -0.5, with Pillow's operation order so that the doubles agree exactly.
    if x < 0.0:
        x = -x
    if x < 1.0:
        return ((-0.5 + 2.0) * x - (-0.5 + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * -0.5
    return 0.0


cdef inline int clip8(int32_t acc) noexcept nogil:
    cdef int32_t v = acc >> PRECISION_BITS
    if v < 0:
        return 0
    if v > 255:
        return 255
    return v


cdef inline uint64_t bits_at(const uint64_t *row, int bit) noexcept nogil:
    """The 64 bits of a row from ``bit`` on (rows carry one zero padding word)."""
    cdef int w = bit >> 6
    cdef int sh = bit & 63
    return (row[w] >> sh) | ((row[w + 1] << 1) << (63 - sh))


cdef inline uint64_t low_mask(int bits) noexcept nogil:
    return ~(<uint64_t>0) if bits >= 64 else ((<uint64_t>1) << bits) - 1


cdef int build_axis(AxisPlan *plan, int in_size, int out_size) noexcept nogil:
    """Pillow's precompute_coeffs and normalize_coeffs_8bpc for the box (0, in_size)."""
    cdef double scale = <double>(<float>in_size) / out_size
    cdef double filterscale = scale if scale >= 1.0 else 1.0
    cdef double support = 2.0 * filterscale
    cdef double ss = 1.0 / filterscale
    cdef double center, ww, w
    cdef double *k
    cdef int64_t high_sum, low_sum
    cdef int i
    cdef int ksize = <int>ceil(support) * 2 + 1
    cdef int xx, x, xmin, xmax
    plan.in_size = in_size
    plan.out_size = out_size
    plan.ksize = ksize
    plan.start = <int *>malloc(out_size * sizeof(int))
    plan.taps = <int *>malloc(out_size * sizeof(int))
    plan.weights = <int32_t *>calloc(out_size * ksize, sizeof(int32_t))
    plan.high4 = <float *>malloc(out_size * ksize * 4 * sizeof(float))
    plan.low4 = <float *>malloc(out_size * ksize * 4 * sizeof(float))
    k = <double *>malloc(ksize * sizeof(double))
    if (plan.start == NULL or plan.taps == NULL or plan.weights == NULL or plan.high4 == NULL or plan.low4 == NULL
            or k == NULL):
        free(k)
        return -1
    for xx in range(out_size):
        center = (xx + 0.5) * scale
        ww = 0.0
        xmin = <int>(center - support + 0.5)
        if xmin < 0:
            xmin = 0
        xmax = <int>(center + support + 0.5)
        if xmax > in_size:
            xmax = in_size
        xmax -= xmin
        for x in range(xmax):
            w = bicubic((x + xmin - center + 0.5) * ss)
            k[x] = w
            ww += w
        for x in range(xmax):
            if ww != 0.0:
                k[x] /= ww
            if k[x] < 0:
                plan.weights[xx * ksize + x] = <int32_t>(-0.5 + k[x] * (1 << PRECISION_BITS))
            else:
                plan.weights[xx * ksize + x] = <int32_t>(0.5 + k[x] * (1 << PRECISION_BITS))
        plan.start[xx] = xmin
        plan.taps[xx] = xmax
    # The vertical pass may sum high and low parts in float32 when both sums stay exact.
    plan.split_exact = 1
    for xx in range(out_size):
        high_sum = 0
        low_sum = 0
        for x in range(ksize):
            for i in range(4):
                plan.high4[(xx * ksize + x) * 4 + i] = <float>(plan.weights[xx * ksize + x] >> 11)
                plan.low4[(xx * ksize + x) * 4 + i] = <float>(plan.weights[xx * ksize + x] & 2047)
            high_sum += abs(plan.weights[xx * ksize + x] >> 11)
            low_sum += plan.weights[xx * ksize + x] & 2047
        if 255 * high_sum >= (1 << 24) or 255 * low_sum >= (1 << 24):
            plan.split_exact = 0
    free(k)
    return 0


cdef int32_t horizontal_sum(const AxisPlan *xs, int column, uint64_t window, int offset) noexcept nogil:
    """Pillow's horizontal accumulator for ``column`` when bit i of ``window`` is input pixel
    xs.start[column] - offset + i."""
    cdef int32_t s = ROUNDING
    cdef int t
    for t in range(xs.taps[column]):
        if (window >> (offset + t)) & 1:
            s += 255 * xs.weights[column * xs.ksize + t]
    return s


cdef int same_group(const AxisPlan *xs, int a, int b, int ncols) noexcept nogil:
    """Groups starting at columns a and b have the same windows relative to their first pixel."""
    cdef int i
    for i in range(ncols):
        if (xs.taps[a + i] != xs.taps[b + i]
                or xs.start[a + i] - xs.start[a] != xs.start[b + i] - xs.start[b]
                or memcmp(&xs.weights[(a + i) * xs.ksize], &xs.weights[(b + i) * xs.ksize],
                          xs.ksize * sizeof(int32_t))):
            return 0
    return 1


cdef inline int group_end(const AxisPlan *xs, int g) noexcept nogil:
    """One past the last input pixel that column group g reads."""
    cdef int last = min(g * GROUP + GROUP, xs.out_size) - 1
    return xs.start[last] + xs.taps[last]


cdef int build_columns(ColumnPlan *cols, const AxisPlan *xs) noexcept nogil:
    cdef int out_w = xs.out_size
    cdef int ngroups = (out_w + GROUP - 1) // GROUP
    cdef int nchunks = 0, ntables = 0, nchunk_tables = 0
    cdef int g, t, c, xx, first, ncols, width, i, length, p, start
    cdef int64_t total = 0
    cdef uint64_t v
    cdef int32_t *wk
    cdef int32_t s
    cdef int *table_first = <int *>malloc(ngroups * sizeof(int))      # group each table is built from
    cdef int *table_width = <int *>malloc(ngroups * sizeof(int))
    cdef int64_t *table_offset = <int64_t *>malloc(ngroups * sizeof(int64_t))
    cdef int *chunk_src                                                # (column, first tap, length)
    for xx in range(out_w):
        nchunks += (xs.taps[xx] + CHUNK_BITS - 1) // CHUNK_BITS
    chunk_src = <int *>malloc((nchunks + 1) * 3 * sizeof(int))
    cols.ngroups = ngroups
    cols.group_bit = <int *>malloc(ngroups * sizeof(int))
    cols.group_mask = <uint64_t *>malloc(ngroups * sizeof(uint64_t))
    cols.group_table = <int *>malloc(ngroups * sizeof(int))
    cols.group_from = <int *>malloc((xs.in_size + 1) * sizeof(int))
    cols.group_to = <int *>malloc((xs.in_size + 1) * sizeof(int))
    cols.col_chunk = <int *>malloc((out_w + 1) * sizeof(int))
    cols.chunk_bit = <int *>malloc((nchunks + 1) * sizeof(int))
    cols.chunk_mask = <uint64_t *>malloc((nchunks + 1) * sizeof(uint64_t))
    cols.chunk_table = <int *>malloc((nchunks + 1) * sizeof(int))
    cols.chunk_tables = <int32_t *>malloc((nchunks + 1) * 256 * sizeof(int32_t))
    if (cols.group_bit == NULL or cols.group_mask == NULL or cols.group_table == NULL or cols.group_from == NULL
            or cols.group_to == NULL or cols.col_chunk == NULL
            or cols.chunk_bit == NULL or cols.chunk_mask == NULL or cols.chunk_table == NULL
            or cols.chunk_tables == NULL or table_first == NULL or table_width == NULL
            or table_offset == NULL or chunk_src == NULL):
        free(table_first)
        free(table_width)
        free(table_offset)
        free(chunk_src)
        return -1
    # Groups: the union window of their columns; narrow ones get a table, shared between groups
    # whose windows are the same relative to their first pixel (all interior groups).
    for g in range(ngroups):
        first = g * GROUP
        ncols = min(GROUP, out_w - first)
        width = xs.start[first + ncols - 1] + xs.taps[first + ncols - 1] - xs.start[first]
        cols.group_bit[g] = xs.start[first]
        cols.group_mask[g] = low_mask(width) if width <= 64 else 0
        cols.group_table[g] = -1
        if width > MAX_GROUP_BITS:
            continue
        for t in range(ntables):
            if min(GROUP, out_w - table_first[t]) == ncols and same_group(xs, table_first[t], first, ncols):
                cols.group_table[g] = <int>table_offset[t]
                break
        if cols.group_table[g] < 0:
            table_first[ntables] = first
            table_width[ntables] = width
            table_offset[ntables] = total
            cols.group_table[g] = <int>total
            total += (<int64_t>1 << width) * GROUP
            ntables += 1
    # Which groups can see input pixel x (windows move monotonically with the group index).
    g = 0
    t = 0
    for xx in range(xs.in_size + 1):
        while g < ngroups and group_end(xs, g) <= xx:
            g += 1
        cols.group_from[xx] = g
        while t < ngroups and cols.group_bit[t] < xx:
            t += 1
        cols.group_to[xx] = t
    cols.group_tables = <uint8_t *>calloc(total + 1, 1)
    if cols.group_tables == NULL:
        free(table_first)
        free(table_width)
        free(table_offset)
        free(chunk_src)
        return -1
    for t in range(ntables):
        first = table_first[t]
        ncols = min(GROUP, out_w - first)
        for v in range(<uint64_t>1 << table_width[t]):
            for i in range(ncols):
                cols.group_tables[table_offset[t] + v * GROUP + i] = <uint8_t>clip8(
                    horizontal_sum(xs, first + i, v, xs.start[first + i] - xs.start[first]))
    # Per-column chunk tables: 256 partial sums per 8 window bits, shared when identical.
    c = 0
    for xx in range(out_w):
        cols.col_chunk[xx] = c
        start = 0
        while start < xs.taps[xx]:
            length = min(CHUNK_BITS, xs.taps[xx] - start)
            wk = &xs.weights[xx * xs.ksize + start]
            cols.chunk_table[c] = -1
            for t in range(nchunk_tables):
                if chunk_src[3 * t + 2] == length and memcmp(
                        &xs.weights[chunk_src[3 * t] * xs.ksize + chunk_src[3 * t + 1]], wk,
                        length * sizeof(int32_t)) == 0:
                    cols.chunk_table[c] = t * 256
                    break
            if cols.chunk_table[c] < 0:
                chunk_src[3 * nchunk_tables] = xx
                chunk_src[3 * nchunk_tables + 1] = start
                chunk_src[3 * nchunk_tables + 2] = length
                for p in range(1 << length):
                    s = 0
                    for i in range(length):
                        if (p >> i) & 1:
                            s += 255 * wk[i]
                    cols.chunk_tables[nchunk_tables * 256 + p] = s
                cols.chunk_table[c] = nchunk_tables * 256
                nchunk_tables += 1
            cols.chunk_bit[c] = xs.start[xx] + start
            cols.chunk_mask[c] = low_mask(length)
            c += 1
            start += length
    cols.col_chunk[out_w] = c
    free(table_first)
    free(table_width)
    free(table_offset)
    free(chunk_src)
    return 0


cdef int build_full(Plans *plan) noexcept nogil:
    """The resampled value of each output pixel when its whole window is ink."""
    cdef const AxisPlan *xs = &plan.xs
    cdef const AxisPlan *ys = &plan.ys
    cdef int xx, yy, t
    cdef int32_t acc
    cdef uint8_t *h = <uint8_t *>malloc(xs.out_size)
    plan.full = <uint8_t *>malloc(<int64_t>xs.out_size * ys.out_size)
    if h == NULL or plan.full == NULL:
        free(h)
        return -1
    for xx in range(xs.out_size):
        acc = ROUNDING
        for t in range(xs.taps[xx]):
            acc += 255 * xs.weights[xx * xs.ksize + t]
        h[xx] = <uint8_t>clip8(acc)
    for yy in range(ys.out_size):
        for xx in range(xs.out_size):
            acc = ROUNDING
            for t in range(ys.taps[yy]):
                acc += h[xx] * ys.weights[yy * ys.ksize + t]
            plan.full[yy * xs.out_size + xx] = <uint8_t>clip8(acc)
    free(h)
    return 0


cdef class ResamplePlan:
    """Coefficients and lookup tables for one (in_h, in_w) -> (out_h, out_w) resize."""

    def __cinit__(self, int in_h, int in_w, int out_h, int out_w):
        if min(in_h, in_w, out_h, out_w) < 1:
            raise ValueError(f"resample sizes must be positive, got {in_h}x{in_w} -> {out_h}x{out_w}")
        self.in_h, self.in_w, self.out_h, self.out_w = in_h, in_w, out_h, out_w
        if (build_axis(&self.plans.xs, in_w, out_w) or build_axis(&self.plans.ys, in_h, out_h)
                or build_columns(&self.plans.cols, &self.plans.xs) or build_full(&self.plans)):
            raise MemoryError("resample plan")

    def __dealloc__(self):
        free(self.plans.xs.start)
        free(self.plans.xs.taps)
        free(self.plans.xs.weights)
        free(self.plans.xs.high4)
        free(self.plans.xs.low4)
        free(self.plans.ys.start)
        free(self.plans.ys.taps)
        free(self.plans.ys.weights)
        free(self.plans.ys.high4)
        free(self.plans.ys.low4)
        free(self.plans.cols.group_bit)
        free(self.plans.cols.group_mask)
        free(self.plans.cols.group_table)
        free(self.plans.cols.group_from)
        free(self.plans.cols.group_to)
        free(self.plans.cols.group_tables)
        free(self.plans.cols.col_chunk)
        free(self.plans.cols.chunk_bit)
        free(self.plans.cols.chunk_mask)
        free(self.plans.cols.chunk_table)
        free(self.plans.cols.chunk_tables)
        free(self.plans.full)


_plans = {}


cdef ResamplePlan plan_for(int in_h, int in_w, int out_h, int out_w):
    """The cached plan for these sizes (building one takes a few milliseconds)."""
    key = (in_h, in_w, out_h, out_w)
    plan = _plans.get(key)
    if plan is None:
        plan = _plans[key] = ResamplePlan(in_h, in_w, out_h, out_w)
    return plan


cdef int work_init(ResampleWork *work, const Plans *plan, int row_words) noexcept nogil:
    """Allocate the buffers for canvases of ``row_words`` words per row; -1 without memory."""
    work.row_words = row_words
    work.stride = plan.cols.ngroups * GROUP
    work.hbuf = <float *>malloc((<size_t>plan.ys.in_size * work.stride + GROUP) * sizeof(float))
    work.any_ink = <uint64_t *>malloc(2 * row_words * sizeof(uint64_t))
    work.all_ink = work.any_ink + row_words if work.any_ink != NULL else NULL
    work.frontier = <int *>malloc(plan.cols.ngroups * sizeof(int))
    if work.hbuf == NULL or work.any_ink == NULL or work.frontier == NULL:
        work_free(work)
        return -1
    return 0


cdef void work_free(ResampleWork *work) noexcept nogil:
    free(work.hbuf)
    free(work.any_ink)
    free(work.frontier)
    work.hbuf = NULL
    work.any_ink = work.all_ink = NULL
    work.frontier = NULL


cdef inline void horizontal_group(const ColumnPlan *cols, int out_w, const uint64_t *row, int g,
                                  float *h) noexcept nogil:
    """Pillow's horizontal values of column group g of one bit row into h[g * GROUP ...]."""
    cdef int xx, c
    cdef int32_t s
    if cols.group_table[g] >= 0:
        bytes_to_float4(cols.group_tables + cols.group_table[g]
                        + <int64_t>(bits_at(row, cols.group_bit[g]) & cols.group_mask[g]) * GROUP, h + g * GROUP)
        return
    for xx in range(g * GROUP, min(g * GROUP + GROUP, out_w)):
        s = ROUNDING
        for c in range(cols.col_chunk[xx], cols.col_chunk[xx + 1]):
            s += cols.chunk_tables[cols.chunk_table[c] + <int>(bits_at(row, cols.chunk_bit[c]) & cols.chunk_mask[c])]
        h[xx] = <float>clip8(s)


cdef void downsample_bits(const uint64_t *bits, int r0, int r1, int c0, int c1, const Plans *plan,
                          ResampleWork *work, uint8_t *out, int threshold) noexcept nogil:
    """Resize a bit canvas whose ink lies in rows [r0, r1) x columns [c0, c1) into ``out``
    (out_h x out_w, zeroed by the caller). With ``threshold`` the result is 255 where Pillow's value
    is >= 128, else 0; otherwise it is Pillow's value."""
    cdef const AxisPlan *xs = &plan.xs
    cdef const AxisPlan *ys = &plan.ys
    cdef const ColumnPlan *cols = &plan.cols
    cdef int out_w = xs.out_size, out_h = ys.out_size, row_words = work.row_words, stride = work.stride
    cdef int xx0 = 0, xx1 = out_w, yy0 = 0, yy1 = out_h
    cdef int g, g0, g1, ga, gb, yy, r, t, i, ncols, ymin, ntaps, lo, hi, w, a, b
    cdef int w0 = c0 >> 6, w1 = ((c1 - 1) >> 6) + 1
    cdef int32_t k
    cdef const float *hr
    cdef int32_t acc[GROUP]
    cdef uint64_t m
    cdef const uint64_t *row
    cdef uint64_t *any_ink = work.any_ink
    cdef uint64_t *all_ink = work.all_ink
    cdef const uint8_t *full
    cdef uint8_t *o
    if r0 >= r1 or c0 >= c1:
        return
    # Output pixels whose windows reach the ink (windows move monotonically with the output index).
    while xx0 < out_w and xs.start[xx0] + xs.taps[xx0] <= c0:
        xx0 += 1
    while xx1 > xx0 and xs.start[xx1 - 1] >= c1:
        xx1 -= 1
    while yy0 < out_h and ys.start[yy0] + ys.taps[yy0] <= r0:
        yy0 += 1
    while yy1 > yy0 and ys.start[yy1 - 1] >= r1:
        yy1 -= 1
    if xx0 >= xx1 or yy0 >= yy1:
        return
    g0 = xx0 // GROUP
    g1 = (xx1 + GROUP - 1) // GROUP
    for g in range(g0, g1):
        work.frontier[g] = r0
    for yy in range(yy0, yy1):
        ymin = ys.start[yy]
        ntaps = ys.taps[yy]
        lo = ymin if ymin > r0 else r0
        hi = ymin + ntaps if ymin + ntaps < r1 else r1
        # Which groups see no ink, only ink, or both: OR / AND of the window rows (words outside
        # the ink's columns stay zero).
        memset(any_ink, 0, 2 * row_words * sizeof(uint64_t))
        if lo == ymin and hi == ymin + ntaps:
            for w in range(w0, w1):
                all_ink[w] = ~(<uint64_t>0)
            for r in range(lo, hi):
                row = bits + <int64_t>r * row_words
                for w in range(w0, w1):
                    any_ink[w] |= row[w]
                    all_ink[w] &= row[w]
        else:
            for r in range(lo, hi):
                row = bits + <int64_t>r * row_words
                for w in range(w0, w1):
                    any_ink[w] |= row[w]
        # Only groups that can see this output row's ink columns [a, b).
        w = w0
        while w < w1 and not any_ink[w]:
            w += 1
        if w == w1:
            continue
        a = w * 64 + count_trailing_zeros(any_ink[w])
        w = w1 - 1
        while not any_ink[w]:
            w -= 1
        b = w * 64 + 64 - count_leading_zeros(any_ink[w])
        ga = max(g0, cols.group_from[a])
        gb = min(g1, cols.group_to[b])
        o = out + <int64_t>yy * out_w
        full = plan.full + <int64_t>yy * out_w
        for g in range(ga, gb):
            ncols = min(GROUP, out_w - g * GROUP)
            m = cols.group_mask[g]
            if m:
                if (bits_at(any_ink, cols.group_bit[g]) & m) == 0:
                    continue
                if (bits_at(all_ink, cols.group_bit[g]) & m) == m:
                    for i in range(ncols):
                        o[g * GROUP + i] = (255 if full[g * GROUP + i] >= 128 else 0) if threshold else full[g * GROUP + i]
                    continue
            # Both: Pillow's vertical sum over horizontal values computed on first use (windows only
            # move down, so a per-group frontier tells which rows are done).
            for r in range(work.frontier[g] if work.frontier[g] > lo else lo, hi):
                horizontal_group(cols, out_w, bits + <int64_t>r * row_words, g, work.hbuf + <int64_t>r * stride)
            if hi > work.frontier[g]:
                work.frontier[g] = hi
            if ys.split_exact:
                vertical4(work.hbuf + <int64_t>lo * stride + g * GROUP, stride, &ys.high4[(yy * ys.ksize + lo - ymin) * 4],
                          &ys.low4[(yy * ys.ksize + lo - ymin) * 4], hi - lo, acc)
                for i in range(GROUP):
                    acc[i] += ROUNDING
            else:
                for i in range(GROUP):
                    acc[i] = ROUNDING
                for r in range(lo, hi):
                    k = ys.weights[yy * ys.ksize + r - ymin]
                    hr = work.hbuf + <int64_t>r * stride + g * GROUP
                    for i in range(GROUP):
                        acc[i] += <int32_t>hr[i] * k
            for i in range(ncols):
                if threshold:
                    o[g * GROUP + i] = 255 if acc[i] >= THRESHOLD_ACC else 0
                else:
                    o[g * GROUP + i] = <uint8_t>clip8(acc[i])


def downsample_binary(images, int out_h, int out_w, bint threshold=True):
    """(N, H, W) uint8 binary images (nonzero = 255) -> (N, out_h, out_w) uint8, exactly Pillow's
    ``Image.fromarray(img, 'L').resize((out_w, out_h), Image.BICUBIC)``, then (``threshold``)
    values >= 128 -> 255 and the rest 0."""
    cdef const uint8_t[:, :, ::1] src = np.ascontiguousarray(images, dtype=np.uint8)
    cdef Py_ssize_t n = src.shape[0], g
    cdef int in_h = <int>src.shape[1], in_w = <int>src.shape[2]
    cdef ResamplePlan plan = plan_for(in_h, in_w, out_h, out_w)
    out = np.zeros((n, out_h, out_w), dtype=np.uint8)
    cdef uint8_t[:, :, ::1] dst = out
    cdef int row_words = (in_w + 63) // 64 + 1
    cdef uint64_t *bits = <uint64_t *>calloc(<size_t>in_h * row_words, sizeof(uint64_t))
    cdef ResampleWork work
    cdef int r, x, w, r0, r1, c0, c1
    cdef uint64_t *row
    if bits == NULL or work_init(&work, &plan.plans, row_words):
        free(bits)
        raise MemoryError("downsample buffers")
    try:
        with nogil:
            for g in range(n):
                r0 = in_h
                r1 = 0
                c0 = in_w
                c1 = 0
                for r in range(in_h):
                    row = bits + <int64_t>r * row_words
                    pack_row(&src[g, r, 0], in_w, row)
                    for w in range(row_words - 1):
                        if row[w]:
                            if r < r0:
                                r0 = r
                            r1 = r + 1
                            x = w * 64 + count_trailing_zeros(row[w])
                            if x < c0:
                                c0 = x
                            break
                    w = row_words - 2
                    while w >= 0 and not row[w]:
                        w -= 1
                    if w >= 0:
                        x = w * 64 + 64 - count_leading_zeros(row[w])
                        if x > c1:
                            c1 = x
                downsample_bits(bits, r0, r1, c0, c1, &plan.plans, &work, &dst[g, 0, 0], threshold)
    finally:
        free(bits)
        work_free(&work)
    return out
