/*
 * import.h - the front-page pipeline: read -> map -> normalise -> check ->
 * store, one file at a time, streaming.
 *
 * Every data row ends up either accepted (stored, warnings kept with it) or
 * rejected (stored with its raw line, location and every failed rule):
 * read = accepted + rejected, always. Rows are committed in batches; an
 * interrupted import leaves the database as it was before the batch in
 * progress, and importing the file again completes it (records already
 * stored with the same content are counted as unchanged).
 */
#ifndef CAREBASE_IMPORT_H
#define CAREBASE_IMPORT_H

#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/profile.h"
#include "carebase/qc.h"
#include "carebase/reader.h"
#include "carebase/refdata.h"
#include "carebase/store.h"

/* Called every progress_every rows, and once at the end (done = 1). */
typedef void (*cb_import_progress_fn)(void *ctx, uint64_t rows,
                                      uint64_t bytes_done,
                                      uint64_t bytes_total, int done);

/* Called for every data row after checking (carebase check reports). */
typedef enum cb_err (*cb_import_row_fn)(void *ctx, uint64_t line,
                                        struct cb_str raw,
                                        const struct cb_fp *r,
                                        const struct cb_qc_result *res);

struct cb_import_opts {
    const struct cb_profiles *profiles;
    const char     *profile;        /* NULL: detect from the header */
    struct cb_reader_opts reader;
    const char     *hospital;       /* ZZJGDM for files that carry none */
    const char     *hospital_name;
    uint32_t        batch_rows;     /* rows per transaction; 0 = default */
    cb_import_progress_fn progress;
    void           *progress_ctx;
    uint32_t        progress_every;
    cb_import_row_fn on_row;        /* may be NULL */
    void           *row_ctx;
};

struct cb_import_summary {
    char            file[512];
    char            profile[32];
    enum cb_encoding encoding;
    enum cb_format  format;
    size_t          columns, ignored_columns;
    struct cb_import_counts counts;
    int             nrules;
    uint64_t       *rule_records;   /* per rule: records with >= 1 issue */
    uint64_t       *rule_issues;    /* per rule: issues */
    int             failed;         /* stopped by a malformed file */
};

void cb_import_summary_init(struct cb_import_summary *s);
void cb_import_summary_release(struct cb_import_summary *s);

/*
 * Imports one file into st (or, with st == NULL, only checks it). On a
 * malformed file returns CB_ERR_PROTO with file, line, column and what was
 * expected in err; rows already committed stay, the run is marked failed.
 */
CB_MUST_CHECK enum cb_err cb_import_file(const struct cb_import_opts *opts,
                                         struct cb_store *st,
                                         const struct cb_qc *qc,
                                         const struct cb_refdata *rd,
                                         const char *path,
                                         struct cb_import_summary *sum,
                                         struct cb_buf *err);

#endif
