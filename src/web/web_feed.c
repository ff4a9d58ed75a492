/*
 * web_feed.c - the MLLP listener inside `carebase serve`: its handler, which
 * turns each message into an ADT event for the live state, and its metrics.
 *
 * check (network thread): cb_adt_from_hl7 decides; a refusal is answered
 * AE or AR with its ERR (what, where) and stored as rejected. apply
 * (committer thread, after the batch is durable, in journal order; and the
 * replay at start): the stored text is parsed again and applied to the
 * live state with its journal position and received time, so the state is
 * a function of the journal: a restart rebuilds exactly what was
 * acknowledged. A stored message that no longer parses (it parsed before
 * it was stored) is counted, never applied.
 */
#include <stdatomic.h>
#include <string.h>

#include "carebase/adt.h"
#include "carebase/alloc.h"
#include "carebase/feed.h"
#include "web_int.h"

struct web_feed {
    struct cb_feed        *feed;
    struct cb_web_server  *s;
    struct cb_hl7_msg      msg;       /* apply's parser (committer thread only) */
    atomic_uint_least64_t  applied;   /* apply() calls, replay included */
    atomic_uint_least64_t  unapplied; /* stored but could not be applied */
};

static enum cb_feed_verdict
check_adt(void *ctx, struct cb_hl7_msg *m, struct cb_hl7_ack_opts *reject)
{
    struct web_feed *wf = ctx;
    struct cb_adt_event ev;
    struct cb_adt_reject why;
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc;

    rc = cb_adt_from_hl7_tz(m, wf->s->cfg.utc_offset_min, &ev, &why, &err);
    cb_buf_release(&err);
    if (!rc)
        return CB_FEED_ACCEPT;
    reject->code = why.ack;
    reject->err_code = why.code;
    reject->err_seg = why.seg;
    reject->err_seq = why.seq;
    reject->err_field = why.field;
    /* The text must outlive check: a copy in the message's arena. */
    reject->err_text = cb_arena_dup(&m->arena, why.text, strlen(why.text));
    if (!reject->err_text.ptr)
        reject->err_text = CB_STR_LIT("message refused");
    return CB_FEED_REJECT;
}

static void
apply_live(void *ctx, int64_t seq, struct cb_str raw, int64_t received_ms,
           struct cb_str sender)
{
    struct web_feed *wf = ctx;
    struct cb_hl7_msg *m = &wf->msg;
    struct cb_adt_event ev;
    struct cb_adt_reject why;
    struct cb_buf err = CB_BUF_INIT;
    int64_t local_ms = received_ms + (int64_t)wf->s->cfg.utc_offset_min * 60000;

    atomic_fetch_add(&wf->applied, 1);
    memset(m, 0, sizeof *m);
    if (cb_hl7_parse(m, raw, &err) ||
        cb_adt_from_hl7_tz(m, wf->s->cfg.utc_offset_min, &ev, &why, &err)) {
        atomic_fetch_add(&wf->unapplied, 1);
    } else {
        ev.sender = sender;
        if (cb_live_apply(wf->s->live, &ev, seq, local_ms))
            atomic_fetch_add(&wf->unapplied, 1);   /* out of memory */
    }
    cb_hl7_release(m);
    cb_buf_release(&err);
}

enum cb_err
cb__web_feed_start(struct cb_web_server *s, struct cb_buf *err)
{
    struct cb_feed_config fc;
    struct cb_feed_handler h;
    struct web_feed *wf;
    enum cb_err rc;

    if (!s->cfg.mllp_listen || !strcmp(s->cfg.mllp_listen, "off"))
        return CB_OK;
    if (!(wf = cb_calloc(1, sizeof(*wf))))
        return CB_ERR_NOMEM;
    atomic_init(&wf->applied, 0);
    atomic_init(&wf->unapplied, 0);
    wf->s = s;
    cb_feed_config_init(&fc);
    fc.listen = s->cfg.mllp_listen;
    fc.max_message = s->cfg.mllp_max_message;
    fc.max_connections = s->cfg.mllp_max_connections;
    fc.idle_timeout_s = s->cfg.mllp_idle_timeout_s;
    fc.log = s->log;
    fc.log_ctx = s->log_ctx;
    h.check = check_adt;
    h.apply = apply_live;
    h.ctx = wf;
    if ((rc = cb_feed_start(&wf->feed, &fc, s->cfg.db, &h, err))) {
        cb_free(wf);
        return rc;
    }
    s->feed = wf;
    return CB_OK;
}

