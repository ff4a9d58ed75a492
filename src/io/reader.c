/*
 * reader.c - streaming CSV/TSV reader with encoding detection, and the
 * dispatch to the xlsx backend.
 *
 * Accepted text input:
 *   - encoding UTF-8 (optional BOM) or GB18030; auto-detected: a BOM means
 *     UTF-8; otherwise valid UTF-8 means UTF-8, else GB18030 when the bytes
 *     decode as GB18030. A file that is pure ASCII so far and then turns out
 *     not to be UTF-8 switches to GB18030 at that point (ASCII is common to
 *     both). UTF-16 and files with NUL bytes are refused.
 *   - delimiter ',' or TAB, chosen from the header line (or by --format).
 *   - RFC 4180 quoting: a field that starts with '"' runs to the next lone
 *     '"', and "" inside it is one quote; the closing quote must be followed
 *     by the delimiter or the end of the row. A quote inside an unquoted
 *     field is an ordinary character.
 *   - LF or CRLF line ends; blank lines are skipped; the last line may lack
 *     its newline unless it is short of fields (a truncated last line).
 *
 * The decoded text is kept in a sliding window; a row's fields point into
 * it (or into the row buffer for quoted fields) until the next call.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/reader.h"
#include "io_int.h"

#define CHUNK          (1u << 20)  /* bytes read per refill */
#define MAX_ROW_BYTES  (16u << 20) /* a row longer than this is an error */
/* Fields a sparse split may store past the limit before it checks it again: one block. */
#define SPARSE_SLACK   32

struct cb_reader {
    int              fd;
    const char      *path;
    enum cb_format   fmt;
    enum cb_encoding enc;
    int              enc_auto;      /* encoding was detected, not given */
    int              seen_non_ascii;
    char             delim;
    struct cb_xlsx  *xlsx;
    iconv_t          cd;            /* GB18030 -> UTF-8, or (iconv_t)-1 */

    unsigned char   *in;            /* undecoded bytes carried over */
    size_t           in_len;
    int              in_eof;

    char            *win;           /* decoded UTF-8 window */
    size_t           win_start, win_len, win_cap;
    uint64_t         line;          /* line number of win[win_start] */

    uint64_t         bytes_done, bytes_total;
    size_t           header_nfields;
    uint64_t         rows;

    struct cb_split_work split;     /* cb_reader_next's own splitting */
};

const char *
cb_encoding_name(enum cb_encoding e)
{
    switch (e) {
    case CB_ENC_AUTO:    return "auto";
    case CB_ENC_UTF8:    return "utf-8";
    case CB_ENC_GB18030: return "gb18030";
    }
    return "?";
}

const char *
cb_format_name(enum cb_format f)
{
    switch (f) {
    case CB_FMT_AUTO: return "auto";
    case CB_FMT_CSV:  return "csv";
    case CB_FMT_TSV:  return "tsv";
    case CB_FMT_XLSX: return "xlsx";
    }
    return "?";
}

/* Line and character column of window offset pos, for messages. */
static void
locate(const struct cb_reader *r, size_t pos, uint64_t *line, size_t *col)
{
    size_t i, ls = r->win_start;

    *line = r->line;
    for (i = r->win_start; i < pos; i++)
        if (r->win[i] == '\n') {
            (*line)++;
            ls = i + 1;
        }
    *col = cb_str_utf8_len(cb_str_make(r->win + ls, pos - ls)) + 1;
}

static enum cb_err
win_reserve(struct cb_reader *r, size_t n)
{
    char *p;
    size_t cap;

    if (r->win_start > 0 && r->win_len + n > r->win_cap) {
        /* Slide the unparsed tail to the front. */
        memmove(r->win, r->win + r->win_start, r->win_len - r->win_start);
        r->win_len -= r->win_start;
        r->win_start = 0;
    }
    if (r->win_len + n <= r->win_cap)
        return CB_OK;
    cap = r->win_cap ? r->win_cap : CHUNK * 2;
    while (cap < r->win_len + n)
        cap *= 2;
    p = cb_realloc(r->win, cap);
    if (!p)
        return CB_ERR_NOMEM;
    r->win = p;
    r->win_cap = cap;
    return CB_OK;
}

static enum cb_err
bad_bytes(struct cb_reader *r, const unsigned char *at, struct cb_buf *err)
{
    uint64_t line;
    size_t col;

    locate(r, r->win_len, &line, &col);
    cb_errf(err, "%s: line %llu, column %zu: invalid %s byte 0x%02X; expected "
            "UTF-8 or GB18030 text (use --encoding to choose)", r->path,
            (unsigned long long)line, col,
            r->enc == CB_ENC_UTF8 ? "UTF-8" : "GB18030", *at);
    return CB_ERR_PROTO;
}

