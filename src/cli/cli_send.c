/*
 * cli_send.c - the MLLP client of `carebase simulate` (see cli_send.h).
 *
 * Each connection keeps a ring of the messages offered to it, in order:
 * the first ones sent and waiting for their ACK (at most `window`), then
 * the ones not sent yet. An ACK is matched by MSA-2 against the waiting
 * ones; acknowledged messages leave from the front. When a connection
 * breaks, whatever was not acknowledged is sent again on the next one,
 * in the same order, so a hospital's stream never overtakes itself.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/hl7.h"
#include "cli_send.h"

struct entry {
    char    *frame;       /* SB msg EB CR */
    size_t   len;
    char     ctl[48];     /* MSH-10 */
    bool     malformed;
    bool     sent, acked;
    unsigned tries;
    int64_t  sent_ns;
};

struct conn {
    int            fd;          /* -1 when down */
    bool           connecting;  /* non-blocking connect in progress */
    bool           up;
    bool           ever_up;
    struct cb_mllp dec;
    struct entry  *q;           /* ring */
    size_t         head, n, cap;
    size_t         next;        /* first entry (from head) to consider sending */
    size_t         outstanding; /* sent, not acknowledged */
    struct cb_buf  out;         /* bytes to write */
    size_t         outoff;
    int64_t        retry_at;
    int            backoff_ms;
};

struct cli_send {
    struct cli_send_opts   o;
    struct addrinfo       *ai;
    struct conn           *c;
    int                    nc;
    size_t                 qmax;
    double                 tokens;
    int64_t                token_ns, start_ns, progress_ns, end_ns;
    uint32_t              *lat;      /* ACK latencies, microseconds */
    size_t                 nlat, caplat;
    struct cli_send_stats  st;
    struct cb_buf          err;
};

#define LAT_MAX ((size_t)20 << 20)   /* latencies kept (80 MB at most) */

static int64_t
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct entry *
at(struct conn *c, size_t i)
{
    return &c->q[(c->head + i) % c->cap];
}

struct cli_send *
cli_send_new(const struct cli_send_opts *o, struct cb_buf *err)
{
    struct addrinfo hints;
    struct cli_send *s;
    int i, gai;

    if (!(s = cb_calloc(1, sizeof(*s)))) {
        cb_errf(err, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->nc = o->connections > 0 ? o->connections : 1;
    if (s->o.window < 1)
        s->o.window = 1;
    s->qmax = (size_t)s->o.window * 4 + 64;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if ((gai = getaddrinfo(o->host, o->port, &hints, &s->ai)) != 0) {
        cb_errf(err, "cannot resolve '%s': %s", o->host, gai_strerror(gai));
        cb_free(s);
        return NULL;
    }
    if (!(s->c = cb_calloc((size_t)s->nc, sizeof(*s->c)))) {
        cb_errf(err, "out of memory");
        cli_send_free(s);
        return NULL;
    }
    for (i = 0; i < s->nc; i++) {
        struct conn *c = &s->c[i];

        c->fd = -1;
        c->cap = s->qmax;
        c->backoff_ms = 100;
        cb_mllp_init(&c->dec, CB_MLLP_MAX_DEFAULT);
        cb_buf_init(&c->out, (size_t)1 << 30);
        if (!(c->q = cb_calloc(c->cap, sizeof(*c->q)))) {
            cb_errf(err, "out of memory");
            cli_send_free(s);
            return NULL;
        }
    }
    cb_buf_init(&s->err, 4096);
    s->start_ns = s->token_ns = s->progress_ns = now_ns();
    return s;
}

void
cli_send_free(struct cli_send *s)
{
    int i;
    size_t k;

    if (!s)
        return;
    for (i = 0; s->c && i < s->nc; i++) {
        struct conn *c = &s->c[i];

        if (c->fd >= 0)
            close(c->fd);
        for (k = 0; c->q && k < c->n; k++)
            cb_free(at(c, k)->frame);
        cb_free(c->q);
        cb_mllp_release(&c->dec);
        cb_buf_release(&c->out);
    }
    cb_free(s->c);
    if (s->ai)
        freeaddrinfo(s->ai);
    cb_free(s->lat);
    cb_buf_release(&s->err);
    cb_free(s);
}

bool
cli_send_offer(struct cli_send *s, unsigned conn, struct cb_str msg,
               struct cb_str control_id, bool malformed)
{
    struct conn *c = &s->c[conn % (unsigned)s->nc];
    struct entry *e;
    struct cb_buf f = CB_BUF_INIT;

    if (c->n >= c->cap)
        return false;
    if (cb_mllp_wrap(&f, msg) != CB_OK)
        return false;   /* cannot happen for simulated text */
    e = at(c, c->n);
    memset(e, 0, sizeof(*e));
    e->frame = cb_buf_detach(&f, &e->len);
    snprintf(e->ctl, sizeof(e->ctl), "%.*s", (int)control_id.len, control_id.ptr);
    e->malformed = malformed;
    c->n++;
    s->st.offered++;
    return true;
}

bool
cli_send_idle(const struct cli_send *s)
{
    int i;

    for (i = 0; i < s->nc; i++)
        if (s->c[i].n)
            return false;
    return true;
}

/* ---------------------------------------------------------- connections */

static void
down(struct cli_send *s, struct conn *c)
{
    size_t i;

    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->up = c->connecting = false;
    cb_buf_reset(&c->out);
    c->outoff = 0;
    cb_mllp_release(&c->dec);
    cb_mllp_init(&c->dec, CB_MLLP_MAX_DEFAULT);
    for (i = 0; i < c->n; i++)
        at(c, i)->sent = false;   /* unacknowledged ones go again */
    c->next = 0;
    c->outstanding = 0;
    c->retry_at = now_ns() + (int64_t)c->backoff_ms * 1000000;
    c->backoff_ms = c->backoff_ms >= 1000 ? 2000 : c->backoff_ms * 2;
    (void)s;
}

static void
start_connect(struct cli_send *s, struct conn *c)
{
    const struct addrinfo *a = s->ai;
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    a->ai_protocol);

    if (fd < 0) {
        down(s, c);
        return;
    }
    c->fd = fd;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
        c->up = true;
    } else if (errno == EINPROGRESS) {
        c->connecting = true;
    } else {
        down(s, c);
        return;
    }
    if (c->up) {
        int one = 1;

        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (c->ever_up)
            s->st.reconnects++;
        c->ever_up = true;
    }
}

