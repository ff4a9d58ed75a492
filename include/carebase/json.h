/*
 * json.h - writing JSON text into a struct cb_buf, with escaping.
 */
#ifndef CAREBASE_JSON_H
#define CAREBASE_JSON_H

#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/str.h"

/* Appends s as a JSON string literal (quotes included, RFC 8259 escapes). */
CB_MUST_CHECK enum cb_err cb_json_str(struct cb_buf *b, struct cb_str s);

/* Whether any of the 8 bytes in w (a word of a string) needs a JSON escape:
   < 0x20, '"' or '\\' (SWAR). */
static inline int
cb_json_needs_escape8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t zq = (q - ones) & ~q, zb = (bs - ones) & ~bs;

    return ((ctl | zq | zb) & highs) != 0;
}
CB_MUST_CHECK enum cb_err cb_json_strz(struct cb_buf *b, const char *z);

#endif