static enum cb_err
open_iconv(struct cb_reader *r, struct cb_buf *err)
{
    if (r->cd != (iconv_t)-1)
        return CB_OK;
    r->cd = iconv_open("UTF-8", "GB18030");
    if (r->cd == (iconv_t)-1) {
        cb_errf(err, "GB18030 conversion is not available: %s", strerror(errno));
        return CB_ERR_IO;
    }
    return CB_OK;
}

/* Decodes as much of in[0..in_len) as possible into the window. */
static enum cb_err
decode(struct cb_reader *r, struct cb_buf *err)
{
    enum cb_err rc;

    while (r->in_len) {
        if (r->enc == CB_ENC_UTF8) {
            int incomplete;
            size_t ok, k;

            /* Validated and copied into the window in one pass. */
            if ((rc = win_reserve(r, r->in_len)))
                return rc;
            ok = cb__utf8_valid_copy((unsigned char *)r->win + r->win_len, r->in,
                                     r->in_len, &incomplete);
            if (!r->seen_non_ascii)
                for (k = 0; k < ok; k++)
                    if (r->in[k] & 0x80) {
                        r->seen_non_ascii = 1;
                        break;
                    }
            r->win_len += ok;
            memmove(r->in, r->in + ok, r->in_len - ok);
            r->in_len -= ok;
            if (r->in_len == 0 || (incomplete && !r->in_eof))
                return CB_OK;
            if (r->enc_auto && !r->seen_non_ascii) {
                r->enc = CB_ENC_GB18030; /* ASCII so far: switch */
                if ((rc = open_iconv(r, err)))
                    return rc;
                continue;
            }
            return bad_bytes(r, r->in, err);
        } else {
            char *inp = (char *)r->in, *outp;
            size_t inleft = r->in_len, outleft, before, res;
            int e;

            if ((rc = win_reserve(r, r->in_len * 2 + 16)))
                return rc;
            outp = r->win + r->win_len;
            outleft = r->win_cap - r->win_len;
            before = outleft;
            res = iconv(r->cd, &inp, &inleft, &outp, &outleft);
            e = errno;
            r->win_len += before - outleft;
            if (before != outleft)
                r->seen_non_ascii = 1;
            memmove(r->in, inp, inleft);
            r->in_len = inleft;
            if (res == (size_t)-1) {
                if (e == EILSEQ || (e == EINVAL && r->in_eof))
                    return bad_bytes(r, r->in, err);
                if (e == EINVAL)
                    return CB_OK; /* incomplete sequence: wait for more */
                /* E2BIG: go round again with more room */
            }
        }
    }
    return CB_OK;
}

/* Reads the next chunk from the file and decodes it. */
static enum cb_err
refill(struct cb_reader *r, struct cb_buf *err)
{
    ssize_t n;

    if (r->in_eof)
        return CB_OK;
    n = read(r->fd, r->in + r->in_len, CHUNK);
    if (n < 0) {
        cb_errf(err, "%s: read error: %s", r->path, strerror(errno));
        return CB_ERR_IO;
    }
    if (n == 0)
        r->in_eof = 1;
    if (memchr(r->in + r->in_len, '\0', (size_t)n)) {
        cb_errf(err, "%s: binary data (a NUL byte) near byte %llu; expected "
                "CSV or TSV text, or an .xlsx workbook", r->path,
                (unsigned long long)r->bytes_done);
        return CB_ERR_PROTO;
    }
    r->bytes_done += (uint64_t)n;
    r->in_len += (size_t)n;
    return decode(r, err);
}

/* Whether p[0..n) decodes as GB18030 (a cut sequence at the end is fine). */
static int
gb18030_valid(const unsigned char *p, size_t n)
{
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    char out[8192], *inp = (char *)p, *outp;
    size_t inleft = n, outleft, res;
    int ok = 1;

    if (cd == (iconv_t)-1)
        return 0;
    while (inleft) {
        outp = out;
        outleft = sizeof(out);
        res = iconv(cd, &inp, &inleft, &outp, &outleft);
        if (res == (size_t)-1 && errno != E2BIG) {
            ok = errno == EINVAL; /* incomplete at the end of the sample */
            break;
        }
    }
    iconv_close(cd);
    return ok;
}

static enum cb_err
sniff(struct cb_reader *r, const struct cb_reader_opts *opts,
      struct cb_buf *err)
{
    unsigned char *p = r->in;
    size_t n = r->in_len;
    int incomplete;

