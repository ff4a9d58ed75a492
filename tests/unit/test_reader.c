/*
 * test_reader.c - the CSV/TSV reader and the encodings.
 */
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "carebase/reader.h"
#include "io/io_int.h"
#include "testutil.h"

struct rows {
    int    n;
    char   cells[16][8][64];
    size_t nf[16];
    unsigned long line[16];
    char   raw[16][128];
};

/* Reads all rows of a file; returns the final code, error text in err. */
static enum cb_err
read_all(const char *path, enum cb_encoding enc, struct rows *out,
         struct cb_buf *err)
{
    struct cb_reader_opts o = { enc, CB_FMT_AUTO };
    struct cb_reader *r;
    struct cb_row row;
    enum cb_err rc;

    memset(out, 0, sizeof(*out));
    rc = cb_reader_open(&r, path, &o, err);
    if (rc)
        return rc;
    while ((rc = cb_reader_next(r, &row, err)) == CB_OK) {
        size_t i;
        if (out->n < 16) {
            out->nf[out->n] = row.nfields;
            out->line[out->n] = (unsigned long)row.line;
            snprintf(out->raw[out->n], 128, "%.*s", (int)row.raw.len, row.raw.ptr);
            for (i = 0; i < row.nfields && i < 8; i++)
                snprintf(out->cells[out->n][i], 64, "%.*s", (int)row.fields[i].len,
                         row.fields[i].ptr);
        }
        out->n++;
    }
    cb_reader_free(r);
    return rc;
}

static enum cb_err
read_str(const char *name, const char *data, struct rows *out, struct cb_buf *err)
{
    return read_all(tu_write_file(name, data, strlen(data)), CB_ENC_AUTO, out, err);
}

static void
test_simple_csv(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(read_str("a.csv", "A,B,C\n1,2,3\r\n4,,6\n", &r, &err), CB_EOF);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.nf[1], 3);
    assert_string_equal(r.cells[1][2], "3"); /* CR stripped */
    assert_string_equal(r.cells[2][1], "");
    assert_int_equal(r.line[2], 3);
    assert_string_equal(r.raw[1], "1,2,3");
    cb_buf_release(&err);
}

static void
test_quoting(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(read_str("q.csv",
        "A,B,C\n\"x,y\",\"say \"\"hi\"\"\",\"two\nlines\"\n5,6,7\n", &r, &err), CB_EOF);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.cells[1][0], "x,y");
    assert_string_equal(r.cells[1][1], "say \"hi\"");
    assert_string_equal(r.cells[1][2], "two\nlines");
    assert_int_equal(r.line[2], 4); /* the quoted newline counts */
    cb_buf_release(&err);
}

static void
test_tsv_detected(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(read_str("t.tsv", "A\tB,x\tC\n1\t2,5\t3\n", &r, &err), CB_EOF);
    assert_int_equal(r.nf[0], 3);
    assert_string_equal(r.cells[1][1], "2,5");
    cb_buf_release(&err);
}

static void
test_trailing_delimiter_and_blank_lines(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(read_str("b.csv", "A,B\n\n1,\n\n2,3", &r, &err), CB_EOF);
    assert_int_equal(r.n, 3);
    assert_int_equal(r.nf[1], 2);
    assert_string_equal(r.cells[2][1], "3"); /* last line without newline, complete */
    cb_buf_release(&err);
}

static void
test_bom_stripped(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(read_str("bom.csv", "\xEF\xBB\xBF" "BAH,ZYCS\n1,2\n", &r, &err), CB_EOF);
    assert_string_equal(r.cells[0][0], "BAH");
    cb_buf_release(&err);
}

static void
expect_error(const char *name, const char *data, size_t len, const char *needle)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc = read_all(tu_write_file(name, data, len), CB_ENC_AUTO, &r, &err);

    assert_int_not_equal(rc, CB_EOF);
    assert_int_not_equal(rc, CB_OK);
    if (!strstr(cb_buf_cstr(&err), needle))
        fail_msg("error '%s' does not mention '%s'", cb_buf_cstr(&err), needle);
    cb_buf_release(&err);
}

