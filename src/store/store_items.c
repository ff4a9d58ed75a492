/*
 * store_items.c - the scalar items of a record in their stored layouts
 * (store_items.h): writing V2, reading V1 and V2.
 *
 * V2 replaced LZ4 over V1 because the store thread is the import's
 * critical path and the two cores are shared: LZ4 cost 14k instructions a
 * record (1.8 s of CPU per million), this layout about 7k (user CPU of a
 * 1M import 1.4 s lower), and on the generated front pages it is smaller
 * than LZ4 was (the money, dates and identifiers become numbers; a value
 * repeated in another field, such as the three addresses, is written
 * once).
 */
#include <stdint.h>
#include <string.h>

#include "carebase/date.h"
#include "carebase/store.h"
#include "store_items.h"

enum item_kind {
    K_TEXT, K_SAME, K_UINT, K_MONEY, K_NEGMONEY, K_DATE, K_DATETIME
};

#define MAX_DAY ((uint64_t)(CB_DAY_10000 - CB_DAY_1900))  /* exclusive */
#define MAX_SECS (MAX_DAY * 86400u)                        /* exclusive */
#define MAX_NUM UINT64_C(1000000000000000000)             /* 10^18, exclusive */
#define MAX_ITEMS ((size_t)16 << 20) /* bytes of a record's items, as the codec */

/* Fields remembered for repeats: a hash of the value picks the slot. */
#define SAME_BITS 7
#define SAME_MIN 8 /* shorter values cost little more written out */

static inline unsigned char *
put_varint(unsigned char *o, uint64_t v)
{
    while (v > 0x7f) {
        *o++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *o++ = (unsigned char)v;
    return o;
}

static inline int
is_digit(char c)
{
    return (unsigned char)(c - '0') <= 9;
}

/* Two digits at p as a number, or -1. */
static inline int
two_digits(const char *p)
{
    return is_digit(p[0]) && is_digit(p[1]) ? (p[0] - '0') * 10 + (p[1] - '0') : -1;
}

/* "yyyy-MM-dd" at p (10 bytes), a year from 1900: days since 1900-01-01. */
static int
date_arg(const char *p, uint64_t *arg)
{
    int c = two_digits(p), y = two_digits(p + 2), m, d;

    if (c < 19 || y < 0 || p[4] != '-' || p[7] != '-')
        return 0;
    y += c * 100;
    m = two_digits(p + 5);
    d = two_digits(p + 8);
    if (m < 1 || m > 12 || d < 1 || d > cb_days_in_month(y, m))
        return 0;
    *arg = (uint64_t)(cb_days_from_civil(y, m, d) - CB_DAY_1900);
    return 1;
}

/* "yyyy-MM-dd HH:mm:ss" at p (19 bytes): seconds since 1900-01-01. */
static int
datetime_arg(const char *p, uint64_t *arg)
{
    int hh, mi, ss;
    uint64_t day;

    if (p[10] != ' ' || p[13] != ':' || p[16] != ':' || !date_arg(p, &day))
        return 0;
    hh = two_digits(p + 11);
    mi = two_digits(p + 14);
    ss = two_digits(p + 17);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59)
        return 0;
    *arg = day * 86400u + (uint64_t)(hh * 3600 + mi * 60 + ss);
    return 1;
}

/* The first n (>= 1) bytes at p in a word (byte 0 lowest), the rest 0. */
static inline uint64_t
load_upto8(const char *p, size_t n)
{
    uint64_t w;
    uint32_t a, b;

    if (n >= 8) {
        memcpy(&w, p, 8);
        return w;
    }
    if (n >= 4) {
        memcpy(&a, p, 4);
        memcpy(&b, p + n - 4, 4);
        return a | (uint64_t)b << (8 * (n - 4));
    }
    return (uint64_t)(unsigned char)p[0] |
           (uint64_t)(unsigned char)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)(unsigned char)p[n - 1] << (8 * (n - 1));
}