    if (n == 0) {
        cb_errf(err, "%s: empty file; expected a header line and records", r->path);
        return CB_ERR_PROTO;
    }
    if (n >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF))) {
        cb_errf(err, "%s: UTF-16 text is not supported; save it as UTF-8 or GB18030",
                r->path);
        return CB_ERR_PROTO;
    }
    if (memchr(p, '\0', n)) {
        cb_errf(err, "%s: binary data (a NUL byte at offset %zu); expected CSV "
                "or TSV text, or an .xlsx workbook", r->path,
                (size_t)((unsigned char *)memchr(p, '\0', n) - p));
        return CB_ERR_PROTO;
    }
    if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) {
        memmove(p, p + 3, n - 3);
        r->in_len -= 3;
        if (opts->encoding == CB_ENC_GB18030) {
            cb_errf(err, "%s: the file starts with a UTF-8 byte-order mark but "
                    "--encoding gb18030 was given", r->path);
            return CB_ERR_USAGE;
        }
        r->enc = CB_ENC_UTF8;
        return CB_OK;
    }
    if (opts->encoding != CB_ENC_AUTO) {
        r->enc = opts->encoding;
        return CB_OK;
    }
    r->enc_auto = 1;
    {
        size_t ok = cb__utf8_valid_prefix(p, n, &incomplete), k;
        int multibyte = 0;

        for (k = 0; k < ok && !multibyte; k++)
            multibyte = p[k] >= 0x80;
        /*
         * Valid UTF-8 throughout: UTF-8. Else valid GB18030 throughout:
         * GB18030. Else the file is damaged; blame the encoding that got
         * further with Chinese text (UTF-8 if it had decoded any), so the
         * error points at the real break.
         */
        if (ok == n || incomplete)
            r->enc = CB_ENC_UTF8;
        else if (gb18030_valid(p, n) || !multibyte)
            r->enc = CB_ENC_GB18030;
        else
            r->enc = CB_ENC_UTF8;
    }
    return CB_OK;
}

enum cb_err
cb_reader_open(struct cb_reader **out, const char *path,
               const struct cb_reader_opts *opts, struct cb_buf *err)
{
    struct cb_reader *r;
    struct stat st;
    enum cb_err rc;
    ssize_t n;
    size_t plen = strlen(path);

    *out = NULL;
    r = cb_calloc(1, sizeof(*r));
    if (!r)
        return CB_ERR_NOMEM;
    r->fd = -1;
    r->cd = (iconv_t)-1;
    r->path = path;
    r->line = 1;
    r->fmt = opts->format;
    if (r->fmt == CB_FMT_AUTO && plen > 5 && strcmp(path + plen - 5, ".xlsx") == 0)
        r->fmt = CB_FMT_XLSX;
    if (r->fmt == CB_FMT_XLSX) {
        rc = cb_xlsx_open(&r->xlsx, path, err);
        if (rc)
            goto fail;
        *out = r;
        return CB_OK;
    }
    r->fd = open(path, O_RDONLY);
    if (r->fd < 0) {
        cb_errf(err, "cannot open '%s': %s", path, strerror(errno));
        rc = errno == ENOENT ? CB_ERR_NOT_FOUND : CB_ERR_IO;
        goto fail;
    }
    if (fstat(r->fd, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            cb_errf(err, "'%s' is a directory, not a file", path);
            rc = CB_ERR_USAGE;
            goto fail;
        }
        r->bytes_total = (uint64_t)st.st_size;
    }
    r->in = cb_malloc(CHUNK * 2 + 8);
    if (!r->in) {
        rc = CB_ERR_NOMEM;
        goto fail;
    }
    /* First chunk: sniff the format and encoding before decoding. */
    n = read(r->fd, r->in, CHUNK);
    if (n < 0) {
        cb_errf(err, "%s: read error: %s", path, strerror(errno));
        rc = CB_ERR_IO;
        goto fail;
    }
    r->in_len = (size_t)n;
    r->bytes_done = (uint64_t)n;
    if (n >= 4 && memcmp(r->in, "PK\x03\x04", 4) == 0 && opts->format == CB_FMT_AUTO) {
        close(r->fd);
        r->fd = -1;
        r->fmt = CB_FMT_XLSX;
        rc = cb_xlsx_open(&r->xlsx, path, err);
        if (rc)
            goto fail;
        *out = r;
        return CB_OK;
    }
    if ((rc = sniff(r, opts, err)))
        goto fail;
    if (r->enc == CB_ENC_GB18030 && (rc = open_iconv(r, err)))
        goto fail;
    if ((rc = decode(r, err)))
        goto fail;
    *out = r;
    return CB_OK;

fail:
    cb_reader_free(r);
    return rc;
}

void
cb_reader_free(struct cb_reader *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->cd != (iconv_t)-1)
        iconv_close(r->cd);
    cb_xlsx_free(r->xlsx);
    cb_free(r->in);
    cb_free(r->win);
    cb_split_work_release(&r->split);
    cb_free(r);
}

enum cb_encoding
cb_reader_encoding(const struct cb_reader *r)
{
    return r->xlsx ? CB_ENC_UTF8 : r->enc;
}

enum cb_format
cb_reader_format(const struct cb_reader *r)
{
    return r->fmt;
}

