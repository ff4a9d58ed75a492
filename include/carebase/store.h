/*
 * store.h - the embedded database: one SQLite file in WAL mode.
 *
 * The only module that includes sqlite3.h. It owns the schema (versioned,
 * migrated at open), the organisation tree, imported records with their
 * diagnoses and procedures, record history, rejects and import runs.
 * A store handle is used by one thread at a time: its connection is opened
 * without SQLite's own mutex (SQLITE_OPEN_NOMUTEX), so threads that share a
 * handle must serialise their calls themselves.
 */
#ifndef CAREBASE_STORE_H
#define CAREBASE_STORE_H

#include <stdint.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/drg.h"
#include "carebase/indicator.h"
#include "carebase/err.h"
#include "carebase/qc.h"
#include "carebase/record.h"

#define CB_SCHEMA_VERSION 11

/* First byte of a record's items in their binary layout (store_encode.c). */
#define CB_STORE_ITEMS_V1 '\x01'

/*
 * record.content_hash: a hash of the canonical items, dx and px. With this
 * bit set (a negative integer in SQL): cb_hash64_wide over the items in
 * layout V2 (schema v11 on). Without: cb_hash64 over layout V1, shifted
 * right by one, as databases before v11 stored it; the store compares a
 * row with such a record by computing that hash of the row.
 */
#define CB_STORE_HASH_V2 (UINT64_C(1) << 63)

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
 * background connection instead of stalling the writer; once the log is
 * past its limit (cb_store_set_wal_limit), a commit waits for them to
 * catch up, so that the next transaction writes the log from its start
 * again (without that the log would grow to the size of the import);
 * foreign keys are not enforced on this connection (the importer writes
 * only keys it has just read or created). Begin it outside a transaction;
 * end it (or close the store) outside one when the bulk work is done.
 */
CB_MUST_CHECK enum cb_err cb_store_bulk_begin(struct cb_store *st,
                                              struct cb_buf *err);
void cb_store_bulk_end(struct cb_store *st);
/* The log size, in pages, past which a bulk commit waits (<= 0: 16384). */
void cb_store_set_wal_limit(struct cb_store *st, int frames);

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

/* ==== DRG results ======================================================== */
/*
 * Installed DRG schemes (drg_scheme: one row per package version), where
 * and when each applies (drg_scheme_use: a region or everywhere, a range
 * of discharge days), and one result per accepted record (drg_result). The
 * code is in store_drg.c; docs/architecture.md describes the choice.
 *
 * The scheme for a record: among the uses whose date range contains the
 * discharge day (NULL bounds are open), a use whose region (org_group of
 * kind 'region') contains the record's hospital beats a national one
 * (region NULL); among equals the latest valid_from wins (NULL = earliest),
 * then the highest use id. A record without a discharge day matches only
 * uses with both bounds open.
 */

/* A record's DRG result on its way to drg_result (fixed size, no pointers
 * into per-row memory, so it travels in an importer chunk as it is). */
struct cb_store_drg {
    int64_t     scheme_id;  /* drg_scheme.id; 0 = not grouped (drg_result
                               left alone), -1 = no installed scheme applies
                               (any earlier result is deleted) */
    const char *choice;     /* why this scheme; owned by the chooser */
    int16_t     slot;       /* the chooser's scheme index, -1 when none */
    uint8_t     status;     /* enum cb_drg_status */
    int8_t      mcc, cc;    /* 0/1, -1 = not computed (stored as NULL) */
    char        mdc[CB_DRG_CODE_MAX], adrg[CB_DRG_CODE_MAX], drg[CB_DRG_CODE_MAX];
    char        unmapped[CB_DRG_CODE_MAX + 24]; /* "dx:CODE" / "px:CODE" or "" */
};

/*
 * Records a loaded scheme in drg_scheme (the same scheme id and digest
 * reuse their row; its path is updated to the package's absolute path).
 * *created (may be NULL) says whether the row is new.
 */
CB_MUST_CHECK enum cb_err cb_store_drg_scheme_put(struct cb_store *st,
                                                  const struct cb_drg_scheme *s,
                                                  int64_t *scheme_id,
                                                  int *created,
                                                  struct cb_buf *err);