static void
test_malformed(void **state)
{
    (void)state;
    expect_error("empty.csv", "", 0, "empty file");
    expect_error("blank.csv", "\n\n", 2, "empty file");
    expect_error("nul.csv", "A,B\n1\0,2\n", 9, "binary");
    expect_error("semi.csv", "A;B;C\n1;2;3\n", 12, "';'");
    expect_error("q1.csv", "A,B\n\"abc\"x,2\n", 13, "line 2, column 6");
    expect_error("q2.csv", "A,B\n1,2\n\"open,3\n", 16, "line 3, column 1");
    expect_error("trunc.csv", "A,B,C\n1,2,3\n4,5", 15, "truncated last line");
    expect_error("utf16.csv", "\xFF\xFE" "A\0", 4, "UTF-16");
}

static void
test_invalid_utf8_located(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;
    /* Valid UTF-8 Chinese first, then a lone continuation byte on line 3. */
    const char *data = "A,B\n\xE5\xBC\xA0,1\nab\x80z,2\n";
    enum cb_err rc;

    (void)state;
    rc = read_all(tu_write_file("bad8.csv", data, strlen(data)), CB_ENC_AUTO, &r, &err);

    assert_int_equal(rc, CB_ERR_PROTO);
    if (!strstr(cb_buf_cstr(&err), "line 3, column 3"))
        fail_msg("unexpected message: %s", cb_buf_cstr(&err));
    cb_buf_release(&err);
}

static size_t
to_gb18030(const char *utf8, char *out, size_t cap)
{
    iconv_t cd = iconv_open("GB18030", "UTF-8");
    char *in = (char *)utf8, *o = out;
    size_t inl = strlen(utf8), outl = cap;

    assert_true(cd != (iconv_t)-1);
    assert_int_not_equal(iconv(cd, &in, &inl, &o, &outl), (size_t)-1);
    iconv_close(cd);
    return cap - outl;
}

static void
test_gb18030_detected_and_equal(void **state)
{
    const char *text = "XM,JGMC,N\n张三,北京协和医院,1\n李四,\"上海,瑞金\",2\n"
                       "王五\xF0\x9F\x98\x80,𠀀,3\n";
    char gb[512];
    size_t n = to_gb18030(text, gb, sizeof(gb));
    struct rows a, b;
    struct cb_buf err = CB_BUF_INIT;
    int i, j;

    (void)state;
    assert_int_equal(read_all(tu_write_file("u.csv", text, strlen(text)),
                              CB_ENC_AUTO, &a, &err), CB_EOF);
    {
        struct cb_reader_opts o = { CB_ENC_AUTO, CB_FMT_AUTO };
        struct cb_reader *r;
        assert_int_equal(cb_reader_open(&r, tu_write_file("g.csv", gb, n), &o, &err), CB_OK);
        assert_int_equal(cb_reader_encoding(r), CB_ENC_GB18030);
        cb_reader_free(r);
    }
    assert_int_equal(read_all(tu_write_file("g.csv", gb, n), CB_ENC_AUTO, &b, &err), CB_EOF);
    assert_int_equal(a.n, b.n);
    for (i = 0; i < a.n; i++)
        for (j = 0; j < 3; j++)
            assert_string_equal(a.cells[i][j], b.cells[i][j]);
    assert_string_equal(b.cells[2][1], "上海,瑞金");
    cb_buf_release(&err);
}

static void
test_ascii_then_gb18030_switches(void **state)
{
    /* A megabyte of ASCII rows, then GB18030 text: auto mode switches. */
    static char buf[3 << 20];
    size_t n = 0;
    int i;
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;
    char gb[64];
    size_t gn = to_gb18030("病案,1\n", gb, sizeof(gb));

    (void)state;
    n += (size_t)snprintf(buf, sizeof(buf), "A,B\n");
    for (i = 0; i < 120000; i++)
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "abcdefgh,%d\n", i);
    memcpy(buf + n, gb, gn);
    n += gn;
    assert_int_equal(read_all(tu_write_file("mix.csv", buf, n), CB_ENC_AUTO, &r, &err), CB_EOF);
    assert_int_equal(r.n, 120002);
    cb_buf_release(&err);
}

