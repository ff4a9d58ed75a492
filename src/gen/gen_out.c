/*
 * gen_out.c - output of `carebase generate`: the reused record row (text
 * per canonical field, formatted without printf), the dialect's columns as
 * CSV or TSV, the optional GB18030 conversion (iconv), buffered writes, and
 * the consortium directory.
 *
 * CSV quoting: a field is quoted only when it holds the delimiter, a quote,
 * CR or LF; quotes inside are doubled. Lines end with LF. Values never hold
 * CR or LF, so line numbers in the manifest are physical lines.
 */
#include <iconv.h>
#include <string.h>

#include "gen/gen_int.h"

/* ---- the row ---- */

void
gen__row_clear(struct cb_gen *g)
{
    struct gen_row *row = &g->row;
    size_t i;

    if (row->ntouched >= sizeof(row->touched) / sizeof(row->touched[0])) {
        memset(row->v, 0, sizeof(row->v));
    } else {
        for (i = 0; i < row->ntouched; i++)
            row->v[row->touched[i]] = CB_STR_NULL;
    }
    row->ntouched = 0;
    row->slen = 0;
}

void
gen__set(struct cb_gen *g, int f, struct cb_str s)
{
    struct gen_row *row = &g->row;

    if (f < 0 || f >= CB_FP_NFIELDS || !g->want[f])
        return;
    row->v[f] = s;
    if (row->ntouched < sizeof(row->touched) / sizeof(row->touched[0]))
        row->touched[row->ntouched] = (uint16_t)f;
    row->ntouched++;
}

void
gen__setz(struct cb_gen *g, int f, const char *z)
{
    gen__set(g, f, cb_str_c(z));
}

void
gen__setb(struct cb_gen *g, int f, const char *p, size_t n)
{
    struct gen_row *row = &g->row;

    if (f < 0 || f >= CB_FP_NFIELDS || !g->want[f])
        return;
    if (row->slen + n > row->scap)
        CB_BUG("generator scratch overflow");  /* records are bounded */
    memcpy(row->sp + row->slen, p, n);
    gen__set(g, f, cb_str_make(row->sp + row->slen, n));
    row->slen += n;
}

void
gen__seti(struct cb_gen *g, int f, int64_t v)
{
    char b[24];
    size_t n = 0;

    if (v < 0) {
        b[n++] = '-';
        v = -v;
    }
    n = gen_putn(b, n, (uint64_t)v, 1);
    gen__setb(g, f, b, n);
}

void
gen__setm(struct cb_gen *g, int f, int64_t fen)
{
    char b[32];
    size_t n;

    if (fen < 0)
        fen = 0;
    n = gen_putn(b, 0, (uint64_t)(fen / 100), 1);
    b[n++] = '.';
    n = gen_putn(b, n, (uint64_t)(fen % 100), 2);
    gen__setb(g, f, b, n);
}

void
gen__setd(struct cb_gen *g, int f, int64_t day)
{
    char b[11];

    cb_format_date(day, b);
    gen__setb(g, f, b, 10);
}

void
gen__setdt(struct cb_gen *g, int f, int64_t secs)
{
    char b[20];

    cb_format_datetime(secs, b);
    gen__setb(g, f, b, 19);
}

void
gen__unset(struct cb_gen *g, int f)
{
    if (f >= 0 && f < CB_FP_NFIELDS)
        g->row.v[f] = CB_STR_NULL;
}

/* ---- output ---- */

static enum cb_err
add_field(struct cb_buf *b, struct cb_str v, char delim)
{
    size_t i;
    bool quote = false;
    enum cb_err rc;

    for (i = 0; i < v.len && !quote; i++) {
        char ch = v.ptr[i];
        quote = ch == delim || ch == '"' || ch == '\n' || ch == '\r';
    }
    if (!quote)
        return cb_buf_add(b, v.ptr, v.len);
    if ((rc = cb_buf_addc(b, '"')))
        return rc;
    for (i = 0; i < v.len; i++) {
        if (v.ptr[i] == '"' && (rc = cb_buf_addc(b, '"')))
            return rc;
        if ((rc = cb_buf_addc(b, v.ptr[i])))
            return rc;
    }
    return cb_buf_addc(b, '"');
}

enum cb_err
gen__flush(struct cb_gen *g, FILE *f, bool force, struct cb_buf *err)
{
    if (g->out.len == 0 || (!force && g->out.len < GEN_FLUSH_AT))
        return CB_OK;
    if (fwrite(g->out.ptr, 1, g->out.len, f) != g->out.len) {
        cb_errf(err, "cannot write the output: short write");
        return CB_ERR_IO;
    }
    cb_buf_reset(&g->out);
    return CB_OK;
}

