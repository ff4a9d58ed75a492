/*
 * store_int.h - shared only by the files under src/store/.
 */
#ifndef CB_STORE_INT_H
#define CB_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "carebase/arena.h"
#include "carebase/store.h"
#include "carebase/strmap.h"
#include "store_codec.h"
#include "store_items.h"

enum stmt_id {
    S_REC_INSERT,
    S_REC_FIND,
    S_REC_TO_HISTORY,
    S_REC_UPDATE,
    S_REC_TOUCH,
    S_REC_OVERLAP,
    S_REC_ANY_OF_HOSP,
    S_REC_MAX_ID,
    S_REC_ADD_WARNING,
    S_WARN_INSERT,
    S_WARN_DELETE,
    S_REJ_INSERT,
    S_REJ_SUPERSEDE,
    S_REJ_ISSUE,
    S_HOSP_INSERT,
    S_HOSP_FIND,
    S_DEPT_INSERT,
    S_FACT_SET_DRG,
    S_FACT_SET_OUTCOME,
    S_FACT_CHANGE,
    S_OUTCOME_FIND,
    S_OUTCOME_INSERT,
    S_DIM_DEPT,
    S_DIM_DOCTOR,
    S_DIM_DRG,
    S__COUNT
};

/*
 * The columns of a record row in the order of the parameters that bind
 * them (store_record.c, bind_record): id is ?25 (S_REC_UPDATE's key).
 */
#define CB__RECORD_COLUMNS                                                      \
    "hospital_id, bah, zycs, content_hash, file_id, line, rysj, cysj, cy_day,"  \
    " rykb, cykb, zzys, xb, nl, age_days, rytj, lyfs, sjzyts, jbdm, rybq, zfy," \
    " birth_weight, n_warnings, data, id, dx, px"
#define CB__RECORD_NCOLS 27

/*
 * Fact rows wait here and go to the database CB__BATCH at a time, as one
 * INSERT ... SELECT from cb_rows (store_batch.c): one statement, and one
 * cursor, for many rows. They are flushed before a commit and before
 * anything on this connection that could read or change them; a rollback
 * drops them.
 */
#define CB__BATCH 64

/*
 * Rows in memory as the table-valued function cb_rows(?) (store_rows.c):
 * n rows of stride bytes from base; column(ctx, row, c) gives column c
 * (0..31) of a row with sqlite3_result_* (texts and blobs SQLITE_STATIC).
 */
struct cb__rows {
    const void *base;
    size_t      stride;
    int         n;
    void      (*column)(sqlite3_context *ctx, const void *row, int col);
};
int cb__rows_register(sqlite3 *db);
void cb__rows_bind(sqlite3_stmt *s, int i, const struct cb__rows *rows);

struct cb__fact_row {
    int64_t        id, hospital_id;  /* gen: st->fact_gen when flushed */
    int64_t        outcome;      /* drg_outcome.id; 0: none; < 0: keep */
    int64_t        grouped_at;   /* unix seconds, with an outcome */
    int            fresh;        /* of a record just inserted: no fact yet */
    struct cb_fact f;             /* dims filled in */
};

/*
 * A new record waiting to be inserted with others (store_record.c): the row
 * as given, its texts copied into st->rec_text, with the id it will have.
 */
struct cb__rec_row {
    int64_t             id, hospital_id, file_id;
    struct cb_store_row row;
};

