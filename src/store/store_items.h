/*
 * store_items.h - the scalar items of a record in their stored layouts
 * (record.data). Shared only by the files under src/store/.
 *
 * Both layouts start with a version byte and then give each scalar field in
 * fields.def order (append-only, so every version decodes); trailing empty
 * fields are left out.
 *
 * V1 (0x01): per field a varint n, 0 = empty, else the value's length + 1
 * and its bytes. Stored until V2, in a codec frame (store_codec.c). The
 * content hashes of those databases are over it (store_record.c).
 *
 * V2 (0x02), written: typed, so that it needs no compression. Per field a
 * varint h = arg << 3 | kind:
 *   h = 0      empty
 *   kind 0     text: arg = length + 1, then the bytes
 *   kind 1     the value of field f - arg (arg >= 1, not empty)
 *   kind 2     an unsigned integer: its decimal digits, no leading zero
 *              ("0" itself), at most 18 digits
 *   kind 3     money: arg = v, "I.FF" with I = v / 100 (no leading zero),
 *              FF = v % 100 as two digits
 *   kind 4     negative money: arg = v >= 1, "-" then as kind 3
 *   kind 5     a date: arg = days since 1900-01-01, "yyyy-MM-dd"
 *   kind 6     a date-time: arg = seconds since 1900-01-01 00:00:00,
 *              "yyyy-MM-dd HH:mm:ss"
 *   kind 7     not used (damaged)
 * A value takes a typed kind only when that kind writes it back byte for
 * byte, so decoding gives exactly the text that was encoded.
 */
#ifndef CB_STORE_ITEMS_H
#define CB_STORE_ITEMS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/record.h"
#include "carebase/str.h"

#define CB_STORE_ITEMS_V2 '\x02'

/* Bytes the V2 layout of r's items takes at most. */
size_t cb__items_room(const struct cb_fp *r);

/*
 * Writes r's scalar items (every field whose state is not empty) in the V2
 * layout at o, which has cb__items_room(r) bytes; returns the length.
 */
size_t cb__items_put(const struct cb_fp *r, unsigned char *o);

/* Writes decoded items (cb__items_decode) in the V1 layout into out. */
CB_MUST_CHECK enum cb_err cb__items_v1(const struct cb_str v[CB_F__SCALARS],
                                       struct cb_buf *out);

/*
 * Reads a varint (7 bits a byte, low first) of at most maxbytes bytes at
 * p[*i..n) into *v; 0 when it is truncated or longer. Both items layouts
 * and the codec's frame header use it.
 */
static inline int
cb__varint_get(const unsigned char *p, size_t n, size_t *i, uint64_t *v,
               unsigned maxbytes)
{
    uint64_t r = 0;
    unsigned shift = 0;

    while (*i < n && shift < 7 * maxbytes) {
        unsigned char b = p[(*i)++];

        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
        shift += 7;
    }
    return 0;
}

/*
 * Copies n bytes to o (room for n) without a libc call for short values:
 * the values of a front page are mostly a few bytes.
 */
static inline void
cb__put_bytes(unsigned char *o, const char *p, size_t n)
{
    uint64_t w, w2;
    uint32_t h, h2;
    size_t i;

    if (n >= 16) {
        for (i = 0; i + 16 < n; i += 16) {
            memcpy(&w, p + i, 8);
            memcpy(&w2, p + i + 8, 8);
            memcpy(o + i, &w, 8);
            memcpy(o + i + 8, &w2, 8);
        }
        memcpy(&w, p + n - 16, 8);
        memcpy(&w2, p + n - 8, 8);
        memcpy(o + n - 16, &w, 8);
        memcpy(o + n - 8, &w2, 8);
    } else if (n >= 8) {
        memcpy(&w, p, 8);
        memcpy(&w2, p + n - 8, 8);
        memcpy(o, &w, 8);
        memcpy(o + n - 8, &w2, 8);
    } else if (n >= 4) {
        memcpy(&h, p, 4);
        memcpy(&h2, p + n - 4, 4);
        memcpy(o, &h, 4);
        memcpy(o + n - 4, &h2, 4);
    } else if (n) {
        o[0] = (unsigned char)p[0];
        o[n / 2] = (unsigned char)p[n / 2];
        o[n - 1] = (unsigned char)p[n - 1];
    }
}

/*
 * Decodes items in layout V1 or V2 (p[0] the version byte) into out: each
 * scalar field's value, .ptr NULL when empty. Values point into p or into
 * text (reset here); both must outlive out. CB_ERR_PROTO when damaged or of
 * another layout.
 */
CB_MUST_CHECK enum cb_err cb__items_decode(const unsigned char *p, size_t n,
                                           struct cb_buf *text,
                                           struct cb_str out[CB_F__SCALARS]);

#endif
