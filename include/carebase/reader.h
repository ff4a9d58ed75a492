/*
 * reader.h - streaming tabular input: CSV, TSV and .xlsx, UTF-8 or GB18030.
 *
 * A reader yields rows of UTF-8 fields. The first row of a file is its
 * header. Memory stays bounded whatever the file size: a row's fields are
 * valid until the next call to cb_reader_next().
 *
 * Structural problems (empty or binary file, invalid encoding, bad quoting,
 * truncated last line) stop the reader with CB_ERR_PROTO and a message in
 * err naming the line and column (1-based, in characters) and what was
 * expected.
 */
#ifndef CAREBASE_READER_H
#define CAREBASE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

enum cb_encoding { CB_ENC_AUTO, CB_ENC_UTF8, CB_ENC_GB18030 };
enum cb_format { CB_FMT_AUTO, CB_FMT_CSV, CB_FMT_TSV, CB_FMT_XLSX };

struct cb_reader_opts {
    enum cb_encoding encoding;  /* CB_ENC_AUTO: BOM, then UTF-8 validity */
    enum cb_format   format;    /* CB_FMT_AUTO: by content and extension */
};

struct cb_row {
    size_t         nfields;
    struct cb_str *fields;  /* UTF-8, quotes removed */
    struct cb_str  raw;     /* the row as it stood in the file, in UTF-8 */
    uint64_t       line;    /* 1-based line (row number for xlsx) */
    /*
     * A sparse row (cb_row_split with w->sparse set): fields[0..nset) are
     * only the non-empty fields, fields[k] being column cols[k]; nfields
     * still counts every column. cols is NULL in a dense row.
     */
    const uint16_t *cols;
    size_t          nset;
};

struct cb_reader;

/* Opens path. On failure *out is NULL and err says why. */
CB_MUST_CHECK enum cb_err cb_reader_open(struct cb_reader **out,
                                         const char *path,
                                         const struct cb_reader_opts *opts,
                                         struct cb_buf *err);

/* Next row: CB_OK, CB_EOF after the last row, or an error (see above). */
CB_MUST_CHECK enum cb_err cb_reader_next(struct cb_reader *r,
                                         struct cb_row *row,
                                         struct cb_buf *err);

/*
 * Reading in two steps, so that rows can be split on other threads:
 * cb_reader_next_raw finds the next row and makes every check that needs
 * the file (encoding, quotes left open at the end, row length);
 * cb_row_split splits its text into fields and makes the checks of one row
 * (quoting, number of fields, a truncated last line). cb_reader_next is
 * both. Read the header with cb_reader_next (it chooses the delimiter),
 * then take the splitter with cb_reader_splitter.
 */
#define CB_READER_MAX_FIELDS 4096

struct cb_raw_row {
    struct cb_str  text;     /* the row as it stood in the file (UTF-8), without
                                its line end; valid until the next call */
    uint64_t       line;     /* 1-based line of its start (xlsx: row number) */
    int            last;     /* the input ends with it, without a line end */
    int            quoted;   /* text has a '"': split with quote rules */
    size_t         nfields;  /* xlsx rows come split: */
    struct cb_str *fields;   /* the cells, or NULL (split text) */
};

/* What splitting a file's rows needs; fixed once the header is read. */
struct cb_splitter {
    char        delim;
    size_t      header_nfields;
    const char *path;        /* for messages; must outlive the splitter */
};

/* The memory of cb_row_split: one per splitting thread, zeroed to start. */
struct cb_split_work {
    struct cb_str *fields;
    uint16_t      *cols;     /* sparse rows */
    size_t         cap;      /* of both */
    struct cb_buf  buf;      /* unquoted text of quoted fields */
    int            sparse;   /* set by the caller: give rows without quotes
                                sparse (only their non-empty fields) */
};

CB_MUST_CHECK enum cb_err cb_reader_next_raw(struct cb_reader *r,
                                             struct cb_raw_row *row,
                                             struct cb_buf *err);
void cb_reader_splitter(const struct cb_reader *r, struct cb_splitter *sp);

/*
 * Splits raw into row (fields in w or in raw, raw text as row->raw; valid
 * while both are). Pure: any thread, one w per thread. Errors as for
 * cb_reader_next, naming sp->path and the row's line. Rows with quotes,
 * and xlsx rows, are always dense.
 */
CB_MUST_CHECK enum cb_err cb_row_split(const struct cb_splitter *sp,
                                       const struct cb_raw_row *raw,
                                       struct cb_split_work *w,
                                       struct cb_row *row,
                                       struct cb_buf *err);
void cb_split_work_release(struct cb_split_work *w);

enum cb_encoding cb_reader_encoding(const struct cb_reader *r);
enum cb_format   cb_reader_format(const struct cb_reader *r);
/* Bytes of the input consumed so far and its total size, for progress. */
void cb_reader_progress(const struct cb_reader *r, uint64_t *done,
                        uint64_t *total);
void cb_reader_free(struct cb_reader *r);

const char *cb_encoding_name(enum cb_encoding e);
const char *cb_format_name(enum cb_format f);

/* --- xlsx backend (src/io/xlsx.c), used by cb_reader for CB_FMT_XLSX --- */
struct cb_xlsx;
/* Opens the first worksheet of an .xlsx workbook. */
CB_MUST_CHECK enum cb_err cb_xlsx_open(struct cb_xlsx **out, const char *path,
                                       struct cb_buf *err);
/*
 * Next row of the first sheet, as text cells (shared strings resolved,
 * numbers as written in the XML, empty cells as empty fields, gaps in the
 * cell references filled with empty fields). row->line is the sheet's row
 * number; row->raw is the cells joined with TABs. Fields stay valid until
 * the next call. CB_EOF after the last row.
 */
CB_MUST_CHECK enum cb_err cb_xlsx_next(struct cb_xlsx *x, struct cb_row *row,
                                       struct cb_buf *err);
void cb_xlsx_progress(const struct cb_xlsx *x, uint64_t *done, uint64_t *total);
void cb_xlsx_free(struct cb_xlsx *x);

/* Whether p[0..n) is valid UTF-8 (RFC 3629), with the reader's validator. */
bool cb_utf8_valid(const void *p, size_t n);

#endif
