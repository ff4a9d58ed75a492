#include <limits.h>

#include "carebase/str.h"

size_t
cb_str_utf8_len(struct cb_str s)
{
    size_t i, n = 0;

    for (i = 0; i < s.len; i++)
        if (((unsigned char)s.ptr[i] & 0xC0) != 0x80)
            n++;
    return n;
}

enum cb_err
cb_parse_i64(struct cb_str s, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    int64_t v = 0;

    s = cb_str_trim(s);
    if (s.len == 0)
        return CB_ERR_PROTO;
    if (s.ptr[0] == '-' || s.ptr[0] == '+') {
        neg = s.ptr[0] == '-';
        i = 1;
        if (s.len == 1)
            return CB_ERR_PROTO;
    }
    for (; i < s.len; i++) {
        int d = s.ptr[i] - '0';
        if (d < 0 || d > 9)
            return CB_ERR_PROTO;
        if (v > (INT64_MAX - d) / 10)
            return CB_ERR_PROTO;
        v = v * 10 + d;
    }
    *out = neg ? -v : v;
    return CB_OK;
}

enum cb_err
cb_parse_money(struct cb_str s, int64_t *fen)
{
    size_t i = 0;
    int neg = 0, frac = -1;
    int64_t v = 0;

    s = cb_str_trim(s);
    if (s.len == 0)
        return CB_ERR_PROTO;
    if (s.ptr[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == s.len)
        return CB_ERR_PROTO;
    for (; i < s.len; i++) {
        unsigned d = (unsigned char)s.ptr[i] - (unsigned)'0';
        if (d > 9) {
            if (s.ptr[i] != '.' || frac >= 0)
                return CB_ERR_PROTO;
            frac = 0;
            continue;
        }
        if (frac >= 0 && ++frac > 2)
            return CB_ERR_PROTO;
        if (v > (INT64_MAX - 9) / 10)
            return CB_ERR_PROTO;
        v = v * 10 + (int64_t)d;
    }
    if (frac < 0)
        frac = 0;
    for (; frac < 2; frac++) {
        if (v > INT64_MAX / 10)
            return CB_ERR_PROTO;
        v *= 10;
    }
    *fen = neg ? -v : v;
    return CB_OK;
}

static inline uint64_t
mix64(uint64_t h)
{
    /* MurmurHash3's fmix64 finaliser. */
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t
cb_hash64(const void *p, size_t n, uint64_t seed)
{
    const unsigned char *b = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL), w;
    size_t i = 0;

    /*
     * Eight bytes at a time: content fingerprints cover kilobytes. Four
     * words per turn of the loop, the same steps (the value is stored).
     */
    for (; i + 32 <= n; i += 32) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
        memcpy(&w, b + i + 8, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
        memcpy(&w, b + i + 16, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
        memcpy(&w, b + i + 24, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    /* The tail byte by byte: a variable-length memcpy is a libc call. */
    w = 0;
    switch (n - i) {
    case 7: w |= (uint64_t)b[i + 6] << 48; /* fall through */
    case 6: w |= (uint64_t)b[i + 5] << 40; /* fall through */
    case 5: w |= (uint64_t)b[i + 4] << 32; /* fall through */
    case 4: w |= (uint64_t)b[i + 3] << 24; /* fall through */
    case 3: w |= (uint64_t)b[i + 2] << 16; /* fall through */
    case 2: w |= (uint64_t)b[i + 1] << 8;  /* fall through */
    case 1: w |= (uint64_t)b[i];           /* fall through */
    default: break;
    }
    h = (h ^ w ^ 0xa0761d6478bd642fULL) * 0x9e3779b97f4a7c15ULL;
    return mix64(h);
}

uint64_t
cb_hash64_wide(const void *p, size_t n, uint64_t seed)
{
    const uint64_t k = 0x9e3779b97f4a7c15ULL;
    const unsigned char *b = p;
    uint64_t h0 = seed ^ (n * k), h1 = h0 ^ 0xa0761d6478bd642fULL,
             h2 = h0 ^ 0xe7037ed1a0b428dbULL, h3 = h0 ^ 0x8ebc6af09c88c6e3ULL, w;
    size_t i = 0;

    /* Four chains that do not wait for one another. */
    for (; i + 32 <= n; i += 32) {
        memcpy(&w, b + i, 8);
        h0 = (h0 ^ w) * k;
        h0 ^= h0 >> 32;
        memcpy(&w, b + i + 8, 8);
        h1 = (h1 ^ w) * k;
        h1 ^= h1 >> 32;
        memcpy(&w, b + i + 16, 8);
        h2 = (h2 ^ w) * k;
        h2 ^= h2 >> 32;
        memcpy(&w, b + i + 24, 8);
        h3 = (h3 ^ w) * k;
        h3 ^= h3 >> 32;
    }
    h0 = mix64(h0 ^ mix64(h1 ^ mix64(h2 ^ mix64(h3))));
    return cb_hash64(b + i, n - i, h0);
}