static void
test_forced_encoding_mismatch(void **state)
{
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;
    const char *text = "A,B\n张三,1\n";
    char gb[64];
    size_t n = to_gb18030(text, gb, sizeof(gb));

    (void)state;
    /* GB18030 bytes read as UTF-8 must fail with a location. */
    assert_int_equal(read_all(tu_write_file("f.csv", gb, n), CB_ENC_UTF8, &r, &err),
                     CB_ERR_PROTO);
    assert_non_null(strstr(cb_buf_cstr(&err), "line 2"));
    cb_buf_release(&err);
}

static void
test_large_file_streams(void **state)
{
    /* 3 MB of rows crosses several refills; every row comes back intact. */
    FILE *f;
    char path[512];
    int i;
    struct rows r;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    snprintf(path, sizeof(path), "%s/big.csv", tu_tmpdir());
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("A,B,C\n", f);
    for (i = 0; i < 100000; i++)
        fprintf(f, "%d,\"住院,病案 %d\",首页\n", i, i);
    fclose(f);
    assert_int_equal(read_all(path, CB_ENC_AUTO, &r, &err), CB_EOF);
    assert_int_equal(r.n, 100001);
    cb_buf_release(&err);
}

/*
 * Rows are found 32 bytes a step (a '\n' or '"' at every offset of a step),
 * across refills of the window (several megabytes), with quoted newlines,
 * doubled quotes, CRLF and Chinese text cut anywhere by a refill: every
 * row, its fields and its line come back.
 */
static void
test_rows_found_across_blocks(void **state)
{
    FILE *f;
    char path[512], want[256];
    int i, nl;
    unsigned long line = 2;
    struct cb_reader_opts o = { CB_ENC_AUTO, CB_FMT_AUTO };
    struct cb_reader *r;
    struct cb_row row;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    snprintf(path, sizeof(path), "%s/rows.csv", tu_tmpdir());
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("A,B,C,D\n", f);
    for (i = 0; i < 60000; i++) {
        fprintf(f, "%d,%.*s,", i, i % 71, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        if (i % 3 == 0) {
            fputs("\"q", f);
            for (nl = 0; nl < i % 4; nl++)
                fputs("\n", f);
            fputs("\"\"病\"\"\",", f);
        } else {
            fputs("plain,", f);
        }
        fprintf(f, "案%d%s", i, i % 2 ? "\r\n" : "\n");
        if (i % 1000 == 999)
            fputs("\n", f); /* a blank line */
    }
    fclose(f);
    assert_int_equal(cb_reader_open(&r, path, &o, &err), CB_OK);
    assert_int_equal(cb_reader_next(r, &row, &err), CB_OK);
    for (i = 0; i < 60000; i++) {
        if (cb_reader_next(r, &row, &err) != CB_OK)
            fail_msg("row %d: %s", i, cb_buf_cstr(&err));
        assert_int_equal(row.nfields, 4);
        snprintf(want, sizeof(want), "%d", i);
        assert_int_equal(row.fields[0].len, strlen(want));
        assert_memory_equal(row.fields[0].ptr, want, strlen(want));
        assert_int_equal(row.fields[1].len, (size_t)(i % 71));
        if (i % 3 == 0) {
            snprintf(want, sizeof(want), "q%.*s\"病\"", i % 4, "\n\n\n");
        } else {
            snprintf(want, sizeof(want), "plain");
        }
        if (row.fields[2].len != strlen(want) ||
            memcmp(row.fields[2].ptr, want, strlen(want)) != 0)
            fail_msg("row %d: field 3 '%.*s', want '%s'", i, (int)row.fields[2].len,
                     row.fields[2].ptr, want);
        snprintf(want, sizeof(want), "案%d", i);
        assert_int_equal(row.fields[3].len, strlen(want));
        assert_memory_equal(row.fields[3].ptr, want, strlen(want));
        if (row.line != line)
            fail_msg("row %d: line %lu, want %lu", i, (unsigned long)row.line, line);
        line += 1 + (i % 3 == 0 ? (unsigned long)(i % 4) : 0) + (i % 1000 == 999);
    }
    assert_int_equal(cb_reader_next(r, &row, &err), CB_EOF);
    cb_reader_free(r);
    cb_buf_release(&err);
}

/* Wide rows without quotes take the vectorised splitter: fields of every
 * length, empty runs, CRLF and a trailing delimiter must all come back. */
static void
test_wide_plain_rows(void **state)
{
    static char buf[1 << 16];
    char want[300][24];
    size_t n = 0, i;
    int row;
    struct cb_reader_opts o = { CB_ENC_AUTO, CB_FMT_AUTO };
    struct cb_reader *r;
    struct cb_row rw;
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    for (i = 0; i < 300; i++) { /* header: 300 columns */
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%sC%zu", i ? "," : "", i);
        /* value i: empty for most, short or long (Chinese) for some */
        if (i % 7 == 0)
            snprintf(want[i], sizeof(want[i]), "病案%zu", i);
        else if (i % 5 == 0)
            snprintf(want[i], sizeof(want[i]), "x%zu", i * 1000);
        else
            want[i][0] = '\0';
    }
    n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\r\n");
    for (row = 0; row < 3; row++) {
        for (i = 0; i < 300; i++)
            n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "," : "", want[i]);
        n += (size_t)snprintf(buf + n, sizeof(buf) - n, row == 1 ? "\n" : "\r\n");
    }
    assert_int_equal(cb_reader_open(&r, tu_write_file("wide.csv", buf, n), &o, &err), CB_OK);
    assert_int_equal(cb_reader_next(r, &rw, &err), CB_OK);
    assert_int_equal(rw.nfields, 300);
    for (row = 0; row < 3; row++) {
        assert_int_equal(cb_reader_next(r, &rw, &err), CB_OK);
        assert_int_equal(rw.nfields, 300);
        for (i = 0; i < 300; i++) {
            if (rw.fields[i].len != strlen(want[i]) ||
                memcmp(rw.fields[i].ptr, want[i], rw.fields[i].len) != 0)
                fail_msg("row %d field %zu: got '%.*s', want '%s'", row, i,
                         (int)rw.fields[i].len, rw.fields[i].ptr, want[i]);
        }
    }
    assert_int_equal(cb_reader_next(r, &rw, &err), CB_EOF);
    cb_reader_free(r);
    cb_buf_release(&err);
}

