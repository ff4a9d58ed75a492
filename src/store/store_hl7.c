/*
 * store_hl7.c - the HL7 message journal (include/carebase/journal.h).
 *
 * A journal is a store connection of its own (so the schema is migrated
 * like any other). What an ACK waits for is one fdatasync of the
 * write-ahead log; everything else is kept off that path:
 *
 * Durable commit. The connection runs with synchronous = NORMAL, so
 * COMMIT only write()s the frames, and cb_journal_commit then syncs the
 * log itself through SQLite's own handle of the -wal file (xSync, so a
 * new log's directory entry is synced too, as SQLite does). That is the
 * same durability as synchronous = FULL, which does exactly this write +
 * fdatasync inside COMMIT. Where NORMAL differs from FULL, and why none
 * of it weakens an ACK (SQLite 3.40 wal.c, sqlite3WalFrames and
 * walCheckpoint):
 *   - FULL pads the last frame of a commit to a sector boundary unless
 *     the file system is "powersafe overwrite"; the unix VFS is (psow=1,
 *     the default). cb_journal_open checks SQLITE_IOCAP_POWERSAFE_OVERWRITE
 *     (and that the database is in WAL mode at all) and keeps FULL where
 *     either is missing;
 *   - the log header written when the log starts over is synced by SQLite
 *     before any frame in NORMAL as in FULL (syncHeader, with the
 *     checkpoint sync flags, which NORMAL keeps). OFF would skip that
 *     sync: after a crash the old header could survive with the first
 *     old frames, which recovery would then replay over newer pages. Not
 *     an option;
 *   - checkpoints sync the log before copying it, and one that reaches the
 *     end of the log syncs the database before recording it, in NORMAL as
 *     in FULL; only such a checkpoint lets the log start over, so frames
 *     are overwritten only once what they held is durable in the database;
 *   - FULL makes a commit visible to other connections after its sync,
 *     NORMAL before. Nothing answers from another connection's view: the
 *     listener applies and acknowledges a batch after cb_journal_commit
 *     returned, and the next batch (duplicates) starts after that;
 *   - when the sync fails, FULL leaves the transaction invisible; here it
 *     is visible but maybe not on disk, and after a failed fsync Linux may
 *     have dropped the pages: the journal refuses every later transaction
 *     (CB_ERR_IO) until it is reopened, so nothing is acknowledged from a
 *     state that may not be on disk.
 *
 * Checkpoints. Automatic checkpoints are off on this connection. A thread
 * of the journal with its own connection (the checkpointer) copies the
 * log back into the database once it passes CKPT_FRAMES (16 MiB), with
 * PASSIVE checkpoints that never block the writer; their fsyncs are not
 * on any message's path. The log starts over (and commits then overwrite
 * the same file instead of growing it) only when, at the start of a
 * write transaction, every frame has been copied back: a checkpoint that
 * began while the listener was committing ends a commit or two short, so
 * the checkpointer goes again at once while that keeps making progress
 * (the remainder is a few pages), and at 1,000 messages/s one of them
 * soon ends in a gap between two commits. Under a sustained full load it
 * never does; past WAL_MAX_FRAMES (64 MiB) the writer itself runs a
 * RESTART checkpoint between batches (cb_journal_checkpoint_if_large),
 * waiting at most WAL_CKPT_WAIT_MS for readers. journal_size_limit cuts
 * the file back to 64 MiB when the log restarts.
 *
 * A log file of fixed size. While the file grows, each fdatasync also
 * has to commit its new size (a file-system journal commit): commits
 * took p50 0.32 / p99 3.8 ms while the log first grew to 16 MiB against
 * 0.22 / 0.9 ms once they overwrote it. So cb_journal_open writes zeros
 * up to WAL_PREALLOC past the end of the file (holding the write lock, so
 * no frame is being written there) and syncs them; a zero frame never
 * checksums, so recovery stops where the real log ends. Skipped where the
 * file system has less than PREALLOC_ROOM free: not worth filling a small
 * disk for.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/journal.h"
#include "store_int.h"

enum { J_PUT, J_LOOKUP, J_REPLAY, J__COUNT };

#define CKPT_FRAMES      1024           /* 16 MiB of 16 KiB pages */
#define WAL_PREALLOC     (24u << 20)    /* CKPT_FRAMES and what comes in while
                                           a checkpoint catches up (17-22 MB) */