static void
finish_connect(struct cli_send *s, struct conn *c)
{
    int e = 0, one = 1;
    socklen_t len = sizeof(e);

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0 || e != 0) {
        down(s, c);
        return;
    }
    c->connecting = false;
    c->up = true;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (c->ever_up)
        s->st.reconnects++;
    c->ever_up = true;
}

/* ---------------------------------------------------------- sending */

static void
refill_tokens(struct cli_send *s, int64_t now)
{
    double burst;

    if (s->o.rate <= 0)
        return;
    burst = s->o.rate / 50 > 1 ? s->o.rate / 50 : 1;
    s->tokens += (double)(now - s->token_ns) * 1e-9 * s->o.rate;
    if (s->tokens > burst)
        s->tokens = burst;
    s->token_ns = now;
}

/* Frames what the window and the rate allow into the output buffer. */
static void
fill(struct cli_send *s, struct conn *c, int64_t now)
{
    while (c->next < c->n && c->outstanding < (size_t)s->o.window) {
        struct entry *e = at(c, c->next);

        if (e->acked || e->sent) {
            c->next++;
            continue;
        }
        if (s->o.rate > 0) {
            if (s->tokens < 1)
                break;
            s->tokens -= 1;
        }
        if (cb_buf_add(&c->out, e->frame, e->len) != CB_OK)
            break;
        e->sent = true;
        e->sent_ns = now;
        if (e->tries++)
            s->st.resent++;
        s->st.sent++;
        c->outstanding++;
        c->next++;
    }
}

static void
flush(struct cli_send *s, struct conn *c)
{
    while (c->outoff < c->out.len) {
        ssize_t w = send(c->fd, c->out.ptr + c->outoff, c->out.len - c->outoff,
                         MSG_NOSIGNAL);

        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                down(s, c);
            return;
        }
        c->outoff += (size_t)w;
    }
    cb_buf_reset(&c->out);
    c->outoff = 0;
}

/* ---------------------------------------------------------- ACKs */