void
cb_reader_progress(const struct cb_reader *r, uint64_t *done, uint64_t *total)
{
    if (r->xlsx) {
        cb_xlsx_progress(r->xlsx, done, total);
        return;
    }
    *done = r->bytes_done;
    *total = r->bytes_total;
}

#if CB_IO_AVX2
#include <immintrin.h>

/*
 * Offset of the first byte in w[i..n) equal to a or b (or n), with AVX2:
 * 64 bytes a step while the row runs on, then 32, then one.
 */
__attribute__((target("avx2"))) static size_t
scan2_avx2(const char *w, size_t i, size_t n, char a, char b)
{
    const __m256i va = _mm256_set1_epi8(a), vb = _mm256_set1_epi8(b);

    while (i + 64 <= n) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(const void *)(w + i));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(const void *)(w + i + 32));
        __m256i h0 = _mm256_or_si256(_mm256_cmpeq_epi8(v0, va), _mm256_cmpeq_epi8(v0, vb));
        __m256i h1 = _mm256_or_si256(_mm256_cmpeq_epi8(v1, va), _mm256_cmpeq_epi8(v1, vb));

        if (!_mm256_testz_si256(_mm256_or_si256(h0, h1), _mm256_or_si256(h0, h1))) {
            uint64_t m = (uint32_t)_mm256_movemask_epi8(h0) |
                         (uint64_t)(uint32_t)_mm256_movemask_epi8(h1) << 32;
            return i + (size_t)__builtin_ctzll(m);
        }
        i += 64;
    }
    if (i + 32 <= n) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w + i));
        uint32_t m = (uint32_t)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, va), _mm256_cmpeq_epi8(v, vb)));

        if (m)
            return i + (size_t)__builtin_ctz(m);
        i += 32;
    }
    for (; i < n; i++)
        if (w[i] == a || w[i] == b)
            return i;
    return n;
}
#endif

/* Offset of the first '\n' or '"' in w[i..n), or n: one pass over the bytes. */
static size_t
scan_nl_quote(const char *w, size_t i, size_t n)
{
    const char *nl, *q;

#if CB_IO_AVX2
    if (cb__io_avx2())
        return scan2_avx2(w, i, n, '\n', '"');
#endif
    nl = memchr(w + i, '\n', n - i);
    q = memchr(w + i, '"', (nl ? (size_t)(nl - w) : n) - i);
    return q ? (size_t)(q - w) : nl ? (size_t)(nl - w) : n;
}

/* Offset of the first '"' in w[i..n), or n. */
static size_t
scan_quote(const char *w, size_t i, size_t n)
{
    const char *q;

#if CB_IO_AVX2
    if (cb__io_avx2())
        return scan2_avx2(w, i, n, '"', '"');
#endif
    q = memchr(w + i, '"', n - i);
    return q ? (size_t)(q - w) : n;
}

/*
 * Finds the end of the row starting at win_start: sets *end (offset of the
 * '\n', or win_len at EOF), *has_nl, *open_quote, and *quoted (the row has
 * a '"'). Every '"' toggles the quoted state, and a '\n' in that state is
 * part of the row. Returns 0 if more input is needed.
 */
static int
find_row_end(struct cb_reader *r, size_t *end, int *has_nl, int *open_quote,
             int *quoted)
{
    const char *w = r->win;
    size_t i = r->win_start, n = r->win_len;
    int inq = 0;

    *open_quote = 0;
    *quoted = 0;
    while (i < n) {
        if (!inq) {
            size_t j = scan_nl_quote(w, i, n);

            if (j == n)
                break;
            if (w[j] == '\n') {
                *end = j;
                *has_nl = 1;
                return 1;
            }
            *quoted = 1;
            inq = 1;
            i = j + 1;
        } else {
            size_t q = scan_quote(w, i, n);

            if (q == n)
                break;
            inq = 0;
            i = q + 1;
        }
    }
    if (!r->in_eof || r->in_len)
        return 0;
    *end = n;
    *has_nl = 0;
    *open_quote = inq;
    return 1;
}

/* Line and character column of offset pos in a row that starts on line. */
static void
locate_in(struct cb_str text, size_t pos, uint64_t line, uint64_t *out_line,
          size_t *col)
{
    size_t i, ls = 0;

    *out_line = line;
    for (i = 0; i < pos && i < text.len; i++)
        if (text.ptr[i] == '\n') {
            (*out_line)++;
            ls = i + 1;
        }
    *col = cb_str_utf8_len(cb_str_make(text.ptr + ls, pos - ls)) + 1;
}

/* Room for field nf (and its column number, for sparse rows). */
static enum cb_err
grow_fields(struct cb_split_work *w, size_t nf)
{
    size_t cap = w->cap ? w->cap * 2 : 256;
    void *np;

    if (nf >= CB_READER_MAX_FIELDS)
        return CB_ERR_TOO_LARGE;
    while (cap <= nf)
        cap *= 2;
    if (cap > CB_READER_MAX_FIELDS)
        cap = CB_READER_MAX_FIELDS;
    np = cb_reallocarray(w->fields, cap, sizeof(*w->fields));
    if (!np)
        return CB_ERR_NOMEM;
    w->fields = np;
    np = cb_reallocarray(w->cols, cap, sizeof(*w->cols));
    if (!np)
        return CB_ERR_NOMEM;
    w->cols = np;
    w->cap = cap;
    return CB_OK;
}

