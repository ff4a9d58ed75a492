/*
 * utf8.c - UTF-8 validation (RFC 3629: no overlongs, no surrogates, at
 * most U+10FFFF), with an ASCII fast path.
 */
#include <string.h>

#include "io_int.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

size_t
cb__utf8_valid_prefix(const unsigned char *p, size_t n, int *incomplete)
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