struct cb_store {
    sqlite3          *db;
    char             *path;
    int               version;       /* schema version after open */
    int               in_tx;
    sqlite3_stmt     *stmt[S__COUNT];/* prepared lazily, finalised at close */
    struct cb_strmap  hosp_cache;    /* zzjgdm -> hospital id (fits 32 bits) */
    struct cb_strmap  dept_cache;    /* "id\x1fcode" -> 1 */
    uint64_t          overlaps;      /* QC-ID-03 warnings added by cb_store_put */
    uint64_t          overlaps_first_warning; /* ... on records with no other */
    /*
     * QC-ID-03 without a query where none can find anything
     * (store_record.c): per hospital id, whether it had no records when
     * this connection first stored one (1) or had some (2; 0 = not known
     * yet), and a Bloom filter of the (hospital, BAH) this connection has
     * stored since for the former. Forgotten when another connection
     * commits (data_version).
     */
    uint8_t          *ov_state;
    size_t            ov_cap;
    uint64_t         *ov_bloom;
    int64_t           data_version;
    int               dv_known;
    int64_t           keys_file;     /* file the set below belongs to */
    struct cb_strmap  rejected_keys; /* keys rejected from keys_file (QC-ID-02) */
    struct cb_codec  *codec;         /* fp_data() on this connection */
    struct cb_buf     fnbuf;         /* fp_data() output */
    struct cb_buf     zbuf;          /* the items of a record, out of their frame */
    struct cb_buf     items_text;    /* decoded typed items (store_items.h) */
    struct cb_str     items[CB_F__SCALARS]; /* a record's decoded items */
    /* Bulk mode: a second connection checkpoints the WAL in the background,
       and foreign keys are not enforced (fk_off). */
    int               bulk;
    int               fk_off;
    pthread_t         ckpt_thread;
    pthread_mutex_t   ckpt_mu;
    pthread_cond_t    ckpt_cv;
    int               ckpt_stop;
    int               ckpt_kick;     /* a commit since the last pass began */
    /* The log's size after the last commit (frames, the WAL hook), and
       passes of the checkpointer that left it fully copied (ckpt_mu). */
    int               wal_frames;
    int               wal_wrap_frames;   /* 0: WAL_WRAP_FRAMES */
    int               wal_next_wait;     /* log size of the next wait */
    int               ckpt_full_frames;  /* log size at the last full pass */
    int               ckpt_copied;       /* frames copied at the last pass */
    uint64_t          ckpt_passes;
    uint64_t          ckpt_begun;        /* passes begun */
    uint64_t          ckpt_done_begun;   /* ckpt_begun of the last pass done */
    pthread_cond_t    ckpt_done_cv;
    /* Facts (store_fact.c): dimension caches, scheme texts, generation. */
    struct cb_strmap  dim_cache[3];  /* dept, doctor, drg: "scope\x1fcode" -> id */
    struct cb_strmap  transfer_cache;/* "hospital\x1fname" -> 1 if a down-transfer */
    struct cb_strmap  outcome_cache; /* a DRG result's parts -> drg_outcome.id */
    struct cb_strmap  scheme_text;   /* drg_scheme.id (decimal) -> 1 + index */
    char            **scheme_names;
    int               nscheme_names;
    int64_t           scheme_last_id;/* the last scheme_of() answer */
    const char       *scheme_last;
    int64_t           fact_gen;      /* 0 until cb_store_fact_begin */
    /* The run of record ids whose facts were written since the last row
       of fact_change: [run_lo, run_hi] of generation run_gen (0: none). */
    int64_t           run_gen, run_lo, run_hi;
    /* Rows waiting to be written together (store_batch.c). */
    struct cb__fact_row fact_wait[CB__BATCH];
    int                 nfact_wait;
    sqlite3_stmt       *fact_batch, *fact_insert_batch;
    /*
     * New records of bulk mode (store_record.c): ids are given by the
     * store, from next_id (0: to be read in this transaction), so that a
     * record has its id before it is written.
     */
    struct cb__rec_row  rec_wait[CB__BATCH];
    int                 nrec_wait;
    struct cb_arena     rec_text;
    sqlite3_stmt       *rec_batch;     /* INSERT ... SELECT FROM cb_rows(?) */
    int64_t             next_id;
};

/* The prepared statement for id (prepared on first use); NULL on error. */
sqlite3_stmt *cb__store_stmt(struct cb_store *st, enum stmt_id id,
                             struct cb_buf *err);
/* Appends "what: sqlite message" to err and returns CB_ERR_DB. */
enum cb_err cb__store_fail(struct cb_store *st, const char *what,
                           struct cb_buf *err);
/* Executes one or more statements without results. */
enum cb_err cb__store_exec(struct cb_store *st, const char *sql,
                           struct cb_buf *err);

/*
 * The DRG result of record id for a row without a fact: written into the
 * fact the record has (or, for a record no scheme applies to, removed);
 * nothing when row->drg.scheme_id is 0 (store_fact.c). A row with a fact
 * carries its result in cb__store_put_fact.
 */
enum cb_err cb__store_put_drg(struct cb_store *st, int64_t id,
                              const struct cb_store_row *row, struct cb_buf *err);

/*
 * Writes the fact of record id with its DRG result (store_fact.c; a
 * scheme_id of 0 keeps the result there is); nothing when the row has
 * none. fresh: the record was inserted just now (so it has no fact).
 */
enum cb_err cb__store_put_fact(struct cb_store *st, int64_t id, int64_t hospital_id,
                               const struct cb_store_row *row, int fresh,
                               struct cb_buf *err);
