/*
 * drg_num.c - the numeric value of a text field, exactly as FORMAT.md §4
 * (which follows JavaScript's Number()): trim white space (ASCII and the
 * Unicode space separators), empty -> 0, a decimal literal -> its value,
 * anything else -> NaN. Like the source, also accepts Infinity and the 0x,
 * 0o and 0b integer forms.
 */
#include <math.h>

#include "drg/drg_int.h"

/* Length of the white-space character at p (0 if none). */
static size_t
space_len(const unsigned char *p, const unsigned char *end)
{
    size_t n = (size_t)(end - p);
    if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
        return 1;
    if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)                  /* NBSP */
        return 2;
    if (n < 3)
        return 0;
    unsigned c = ((unsigned)(p[0] & 0x0F) << 12) | ((unsigned)(p[1] & 0x3F) << 6)
               | (p[2] & 0x3F);
    if ((p[0] & 0xF0) != 0xE0)
        return 0;
    if (c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
        c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000 || c == 0xFEFF)
        return 3;
    return 0;
}

static size_t
space_len_back(const unsigned char *beg, const unsigned char *end)
{
    size_t n = (size_t)(end - beg);
    if (n >= 1 && space_len(end - 1, end) == 1)
        return 1;
    if (n >= 2 && space_len(end - 2, end) == 2)
        return 2;
    if (n >= 3 && space_len(end - 3, end) == 3)
        return 3;
    return 0;
}

static double
radix_int(const unsigned char *p, const unsigned char *e, int base)
{
    if (p == e)
        return NAN;
    double v = 0;
    for (; p < e; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return NAN;
        if (d >= base)
            return NAN;
        v = v * base + d;
    }
    return v;
}

/*
 * A valid decimal literal of 128 bytes or more (long runs of digits):
 * rewritten as at most 40 significant digits and an exponent, which strtod
 * rounds the same way for any realistic input; no allocation.
 */
static double
long_literal(const unsigned char *p, const unsigned char *e)
{
    char buf[96];
    size_t n = 0;
    long exp10 = 0, sig = 0, x = 0;
    bool seen_dot = false, nonzero = false, neg = *p == '-';
    if (*p == '+' || *p == '-')
        p++;
    if (neg)
        buf[n++] = '-';
    buf[n++] = '.';
    for (; p < e && *p != 'e' && *p != 'E'; p++) {
        if (*p == '.') {
            seen_dot = true;
            continue;
        }
        if (!nonzero && *p == '0') {
            if (seen_dot)
                exp10--;  /* zeros after the dot, before the first digit */
            continue;
        }
        nonzero = true;
        if (!seen_dot)
            exp10++;
        if (sig < 40) {
            buf[n++] = (char)*p;
            sig++;
        }
    }
    if (!nonzero)
        return neg ? -0.0 : 0.0;
    if (p < e) {  /* the exponent part, already validated */
        p++;
        bool eneg = *p == '-';
        if (*p == '+' || *p == '-')
            p++;
        for (; p < e; p++)
            x = x < 100000 ? x * 10 + (*p - '0') : x;
        if (eneg)
            x = -x;
    }
    snprintf(buf + n, sizeof buf - n, "e%ld", exp10 + x);
    return strtod(buf, NULL);
}

double
cb__drg_number(struct cb_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    const unsigned char *e = p + s.len;

    /* Fast path: a short run of ASCII digits. */
    if (s.len && s.len <= 9) {
        uint32_t v = 0;
        const unsigned char *q = p;
        while (q < e && *q >= '0' && *q <= '9')
            v = v * 10 + (uint32_t)(*q++ - '0');
        if (q == e)
            return (double)v;
    }
    size_t k;
    while (p < e && (k = space_len(p, e)))
        p += k;
    while (e > p && (k = space_len_back(p, e)))
        e -= k;
    if (p == e)
        return 0;

    size_t n = (size_t)(e - p);
    if (n > 2 && p[0] == '0') {
        int base = (p[1] | 0x20) == 'x' ? 16 : (p[1] | 0x20) == 'o' ? 8
                 : (p[1] | 0x20) == 'b' ? 2 : 0;
        if (base)
            return radix_int(p + 2, e, base);
    }
    const unsigned char *q = p;
    bool neg = false;
    if (*q == '+' || *q == '-')
        neg = *q++ == '-';
    if ((size_t)(e - q) == 8 && !memcmp(q, "Infinity", 8))
        return neg ? -INFINITY : INFINITY;

    /* ^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$ */
    const unsigned char *m = q;
    size_t ip = 0, fp = 0;
    while (m < e && *m >= '0' && *m <= '9')
        m++, ip++;
    if (m < e && *m == '.') {
        m++;
        while (m < e && *m >= '0' && *m <= '9')
            m++, fp++;
    }
    if (!ip && !fp)
        return NAN;
    if (m < e && (*m == 'e' || *m == 'E')) {
        m++;
        if (m < e && (*m == '+' || *m == '-'))
            m++;
        size_t ep = 0;
        while (m < e && *m >= '0' && *m <= '9')
            m++, ep++;
        if (!ep)
            return NAN;
    }
    if (m != e)
        return NAN;

    if (n < 128) {
        char buf[128];
        memcpy(buf, p, n);
        buf[n] = '\0';
        return strtod(buf, NULL);
    }
    return long_literal(p, e);
}
