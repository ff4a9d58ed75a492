/*
 * cli_xlsx.h - one table as an .xlsx workbook for people (libxlsxwriter),
 * shared by `carebase indicators` and `carebase cases`.
 *
 * The workbook has one sheet: a bold header row whose cells read
 * "中文\nEnglish" (units in the header where a column has one unit),
 * frozen, with an autofilter and set column widths; then one row per
 * cli_xlsx_row_end(). Numbers are stored as numbers with a number format
 * (the stored value keeps full precision; the format only rounds what is
 * shown); a missing number (NAN) leaves its cell empty, and the caller
 * puts the reason in a note column. Dates are Excel dates.
 *
 * Rows are streamed to temporary files as they are finished (libxlsxwriter's
 * constant_memory mode), so a long listing does not grow memory. Write
 * errors are sticky: the first one is reported by cli_xlsx_close().
 */
#ifndef CB_CLI_XLSX_H
#define CB_CLI_XLSX_H

#include "carebase/buf.h"

struct cli_xcol {
    const char *zh;       /* header, Chinese */
    const char *en;       /* header, English */
    double      width;    /* column width in characters (a CJK character is 2) */
    const char *numfmt;   /* default format of the column's numbers; NULL: General */
};

struct cli_xlsx;

/*
 * Creates the workbook for path with one sheet (sheet: at most 31
 * characters, no []:*?/\) and writes the header row. cols is borrowed
 * until cli_xlsx_close. Returns NULL with a message in err on failure.
 */
struct cli_xlsx *cli_xlsx_new(const char *path, const char *sheet,
                              const struct cli_xcol *cols, int ncols,
                              struct cb_buf *err);

/*
 * Cells of the current row. s NULL or "" leaves the cell empty; text longer
 * than a cell holds (32,767 characters) is cut at a character boundary
 * with a visible "[truncated]" mark. numfmt NULL: the column's format;
 * a non-finite v leaves the cell empty. iso: "YYYY-MM-DD" (an Excel date
 * shown as such), anything else is written as text.
 */
void cli_xlsx_text(struct cli_xlsx *x, int col, const char *s);
void cli_xlsx_num(struct cli_xlsx *x, int col, double v, const char *numfmt);
void cli_xlsx_date(struct cli_xlsx *x, int col, const char *iso);
/* Ends the current row; the next cells go to a new row. */
void cli_xlsx_row_end(struct cli_xlsx *x);

/* The workbook's title and comments (document properties; NULL: none). */
void cli_xlsx_describe(struct cli_xlsx *x, const char *title, const char *comments);

/* Data rows written so far. */
unsigned long cli_xlsx_rows(const struct cli_xlsx *x);

/*
 * Finishes and writes the file, and frees x (NULL: no-op, returns 0).
 * Returns 0, or -1 with a message in err when this or an earlier write
 * failed; a failed file is removed.
 */
int cli_xlsx_close(struct cli_xlsx *x, struct cb_buf *err);

#endif