/* RFC 3629 byte by byte: the reference for cb__utf8_valid_prefix. */
static size_t
ref_valid_prefix(const unsigned char *p, size_t n, int *incomplete)
{
    size_t i = 0, k, need;

    *incomplete = 0;
    while (i < n) {
        unsigned c = p[i], lo = 0x80, hi = 0xBF;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            need = 1;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        else
            return i;
        for (k = 1; k <= need; k++) {
            if (i + k >= n) {
                *incomplete = 1;
                return i;
            }
            if (k == 1 ? (p[i + k] < lo || p[i + k] > hi) : (p[i + k] & 0xC0) != 0x80)
                return i;
        }
        i += need + 1;
    }
    return i;
}

/* The validator (with its ASCII and three-byte fast paths) agrees with the
 * reference on edge cases and on random mixtures of valid and bad text. */
static void
test_utf8_validation(void **state)
{
    static const char *const cases[] = {
        "plain ascii text that is longer than sixteen bytes",
        "\xE4\xB8\xAD\xE6\x96\x87", "\xE0\xA0\x80", "\xE0\x9F\xBF", "\xED\x9F\xBF",
        "\xED\xA0\x80", "\xEF\xBF\xBF", "\xF0\x9F\x98\x80", "\xF4\x90\x80\x80",
        "\xC0\xAF", "\xC2\xA9", "abc\xE4\xB8", "abc\xE4", "0123456789abcdef\xE4\xB8\xAD",
        "\xE4\xB8\xAD\x80", "\xFF",
    };
    static const unsigned char pieces[][4] = {
        { 'a' }, { ',' }, { 0xE4, 0xB8, 0xAD }, { 0xE9, 0xBE, 0xA5 }, { 0xC2, 0xA9 },
        { 0xF0, 0x9F, 0x98, 0x80 }, { 0xE0, 0xA0, 0x80 }, { 0xED, 0x9F, 0xBF },
        { 0xED, 0xA0, 0x80 }, { 0xE0, 0x80, 0x80 }, { 0x80 }, { 0xE4, 0xB8 }, { 0xFE },
    };
    static const size_t plen[] = { 1, 1, 3, 3, 2, 4, 3, 3, 3, 3, 1, 2, 1 };
    unsigned char buf[256];
    unsigned seed = 99;
    size_t i;
    int round;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int inc1, inc2;
        size_t n = strlen(cases[i]);
        size_t a = cb__utf8_valid_prefix((const unsigned char *)cases[i], n, &inc1);
        size_t b = ref_valid_prefix((const unsigned char *)cases[i], n, &inc2);
        if (a != b || inc1 != inc2)
            fail_msg("case %zu: %zu/%d, want %zu/%d", i, a, inc1, b, inc2);
    }
    for (round = 0; round < 20000; round++) {
        size_t n = 0;
        int inc1, inc2;
        while (n < 200) {
            size_t k;
            seed = seed * 1103515245u + 12345u;
            k = (seed >> 16) % 100 < 90 ? (seed >> 16) % 4 : 4 + (seed >> 16) % 9;
            if (round % 3 == 0 && k >= 8)
                k = 2; /* some rounds are all valid */
            memcpy(buf + n, pieces[k], plen[k]);
            n += plen[k];
        }
        if (cb__utf8_valid_prefix(buf, n, &inc1) != ref_valid_prefix(buf, n, &inc2) ||
            inc1 != inc2)
            fail_msg("round %d differs", round);
    }
}