/* How many of the bytes of w, from byte 0, are ASCII digits (0..8). */
static inline unsigned
lead_digits(uint64_t w)
{
    const uint64_t hi = UINT64_C(0x8080808080808080);
    uint64_t x = w & ~hi; /* adding to a byte below 0x80 carries nowhere */
    uint64_t bad = (w | (x + UINT64_C(0x4646464646464646)) |    /* > '9' */
                    ~(x + UINT64_C(0x5050505050505050))) & hi; /* < '0' */

    return bad ? (unsigned)__builtin_ctzll(bad) >> 3 : 8;
}

/* The number that the first k (1..8) bytes of w, all digits, write. */
static inline uint64_t
digits_value(uint64_t w, unsigned k)
{
    uint64_t d = (w - UINT64_C(0x3030303030303030)) << (8 * (8 - k));

    d = (d * 10 + (d >> 8)) & UINT64_C(0x00FF00FF00FF00FF);
    d = (d * 100 + (d >> 16)) & UINT64_C(0x0000FFFF0000FFFF);
    return (d * 10000 + (d >> 32)) & UINT64_C(0xFFFFFFFF);
}

/*
 * The digits at the start of p[0..n) (n >= 1): their count in *k (at most
 * 18; 19 when there are more) and their value.
 */
static inline uint64_t
lead_number(const char *p, size_t n, size_t *k)
{
    static const uint64_t pow10[9] = { 1, 10, 100, 1000, 10000, 100000,
                                       1000000, 10000000, 100000000 };
    uint64_t w = load_upto8(p, n), v;
    unsigned d = lead_digits(w), e;

    *k = d;
    if (!d)
        return 0;
    v = digits_value(w, d);
    if (d < 8 || n == 8)
        return v;
    w = load_upto8(p + 8, n - 8);
    if (!(e = lead_digits(w)))
        return v;
    v = v * pow10[e] + digits_value(w, e);
    *k += e;
    if (e < 8 || n == 16)
        return v;
    w = load_upto8(p + 16, n - 16);
    e = lead_digits(w);
    if (e > 2) {
        *k = 19;
        return 0;
    }
    *k += e;
    return e ? v * pow10[e] + digits_value(w, e) : v;
}

/*
 * The typed kind of p[0..n) (n >= 1) and its arg: K_TEXT when no typed
 * kind writes the value back byte for byte.
 */
static enum item_kind
typed(const char *p, size_t n, uint64_t *arg)
{
    size_t k;
    uint64_t v;
    int neg = p[0] == '-';

    if (n == 10 && date_arg(p, arg))
        return K_DATE;
    if (n == 19 && datetime_arg(p, arg))
        return K_DATETIME;
    p += neg;
    n -= (size_t)neg;
    if (!n)
        return K_TEXT;
    v = lead_number(p, n, &k);
    if (!k || k > 18 || (p[0] == '0' && k > 1))
        return K_TEXT;
    if (k == n) {
        *arg = v;
        return neg ? K_TEXT : K_UINT;
    }
    if (k > 16 || k + 3 != n || p[k] != '.' || !is_digit(p[k + 1]) ||
        !is_digit(p[k + 2]))
        return K_TEXT;
    v = v * 100 + (uint64_t)((p[k + 1] - '0') * 10 + (p[k + 2] - '0'));
    *arg = v;
    if (neg)
        return v ? K_NEGMONEY : K_TEXT; /* "-0.00" stays text */
    return K_MONEY;
}

