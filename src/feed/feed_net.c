/*
 * feed_net.c - the network thread: one epoll loop (level-triggered) over
 * non-blocking sockets.
 *
 * Per connection: an MLLP decoder bounded by max_message and an output
 * buffer of ACKs. A frame becomes a struct feed_item: parsed and checked
 * here, queued for the committer with everything else read in the same
 * round (one lock per round). Frames refused without the journal get
 * their ACK here but still go through the committer's queue, so each
 * connection's ACKs leave in the order its messages came.
 *
 * Isolation: a connection whose pending messages or unsent ACKs reach
 * their limits is not read (EPOLLIN off) until they drain; writes that
 * would block wait for EPOLLOUT; nothing here ever blocks on one client.
 * A sweep once a second closes connections idle for idle_timeout_s.
 *
 * Stop: the listener closes, reading stops, the committer's input is
 * closed; once it has finished and its ACKs are queued, they are written
 * for at most FLUSH_S seconds, then every connection is closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "feed_int.h"

#define READ_CHUNK  (64 * 1024)
#define MAX_EVENTS  256
#define ID_LISTEN   UINT64_MAX
#define ID_WAKE     (UINT64_MAX - 1)
#define FLUSH_S     2.0
#define ERR_TEXT_MAX 200
#define OUT_KEEP    (64 * 1024)   /* an output buffer larger than this is
                                     freed once empty */
#define PENDING_BYTES (8u << 20)  /* message bytes of one connection at the
                                     committer before reading pauses */

enum phase { RUNNING, DRAINING, FLUSHING };

struct net {
    struct cb_feed   *f;
    struct feed_queue outq;      /* items made this round */
    struct feed_conn *dirty;     /* connections with new output */
    double            now;
    double            next_sweep;
    double            listen_resume; /* accept paused (EMFILE) until then */
    bool              listen_on;
    enum phase        phase;
    double            flush_until;
    char              rbuf[READ_CHUNK];
};

static uint64_t
conn_id(const struct cb_feed *f, const struct feed_conn *c)
{
    return (uint64_t)(c - f->conns) | ((uint64_t)c->gen << 32);
}

static struct feed_conn *
conn_by_id(struct cb_feed *f, uint64_t id)
{
    uint64_t slot = id & 0xffffffffu;
    struct feed_conn *c;

    if (slot >= f->nconns)
        return NULL;
    c = &f->conns[slot];
    if (c->fd < 0 || c->gen != (uint32_t)(id >> 32))
        return NULL;
    return c;
}

static size_t
unsent(const struct feed_conn *c)
{
    return c->out.len - c->out_off;
}

static bool
paused(const struct cb_feed *f, const struct feed_conn *c)
{
    return atomic_load(&f->stopping) || c->eof || c->pending >= f->cfg.max_pending ||
           c->pending_bytes >= PENDING_BYTES || unsent(c) >= f->cfg.max_output;
}