/* Every path of the validator against the reference, on p[0..n). */
static void
check_utf8_paths(const unsigned char *p, size_t n, const char *what, size_t at)
{
    int inc_ref, inc;
    size_t want = ref_valid_prefix(p, n, &inc_ref), got;
    static unsigned char copy[512];

    got = cb__utf8_valid_prefix_scalar(p, n, &inc);
    if (got != want || inc != inc_ref)
        fail_msg("scalar, %s at %zu, n %zu: %zu/%d, want %zu/%d", what, at, n, got,
                 inc, want, inc_ref);
#if CB_IO_AVX2
    if (cb__io_avx2()) {
        got = cb__utf8_valid_prefix_avx2(p, n, &inc);
        if (got != want || inc != inc_ref)
            fail_msg("avx2, %s at %zu, n %zu: %zu/%d, want %zu/%d", what, at, n, got,
                     inc, want, inc_ref);
    }
#endif
    got = cb__utf8_valid_prefix(p, n, &inc);
    assert_true(got == want && inc == inc_ref);
    assert_true(n <= sizeof(copy));
    memset(copy, 0, sizeof(copy));
    got = cb__utf8_valid_copy(copy, p, n, &inc);
    assert_true(got == want && inc == inc_ref);
    if (want)
        assert_memory_equal(copy, p, want);
}

/*
 * The AVX2 validator checks 32 bytes a step and hands the bytes around an
 * error or a cut-off end to the scalar one: every kind of bad or cut
 * sequence, at every offset of two blocks, on ASCII and on Chinese filler,
 * and every length (so that the end of the buffer cuts it everywhere), must
 * give the reference's answer.
 */