void
cb__web_feed_stop(struct cb_web_server *s)
{
    if (!s->feed)
        return;
    cb_feed_stop(s->feed->feed);
    cb_free(s->feed);
    s->feed = NULL;
}

int
cb_web_mllp_port(const struct cb_web_server *s)
{
    return s->feed ? cb_feed_port(s->feed->feed) : 0;
}

const char *
cb_web_mllp_host(const struct cb_web_server *s)
{
    return s->feed ? cb_feed_host(s->feed->feed) : "";
}

static enum cb_err
counter(struct cb_buf *out, const char *name, const char *help, uint64_t v)
{
    return cb_buf_addf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name,
                       name, (unsigned long long)v);
}

/* A Prometheus histogram over cb_feed_lat_le (cumulative buckets). */
static enum cb_err
histogram(struct cb_buf *out, const char *name, const char *help, const uint64_t *bucket,
          uint64_t sum_us, uint64_t count)
{
    enum cb_err rc;

    if ((rc = cb_buf_addf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)))
        return rc;
    for (int b = 0; b < CB_FEED_LAT_BUCKETS; b++) {
        char le[16];
        if (b < CB_FEED_LAT_BUCKETS - 1)
            snprintf(le, sizeof(le), "%g", cb_feed_lat_le[b]);
        else
            snprintf(le, sizeof(le), "+Inf");
        if ((rc = cb_buf_addf(out, "%s_bucket{le=\"%s\"} %llu\n", name, le,
                              (unsigned long long)bucket[b])))
            return rc;
    }
    return cb_buf_addf(out, "%s_sum %.6f\n%s_count %llu\n", name, (double)sum_us / 1e6, name,
                       (unsigned long long)count);
}