static void
update_interest(struct cb_feed *f, struct feed_conn *c)
{
    struct epoll_event ev = { 0 };
    uint32_t want = 0;

    if (c->fd < 0)
        return;
    if (!paused(f, c))
        want |= EPOLLIN;
    if (unsent(c))
        want |= EPOLLOUT;
    if (want == c->events)
        return;
    ev.events = want;
    ev.data.u64 = conn_id(f, c);
    if (epoll_ctl(f->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->events = want;
}

static void
close_conn(struct net *n, struct feed_conn *c, const char *why)
{
    struct cb_feed *f = n->f;

    if (why)
        cb__feed_log(f, "closing connection from %s: %s", c->peer, why);
    close(c->fd);   /* also leaves the epoll set */
    c->fd = -1;
    c->gen++;
    c->events = 0;
    cb_mllp_release(&c->dec);
    cb_buf_release(&c->out);
    c->out_off = 0;
    c->pending = 0;
    c->pending_bytes = 0;
    c->eof = false;
    /* c->dirty stays: the slot may still be on this round's dirty list. */
    if (!c->dirty) {
        c->next = f->free_conns;
        f->free_conns = c;
    }
    f->nopen--;
    atomic_fetch_sub(&f->st.connections_open, 1);
}

/* A closed slot on the dirty list goes back to the free list afterwards. */
static void
release_slot(struct cb_feed *f, struct feed_conn *c)
{
    c->next = f->free_conns;
    f->free_conns = c;
}

static void
mark_dirty(struct net *n, struct feed_conn *c)
{
    if (c->dirty)
        return;
    c->dirty = true;
    c->next = n->dirty;
    n->dirty = c;
}

static void
accept_all(struct net *n)
{
    struct cb_feed *f = n->f;

    for (;;) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct epoll_event ev = { 0 };
        struct feed_conn *c;
        char addr[INET6_ADDRSTRLEN] = "?";
        int fd, one = 1, port = 0;

        fd = accept(f->lfd, (struct sockaddr *)&ss, &len);
        if (fd >= 0 && (fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ||
                        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)) {
            close(fd);
            continue;
        }
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: stop accepting for a moment rather
                   than spin on a listener that stays readable. */
                cb__feed_log(f, "cannot accept a connection: %s", strerror(errno));
                epoll_ctl(f->epfd, EPOLL_CTL_DEL, f->lfd, NULL);
                n->listen_on = false;
                n->listen_resume = n->now + 0.1;
            }
            return;
        }
        if (!f->free_conns || atomic_load(&f->stopping)) {
            close(fd);
            atomic_fetch_add(&f->st.connections_refused, 1);
            cb__feed_log(f, "connection refused: %u connections open (max_connections)",
                         f->nopen);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c = f->free_conns;
        f->free_conns = c->next;
        c->fd = fd;
        c->pending = 0;
        c->pending_bytes = 0;
        c->out_off = 0;
        c->eof = false;
        c->last_active = n->now;
        cb_mllp_init(&c->dec, f->cfg.max_message);
        /* Bounded in practice by max_pending and max_output (reading
           pauses); this cap only catches a broken invariant. */
        cb_buf_init(&c->out, (size_t)1 << 30);
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, addr, sizeof(addr));
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof(addr));
            port = ntohs(a->sin6_port);
        }
        snprintf(c->peer, sizeof(c->peer), "%s:%d", addr, port);
        ev.events = EPOLLIN;
        ev.data.u64 = conn_id(f, c);
        if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            c->fd = -1;
            close(fd);
            cb_mllp_release(&c->dec);
            c->next = f->free_conns;
            f->free_conns = c;
            continue;
        }
        c->events = EPOLLIN;
        f->nopen++;
        atomic_fetch_add(&f->st.connections_open, 1);
        atomic_fetch_add(&f->st.connections_total, 1);
    }
}

static struct feed_item *
new_item(struct net *n, struct feed_conn *c, struct cb_str payload)
{
    struct feed_item *it = cb_malloc(sizeof(*it) + payload.len + 1);

    if (!it)
        return NULL;
    memset(it, 0, sizeof(*it));
    if (payload.len)
        memcpy(it->raw, payload.ptr, payload.len);
    it->raw[payload.len] = '\0';
    it->raw_len = payload.len;
    it->conn = conn_id(n->f, c);
    it->t_recv = cb__feed_mono();
    it->received_ms = cb__feed_now_ms();
    cb_buf_init(&it->ack, CB_BUF_MAX_DEFAULT);
    return it;
}

static void
enqueue(struct net *n, struct feed_conn *c, struct feed_item *it)
{
    cb__feed_queue_push(&n->outq, it);
    c->pending++;
    c->pending_bytes += it->raw_len;
}

/* A decoded value of MSH into *out (in the message's arena). */
static enum cb_err
msh(struct feed_item *it, unsigned field, unsigned comp, struct cb_str *out, struct cb_buf *err)
{
    return cb_hl7_get(&it->msg, 0, field, 1, comp, 0, out, err);
}

/* "a" sep "b" in the message's arena. */
static struct cb_str
join(struct feed_item *it, struct cb_str a, char sep, struct cb_str b)
{
    char *p = cb_arena_alloc(&it->msg.arena, a.len + b.len + 2);

    if (!p)
        return CB_STR_NULL;
    if (a.len)
        memcpy(p, a.ptr, a.len);
    p[a.len] = sep;
    if (b.len)
        memcpy(p + a.len + 1, b.ptr, b.len);
    p[a.len + 1 + b.len] = '\0';
    return cb_str_make(p, a.len + 1 + b.len);
}

static void
refuse(struct net *n, struct feed_conn *c, struct feed_item *it, enum cb_hl7_err_code code,
       const char *seg, unsigned field, const char *why)
{
    struct cb_feed *f = n->f;

    atomic_fetch_add(&f->st.unparseable, 1);
    cb__feed_log(f, "refused a message from %s (not stored): %s", c->peer, why);
    cb__feed_ack_refused(f, it, code, seg, field, why);
    enqueue(n, c, it);
}

