/*
 * test_xlsx.c - the streaming .xlsx reader (src/io/xlsx.c).
 *
 * Fixtures in tests/data/xlsx (synthetic data, no real patients):
 *   basic.xlsx     written by openpyxl: Chinese inline strings, numbers,
 *                  booleans, gaps, skipped rows, a styled but empty row, and
 *                  a second sheet.
 *   features.xlsx  hand-written parts: shared strings with rich-text runs,
 *                  a phonetic run and escapes; inline, str, e, b, d and
 *                  number cells; cells without r; prefixed element names.
 *                  Its first sheet is xl/worksheets/data.xml (absolute rels
 *                  target), stored after a decoy xl/worksheets/sheet1.xml.
 *   empty.xlsx     written by openpyxl: one sheet with no cells.
 * Other workbooks are built here with libzip, so the XML that each case
 * depends on is visible in the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zip.h>

#include "testutil.h"

#include "carebase/alloc.h"
#include "carebase/buf.h"
#include "carebase/reader.h"

#define MAIN_NS "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
#define REL_NS "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
#define PKG_NS "http://schemas.openxmlformats.org/package/2006/relationships"

static const char WORKBOOK[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<workbook xmlns=\"" MAIN_NS "\" xmlns:r=\"" REL_NS "\">"
    "<sheets><sheet name=\"S\" sheetId=\"1\" r:id=\"rId1\"/></sheets>"
    "</workbook>";

static const char WORKBOOK_RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"" PKG_NS "\">"
    "<Relationship Id=\"rId1\" Type=\"" REL_NS "/worksheet\" "
    "Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"" REL_NS "/sharedStrings\" "
    "Target=\"sharedStrings.xml\"/>"
    "</Relationships>";

#define SHEET_HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
    "<worksheet xmlns=\"" MAIN_NS "\"><sheetData>\n"
#define SHEET_TAIL "</sheetData></worksheet>\n"

struct part {
    const char *name;
    const char *data;
    size_t      len;  /* 0: strlen(data) */
};

/* Writes a zip of parts to <tmpdir>/file; returns its path (static). */
static const char *
make_zip(const char *file, const struct part *parts, size_t n)
{
    static char path[1024];
    zip_t *z;
    int zerr = 0;
    size_t i;

    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), file);
    z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    assert_non_null(z);
    for (i = 0; i < n; i++) {
        size_t len = parts[i].len ? parts[i].len : strlen(parts[i].data);
        zip_source_t *s = zip_source_buffer(z, parts[i].data, len, 0);

        assert_non_null(s);
        assert_true(zip_file_add(z, parts[i].name, s, ZIP_FL_OVERWRITE) >= 0);
    }
    assert_int_equal(zip_close(z), 0);
    return path;
}

/* A workbook whose first sheet is sheet (and shared strings sst, if set). */
static const char *
make_book(const char *file, const char *sheet, const char *sst)
{
    struct part parts[] = {
        { "xl/workbook.xml", WORKBOOK, 0 },
        { "xl/_rels/workbook.xml.rels", WORKBOOK_RELS, 0 },
        { "xl/worksheets/sheet1.xml", sheet, 0 },
        { "xl/sharedStrings.xml", sst ? sst : "", 0 },
    };

    return make_zip(file, parts, sst ? 4 : 3);
}

static void
expect_contains(const struct cb_buf *err, const char *needle)
{
    if (!strstr(cb_buf_cstr(err), needle)) {
        print_error("error text \"%s\" lacks \"%s\"\n", cb_buf_cstr(err),
                    needle);
        fail();
    }
}

static struct cb_xlsx *
open_ok(const char *path)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_xlsx *x = NULL;
    enum cb_err rc = cb_xlsx_open(&x, path, &err);

    if (rc != CB_OK)
        print_error("open %s: %s\n", path, cb_buf_cstr(&err));
    assert_int_equal(rc, CB_OK);
    assert_non_null(x);
    cb_buf_release(&err);
    return x;
}

/*
 * Reads the next row and checks its number and fields; want is the fields
 * joined with TABs (so it is also the expected raw text).
 */
