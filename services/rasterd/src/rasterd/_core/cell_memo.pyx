# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# distutils: extra_compile_args = -ffp-contract=off
"""Cell patterns -> primitive ids, remembered per pattern (docs/raster-policy.md, docs/tokenization.md).

A cell of c x c binary pixels is a key of c*c bits (one uint64 for 8x8 cells). The id of a new
pattern is 1 + its nearest centroid exactly as ``glyph_core.primitives.nearest_centroid`` defines
it: float64 squared distance summed over the pixels in order, lowest index on ties, the first NaN
distance if there is one. To find it fast, a cheap distance ``|c|^2 - 2 c.v`` (c.v summed in
float32 over the ink pixels, across many centroids and several new patterns at once) with a
generous error bound picks the candidates, and only those get the sequential float64 sum of the
definition.
"""

from libc.float cimport FLT_MAX
from libc.math cimport fabs
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcmp, memcpy, memset

import numpy as np

cdef extern from "bitops.h" nogil:
    unsigned rd_nonzero_bytes_to_bits(const unsigned char *p, int count)
    int count_trailing_zeros "rd_ctz64" (uint64_t v)
    int popcount "rd_popcount64" (uint64_t v)
    void sum_columns "rd_sum_columns" (const float **columns, const int *offsets, const int *complement,
                                       int npatterns, int kpad, const float *totals, float *acc)
    int candidates "rd_candidates" (const float *acc, const float *sq_norm, const float *slack, int kpad, int n,
                                    int *out)

cdef enum:
    MIN_CAPACITY = 4096
    TILE = 32              # rd_sum_columns works on tiles of 32 centroids
    BATCH = 16             # new patterns classified together

# Candidate slack per unit of magnitude (1 + |c|^2 + 2 sum|c| + pixels) and per pixel: the float32
# cheap distance is within (1.5 * pixels + 8) float32 roundings (2**-24) of the exact value, the
# float64 definition far closer; four roundings per pixel (plus 16) cover both with room to spare.
cdef double SLACK_PER_PIXEL = 4.0 / 16777216.0
# Centroid values beyond this make float32 unsafe: such sets are searched exactly throughout.
cdef double FLOAT32_SAFE = 1e30
cdef uint64_t HASH_MULT = 0x9E3779B97F4A7C15ULL


cdef struct Pending:
    # Patterns met in this call that the table did not know, and the cells waiting for them.
    uint64_t *keys         # npatterns * nwords
    int32_t *ids           # npatterns, filled by CellMemo.resolve
    int64_t npatterns
    int64_t pattern_cap
    int64_t *cells         # pairs (flat cell index, pattern index)
    int64_t ncells
    int64_t cell_cap


cdef inline int is_zero(const uint64_t *key, int nwords) noexcept nogil:
    cdef int w
    for w in range(nwords):
        if key[w]:
            return 0
    return 1


cdef void band_keys(const uint8_t *top, Py_ssize_t row_stride, int c, int cols, int nwords,
                    uint64_t *keys) noexcept nogil:
    """Keys of the ``cols`` cells of one band of c mask rows: bit j = r * c + x of cell i's key
    (keys[i * nwords ...]) is pixel (r, i * c + x) of the band."""
    cdef int r, i, offset
    cdef uint64_t row_bits
    cdef const uint8_t *p
    memset(keys, 0, cols * nwords * sizeof(uint64_t))
    for r in range(c):
        p = top + r * row_stride
        offset = r * c
        for i in range(cols):
            if c == 16:
                row_bits = rd_nonzero_bytes_to_bits(p + 16 * i, 8) | (<uint64_t>rd_nonzero_bytes_to_bits(p + 16 * i + 8, 8) << 8)
            else:
                row_bits = rd_nonzero_bytes_to_bits(p + c * i, c)
            keys[i * nwords + (offset >> 6)] |= row_bits << (offset & 63)


