/*
 * feed.c - the listener's life: settings, start (journal, replay, socket,
 * threads), graceful stop, statistics, addresses and the log.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/netaddr.h"
#include "feed_int.h"

const double cb_feed_lat_le[CB_FEED_LAT_BUCKETS - 1] = {
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1
};

void
cb__feed_observe(_Atomic uint_least64_t *bucket, _Atomic uint_least64_t *sum_us, double secs)
{
    for (int b = 0; b < CB_FEED_LAT_BUCKETS - 1; b++)
        if (secs <= cb_feed_lat_le[b])
            atomic_fetch_add(&bucket[b], 1);
    atomic_fetch_add(&bucket[CB_FEED_LAT_BUCKETS - 1], 1);
    atomic_fetch_add(sum_us, (uint_least64_t)(secs > 0 ? secs * 1e6 : 0));
}

void
cb_feed_config_init(struct cb_feed_config *c)
{
    memset(c, 0, sizeof(*c));
    c->listen = CB_FEED_LISTEN_DEFAULT;
    c->max_message = CB_MLLP_MAX_DEFAULT;
    c->max_connections = 256;
    c->idle_timeout_s = 300;
    c->max_batch = 2048;
    c->max_pending = 1024;
    c->max_output = 256 * 1024;
    c->replay = true;
}

double
cb__feed_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
cb__feed_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
cb__feed_log(struct cb_feed *f, const char *fmt, ...)
{
    char line[512];
    uint64_t dropped = 0;
    double now = cb__feed_mono();
    va_list ap;
    int n;

    if (!f->cfg.log)
        return;
    /* At most 20 lines a second: a client sending garbage cannot flood
       the log; what is left out is counted and said with the next line. */
    pthread_mutex_lock(&f->log_mu);
    if (now - f->log_window >= 1.0) {
        f->log_window = now;
        f->log_lines = 0;
    }
    if (f->log_lines >= 20) {
        f->log_dropped++;
        pthread_mutex_unlock(&f->log_mu);
        return;
    }
    f->log_lines++;
    dropped = f->log_dropped;
    f->log_dropped = 0;
    pthread_mutex_unlock(&f->log_mu);

    n = snprintf(line, sizeof(line), "mllp: ");
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    if (dropped) {
        size_t len = strlen(line);
        snprintf(line + len, sizeof(line) - len, " (%llu lines left out before)",
                 (unsigned long long)dropped);
    }
    f->cfg.log(f->cfg.log_ctx, line);
}

void
cb__feed_queue_push(struct feed_queue *q, struct feed_item *it)
{
    it->next = NULL;
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->n++;
}

void
cb__feed_queue_join(struct feed_queue *dst, struct feed_queue *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->n += src->n;
    src->head = src->tail = NULL;
    src->n = 0;
}

void
cb__feed_item_free(struct feed_item *it)
{
    if (!it)
        return;
    if (it->has_msg)
        cb_hl7_release(&it->msg);
    cb_buf_release(&it->ack);
    cb_free(it);
}

struct replay_ctx {
    struct cb_feed *f;
    uint64_t        n;
};

static enum cb_err
replay_one(void *ctx, int64_t seq, struct cb_str raw, int64_t received_ms, struct cb_str sender)
{
    struct replay_ctx *r = ctx;

    r->f->h.apply(r->f->h.ctx, seq, raw, received_ms, sender);
    r->n++;
    return CB_OK;
}

static enum cb_err
open_listener(struct cb_feed *f, struct cb_buf *err)
{
    struct sockaddr_storage ss;
    unsigned sslen = 0;
    int one = 1;
    enum cb_err rc;

    if ((rc = cb_netaddr_parse("mllp_listen", f->listen, &ss, &sslen, f->host,
                                sizeof(f->host), &f->port, err)))
        return rc;
    f->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (f->lfd < 0)
        goto fail;
    setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(f->lfd, (struct sockaddr *)&ss, (socklen_t)sslen) < 0 ||
        listen(f->lfd, 512) < 0)
        goto fail;
    if (f->port == 0) {
        socklen_t len = sizeof(ss);
        if (getsockname(f->lfd, (struct sockaddr *)&ss, &len) < 0)
            goto fail;
        f->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    }
    return CB_OK;
