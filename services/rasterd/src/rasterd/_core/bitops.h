/* Small portable helpers of the rasterd Cython kernels: bit tricks, and SIMD loops written with
   the GCC/Clang vector extension (SSE2 intrinsics where the vector extension generates poor code;
   plain scalar code on other targets). */
#ifndef RASTERD_BITOPS_H
#define RASTERD_BITOPS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Up to eight bytes (count 1..8) -> one bit each, bit k set when byte k is nonzero. */
static inline unsigned rd_nonzero_bytes_to_bits(const unsigned char *p, int count) {
    uint64_t v = 0;
    uint64_t hi;
    if (count == 8)
        memcpy(&v, p, 8); /* the common case, a single load */
    else
        memcpy(&v, p, (size_t)count);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    /* High bit of each byte set when that byte is nonzero, then gather the eight high bits. */
    hi = (((v & 0x7F7F7F7F7F7F7F7FULL) + 0x7F7F7F7F7F7F7F7FULL) | v) & 0x8080808080808080ULL;
    return (unsigned)(((hi >> 7) * 0x0102040810204080ULL) >> 56);
}

static inline int rd_popcount64(uint64_t v) { return __builtin_popcountll(v); }

/* Index of the lowest set bit, and number of zero bits above the highest one; v must be nonzero. */
static inline int rd_ctz64(uint64_t v) { return __builtin_ctzll(v); }
static inline int rd_clz64(uint64_t v) { return __builtin_clzll(v); }

typedef float rd_float4 __attribute__((vector_size(16)));
typedef int32_t rd_int4 __attribute__((vector_size(16)));

static inline rd_float4 rd_load4(const float *p) {
    rd_float4 x;
    memcpy(&x, p, sizeof x);
    return x;
}

/* For each pattern b < npatterns: acc[b * kpad + k] = sum over its columns
   columns[offsets[b]] .. columns[offsets[b + 1] - 1] of column[k], or, when complement[b] is set,
   totals[k] minus that sum; k < kpad (a multiple of 32). Works a tile of 32 centroids at a time for
   all patterns, so that the column tiles stay in L1 and the sums in registers (GCC/Clang vector
   extension; plain scalar code on targets without SIMD). */
static inline void rd_sum_columns(const float *const *columns, const int *offsets, const int *complement,
                                  int npatterns, int kpad, const float *totals, float *acc) {
    for (int tile = 0; tile < kpad; tile += 32) {
        for (int b = 0; b < npatterns; b++) {
            rd_float4 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, s4 = {0}, s5 = {0}, s6 = {0}, s7 = {0};
            float *out = acc + (size_t)b * kpad + tile;
            for (int j = offsets[b]; j < offsets[b + 1]; j++) {
                const float *c = columns[j] + tile;
                s0 += rd_load4(c);
                s1 += rd_load4(c + 4);
                s2 += rd_load4(c + 8);
                s3 += rd_load4(c + 12);
                s4 += rd_load4(c + 16);
                s5 += rd_load4(c + 20);
                s6 += rd_load4(c + 24);
                s7 += rd_load4(c + 28);
            }
            if (complement[b]) {
                const float *t = totals + tile;
                s0 = rd_load4(t) - s0;
                s1 = rd_load4(t + 4) - s1;
                s2 = rd_load4(t + 8) - s2;
                s3 = rd_load4(t + 12) - s3;
                s4 = rd_load4(t + 16) - s4;
                s5 = rd_load4(t + 20) - s5;
                s6 = rd_load4(t + 24) - s6;
                s7 = rd_load4(t + 28) - s7;
            }
            memcpy(out, &s0, 16);
            memcpy(out + 4, &s1, 16);
            memcpy(out + 8, &s2, 16);
            memcpy(out + 12, &s3, 16);
            memcpy(out + 16, &s4, 16);
            memcpy(out + 20, &s5, 16);
            memcpy(out + 24, &s6, 16);
            memcpy(out + 28, &s7, 16);
        }
    }
}

/* Indices k < n whose interval [t_k - slack_k, t_k + slack_k], t_k = sq_norm[k] - 2 acc[k], reaches
   below the smallest upper end; written to out, count returned. Arrays hold kpad (multiple of 16)
   floats; padding entries must have a huge sq_norm so that they are never picked. */