static enum cb_err
push_field(struct cb_split_work *w, size_t nf, const char *p, size_t len)
{
    enum cb_err rc;

    if (nf >= w->cap && (rc = grow_fields(w, nf)))
        return rc;
    w->fields[nf].ptr = p;
    w->fields[nf].len = len;
    return CB_OK;
}

/* Chooses the delimiter from the header row [s, e). */
static enum cb_err
pick_delim(struct cb_reader *r, size_t s, size_t e, struct cb_buf *err)
{
    size_t i, commas = 0, tabs = 0, semis = 0, pipes = 0;
    int inq = 0;

    if (r->fmt == CB_FMT_TSV) {
        r->delim = '\t';
        return CB_OK;
    }
    if (r->fmt == CB_FMT_CSV) {
        r->delim = ',';
        return CB_OK;
    }
    for (i = s; i < e; i++) {
        char c = r->win[i];
        if (c == '"')
            inq = !inq;
        else if (!inq) {
            commas += c == ',';
            tabs += c == '\t';
            semis += c == ';';
            pipes += c == '|';
        }
    }
    if (!commas && !tabs) {
        cb_errf(err, "%s: line %llu: the header has a single column; expected "
                "comma- or tab-separated columns%s", r->path,
                (unsigned long long)r->line,
                semis ? " (found ';', which is not a supported delimiter)" :
                pipes ? " (found '|', which is not a supported delimiter)" : "");
        return CB_ERR_PROTO;
    }
    r->delim = tabs > commas ? '\t' : ',';
    r->fmt = r->delim == '\t' ? CB_FMT_TSV : CB_FMT_CSV;
    return CB_OK;
}

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * Splits a row without quotes: every delimiter ends a field. Front-page
 * rows are mostly delimiters (hundreds of empty columns), so delimiters are
 * found sixteen bytes at a time where SSE2 is available.
 */
static enum cb_err
split_plain(struct cb_split_work *wk, char delim, struct cb_str text,
            size_t *nfields)
{
    const char *w = text.ptr;
    size_t i = 0, e = text.len, start = 0, nf = 0;
    enum cb_err rc;

#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delim);

    while (i + 16 <= e) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(w + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, d));

        while (m) {
            size_t pos = i + (size_t)__builtin_ctz(m);
            if (nf < wk->cap) {
                wk->fields[nf].ptr = w + start;
                wk->fields[nf].len = pos - start;
                nf++;
            } else if ((rc = push_field(wk, nf++, w + start, pos - start))) {
                return rc;
            }
            start = pos + 1;
            m &= m - 1;
        }
        i += 16;
    }
#endif
    for (; i < e; i++) {
        if (w[i] != delim)
            continue;
        if ((rc = push_field(wk, nf++, w + start, i - start)))
            return rc;
        start = i + 1;
    }
    if ((rc = push_field(wk, nf++, w + start, e - start)))
        return rc;
    *nfields = nf;
    return CB_OK;
}

#if CB_IO_AVX2

/*
 * A sparse split with AVX2, 64 bytes a step (the last, short step on a
 * copy of the row's tail, its end marked as one more delimiter). A step's
 * delimiter mask m, XORed with itself shifted by one byte, marks where the
 * row changes between delimiters and field text: the changes alternate
 * between the start of a non-empty field and the delimiter that ends it,
 * so they are taken in pairs, and only non-empty fields cost any work (a
 * run of empty columns is one popcount, whatever its length). A field's
 * column is the count of delimiters before its end. Same result as the
 * scalar loop of split_plain_sparse.
 */
