/*
 * utf8.c - UTF-8 validation (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF): a scalar validator with an ASCII fast path, and an AVX2
 * one (32 bytes a step, chosen at run time) that hands the bytes around an
 * error or the end of the buffer to the scalar one, so both give the same
 * answer to the byte.
 */
#include <stdlib.h>
#include <string.h>

#include "carebase/reader.h"
#include "io_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t
cb__utf8_valid_prefix_scalar(const unsigned char *p, size_t n, int *incomplete)
{
    size_t i = 0;

    *incomplete = 0;
    while (i < n) {
        unsigned c = p[i];
        size_t need;
        unsigned lo = 0x80, hi = 0xBF;

        if (c < 0x80) {
            /* Skip runs of ASCII sixteen (or eight) bytes at a time. */
#if defined(__SSE2__)
            while (i + 16 <= n) {
                __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
                unsigned m = (unsigned)_mm_movemask_epi8(v);
                if (m) {
                    i += (size_t)__builtin_ctz(m);
                    break;
                }
                i += 16;
            }
#endif
            while (i + 8 <= n) {
                uint64_t w;
                memcpy(&w, p + i, 8);
                if (w & 0x8080808080808080ULL)
                    break;
                i += 8;
            }
            while (i < n && p[i] < 0x80)
                i++;
            continue;
        }
        /*
         * The common case of Chinese text: a three-byte sequence, U+0800 to
         * U+FFFF without the surrogates, whole in the buffer.
         */
        if ((c & 0xF0) == 0xE0 && i + 2 < n && (p[i + 2] & 0xC0) == 0x80 &&
            p[i + 1] >= (c == 0xE0 ? 0xA0 : 0x80) && p[i + 1] <= (c == 0xED ? 0x9F : 0xBF)) {
            i += 3;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            if (c == 0xE0)
                lo = 0xA0;
            else if (c == 0xED)
                hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            if (c == 0xF0)
                lo = 0x90;
            else if (c == 0xF4)
                hi = 0x8F;
        } else
            return i;
        if (i + need >= n) {
            /* Not enough bytes left: check what is there. */
            size_t k;
            for (k = 1; i + k < n; k++) {
                unsigned b = p[i + k];
                if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
                    return i;
            }
            *incomplete = 1;
            return i;
        }
        if (p[i + 1] < lo || p[i + 1] > hi)
            return i;
        if (need >= 2 && (p[i + 2] < 0x80 || p[i + 2] > 0xBF))
            return i;
        if (need == 3 && (p[i + 3] < 0x80 || p[i + 3] > 0xBF))
            return i;
        i += need + 1;
    }
    return i;
}

/* ---- AVX2 ------------------------------------------------------------------ */

#if CB_IO_AVX2
#include <immintrin.h>

static int have_avx2;

/*
 * Chosen once, before main: the CPU's AVX2 (with POPCNT, BMI1 and BMI2,
 * which AVX2 CPUs have), unless CB_NO_AVX2 is set in the
 * environment (to run the fallback paths on a machine that has AVX2).
 */
__attribute__((constructor)) static void
pick_isa(void)
{
    __builtin_cpu_init();
    have_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") &&
                __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") &&
                !getenv("CB_NO_AVX2");
}

int
cb__io_avx2(void)
{
    return have_avx2;
}

/*
 * The lookup algorithm of Keiser and Lemire ("Validating UTF-8 in less than
 * one instruction per byte", 2021): three 16-entry tables, indexed by the
 * high and low nibble of the previous byte and the high nibble of this one,
 * each give the errors the pair may be; their AND is the errors it is. The
 * third and fourth bytes of a sequence are then checked by position.
 */
#define TOO_SHORT      (1 << 0) /* lead (or ASCII) then a lead or ASCII where a continuation is due */
#define TOO_LONG       (1 << 1) /* ASCII then a continuation */
#define OVERLONG_3     (1 << 2) /* E0 80..9F */
#define TOO_LARGE      (1 << 3) /* F4 90..BF, F5.. */
#define SURROGATE      (1 << 4) /* ED A0..BF */
#define OVERLONG_2     (1 << 5) /* C0, C1 */
#define TOO_LARGE_1000 (1 << 6) /* F5..FF 80..8F */
#define OVERLONG_4     (1 << 6) /* F0 80..8F */
#define TWO_CONTS      (1 << 7) /* two continuations: only right as a third or fourth byte */
#define CARRY          (TOO_SHORT | TOO_LONG | TWO_CONTS)
#define LARGE          (CARRY | TOO_LARGE | TOO_LARGE_1000)