/*
 * Adds a use of an installed scheme. region: the code or the name of an
 * org_group of kind 'region', NULL for everywhere (CB_ERR_NOT_FOUND when
 * unknown). from/to: discharge days, inclusive; NULL for an open bound
 * (CB_ERR_USAGE when from > to). An identical use is not added twice:
 * *use_id (may be NULL) is then the existing one.
 */
CB_MUST_CHECK enum cb_err cb_store_drg_use_add(struct cb_store *st,
                                               int64_t scheme_id,
                                               const char *region,
                                               const int64_t *from,
                                               const int64_t *to,
                                               int64_t *use_id,
                                               struct cb_buf *err);
/* Removes a use; CB_ERR_NOT_FOUND when there is none with that id. */
CB_MUST_CHECK enum cb_err cb_store_drg_use_remove(struct cb_store *st,
                                                  int64_t use_id,
                                                  struct cb_buf *err);
/* Number of uses (0: no scheme is installed for grouping). */
CB_MUST_CHECK enum cb_err cb_store_drg_use_count(struct cb_store *st,
                                                 int64_t *n,
                                                 struct cb_buf *err);
/*
 * A new version of a scheme: every use of another version of the same
 * scheme id (drg_scheme.scheme) is pointed at scheme_id. *nuses: the uses
 * of that scheme id now on scheme_id (those moved and those already there).
 */
CB_MUST_CHECK enum cb_err cb_store_drg_use_replace(struct cb_store *st,
                                                   int64_t scheme_id,
                                                   int64_t *nuses,
                                                   struct cb_buf *err);
/*
 * Lists installed schemes with their uses, one row per use (a scheme
 * without uses gives one row with an empty use): use, scheme_id, scheme,
 * name, digest (first 12 hex digits), region, valid_from, valid_to (ISO
 * dates), records (results stored with the scheme), path.
 */
CB_MUST_CHECK enum cb_err cb_store_drg_list(struct cb_store *st,
                                            cb_store_row_fn fn, void *ctx,
                                            struct cb_buf *err);

/*
 * The choice of a scheme per record, cheap enough to make for every
 * record: the uses and the hospitals' region memberships are read once,
 * when the chooser is made; a scheme is loaded (and checked against the
 * digest it was installed with) the first time a record needs it, and
 * keeps one struct cb_drg_work, so grouping allocates nothing after that.
 * One chooser is used by one thread at a time, except for grouping with
 * cb_store_drg_chooser_group_on, which several threads may call at once
 * (each with its own thread index, below cb_store_drg_chooser_threads). It
 * does not use st after cb_store_drg_chooser_new returns.
 */
struct cb_store_drg_chooser;

CB_MUST_CHECK enum cb_err cb_store_drg_chooser_new(struct cb_store *st,
                                                   struct cb_store_drg_chooser **out,
                                                   struct cb_buf *err);
void cb_store_drg_chooser_free(struct cb_store_drg_chooser *c);

/*
 * Hands an already loaded scheme to the chooser (which then owns it), so
 * that it is not loaded again: it serves the installed row with the same
 * scheme id and digest, and is freed at once if there is none.
 */
void cb_store_drg_chooser_take_scheme(struct cb_store_drg_chooser *c,
                                      struct cb_drg_scheme *s);

/* Number of uses; 0 means nothing can be grouped. */
int cb_store_drg_chooser_nuses(const struct cb_store_drg_chooser *c);

/*
 * The use for a record of hospital zzjgdm discharged on day (has_day = 0:
 * unknown): an index for cb_store_drg_chooser_group_use, or -1.
 */
int cb_store_drg_chooser_pick(const struct cb_store_drg_chooser *c,
                              struct cb_str zzjgdm, int has_day, int64_t day);
/* The drg_scheme.id of a use's scheme. */
int64_t cb_store_drg_chooser_use_scheme(const struct cb_store_drg_chooser *c,
                                        int use);

/*
 * Groups fp with the scheme of use (from cb_store_drg_chooser_pick; -1
 * gives scheme_id -1) into out. tr is the code translation; a scheme
 * without maps/ groups untranslated. Fails only when the scheme cannot be
 * loaded or has changed since it was installed (message in err), or on
 * CB_ERR_NOMEM.
 */