__attribute__((target("avx2,popcnt,bmi,bmi2"))) static enum cb_err
sparse_avx2(const char *w, size_t e, char delim, struct cb_str *fields,
            uint16_t *cols, size_t *nfields, size_t *nset)
{
    const __m256i d = _mm256_set1_epi8(delim);
    size_t i = 0, start = 0, nf = 0;
    struct cb_str *f = fields;
    uint16_t *c = cols;
    uint64_t after = 1; /* the byte before i is a delimiter, or i is the row start */
    int last = 0;

    while (!last) {
        const char *wi = w + i, *src = wi;
        unsigned char tail[64];
        __m256i lo, hi;
        uint64_t m, b, s, t;

        if (i + 64 > e) { /* the rest, under 64 bytes, and the row end */
            memset(tail, 0, sizeof(tail));
            if (e > i)
                memcpy(tail, wi, e - i);
            src = (const char *)tail;
            last = 1;
        }
        lo = _mm256_loadu_si256((const __m256i *)(const void *)src);
        hi = _mm256_loadu_si256((const __m256i *)(const void *)(src + 32));
        m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(lo, d)) |
            (uint64_t)(uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(hi, d)) << 32;
        b = m ^ ((m << 1) | after);
        if (last) {
            unsigned rem = (unsigned)(e - i);
            m = _bzhi_u64(m, rem) | (uint64_t)1 << rem;
            b = _bzhi_u64(m ^ ((m << 1) | after), rem + 1);
        }
        /* k <= nf: with the limit checked per step, fields has room for one step more
           (a step ends at most 32 non-empty fields) */
        if (nf > CB_READER_MAX_FIELDS)
            return CB_ERR_TOO_LARGE;
        if (!after && b) { /* the end of a field begun in an earlier step */
            t = (uint64_t)__builtin_ctzll(b);
            b = _blsr_u64(b);
            f->ptr = w + start;
            f->len = i + t - start;
            f++;
            *c++ = (uint16_t)(nf + (size_t)_mm_popcnt_u64(_bzhi_u64(m, (unsigned)t)));
        }
        while (b) {
            s = (uint64_t)__builtin_ctzll(b);
            b = _blsr_u64(b);
            if (!b) { /* a field that runs on into the next step */
                start = i + s;
                break;
            }
            t = (uint64_t)__builtin_ctzll(b);
            b = _blsr_u64(b);
            f->ptr = wi + s;
            f->len = t - s;
            f++;
            *c++ = (uint16_t)(nf + (size_t)_mm_popcnt_u64(_bzhi_u64(m, (unsigned)t)));
        }
        nf += (size_t)_mm_popcnt_u64(m);
        after = m >> 63;
        i += 64;
    }
    if (nf > CB_READER_MAX_FIELDS)
        return CB_ERR_TOO_LARGE;
    *nfields = nf;
    *nset = (size_t)(f - fields);
    return CB_OK;
}
#endif

/*
 * split_plain for a sparse row: only the non-empty fields are kept, with
 * their column numbers. The stores are unconditional (the count moves only
 * for a non-empty field), so the mostly empty columns cost no branch.
 */
static enum cb_err
split_plain_sparse(struct cb_split_work *wk, char delim, struct cb_str text,
                   size_t *nfields, size_t *nset)
{
    const char *w = text.ptr;
    size_t i = 0, e = text.len, start = 0, nf = 0, k = 0;
    struct cb_str *fields;
    uint16_t *cols;

    /*
     * Room for the most fields a row may have and one block more, taken
     * once: the loop then only checks the count after each block.
     */
    if (wk->cap < CB_READER_MAX_FIELDS + SPARSE_SLACK) {
        void *np = cb_reallocarray(wk->fields, CB_READER_MAX_FIELDS + SPARSE_SLACK,
                                   sizeof(*wk->fields));
        if (!np)
            return CB_ERR_NOMEM;
        wk->fields = np;
        np = cb_reallocarray(wk->cols, CB_READER_MAX_FIELDS + SPARSE_SLACK,
                             sizeof(*wk->cols));
        if (!np)
            return CB_ERR_NOMEM;
        wk->cols = np;
        wk->cap = CB_READER_MAX_FIELDS + SPARSE_SLACK;
    }
    fields = wk->fields;
    cols = wk->cols;
#if CB_IO_AVX2
    if (cb__io_avx2())
        return sparse_avx2(w, e, delim, fields, cols, nfields, nset);
#endif
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8(delim);

    while (i + 16 <= e) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(w + i));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, d));

        if (nf > CB_READER_MAX_FIELDS)
            return CB_ERR_TOO_LARGE;
        if (m == 0xFFFF && start == i) {
            /* Sixteen empty fields: the long runs of unused columns. */
            nf += 16;
            start = i + 16;
            i += 16;
            continue;
        }
        while (m) {
            size_t pos = i + (size_t)__builtin_ctz(m);
            fields[k].ptr = w + start;
            fields[k].len = pos - start;
            cols[k] = (uint16_t)nf;
            k += pos > start;
            nf++;
            start = pos + 1;
            m &= m - 1;
        }
        i += 16;
    }
#endif
    for (; i <= e; i++) {
        if (i < e && w[i] != delim)
            continue;
        if (nf >= CB_READER_MAX_FIELDS)
            return CB_ERR_TOO_LARGE;
        fields[k].ptr = w + start;
        fields[k].len = i - start;
        cols[k] = (uint16_t)nf;
        k += i > start;
        nf++;
        start = i + 1;
    }
    if (nf > CB_READER_MAX_FIELDS)
        return CB_ERR_TOO_LARGE;
    *nfields = nf;
    *nset = k;
    return CB_OK;
}

