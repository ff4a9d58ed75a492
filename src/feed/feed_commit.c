/*
 * feed_commit.c - the committer thread: group commit.
 *
 * While one batch is being made durable (the fsync of COMMIT), the network
 * thread queues the next; the committer then takes everything queued, up
 * to max_batch. So the batch grows with the load by itself: one message
 * per commit when it is quiet (lowest latency), thousands when it is busy
 * (one fsync for all of them).
 */
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "feed_int.h"

/* Copies a journal answer into the item (text into its message arena). */
static void
keep_answer(struct feed_item *it, const struct cb_journal_answer *a)
{
    struct feed_answer *s = &it->stored;

    memset(s, 0, sizeof(*s));
    snprintf(s->code, sizeof(s->code), "%s", a->ack_code);
    s->err_code = (enum cb_hl7_err_code)a->err_code;
    s->err_text = cb__feed_safe_text(&it->msg.arena, cb_buf_str(&a->err_text), 200);
}

/* Stores the journaled items of a batch in one transaction. */
static enum cb_err
store_batch(struct cb_feed *f, struct feed_item *head, unsigned n, struct cb_journal_answer *a,
            struct cb_buf *err)
{
    double t0 = cb__feed_mono();
    enum cb_err rc;

    if ((rc = cb_journal_begin(f->journal, err)))
        return rc;
    for (struct feed_item *it = head; n; it = it->next) {
        struct cb_journal_entry e;

        if (!it->journal)
            continue;
        n--;
        memset(&e, 0, sizeof(e));
        e.sender = it->sender;
        e.control_id = it->control_id;
        e.received_ms = it->received_ms;
        e.status = it->status;
        e.ack_code = it->own.code;
        e.event = it->event;
        e.raw = cb_str_make(it->raw, it->raw_len);
        e.err_code = (int)it->own.err_code;
        e.err_text = it->own.err_text;
        if ((rc = cb_journal_put(f->journal, &e, &it->seq, a, err)))
            goto fail;
        if (!it->seq) {
            it->dup = true;
            keep_answer(it, a);
        }
    }
    atomic_fetch_add(&f->st.insert_us, (uint_least64_t)((cb__feed_mono() - t0) * 1e6));
    if ((rc = cb_journal_commit(f->journal, err)))
        return rc;   /* rolled back */
    return CB_OK;
fail:
    cb_journal_rollback(f->journal);
    return rc;
}

static void
process(struct cb_feed *f, struct feed_item *head, struct cb_buf *scratch,
        struct cb_journal_answer *ans)
{
    struct cb_buf err = CB_BUF_INIT;
    char ts[FEED_TS_MAX];
    unsigned njournal = 0;
    struct feed_item *it;

    for (it = head; it; it = it->next)
        njournal += it->journal;
    if (njournal) {
        double t0 = cb__feed_mono();
        enum cb_err rc = store_batch(f, head, njournal, ans, &err);

        cb__feed_observe(f->st.commit_bucket, &f->st.commit_us, cb__feed_mono() - t0);
        atomic_fetch_add(&f->st.batches, 1);
        if (rc) {
            atomic_fetch_add(&f->st.commit_failures, 1);
            atomic_fetch_add(&f->st.not_stored, njournal);
            cb__feed_log(f, "%u messages not stored (answered AE): %s", njournal,
                         cb_buf_cstr(&err));
            for (it = head; it; it = it->next)
                if (it->journal) {
                    it->failed = true;
                    it->seq = 0;
                    it->dup = false;
                }
        }
    }
    /* Durable now: apply in journal order, then the answers. */
    for (it = head; it; it = it->next) {
        if (!it->journal || it->failed)
            continue;
        if (it->dup) {
            atomic_fetch_add(&f->st.duplicate, 1);
        } else if (it->status == CB_JOURNAL_ACCEPTED) {
            atomic_fetch_add(&f->st.accepted, 1);
            if (f->h.apply)
                f->h.apply(f->h.ctx, it->seq, cb_str_make(it->raw, it->raw_len),
                           it->received_ms, it->sender);
        } else {
            atomic_fetch_add(&f->st.rejected, 1);
        }
    }
    cb__feed_timestamp(ts);
    for (it = head; it; it = it->next)
        if (it->journal)
            cb__feed_ack_journaled(f, it, ts, scratch);
    cb_buf_release(&err);
}

void *
cb__feed_commit_main(void *arg)
{
    struct cb_feed *f = arg;
    struct cb_buf scratch = CB_BUF_INIT;
    struct cb_journal_answer ans;
    uint64_t one = 1;

    prctl(PR_SET_NAME, "cb-mllp-commit", 0, 0, 0);
    memset(&ans, 0, sizeof(ans));
    cb_buf_init(&ans.err_text, 64 * 1024);
    pthread_mutex_lock(&f->mu);
    for (;;) {
        struct feed_queue batch = { NULL, NULL, 0 };

        while (!f->in.head && !f->in_closed)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->in.head)
            break;   /* closed and drained */
        if (f->in.n <= f->cfg.max_batch) {
            cb__feed_queue_join(&batch, &f->in);
        } else {
            while (batch.n < f->cfg.max_batch) {
                struct feed_item *it = f->in.head;
                f->in.head = it->next;
                f->in.n--;
                cb__feed_queue_push(&batch, it);
            }
        }
        pthread_mutex_unlock(&f->mu);

        process(f, batch.head, &scratch, &ans);

        pthread_mutex_lock(&f->mu);
        cb__feed_queue_join(&f->done, &batch);
        pthread_mutex_unlock(&f->mu);
        if (write(f->wake_fd, &one, sizeof(one)) < 0) {
            /* the counter is full: the network thread is awake anyway */
        }
        /* The ACKs are out. Only when the journal's checkpointer cannot
           keep up (the log past 64 MiB) does this take the committer's
           time: the next batch waits for it. */
        {
            double t0 = cb__feed_mono();
            struct cb_journal_stats js;

            if (cb_journal_checkpoint_if_large(f->journal))
                atomic_fetch_add(&f->st.checkpoint_us,
                                 (uint_least64_t)((cb__feed_mono() - t0) * 1e6));
            cb_journal_stats(f->journal, &js);
            atomic_store(&f->st.checkpoints, js.checkpoints);
            atomic_store(&f->st.forced_checkpoints, js.forced_checkpoints);
            atomic_store(&f->st.sync_us, js.sync_us);
            atomic_store(&f->st.log_frames, js.log_frames);
        }
        pthread_mutex_lock(&f->mu);
    }
    f->commit_done = true;
    pthread_mutex_unlock(&f->mu);
    if (write(f->wake_fd, &one, sizeof(one)) < 0) {
        /* as above */
    }
    cb_buf_release(&scratch);
    cb_buf_release(&ans.err_text);
    return NULL;
}