#define PREALLOC_ROOM    (1ull << 30)   /* ... only with this much free space */
#define CKPT_BACKOFF_MS  50             /* after a checkpoint that got nowhere */
#define WAL_MAX_FRAMES   4096           /* 64 MiB */
#define WAL_SIZE_LIMIT   "67108864"     /* bytes kept when the log restarts */
#define WAL_CKPT_WAIT_MS 100
#define BUSY_TIMEOUT_MS  10000          /* as cb_store_open */

static const char *const jsql[J__COUNT] = {
    [J_PUT] =
        "INSERT INTO hl7_message(sender, control_id, received_ms, status,"
        " ack_code, event, raw, err_code, err_text)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"
        " ON CONFLICT (sender, control_id) DO NOTHING RETURNING seq",
    [J_LOOKUP] =
        "SELECT seq, status, ack_code, err_code, err_text FROM hl7_message"
        " WHERE sender = ?1 AND control_id = ?2",
    [J_REPLAY] =
        "SELECT seq, raw, received_ms, sender FROM hl7_message"
        " WHERE seq > ?1 AND status = 1 ORDER BY seq",
};

/* The checkpointer's state, shared with the writer's wal hook (mu). */
struct journal_ckpt {
    pthread_t        thread;
    bool             started;
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    bool             stop;
    int              frames;     /* the log's length after the last commit */
    uint64_t         commits;    /* commits seen by the hook */
    atomic_uint_least64_t complete;  /* checkpoints that reached the end */
};

struct cb_journal {
    struct cb_store *st;
    sqlite3_stmt    *stmt[J__COUNT];
    int              wal_frames;   /* frames in the log after the last commit */
    atomic_int       log_frames;   /* the same, for cb_journal_stats */
    atomic_uint_least64_t sync_us; /* time in the explicit syncs */
    atomic_uint_least64_t syncs;   /* their number */
    bool             own_sync;     /* NORMAL + the explicit sync (else FULL) */
    bool             broken;       /* a sync failed: refuse every transaction */
    atomic_uint_least64_t forced;  /* the writer's own checkpoints */
    struct journal_ckpt ckpt;
};

/* After each commit (writer's thread): how long the log is. */
static int
wal_hook(void *ctx, sqlite3 *db, const char *name, int nframes)
{
    struct cb_journal *j = ctx;

    (void)db;
    (void)name;
    j->wal_frames = nframes;
    atomic_store(&j->log_frames, nframes);
    if (j->ckpt.started) {
        pthread_mutex_lock(&j->ckpt.mu);
        j->ckpt.frames = nframes;
        j->ckpt.commits++;
        if (nframes >= CKPT_FRAMES)
            pthread_cond_signal(&j->ckpt.cv);
        pthread_mutex_unlock(&j->ckpt.mu);
    }
    return SQLITE_OK;
}

/* Waits on cv until ms from now (or a signal). */
static void
wait_ms(struct journal_ckpt *c, long ms)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&c->cv, &c->mu, &until);
}

/*
 * The checkpointer: a PASSIVE checkpoint whenever the log is past
 * CKPT_FRAMES and something was committed since the last one. One that
 * made progress but did not reach the end is repeated at once; one that
 * made none (a reader holds an old snapshot) waits CKPT_BACKOFF_MS.
 */
static void *
ckpt_main(void *arg)
{
    struct cb_journal *j = arg;
    struct journal_ckpt *c = &j->ckpt;
    sqlite3 *db = NULL;
    uint64_t tried_at = 0;
    int last_ckpt = -1;

    prctl(PR_SET_NAME, "cb-journal-ckpt", 0, 0, 0);
    if (sqlite3_open_v2(j->st->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;   /* the writer's own checkpoints keep the log bounded */
    }
    sqlite3_busy_timeout(db, 0);
    /* A new connection learns that the database is in WAL mode only when
       it first reads it; until then a checkpoint does nothing. */
    sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        int rc, nlog = -1, nckpt = -1;

        if (c->frames < CKPT_FRAMES || c->commits == tried_at) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        tried_at = c->commits;
        pthread_mutex_unlock(&c->mu);
        rc = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &nlog, &nckpt);
        pthread_mutex_lock(&c->mu);
        if (rc == SQLITE_OK && nckpt >= nlog) {
            atomic_fetch_add(&c->complete, 1);
            last_ckpt = -1;
        } else if (rc == SQLITE_OK && nckpt > last_ckpt) {
            last_ckpt = nckpt;   /* progress: the rest is small, go again */
            tried_at = 0;
        } else {
            last_ckpt = -1;
            if (!c->stop)
                wait_ms(c, CKPT_BACKOFF_MS);
        }
    }
    pthread_mutex_unlock(&c->mu);
    sqlite3_close(db);
    return NULL;
}

