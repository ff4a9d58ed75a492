/*
 * record_int.h - internals of src/record/ shared by record.c and profile.c:
 * typed parsing of one field, inline so that cb_profile_fill parses each
 * value where it assigns it without a call per field.
 */
#ifndef CAREBASE_RECORD_INT_H
#define CAREBASE_RECORD_INT_H

#include "carebase/date.h"
#include "carebase/record.h"
#include "carebase/str.h"

/*
 * cb_parse_money without its trimming pass: the common shape -?d+(.d{0,2})?
 * of at most 16 bytes is read here (no overflow possible), anything else
 * (spaces included) by cb_parse_money, so the result is always its own.
 */
/* *exact: s is "[-]I.FF" with no leading zero in I, and not "-0.00". */
static inline enum cb_err
cb__parse_money_fast(struct cb_str s, int64_t *fen, bool *exact)
{
    const char *p = s.ptr, *end = s.ptr + s.len, *start;
    int64_t v = 0;
    int neg;
    unsigned d;

    *exact = false;
    /* At most 16 bytes: 16 digits times 100 cannot overflow. */
    if (s.len == 0 || s.len > 16)
        return cb_parse_money(s, fen);
    neg = *p == '-';
    p += neg;
    start = p;
    while (p < end && (d = (unsigned)(unsigned char)*p - '0') <= 9) {
        v = v * 10 + (int64_t)d;
        p++;
    }
    if (p == start)
        return cb_parse_money(s, fen);
    if (p == end) {
        v *= 100;
    } else if (*p == '.' && end - p <= 3) {
        /* ".", ".d" or ".dd" */
        int nfrac = (int)(end - p) - 1, i;
        for (i = 1; i <= nfrac; i++) {
            d = (unsigned)(unsigned char)p[i] - '0';
            if (d > 9)
                return cb_parse_money(s, fen);
            v = v * 10 + (int64_t)d;
        }
        *exact = nfrac == 2 && (start[0] != '0' || p - start == 1) && (!neg || v);
        for (; nfrac < 2; nfrac++)
            v *= 10;
    } else {
        return cb_parse_money(s, fen);
    }
    *fen = neg ? -v : v;
    return CB_OK;
}

/* s (parsed as a non-negative integer) is digits, no leading zero, <= 18. */
static inline bool
cb__exact_uint(struct cb_str s)
{
    return s.len >= 1 && s.len <= 18 && (unsigned char)(s.ptr[0] - '0') <= 9 &&
           (unsigned char)(s.ptr[s.len - 1] - '0') <= 9 && (s.ptr[0] != '0' || s.len == 1);
}

/* s (parsed as a date or date-time of day d) is "yyyy-MM-dd[ HH:mm:ss]". */
static inline bool
cb__exact_date(struct cb_str s, bool with_time, int64_t d)
{
    const char *p = s.ptr;

    if (s.len != (with_time ? 19u : 10u) || p[4] != '-' || p[7] != '-' ||
        d < CB_DAY_1900 || d >= CB_DAY_10000)
        return false;
    return !with_time || (p[10] == ' ' && p[13] == ':' && p[16] == ':');
}

/*
 * Parses a non-empty value that is not "-" (untrimmed text is fine: the
 * parsers trim it).
 */
static inline void
cb__fp_parse_value(struct cb_fp *r, int id, enum cb_fp_type t)
{
    struct cb_str s = r->v[id];
    int64_t v = 0;
    bool has_time, exact = false;

    r->exact_bits[id >> 6] &= ~((uint64_t)1 << (id & 63));
    switch (t) {
    case CB_T_N:
        r->state[id] = cb_parse_i64(s, &v) == CB_OK ? CB_FS_OK : CB_FS_BAD;
        exact = r->state[id] == CB_FS_OK && v >= 0 && cb__exact_uint(s);
        break;
    case CB_T_M:
        r->state[id] = cb__parse_money_fast(s, &v, &exact) == CB_OK ? CB_FS_OK : CB_FS_BAD;
        break;
    case CB_T_D:
    case CB_T_DT:
        if (cb_parse_datetime(s, &v, &has_time) != CB_OK) {
            r->state[id] = CB_FS_BAD;
            break;
        }
        if (t == CB_T_D) {
            if (has_time) { /* a date item must not carry a time */
                r->state[id] = CB_FS_BAD;
                break;
            }
            v = cb_day_of(v);
            exact = cb__exact_date(s, false, v);
            r->state[id] = CB_FS_OK;
            break;
        }
        exact = has_time && cb__exact_date(s, true, cb_day_of(v));
        if (id == CB_F_RYSJ) {
            r->dt_date_only_rysj = !has_time;
        } else if (id == CB_F_CYSJ) {
            r->dt_date_only_cysj = !has_time;
        }
        r->state[id] = CB_FS_OK;
        break;
    case CB_T_C:
    case CB_T_K:
    case CB_T_S:
        r->state[id] = CB_FS_TEXT;
        return;
    }
    if (r->state[id] == CB_FS_OK) {
        r->val[id] = v;
        if (exact)
            r->exact_bits[id >> 6] |= (uint64_t)1 << (id & 63);
    }
}

#endif