static void
test_utf8_vector_paths(void **state)
{
    static const struct {
        const char *bytes, *what;
    } bad[] = {
        { "\x80", "lone continuation" }, { "\xBF", "lone continuation BF" },
        { "\xC0\xAF", "overlong 2 (C0)" }, { "\xC1\xBF", "overlong 2 (C1)" },
        { "\xE0\x80\x80", "overlong 3" }, { "\xE0\x9F\xBF", "overlong 3 (9F)" },
        { "\xF0\x80\x80\x80", "overlong 4" }, { "\xF0\x8F\xBF\xBF", "overlong 4 (8F)" },
        { "\xED\xA0\x80", "surrogate D800" }, { "\xED\xBF\xBF", "surrogate DFFF" },
        { "\xF4\x90\x80\x80", "above U+10FFFF" }, { "\xF5\x80\x80\x80", "F5 lead" },
        { "\xF7\xBF\xBF\xBF", "F7 lead" }, { "\xF8\x88\x80\x80\x80", "5-byte lead" },
        { "\xFE", "FE" }, { "\xFF", "FF" }, { "\xE4\xB8", "cut 3-byte then ASCII" },
        { "\xE4", "lone 3-byte lead" }, { "\xF0\x9F\x98", "cut 4-byte" },
        { "\xC2", "lone 2-byte lead" }, { "\xE4\xB8\xAD\x80", "extra continuation" },
        { "\xE4\xE4\xB8\xAD", "lead then lead" }, { "\xC2\xE4\xB8\xAD", "2-lead then 3-seq" },
        { "\xF0\x9F\x98\x80\x80", "4-byte then continuation" },
        { "\xED\x9F\xBF", "valid U+D7FF" }, { "\xEE\x80\x80", "valid U+E000" },
        { "\xF4\x8F\xBF\xBF", "valid U+10FFFF" }, { "\xF0\x90\x80\x80", "valid U+10000" },
        { "\xE0\xA0\x80", "valid U+0800" }, { "\xC2\x80", "valid U+0080" },
    };
    static const char *const fill[] = { "a", "\xE4\xB8\xAD", "\xC2\xA9",
                                        "\xF0\x9F\x98\x80" };
    unsigned char buf[160];
    size_t b, f, at, n, cut;

    (void)state;
    for (b = 0; b < sizeof(bad) / sizeof(bad[0]); b++)
        for (f = 0; f < sizeof(fill) / sizeof(fill[0]); f++)
            for (at = 0; at < 72; at++) {
                size_t bl = strlen(bad[b].bytes), fl = strlen(fill[f]);
                /* filler up to at (whole characters, then ASCII), the bytes, filler */
                n = 0;
                while (n + fl <= at) {
                    memcpy(buf + n, fill[f], fl);
                    n += fl;
                }
                while (n < at)
                    buf[n++] = 'x';
                memcpy(buf + n, bad[b].bytes, bl);
                n += bl;
                while (n + fl <= 150) {
                    memcpy(buf + n, fill[f], fl);
                    n += fl;
                }
                check_utf8_paths(buf, n, bad[b].what, at);
                /* cut at the end of the bytes and just inside them */
                for (cut = at; cut <= at + bl && cut <= n; cut++)
                    check_utf8_paths(buf, cut, bad[b].what, at);
            }
    /* Every length of a long mixed text, so that 32-byte blocks end everywhere. */
    n = 0;
    for (at = 0; n + 4 <= sizeof(buf); at++) {
        memcpy(buf + n, fill[at % 4], strlen(fill[at % 4]));
        n += strlen(fill[at % 4]);
    }
    for (cut = 0; cut <= n; cut++)
        check_utf8_paths(buf, cut, "mixed", cut);
}

/* Random text of valid and invalid pieces, long enough for many blocks. */
static void
test_utf8_vector_random(void **state)
{
    static const unsigned char pieces[][4] = {
        { 'a' }, { ',' }, { 0xE4, 0xB8, 0xAD }, { 0xE9, 0xBE, 0xA5 }, { 0xC2, 0xA9 },
        { 0xF0, 0x9F, 0x98, 0x80 }, { 0xE0, 0xA0, 0x80 }, { 0xED, 0x9F, 0xBF },
        { 0xED, 0xA0, 0x80 }, { 0xE0, 0x80, 0x80 }, { 0x80 }, { 0xE4, 0xB8 }, { 0xFE },
        { 0xF4, 0x90, 0x80, 0x80 }, { 0xC1, 0xBF }, { 0xF0, 0x8F, 0xBF, 0xBF },
    };
    static const size_t plen[] = { 1, 1, 3, 3, 2, 4, 3, 3, 3, 3, 1, 2, 1, 4, 2, 4 };
    unsigned char buf[512];
    unsigned seed = 4242;
    int round;

    (void)state;
    for (round = 0; round < 40000; round++) {
        size_t n = 0, limit;
        seed = seed * 1103515245u + 12345u;
        limit = 1 + (seed >> 8) % 500;
        while (n + 4 <= limit) {
            size_t k;
            seed = seed * 1103515245u + 12345u;
            /* mostly valid; one bad piece in about 300, or none at all */
            k = (seed >> 16) % 300 == 0 && round % 4 ? 8 + (seed >> 8) % 8
                                                     : (seed >> 16) % 8;
            memcpy(buf + n, pieces[k], plen[k]);
            n += plen[k];
        }
        check_utf8_paths(buf, n, "random", (size_t)round);
    }
}