enum cb_err
cb__web_feed_metrics(struct cb_web_server *s, struct cb_buf *out)
{
    struct cb_feed_stats st;
    enum cb_err rc;

    if (!s->feed)
        return CB_OK;
    cb_feed_stats(s->feed->feed, &st);
    if ((rc = cb_buf_addf(out,
            "# HELP carebase_mllp_connections_open MLLP connections open now.\n"
            "# TYPE carebase_mllp_connections_open gauge\n"
            "carebase_mllp_connections_open %llu\n",
            (unsigned long long)st.connections_open)) ||
        (rc = counter(out, "carebase_mllp_connections_total", "MLLP connections accepted.",
                      st.connections_total)) ||
        (rc = counter(out, "carebase_mllp_connections_refused_total",
                      "MLLP connections closed at once: max_connections were open.",
                      st.connections_refused)) ||
        (rc = counter(out, "carebase_mllp_connections_timed_out_total",
                      "MLLP connections closed after the idle timeout.",
                      st.connections_timed_out)) ||
        (rc = counter(out, "carebase_mllp_frames_total", "Complete MLLP frames received.",
                      st.received)) ||
        (rc = cb_buf_addf(out,
            "# HELP carebase_mllp_messages_total Messages by result: accepted and rejected"
            " (stored), duplicate (answered from the journal), unparseable and too_large"
            " (refused, not stored), not_stored (a commit failed: AE).\n"
            "# TYPE carebase_mllp_messages_total counter\n"
            "carebase_mllp_messages_total{result=\"accepted\"} %llu\n"
            "carebase_mllp_messages_total{result=\"rejected\"} %llu\n"
            "carebase_mllp_messages_total{result=\"duplicate\"} %llu\n"
            "carebase_mllp_messages_total{result=\"unparseable\"} %llu\n"
            "carebase_mllp_messages_total{result=\"too_large\"} %llu\n"
            "carebase_mllp_messages_total{result=\"not_stored\"} %llu\n",
            (unsigned long long)st.accepted, (unsigned long long)st.rejected,
            (unsigned long long)st.duplicate, (unsigned long long)st.unparseable,
            (unsigned long long)st.too_large, (unsigned long long)st.not_stored)) ||
        (rc = counter(out, "carebase_mllp_protocol_errors_total",
                      "Bytes outside MLLP frames, and frames cut short.",
                      st.protocol_errors)) ||
        (rc = counter(out, "carebase_mllp_batches_total",
                      "Journal transactions (group commits).", st.batches)) ||
        (rc = counter(out, "carebase_mllp_commit_failures_total",
                      "Journal transactions that failed (their messages got AE).",
                      st.commit_failures)) ||
        (rc = cb_buf_addf(out,
            "# HELP carebase_mllp_commit_seconds_total Time spent in journal transactions"
            " (BEGIN to the log synced).\n"
            "# TYPE carebase_mllp_commit_seconds_total counter\n"
            "carebase_mllp_commit_seconds_total %.6f\n"
            "# HELP carebase_mllp_insert_seconds_total Of which BEGIN and the INSERTs.\n"
            "# TYPE carebase_mllp_insert_seconds_total counter\n"
            "carebase_mllp_insert_seconds_total %.6f\n"
            "# HELP carebase_mllp_log_sync_seconds_total Of which the fdatasync of the"
            " write-ahead log.\n"
            "# TYPE carebase_mllp_log_sync_seconds_total counter\n"
            "carebase_mllp_log_sync_seconds_total %.6f\n"
            "# HELP carebase_mllp_checkpoint_seconds_total The committer's time in forced"
            " checkpoints.\n"
            "# TYPE carebase_mllp_checkpoint_seconds_total counter\n"
            "carebase_mllp_checkpoint_seconds_total %.6f\n"
            "# HELP carebase_mllp_log_frames Write-ahead log length after the last commit"
            " (pages).\n"
            "# TYPE carebase_mllp_log_frames gauge\n"
            "carebase_mllp_log_frames %llu\n",
            (double)st.commit_us / 1e6, (double)st.insert_us / 1e6, (double)st.sync_us / 1e6,
            (double)st.checkpoint_us / 1e6, (unsigned long long)st.log_frames)) ||
        (rc = histogram(out, "carebase_mllp_commit_duration_seconds",
                        "Journal transactions by duration (BEGIN to the log synced).",
                        st.commit_bucket, st.commit_us, st.batches)) ||
        (rc = counter(out, "carebase_mllp_acks_total", "ACK messages sent.", st.acks)) ||
        (rc = counter(out, "carebase_mllp_checkpoints_total",
                      "Journal checkpoints that reached the end of the log (off the ACK path).",
                      st.checkpoints)) ||
        (rc = counter(out, "carebase_mllp_forced_checkpoints_total",
                      "Checkpoints by the committer between batches (the log had passed 64 MiB).",
                      st.forced_checkpoints)) ||
        (rc = counter(out, "carebase_mllp_replayed_total",
                      "Stored messages applied from the journal at start.", st.replayed)) ||
        (rc = counter(out, "carebase_mllp_applied_total",
                      "Messages applied to the live state (replay included).",
                      atomic_load(&s->feed->applied))) ||
        (rc = counter(out, "carebase_mllp_unapplied_total",
                      "Stored messages the live state could not apply (should stay 0).",
                      atomic_load(&s->feed->unapplied))) ||
        (rc = histogram(out, "carebase_mllp_ack_latency_seconds",
                        "From a complete frame to its ACK queued for sending.",
                        st.ack_bucket, st.ack_us, st.ack_count)))
        return rc;
    return CB_OK;
}