fail:
    cb_errf(err, "cannot listen for MLLP on %s: %s", f->listen, strerror(errno));
    return CB_ERR_IO;
}

static void
feed_free(struct cb_feed *f)
{
    struct feed_item *it, *next;

    for (it = f->in.head; it; it = next) {
        next = it->next;
        cb__feed_item_free(it);
    }
    for (it = f->done.head; it; it = next) {
        next = it->next;
        cb__feed_item_free(it);
    }
    if (f->conns) {
        for (unsigned i = 0; i < f->nconns; i++)
            if (f->conns[i].fd >= 0) {
                close(f->conns[i].fd);
                cb_mllp_release(&f->conns[i].dec);
                cb_buf_release(&f->conns[i].out);
            }
        cb_free(f->conns);
    }
    if (f->lfd >= 0)
        close(f->lfd);
    if (f->epfd >= 0)
        close(f->epfd);
    if (f->wake_fd >= 0)
        close(f->wake_fd);
    cb_journal_close(f->journal);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->log_mu);
    cb_free(f->listen);
    cb_free(f);
}

static void
set_prefix(struct cb_feed *f)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t n = (uint64_t)cb__feed_now_ms();
    char tmp[16];
    int k = 0, len = 0;

    do {
        tmp[k++] = digits[n % 36];
        n /= 36;
    } while (n && k < (int)sizeof(tmp));
    f->ack_prefix[len++] = 'C';
    f->ack_prefix[len++] = 'B';
    while (k > 0 && len < (int)sizeof(f->ack_prefix) - 1)
        f->ack_prefix[len++] = tmp[--k];
    f->ack_prefix[len] = '\0';
}

enum cb_err
cb_feed_start(struct cb_feed **out, const struct cb_feed_config *cfg, const char *db_path,
              const struct cb_feed_handler *h, struct cb_buf *err)
{
    struct cb_feed *f;
    struct epoll_event ev = { 0 };
    enum cb_err rc;

    *out = NULL;
    if (!cfg->listen || !cfg->max_message || !cfg->max_connections || !cfg->max_batch ||
        !cfg->max_pending || !cfg->idle_timeout_s) {
        cb_errf(err, "the MLLP listener needs an address and nonzero limits");
        return CB_ERR_USAGE;
    }
    if (!(f = cb_calloc(1, sizeof(*f))))
        return CB_ERR_NOMEM;
    f->lfd = f->epfd = f->wake_fd = -1;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    pthread_mutex_init(&f->log_mu, NULL);
    atomic_init(&f->stopping, false);
    atomic_init(&f->ack_counter, 0);
    f->cfg = *cfg;
    if (h)
        f->h = *h;
    if (!(f->listen = cb_strdup(cfg->listen))) {
        rc = CB_ERR_NOMEM;
        goto fail;
    }
    f->cfg.listen = f->listen;
    set_prefix(f);

    if ((rc = cb_journal_open(&f->journal, db_path, err)))
        goto fail;
    if (f->cfg.replay && f->h.apply) {
        struct replay_ctx r = { f, 0 };
        if ((rc = cb_journal_replay(f->journal, 0, replay_one, &r, NULL, err)))
            goto fail;
        atomic_store(&f->st.replayed, r.n);
    }
    if ((rc = open_listener(f, err)))
        goto fail;

    f->nconns = cfg->max_connections;
    if (!(f->conns = cb_calloc(f->nconns, sizeof(*f->conns)))) {
        rc = CB_ERR_NOMEM;
        goto fail;
    }
    for (unsigned i = f->nconns; i-- > 0;) {
        f->conns[i].fd = -1;
        f->conns[i].next = f->free_conns;
        f->free_conns = &f->conns[i];
    }
    f->epfd = epoll_create1(EPOLL_CLOEXEC);
    f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->epfd < 0 || f->wake_fd < 0)
        goto fail_errno;
    ev.events = EPOLLIN;
    ev.data.u64 = UINT64_MAX;       /* the listener */
    if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->lfd, &ev) < 0)
        goto fail_errno;
    ev.data.u64 = UINT64_MAX - 1;   /* the wake-up */
    if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->wake_fd, &ev) < 0)
        goto fail_errno;

    if (pthread_create(&f->commit_thread, NULL, cb__feed_commit_main, f) != 0)
        goto fail_errno;
    f->commit_started = true;
    if (pthread_create(&f->net_thread, NULL, cb__feed_net_main, f) != 0) {
        pthread_mutex_lock(&f->mu);
        f->in_closed = true;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        pthread_join(f->commit_thread, NULL);
        goto fail_errno;
    }
    f->net_started = true;
    *out = f;
    return CB_OK;

