/*
 * tsvfile.h - reading the project's own and the reference TSV data files.
 *
 * Format: UTF-8, one header line, TAB-separated, no quoting, LF or CRLF line
 * ends. Lines that are empty or start with '#' are skipped (after the header
 * too, so data files can carry comments).
 */
#ifndef CAREBASE_TSVFILE_H
#define CAREBASE_TSVFILE_H

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

#define CB_TSV_MAX_COLS 64

struct cb_tsv_line {
    const char    *path;   /* file being read */
    unsigned long  lineno; /* 1-based */
    size_t         ncols;
    struct cb_str  col[CB_TSV_MAX_COLS];
};

/*
 * Calls fn for every data line. header (may be NULL) receives the header
 * line first. fn returns CB_OK to go on; any other code stops the read and
 * is returned. Missing file: CB_ERR_NOT_FOUND with the path in err.
 */
typedef enum cb_err (*cb_tsv_fn)(const struct cb_tsv_line *line, void *ctx,
                                 struct cb_buf *err);

CB_MUST_CHECK enum cb_err cb_tsv_read(const char *path, cb_tsv_fn header,
                                      cb_tsv_fn fn, void *ctx,
                                      struct cb_buf *err);

/* Field k (0-based) of one TAB-separated line; ptr NULL when it has fewer. */
struct cb_str cb_tsv_field(struct cb_str line, int k);

/* Index of a header column by name, or -1. */
int cb_tsv_col(const struct cb_tsv_line *header, const char *name);

#endif