cdef class CellMemo:
    """Pattern -> id table plus what is needed to classify unseen patterns."""

    cdef int cell
    cdef int dim
    cdef int nwords
    cdef int k
    cdef int kpad                # k rounded up to a multiple of TILE
    cdef int column_stride       # kpad plus one cache line, so columns do not share L1 sets
    cdef double *centroids       # k x dim
    cdef float *by_pixel         # dim x column_stride, float32 (centroids transposed, zero padded)
    cdef float *row_sum          # kpad: float32 sum over j of c_kj
    cdef float *sq_norm          # kpad: sum_j c_kj^2 (padding: FLT_MAX)
    cdef float *slack            # kpad: error bound of the cheap distance
    cdef int nan_index           # first centroid holding a NaN, or -1
    cdef int exact_only          # magnitudes too large for float32: evaluate every centroid exactly
    cdef uint64_t *keys          # capacity * nwords, all-zero = free slot
    cdef int32_t *values         # id (> 0), or -(pending pattern + 1) while an assign() runs
    cdef int64_t capacity
    cdef int64_t count
    cdef int shift

    def __cinit__(self, const double[:, ::1] centroids, int cell_size):
        cdef int kk, j, n
        cdef double c, sq, absolute
        cdef float total
        if cell_size not in (4, 8, 16):
            raise ValueError(f"cell_size must be 4, 8 or 16, got {cell_size}")
        if centroids.shape[1] != cell_size * cell_size:
            raise ValueError(f"cells have {cell_size * cell_size} pixels but centroids have {centroids.shape[1]}")
        self.cell = cell_size
        self.dim = cell_size * cell_size
        self.nwords = (self.dim + 63) // 64
        self.k = <int>centroids.shape[0]
        self.nan_index = -1
        self.exact_only = 0
        n = max(self.k, 1)
        self.kpad = (n + TILE - 1) // TILE * TILE
        self.column_stride = self.kpad + 16
        self.centroids = <double *>malloc(n * self.dim * sizeof(double))
        self.by_pixel = <float *>calloc(self.column_stride * self.dim, sizeof(float))
        self.row_sum = <float *>calloc(self.kpad, sizeof(float))
        self.sq_norm = <float *>malloc(self.kpad * sizeof(float))
        self.slack = <float *>calloc(self.kpad, sizeof(float))
        if (self.centroids == NULL or self.by_pixel == NULL or self.row_sum == NULL or self.sq_norm == NULL
                or self.slack == NULL):
            raise MemoryError("centroid tables")
        for kk in range(self.k):
            sq = 0.0
            total = 0.0
            absolute = 0.0
            for j in range(self.dim):
                c = centroids[kk, j]
                if c != c and self.nan_index < 0:
                    self.nan_index = kk
                if not (fabs(c) < FLOAT32_SAFE):
                    self.exact_only = 1
                self.centroids[kk * self.dim + j] = c
                self.by_pixel[j * self.column_stride + kk] = <float>c
                sq += c * c
                total += <float>c
                absolute += fabs(c)
            self.sq_norm[kk] = <float>sq
            self.row_sum[kk] = total
            self.slack[kk] = <float>(SLACK_PER_PIXEL * (self.dim + 4) * (1.0 + sq + 2.0 * absolute + self.dim))
            if not (sq < FLOAT32_SAFE and self.slack[kk] < FLOAT32_SAFE):
                self.exact_only = 1
        for kk in range(self.k, self.kpad):
            self.sq_norm[kk] = FLT_MAX
        self.keys = <uint64_t *>calloc(MIN_CAPACITY * self.nwords, sizeof(uint64_t))
        self.values = <int32_t *>malloc(MIN_CAPACITY * sizeof(int32_t))
        if self.keys == NULL or self.values == NULL:
            raise MemoryError("pattern table")
        self.capacity = MIN_CAPACITY
        self.count = 0
        self.shift = 64 - 12   # log2(MIN_CAPACITY) index bits

    def __dealloc__(self):
        free(self.centroids)
        free(self.by_pixel)
        free(self.row_sum)
        free(self.sq_norm)
        free(self.slack)
        free(self.keys)
        free(self.values)

    @property
    def size(self):
        """Distinct non-empty patterns remembered."""
        return self.count

    # -- the table -------------------------------------------------------------------------------

    cdef inline int64_t home_slot(self, const uint64_t *key) noexcept nogil:
        cdef uint64_t h = key[0]
        cdef int w
        for w in range(1, self.nwords):
            h = (h * HASH_MULT) ^ key[w]
        return <int64_t>((h * HASH_MULT) >> self.shift)

    cdef int64_t find(self, const uint64_t *key) noexcept nogil:
        """Slot holding ``key``, or the free slot where it would go."""
        cdef int nw = self.nwords
        cdef int64_t slot = self.home_slot(key)
        if nw == 1:
            while self.keys[slot] != 0 and self.keys[slot] != key[0]:
                slot = (slot + 1) & (self.capacity - 1)
            return slot
        while not is_zero(&self.keys[slot * nw], nw):
            if memcmp(&self.keys[slot * nw], key, nw * sizeof(uint64_t)) == 0:
                return slot
            slot = (slot + 1) & (self.capacity - 1)
        return slot

    cdef int grow(self) noexcept nogil:
        """Double the table; -1 when memory runs out (the table is left as it was)."""
        cdef int64_t old_capacity = self.capacity, s, slot
        cdef uint64_t *old_keys = self.keys
        cdef int32_t *old_values = self.values
        cdef int nw = self.nwords
        cdef uint64_t *keys = <uint64_t *>calloc(old_capacity * 2 * nw, sizeof(uint64_t))
        cdef int32_t *values = <int32_t *>malloc(old_capacity * 2 * sizeof(int32_t))
        if keys == NULL or values == NULL:
            free(keys)
            free(values)
            return -1
        self.keys = keys
        self.values = values
        self.capacity = old_capacity * 2
        self.shift -= 1
        for s in range(old_capacity):
            if not is_zero(&old_keys[s * nw], nw):
                slot = self.find(&old_keys[s * nw])
                memcpy(&keys[slot * nw], &old_keys[s * nw], nw * sizeof(uint64_t))
                values[slot] = old_values[s]
        free(old_keys)
        free(old_values)
        return 0

    cdef void forget_all(self) noexcept nogil:
        """Empty the table (after running out of memory mid-call, pending entries must go)."""
        memset(self.keys, 0, self.capacity * self.nwords * sizeof(uint64_t))
        self.count = 0

    # -- classification --------------------------------------------------------------------------

    cdef double exact_distance(self, int kk, const double *v) noexcept nogil:
        """The definition: sum over pixels in order of (c_kj - v_j)^2, in float64."""
        cdef const double *c = &self.centroids[kk * self.dim]
        cdef double d = 0.0, diff
        cdef int j
        for j in range(self.dim):
            diff = c[j] - v[j]
            d += diff * diff
        return d

    cdef int classify(self, const uint64_t *keys, int npatterns, int32_t *ids, float *acc,
                      const float **columns, int *picked) noexcept nogil:
        """ids[b] = 1 + nearest centroid of pattern b, for up to BATCH patterns."""
        cdef double v[256]
        cdef int offsets[BATCH + 1]
        cdef int complement[BATCH]
        cdef int b, j, kk, w, ones, best, count, ncols = 0, kpad = self.kpad
        cdef double d, best_d
        cdef uint64_t bits
        cdef const uint64_t *key
        # Columns to sum per pattern: the ink pixels, or the background ones when fewer.
        for b in range(npatterns):
            key = &keys[b * self.nwords]
            ones = 0
            for w in range(self.nwords):
                ones += popcount(key[w])
            complement[b] = 2 * ones > self.dim
            offsets[b] = ncols
            for w in range(self.nwords):
                bits = ~key[w] if complement[b] else key[w]
                if self.dim - w * 64 < 64:
                    bits &= ((<uint64_t>1) << (self.dim - w * 64)) - 1
                while bits:
                    columns[ncols] = &self.by_pixel[(w * 64 + count_trailing_zeros(bits)) * self.column_stride]
                    ncols += 1
                    bits &= bits - 1
        offsets[npatterns] = ncols
        if self.nan_index < 0 and not self.exact_only:
            sum_columns(columns, offsets, complement, npatterns, kpad, self.row_sum, acc)
        for b in range(npatterns):
            key = &keys[b * self.nwords]
            for j in range(self.dim):
                v[j] = <double>((key[j >> 6] >> (j & 63)) & 1)
            if self.nan_index >= 0:
                ids[b] = self.nan_index + 1
                continue
            if self.exact_only:
                count = self.k
                for kk in range(count):
                    picked[kk] = kk
            else:
                count = candidates(&acc[b * kpad], self.sq_norm, self.slack, kpad, self.k, picked)
            best = picked[0]
            best_d = self.exact_distance(best, v)
            for j in range(1, count):
                d = self.exact_distance(picked[j], v)
                if d < best_d:
                    best_d = d
                    best = picked[j]
            ids[b] = best + 1
        return 0

    cdef int resolve(self, Pending *pending) noexcept nogil:
        """Classify the pending patterns into pending.ids and the table (replacing the placeholders)."""
        cdef int64_t start, p
        cdef int nb
        cdef float *acc = <float *>malloc(BATCH * self.kpad * sizeof(float))
        cdef const float **columns = <const float **>malloc(BATCH * self.dim * sizeof(float *))
        cdef int *picked = <int *>malloc(max(self.k, 1) * sizeof(int))
        cdef int failed
        pending.ids = <int32_t *>malloc((pending.npatterns + 1) * sizeof(int32_t))
        failed = acc == NULL or columns == NULL or picked == NULL or pending.ids == NULL
        start = 0
        while not failed and start < pending.npatterns:
            nb = <int>min(<int64_t>BATCH, pending.npatterns - start)
            self.classify(&pending.keys[start * self.nwords], nb, &pending.ids[start], acc, columns, picked)
            for p in range(start, start + nb):
                self.values[self.find(&pending.keys[p * self.nwords])] = pending.ids[p]
            start += nb
        free(acc)
        free(columns)
        free(picked)
        return -1 if failed else 0

    cdef int collect(self, const uint8_t[:, :, ::1] masks, uint16_t[:, :, ::1] out, Pending *pending) noexcept nogil:
        """Ids of known patterns into ``out``; unknown ones are added to the table as pending."""
        cdef Py_ssize_t n = masks.shape[0], g
        cdef int c = self.cell, nw = self.nwords, gy, gx
        cdef int rows = <int>masks.shape[1] // c, cols = <int>masks.shape[2] // c
        cdef uint64_t *key
        cdef uint64_t *keys = <uint64_t *>malloc((cols + 1) * nw * sizeof(uint64_t))
        cdef int64_t slot
        cdef int32_t value
        cdef void *mem
        if keys == NULL:
            return -1
        for g in range(n):
            for gy in range(rows):
                band_keys(&masks[g, gy * c, 0], masks.shape[2], c, cols, nw, keys)
                for gx in range(cols):
                    key = &keys[gx * nw]
                    if is_zero(key, nw):
                        continue
                    slot = self.find(key)
                    if is_zero(&self.keys[slot * nw], nw):
                        if (self.count + 1) * 2 > self.capacity:
                            if self.grow():
                                free(keys)
                                return -1
                            slot = self.find(key)
                        if pending.npatterns == pending.pattern_cap:
                            pending.pattern_cap = pending.pattern_cap * 2 + 256
                            mem = realloc(pending.keys, pending.pattern_cap * nw * sizeof(uint64_t))
                            if mem == NULL:
                                free(keys)
                                return -1
                            pending.keys = <uint64_t *>mem
                        memcpy(&pending.keys[pending.npatterns * nw], key, nw * sizeof(uint64_t))
                        memcpy(&self.keys[slot * nw], key, nw * sizeof(uint64_t))
                        self.values[slot] = <int32_t>(-1 - pending.npatterns)
                        pending.npatterns += 1
                        self.count += 1
                    value = self.values[slot]
                    if value > 0:
                        out[g, gy, gx] = <uint16_t>value
                        continue
                    if pending.ncells == pending.cell_cap:
                        pending.cell_cap = pending.cell_cap * 2 + 1024
                        mem = realloc(pending.cells, pending.cell_cap * 2 * sizeof(int64_t))
                        if mem == NULL:
                            free(keys)
                            return -1
                        pending.cells = <int64_t *>mem
                    pending.cells[2 * pending.ncells] = (g * rows + gy) * cols + gx
                    pending.cells[2 * pending.ncells + 1] = -1 - value
                    pending.ncells += 1
        free(keys)
        return 0

    def assign(self, const uint8_t[:, :, ::1] masks):
        """(N, H, W) uint8 masks (nonzero = ink) -> (N, H/c, W/c) uint16 ids."""
        cdef int c = self.cell
        cdef Pending pending
        cdef int64_t i
        cdef int failed
        if self.k == 0:
            raise ValueError("no centroids to assign cells to")
        out = np.zeros((masks.shape[0], masks.shape[1] // c, masks.shape[2] // c), dtype=np.uint16)
        cdef uint16_t[:, :, ::1] ids = out
        cdef uint16_t *flat = &ids[0, 0, 0] if ids.size else NULL
        memset(&pending, 0, sizeof(Pending))
        with nogil:
            failed = self.collect(masks, ids, &pending)
            if not failed:
                failed = self.resolve(&pending)
            if failed:
                self.forget_all()
            else:
                for i in range(pending.ncells):
                    flat[pending.cells[2 * i]] = <uint16_t>pending.ids[pending.cells[2 * i + 1]]
        free(pending.keys)
        free(pending.ids)
        free(pending.cells)
        if failed:
            raise MemoryError("pattern table")
        return out