CB_MUST_CHECK enum cb_err cb_store_drg_chooser_group_use(struct cb_store_drg_chooser *c,
                                                         int use,
                                                         const struct cb_fp *fp,
                                                         enum cb_drg_translate tr,
                                                         struct cb_store_drg *out,
                                                         struct cb_buf *err);
/* Both steps: the hospital (ZZJGDM) and discharge day (CYSJ) come from fp. */
CB_MUST_CHECK enum cb_err cb_store_drg_chooser_group(struct cb_store_drg_chooser *c,
                                                     const struct cb_fp *fp,
                                                     enum cb_drg_translate tr,
                                                     struct cb_store_drg *out,
                                                     struct cb_buf *err);

/*
 * Grouping from n threads at once: each loaded scheme gets n work areas.
 * Call it while no thread groups. Then cb_store_drg_chooser_group_on with
 * thread 0..n-1 (one thread per index) is safe to call concurrently; a
 * scheme is loaded by the first thread that needs it while the others
 * wait. The other functions stay one thread at a time (thread 0).
 */
CB_MUST_CHECK enum cb_err cb_store_drg_chooser_threads(struct cb_store_drg_chooser *c,
                                                       int n);
CB_MUST_CHECK enum cb_err cb_store_drg_chooser_group_on(struct cb_store_drg_chooser *c,
                                                        int thread,
                                                        const struct cb_fp *fp,
                                                        enum cb_drg_translate tr,
                                                        struct cb_store_drg *out,
                                                        struct cb_buf *err);

/* The installed schemes the chooser knows (slots of struct cb_store_drg). */
int cb_store_drg_chooser_nschemes(const struct cb_store_drg_chooser *c);
/* A slot's drg_scheme.id, scheme id ("chs-drg-1.1") and digest. */
void cb_store_drg_chooser_scheme(const struct cb_store_drg_chooser *c, int slot,
                                 int64_t *id, const char **scheme,
                                 const char **digest);

/*
 * Fills fp (reset first, parsed after, as the importer leaves it) from a
 * stored record: data is record.data (the compressed items) and dx, px the
 * record's dx and px JSON texts. Every view points into a, which must
 * outlive fp's use. CB_ERR_PROTO on a damaged payload. Uses st's
 * decompression context: one thread at a time.
 */
CB_MUST_CHECK enum cb_err cb_store_record_decode(struct cb_store *st,
                                                 const void *data, size_t n,
                                                 struct cb_str dx,
                                                 struct cb_str px,
                                                 struct cb_fp *fp,
                                                 struct cb_arena *a,
                                                 struct cb_buf *err);

/* Called after each committed batch of a regroup with the records done. */
typedef void (*cb_store_progress_fn)(void *ctx, uint64_t done);

struct cb_store_regroup_opts {
    const char           *hospital;   /* ZZJGDM, or NULL for every hospital */
    int64_t               only_scheme;/* drg_scheme.id: regroup only records
                                         whose choice falls on it; 0 = all */
    enum cb_drg_translate translate;
    uint32_t              batch_rows; /* records per transaction; 0 = 20,000 */
    cb_store_progress_fn  progress;   /* may be NULL */
    void                 *progress_ctx;
    /* Catalogues and reference tables to re-derive each record's indicator
       fact too (after a catalogue change); NULL: only the DRG bits follow. */
    const struct cb_catalogues *facts;
    const struct cb_refdata    *rd;
};

struct cb_store_regroup_counts {
    uint64_t records;      /* stored records looked at */
    uint64_t grouped;      /* results written */
    uint64_t skipped;      /* choice not on only_scheme: left as they were */
    uint64_t no_scheme;    /* no installed scheme applies: result removed */
    uint64_t status[CB_DRG_SS_NOT_MAPPING + 1]; /* per enum cb_drg_status */
};

/*
 * Regroups stored records with the scheme now chosen for each (c made from
 * st), writing drg_result in transactions of batch_rows records. counts
 * are those of committed batches.
 */
CB_MUST_CHECK enum cb_err cb_store_drg_regroup(struct cb_store *st,
                                               struct cb_store_drg_chooser *c,
                                               const struct cb_store_regroup_opts *o,
                                               struct cb_store_regroup_counts *n,
                                               struct cb_buf *err);