/* Splits text both ways: sparse must give the non-empty fields of dense. */
static void
check_sparse_equals_dense(const char *text, size_t len, char delim)
{
    struct cb_splitter sp = { delim, 0, "mem.csv" };
    struct cb_raw_row raw;
    struct cb_split_work dw, sw;
    struct cb_row dense, sparse;
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err drc, src;
    size_t i, k = 0;

    memset(&raw, 0, sizeof(raw));
    memset(&dw, 0, sizeof(dw));
    memset(&sw, 0, sizeof(sw));
    sw.sparse = 1;
    raw.text = cb_str_make(text, len);
    raw.line = 7;
    drc = cb_row_split(&sp, &raw, &dw, &dense, &err);
    src = cb_row_split(&sp, &raw, &sw, &sparse, &err);
    assert_int_equal(drc, src);
    if (drc == CB_OK && !memchr(text, '"', len)) {
        /* both against the byte-by-byte reference */
        size_t s0 = 0, nf = 0, j;
        for (j = 0; j <= len; j++) {
            if (j < len && text[j] != delim)
                continue;
            assert_true(nf < dense.nfields);
            if (dense.fields[nf].ptr != text + s0 || dense.fields[nf].len != j - s0)
                fail_msg("dense field %zu of a %zu-byte row: %zu bytes at %td, want %zu at %zu",
                         nf, len, dense.fields[nf].len, dense.fields[nf].ptr - text,
                         j - s0, s0);
            if (j > s0) {
                if (k >= sparse.nset || sparse.cols[k] != nf ||
                    sparse.fields[k].ptr != text + s0 || sparse.fields[k].len != j - s0)
                    fail_msg("sparse field %zu (column %zu) of a %zu-byte row differs", k,
                             nf, len);
                k++;
            }
            nf++;
            s0 = j + 1;
        }
        assert_int_equal(nf, dense.nfields);
        assert_int_equal(k, sparse.nset);
        k = 0;
    }
    if (drc == CB_OK) {
        assert_null(dense.cols);
        assert_non_null(sparse.cols);
        assert_int_equal(dense.nfields, sparse.nfields);
        for (i = 0; i < dense.nfields; i++) {
            if (!dense.fields[i].len)
                continue;
            assert_true(k < sparse.nset);
            assert_int_equal(sparse.cols[k], i);
            assert_int_equal(sparse.fields[k].len, dense.fields[i].len);
            assert_memory_equal(sparse.fields[k].ptr, dense.fields[i].ptr,
                                dense.fields[i].len);
            k++;
        }
        assert_int_equal(k, sparse.nset);
    }
    cb_split_work_release(&dw);
    cb_split_work_release(&sw);
    cb_buf_release(&err);
}

/* The workers' sparse rows hold what the dense split holds, runs of empty
 * columns (the fast path of sixteen at a time) and row ends included. */
static void
test_sparse_split(void **state)
{
    static char buf[1 << 16];
    unsigned seed = 12345;
    int round;

    (void)state;
    check_sparse_equals_dense("", 0, ',');
    check_sparse_equals_dense(",", 1, ',');
    check_sparse_equals_dense("a", 1, ',');
    check_sparse_equals_dense("a,,b,", 5, ',');
    check_sparse_equals_dense(",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,x", 34, ',');
    check_sparse_equals_dense("x\t\t\ty", 6, '\t');
    for (round = 0; round < 200; round++) {
        size_t n = 0, ncols = 1 + (size_t)(round * 37 % 900), c;
        for (c = 0; c < ncols; c++) {
            seed = seed * 1103515245u + 12345u;
            if (c)
                buf[n++] = ',';
            if ((seed >> 16) % 5 == 0) { /* a value, sometimes long */
                size_t len = 1 + (seed >> 8) % ((seed >> 20) % 3 ? 4 : 40), j;
                for (j = 0; j < len; j++)
                    buf[n++] = (char)('a' + (j + c) % 26);
            }
        }
        check_sparse_equals_dense(buf, n, ',');
    }
}

/*
 * The sparse splitter takes 64 bytes a step (AVX2) then 16 (SSE2) then
 * one: values of every length at every position across those boundaries,
 * runs of empty fields that start and end anywhere in a block, and rows
 * that end (with or without a trailing delimiter) at every offset.
 */