static void
on_frame(struct net *n, struct feed_conn *c, struct cb_str payload)
{
    struct cb_feed *f = n->f;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_str app, fac, typ, trig;
    struct cb_hl7_ack_opts rej;
    struct feed_item *it;
    enum cb_feed_verdict v = CB_FEED_ACCEPT;

    atomic_fetch_add(&f->st.received, 1);
    if (!(it = new_item(n, c, payload))) {
        cb__feed_log(f, "out of memory: a message from %s is dropped", c->peer);
        return;   /* no answer: the sender resends */
    }
    it->has_msg = true;
    if (cb_hl7_parse(&it->msg, cb_str_make(it->raw, it->raw_len), &err) != CB_OK) {
        if (!err.len)
            cb_errf(&err, "message cannot be parsed");
        refuse(n, c, it, CB_HL7_E_SEGMENT_SEQ, NULL, 0, cb_buf_cstr(&err));
        goto out;
    }
    if (msh(it, 3, 1, &app, &err) || msh(it, 4, 1, &fac, &err) ||
        msh(it, 10, 0, &it->control_id, &err) || msh(it, 9, 1, &typ, &err) ||
        msh(it, 9, 2, &trig, &err)) {
        refuse(n, c, it, CB_HL7_E_DATA_TYPE, NULL, 0, cb_buf_cstr(&err));
        goto out;
    }
    if (!cb_str_trim(it->control_id).len) {
        refuse(n, c, it, CB_HL7_E_REQUIRED, "MSH", 10,
               "MSH-10 (message control id) is empty");
        goto out;
    }
    it->sender = join(it, app, '|', fac);
    it->event = typ.len || trig.len ? join(it, typ, '^', trig) : CB_STR_NULL;
    if (!it->sender.ptr || (typ.len + trig.len && !it->event.ptr)) {
        cb__feed_item_free(it);
        goto out;
    }
    memset(&rej, 0, sizeof(rej));
    if (f->h.check)
        v = f->h.check(f->h.ctx, &it->msg, &rej);
    if (v == CB_FEED_ACCEPT) {
        it->status = CB_JOURNAL_ACCEPTED;
        snprintf(it->own.code, sizeof(it->own.code), "AA");
    } else {
        it->status = CB_JOURNAL_REJECTED;
        snprintf(it->own.code, sizeof(it->own.code), "%s",
                 rej.code && !strcmp(rej.code, "AE") ? "AE" : "AR");
        it->own.err_code = rej.err_code != CB_HL7_E_OK ? rej.err_code : CB_HL7_E_INTERNAL;
        it->own.err_text = cb__feed_safe_text(&it->msg.arena, rej.err_text, ERR_TEXT_MAX);
        if (rej.err_seg && strlen(rej.err_seg) == 3)
            snprintf(it->own.err_seg, sizeof(it->own.err_seg), "%s", rej.err_seg);
        it->own.err_seq = rej.err_seq;
        it->own.err_field = rej.err_field;
    }
    it->journal = true;
    enqueue(n, c, it);
out:
    cb_buf_release(&err);
}

/* A frame over max_message: AR from its MSH (within head), or nothing. */
static void
on_too_large(struct net *n, struct feed_conn *c, struct cb_str head)
{
    struct cb_feed *f = n->f;
    struct cb_buf err = CB_BUF_INIT, why = CB_BUF_INIT;
    struct feed_item *it;
    size_t k = 0;

    atomic_fetch_add(&f->st.too_large, 1);
    while (k < head.len && head.ptr[k] != '\r' && head.ptr[k] != '\n')
        k++;
    if (k == head.len) {   /* no complete MSH segment to answer with */
        cb__feed_log(f, "dropped a frame from %s: over %zu bytes", c->peer,
                     f->cfg.max_message);
        return;
    }
    if (!(it = new_item(n, c, cb_str_make(head.ptr, k))))
        return;
    it->has_msg = true;
    if (cb_hl7_parse(&it->msg, cb_str_make(it->raw, it->raw_len), &err) != CB_OK &&
        !it->msg.has_msh) {
        cb__feed_log(f, "dropped a frame from %s: over %zu bytes", c->peer,
                     f->cfg.max_message);
        cb__feed_item_free(it);
        goto out;
    }
    cb_errf(&why, "message too large: more than %zu bytes", f->cfg.max_message);
    cb__feed_log(f, "refused a message from %s (not stored): %s", c->peer, cb_buf_cstr(&why));
    cb__feed_ack_refused(f, it, CB_HL7_E_INTERNAL, NULL, 0, cb_buf_cstr(&why));
    enqueue(n, c, it);
out:
    cb_buf_release(&err);
    cb_buf_release(&why);
}

static void
maybe_close_eof(struct net *n, struct feed_conn *c)
{
    if (c->fd >= 0 && c->eof && !c->pending && !unsent(c))
        close_conn(n, c, NULL);
}