/* ==== end of DRG results ================================================= */

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
 * cb_store_row_encode except raw (borrowed from the caller) and the
 * columns whose text lies inside raw (borrowed from it). Encoding is
 * pure and may run on another thread than the store (the importer's
 * workers do).
 */
struct cb_store_row {
    uint64_t               line;
    int                    rejected;   /* store as a reject */
    int64_t                ival[CB_IC__COUNT];
    uint32_t               null_mask;  /* 1 << CB_IC_x: NULL */
    struct cb_str          sval[CB_SC__COUNT];
    struct cb_str          data;       /* items, stored layout V2 (store_items.h) */
    struct cb_str          dx, px;     /* JSON (see docs/architecture.md) */
    struct cb_str          raw;        /* the raw line, for rejects */
    uint64_t               hash;       /* identity of the content: see below */
    uint64_t               patient_hash; /* cb_store_patient_hash(ZZJGDM, BAH) of an
                                          accepted row (cb_store_row_encode);
                                          0: the store computes it */
    int                    nissues;    /* warnings, or every issue of a reject */
    struct cb_store_issue *issues;
    struct cb_store_drg    drg;        /* the DRG result (scheme_id 0: none) */
    int                    has_fact;   /* fact below is set (accepted rows) */
    struct cb_str          transfer_to;/* YZZY_YLJG: the receiving institution (#2) */
    struct cb_fact         fact;       /* dimension ids are filled in by the store */
};

/* Work state of cb_store_row_encode: one per encoding thread. */
struct cb_store_encoder;
CB_MUST_CHECK enum cb_err cb_store_encoder_new(struct cb_store_encoder **out);
void cb_store_encoder_free(struct cb_store_encoder *e);

/*
 * Encodes r (normalised, parsed, checked: res) into row, copying what it
 * needs into a, with the items in their stored layout (row->data). raw is
 * not copied: it must stay valid, unchanged, as long as the row, and so
 * are the values of r that point inside it (the importer's come from the
 * row's text in its chunk). rejected follows res->nerrors.
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
 * The patient of a row, (ZZJGDM, BAH), as a hash: what the store's filter
 * of patients it has stored (QC-ID-03, store_record.c) is indexed by.
 * Computed by the encoding threads, so that the store thread need not.
 */
uint64_t cb_store_patient_hash(struct cb_str zzjgdm, struct cb_str bah);

/*
 * A hint that row is about to be stored on st (cb_store_put): starts
 * loading the memory that storing it reads at random (the patient filter),
 * so that it is in the cache by then. Changes nothing; optional.
 */
void cb_store_prefetch(const struct cb_store *st, const struct cb_store_row *row);


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

/* ---- facts (the indicator engine's input) ------------------------------ */

struct cb_engine;

/*
 * Starts a write generation for facts (import, regroup): facts written
 * from now on carry it, so that a running engine can load what changed.
 */
CB_MUST_CHECK enum cb_err cb_store_fact_begin(struct cb_store *st, struct cb_buf *err);

/*
 * Loads into e the facts with gen > since (0: all); *gen_out gets the
 * highest generation seen.
 */
CB_MUST_CHECK enum cb_err cb_store_facts_load(struct cb_store *st, struct cb_engine *e,
                                              int64_t since, int64_t *gen_out,
                                              struct cb_buf *err);

/* The DRG dictionary of the facts: calls fn(ctx, id, scheme, drg) per entry. */
typedef enum cb_err (*cb_store_dim_fn)(void *ctx, int64_t id, const char *scope,
                                       const char *code);
CB_MUST_CHECK enum cb_err cb_store_dim_list(struct cb_store *st, int which,
                                            cb_store_dim_fn fn, void *ctx,
                                            struct cb_buf *err);
enum { CB_DIM_DEPT = 0, CB_DIM_DOCTOR = 1, CB_DIM_DRG = 2 };

/*
 * The names behind the facts' dimension ids, for reports: hospitals (by
 * hospital id), departments and doctors (by dim id), DRGs and their scheme
 * (by dim_drg id). Unused ids are NULL / empty.
 */
struct cb_store_hosp {
    char zzjgdm[32];
    char name[128];
    char level[16];   /* 三级 / 二级 / 基层 / "" */
};

