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
static inline enum cb_err
cb__parse_money_fast(struct cb_str s, int64_t *fen)
{
    const char *p = s.ptr, *end = s.ptr + s.len, *start;
    int64_t v = 0;
    int neg;
    unsigned d;

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
        for (; nfrac < 2; nfrac++)
            v *= 10;
    } else {
        return cb_parse_money(s, fen);
    }
    *fen = neg ? -v : v;
    return CB_OK;
}

/*
 * Parses a non-empty value that is not "-" (untrimmed text is fine: the
 * parsers trim it).
 */
static inline void
cb__fp_parse_value(struct cb_fp *r, int id, enum cb_fp_type t)
{
    struct cb_str s = r->v[id];
    int64_t v;
    bool has_time;

    switch (t) {
    case CB_T_N:
        r->state[id] = cb_parse_i64(s, &v) == CB_OK ? CB_FS_OK : CB_FS_BAD;
        break;
    case CB_T_M:
        r->state[id] = cb__parse_money_fast(s, &v) == CB_OK ? CB_FS_OK : CB_FS_BAD;
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
        } else if (id == CB_F_RYSJ) {
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
    if (r->state[id] == CB_FS_OK)
        r->val[id] = v;
}

#endif