/* Appends the finished line (UTF-8 in g->line) to the output buffer. */
static enum cb_err
put_line(struct cb_gen *g, struct cb_buf *err)
{
    enum cb_err rc;
    char *in, *o;
    size_t inleft, outleft;

    if ((rc = cb_buf_addc(&g->line, '\n')))
        return rc;
    if (g->iconv == (void *)-1)
        return cb_buf_add(&g->out, g->line.ptr, g->line.len);
    /*
     * GB18030 never needs more bytes than UTF-8 for the same text. ASCII
     * (most of a line: digits, codes, delimiters) is the same in both and
     * is copied; only the runs of other characters go through iconv.
     */
    if ((rc = cb_buf_reserve(&g->out, g->line.len + 16)))
        return rc;
    in = g->line.ptr;
    inleft = g->line.len;
    o = g->out.ptr + g->out.len;
    outleft = g->out.cap - g->out.len - 1;
    while (inleft) {
        size_t n = 0;

        while (n < inleft && (unsigned char)in[n] < 0x80)
            n++;
        memcpy(o, in, n);
        o += n;
        outleft -= n;
        in += n;
        inleft -= n;
        n = 0;
        while (n < inleft && (unsigned char)in[n] >= 0x80)
            n++;
        if (n) {
            size_t left = n;
            if (iconv((iconv_t)g->iconv, &in, &left, &o, &outleft) ==
                    (size_t)-1 || left) {
                cb_errf(err, "cannot convert a line to GB18030");
                return CB_ERR_PROTO;
            }
            inleft -= n;
        }
    }
    g->out.len = (size_t)(o - g->out.ptr);
    g->out.ptr[g->out.len] = '\0';
    return CB_OK;
}

enum cb_err
gen__write_header(struct cb_gen *g, struct cb_buf *err)
{
    size_t i;
    enum cb_err rc = CB_OK;

    cb_buf_reset(&g->line);
    for (i = 0; i < g->ncols && !rc; i++) {
        const char *name = cb_profile_column(g->profile, i, NULL);
        if (i)
            rc = cb_buf_addc(&g->line, g->opts.delimiter);
        if (!rc)
            rc = add_field(&g->line, cb_str_c(name), g->opts.delimiter);
    }
    if (!rc)
        rc = put_line(g, err);
    return rc;
}

/* Appends v at *p (room reserved by the caller), quoting when needed. */
static char *
put_field(char *p, struct cb_str v, char delim)
{
    size_t i;

    for (i = 0; i < v.len; i++) {
        char ch = v.ptr[i];
        if (ch == delim || ch == '"' || ch == '\n' || ch == '\r')
            break;
    }
    if (i == v.len) {
        memcpy(p, v.ptr, v.len);
        return p + v.len;
    }
    *p++ = '"';
    for (i = 0; i < v.len; i++) {
        if (v.ptr[i] == '"')
            *p++ = '"';
        *p++ = v.ptr[i];
    }
    *p++ = '"';
    return p;
}

/*
 * The hot loop: most of the several hundred columns are empty, so the line
 * is written straight into reserved buffer space rather than appended
 * field by field.
 */
enum cb_err
gen__write_row(struct cb_gen *g, struct cb_buf *err)
{
    const char delim = g->opts.delimiter;
    struct cb_buf *b = &g->line;
    size_t i;
    char *p;
    enum cb_err rc;

    cb_buf_reset(b);
    if ((rc = cb_buf_reserve(b, g->ncols + 64)))
        return rc;
    p = b->ptr;
    for (i = 0; i < g->ncols; i++) {
        int f = g->colfield[i];
        struct cb_str v;

        if (i)
            *p++ = delim;
        if (f < 0 || !g->row.v[f].len)
            continue;
        rc = cb_profile_denormalise(g->profile, f, g->row.v[f], &g->tmp);
        if (rc) {
            cb_errf(err, "cannot write field %d in profile '%s'", f,
                    cb_profile_name(g->profile));
            return rc;
        }
        v = cb_buf_str(&g->tmp);
        /* room for this value quoted, and the remaining delimiters */
        b->len = (size_t)(p - b->ptr);
        if ((rc = cb_buf_reserve(b, 2 * v.len + 2 + (g->ncols - i) + 64)))
            return rc;
        p = put_field(b->ptr + b->len, v, delim);
    }
    b->len = (size_t)(p - b->ptr);
    b->ptr[b->len] = '\0';
    return put_line(g, err);
}

enum cb_err
cb_gen_write_orgs(struct cb_gen *g, FILE *out, struct cb_buf *err)
{
    static const char *const level[GEN_NLEVELS] = { "三级", "二级", "基层" };
    struct cb_buf b = CB_BUF_INIT;
    enum cb_err rc;
    int i;

    rc = cb_buf_adds(&b, "zzjgdm\tname\tlevel\tconsortium\n");
    for (i = 0; i < g->nhosp && !rc; i++) {
        const struct gen_hosp *h = &g->hosp[i];
        rc = cb_buf_addf(&b, "%.*s\t%.*s\t%s\t%.*s\n", (int)h->zzjgdm.len,
                         h->zzjgdm.ptr, (int)h->name.len, h->name.ptr,
                         level[h->level], (int)g->org.consortium.len,
                         g->org.consortium.ptr);
    }
    if (!rc && (fwrite(b.ptr, 1, b.len, out) != b.len || fflush(out) != 0)) {
        cb_errf(err, "cannot write the consortium directory");
        rc = CB_ERR_IO;
    }
    cb_buf_release(&b);
    return rc;
}