/*
 * Notes that the fact of record id is written in this generation (its
 * run of ids goes to fact_change, store_fact.c), and writes that run.
 */
enum cb_err cb__store_fact_changed(struct cb_store *st, int64_t id, struct cb_buf *err);
enum cb_err cb__store_fact_run_write(struct cb_store *st, struct cb_buf *err);

/* Queues a fact to be written with others (store_batch.c). */
enum cb_err cb__store_queue_fact(struct cb_store *st, const struct cb__fact_row *f,
                                 struct cb_buf *err);
/* Writes what waits (before a commit, or a statement that needs it). */
enum cb_err cb__store_flush(struct cb_store *st, struct cb_buf *err);
/* Writes the waiting records (store_record.c); part of cb__store_flush. */
enum cb_err cb__store_flush_records(struct cb_store *st, struct cb_buf *err);
/* Drops the waiting records; fin: also their statements (store_record.c). */
void cb__store_records_drop(struct cb_store *st, int fin);
/* Drops what waits (rollback) and the batch statements (close: fin = 1). */
void cb__store_batch_drop(struct cb_store *st, int fin);

/*
 * Rewrites the DRG of record id's fact (regroup): its DRG id and grouped
 * flag, and its result; d->scheme_id <= 0: no result.
 */
enum cb_err cb__store_fact_set_drg(struct cb_store *st, int64_t id,
                                   const struct cb_store_drg *d, struct cb_buf *err);
void cb__store_fact_release(struct cb_store *st);

/* A stored record as the trace needs it (store_trace.c; all borrowed). */
struct cb__trace_record {
    int64_t       scheme_id;  /* drg_result.scheme_id; 0: no result stored */
    const void   *data;       /* record.data */
    size_t        n;
    struct cb_str dx, px;     /* record.dx, record.px */
    const char   *drg;        /* drg_result.drg and .status, or NULL */
    const char   *status;
};
struct cb_case_tracer;
/*
 * Writes the trace of r in Chinese into zh and in English into en (both
 * reset first) and, when json is not NULL, as a JSON object into json
 * (left empty when there is no trace). A record that cannot be traced (no
 * stored result, its scheme missing or changed since it was installed, a
 * damaged payload) gets the reason as its text. Fails only with
 * CB_ERR_NOMEM. Uses st's decompression context.
 */
enum cb_err cb__case_trace(struct cb_case_tracer *t, struct cb_store *st,
                           const struct cb__trace_record *r, struct cb_buf *zh,
                           struct cb_buf *en, struct cb_buf *json);

/*
 * Cache keys of the store's in-memory maps, built without printf (they are
 * made for every stored record). cb__key_id writes "<decimal id>\x1f<text>"
 * with text cut to maxlen bytes; cb__key_text the same with a text scope.
 * Both return the length, or 0 when the key does not fit in cap.
 */
static inline size_t
cb__key_id(char *buf, size_t cap, int64_t id, struct cb_str text, size_t maxlen)
{
    char digits[24];
    size_t nd = 0, n;
    uint64_t v = id < 0 ? (uint64_t)0 - (uint64_t)id : (uint64_t)id;

    do {
        digits[nd++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if (id < 0)
        digits[nd++] = '-';
    n = text.len > maxlen ? maxlen : text.len;
    if (nd + 1 + n > cap)
        return 0;
    for (size_t i = 0; i < nd; i++)
        buf[i] = digits[nd - 1 - i];
    buf[nd] = '\x1f';
    if (n)
        memcpy(buf + nd + 1, text.ptr, n);
    return nd + 1 + n;
}

static inline size_t
cb__key_text(char *buf, size_t cap, struct cb_str scope, struct cb_str text, size_t maxlen)
{
    size_t n = text.len > maxlen ? maxlen : text.len;

    if (scope.len + 1 + n > cap)
        return 0;
    if (scope.len)
        memcpy(buf, scope.ptr, scope.len);
    buf[scope.len] = '\x1f';
    if (n)
        memcpy(buf + scope.len + 1, text.ptr, n);
    return scope.len + 1 + n;
}

static inline int
bind_str(sqlite3_stmt *s, int i, struct cb_str v)
{
    if (!v.len)
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_text(s, i, v.ptr, (int)v.len, SQLITE_STATIC);
}

/* A C string, NULL or "" bound as NULL. */
static inline int
bind_textz(sqlite3_stmt *s, int i, const char *z)
{
    if (!z || !*z)
        return sqlite3_bind_null(s, i);
    return sqlite3_bind_text(s, i, z, -1, SQLITE_STATIC);
}

#endif