static void
expect_row(struct cb_xlsx *x, uint64_t line, size_t nfields, const char *want)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_row row;
    const char *p = want;
    enum cb_err rc = cb_xlsx_next(x, &row, &err);
    size_t i;

    if (rc != CB_OK)
        print_error("row %llu: %s\n", (unsigned long long)line,
                    cb_buf_cstr(&err));
    assert_int_equal(rc, CB_OK);
    assert_int_equal(row.line, line);
    assert_int_equal(row.nfields, nfields);
    assert_int_equal(row.raw.len, strlen(want));
    assert_memory_equal(row.raw.ptr, want, row.raw.len);
    for (i = 0; i < nfields; i++) {
        const char *tab = strchr(p, '\t');
        size_t n = tab ? (size_t)(tab - p) : strlen(p);

        if (row.fields[i].len != n ||
            (n && memcmp(row.fields[i].ptr, p, n) != 0)) {
            print_error("row %llu field %zu: \"%.*s\", want \"%.*s\"\n",
                        (unsigned long long)line, i,
                        (int)row.fields[i].len, row.fields[i].ptr, (int)n, p);
            fail();
        }
        p = tab ? tab + 1 : p + n;
    }
    cb_buf_release(&err);
}

static void
expect_eof(struct cb_xlsx *x)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_row row;

    assert_int_equal(cb_xlsx_next(x, &row, &err), CB_EOF);
    assert_int_equal(row.nfields, 0);
    assert_int_equal(err.len, 0);
    cb_buf_release(&err);
}

/* Opens path, expects rc and a message containing needle. */
static void
expect_open_error(const char *path, enum cb_err want, const char *needle)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_xlsx *x = (struct cb_xlsx *)&err;  /* must be reset to NULL */

    assert_int_equal(cb_xlsx_open(&x, path, &err), want);
    assert_null(x);
    expect_contains(&err, needle);
    cb_buf_release(&err);
}

/* Reads rows until an error; expects rc and a message containing needle. */
static void
expect_read_error(const char *path, enum cb_err want, const char *needle)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_xlsx *x = open_ok(path);
    struct cb_row row;
    enum cb_err rc;

    while ((rc = cb_xlsx_next(x, &row, &err)) == CB_OK)
        ;
    assert_int_equal(rc, want);
    expect_contains(&err, needle);
    /* the reader stays failed */
    cb_buf_reset(&err);
    assert_int_equal(cb_xlsx_next(x, &row, &err), want);
    assert_true(err.len > 0);
    cb_xlsx_free(x);
    cb_buf_release(&err);
}

static void
test_openpyxl_workbook(void **state)
{
    struct cb_xlsx *x = open_ok(tu_source("tests/data/xlsx/basic.xlsx"));
    uint64_t done, total;

    (void)state;
    cb_xlsx_progress(x, &done, &total);
    assert_int_equal(done, 0);
    assert_true(total > 0);
    expect_row(x, 1, 6, "病案号\t姓名\t年龄\t费用\t出院\t备注");
    expect_row(x, 2, 5, "A001\t张三\t45\t1234.56\t1");
    expect_row(x, 3, 6, "A002\t李四\t3\t0.3\t0\t复诊");
    expect_row(x, 5, 6, "A003\t\t\t12\t\t急诊");  /* row 4 absent */
    expect_row(x, 7, 5, "\t\t\t\tx");
    /* row 9 holds only a styled empty cell: not returned */
    expect_eof(x);
    expect_eof(x);
    cb_xlsx_progress(x, &done, &total);
    assert_int_equal(done, total);
    cb_xlsx_free(x);
}