struct cb_store_names {
    struct cb_store_hosp *hosp;
    int                   nhosp;
    char                **dept;        /* the CYKB code */
    int                   ndept;
    char                **doctor;
    int                   ndoctor;
    char                **drg_code;
    int                   ndrg;
    char                **drg_scheme;
    int                   ndrg_scheme;
};

CB_MUST_CHECK enum cb_err cb_store_names_load(struct cb_store *st, struct cb_store_names *n,
                                              struct cb_buf *err);
void cb_store_names_release(struct cb_store_names *n);

/* ---- DRG references (spec c.4) ------------------------------------------- */

struct cb_ref_result;
struct cb_ref_drg;

struct cb_store_ref_info {
    int64_t id;
    char    name[128];
    char    scheme[64];
    char    region[128];      /* "" = every hospital */
    int32_t day_from, day_to; /* fact days; -1 = open */
    char    settings[512];    /* JSON */
    char    weights_file[512];
    char    created_at[32];
    int64_t cases, kept;
    double  pooled_mean, risk_mu, risk_sigma;
    int     graded;
};

/* Saves a computed reference; drg_codes[i] names DRG i of r. Replaces a
 * reference of the same name. */
CB_MUST_CHECK enum cb_err cb_store_reference_save(struct cb_store *st,
                                                  struct cb_store_ref_info *info,
                                                  const struct cb_ref_result *r,
                                                  const char *const *drg_codes,
                                                  struct cb_buf *err);

typedef enum cb_err (*cb_store_ref_drg_fn)(void *ctx, const char *drg,
                                           const struct cb_ref_drg *d);
struct cb_engine_ref;
/*
 * Loads a reference by name (NULL: the newest) mapped onto the engine's DRG
 * ids (n: the dim_drg names): ref's arrays are allocated (release with
 * cb_engine_ref_release); DRGs the reference lacks stay NAN / -1.
 * CB_ERR_NOT_FOUND (message in err) when there is no such reference.
 */
CB_MUST_CHECK enum cb_err cb_store_reference_map(struct cb_store *st, const char *name,
                                                 const struct cb_store_names *n,
                                                 struct cb_store_ref_info *info,
                                                 struct cb_engine_ref *ref,
                                                 struct cb_buf *err);

/* Loads a reference by name (NULL: the newest); CB_ERR_NOT_FOUND if none. */
CB_MUST_CHECK enum cb_err cb_store_reference_load(struct cb_store *st, const char *name,
                                                  struct cb_store_ref_info *info,
                                                  cb_store_ref_drg_fn fn, void *ctx,
                                                  struct cb_buf *err);

/* ---- users, sessions and the audit trail (store_user.c; schema v4, v8) - */
/*
 * The accounts of `carebase serve`. A user has one role and one scope: a
 * consortium_admin sees the hospitals of one org_group (scope_kind
 * "group", scope_code its code); a hospital_admin or department_viewer one
 * hospital (scope_kind "hospital", scope_code its ZZJGDM), the viewer only
 * its department. Passwords are stored as crypto_pwhash_str strings
 * (argon2id), sessions by the SHA-256 of their token: the database never
 * holds a credential that can be replayed.
 */

#define CB_USER_NAME_MAX  64   /* bytes, a user name */
#define CB_USER_CODE_MAX  128  /* bytes, a scope code or department code */
#define CB_PWHASH_MAX     128  /* bytes incl. NUL (crypto_pwhash_STRBYTES) */

struct cb_store_user {
    int64_t id;
    char    name[CB_USER_NAME_MAX];
    char    role[24];         /* consortium_admin | hospital_admin | department_viewer */
    char    scope_kind[12];   /* group | hospital */
    char    scope_code[CB_USER_CODE_MAX];
    char    department[CB_USER_CODE_MAX]; /* "" unless department_viewer */
    int     disabled;
    int     show_identifiers;             /* 1: may see patient identifiers
                                             (names, ID numbers) in case details */
    char    pw_hash[CB_PWHASH_MAX];       /* filled by cb_store_user_get only */
};

/*
 * Adds a user (u->id is set; u->disabled is ignored). CB_ERR_USAGE when the
 * name exists or a value is out of range (message in err), CB_ERR_NOT_FOUND
 * when the scope names no org_group (kind group) or hospital (kind hospital).
 */