static void
record_latency(struct cli_send *s, int64_t ns)
{
    uint64_t us = (uint64_t)(ns > 0 ? ns : 0) / 1000;

    if (s->nlat == s->caplat) {
        size_t n = s->caplat ? s->caplat * 2 : 4096;
        uint32_t *p;

        if (n > LAT_MAX || !(p = cb_reallocarray(s->lat, n, sizeof(*p))))
            return;
        s->lat = p;
        s->caplat = n;
    }
    s->lat[s->nlat++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static void
count_code(struct cli_send *s, struct cb_str code, bool malformed)
{
    bool accepted = cb_str_eqz(code, "AA") || cb_str_eqz(code, "CA");

    if (cb_str_eqz(code, "AA")) s->st.aa++;
    else if (cb_str_eqz(code, "AE")) s->st.ae++;
    else if (cb_str_eqz(code, "AR")) s->st.ar++;
    else if (cb_str_eqz(code, "CA")) s->st.ca++;
    else if (cb_str_eqz(code, "CE")) s->st.ce++;
    else if (cb_str_eqz(code, "CR")) s->st.cr++;
    else s->st.other++;
    if (malformed && accepted)
        s->st.malformed_accepted++;
    else if (!malformed && !accepted)
        s->st.well_formed_not_aa++;
}

static void
on_ack(struct cli_send *s, struct conn *c, struct cb_str text, int64_t now)
{
    struct cb_hl7_msg m;
    struct cb_str code, ctl;
    size_t i;
    long msa;

    cb_buf_reset(&s->err);
    if (cb_hl7_parse(&m, text, &s->err) != CB_OK ||
        (msa = cb_hl7_find(&m, "MSA", 0, 1)) < 0) {
        s->st.unmatched++;
        cb_hl7_release(&m);
        return;
    }
    code = cb_hl7_raw(&m, (size_t)msa, 1, 0, 0, 0);
    ctl = cb_hl7_raw(&m, (size_t)msa, 2, 0, 0, 0);
    for (i = 0; i < c->n; i++) {
        struct entry *e = at(c, i);

        if (!e->sent || e->acked || !cb_str_eqz(ctl, e->ctl))
            continue;
        e->acked = true;
        c->outstanding--;
        s->st.acked++;
        count_code(s, code, e->malformed);
        record_latency(s, now - e->sent_ns);
        break;
    }
    if (i == c->n)
        s->st.unmatched++;   /* an ACK for nothing we wait for */
    cb_hl7_release(&m);
    while (c->n && at(c, 0)->acked) {
        cb_free(at(c, 0)->frame);
        c->head = (c->head + 1) % c->cap;
        c->n--;
        if (c->next)
            c->next--;
    }
    s->progress_ns = now;
    c->backoff_ms = 100;
}

static void
receive(struct cli_send *s, struct conn *c)
{
    char buf[65536];

    for (;;) {
        ssize_t r = recv(c->fd, buf, sizeof(buf), 0);
        const char *p = buf;
        size_t left;
        int64_t now = now_ns();

        if (r == 0) {
            down(s, c);
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                down(s, c);
            return;
        }
        left = (size_t)r;
        while (left) {
            struct cb_str msg;
            size_t used = 0;
            enum cb_err rc = cb_mllp_feed(&c->dec, p, left, &used, &msg);

            if (rc == CB_OK)
                on_ack(s, c, msg, now);
            else if (rc != CB_AGAIN)
                s->st.unmatched++;
            p += used;
            left -= used;
            if (rc == CB_AGAIN)
                break;
        }
    }
}

/* ---------------------------------------------------------- pump */

bool
cli_send_pump(struct cli_send *s, int wait_ms)
{
    struct pollfd pfd[256];
    int idx[256], np = 0, i, timeout = wait_ms;
    int64_t now = now_ns();
    bool waiting = false;

    if (s->st.gave_up)
        return false;
    refill_tokens(s, now);
    for (i = 0; i < s->nc; i++) {
        struct conn *c = &s->c[i];

        if (c->n)
            waiting = true;
        if (c->fd < 0 && c->n && now >= c->retry_at)
            start_connect(s, c);
        if (c->up) {
            fill(s, c, now);
            if (c->out.len)
                flush(s, c);
        }
        if (c->fd < 0 && c->n) {
            int64_t ms = (c->retry_at - now) / 1000000 + 1;
            if (ms < timeout)
                timeout = ms > 0 ? (int)ms : 0;
        }
        if (c->fd >= 0 && np < 256) {
            pfd[np].fd = c->fd;
            pfd[np].events = c->connecting ? POLLOUT
                           : (short)(POLLIN | (c->outoff < c->out.len ? POLLOUT : 0));
            pfd[np].revents = 0;
            idx[np++] = i;
        }
    }
    if (s->o.rate > 0 && s->tokens < 1) {
        int ms = (int)((1 - s->tokens) / s->o.rate * 1000) + 1;
        if (ms < timeout)
            timeout = ms;
    }
    if (np == 0) {
        if (timeout > 0) {
            struct timespec ts = { timeout / 1000, (long)(timeout % 1000) * 1000000 };
            nanosleep(&ts, NULL);
        }
    } else if (poll(pfd, (nfds_t)np, timeout) > 0) {
        for (i = 0; i < np; i++) {
            struct conn *c = &s->c[idx[i]];

            if (!pfd[i].revents || c->fd != pfd[i].fd)
                continue;
            if (c->connecting) {
                finish_connect(s, c);
                continue;
            }
            if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
                receive(s, c);
            if (c->fd >= 0 && (pfd[i].revents & POLLOUT))
                flush(s, c);
        }
    }
    now = now_ns();
    if (!waiting || cli_send_idle(s))
        s->progress_ns = now;
    else if (s->o.stall > 0 && (double)(now - s->progress_ns) * 1e-9 > s->o.stall)
        s->st.gave_up = true;
    s->end_ns = now;
    return !s->st.gave_up;
}

/* ---------------------------------------------------------- report */

static int
cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

void
cli_send_stats(const struct cli_send *s, struct cli_send_stats *st)
{
    *st = s->st;
    st->seconds = (double)(s->end_ns - s->start_ns) * 1e-9;
    if (s->nlat) {
        uint32_t *v = s->lat;

        qsort(v, s->nlat, sizeof(*v), cmp_u32);
        st->p50_ms = v[(s->nlat - 1) / 2] / 1000.0;
        st->p99_ms = v[(size_t)((double)(s->nlat - 1) * 0.99)] / 1000.0;
        st->max_ms = v[s->nlat - 1] / 1000.0;
    }
}
