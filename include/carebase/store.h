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

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/qc.h"
#include "carebase/record.h"

#define CB_SCHEMA_VERSION 1

/* First byte of a record's items in their binary layout (store_encode.c). */
#define CB_STORE_ITEMS_V1 '\x01'

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

/*
 * Bulk mode, for imports: checkpoints of the write-ahead log run on a
 * background connection instead of stalling the writer. End it (or close
 * the store) when the bulk work is done.
 */
CB_MUST_CHECK enum cb_err cb_store_bulk_begin(struct cb_store *st,
                                              struct cb_buf *err);
void cb_store_bulk_end(struct cb_store *st);

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

/* The stored name of a hospital into out (reset first); CB_ERR_NOT_FOUND if
 * the hospital or its name is unknown. */
CB_MUST_CHECK enum cb_err cb_store_hospital_name(struct cb_store *st,
                                                 const char *zzjgdm,
                                                 struct cb_buf *out,
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
/*
 * status: "complete" or "failed" (message says why). encoding (may be NULL)
 * corrects the one recorded at the start: a file that is ASCII at first can
 * turn out to be GB18030.
 */
CB_MUST_CHECK enum cb_err cb_store_file_finish(struct cb_store *st,
                                               int64_t file_id,
                                               const struct cb_import_counts *c,
                                               const char *status,
                                               const char *message,
                                               const char *encoding,
                                               struct cb_buf *err);

/* ---- records ---- */

enum cb_put_result {
    CB_PUT_INSERTED,
    CB_PUT_REPLACED,
    CB_PUT_UNCHANGED,
    CB_PUT_DUPLICATE  /* the key was already stored from this same file_id:
                         nothing written; the caller rejects it (QC-ID-02) */
};

/* One QC issue as stored (all text; borrowed). */
struct cb_store_issue {
    const char   *rule;      /* "QC-DATE-02" */
    const char   *severity;  /* "E" or "W" */
    const char   *field;     /* canonical key, or NULL */
    struct cb_str value;
    struct cb_str detail;
};

/* Integer columns of a record row; a bit in null_mask marks SQL NULL. */
enum cb_store_icol {
    CB_IC_ZYCS, CB_IC_RYSJ, CB_IC_CYSJ, CB_IC_CY_DAY, CB_IC_NL, CB_IC_AGE_DAYS,
    CB_IC_SJZYTS, CB_IC_ZFY, CB_IC_BIRTH_WEIGHT, CB_IC__COUNT
};

/* Text columns of a record row; empty = SQL NULL. */
enum cb_store_scol {
    CB_SC_ZZJGDM, CB_SC_JGMC, CB_SC_BAH, CB_SC_ZYCS_TEXT, CB_SC_RYKB,
    CB_SC_CYKB, CB_SC_ZZYS, CB_SC_XB, CB_SC_RYTJ, CB_SC_LYFS, CB_SC_JBDM,
    CB_SC_RYBQ, CB_SC_RYKB_NAME, CB_SC_CYKB_NAME, CB_SC__COUNT
};

/*
 * A row ready for the store: everything the database needs, already
 * encoded, with every string owned by the arena given to
 * cb_store_row_encode. Encoding is pure and may run on another thread than
 * the store (the importer's pipeline does).
 */
struct cb_store_row {
    uint64_t               line;
    int                    rejected;   /* store as a reject */
    int64_t                ival[CB_IC__COUNT];
    uint32_t               null_mask;  /* 1 << CB_IC_x: NULL */
    struct cb_str          sval[CB_SC__COUNT];
    struct cb_str          data;       /* items, binary layout (store_encode.c) */
    int                    data_compressed; /* data is already a zstd frame */
    struct cb_str          dx, px;     /* JSON (see docs/architecture.md) */
    struct cb_str          raw;        /* the raw line, for rejects */
    uint64_t               hash;       /* identity of the content */
    int                    nissues;    /* warnings, or every issue of a reject */
    struct cb_store_issue *issues;
};

/* Work state of cb_store_row_encode: one per encoding thread. */
struct cb_store_encoder;
CB_MUST_CHECK enum cb_err cb_store_encoder_new(struct cb_store_encoder **out);
void cb_store_encoder_free(struct cb_store_encoder *e);

/*
 * Compresses row->data in place (into a), so that the store does not have
 * to: the importer calls it when the store thread is the slower one.
 */
CB_MUST_CHECK enum cb_err cb_store_row_compress(struct cb_store_row *row,
                                                struct cb_store_encoder *enc,
                                                struct cb_arena *a);

/*
 * Encodes r (normalised, parsed, checked: res) into row, copying what it
 * needs into a. rejected follows res->nerrors.
 */
CB_MUST_CHECK enum cb_err cb_store_row_encode(struct cb_store_row *row,
                                              const struct cb_fp *r,
                                              const struct cb_qc *qc,
                                              const struct cb_qc_result *res,
                                              struct cb_str raw, uint64_t line,
                                              struct cb_arena *a,
                                              struct cb_store_encoder *enc);

/*
 * Stores an encoded row: a reject (raw line, location, issues; open
 * rejects of the same key from earlier imports are marked superseded), or a record (hospital and
 * departments created when new; inserted, replaced with the earlier version
 * kept in history, or unchanged). A record whose key was already stored from
 * this same file_id becomes a reject with rule QC-ID-02 (*res =
 * CB_PUT_DUPLICATE).
 */
CB_MUST_CHECK enum cb_err cb_store_put(struct cb_store *st, int64_t file_id,
                                       const struct cb_store_row *row,
                                       enum cb_put_result *res,
                                       struct cb_buf *err);


/*
 * QC-ID-03 (overlapping stays of one patient) needs the stored records, so
 * cb_store_put applies it to each record it stores, as a warning on the
 * later one. Counts since the store was opened: warnings added, and how many
 * of them went to records that had no other warning.
 */
void cb_store_overlap_counts(const struct cb_store *st, uint64_t *warnings,
                             uint64_t *first_warning);

/* Marks open rejects of earlier files resolved whose key file_id accepted. */
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

/*
 * Runs one read-only statement and calls fn per row (status, reports,
 * `carebase sql`); a statement that would write is refused. The SQL
 * function fp_data(record.data) returns a record's items as JSON text.
 */
CB_MUST_CHECK enum cb_err cb_store_query(struct cb_store *st, const char *sql,
                                         cb_store_row_fn fn, void *ctx,
                                         struct cb_buf *err);

#endif
