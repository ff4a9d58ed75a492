/*
 * store.h - the embedded database: one SQLite file in WAL mode.
 *
 * The only module that includes sqlite3.h. It owns the schema (versioned,
 * migrated at open), the organisation tree, imported records with their
 * diagnoses and procedures, record history, rejects and import runs.
 * A store handle is used by one thread at a time.
 */
#ifndef CAREBASE_STORE_H
#define CAREBASE_STORE_H

#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/qc.h"
#include "carebase/record.h"

#define CB_SCHEMA_VERSION 1

struct cb_store;

/*
 * Opens (creating if needed) the database at path and migrates it to
 * CB_SCHEMA_VERSION. A database written by a newer Carebase is refused with
 * CB_ERR_SCHEMA and a message naming both versions.
 */
CB_MUST_CHECK enum cb_err cb_store_open(struct cb_store **out, const char *path,
                                        struct cb_buf *err);
void cb_store_close(struct cb_store *st);
int  cb_store_schema_version(const struct cb_store *st);

CB_MUST_CHECK enum cb_err cb_store_begin(struct cb_store *st, struct cb_buf *err);
CB_MUST_CHECK enum cb_err cb_store_commit(struct cb_store *st, struct cb_buf *err);
void cb_store_rollback(struct cb_store *st);

/* ---- organisations ---- */

/* Hospital id for an organisation code, creating it (with name) if new. */
CB_MUST_CHECK enum cb_err cb_store_hospital_ensure(struct cb_store *st,
                                                   struct cb_str zzjgdm,
                                                   struct cb_str name,
                                                   int64_t *id,
                                                   struct cb_buf *err);
/* Records that a hospital has a department (code, name); cheap when known. */
CB_MUST_CHECK enum cb_err cb_store_department_ensure(struct cb_store *st,
                                                     int64_t hospital_id,
                                                     struct cb_str code,
                                                     struct cb_str name,
                                                     struct cb_buf *err);

/* Creates or updates a hospital; NULL arguments leave a value unchanged. */
CB_MUST_CHECK enum cb_err cb_store_hospital_set(struct cb_store *st,
                                                const char *zzjgdm,
                                                const char *name,
                                                const char *level,
                                                struct cb_buf *err);
/* Creates or renames a grouping; kind is "consortium" or "region". */
CB_MUST_CHECK enum cb_err cb_store_group_set(struct cb_store *st,
                                             const char *kind,
                                             const char *code,
                                             const char *name,
                                             struct cb_buf *err);
/* Adds (or with remove=1 removes) a hospital to a grouping. */
CB_MUST_CHECK enum cb_err cb_store_group_member(struct cb_store *st,
                                                const char *group_code,
                                                const char *zzjgdm, int remove,
                                                struct cb_buf *err);

/* One row of a listing: n columns of text (NULL for SQL NULL). */
typedef enum cb_err (*cb_store_row_fn)(void *ctx, int ncols,
                                       const char *const *names,
                                       const char *const *values);

/* The organisation tree: groupings, hospitals, departments. */
CB_MUST_CHECK enum cb_err cb_store_list_groups(struct cb_store *st,
                                               cb_store_row_fn fn, void *ctx,
                                               struct cb_buf *err);
CB_MUST_CHECK enum cb_err cb_store_list_hospitals(struct cb_store *st,
                                                  cb_store_row_fn fn, void *ctx,
                                                  struct cb_buf *err);
CB_MUST_CHECK enum cb_err cb_store_list_departments(struct cb_store *st,
                                                    const char *zzjgdm,
                                                    cb_store_row_fn fn,
                                                    void *ctx,
                                                    struct cb_buf *err);

/* ---- import runs ---- */

struct cb_import_file {
    const char *path;
    const char *name;      /* base name */
    uint64_t    size;
    const char *profile;
    const char *encoding;
    const char *format;
};

struct cb_import_counts {
    uint64_t read, accepted, rejected;
    uint64_t inserted, replaced, unchanged;
    uint64_t warnings;     /* accepted records with at least one warning */
};

CB_MUST_CHECK enum cb_err cb_store_file_begin(struct cb_store *st,
                                              const struct cb_import_file *f,
                                              int64_t *file_id,
                                              struct cb_buf *err);
/* status: "complete" or "failed" (message says why). */
CB_MUST_CHECK enum cb_err cb_store_file_finish(struct cb_store *st,
                                               int64_t file_id,
                                               const struct cb_import_counts *c,
                                               const char *status,
                                               const char *message,
                                               struct cb_buf *err);

/* ---- records ---- */

enum cb_put_result {
    CB_PUT_INSERTED,
    CB_PUT_REPLACED,
    CB_PUT_UNCHANGED,
    CB_PUT_DUPLICATE  /* the key was already stored from this same file_id:
                         nothing written; the caller rejects it (QC-ID-02) */
};

/*
 * Stores an accepted record (keyed by hospital, BAH, ZYCS) with its
 * diagnoses, procedures and warnings. Identical content: CB_PUT_UNCHANGED
 * and nothing is written. Different content: the earlier version moves to
 * record_history and this one replaces it (QC-ID-02).
 */
CB_MUST_CHECK enum cb_err cb_store_put_record(struct cb_store *st,
                                              int64_t hospital_id,
                                              const struct cb_fp *r,
                                              const struct cb_qc *qc,
                                              const struct cb_qc_result *warn,
                                              int64_t file_id, uint64_t line,
                                              enum cb_put_result *res,
                                              struct cb_buf *err);

/*
 * Stores a rejected row: raw line (UTF-8), location and every failed rule
 * with field and value. Earlier open rejects of the same key are marked
 * superseded.
 */
CB_MUST_CHECK enum cb_err cb_store_put_reject(struct cb_store *st,
                                              int64_t file_id,
                                              uint64_t line,
                                              struct cb_str raw,
                                              const struct cb_fp *r,
                                              const struct cb_qc *qc,
                                              const struct cb_qc_result *res,
                                              struct cb_buf *err);

/* Marks open rejects resolved whose key was accepted from file_id. */
CB_MUST_CHECK enum cb_err cb_store_resolve_rejects(struct cb_store *st,
                                                   int64_t file_id,
                                                   struct cb_buf *err);

/*
 * Lists rejects with their issues (one row per issue). rule and file may be
 * NULL (no filter); all = 0 lists only open rejects.
 */
CB_MUST_CHECK enum cb_err cb_store_list_rejects(struct cb_store *st,
                                                const char *rule,
                                                const char *file, int all,
                                                cb_store_row_fn fn, void *ctx,
                                                struct cb_buf *err);

/* Runs a read-only query and calls fn per row (for status/reports/tests). */
CB_MUST_CHECK enum cb_err cb_store_query(struct cb_store *st, const char *sql,
                                         cb_store_row_fn fn, void *ctx,
                                         struct cb_buf *err);

#endif