static void
read_conn(struct net *n, struct feed_conn *c)
{
    struct cb_feed *f = n->f;
    ssize_t got;
    size_t off = 0;

    if (paused(f, c))
        return;
    got = recv(c->fd, n->rbuf, sizeof(n->rbuf), 0);
    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            close_conn(n, c, strerror(errno));
        return;
    }
    if (got == 0) {
        c->eof = true;
        maybe_close_eof(n, c);
        update_interest(f, c);
        return;
    }
    c->last_active = n->now;
    while (off < (size_t)got && c->fd >= 0) {
        struct cb_str msg;
        size_t used = 0;
        enum cb_err rc = cb_mllp_feed(&c->dec, n->rbuf + off, (size_t)got - off, &used, &msg);

        off += used;
        switch (rc) {
        case CB_OK:
            on_frame(n, c, msg);
            break;
        case CB_AGAIN:
            break;
        case CB_ERR_TOO_LARGE:
            on_too_large(n, c, msg);
            break;
        case CB_ERR_PROTO:
            atomic_fetch_add(&f->st.protocol_errors, 1);
            cb__feed_log(f, "protocol error from %s: bytes outside a frame, or a frame"
                         " cut short", c->peer);
            break;
        default:
            atomic_fetch_add(&f->st.protocol_errors, 1);
            cb__feed_log(f, "a frame from %s is dropped: %s", c->peer, cb_strerror(rc));
            break;
        }
    }
    update_interest(f, c);
}