static enum cb_err
split_quoted(const struct cb_splitter *sp, struct cb_split_work *wk,
             struct cb_str text, uint64_t line, size_t *nfields,
             struct cb_buf *err)
{
    const char *w = text.ptr;
    const char delim = sp->delim;
    size_t i = 0, e = text.len, nf = 0;
    enum cb_err rc;

    /*
     * Unquoted content never exceeds the row: with the room reserved up
     * front the row buffer cannot move, so fields can point into it.
     */
    cb_buf_reset(&wk->buf);
    if ((rc = cb_buf_reserve(&wk->buf, e + 1)))
        goto too_long;
    for (;;) {
        if (i < e && w[i] == '"') {
            size_t qstart = i, off = wk->buf.len;
            i++;
            for (;;) {
                const char *q = memchr(w + i, '"', e - i);
                size_t upto = q ? (size_t)(q - w) : e;
                if ((rc = cb_buf_add(&wk->buf, w + i, upto - i)))
                    goto too_long;
                if (!q) {
                    uint64_t l;
                    size_t col;
                    locate_in(text, qstart, line, &l, &col);
                    cb_errf(err, "%s: line %llu, column %zu: quoted field is not "
                            "closed; expected a closing '\"'", sp->path,
                            (unsigned long long)l, col);
                    return CB_ERR_PROTO;
                }
                i = upto + 1;
                if (i < e && w[i] == '"') { /* "" = one quote */
                    if ((rc = cb_buf_addc(&wk->buf, '"')))
                        goto too_long;
                    i++;
                    continue;
                }
                break;
            }
            if ((rc = push_field(wk, nf++, wk->buf.ptr + off, wk->buf.len - off)))
                goto too_many;
            if (i < e && w[i] != delim) {
                uint64_t l;
                size_t col;
                locate_in(text, i, line, &l, &col);
                cb_errf(err, "%s: line %llu, column %zu: unexpected character "
                        "after a closing quote; expected the delimiter or the "
                        "end of the line", sp->path, (unsigned long long)l, col);
                return CB_ERR_PROTO;
            }
        } else {
            /*
             * Most front-page fields are short or empty: a byte loop beats a
             * memchr call per field.
             */
            size_t upto = i;
            while (upto < e && w[upto] != delim)
                upto++;
            if (nf < wk->cap) {
                wk->fields[nf].ptr = w + i;
                wk->fields[nf].len = upto - i;
                nf++;
            } else if ((rc = push_field(wk, nf++, w + i, upto - i))) {
                goto too_many;
            }
            i = upto;
        }
        if (i >= e)
            break;
        i++; /* skip the delimiter */
        if (i == e) { /* trailing delimiter */
            if ((rc = push_field(wk, nf++, w + i, 0)))
                goto too_many;
            break;
        }
    }
    *nfields = nf;
    return CB_OK;

too_many:
    if (rc == CB_ERR_TOO_LARGE)
        cb_errf(err, "%s: line %llu: more than %u fields", sp->path,
                (unsigned long long)line, CB_READER_MAX_FIELDS);
    return rc;
too_long:
    if (rc == CB_ERR_TOO_LARGE)
        cb_errf(err, "%s: line %llu: row longer than %u bytes", sp->path,
                (unsigned long long)line, MAX_ROW_BYTES);
    return rc;
}

void
cb_split_work_release(struct cb_split_work *w)
{
    cb_free(w->fields);
    cb_free(w->cols);
    cb_buf_release(&w->buf);
    memset(w, 0, sizeof(*w));
}

enum cb_err
cb_row_split(const struct cb_splitter *sp, const struct cb_raw_row *raw,
             struct cb_split_work *wk, struct cb_row *row, struct cb_buf *err)
{
    size_t nf = 0;
    enum cb_err rc;

    size_t nset = 0;

    if (!wk->buf.max)
        cb_buf_init(&wk->buf, MAX_ROW_BYTES);
    row->raw = raw->text;
    row->line = raw->line;
    row->cols = NULL;
    row->nset = 0;
    if (raw->fields) { /* xlsx: split already */
        row->nfields = raw->nfields;
        row->fields = raw->fields;
        return CB_OK;
    }
    if (raw->quoted)
        rc = split_quoted(sp, wk, raw->text, raw->line, &nf, err);
    else if (wk->sparse)
        rc = split_plain_sparse(wk, sp->delim, raw->text, &nf, &nset);
    else
        rc = split_plain(wk, sp->delim, raw->text, &nf);
    if (rc == CB_ERR_TOO_LARGE && !raw->quoted)
        cb_errf(err, "%s: line %llu: more than %u fields", sp->path,
                (unsigned long long)raw->line, CB_READER_MAX_FIELDS);
    if (rc)
        return rc;
    if (!raw->quoted && wk->sparse) {
        row->cols = wk->cols;
        row->nset = nset;
    }
    if (raw->last && sp->header_nfields && nf < sp->header_nfields) {
        cb_errf(err, "%s: line %llu: truncated last line: %zu of %zu fields "
                "and no line end", sp->path, (unsigned long long)raw->line, nf,
                sp->header_nfields);
        return CB_ERR_PROTO;
    }
    row->nfields = nf;
    row->fields = wk->fields;
    return CB_OK;
}