fail_errno:
    cb_errf(err, "cannot start the MLLP listener: %s", strerror(errno));
    rc = CB_ERR_IO;
fail:
    feed_free(f);
    return rc;
}

int
cb_feed_port(const struct cb_feed *f)
{
    return f->port;
}

const char *
cb_feed_host(const struct cb_feed *f)
{
    return f->host;
}

void
cb_feed_stats(const struct cb_feed *f, struct cb_feed_stats *o)
{
    struct feed_atomic_stats *s = (struct feed_atomic_stats *)&f->st;

    memset(o, 0, sizeof(*o));
    o->connections_open = atomic_load(&s->connections_open);
    o->connections_total = atomic_load(&s->connections_total);
    o->connections_refused = atomic_load(&s->connections_refused);
    o->connections_timed_out = atomic_load(&s->connections_timed_out);
    o->received = atomic_load(&s->received);
    o->accepted = atomic_load(&s->accepted);
    o->rejected = atomic_load(&s->rejected);
    o->duplicate = atomic_load(&s->duplicate);
    o->unparseable = atomic_load(&s->unparseable);
    o->protocol_errors = atomic_load(&s->protocol_errors);
    o->too_large = atomic_load(&s->too_large);
    o->not_stored = atomic_load(&s->not_stored);
    o->batches = atomic_load(&s->batches);
    o->commit_failures = atomic_load(&s->commit_failures);
    o->commit_us = atomic_load(&s->commit_us);
    for (int i = 0; i < CB_FEED_LAT_BUCKETS; i++)
        o->commit_bucket[i] = atomic_load(&s->commit_bucket[i]);
    o->insert_us = atomic_load(&s->insert_us);
    o->checkpoint_us = atomic_load(&s->checkpoint_us);
    o->replayed = atomic_load(&s->replayed);
    o->checkpoints = atomic_load(&s->checkpoints);
    o->forced_checkpoints = atomic_load(&s->forced_checkpoints);
    o->sync_us = atomic_load(&s->sync_us);
    o->log_frames = atomic_load(&s->log_frames);
    o->acks = atomic_load(&s->acks);
    for (int i = 0; i < CB_FEED_LAT_BUCKETS; i++)
        o->ack_bucket[i] = atomic_load(&s->ack_bucket[i]);
    o->ack_count = atomic_load(&s->ack_count);
    o->ack_us = atomic_load(&s->ack_us);
}

void
cb_feed_stop(struct cb_feed *f)
{
    uint64_t one = 1;

    if (!f)
        return;
    atomic_store(&f->stopping, true);
    if (write(f->wake_fd, &one, sizeof(one)) < 0) {
        /* the counter is full: the loop is awake anyway */
    }
    if (f->net_started)
        pthread_join(f->net_thread, NULL);
    /* The network thread closes the committer's input before it exits. */
    if (f->commit_started)
        pthread_join(f->commit_thread, NULL);
    feed_free(f);
}