CB_MUST_CHECK enum cb_err cb_store_user_add(struct cb_store *st, struct cb_store_user *u,
                                            struct cb_buf *err);
/* The user called name, with its password hash; CB_ERR_NOT_FOUND if none. */
CB_MUST_CHECK enum cb_err cb_store_user_get(struct cb_store *st, const char *name,
                                            struct cb_store_user *u, struct cb_buf *err);
/* Replaces a user's password hash and ends its sessions. */
CB_MUST_CHECK enum cb_err cb_store_user_set_password(struct cb_store *st, const char *name,
                                                     const char *pw_hash,
                                                     struct cb_buf *err);
/* Disables a user (it can no longer log in) and ends its sessions. */
CB_MUST_CHECK enum cb_err cb_store_user_disable(struct cb_store *st, const char *name,
                                                struct cb_buf *err);
/* Allows (on = 1) or forbids (0) a user to see patient identifiers in
 * case details; CB_ERR_NOT_FOUND when there is no such user. Takes effect
 * with the user's next request. */
CB_MUST_CHECK enum cb_err cb_store_user_set_identifiers(struct cb_store *st, const char *name,
                                                        int on, struct cb_buf *err);
/* Lists users without their hashes: id, name, role, scope_kind, scope_code,
 * department, disabled, created_at, sessions (active), show_identifiers. */
CB_MUST_CHECK enum cb_err cb_store_user_list(struct cb_store *st, int64_t now,
                                             cb_store_row_fn fn, void *ctx,
                                             struct cb_buf *err);

/* Stores a session: token_hash and csrf are hex text; expires_at unix seconds. */
CB_MUST_CHECK enum cb_err cb_store_session_put(struct cb_store *st, const char *token_hash,
                                               int64_t user_id, const char *csrf,
                                               int64_t expires_at, struct cb_buf *err);
/*
 * The user of a live session (not expired at now, user not disabled) into
 * u (pw_hash left empty) and its CSRF token into csrf (csrf_cap bytes);
 * CB_ERR_NOT_FOUND when there is none.
 */
CB_MUST_CHECK enum cb_err cb_store_session_get(struct cb_store *st, const char *token_hash,
                                               int64_t now, struct cb_store_user *u,
                                               char *csrf, size_t csrf_cap,
                                               struct cb_buf *err);
/* Ends one session (no error when it does not exist). */
CB_MUST_CHECK enum cb_err cb_store_session_delete(struct cb_store *st, const char *token_hash,
                                                  struct cb_buf *err);
/* Removes the sessions that expired before now. */
CB_MUST_CHECK enum cb_err cb_store_session_purge(struct cb_store *st, int64_t now,
                                                 struct cb_buf *err);

/* Appends an audit row: user_id 0 = no user; what must carry no patient data. */
CB_MUST_CHECK enum cb_err cb_store_audit_add(struct cb_store *st, int64_t user_id,
                                             const char *action, const char *what,
                                             struct cb_buf *err);

/*
 * The hospitals a scope covers (kind "group": the members of that
 * org_group; "hospital": that hospital), one row each: id, zzjgdm, name,
 * level, groups (the codes of the groupings it belongs to, separated by
 * the byte 0x1F: codes may contain spaces).
 */
CB_MUST_CHECK enum cb_err cb_store_scope_hospitals(struct cb_store *st,
                                                   const char *scope_kind,
                                                   const char *scope_code,
                                                   cb_store_row_fn fn, void *ctx,
                                                   struct cb_buf *err);
/*
 * Open rejects of the hospitals of a scope, newest first, at most limit
 * rejects; hospital (a ZZJGDM) and rule (a rule id) narrow them when not
 * NULL. One row per issue: id, file, line, zzjgdm, bah, zycs, status,
 * rule, severity, field, value, detail (rows of one reject are adjacent).
 */
CB_MUST_CHECK enum cb_err cb_store_scope_rejects(struct cb_store *st,
                                                 const char *scope_kind,
                                                 const char *scope_code,
                                                 const char *hospital, const char *rule,
                                                 int limit, cb_store_row_fn fn, void *ctx,
                                                 struct cb_buf *err);

#endif