static void
ckpt_stop(struct journal_ckpt *c)
{
    if (!c->started)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    c->started = false;
}

/* The log file as SQLite holds it; NULL when it is not open. */
static sqlite3_file *
wal_file(struct cb_journal *j)
{
    sqlite3_file *f = NULL;

    if (sqlite3_file_control(j->st->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) != SQLITE_OK)
        return NULL;
    return f && f->pMethods ? f : NULL;
}

/*
 * Whether NORMAL + the explicit sync is as durable as FULL here: the
 * database is in WAL mode (a file system without shared memory leaves it
 * in rollback mode, where that argument does not hold) and the file
 * system needs no padding of the last frame (see the top).
 */
static bool
own_sync_possible(struct cb_journal *j)
{
    sqlite3_file *f = NULL;
    sqlite3_stmt *s = NULL;
    bool wal = false;

    if (sqlite3_prepare_v2(j->st->db, "PRAGMA journal_mode", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(s, 0);
        wal = mode && strcmp(mode, "wal") == 0;
    }
    sqlite3_finalize(s);
    if (!wal ||
        sqlite3_file_control(j->st->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
        !f || !f->pMethods)
        return false;
    return (f->pMethods->xDeviceCharacteristics(f) & SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
}

/* Extends the log file with zeros to WAL_PREALLOC (see the top). Best
 * effort: on any failure the log just grows as it goes. */
static void
wal_preallocate(struct cb_journal *j, const char *path)
{
    static const char zeros[64 * 1024];
    struct cb_buf ignored = CB_BUF_INIT;
    struct statvfs fs;
    sqlite3_file *wal;
    sqlite3_int64 size = 0;

    if (statvfs(path, &fs) != 0 || (unsigned long long)fs.f_bavail * fs.f_frsize < PREALLOC_ROOM)
        return;
    if (cb_store_begin(j->st, &ignored) != CB_OK)
        goto out;
    /* BEGIN IMMEDIATE holds the log's write lock: nobody appends frames. */
    if ((wal = wal_file(j)) && wal->pMethods->xFileSize(wal, &size) == SQLITE_OK &&
        size < (sqlite3_int64)WAL_PREALLOC) {
        int rc = SQLITE_OK;

        for (sqlite3_int64 off = size; rc == SQLITE_OK && off < (sqlite3_int64)WAL_PREALLOC;
             off += (sqlite3_int64)sizeof(zeros)) {
            sqlite3_int64 n = (sqlite3_int64)WAL_PREALLOC - off;

            rc = wal->pMethods->xWrite(wal, zeros, n < (sqlite3_int64)sizeof(zeros) ? (int)n
                                                     : (int)sizeof(zeros), off);
        }
        if (rc == SQLITE_OK)
            (void)wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    }
    cb_store_rollback(j->st);
out:
    cb_buf_release(&ignored);
}

enum cb_err
cb_journal_open(struct cb_journal **out, const char *path, struct cb_buf *err)
{
    struct cb_journal *j;
    enum cb_err rc;

    *out = NULL;
    if (!(j = cb_calloc(1, sizeof(*j))))
        return CB_ERR_NOMEM;
    pthread_mutex_init(&j->ckpt.mu, NULL);
    pthread_cond_init(&j->ckpt.cv, NULL);
    if ((rc = cb_store_open(&j->st, path, err)))
        goto fail;
    j->own_sync = own_sync_possible(j);
    if ((rc = cb__store_exec(j->st, j->own_sync ? "PRAGMA synchronous = NORMAL"
                                                : "PRAGMA synchronous = FULL", err)) ||
        (rc = cb__store_exec(j->st, "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT ";"
                                    "PRAGMA wal_autocheckpoint = 0", err)))
        goto fail;
    sqlite3_wal_hook(j->st->db, wal_hook, j);
    for (int i = 0; i < J__COUNT; i++)
        if (sqlite3_prepare_v3(j->st->db, jsql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &j->stmt[i], NULL) != SQLITE_OK) {
            rc = cb__store_fail(j->st, "cannot prepare a journal statement", err);
            goto fail;
        }
    wal_preallocate(j, path);
    /* Without the thread, the writer's own checkpoints keep the log bounded. */
    j->ckpt.started = pthread_create(&j->ckpt.thread, NULL, ckpt_main, j) == 0;
    *out = j;
    return CB_OK;
fail:
    cb_journal_close(j);
    return rc;
}

void
cb_journal_close(struct cb_journal *j)
{
    if (!j)
        return;
    ckpt_stop(&j->ckpt);
    for (int i = 0; i < J__COUNT; i++)
        sqlite3_finalize(j->stmt[i]);
    cb_store_close(j->st);   /* rolls back an open transaction */
    pthread_mutex_destroy(&j->ckpt.mu);
    pthread_cond_destroy(&j->ckpt.cv);
    cb_free(j);
}

enum cb_err
cb_journal_begin(struct cb_journal *j, struct cb_buf *err)
{
    if (j->broken) {
        cb_errf(err, "the journal could not be synced to disk earlier: restart to reopen it");
        return CB_ERR_IO;
    }
    return cb_store_begin(j->st, err);
}

enum cb_err
cb_journal_commit(struct cb_journal *j, struct cb_buf *err)
{
    enum cb_err rc = cb_store_commit(j->st, err);
    struct timespec t0, t1;
    sqlite3_file *wal;
    int src;

    /* A failed COMMIT may leave the transaction open: end it here. */
    if (rc) {
        cb_journal_rollback(j);
        return rc;
    }
    if (!j->own_sync)
        return CB_OK;   /* FULL: COMMIT synced the log */
    if (!(wal = wal_file(j))) {
        cb_errf(err, "cannot sync the journal: the write-ahead log is not open");
        j->broken = true;
        return CB_ERR_IO;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    src = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    atomic_fetch_add(&j->sync_us, (uint_least64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
                                                   (t1.tv_nsec - t0.tv_nsec) / 1000));
    atomic_fetch_add(&j->syncs, 1);
    if (src != SQLITE_OK) {
        cb_errf(err, "cannot sync the journal's write-ahead log (%s)", sqlite3_errstr(src));
        j->broken = true;
        return CB_ERR_IO;
    }
    return CB_OK;
}

void
cb_journal_rollback(struct cb_journal *j)
{
    cb_store_rollback(j->st);
}

bool
cb_journal_checkpoint_if_large(struct cb_journal *j)
{
    int rc, nlog = -1, nckpt = -1;

    if (j->wal_frames <= WAL_MAX_FRAMES || j->st->in_tx)
        return false;
    sqlite3_busy_timeout(j->st->db, WAL_CKPT_WAIT_MS);
    rc = sqlite3_wal_checkpoint_v2(j->st->db, NULL, SQLITE_CHECKPOINT_RESTART, &nlog, &nckpt);
    sqlite3_busy_timeout(j->st->db, BUSY_TIMEOUT_MS);
    /* Busy (the checkpointer, or readers): next time. Done when every
       frame of the log is in the database. */
    if (rc != SQLITE_OK || nckpt < nlog)
        return false;
    j->wal_frames = 0;
    atomic_fetch_add(&j->forced, 1);
    return true;
}

void
cb_journal_stats(struct cb_journal *j, struct cb_journal_stats *out)
{
    out->checkpoints = atomic_load(&j->ckpt.complete);
    out->forced_checkpoints = atomic_load(&j->forced);
    out->sync_us = atomic_load(&j->sync_us);
    out->syncs = atomic_load(&j->syncs);
    out->log_frames = (uint64_t)atomic_load(&j->log_frames);
}
static int
bind_text(sqlite3_stmt *s, int i, struct cb_str v)
{
    return sqlite3_bind_text(s, i, v.ptr ? v.ptr : "", (int)v.len, SQLITE_STATIC);
}

/* Reads the answer columns (seq, status, ack_code, err_code, err_text). */
static enum cb_err
read_answer(sqlite3_stmt *s, struct cb_journal_answer *a)
{
    const char *code = (const char *)sqlite3_column_text(s, 2);
    const void *text = sqlite3_column_text(s, 4);

    a->seq = sqlite3_column_int64(s, 0);
    a->status = (enum cb_journal_status)sqlite3_column_int(s, 1);
    snprintf(a->ack_code, sizeof(a->ack_code), "%s", code ? code : "AE");
    a->err_code = sqlite3_column_int(s, 3);
    cb_buf_reset(&a->err_text);
    if (text)
        return cb_buf_add(&a->err_text, text, (size_t)sqlite3_column_bytes(s, 4));
    return CB_OK;
}

enum cb_err
cb_journal_lookup(struct cb_journal *j, struct cb_str sender, struct cb_str control_id,
                  struct cb_journal_answer *a, struct cb_buf *err)
{
    sqlite3_stmt *s = j->stmt[J_LOOKUP];
    enum cb_err rc;
    int step;

    sqlite3_reset(s);
    if (bind_text(s, 1, sender) != SQLITE_OK || bind_text(s, 2, control_id) != SQLITE_OK)
        return cb__store_fail(j->st, "cannot look up a message", err);
    step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        rc = read_answer(s, a);
    else if (step == SQLITE_DONE)
        rc = CB_ERR_NOT_FOUND;
    else
        rc = cb__store_fail(j->st, "cannot look up a message", err);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

enum cb_err
cb_journal_put(struct cb_journal *j, const struct cb_journal_entry *e, int64_t *seq,
               struct cb_journal_answer *dup, struct cb_buf *err)
{
    sqlite3_stmt *s = j->stmt[J_PUT];
    enum cb_err rc = CB_OK;
    int step;

    *seq = 0;
    if (!e->sender.len || !e->control_id.len || !e->ack_code ||
        (e->status != CB_JOURNAL_ACCEPTED && e->status != CB_JOURNAL_REJECTED)) {
        cb_errf(err, "a journal entry needs a sender, a control id, a status and a code");
        return CB_ERR_USAGE;
    }
    sqlite3_reset(s);
    if (bind_text(s, 1, e->sender) || bind_text(s, 2, e->control_id) ||
        sqlite3_bind_int64(s, 3, e->received_ms) ||
        sqlite3_bind_int(s, 4, (int)e->status) ||
        sqlite3_bind_text(s, 5, e->ack_code, -1, SQLITE_STATIC) ||
        bind_str(s, 6, e->event) ||
        sqlite3_bind_blob(s, 7, e->raw.ptr ? e->raw.ptr : "", (int)e->raw.len,
                          SQLITE_STATIC) ||
        (e->err_code ? sqlite3_bind_int(s, 8, e->err_code) : sqlite3_bind_null(s, 8)) ||
        bind_str(s, 9, e->err_text)) {
        rc = cb__store_fail(j->st, "cannot store a message", err);
        goto out;
    }
    step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        *seq = sqlite3_column_int64(s, 0);
        step = sqlite3_step(s);
    }
    if (step != SQLITE_DONE) {
        rc = cb__store_fail(j->st, "cannot store a message", err);
        goto out;
    }
    if (!*seq && dup) {
        sqlite3_reset(s);
        rc = cb_journal_lookup(j, e->sender, e->control_id, dup, err);
        if (rc == CB_ERR_NOT_FOUND) {   /* ignored, yet not there: broken */
            cb_errf(err, "a duplicate message is not in the journal");
            rc = CB_ERR_DB;
        }
    }
out:
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

enum cb_err
cb_journal_replay(struct cb_journal *j, int64_t after, cb_journal_replay_fn fn, void *ctx,
                  int64_t *last, struct cb_buf *err)
{
    sqlite3_stmt *s = j->stmt[J_REPLAY];
    enum cb_err rc = CB_OK;
    int step;

    if (last)
        *last = after;
    sqlite3_reset(s);
    if (sqlite3_bind_int64(s, 1, after) != SQLITE_OK)
        return cb__store_fail(j->st, "cannot replay the journal", err);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);
        const void *raw = sqlite3_column_blob(s, 1);
        struct cb_str r = cb_str_make(raw ? raw : "", (size_t)sqlite3_column_bytes(s, 1));
        int64_t ms = sqlite3_column_int64(s, 2);
        const char *snd = (const char *)sqlite3_column_text(s, 3);
        struct cb_str sender = cb_str_make(snd ? snd : "",
                                           (size_t)sqlite3_column_bytes(s, 3));

        if ((rc = fn(ctx, seq, r, ms, sender)))
            break;
        if (last)
            *last = seq;
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(j->st, "cannot replay the journal", err);
    sqlite3_reset(s);
    return rc;
}