static void
test_features(void **state)
{
    struct cb_xlsx *x = open_ok(tu_source("tests/data/xlsx/features.xlsx"));

    (void)state;
    /* shared strings: plain, rich runs, phonetic run dropped, escapes */
    expect_row(x, 1, 4, "plain\t住院 病人\t東京\ta&b <c>");
    /* inline (plain and rich), formula string, error, booleans */
    expect_row(x, 2, 6, "inline\tinline\tplainx\t#DIV/0!\t1\t0");
    /* numbers and dates exactly as written */
    expect_row(x, 3, 5,
               "1.1000000000000001\t12.0\t-3.5E-2\t42\t2024-01-31T00:00:00");
    /* cells without r follow each other; <c/> is an empty field */
    expect_row(x, 4, 3, "plain\t\t7");
    /* row 5 absent; leading gap kept, trailing empty string dropped */
    expect_row(x, 6, 3, "\t\t3");
    /* row 7 has only empty values; the row without r is 7 + 1 */
    expect_row(x, 8, 2, "\t8");
    /* formula without a cached value is empty; newline kept */
    expect_row(x, 9, 2, "\tline1\nline2");
    /* column AA is the 27th */
    expect_row(x, 10, 27, "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t1");
    expect_eof(x);
    cb_xlsx_free(x);
}

static void
test_empty_sheet(void **state)
{
    struct cb_xlsx *x = open_ok(tu_source("tests/data/xlsx/empty.xlsx"));
    uint64_t done, total;

    (void)state;
    expect_eof(x);
    cb_xlsx_progress(x, &done, &total);
    assert_true(total > 0);
    assert_int_equal(done, total);
    cb_xlsx_free(x);
}

static void
test_not_a_zip(void **state)
{
    static const char csv[] = "病案号,姓名\nA001,张三\n";

    (void)state;
    expect_open_error(tu_write_file("fake.xlsx", csv, sizeof(csv) - 1),
                      CB_ERR_PROTO, "not a zip archive");
    expect_open_error(tu_write_file("zero.xlsx", "", 0), CB_ERR_PROTO,
                      "not a zip archive");
    expect_open_error(tu_source("tests/data/xlsx/no-such-file.xlsx"),
                      CB_ERR_IO, "no such file");
}

static void
test_no_workbook(void **state)
{
    struct part parts[] = { { "readme.txt", "not a workbook", 0 } };

    (void)state;
    expect_open_error(make_zip("nowb.xlsx", parts, 1), CB_ERR_PROTO,
                      "no workbook part 'xl/workbook.xml'");
}

static void
test_first_sheet_problems(void **state)
{
    static const char chart_rels[] =
        "<Relationships xmlns=\"" PKG_NS "\">"
        "<Relationship Id=\"rId1\" Type=\"" REL_NS "/chartsheet\" "
        "Target=\"chartsheets/sheet1.xml\"/></Relationships>";
    static const char other_rels[] =
        "<Relationships xmlns=\"" PKG_NS "\">"
        "<Relationship Id=\"rId9\" Type=\"" REL_NS "/worksheet\" "
        "Target=\"worksheets/sheet1.xml\"/></Relationships>";
    static const char gone_rels[] =
        "<Relationships xmlns=\"" PKG_NS "\">"
        "<Relationship Id=\"rId1\" Type=\"" REL_NS "/worksheet\" "
        "Target=\"worksheets/gone.xml\"/></Relationships>";
    static const char no_sheets[] =
        "<workbook xmlns=\"" MAIN_NS "\"><sheets/></workbook>";
    static const char sheet[] = SHEET_HEAD SHEET_TAIL;
    struct part parts[] = {
        { "xl/workbook.xml", WORKBOOK, 0 },
        { "xl/_rels/workbook.xml.rels", chart_rels, 0 },
        { "xl/worksheets/sheet1.xml", sheet, 0 },
    };

    (void)state;
    expect_open_error(make_zip("chart.xlsx", parts, 3), CB_ERR_PROTO,
                      "not a worksheet");
    parts[1].data = other_rels;
    expect_open_error(make_zip("norel.xlsx", parts, 3), CB_ERR_PROTO,
                      "relationship 'rId1' of the first sheet is missing");
    parts[1].data = gone_rels;
    expect_open_error(make_zip("gone.xlsx", parts, 3), CB_ERR_PROTO,
                      "no sheet part 'xl/worksheets/gone.xml'");
    parts[0].data = no_sheets;
    expect_open_error(make_zip("nosheets.xlsx", parts, 3), CB_ERR_PROTO,
                      "lists no sheets");
}

