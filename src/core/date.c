#include <stdint.h>
#include <string.h>

#include "carebase/date.h"

/* Howard Hinnant's days_from_civil / civil_from_days algorithms. */
int64_t
cb_days_from_civil(int y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void
cb_civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int
cb_days_in_month(int y, int m)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : dim[m - 1];
}

static int
digits(const char *p, size_t n, int *out)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 0;
}

/*
 * Whether the bytes of w under mask (0xff per byte) are all ASCII digits:
 * high nibble 3, and adding 6 does not carry into the next nibble. The
 * caller has checked the other bytes, so no carry comes in from them.
 */
static inline int
digits8(uint64_t w, uint64_t mask)
{
    const uint64_t hi = 0xf0f0f0f0f0f0f0f0u & mask, three = 0x3030303030303030u & mask;

    return (w & hi) == three && ((w + 0x0606060606060606u) & hi) == three;
}

/* Two ASCII digits at p, checked already. */
static inline int
two(const char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* A date and time of day as written, before its ranges are checked. */
struct civil {
    int y, mo, d, hh, mi, ss;
};

/*
 * "yyyy-MM-dd" and "yyyy-MM-dd HH:mm:ss", the forms nearly every export
 * uses, without a loop (import: about five a record). 1 when p[0..n) is one
 * of them with its digits in place; the ranges are checked by the caller.
 */
static int
parse_plain(const char *p, size_t n, struct civil *c)
{
    uint64_t a, b;

    if ((n != 10 && n != 19) || p[4] != '-' || p[7] != '-')
        return 0;
    memcpy(&a, p, 8);                 /* yyyy-MM- */
    memcpy(&b, p + n - 8, 8);         /* the last 8: yy-MM-dd or HH:mm:ss */
    if (n == 10) {
        if (!digits8(a, 0x00ffff00ffffffffu) || !digits8(b, 0xffff00ffff000000u))
            return 0;
        c->hh = c->mi = c->ss = 0;
    } else {
        uint64_t m;

        memcpy(&m, p + 8, 8);         /* dd HH:mm */
        if (p[10] != ' ' || p[13] != ':' || p[16] != ':' ||
            !digits8(a, 0x00ffff00ffffffffu) || !digits8(m, 0xffff00ffff00ffffu) ||
            !digits8(b, 0xffff00ffff000000u))
            return 0;
        c->hh = two(p + 11);
        c->mi = two(p + 14);
        c->ss = two(p + 17);
    }
    c->y = two(p) * 100 + two(p + 2);
    c->mo = two(p + 5);
    c->d = two(p + 8);
    return 1;
}

/*
 * Every other accepted form: "yyyy-MM-dd", "yyyy/MM/dd" or "yyyyMMdd", then
 * optionally ' ' or 'T', "HH:mm", ":ss" and fractional seconds. 1 when
 * p[0..n) is one of them; the ranges are checked by the caller.
 */
static int
parse_general(const char *p, size_t n, struct civil *c, bool *with_time)
{
    size_t i;

    c->hh = c->mi = c->ss = 0;
    *with_time = false;
    if (n >= 10 && (p[4] == '-' || p[4] == '/') && p[7] == p[4]) {
        if (digits(p, 4, &c->y) || digits(p + 5, 2, &c->mo) || digits(p + 8, 2, &c->d))
            return 0;
        i = 10;
    } else if (n >= 8 && digits(p, 4, &c->y) == 0 && digits(p + 4, 2, &c->mo) == 0 &&
               digits(p + 6, 2, &c->d) == 0 && (n == 8 || p[8] == ' ' || p[8] == 'T')) {
        i = 8;
    } else {
        return 0;
    }
    if (i == n)
        return 1;
    if ((p[i] != ' ' && p[i] != 'T') || n - i < 6)
        return 0;
    i++;
    if (digits(p + i, 2, &c->hh) || p[i + 2] != ':' || digits(p + i + 3, 2, &c->mi))
        return 0;
    i += 5;
    *with_time = true;
    if (i == n)
        return 1;
    if (p[i] != ':' || n - i < 3 || digits(p + i + 1, 2, &c->ss))
        return 0;
    i += 3;
    if (i == n)
        return 1;
    if (p[i] != '.') /* fractional seconds */
        return 0;
    for (i++; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return 0;
    return 1;
}

/* The seconds of a date and time, if every part is in range. */
static enum cb_err
civil_secs(const struct civil *c, int64_t *secs)
{
    if (c->y < 1800 || c->y > 2200 || c->mo < 1 || c->mo > 12 || c->d < 1 ||
        c->d > cb_days_in_month(c->y, c->mo) || c->hh > 23 || c->mi > 59 || c->ss > 59)
        return CB_ERR_PROTO;
    *secs = cb_days_from_civil(c->y, c->mo, c->d) * 86400 + c->hh * 3600 + c->mi * 60 + c->ss;
    return CB_OK;
}

enum cb_err
cb_parse_datetime(struct cb_str s, int64_t *secs, bool *has_time)
{
    struct civil c;
    bool with_time;
    enum cb_err rc;

    s = cb_str_trim(s);
    if (parse_plain(s.ptr, s.len, &c))
        with_time = s.len == 19;
    else if (!parse_general(s.ptr, s.len, &c, &with_time))
        return CB_ERR_PROTO;
    if ((rc = civil_secs(&c, secs)))
        return rc;
    *has_time = with_time;
    return CB_OK;
}

static void
put_digits(char *out, int v, int n)
{
    while (n-- > 0) {
        out[n] = (char)('0' + v % 10);
        v /= 10;
    }
}

void
cb_format_date(int64_t days, char out[11])
{
    int y, m, d;

    cb_civil_from_days(days, &y, &m, &d);
    put_digits(out, y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = '\0';
}

void
cb_format_datetime(int64_t secs, char out[20])
{
    int64_t day = cb_day_of(secs), rem = secs - day * 86400;

    cb_format_date(day, out);
    out[10] = ' ';
    put_digits(out + 11, (int)(rem / 3600), 2);
    out[13] = ':';
    put_digits(out + 14, (int)(rem / 60 % 60), 2);
    out[16] = ':';
    put_digits(out + 17, (int)(rem % 60), 2);
    out[19] = '\0';
}

int
cb_completed_years(int64_t birth_day, int64_t on_day)
{
    int by, bm, bd, y, m, d, years;

    cb_civil_from_days(birth_day, &by, &bm, &bd);
    cb_civil_from_days(on_day, &y, &m, &d);
    years = y - by;
    if (m < bm || (m == bm && d < bd))
        years--;
    return years;
}