static void
write_conn(struct net *n, struct feed_conn *c)
{
    while (unsent(c)) {
        ssize_t w = send(c->fd, c->out.ptr + c->out_off, unsent(c), MSG_NOSIGNAL);

        if (w > 0) {
            c->out_off += (size_t)w;
            c->last_active = n->now;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        close_conn(n, c, w < 0 ? strerror(errno) : "write failed");
        return;
    }
    if (!unsent(c)) {
        if (c->out.cap > OUT_KEEP)
            cb_buf_release(&c->out);
        else
            cb_buf_reset(&c->out);
        c->out_off = 0;
    } else if (c->out_off >= OUT_KEEP) {
        size_t left = unsent(c);
        memmove(c->out.ptr, c->out.ptr + c->out_off, left);
        c->out.len = left;
        c->out.ptr[left] = '\0';
        c->out_off = 0;
    }
}

static void
observe_latency(struct cb_feed *f, double secs)
{
    cb__feed_observe(f->st.ack_bucket, &f->st.ack_us, secs);
    atomic_fetch_add(&f->st.ack_count, 1);
}

/* Takes the committer's finished items and queues their ACKs. */
static void
drain_done(struct net *n)
{
    struct cb_feed *f = n->f;
    struct feed_queue q;
    struct feed_item *it, *next;
    bool done;
    uint64_t v;

    if (read(f->wake_fd, &v, sizeof(v)) < 0) {
        /* EAGAIN: nothing was signalled; the queue is looked at anyway */
    }
    pthread_mutex_lock(&f->mu);
    q = f->done;
    f->done.head = f->done.tail = NULL;
    f->done.n = 0;
    done = f->commit_done;
    pthread_mutex_unlock(&f->mu);

    for (it = q.head; it; it = next) {
        struct feed_conn *c = conn_by_id(f, it->conn);

        next = it->next;
        if (c) {
            c->pending--;
            c->pending_bytes -= it->raw_len;
            if (it->ack.len) {
                if (cb_buf_add(&c->out, it->ack.ptr, it->ack.len) != CB_OK) {
                    close_conn(n, c, "out of memory for ACKs");
                } else {
                    atomic_fetch_add(&f->st.acks, it->nacks);
                    observe_latency(f, cb__feed_mono() - it->t_recv);
                    mark_dirty(n, c);
                }
            } else {
                mark_dirty(n, c);   /* may be closable now, or readable */
            }
        }
        cb__feed_item_free(it);
    }
    if (done && n->phase == DRAINING) {
        n->phase = FLUSHING;
        n->flush_until = n->now + FLUSH_S;
    }
}

static void
flush_dirty(struct net *n)
{
    struct cb_feed *f = n->f;

    while (n->dirty) {
        struct feed_conn *c = n->dirty;

        n->dirty = c->next;
        c->dirty = false;
        if (c->fd < 0) {
            release_slot(f, c);   /* closed while on the list */
            continue;
        }
        write_conn(n, c);
        if (c->fd < 0) {          /* closed by the write: c->dirty was false */
            continue;
        }
        maybe_close_eof(n, c);
        update_interest(f, c);
    }
}

static void
sweep(struct net *n)
{
    struct cb_feed *f = n->f;
    double idle = (double)f->cfg.idle_timeout_s;

    for (unsigned i = 0; i < f->nconns; i++) {
        struct feed_conn *c = &f->conns[i];
        if (c->fd >= 0 && !c->pending && n->now - c->last_active > idle) {
            atomic_fetch_add(&f->st.connections_timed_out, 1);
            close_conn(n, c, "idle timeout");
        }
    }
}

static void
to_committer(struct net *n)
{
    struct cb_feed *f = n->f;

    if (!n->outq.head)
        return;
    pthread_mutex_lock(&f->mu);
    cb__feed_queue_join(&f->in, &n->outq);
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static void
begin_stop(struct net *n)
{
    struct cb_feed *f = n->f;

    if (n->listen_on)
        epoll_ctl(f->epfd, EPOLL_CTL_DEL, f->lfd, NULL);
    n->listen_on = false;
    close(f->lfd);
    f->lfd = -1;
    for (unsigned i = 0; i < f->nconns; i++)
        update_interest(f, &f->conns[i]);   /* paused: no more reading */
    to_committer(n);
    pthread_mutex_lock(&f->mu);
    f->in_closed = true;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
    n->phase = DRAINING;
}

static bool
all_flushed(struct cb_feed *f)
{
    for (unsigned i = 0; i < f->nconns; i++)
        if (f->conns[i].fd >= 0 && unsent(&f->conns[i]))
            return false;
    return true;
}

static void
handle_conn_event(struct net *n, uint64_t id, uint32_t events)
{
    struct cb_feed *f = n->f;
    struct feed_conn *c = conn_by_id(f, id);

    if (!c)
        return;   /* closed earlier in this round */
    if (events & EPOLLERR) {
        close_conn(n, c, "connection error");
        return;
    }
    if (events & EPOLLOUT) {
        write_conn(n, c);
        if (c->fd < 0)
            return;
        maybe_close_eof(n, c);
        if (c->fd < 0)
            return;
        update_interest(f, c);
    }
    if (events & (EPOLLIN | EPOLLHUP)) {
        if ((events & EPOLLHUP) && !(c->events & EPOLLIN)) {
            close_conn(n, c, NULL);   /* gone both ways, and not being read */
            return;
        }
        read_conn(n, c);
    }
}

void *
cb__feed_net_main(void *arg)
{
    struct cb_feed *f = arg;
    struct net *n = cb_calloc(1, sizeof(*n));
    struct epoll_event evs[MAX_EVENTS];

    prctl(PR_SET_NAME, "cb-mllp-net", 0, 0, 0);
    if (!n) {
        /* Cannot run: let the committer finish so that stop can join it. */
        pthread_mutex_lock(&f->mu);
        f->in_closed = true;
        pthread_cond_signal(&f->cv);
        pthread_mutex_unlock(&f->mu);
        cb__feed_log(f, "out of memory: the listener does not run");
        return NULL;
    }
    n->f = f;
    n->listen_on = true;
    n->now = cb__feed_mono();
    n->next_sweep = n->now + 1.0;
    for (;;) {
        int timeout = n->phase == RUNNING ? 1000 : 50;
        int k = epoll_wait(f->epfd, evs, MAX_EVENTS, timeout);

        n->now = cb__feed_mono();
        for (int i = 0; i < k; i++) {
            uint64_t id = evs[i].data.u64;
            if (id == ID_LISTEN)
                accept_all(n);
            else if (id == ID_WAKE)
                drain_done(n);
            else
                handle_conn_event(n, id, evs[i].events);
        }
        to_committer(n);
        if (n->phase != RUNNING)
            drain_done(n);   /* the committer's last word may come any time */
        flush_dirty(n);

        if (n->phase == RUNNING) {
            if (atomic_load(&f->stopping)) {
                begin_stop(n);
                continue;
            }
            if (!n->listen_on && n->now >= n->listen_resume) {
                struct epoll_event ev = { 0 };
                ev.events = EPOLLIN;
                ev.data.u64 = ID_LISTEN;
                if (epoll_ctl(f->epfd, EPOLL_CTL_ADD, f->lfd, &ev) == 0)
                    n->listen_on = true;
            }
            if (n->now >= n->next_sweep) {
                sweep(n);
                n->next_sweep = n->now + 1.0;
            }
        } else if (n->phase == FLUSHING) {
            if (all_flushed(f) || n->now >= n->flush_until)
                break;
        }
    }
    for (unsigned i = 0; i < f->nconns; i++)
        if (f->conns[i].fd >= 0)
            close_conn(n, &f->conns[i], NULL);
    cb_free(n);
    return NULL;
}