/* Without xl/_rels/workbook.xml.rels: sheet1.xml and sharedStrings.xml. */
static void
test_no_rels_fallback(void **state)
{
    static const char sheet[] = SHEET_HEAD
        "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>1</v></c>"
        "<c r=\"C2\" t=\"s\"><v>0</v></c>"
        "<c r=\"D2\" t=\"inlineStr\"><v>v-inline</v></c></row>\n"
        SHEET_TAIL;
    static const char sst[] =
        "<sst xmlns=\"" MAIN_NS "\"><si><t>诊断</t></si>"
        "<si><r><t>手术</t></r><r><t>名称</t></r></si></sst>";
    struct part parts[] = {
        { "xl/worksheets/sheet1.xml", sheet, 0 },
        { "xl/sharedStrings.xml", sst, 0 },
        { "xl/workbook.xml", WORKBOOK, 0 },
    };
    struct cb_xlsx *x;

    (void)state;
    x = open_ok(make_zip("norels.xlsx", parts, 3));
    /* an inline string in <v>, as some writers produce, is kept */
    expect_row(x, 2, 4, "手术名称\t\t诊断\tv-inline");
    expect_eof(x);
    cb_xlsx_free(x);
}

static void
test_corrupt_xml(void **state)
{
    /* line 4: the "x" of "</x>", column 32, closes <c> */
    static const char mismatched[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row>\n"
        "<row r=\"2\"><c r=\"A2\"><v>2</v></x></row>\n" SHEET_TAIL;
    /* the part stops inside the start tag at line 3, column 51 */
    static const char truncated[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row><row r=\"2\"><c r=\"A";
    static const char dtd[] =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE worksheet [<!ENTITY a \"b\">]>\n"
        "<worksheet xmlns=\"" MAIN_NS "\"/>";
    static const char bad_sst[] =
        "<sst xmlns=\"" MAIN_NS "\">\n<si><t>ok</t></si>\n<si><t>x</si>\n</sst>";
    static const char sheet[] = SHEET_HEAD SHEET_TAIL;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_xlsx *x;
    struct cb_row row;

    (void)state;
    x = open_ok(make_book("mismatch.xlsx", mismatched, NULL));
    expect_row(x, 1, 1, "1");
    assert_int_equal(cb_xlsx_next(x, &row, &err), CB_ERR_PROTO);
    assert_string_equal(cb_buf_cstr(&err), "'xl/worksheets/sheet1.xml' "
                        "line 4, column 32: xml error: mismatched tag");
    cb_xlsx_free(x);
    cb_buf_release(&err);

    expect_read_error(make_book("trunc.xlsx", truncated, NULL), CB_ERR_PROTO,
                      "'xl/worksheets/sheet1.xml' line 3, column 51: "
                      "xml error: unclosed token");
    expect_read_error(make_book("dtd.xlsx", dtd, NULL), CB_ERR_PROTO,
                      "line 2, column 21: document type declarations are "
                      "not allowed");
    expect_open_error(make_book("badsst.xlsx", sheet, bad_sst), CB_ERR_PROTO,
                      "'xl/sharedStrings.xml' line 3, column 11: "
                      "xml error: mismatched tag");
}

static void
test_bad_cells(void **state)
{
    static const char sst[] =
        "<sst xmlns=\"" MAIN_NS "\"><si><t>a</t></si><si><t>b</t></si></sst>";
    static const char out_of_range[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>1</v></c>"
        "<c r=\"B1\" t=\"s\"><v>2</v></c></row>\n" SHEET_TAIL;
    static const char not_index[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>x1</v></c></row>" SHEET_TAIL;
    static const char bad_ref[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"1A\"><v>1</v></c></row>" SHEET_TAIL;
    static const char backwards[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"C1\"><v>1</v></c><c r=\"B1\"><v>2</v></c></row>"
        SHEET_TAIL;
    static const char bad_bool[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"A1\" t=\"b\"><v>2</v></c></row>" SHEET_TAIL;
    static const char bad_row[] = SHEET_HEAD
        "<row r=\"0\"><c r=\"A1\"><v>2</v></c></row>" SHEET_TAIL;

    (void)state;
    expect_read_error(make_book("range.xlsx", out_of_range, sst),
                      CB_ERR_PROTO, "line 3, column 64: cell B1: shared "
                      "string index 2 out of range (2 strings)");
    /* t="s" without any shared-strings part */
    expect_read_error(make_book("nosst.xlsx", out_of_range, NULL),
                      CB_ERR_PROTO, "cell A1: shared string index 1 out of "
                      "range (0 strings)");
    expect_read_error(make_book("notindex.xlsx", not_index, sst),
                      CB_ERR_PROTO, "cell A1: bad shared string index 'x1'");
    expect_read_error(make_book("badref.xlsx", bad_ref, NULL), CB_ERR_PROTO,
                      "bad cell reference '1A'");
    expect_read_error(make_book("backwards.xlsx", backwards, NULL),
                      CB_ERR_PROTO, "cell 'B1' out of order in row 1");
    expect_read_error(make_book("badbool.xlsx", bad_bool, NULL),
                      CB_ERR_PROTO, "cell A1: bad boolean '2'");
    expect_read_error(make_book("badrow.xlsx", bad_row, NULL),
                      CB_ERR_PROTO, "bad row number '0'");
}

/* A sheet with one inline-string cell of n bytes in B1, then XFD2 or XFE2. */
static char *
sheet_with_big_cell(size_t n, const char *last_ref)
{
    static const char head[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"B1\" t=\"inlineStr\"><is><t>";
    char tail[256];
    size_t hl = strlen(head), tl;
    char *s;

    snprintf(tail, sizeof(tail), "</t></is></c></row>"
             "<row r=\"2\"><c r=\"%s\"><v>5</v></c></row>" SHEET_TAIL,
             last_ref);
    tl = strlen(tail);
    s = malloc(hl + n + tl + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    memset(s + hl, 'a', n);
    memcpy(s + hl + n, tail, tl + 1);
    return s;
}

static void
test_limits(void **state)
{
    char *sheet;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_xlsx *x;
    struct cb_row row;

    (void)state;
    /* exactly 1 MiB and the last column, XFD, are accepted */
    sheet = sheet_with_big_cell((size_t)1 << 20, "XFD2");
    x = open_ok(make_book("max.xlsx", sheet, NULL));
    free(sheet);
    assert_int_equal(cb_xlsx_next(x, &row, &err), CB_OK);
    assert_int_equal(row.nfields, 2);
    assert_int_equal(row.fields[1].len, (size_t)1 << 20);
    assert_int_equal(cb_xlsx_next(x, &row, &err), CB_OK);
    assert_int_equal(row.nfields, 16384);
    assert_true(cb_str_eqz(row.fields[16383], "5"));
    assert_int_equal(row.raw.len, 16383 + 1);
    expect_eof(x);
    cb_xlsx_free(x);

    sheet = sheet_with_big_cell(((size_t)1 << 20) + 1, "A2");
    expect_read_error(make_book("bigcell.xlsx", sheet, NULL),
                      CB_ERR_TOO_LARGE, "cell B1 is over 1 MiB");
    free(sheet);

    sheet = sheet_with_big_cell(1, "XFE2");
    x = open_ok(make_book("wide.xlsx", sheet, NULL));
    free(sheet);
    assert_int_equal(cb_xlsx_next(x, &row, &err), CB_OK);
    assert_int_equal(cb_xlsx_next(x, &row, &err), CB_ERR_TOO_LARGE);
    expect_contains(&err, "row 2 has over 16384 columns");
    cb_xlsx_free(x);
    cb_buf_release(&err);
}

/* Limits on what expat would otherwise buffer or nest without bound. */
static void
test_xml_limits(void **state)
{
    static const char head[] = SHEET_HEAD
        "<row r=\"1\"><c r=\"A1\"><v>1</v></c></row><row r=\"2\" x=\"";
    static const char tail[] = "\"/>" SHEET_TAIL;
    size_t n = ((size_t)17 << 20), hl = strlen(head), tl = strlen(tail);
    struct cb_buf sheet = CB_BUF_INIT, sst = CB_BUF_INIT;
    char *big = malloc(hl + n + tl + 1);
    int i;

    (void)state;
    /* a 17 MiB attribute value: no parser event for too long */
    assert_non_null(big);
    memcpy(big, head, hl);
    memset(big + hl, 'a', n);
    memcpy(big + hl + n, tail, tl + 1);
    expect_read_error(make_book("token.xlsx", big, NULL), CB_ERR_TOO_LARGE,
                      "xml token over 16 MiB");
    free(big);

    /* elements nested 300 deep */
    assert_int_equal(cb_buf_adds(&sheet, SHEET_HEAD "<row r=\"1\">"), CB_OK);
    for (i = 0; i < 300; i++)
        assert_int_equal(cb_buf_adds(&sheet, "<a>"), CB_OK);
    for (i = 0; i < 300; i++)
        assert_int_equal(cb_buf_adds(&sheet, "</a>"), CB_OK);
    assert_int_equal(cb_buf_adds(&sheet, "</row>" SHEET_TAIL), CB_OK);
    expect_read_error(make_book("deep.xlsx", sheet.ptr, NULL),
                      CB_ERR_TOO_LARGE, "elements nested over 256 deep");

    /* one shared string of 1 MiB used 65 times: a row over 64 MiB */
    assert_int_equal(cb_buf_adds(&sst, "<sst xmlns=\"" MAIN_NS "\"><si><t>"),
                     CB_OK);
    for (i = 0; i < 1024; i++)
        assert_int_equal(cb_buf_addf(&sst, "%01024d", i), CB_OK);
    assert_int_equal(cb_buf_adds(&sst, "</t></si></sst>"), CB_OK);
    cb_buf_reset(&sheet);
    assert_int_equal(cb_buf_adds(&sheet, SHEET_HEAD "<row r=\"1\">"), CB_OK);
    for (i = 0; i < 65; i++)
        assert_int_equal(cb_buf_adds(&sheet, "<c t=\"s\"><v>0</v></c>"),
                         CB_OK);
    assert_int_equal(cb_buf_adds(&sheet, "</row>" SHEET_TAIL), CB_OK);
    expect_read_error(make_book("widerow.xlsx", sheet.ptr, sst.ptr),
                      CB_ERR_TOO_LARGE, "row 1 is over 64 MiB");
    cb_buf_release(&sheet);
    cb_buf_release(&sst);
}

/*
 * 20,000 rows x 10 columns (about 5 MB of sheet XML, deflated), built here:
 * the reader must hand out the first row after reading only a chunk or two,
 * and then every row in order.
 */
static void
test_large_streaming(void **state)
{
    enum { ROWS = 20000, COLS = 10, NSST = 100 };
    struct cb_buf xml = CB_BUF_INIT, sst = CB_BUF_INIT;
    struct cb_buf want = CB_BUF_INIT, err = CB_BUF_INIT;
    struct part parts[4] = {
        { "xl/workbook.xml", WORKBOOK, 0 },
        { "xl/_rels/workbook.xml.rels", WORKBOOK_RELS, 0 },
        { NULL, NULL, 0 },
        { NULL, NULL, 0 },
    };
    struct cb_xlsx *x;
    struct cb_row row;
    uint64_t done, total;
    int i, j;
    enum cb_err rc;

    (void)state;
    assert_int_equal(cb_buf_adds(&sst, "<sst xmlns=\"" MAIN_NS "\">"),
                     CB_OK);
    for (i = 0; i < NSST; i++)
        assert_int_equal(cb_buf_addf(&sst, "<si><t>科室%d</t></si>", i),
                         CB_OK);
    assert_int_equal(cb_buf_adds(&sst, "</sst>"), CB_OK);
    assert_int_equal(cb_buf_adds(&xml, SHEET_HEAD), CB_OK);
    for (i = 1; i <= ROWS; i++) {
        assert_int_equal(cb_buf_addf(&xml, "<row r=\"%d\"><c r=\"A%d\" "
                                     "t=\"s\"><v>%d</v></c>", i, i, i % NSST),
                         CB_OK);
        for (j = 1; j < COLS; j++)
            assert_int_equal(cb_buf_addf(&xml, "<c r=\"%c%d\"><v>%d.%d</v>"
                                         "</c>", 'A' + j, i, i, j), CB_OK);
        assert_int_equal(cb_buf_adds(&xml, "</row>\n"), CB_OK);
    }
    assert_int_equal(cb_buf_adds(&xml, SHEET_TAIL), CB_OK);
    parts[2].name = "xl/worksheets/sheet1.xml";
    parts[2].data = xml.ptr;
    parts[2].len = xml.len;
    parts[3].name = "xl/sharedStrings.xml";
    parts[3].data = sst.ptr;
    x = open_ok(make_zip("large.xlsx", parts, 4));

    for (i = 1; i <= ROWS; i++) {
        rc = cb_xlsx_next(x, &row, &err);
        if (rc != CB_OK)
            print_error("row %d: %s\n", i, cb_buf_cstr(&err));
        assert_int_equal(rc, CB_OK);
        assert_int_equal(row.line, (uint64_t)i);
        assert_int_equal(row.nfields, COLS);
        cb_buf_reset(&want);
        assert_int_equal(cb_buf_addf(&want, "科室%d", i % NSST), CB_OK);
        for (j = 1; j < COLS; j++)
            assert_int_equal(cb_buf_addf(&want, "\t%d.%d", i, j), CB_OK);
        assert_int_equal(row.raw.len, want.len);
        assert_memory_equal(row.raw.ptr, want.ptr, want.len);
        assert_true(cb_str_eqz(row.fields[COLS - 1],
                               strrchr(want.ptr, '\t') + 1));
        cb_xlsx_progress(x, &done, &total);
        assert_int_equal(total, xml.len);
        if (i == 1)  /* streamed: the first row needs one 64 KiB chunk */
            assert_true(done > 0 && done <= 64 * 1024);
        assert_true(done <= total);
    }
    expect_eof(x);
    cb_xlsx_progress(x, &done, &total);
    assert_int_equal(done, total);
    cb_xlsx_free(x);
    cb_buf_release(&xml);
    cb_buf_release(&sst);
    cb_buf_release(&want);
    cb_buf_release(&err);
}

/*
 * Every allocation in open and read fails in turn: each run must end in
 * CB_ERR_NOMEM or succeed, without crashing or leaking (ASan build).
 */
static void
test_out_of_memory(void **state)
{
    const char *path = tu_source("tests/data/xlsx/features.xlsx");
    long n;
    int nomem = 0;

    (void)state;
    for (n = 0; n < 1000; n++) {
        struct cb_buf err = CB_BUF_INIT;
        struct cb_xlsx *x = NULL;
        struct cb_row row;
        enum cb_err rc;
        int rows = 0;

        cb_alloc_fail_after(n);
        rc = cb_xlsx_open(&x, path, &err);
        while (rc == CB_OK && (rc = cb_xlsx_next(x, &row, &err)) == CB_OK)
            rows++;
        cb_alloc_fail_after(-1);
        cb_xlsx_free(x);
        cb_buf_release(&err);
        if (rc == CB_EOF) {
            assert_int_equal(rows, 8);
            break;
        }
        assert_int_equal(rc, CB_ERR_NOMEM);
        nomem++;
    }
    assert_true(n < 1000);
    assert_true(nomem > 10);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openpyxl_workbook),
        cmocka_unit_test(test_features),
        cmocka_unit_test(test_empty_sheet),
        cmocka_unit_test(test_not_a_zip),
        cmocka_unit_test(test_no_workbook),
        cmocka_unit_test(test_first_sheet_problems),
        cmocka_unit_test(test_no_rels_fallback),
        cmocka_unit_test(test_corrupt_xml),
        cmocka_unit_test(test_bad_cells),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_xml_limits),
        cmocka_unit_test(test_large_streaming),
        cmocka_unit_test(test_out_of_memory),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