void
cb_reader_splitter(const struct cb_reader *r, struct cb_splitter *sp)
{
    sp->delim = r->delim;
    sp->header_nfields = r->header_nfields;
    sp->path = r->path;
}

enum cb_err
cb_reader_next_raw(struct cb_reader *r, struct cb_raw_row *row, struct cb_buf *err)
{
    size_t s, e, i;
    int has_nl, open_quote, quoted;
    enum cb_err rc;

    memset(row, 0, sizeof(*row));
    if (r->xlsx) {
        struct cb_buf xerr = CB_BUF_INIT;
        struct cb_row x;
        rc = cb_xlsx_next(r->xlsx, &x, &xerr);
        if (rc == CB_OK) {
            if (r->rows++ == 0)
                r->header_nfields = x.nfields;
            row->text = x.raw;
            row->line = x.line;
            row->nfields = x.nfields;
            row->fields = x.fields;
        }
        if (rc != CB_OK && rc != CB_EOF) /* name the workbook, not only the part */
            cb_errf(err, "%s: %s", r->path, cb_buf_cstr(&xerr));
        cb_buf_release(&xerr);
        return rc;
    }
    for (;;) {
        /* Skip blank lines. */
        while (r->win_start < r->win_len &&
               (r->win[r->win_start] == '\n' ||
                (r->win[r->win_start] == '\r' && r->win_start + 1 < r->win_len &&
                 r->win[r->win_start + 1] == '\n'))) {
            r->win_start += r->win[r->win_start] == '\n' ? 1 : 2;
            r->line++;
        }
        if (r->win_start < r->win_len &&
            find_row_end(r, &e, &has_nl, &open_quote, &quoted))
            break;
        if (r->in_eof && r->in_len == 0) {
            if (r->win_start >= r->win_len) {
                if (r->rows == 0) {
                    cb_errf(err, "%s: empty file; expected a header line and "
                            "records", r->path);
                    return CB_ERR_PROTO;
                }
                return CB_EOF;
            }
            continue; /* find_row_end takes the rest at EOF */
        }
        if (r->win_len - r->win_start > MAX_ROW_BYTES) {
            cb_errf(err, "%s: line %llu: row longer than %u bytes (no line end "
                    "found)", r->path, (unsigned long long)r->line, MAX_ROW_BYTES);
            return CB_ERR_TOO_LARGE;
        }
        if ((rc = refill(r, err)))
            return rc;
    }
    s = r->win_start;
    if (open_quote) {
        uint64_t line;
        size_t col;
        size_t q = s;
        int inq = 0;
        for (i = s; i < e; i++)
            if (r->win[i] == '"') {
                if (!inq)
                    q = i;
                inq = !inq;
            }
        locate_in(cb_str_make(r->win + s, e - s), q - s, r->line, &line, &col);
        cb_errf(err, "%s: line %llu, column %zu: quoted field is not closed "
                "before the end of the file (truncated file or bad quoting)",
                r->path, (unsigned long long)line, col);
        return CB_ERR_PROTO;
    }
    if (r->rows == 0 && (rc = pick_delim(r, s, e, err)))
        return rc;
    row->text = cb_str_make(r->win + s, e - s - (e > s && r->win[e - 1] == '\r'));
    row->line = r->line;
    row->last = !has_nl;
    row->quoted = quoted;
    if (quoted) /* quoted newlines count as lines */
        for (i = s; i < e; i++)
            if (r->win[i] == '\n')
                r->line++;
    r->line += has_nl;
    r->win_start = e + has_nl;
    r->rows++;
    return CB_OK;
}

enum cb_err
cb_reader_next(struct cb_reader *r, struct cb_row *row, struct cb_buf *err)
{
    struct cb_raw_row raw;
    struct cb_splitter sp;
    int header = r->rows == 0;
    enum cb_err rc;

    if ((rc = cb_reader_next_raw(r, &raw, err)))
        return rc;
    cb_reader_splitter(r, &sp);
    if (header)
        sp.header_nfields = 0;
    if ((rc = cb_row_split(&sp, &raw, &r->split, row, err)))
        return rc;
    if (header && !r->xlsx) {
        r->header_nfields = row->nfields;
        /* A UTF-8 BOM inside the text (after conversion) is not a column name. */
        if (row->nfields && row->fields[0].len >= 3 &&
            memcmp(row->fields[0].ptr, "\xEF\xBB\xBF", 3) == 0) {
            row->fields[0].ptr += 3;
            row->fields[0].len -= 3;
        }
    }
    return CB_OK;
}
