/*
 * qc_codes.c - ICD-10 code ranges for the data-quality rules.
 *
 * A range "lo-hi" is written with bounds of the form letter + 2 digits
 * ("V01", the 3-character category) optionally followed by a dot and more
 * characters ("D07.4"). A code c lies in lo-hi when
 *
 *     lo <= c[0 .. len(lo))  and  c[0 .. len(hi)) <= hi
 *
 * compared byte-wise with the ICD letter upper-cased, and c is at least as
 * long as each bound. For 3-character bounds this compares categories
 * ("W19.x00" is in V01-Y98); for dotted bounds the dotted code ("D07.500" is
 * in D07.4-D07.6, "D07.300" is not). A single prefix "R65" is R65-R65.
 */
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/refdata.h"
#include "qc_int.h"

static bool
is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static char
upper(char ch)
{
    return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

int
qc__cat_index(const char *p, size_t n)
{
    char l;

    if (n < 3)
        return -1;
    l = upper(p[0]);
    if (l < 'A' || l > 'Z' || !is_digit(p[1]) || !is_digit(p[2]))
        return -1;
    return (l - 'A') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
}

void
qc__code_norm(struct cb_str raw, struct qc_code *c)
{
    size_t i;

    c->s = cb_code_strip_marks(raw, &c->asterisk);
    c->uplen = (uint8_t)(c->s.len < sizeof(c->up) ? c->s.len
                                                   : sizeof(c->up) - 1);
    for (i = 0; i < c->uplen; i++)
        c->up[i] = c->s.ptr[i];
    c->up[c->uplen] = '\0';
    if (c->uplen)
        c->up[0] = upper(c->up[0]);
    c->cat = qc__cat_index(c->up, c->uplen);
}

bool
qc__codes_equal(const struct qc_code *a, const struct qc_code *b)
{
    if (a->s.len != b->s.len || a->s.len == 0)
        return false;
    return upper(a->s.ptr[0]) == upper(b->s.ptr[0]) &&
           memcmp(a->s.ptr + 1, b->s.ptr + 1, a->s.len - 1) == 0;
}

bool
qc__is_morphology(struct cb_str s)
{
    size_t i = 1, nd = 0;

    s = cb_str_trim(s);
    if (s.len < 7 || (s.ptr[0] != 'M' && s.ptr[0] != 'm'))
        return false;
    while (i < s.len && is_digit(s.ptr[i])) {
        i++;
        nd++;
    }
    if (nd < 4 || nd > 5 || i + 2 != s.len || s.ptr[i] != '/')
        return false;
    return is_digit(s.ptr[i + 1]);
}

/* A bound: letter, 2 digits, then optionally '.' and up to 7 more chars. */
static bool
bound_parse(struct cb_str t, char *out, uint8_t *len)
{
    size_t i;

    t = cb_str_trim(t);
    if (t.len < 3 || t.len >= QC_BOUND_MAX || qc__cat_index(t.ptr, t.len) < 0)
        return false;
    if (t.len > 3 && (t.ptr[3] != '.' || t.len == 4))
        return false;
    for (i = 0; i < t.len; i++) {
        char ch = i == 0 ? upper(t.ptr[i]) : t.ptr[i];
        if (i > 3 && !is_digit(ch) && ch != 'x' && ch != 'X')
            return false;
        out[i] = ch;
    }
    out[t.len] = '\0';
    *len = (uint8_t)t.len;
    return true;
}

bool
qc__range_parse(struct cb_str text, struct qc_range *out)
{
    static const char endash[] = "\xe2\x80\x93"; /* U+2013 – */
    size_t i, sep = 0, seplen = 0;

    memset(out, 0, sizeof(*out));
    text = cb_str_trim(text);
    for (i = 0; i < text.len; i++) {
        if (text.ptr[i] == '-') {
            sep = i;
            seplen = 1;
            break;
        }
        if (i + 3 <= text.len && memcmp(text.ptr + i, endash, 3) == 0) {
            sep = i;
            seplen = 3;
            break;
        }
    }
    if (seplen == 0) {
        if (!bound_parse(text, out->lo, &out->lolen))
            return false;
        memcpy(out->hi, out->lo, sizeof(out->hi));
        out->hilen = out->lolen;
    } else if (!bound_parse(cb_str_make(text.ptr, sep), out->lo, &out->lolen) ||
               !bound_parse(cb_str_make(text.ptr + sep + seplen,
                                        text.len - sep - seplen),
                            out->hi, &out->hilen)) {
        return false;
    }
    if (qc__cat_index(out->lo, out->lolen) > qc__cat_index(out->hi, out->hilen))
        return false;
    if (out->lolen == out->hilen && memcmp(out->lo, out->hi, out->lolen) > 0)
        return false;
    if (seplen == 0)
        memcpy(out->text, out->lo, (size_t)out->lolen + 1);
    else {
        memcpy(out->text, out->lo, out->lolen);
        out->text[out->lolen] = '-';
        memcpy(out->text + out->lolen + 1, out->hi, (size_t)out->hilen + 1);
    }
    return true;
}

bool
qc__range_match(const struct qc_range *rg, const struct qc_code *c)
{
    if (c->uplen < rg->lolen || c->uplen < rg->hilen || c->cat < 0)
        return false;
    return memcmp(c->up, rg->lo, rg->lolen) >= 0 &&
           memcmp(c->up, rg->hi, rg->hilen) <= 0;
}

void
qc__codeset_init(struct qc_codeset *s)
{
    memset(s, 0, sizeof(*s));
}

void
qc__codeset_release(struct qc_codeset *s)
{
    cb_free(s->e);
    qc__codeset_init(s);
}

enum cb_err
qc__codeset_add(struct qc_codeset *s, const struct qc_range *rg)
{
    int lo = qc__cat_index(rg->lo, rg->lolen);
    int hi = qc__cat_index(rg->hi, rg->hilen);
    int k;

    if (lo < 0 || hi < lo)
        return CB_ERR_PROTO;
    if (s->n >= UINT16_MAX - 1)
        return CB_ERR_TOO_LARGE;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 8;
        struct qc_range *e = cb_reallocarray(s->e, cap, sizeof(*e));
        if (!e)
            return CB_ERR_NOMEM;
        s->e = e;
        s->cap = cap;
    }
    s->e[s->n] = *rg;
    for (k = lo; k <= hi; k++) {
        if ((k == lo && rg->lolen > 3) || (k == hi && rg->hilen > 3))
            s->part[k] = 1;
        else if (!s->whole[k])
            s->whole[k] = (uint16_t)(s->n + 1);
    }
    s->n++;
    return CB_OK;
}

int
qc__codeset_match(const struct qc_codeset *s, const struct qc_code *c)
{
    size_t i;

    if (c->cat < 0)
        return -1;
    if (s->whole[c->cat])
        return s->whole[c->cat] - 1;
    if (!s->part[c->cat])
        return -1;
    for (i = 0; i < s->n; i++)
        if (qc__range_match(&s->e[i], c))
            return (int)i;
    return -1;
}
