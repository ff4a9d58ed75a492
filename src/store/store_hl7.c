/*
 * store_hl7.c - the HL7 message journal (include/carebase/journal.h).
 *
 * A journal is a store connection of its own (so the schema is migrated
 * like any other) switched to synchronous = FULL: in WAL mode that makes
 * each COMMIT fsync the log, which is what lets the listener send AA.
 * Automatic checkpoints are off on this connection and run from the
 * store's background checkpointer instead (bulk mode): a checkpoint inside
 * a commit would add its fsyncs of the database file to the ACK latency.
 *
 * Those checkpoints are PASSIVE and run while the writer writes: with a
 * message every millisecond they never catch up with the end of the log,
 * so the log never starts over and grows without end (half a gigabyte
 * after 200,000 messages at full speed), every commit appending to it.
 * So the writer, between two batches (cb_journal_checkpoint_if_large):
 *   - past WAL_SMALL_FRAMES (8 MiB), runs a PASSIVE checkpoint itself,
 *     without waiting for anyone: most frames are copied back already by
 *     the background one, and with nobody writing meanwhile it reaches
 *     the end, so the next transaction starts the log over and commits
 *     overwrite the same 8 MiB instead of growing the file. Measured at
 *     1,000 messages/s: p99 ACK latency 1.5-2.3 ms against 2.1-7.7 ms
 *     with the background checkpoints alone;
 *   - past WAL_MAX_FRAMES (64 MiB: readers kept the passive ones from
 *     finishing), a RESTART checkpoint, waiting at most WAL_CKPT_WAIT_MS
 *     for readers.
 * journal_size_limit cuts the file back to 64 MiB when the log restarts.
 */
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/journal.h"
#include "store_int.h"

enum { J_PUT, J_LOOKUP, J_REPLAY, J__COUNT };

#define WAL_SMALL_FRAMES 512            /* 8 MiB of 16 KiB pages */
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

struct cb_journal {
    struct cb_store *st;
    sqlite3_stmt    *stmt[J__COUNT];
    int              wal_frames;   /* frames in the log after the last commit */
};

/* After each commit: how long the log is (sqlite3_wal_hook). */
static int
wal_hook(void *ctx, sqlite3 *db, const char *name, int nframes)
{
    struct cb_journal *j = ctx;

    (void)db;
    (void)name;
    j->wal_frames = nframes;
    return SQLITE_OK;
}

enum cb_err
cb_journal_open(struct cb_journal **out, const char *path, struct cb_buf *err)
{
    struct cb_journal *j;
    enum cb_err rc;

    *out = NULL;
    if (!(j = cb_calloc(1, sizeof(*j))))
        return CB_ERR_NOMEM;
    if ((rc = cb_store_open(&j->st, path, err)))
        goto fail;
    if ((rc = cb__store_exec(j->st, "PRAGMA synchronous = FULL;"
                                    "PRAGMA journal_size_limit = " WAL_SIZE_LIMIT, err)) ||
        (rc = cb_store_bulk_begin(j->st, err)))
        goto fail;
    /* After bulk mode, which turned the automatic checkpoints (a hook) off. */
    sqlite3_wal_hook(j->st->db, wal_hook, j);
    for (int i = 0; i < J__COUNT; i++)
        if (sqlite3_prepare_v3(j->st->db, jsql[i], -1, SQLITE_PREPARE_PERSISTENT,
                               &j->stmt[i], NULL) != SQLITE_OK) {
            rc = cb__store_fail(j->st, "cannot prepare a journal statement", err);
            goto fail;
        }
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
    for (int i = 0; i < J__COUNT; i++)
        sqlite3_finalize(j->stmt[i]);
    cb_store_close(j->st);   /* rolls back an open transaction */
    cb_free(j);
}

enum cb_err
cb_journal_begin(struct cb_journal *j, struct cb_buf *err)
{
    return cb_store_begin(j->st, err);
}

enum cb_err
cb_journal_commit(struct cb_journal *j, struct cb_buf *err)
{
    enum cb_err rc = cb_store_commit(j->st, err);

    /* A failed COMMIT may leave the transaction open: end it here. */
    if (rc)
        cb_journal_rollback(j);
    return rc;
}

void
cb_journal_rollback(struct cb_journal *j)
{
    cb_store_rollback(j->st);
}

bool
cb_journal_checkpoint_if_large(struct cb_journal *j)
{
    bool large = j->wal_frames > WAL_MAX_FRAMES;
    int rc, nlog = -1, nckpt = -1;

    if (j->wal_frames <= WAL_SMALL_FRAMES || j->st->in_tx)
        return false;
    sqlite3_busy_timeout(j->st->db, large ? WAL_CKPT_WAIT_MS : 0);
    rc = sqlite3_wal_checkpoint_v2(j->st->db, NULL,
                                   large ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE,
                                   &nlog, &nckpt);
    sqlite3_busy_timeout(j->st->db, BUSY_TIMEOUT_MS);
    /* Busy (the background checkpointer, or readers): next time. Done
       when every frame of the log is in the database. */
    if (rc != SQLITE_OK || nckpt < nlog)
        return false;
    j->wal_frames = 0;
    return true;
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
