/*
 * cli_xlsx.c - one table as an .xlsx workbook (see cli_xlsx.h). The only
 * includer of xlsxwriter.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xlsxwriter.h>

#include "carebase/alloc.h"
#include "cli_xlsx.h"

#define XLSX_MAX_FORMATS 16
#define XLSX_CELL_MAX    32767   /* characters in one cell (Excel's limit) */

static const char truncated_mark[] = " …[truncated]";

/* Removes a failed file, if it is one (not a device or a pipe). */
static void
remove_regular(const char *path)
{
    struct stat sb;

    if (!stat(path, &sb) && S_ISREG(sb.st_mode))
        unlink(path);
}

struct xfmt {
    char        numfmt[48];
    lxw_format *f;
};

struct cli_xlsx {
    lxw_workbook          *wb;
    lxw_worksheet         *ws;
    const struct cli_xcol *cols;
    int                    ncols;
    lxw_format            *date;
    struct xfmt            fmts[XLSX_MAX_FORMATS];
    int                    nfmts;
    lxw_row_t              row;      /* the row being written (0 = header) */
    char                  *path;
    lxw_error              fail;     /* first write error, sticky */
    const char            *fail_what;
};

static void
note(struct cli_xlsx *x, lxw_error e, const char *what)
{
    if (e != LXW_NO_ERROR && x->fail == LXW_NO_ERROR) {
        x->fail = e;
        x->fail_what = what;
    }
}

/* The format for a number format string, made once per workbook. */
static lxw_format *
num_format(struct cli_xlsx *x, const char *numfmt)
{
    int i;

    if (!numfmt || !*numfmt)
        return NULL;
    for (i = 0; i < x->nfmts; i++)
        if (!strcmp(x->fmts[i].numfmt, numfmt))
            return x->fmts[i].f;
    /* A caller with more formats than this gets General: still a number. */
    if (x->nfmts == XLSX_MAX_FORMATS || strlen(numfmt) >= sizeof x->fmts[0].numfmt)
        return NULL;
    lxw_format *f = workbook_add_format(x->wb);
    if (!f)
        return NULL;
    format_set_num_format(f, numfmt);
    snprintf(x->fmts[x->nfmts].numfmt, sizeof x->fmts[0].numfmt, "%s", numfmt);
    x->fmts[x->nfmts++].f = f;
    return f;
}

struct cli_xlsx *
cli_xlsx_new(const char *path, const char *sheet, const struct cli_xcol *cols,
             int ncols, struct cb_buf *err)
{
    lxw_workbook_options o = { .constant_memory = LXW_TRUE, .tmpdir = NULL };
    struct cli_xlsx *x;
    lxw_format *head;
    FILE *probe;
    int i;

    /* libxlsxwriter opens the file only when closing: fail early instead,
       before the caller's work, when it cannot be written. */
    probe = fopen(path, "wb");
    if (!probe) {
        cb_errf(err, "cannot write '%s': %s", path, strerror(errno));
        return NULL;
    }
    fclose(probe);
    x = cb_calloc(1, sizeof *x);
    if (!x || !(x->path = cb_strdup(path))) {
        cb_free(x);
        cb_errf(err, "out of memory");
        remove_regular(path);
        return NULL;
    }
    x->cols = cols;
    x->ncols = ncols;
    x->wb = workbook_new_opt(path, &o);
    x->ws = x->wb ? workbook_add_worksheet(x->wb, sheet) : NULL;
    head = x->ws ? workbook_add_format(x->wb) : NULL;
    x->date = head ? workbook_add_format(x->wb) : NULL;
    if (!x->date) {
        cb_errf(err, "cannot create the workbook '%s'", path);
        if (x->wb)
            workbook_close(x->wb);
        remove_regular(path);
        cb_free(x->path);
        cb_free(x);
        return NULL;
    }
    format_set_bold(head);
    format_set_text_wrap(head);
    format_set_align(head, LXW_ALIGN_VERTICAL_CENTER);
    format_set_bg_color(head, 0xDDEBF7);
    format_set_bottom(head, LXW_BORDER_THIN);
    format_set_num_format(x->date, "yyyy-mm-dd");

    /* Two lines of header: Chinese above English. */
    note(x, worksheet_set_row(x->ws, 0, 32, NULL), "header");
    for (i = 0; i < ncols; i++) {
        char h[256];
        snprintf(h, sizeof h, "%s\n%s", cols[i].zh, cols[i].en);
        note(x, worksheet_set_column(x->ws, (lxw_col_t)i, (lxw_col_t)i,
                                     cols[i].width, NULL), "column width");
        note(x, worksheet_write_string(x->ws, 0, (lxw_col_t)i, h, head), "header");
    }
    worksheet_freeze_panes(x->ws, 1, 0);
    x->row = 1;
    return x;
}

