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
#include "carebase/drg.h"
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
    /*
     * DRG grouping of every accepted record, with the scheme chosen for it
     * (see store.h); NULL: no grouping. Used by the reading thread only.
     * Made by cb_import_drg_prepare; may serve several files.
     */
    struct cb_store_drg_chooser *drg;
    /*
     * Catalogues for the indicator facts of accepted records (spec c.0,
     * c.1); NULL: no facts are written. Call cb_store_fact_begin first.
     */
    const struct cb_catalogues *facts;
    enum cb_drg_translate drg_translate; /* the CLI's default: CB_DRG_TR_CODES */
    /*
     * Threads that split, check, group and encode rows while the reading
     * thread reads and the store thread writes (import only; checking
     * runs on the calling thread). 0: one per online processor, at most 8.
     */
    unsigned        workers;
};

/* Most schemes an import summary names (more are counted, not named). */
#define CB_IMPORT_DRG_SCHEMES 8

/* What grouping did during one import (stored records only). */
struct cb_import_drg {
    int      on;            /* the import grouped */
    uint64_t grouped;       /* accepted records stored with a DRG result */
    uint64_t no_scheme;     /* accepted records no installed scheme applies to */
    uint64_t status[CB_DRG_SS_NOT_MAPPING + 1]; /* per enum cb_drg_status */
    int      nschemes;      /* schemes used, in scheme[] */
    struct {
        int64_t  id;        /* drg_scheme.id */
        char     scheme[48];/* "chs-drg-1.1" */
        char     digest[16];/* the first 12 hex digits of its digest */
        uint64_t records;
    } scheme[CB_IMPORT_DRG_SCHEMES];
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
    struct cb_import_drg drg;       /* DRG grouping (drg.on = 0: none) */
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

/*
 * Gets st ready for grouping imports: when no scheme is installed, loads
 * the package in default_dir and installs it for everywhere and every
 * date; then reads the choice (cb_store_drg_chooser_new). A package that
 * does not load fails with the loader's message in err.
 */
CB_MUST_CHECK enum cb_err cb_import_drg_prepare(struct cb_store *st,
                                                const char *default_dir,
                                                struct cb_store_drg_chooser **out,
                                                struct cb_buf *err);

#endif