static void
test_split_vector_boundaries(void **state)
{
    static char buf[512];
    size_t at, len, n, tail;

    (void)state;
    for (at = 0; at < 100; at++)
        for (len = 0; len <= 40; len++) {
            memset(buf, ',', 160);
            memset(buf + at, 'v', len);
            for (n = 0; n < len; n++) /* multibyte text is only bytes to the splitter */
                if (n % 3 == 1)
                    buf[at + n] = (char)0xE4;
            check_sparse_equals_dense(buf, 160, ',');
            check_sparse_equals_dense(buf, at + len, ',');
            check_sparse_equals_dense(buf + 1, at + len + 1 < 159 ? at + len + 1 : 159, ',');
        }
    /* alternating values and empty runs of every length, cut at every length */
    n = 0;
    for (len = 0; n + len + 2 < sizeof(buf); len++) {
        memset(buf + n, 'x', len % 5 + 1);
        n += len % 5 + 1;
        memset(buf + n, ',', len % 37 + 1);
        n += len % 37 + 1;
    }
    for (tail = 0; tail <= n; tail++)
        check_sparse_equals_dense(buf, tail, ',');
    /* a CRLF row: the reader strips the CR, the splitter sees the rest */
    check_sparse_equals_dense(",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,a,b\r", 34, ',');
}

/* More than CB_READER_MAX_FIELDS fields is an error, sparse or dense. */
static void
test_field_limit(void **state)
{
    static char buf[3 * CB_READER_MAX_FIELDS];
    struct cb_splitter sp = { ',', 0, "mem.csv" };
    struct cb_raw_row raw;
    struct cb_split_work w;
    struct cb_row row;
    struct cb_buf err = CB_BUF_INIT;
    int sparse;

    (void)state;
    for (sparse = 0; sparse < 2; sparse++) {
        size_t n;
        memset(&raw, 0, sizeof(raw));
        memset(&w, 0, sizeof(w));
        w.sparse = sparse;
        /* exactly the limit: "a" and CB_READER_MAX_FIELDS - 1 commas */
        buf[0] = 'a';
        memset(buf + 1, ',', CB_READER_MAX_FIELDS - 1);
        n = CB_READER_MAX_FIELDS;
        raw.text = cb_str_make(buf, n);
        assert_int_equal(cb_row_split(&sp, &raw, &w, &row, &err), CB_OK);
        assert_int_equal(row.nfields, CB_READER_MAX_FIELDS);
        /* one more */
        buf[n++] = ',';
        raw.text = cb_str_make(buf, n);
        cb_buf_reset(&err);
        assert_int_equal(cb_row_split(&sp, &raw, &w, &row, &err), CB_ERR_TOO_LARGE);
        assert_non_null(strstr(cb_buf_cstr(&err), "mem.csv: line 0: more than 4096 fields"));
        /* every field non-empty: the most a block can store */
        for (n = 0; n < 2 * CB_READER_MAX_FIELDS - 1; n++)
            buf[n] = n % 2 ? ',' : 'a';
        raw.text = cb_str_make(buf, n);
        assert_int_equal(cb_row_split(&sp, &raw, &w, &row, &err), CB_OK);
        assert_int_equal(row.nfields, CB_READER_MAX_FIELDS);
        if (sparse)
            assert_int_equal(row.nset, CB_READER_MAX_FIELDS);
        for (; n < sizeof(buf) - 1; n++)
            buf[n] = n % 2 ? ',' : 'a';
        raw.text = cb_str_make(buf, n);
        assert_int_equal(cb_row_split(&sp, &raw, &w, &row, &err), CB_ERR_TOO_LARGE);
        cb_split_work_release(&w);
    }
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_csv),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_tsv_detected),
        cmocka_unit_test(test_trailing_delimiter_and_blank_lines),
        cmocka_unit_test(test_bom_stripped),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_invalid_utf8_located),
        cmocka_unit_test(test_gb18030_detected_and_equal),
        cmocka_unit_test(test_ascii_then_gb18030_switches),
        cmocka_unit_test(test_forced_encoding_mismatch),
        cmocka_unit_test(test_large_file_streams),
        cmocka_unit_test(test_rows_found_across_blocks),
        cmocka_unit_test(test_wide_plain_rows),
        cmocka_unit_test(test_sparse_split),
        cmocka_unit_test(test_utf8_validation),
        cmocka_unit_test(test_utf8_vector_paths),
        cmocka_unit_test(test_utf8_vector_random),
        cmocka_unit_test(test_split_vector_boundaries),
        cmocka_unit_test(test_field_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
