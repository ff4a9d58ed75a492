/*
 * str.h - struct cb_str, a borrowed (ptr, len) view of bytes.
 *
 * A cb_str never owns its bytes and is never assumed NUL-terminated. Helpers
 * here are pure and allocation-free.
 */
#ifndef CAREBASE_STR_H
#define CAREBASE_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "carebase/err.h"

struct cb_str {
    const char *ptr;
    size_t      len;
};

#define CB_STR_NULL ((struct cb_str){ NULL, 0 })
#define CB_STR_LIT(s) ((struct cb_str){ (s), sizeof(s) - 1 })

static inline struct cb_str
cb_str_make(const char *p, size_t n)
{
    struct cb_str s = { p, n };
    return s;
}

static inline struct cb_str
cb_str_c(const char *z)
{
    return cb_str_make(z, z ? strlen(z) : 0);
}

static inline bool
cb_str_eq(struct cb_str a, struct cb_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static inline bool
cb_str_eqz(struct cb_str a, const char *z)
{
    return cb_str_eq(a, cb_str_c(z));
}

static inline bool
cb_str_starts(struct cb_str a, const char *prefix)
{
    size_t n = strlen(prefix);
    return a.len >= n && memcmp(a.ptr, prefix, n) == 0;
}

/* Trims ASCII spaces and tabs on both sides (inline: called per field). */
static inline struct cb_str
cb_str_trim(struct cb_str s)
{
    /* Most values are already trimmed: bytes above ' ' at both ends. */
    if (s.len && (unsigned char)s.ptr[0] > ' ' &&
        (unsigned char)s.ptr[s.len - 1] > ' ')
        return s;
    while (s.len && (s.ptr[0] == ' ' || s.ptr[0] == '\t')) {
        s.ptr++;
        s.len--;
    }
    while (s.len && (s.ptr[s.len - 1] == ' ' || s.ptr[s.len - 1] == '\t'))
        s.len--;
    return s;
}

/* Empty per spec 0.3: no bytes, or only spaces, or the placeholder "-". */
static inline bool
cb_str_is_empty(struct cb_str s)
{
    s = cb_str_trim(s);
    return s.len == 0 || (s.len == 1 && s.ptr[0] == '-');
}

/* Number of UTF-8 characters (assumes valid UTF-8). */
size_t cb_str_utf8_len(struct cb_str s);

/*
 * Checked parsers: the whole string must be consumed (after trimming
 * spaces); they return CB_ERR_PROTO on any other content or on overflow.
 */
CB_MUST_CHECK enum cb_err cb_parse_i64(struct cb_str s, int64_t *out);
/* Decimal money with at most 2 fraction digits, as integer fen (1/100). */
CB_MUST_CHECK enum cb_err cb_parse_money(struct cb_str s, int64_t *fen);

/* A fast 64-bit non-cryptographic hash, for hash tables and content fingerprints. */
uint64_t cb_hash64(const void *p, size_t n, uint64_t seed);
/*
 * The same kind of hash with four independent lanes over 32-byte blocks
 * (about four times as fast on long input; other values than cb_hash64).
 */
uint64_t cb_hash64_wide(const void *p, size_t n, uint64_t seed);

#endif