static inline int rd_candidates(const float *acc, const float *sq_norm, const float *slack, int kpad, int n,
                                int *out) {
    rd_float4 lowest, a, q, s, t, bound4;
    float lanes[4];
    float bound;
    int count = 0;
    memcpy(&a, acc, sizeof a);
    memcpy(&q, sq_norm, sizeof q);
    memcpy(&s, slack, sizeof s);
    lowest = q - (a + a) + s;
    for (int k = 4; k < kpad; k += 4) {
        memcpy(&a, acc + k, sizeof a);
        memcpy(&q, sq_norm + k, sizeof q);
        memcpy(&s, slack + k, sizeof s);
        t = q - (a + a) + s;
        rd_int4 smaller = t < lowest;
        lowest = (rd_float4)((smaller & (rd_int4)t) | (~smaller & (rd_int4)lowest));
    }
    memcpy(lanes, &lowest, sizeof lanes);
    bound = lanes[0];
    for (int i = 1; i < 4; i++) bound = lanes[i] < bound ? lanes[i] : bound;
    bound4 = (rd_float4){bound, bound, bound, bound};
    for (int k = 0; k < kpad; k += 16) {
        /* Candidates are rare: test 16 at once and look closer only when one is there. */
        rd_int4 hits = {0, 0, 0, 0};
        uint64_t words[2];
        for (int q4 = k; q4 < k + 16; q4 += 4) {
            memcpy(&a, acc + q4, sizeof a);
            memcpy(&q, sq_norm + q4, sizeof q);
            memcpy(&s, slack + q4, sizeof s);
            hits |= (q - (a + a) - s) <= bound4;
        }
        memcpy(words, &hits, sizeof words);
        if (words[0] | words[1]) {
            for (int j = k; j < k + 16 && j < n; j++) {
                if (sq_norm[j] - (acc[j] + acc[j]) - slack[j] <= bound) out[count++] = j;
            }
        }
    }
    return count;
}

/* One row of width bytes (nonzero = ink) -> bits, pixel x at bit x % 64 of words[x / 64]; the
   words covering the row are overwritten. */
static inline void rd_pack_row(const unsigned char *src, int width, uint64_t *words) {
    int x = 0;
    for (; x + 64 <= width; x += 64) {
        uint64_t word = 0;
#if defined(__SSE2__)
        __m128i zero = _mm_setzero_si128();
        for (int k = 0; k < 4; k++) {
            __m128i v = _mm_loadu_si128((const __m128i *)(src + x + 16 * k));
            uint64_t empty = (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, zero));
            word |= (~empty & 0xFFFF) << (16 * k);
        }
#else
        for (int k = 0; k < 8; k++) word |= (uint64_t)rd_nonzero_bytes_to_bits(src + x + 8 * k, 8) << (8 * k);
#endif
        words[x >> 6] = word;
    }
    if (x < width) {
        uint64_t word = 0;
        for (int k = 0; x + 8 * k < width; k++) {
            int count = width - x - 8 * k < 8 ? width - x - 8 * k : 8;
            word |= (uint64_t)rd_nonzero_bytes_to_bits(src + x + 8 * k, count) << (8 * k);
        }
        words[x >> 6] = word;
    }
}

/* Four bytes -> four floats at out. */
static inline void rd_bytes_to_float4(const uint8_t *p, float *out) {
#if defined(__SSE2__)
    int32_t word;
    memcpy(&word, p, 4);
    __m128i zero = _mm_setzero_si128();
    __m128i spread = _mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(word), zero), zero);
    _mm_storeu_ps(out, _mm_cvtepi32_ps(spread));
#else
    for (int i = 0; i < 4; i++) out[i] = p[i];
#endif
}

/* Pillow's vertical sum for four adjacent columns, exactly: acc[i] = sum over t < ntaps of
   h[t * stride + i] * (high[t] * 2048 + low[t]) with 0 <= low < 2048, h whole numbers 0..255 and
   high4 / low4 holding each weight part four times. The caller checks that both partial sums stay
   whole numbers below 2**24, which float32 holds exactly, so SIMD float multiplies do the work. */
static inline void rd_vertical4(const float *h, ptrdiff_t stride, const float *high4, const float *low4, int ntaps,
                                int32_t *acc) {
    rd_float4 a = {0, 0, 0, 0}, b = {0, 0, 0, 0};
    for (int t = 0; t < ntaps; t++) {
        rd_float4 x = rd_load4(h + t * stride);
        a += x * rd_load4(high4 + 4 * t);
        b += x * rd_load4(low4 + 4 * t);
    }
    rd_int4 sum = __builtin_convertvector(a, rd_int4) * 2048 + __builtin_convertvector(b, rd_int4);
    memcpy(acc, &sum, sizeof sum);
}

#endif