/* Characters (code points) of UTF-8 s, and the byte length of its first max. */
static size_t
utf8_prefix(const char *s, size_t max, size_t *bytes)
{
    size_t n = 0, i = 0;

    *bytes = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (n == max)
            *bytes = i;
        n++;
    }
    if (n <= max)
        *bytes = i;
    return n;
}

void
cli_xlsx_text(struct cli_xlsx *x, int col, const char *s)
{
    size_t keep, n;

    if (!s || !*s || col < 0 || col >= x->ncols)
        return;
    n = utf8_prefix(s, XLSX_CELL_MAX - (sizeof truncated_mark - 1), &keep);
    if (n <= XLSX_CELL_MAX) {
        note(x, worksheet_write_string(x->ws, x->row, (lxw_col_t)col, s, NULL), "text");
        return;
    }
    /* Too long for a cell: say so in the cell rather than drop it. */
    char *cut = cb_malloc(keep + sizeof truncated_mark);
    if (!cut) {
        note(x, LXW_ERROR_MEMORY_MALLOC_FAILED, "text");
        return;
    }
    memcpy(cut, s, keep);
    memcpy(cut + keep, truncated_mark, sizeof truncated_mark);
    note(x, worksheet_write_string(x->ws, x->row, (lxw_col_t)col, cut, NULL), "text");
    cb_free(cut);
}

void
cli_xlsx_num(struct cli_xlsx *x, int col, double v, const char *numfmt)
{
    if (!isfinite(v) || col < 0 || col >= x->ncols)
        return;
    note(x, worksheet_write_number(x->ws, x->row, (lxw_col_t)col, v,
                                   num_format(x, numfmt ? numfmt : x->cols[col].numfmt)),
         "number");
}

void
cli_xlsx_date(struct cli_xlsx *x, int col, const char *iso)
{
    lxw_datetime dt = { 0 };
    int y, m, d;
    char tail;

    if (!iso || !*iso || col < 0 || col >= x->ncols)
        return;
    if (sscanf(iso, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1900 ||
        m < 1 || m > 12 || d < 1 || d > 31) {
        cli_xlsx_text(x, col, iso);
        return;
    }
    dt.year = y;
    dt.month = m;
    dt.day = d;
    note(x, worksheet_write_datetime(x->ws, x->row, (lxw_col_t)col, &dt, x->date), "date");
}

void
cli_xlsx_row_end(struct cli_xlsx *x)
{
    if (x->row + 1 >= LXW_ROW_MAX) {
        note(x, LXW_ERROR_WORKSHEET_INDEX_OUT_OF_RANGE, "more rows than one sheet holds");
        return;
    }
    x->row++;
}

void
cli_xlsx_describe(struct cli_xlsx *x, const char *title, const char *comments)
{
    lxw_doc_properties p;
    char t[512], c[512];

    /* The library copies the texts; local copies keep const out of it. */
    snprintf(t, sizeof t, "%s", title ? title : "");
    snprintf(c, sizeof c, "%s", comments ? comments : "");
    memset(&p, 0, sizeof p);
    p.title = title ? t : NULL;
    p.comments = comments ? c : NULL;
    note(x, workbook_set_properties(x->wb, &p), "document properties");
}

unsigned long
cli_xlsx_rows(const struct cli_xlsx *x)
{
    return (unsigned long)x->row - 1;
}

int
cli_xlsx_close(struct cli_xlsx *x, struct cb_buf *err)
{
    lxw_error e;
    int rc = 0;

    if (!x)
        return 0;
    if (x->ncols > 0)
        note(x, worksheet_autofilter(x->ws, 0, 0, x->row > 1 ? x->row - 1 : 0,
                                     (lxw_col_t)(x->ncols - 1)), "autofilter");
    e = workbook_close(x->wb);
    if (x->fail != LXW_NO_ERROR) {
        cb_errf(err, "cannot write '%s' (%s): %s", x->path, x->fail_what,
                lxw_strerror(x->fail));
        rc = -1;
    } else if (e != LXW_NO_ERROR) {
        cb_errf(err, "cannot write '%s': %s", x->path, lxw_strerror(e));
        rc = -1;
    }
    if (rc)
        remove_regular(x->path);
    cb_free(x->path);
    cb_free(x);
    return rc;
}