static const unsigned char byte1_high[16] = {
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
    TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,
    TOO_SHORT | OVERLONG_2,
    TOO_SHORT,
    TOO_SHORT | OVERLONG_3 | SURROGATE,
    TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4,
};
static const unsigned char byte1_low[16] = {
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4,
    CARRY | OVERLONG_2,
    CARRY, CARRY,
    CARRY | TOO_LARGE,
    LARGE, LARGE, LARGE, LARGE, LARGE, LARGE, LARGE, LARGE,
    LARGE | SURROGATE,
    LARGE, LARGE,
};
static const unsigned char byte2_high[16] = {
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
};
/* Bytes that, as the last 3, 2 or 1 of a block, start a sequence the block cuts. */
static const unsigned char tail_max[32] = {
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
    0xF0 - 1, 0xE0 - 1, 0xC0 - 1,
};

/* The bytes of in shifted by n, the last n of prev in front. */
#define PREV(in, prev, n) \
    _mm256_alignr_epi8((in), _mm256_permute2x128_si256((prev), (in), 0x21), 16 - (n))

__attribute__((target("avx2"))) static inline __m256i
table(const unsigned char *t)
{
    return _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)t));
}

/*
 * Validates p[0..n), copying it to dst when dst is not NULL (dst has room
 * for n bytes; it gets at least the valid prefix). Blocks of 32 bytes are
 * checked with the tables; the bytes from a character boundary just before
 * the first block with an error (or the last, short block) go to the scalar
 * validator, which gives the exact offset and the incomplete flag.
 */
__attribute__((target("avx2"))) static size_t
valid_avx2(unsigned char *dst, const unsigned char *p, size_t n, int *incomplete)
{
    const __m256i b1h = table(byte1_high), b1l = table(byte1_low),
                  b2h = table(byte2_high);
    const __m256i nib = _mm256_set1_epi8(0x0F), zero = _mm256_setzero_si256();
    const __m256i max3 = _mm256_set1_epi8((char)(0xE0 - 1)),
                  max4 = _mm256_set1_epi8((char)(0xF0 - 1));
    const __m256i tmax = _mm256_loadu_si256((const __m256i *)(const void *)tail_max);
    __m256i prev = zero, pending = zero;
    size_t i = 0, j, ok;

    while (i + 32 <= n) {
        __m256i in = _mm256_loadu_si256((const __m256i *)(const void *)(p + i)), err;

        if (dst)
            _mm256_storeu_si256((__m256i *)(void *)(dst + i), in);
        if (!_mm256_movemask_epi8(in)) {
            err = pending; /* a sequence the last block began is cut by ASCII */
            pending = zero;
        } else {
            __m256i prev1 = PREV(in, prev, 1);
            __m256i sc = _mm256_and_si256(
                _mm256_and_si256(
                    _mm256_shuffle_epi8(b1h, _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nib)),
                    _mm256_shuffle_epi8(b1l, _mm256_and_si256(prev1, nib))),
                _mm256_shuffle_epi8(b2h, _mm256_and_si256(_mm256_srli_epi16(in, 4), nib)));
            __m256i must23 = _mm256_or_si256(_mm256_subs_epu8(PREV(in, prev, 2), max3),
                                             _mm256_subs_epu8(PREV(in, prev, 3), max4));
            __m256i must23_80 = _mm256_and_si256(_mm256_cmpgt_epi8(must23, zero),
                                                 _mm256_set1_epi8((char)0x80));
            err = _mm256_xor_si256(must23_80, sc);
            pending = _mm256_subs_epu8(in, tmax);
        }
        if (!_mm256_testz_si256(err, err))
            break;
        prev = in;
        i += 32;
    }
    /*
     * p[0..i) is valid but for a sequence begun in its last three bytes:
     * start the scalar validator at the character boundary before those.
     */
    j = i < 3 ? 0 : i - 3;
    while (j > 0 && (p[j] & 0xC0) == 0x80)
        j--;
    ok = j + cb__utf8_valid_prefix_scalar(p + j, n - j, incomplete);
    if (dst)
        memcpy(dst + j, p + j, ok - j);
    return ok;
}

size_t
cb__utf8_valid_prefix_avx2(const unsigned char *p, size_t n, int *incomplete)
{
    return valid_avx2(NULL, p, n, incomplete);
}
#else
int
cb__io_avx2(void)
{
    return 0;
}
#endif

size_t
cb__utf8_valid_prefix(const unsigned char *p, size_t n, int *incomplete)
{
#if CB_IO_AVX2
    if (have_avx2)
        return valid_avx2(NULL, p, n, incomplete);
#endif
    return cb__utf8_valid_prefix_scalar(p, n, incomplete);
}

size_t
cb__utf8_valid_copy(unsigned char *dst, const unsigned char *p, size_t n,
                    int *incomplete)
{
    size_t ok;

#if CB_IO_AVX2
    if (have_avx2)
        return valid_avx2(dst, p, n, incomplete);
#endif
    ok = cb__utf8_valid_prefix_scalar(p, n, incomplete);
    memcpy(dst, p, ok);
    return ok;
}

bool
cb_utf8_valid(const void *p, size_t n)
{
    int incomplete;

    return cb__utf8_valid_prefix(p, n, &incomplete) == n;
}
