from libc.stdint cimport int32_t, uint8_t, uint64_t


cdef struct AxisPlan:
    # Pillow's filter windows for one axis: output pixel i reads taps[i] input pixels from start[i].
    int in_size
    int out_size
    int ksize
    int *start
    int *taps
    int32_t *weights      # out_size * ksize, 22-bit fixed point
    float *high4          # weights >> 11 as float, each repeated 4 times (one SIMD load)
    float *low4           # weights & 2047 as float, repeated likewise
    int split_exact       # sums of 255 * |high| and 255 * low stay below 2**24: float32 sums are exact


cdef struct ColumnPlan:
    # Output columns in groups of GROUP. A group's union window (group_bit, group_mask) tells whether
    # its pixels see no ink or only ink; the horizontal pass of a group reads one table entry
    # (group_table >= 0) or sums per-column chunk tables (one per 8 window bits).
    int ngroups
    int *group_bit
    uint64_t *group_mask      # 0 when the union window is wider than 64 bits
    int *group_from           # in_size + 1: first group whose window ends after input pixel x
    int *group_to             # in_size + 1: one past the last group whose window starts before x
    int *group_table          # offset into group_tables, or -1
    uint8_t *group_tables     # GROUP clipped horizontal values per window pattern
    int *col_chunk            # chunks of column x: col_chunk[x] .. col_chunk[x + 1] - 1
    int *chunk_bit
    uint64_t *chunk_mask
    int *chunk_table          # offset into chunk_tables
    int32_t *chunk_tables     # 256 partial sums each


cdef struct Plans:
    AxisPlan xs
    AxisPlan ys
    ColumnPlan cols
    uint8_t *full             # out_h * out_w: the resampled value when the whole window is ink


cdef class ResamplePlan:
    cdef Plans plans
    cdef readonly int in_h, in_w, out_h, out_w


cdef ResamplePlan plan_for(int in_h, int in_w, int out_h, int out_w)

cdef struct ResampleWork:
    # Buffers of downsample_bits for one canvas size.
    int row_words             # words per canvas row, the last one a zero pad
    int stride                # floats per row of hbuf
    float *hbuf               # horizontal-pass values (whole numbers 0..255), in_h rows
    uint64_t *any_ink         # OR of the rows under the current output row's window
    uint64_t *all_ink         # AND of the same rows
    int *frontier             # per column group: hbuf rows below this one are not computed yet


cdef int work_init(ResampleWork *work, const Plans *plan, int row_words) noexcept nogil

cdef void work_free(ResampleWork *work) noexcept nogil

cdef void downsample_bits(const uint64_t *bits, int r0, int r1, int c0, int c1, const Plans *plan,
                          ResampleWork *work, uint8_t *out, int threshold) noexcept nogil