/* The slot of a value of n >= SAME_MIN (>= 8) bytes among the remembered. */
static inline unsigned
same_slot(const char *p, size_t n)
{
    uint64_t a, b;

    memcpy(&a, p, 8);
    memcpy(&b, p + n - 8, 8);
    a = (a ^ (b * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ n) * UINT64_C(0x9E3779B97F4A7C15);
    return (unsigned)(a >> (64 - SAME_BITS));
}

/* The type of each scalar field (fields.def). */
static const unsigned char scalar_type[CB_F__SCALARS] = {
#define X(key, type, len, req, vset, zh) CB_T_##type,
#include "carebase/fields.def"
#undef X
};

/*
 * The kind and arg of a field whose text is exactly its parsed value's
 * plain form (cb_fp_exact): the same as typed() gives for that text.
 */
static inline uint64_t
exact_arg(const struct cb_fp *r, int f, enum item_kind *kind)
{
    int64_t v = r->val[f];

    switch ((enum cb_fp_type)scalar_type[f]) {
    case CB_T_M:
        *kind = v < 0 ? K_NEGMONEY : K_MONEY;
        return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    case CB_T_D:
        *kind = K_DATE;
        return (uint64_t)(v - CB_DAY_1900);
    case CB_T_DT:
        *kind = K_DATETIME;
        return (uint64_t)(v - CB_DAY_1900 * 86400);
    default: /* CB_T_N */
        *kind = K_UINT;
        return (uint64_t)v;
    }
}

size_t
cb__items_room(const struct cb_fp *r)
{
    size_t n = 1 + 10 * (size_t)CB_F__SCALARS;
    int f;

    for (f = 0; f < CB_F__SCALARS; f++)
        n += r->v[f].len;
    return n;
}

size_t
cb__items_put(const struct cb_fp *r, unsigned char *o0)
{
    unsigned char seen[1u << SAME_BITS]; /* field + 1; 0 = none */
    unsigned char *o = o0;
    int f, last = CB_F__SCALARS - 1;

    _Static_assert(CB_F__SCALARS < 255, "seen[] holds a field + 1 in a byte");
    memset(seen, 0, sizeof(seen));
    while (last >= 0 && !r->state[last])
        last--;
    *o++ = (unsigned char)CB_STORE_ITEMS_V2;
    for (f = 0; f <= last; f++) {
        const char *p = r->v[f].ptr;
        size_t n = r->v[f].len;
        enum item_kind kind;
        uint64_t arg;

        if (!r->state[f]) {
            *o++ = 0;
            continue;
        }
        if (n >= SAME_MIN) {
            unsigned k = same_slot(p, n);
            int g = seen[k] - 1;

            if (g >= 0 && r->v[g].len == n && memcmp(r->v[g].ptr, p, n) == 0) {
                o = put_varint(o, (uint64_t)(f - g) << 3 | K_SAME);
                continue;
            }
            seen[k] = (unsigned char)(f + 1);
        }
        if (cb_fp_exact(r, f)) { /* parsed already: what typed() would give */
            o = put_varint(o, exact_arg(r, f, &kind) << 3 | kind);
            continue;
        }
        if (n && (is_digit(p[0]) || p[0] == '-') &&
            (kind = typed(p, n, &arg)) != K_TEXT) {
            o = put_varint(o, arg << 3 | kind);
            continue;
        }
        o = put_varint(o, (uint64_t)(n + 1) << 3 | K_TEXT);
        cb__put_bytes(o, p, n);
        o += n;
    }
    return (size_t)(o - o0);
}

enum cb_err
cb__items_v1(const struct cb_str v[CB_F__SCALARS], struct cb_buf *out)
{
    size_t room = 1 + 10 * (size_t)CB_F__SCALARS;
    unsigned char *o;
    int f, last = CB_F__SCALARS - 1;
    enum cb_err rc;

    for (f = 0; f < CB_F__SCALARS; f++)
        room += v[f].len;
    cb_buf_reset(out);
    if ((rc = cb_buf_reserve(out, room)))
        return rc;
    while (last >= 0 && !v[last].ptr)
        last--;
    o = (unsigned char *)out->ptr;
    *o++ = (unsigned char)CB_STORE_ITEMS_V1;
    for (f = 0; f <= last; f++) {
        if (!v[f].ptr) {
            *o++ = 0;
            continue;
        }
        o = put_varint(o, (uint64_t)v[f].len + 1);
        cb__put_bytes(o, v[f].ptr, v[f].len);
        o += v[f].len;
    }
    out->len = (size_t)((char *)o - out->ptr);
    return CB_OK;
}

/* ---- decoding ----------------------------------------------------------------- */

/* The decimal digits of v at t; returns the end. */
static char *
put_uint(char *t, uint64_t v)
{
    char tmp[20];
    int k = 0;

    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (k)
        *t++ = tmp[--k];
    return t;
}

/* The text of a typed value at t (room: 24 bytes); NULL when damaged. */
static char *
put_typed(char *t, enum item_kind kind, uint64_t arg)
{
    switch (kind) {
    case K_UINT:
        return arg < MAX_NUM ? put_uint(t, arg) : NULL;
    case K_NEGMONEY:
        if (!arg)
            return NULL;
        *t++ = '-';
        /* fall through */
    case K_MONEY:
        if (arg >= MAX_NUM)
            return NULL;
        t = put_uint(t, arg / 100);
        *t++ = '.';
        *t++ = (char)('0' + arg / 10 % 10);
        *t++ = (char)('0' + arg % 10);
        return t;
    case K_DATE: {
        char d[11];

        if (arg >= MAX_DAY)
            return NULL;
        cb_format_date((int64_t)arg + CB_DAY_1900, d);
        memcpy(t, d, 10);
        return t + 10;
    }
    case K_DATETIME: {
        char dt[20];

        if (arg >= MAX_SECS)
            return NULL;
        cb_format_datetime((int64_t)arg + CB_DAY_1900 * 86400, dt);
        memcpy(t, dt, 19);
        return t + 19;
    }
    default:
        return NULL;
    }
}

static enum cb_err
decode_v1(const unsigned char *p, size_t n, struct cb_str *out)
{
    size_t i = 1;
    int f;

    for (f = 0; i < n; f++) {
        uint64_t len;

        if (!cb__varint_get(p, n, &i, &len, 10))
            return CB_ERR_PROTO;
        if (!len)
            continue;
        len--;
        if (len > n - i || f >= CB_F__SCALARS)
            return CB_ERR_PROTO;
        out[f] = cb_str_make((const char *)p + i, (size_t)len);
        i += (size_t)len;
    }
    return CB_OK;
}

static enum cb_err
decode_v2(const unsigned char *p, size_t n, struct cb_buf *text,
          struct cb_str *out)
{
    size_t i = 1;
    char *t;
    int f;
    enum cb_err rc;

    /* A typed value of one byte writes up to 19; reserve for all at once. */
    if (n > MAX_ITEMS)
        return CB_ERR_PROTO;
    if ((rc = cb_buf_reserve(text, 20 * n + 32)))
        return rc;
    t = text->ptr;
    for (f = 0; i < n; f++) {
        uint64_t h, arg;
        enum item_kind kind;
        char *end;

        if (!cb__varint_get(p, n, &i, &h, 10))
            return CB_ERR_PROTO;
        if (!h)
            continue;
        if (f >= CB_F__SCALARS)
            return CB_ERR_PROTO;
        kind = (enum item_kind)(h & 7);
        arg = h >> 3;
        if (kind == K_TEXT) {
            if (arg - 1 > n - i)
                return CB_ERR_PROTO;
            out[f] = cb_str_make((const char *)p + i, (size_t)(arg - 1));
            i += (size_t)(arg - 1);
            continue;
        }
        if (kind == K_SAME) {
            if (!arg || arg > (uint64_t)f || !out[f - (int)arg].ptr)
                return CB_ERR_PROTO;
            out[f] = out[f - (int)arg];
            continue;
        }
        if (!(end = put_typed(t, kind, arg)))
            return CB_ERR_PROTO;
        out[f] = cb_str_make(t, (size_t)(end - t));
        t = end;
    }
    text->len = (size_t)(t - text->ptr);
    return CB_OK;
}

enum cb_err
cb__items_decode(const unsigned char *p, size_t n, struct cb_buf *text,
                 struct cb_str out[CB_F__SCALARS])
{
    memset(out, 0, sizeof(*out) * CB_F__SCALARS);
    cb_buf_reset(text);
    if (!n)
        return CB_ERR_PROTO;
    if (p[0] == (unsigned char)CB_STORE_ITEMS_V1)
        return decode_v1(p, n, out);
    if (p[0] == (unsigned char)CB_STORE_ITEMS_V2)
        return decode_v2(p, n, text, out);
    return CB_ERR_PROTO;
}
