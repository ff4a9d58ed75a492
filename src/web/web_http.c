/*
 * web_http.c - the HTTP adapter: the only file that includes microhttpd.h.
 *
 * libmicrohttpd runs an internal thread pool (epoll on Linux); each worker
 * serves many connections, so a client that sends half a request and
 * waits holds a connection slot (max_connections) until `timeout`, not a
 * thread. The access handler is called several times per request (headers;
 * each piece of the body; the end), so the request's state lives in the
 * per-connection pointer (struct conn_state), never in locals.
 *
 * Limits: requests in flight (max_inflight: 429 above it), the request
 * body (max_body: 413; a body a little over the limit is read and thrown
 * away so the client gets a clean answer, a body far over it -- or a
 * Content-Length that says so -- is answered at once and the connection
 * closed), connections (max_connections), idle time (timeout).
 *
 * Each completed request gives one log line: time, method, route (never
 * the query string, never an unknown path), status, milliseconds, user id.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/netaddr.h"
#include "web_int.h"

/* Beyond max_body, up to this much more is read and discarded (clean 413). */
#define DRAIN_MAX ((size_t)1 << 20)

struct conn_state {
    double        t0;            /* cb__web_mono() at the first call */
    struct cb_buf body;          /* capped at max_body */
    size_t        received;      /* body bytes seen, kept or not */
    bool          counted;       /* counted in s->inflight */
    bool          too_large;
    int           status;        /* of the queued response; 0 = none */
    enum web_route route;
    int64_t       user_id;
    char          method[16];
};

int64_t
cb__web_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec;
}

double
cb__web_mono(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* ---- the store pool ---- */

struct cb_store *
cb__web_pool_get(struct web_pool *p)
{
    struct cb_store *st;

    pthread_mutex_lock(&p->mu);
    while (!p->nidle)
        pthread_cond_wait(&p->cv, &p->mu);
    st = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    return st;
}

void
cb__web_pool_put(struct web_pool *p, struct cb_store *st)
{
    pthread_mutex_lock(&p->mu);
    p->idle[p->nidle++] = st;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static enum cb_err
pool_open(struct web_pool *p, const char *db, int n, struct cb_buf *err)
{
    enum cb_err rc;

    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->all = cb_calloc((size_t)n, sizeof *p->all);
    p->idle = cb_calloc((size_t)n, sizeof *p->idle);
    if (!p->all || !p->idle)
        return CB_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        if ((rc = cb_store_open(&p->all[i], db, err)))
            return rc;
        p->idle[p->nidle++] = p->all[i];
        p->n++;
    }
    return CB_OK;
}

static void
pool_close(struct web_pool *p)
{
    if (!p->all && !p->idle)
        return;   /* never opened */
    for (int i = 0; i < p->n; i++)
        cb_store_close(p->all[i]);
    cb_free(p->all);
    cb_free(p->idle);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    memset(p, 0, sizeof *p);
}

/* ---- logging ---- */

static void
log_line(struct cb_web_server *s, const struct conn_state *cs, double ms)
{
    struct timespec t;
    struct tm tm;
    char when[32], line[256];

    if (!s->log)
        return;
    clock_gettime(CLOCK_REALTIME, &t);
    gmtime_r(&t.tv_sec, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(line, sizeof line, "%s.%03ldZ %s %s %d %.1fms user=%lld", when,
             t.tv_nsec / 1000000L, cs->method[0] ? cs->method : "-",
             cb__web_route_label(cs->route), cs->status, ms, (long long)cs->user_id);
    s->log(s->log_ctx, line);
}

static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
    struct cb_web_server *s = cls;
    char msg[256], line[300];
    size_t n;

    if (!s->log)
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    snprintf(line, sizeof line, "libmicrohttpd: %s", msg);
    s->log(s->log_ctx, line);
}

/* ---- event streams ---- */

/*
 * An open event stream. Its content reader runs on the connection's worker
 * thread: it hands out what poll produced, a keep-alive comment every
 * WEB_STREAM_PING_S, or -- nothing new -- suspends the connection, which
 * the streams thread resumes at the next tick. suspended is guarded by
 * s->streams_mu, always taken before libmicrohttpd's own locks.
 */
struct web_sse {
    struct cb_web_server  *s;
    struct MHD_Connection *c;
    struct web_stream      src;
    uint64_t               seen;
    struct cb_buf          out;
    size_t                 off;        /* bytes of out already sent */
    double                 opened, last_write;
    bool                   suspended;
    struct web_sse        *prev, *next;
};

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct web_sse *e = cls;
    double now = cb__web_mono();
    size_t n;

    (void)pos;
    if (e->off == e->out.len) {
        cb_buf_reset(&e->out);
        e->off = 0;
        if (atomic_load(&e->s->stopping) || now - e->opened > WEB_STREAM_MAX_S)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (e->src.poll(e->src.ctx, &e->seen, &e->out))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!e->out.len && now - e->last_write >= WEB_STREAM_PING_S &&
            cb_buf_adds(&e->out, ": keep-alive\n\n"))
            return MHD_CONTENT_READER_END_WITH_ERROR;
        if (!e->out.len) {
            pthread_mutex_lock(&e->s->streams_mu);
            e->suspended = true;
            MHD_suspend_connection(e->c);
            pthread_mutex_unlock(&e->s->streams_mu);
            return 0;
        }
    }
    n = e->out.len - e->off;
    if (n > max)
        n = max;
    memcpy(buf, e->out.ptr + e->off, n);
    e->off += n;
    e->last_write = now;
    return (ssize_t)n;
}

static void
sse_free(void *cls)
{
    struct web_sse *e = cls;
    struct cb_web_server *s = e->s;

    pthread_mutex_lock(&s->streams_mu);
    if (e->prev)
        e->prev->next = e->next;
    else
        s->streams = e->next;
    if (e->next)
        e->next->prev = e->prev;
    s->nstreams--;
    pthread_mutex_unlock(&s->streams_mu);
    if (e->src.release)
        e->src.release(e->src.ctx);
    cb_buf_release(&e->out);
    cb_free(e);
}

/*
 * Resumes the suspended streams that have something to send (they poll
 * again): new content, a keep-alive due, or the end of their time. Caller
 * holds streams_mu.
 */
static void
sse_wake_locked(struct cb_web_server *s)
{
    double now = cb__web_mono();

    for (struct web_sse *e = s->streams; e; e = e->next)
        if (e->suspended &&
            (!e->src.due || e->src.due(e->src.ctx) || atomic_load(&s->stopping) ||
             now - e->last_write >= WEB_STREAM_PING_S || now - e->opened > WEB_STREAM_MAX_S)) {
            e->suspended = false;
            MHD_resume_connection(e->c);
        }
}

static void *
sse_ticker(void *arg)
{
    struct cb_web_server *s = arg;

    pthread_mutex_lock(&s->streams_mu);
    while (s->streams_run) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WEB_STREAM_TICK_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->streams_cv, &s->streams_mu, &until);
        /* Feed silence is a matter of time, not of events. */
        if (s->live && cb_live_tick(s->live, cb__web_live_now(s))) {
            /* out of memory: the next tick tries again */
        }
        sse_wake_locked(s);
    }
    pthread_mutex_unlock(&s->streams_mu);
    return NULL;
}

/* An event stream's response, or NULL (out of memory, too many streams). */
static struct MHD_Response *
sse_response(struct cb_web_server *s, struct MHD_Connection *c, struct web_resp *rs)
{
    struct web_sse *e;
    struct MHD_Response *r;

    if (!(e = cb_calloc(1, sizeof *e)))
        return NULL;
    pthread_mutex_lock(&s->streams_mu);
    if (s->nstreams >= s->cfg.max_connections / 2 || !s->streams_run) {
        pthread_mutex_unlock(&s->streams_mu);
        cb_free(e);
        return NULL;
    }
    s->nstreams++;
    e->next = s->streams;
    if (s->streams)
        s->streams->prev = e;
    s->streams = e;
    pthread_mutex_unlock(&s->streams_mu);
    e->s = s;
    e->c = c;
    e->src = rs->stream;
    memset(&rs->stream, 0, sizeof rs->stream);   /* the stream owns it now */
    cb_buf_init(&e->out, (size_t)16 << 20);
    e->opened = e->last_write = cb__web_mono();
    /* Tell the browser to come back a second after the stream ends. */
    if (cb_buf_adds(&e->out, "retry: 1000\n\n")) {
        sse_free(e);
        return NULL;
    }
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, e, sse_free);
    if (!r)
        sse_free(e);
    return r;
}

/* ---- responses ---- */

static enum MHD_Result
send_resp(struct cb_web_server *s, struct MHD_Connection *c, struct conn_state *cs,
          struct web_resp *rs, bool close)
{
    static char empty[1];
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t len = 0;
    char *p = NULL;
    char retry[16];

    if (rs->stream.poll) {
        r = sse_response(s, c, rs);
        if (!r) {
            if (rs->stream.release)
                rs->stream.release(rs->stream.ctx);
            memset(&rs->stream, 0, sizeof rs->stream);
            cb__web_error(rs, 429, "busy", "too many open event streams; try again");
            rs->retry_after = 5;
            return send_resp(s, c, cs, rs, true);
        }
        /* A stream lasts minutes: it is not a request in flight. */
        if (cs->counted) {
            cs->counted = false;
            atomic_fetch_sub(&s->inflight, 1);
        }
        MHD_add_response_header(r, "X-Accel-Buffering", "no");
    } else if (rs->file_fd >= 0) {
        /* A static file: the library reads it and closes the descriptor. */
        r = MHD_create_response_from_fd64(rs->file_size, rs->file_fd);
        if (r)
            rs->file_fd = -1;
    } else if ((p = cb_buf_detach(&rs->body, &len))) {
        r = MHD_create_response_from_buffer_with_free_callback(len, p, cb_free);
    } else {
        r = MHD_create_response_from_buffer(0, empty, MHD_RESPMEM_PERSISTENT);
    }
    if (!r) {
        cb_free(p);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", rs->content_type);
    MHD_add_response_header(r, "Cache-Control",
                            rs->cache_control ? rs->cache_control : "no-store");
    if (rs->etag[0])
        MHD_add_response_header(r, "ETag", rs->etag);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "Content-Security-Policy",
                            rs->csp ? rs->csp : "default-src 'self'; frame-ancestors 'none'");
    if (s->tls)
        MHD_add_response_header(r, "Strict-Transport-Security", "max-age=31536000");
    if (rs->cookie[0])
        MHD_add_response_header(r, "Set-Cookie", rs->cookie);
    if (rs->allow)
        MHD_add_response_header(r, "Allow", rs->allow);
    if (rs->retry_after) {
        snprintf(retry, sizeof retry, "%u", rs->retry_after);
        MHD_add_response_header(r, "Retry-After", retry);
    }
    if (close)
        MHD_add_response_header(r, "Connection", "close");
    cs->status = rs->status;
    cs->route = rs->route;
    cs->user_id = rs->user_id;
    ret = MHD_queue_response(c, (unsigned)rs->status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result
send_error(struct cb_web_server *s, struct MHD_Connection *c, struct conn_state *cs,
           enum web_route route, int status, const char *code, const char *msg, bool close)
{
    struct web_resp rs;
    enum MHD_Result ret;

    cb__web_resp_init(&rs);
    rs.route = route;
    if (status == 429)
        rs.retry_after = 1;
    cb__web_error(&rs, status, code, msg);
    ret = send_resp(s, c, cs, &rs, close);
    cb__web_resp_release(&rs);
    return ret;
}

/* The route of a path, for the log and the metrics of early answers. */
static enum web_route
route_of(const char *path)
{
    for (int i = 0; i < cb__web_nroutes; i++)
        if (!strcmp(cb__web_routes[i].path, path))
            return cb__web_routes[i].id;
    if (!strncmp(path, WEB_STATIC_PREFIX, sizeof WEB_STATIC_PREFIX - 1))
        return WEB_R_STATIC;
    return WEB_R_OTHER;
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/*
 * %HH decoding of the path and the query arguments, as libmicrohttpd's
 * own, except that an encoded NUL becomes the byte 0x01 instead of ending
 * the string early: "/app/x.js%00.png" must not turn into "/app/x.js".
 * Every check downstream refuses control bytes.
 */
static size_t
unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *r = s, *w = s;

    (void)cls;
    (void)c;
    while (*r) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval(r[1])) >= 0 && (lo = hexval(r[2])) >= 0) {
            int v = hi * 16 + lo;
            *w++ = v ? (char)v : '\x01';
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

/* ---- requests ---- */

struct args_ctx {
    struct web_req *rq;
    bool            overflow;
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct args_ctx *a = cls;

    (void)kind;
    if (a->rq->nargs == WEB_MAX_ARGS) {
        a->overflow = true;
        return MHD_NO;
    }
    a->rq->arg_key[a->rq->nargs] = key;
    a->rq->arg_val[a->rq->nargs] = value ? value : "";
    a->rq->nargs++;
    return MHD_YES;
}

static void
client_text(struct MHD_Connection *c, char *buf, size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;

    snprintf(buf, n, "unknown");
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
                  buf, (socklen_t)n);
    else if (sa && sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                  buf, (socklen_t)n);
}

static enum MHD_Result
handle_complete(struct cb_web_server *s, struct MHD_Connection *c, struct conn_state *cs,
                const char *url, const char *method)
{
    struct web_req rq;
    struct web_resp rs;
    struct args_ctx a = { &rq, false };
    char client[INET6_ADDRSTRLEN + 1];
    enum MHD_Result ret;

    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.path = url;
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &a);
    if (a.overflow)
        return send_error(s, c, cs, route_of(url), 400, "bad_request",
                          "too many query parameters", false);
    rq.session = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, "cb_session");
    rq.csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-CSRF-Token");
    rq.content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    rq.if_none_match = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
    rq.body = cs->body.len ? cb_buf_cstr(&cs->body) : NULL;
    rq.body_len = cs->body.len;
    client_text(c, client, sizeof client);
    rq.client = client;

    cb__web_resp_init(&rs);
    cb__web_handle(s, &rq, &rs);
    if (rs.note[0] && s->log) {
        char line[400];
        snprintf(line, sizeof line, "error: %s %s: %s", cs->method,
                 cb__web_route_label(rs.route), rs.note);
        s->log(s->log_ctx, line);
    }
    ret = send_resp(s, c, cs, &rs, false);
    cb__web_resp_release(&rs);
    /* A login body holds a password: do not leave it in freed memory. */
    if (cs->body.ptr)
        sodium_memzero(cs->body.ptr, cs->body.cap);
    return ret;
}

static enum MHD_Result
access_handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
               const char *version, const char *upload_data, size_t *upload_data_size,
               void **con_cls)
{
    struct cb_web_server *s = cls;
    struct conn_state *cs = *con_cls;

    (void)version;
    if (!cs) {
        const char *cl;
        int64_t len;

        if (!(cs = cb_calloc(1, sizeof *cs)))
            return MHD_NO;
        *con_cls = cs;
        cs->t0 = cb__web_mono();
        cs->route = route_of(url);
        snprintf(cs->method, sizeof cs->method, "%s", method);
        cb_buf_init(&cs->body, s->cfg.max_body);
        cs->counted = true;
        if (atomic_fetch_add(&s->inflight, 1) >= s->cfg.max_inflight) {
            atomic_fetch_add(&s->metrics.rejected_busy, 1);
            return send_error(s, c, cs, cs->route, 429, "busy",
                              "too many requests in progress; try again", true);
        }
        if (atomic_load(&s->stopping))
            return send_error(s, c, cs, cs->route, 503, "stopping",
                              "the server is shutting down", true);
        cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && (cb_parse_i64(cb_str_c(cl), &len) || len < 0 ||
                   (uint64_t)len > s->cfg.max_body + DRAIN_MAX))
            return send_error(s, c, cs, cs->route, 413, "too_large",
                              "the request body is too large", true);
        if (cl && (uint64_t)len > s->cfg.max_body)
            cs->too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        cs->received += n;
        if (cs->status)
            return MHD_YES;   /* answered already: discard */
        if (!cs->too_large && cb_buf_add(&cs->body, upload_data, n))
            cs->too_large = true;   /* the failed append released the buffer */
        if (cs->too_large && cs->received > s->cfg.max_body + DRAIN_MAX)
            return send_error(s, c, cs, cs->route, 413, "too_large",
                              "the request body is too large", true);
        return MHD_YES;
    }
    if (cs->status)
        return MHD_YES;
    if (cs->too_large)
        return send_error(s, c, cs, cs->route, 413, "too_large",
                          "the request body is too large", false);
    return handle_complete(s, c, cs, url, method);
}

static void
completed(void *cls, struct MHD_Connection *c, void **con_cls,
          enum MHD_RequestTerminationCode toe)
{
    struct cb_web_server *s = cls;
    struct conn_state *cs = *con_cls;

    (void)c;
    (void)toe;
    if (!cs)
        return;
    *con_cls = NULL;
    if (cs->status) {
        double secs = cb__web_mono() - cs->t0;
        cb__web_metrics_observe(&s->metrics, cs->route, cs->status, secs);
        log_line(s, cs, secs * 1000.0);
    }
    if (cs->body.ptr)
        sodium_memzero(cs->body.ptr, cs->body.cap);
    cb_buf_release(&cs->body);
    if (cs->counted)
        atomic_fetch_sub(&s->inflight, 1);
    cb_free(cs);
}

/* ---- start and stop ---- */

static enum cb_err
read_pem(const char *path, char **out, size_t *len, struct cb_buf *err)
{
    FILE *f = fopen(path, "rb");
    struct cb_buf b;
    char chunk[4096];
    size_t n;

    *out = NULL;
    if (!f) {
        cb_errf(err, "cannot open '%s': %s", path, strerror(errno));
        return CB_ERR_IO;
    }
    cb_buf_init(&b, 1u << 20);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (cb_buf_add(&b, chunk, n)) {
            fclose(f);
            sodium_memzero(chunk, sizeof chunk);
            cb_errf(err, "'%s' is larger than 1 MiB", path);
            return CB_ERR_TOO_LARGE;
        }
    fclose(f);
    sodium_memzero(chunk, sizeof chunk);
    if (!b.len) {
        cb_errf(err, "'%s' is empty", path);
        return CB_ERR_USAGE;
    }
    *out = cb_buf_detach(&b, len);
    return CB_OK;
}

static enum cb_err
copy_config(struct cb_web_config *dst, const struct cb_web_config *src)
{
    char *const *from[] = {
        &src->listen, &src->db, &src->scheme, &src->refdata, &src->datadir,
        &src->indicators, &src->catalogue_complications, &src->catalogue_mis,
        &src->catalogue_level4, &src->catalogue_level3, &src->tls_cert, &src->tls_key,
        &src->web_dir, &src->wards, &src->mllp_listen,
    };
    char **to[] = {
        &dst->listen, &dst->db, &dst->scheme, &dst->refdata, &dst->datadir,
        &dst->indicators, &dst->catalogue_complications, &dst->catalogue_mis,
        &dst->catalogue_level4, &dst->catalogue_level3, &dst->tls_cert, &dst->tls_key,
        &dst->web_dir, &dst->wards, &dst->mllp_listen,
    };

    *dst = *src;
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
        *to[i] = NULL;
    for (size_t i = 0; i < sizeof to / sizeof to[0]; i++)
        if (*from[i] && !(*to[i] = cb_strdup(*from[i])))
            return CB_ERR_NOMEM;
    return CB_OK;
}

/* Stops the streams thread (the streams themselves end with the daemon). */
static void
streams_stop(struct cb_web_server *s)
{
    if (!s->streams_thread)
        return;
    pthread_mutex_lock(&s->streams_mu);
    s->streams_run = false;
    pthread_cond_signal(&s->streams_cv);
    pthread_mutex_unlock(&s->streams_mu);
    pthread_join(s->streams_tid, NULL);
    s->streams_thread = false;
}

static void
server_free(struct cb_web_server *s)
{
    cb__web_feed_stop(s);
    cb__web_report_free(s->report);
    cb_live_free(s->live);
    pool_close(&s->pool);
    if (s->limiter) {
        cb__web_limiter_release(s->limiter);
        cb_free(s->limiter);
    }
    pthread_mutex_destroy(&s->streams_mu);
    pthread_cond_destroy(&s->streams_cv);
    if (s->tls_key_pem)
        sodium_memzero(s->tls_key_pem, s->tls_key_len);
    cb_free(s->tls_key_pem);
    cb_free(s->tls_cert_pem);
    cb_web_config_release(&s->cfg);
    cb_free(s);
}

enum cb_err
cb_web_start(struct cb_web_server **out, const struct cb_web_config *c, cb_web_log_fn log,
             void *log_ctx, struct cb_buf *err)
{
    struct cb_web_server *s;
    struct sockaddr_storage addr;
    unsigned addrlen = 0;
    size_t cert_len = 0;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
    const union MHD_DaemonInfo *di;
    enum cb_err rc;

    *out = NULL;
    if (!(s = cb_calloc(1, sizeof *s)))
        return CB_ERR_NOMEM;
    s->quiesced_fd = -1;
    pthread_mutex_init(&s->streams_mu, NULL);
    pthread_cond_init(&s->streams_cv, NULL);
    s->log = log;
    s->log_ctx = log_ctx;
    atomic_init(&s->inflight, 0);
    atomic_init(&s->stopping, false);
    if ((rc = copy_config(&s->cfg, c)))
        goto fail;
    if (!s->cfg.db || !s->cfg.listen) {
        cb_errf(err, "the server needs a database (db) and an address (listen)");
        rc = CB_ERR_USAGE;
        goto fail;
    }
    if ((rc = cb_netaddr_parse("listen", s->cfg.listen, &addr, &addrlen, s->host,
                                sizeof s->host, &s->port, err)))
        goto fail;
    if (!s->cfg.tls_cert != !s->cfg.tls_key) {
        cb_errf(err, "TLS needs both tls_cert and tls_key");
        rc = CB_ERR_USAGE;
        goto fail;
    }
    if (s->cfg.tls_cert) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            cb_errf(err, "this libmicrohttpd was built without TLS support");
            rc = CB_ERR_USAGE;
            goto fail;
        }
        if ((rc = read_pem(s->cfg.tls_cert, &s->tls_cert_pem, &cert_len, err)) ||
            (rc = read_pem(s->cfg.tls_key, &s->tls_key_pem, &s->tls_key_len, err)))
            goto fail;
        s->tls = true;
        flags |= MHD_USE_TLS;
    }
    if (addr.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;

    if (!(s->limiter = cb_malloc(sizeof *s->limiter))) {
        rc = CB_ERR_NOMEM;
        goto fail;
    }
    cb__web_limiter_init(s->limiter, s->cfg.login_failures, s->cfg.login_window_s);
    if ((rc = cb_web_password_hash("carebase: no such user", s->dummy_hash,
                                   sizeof s->dummy_hash, err)))
        goto fail;
    if ((rc = pool_open(&s->pool, s->cfg.db, (int)s->cfg.threads + 1, err)))
        goto fail;
    if ((rc = cb__web_report_new(&s->report, &s->cfg, err)) ||
        (rc = cb__web_live_open(s, err)))
        goto fail;
    {
        struct cb_store *st = cb__web_pool_get(&s->pool);
        rc = cb__web_report_refresh(s->report, st, 0, err);
        cb__web_pool_put(&s->pool, st);
        if (rc)
            goto fail;
    }

    s->streams_run = true;
    if (pthread_create(&s->streams_tid, NULL, sse_ticker, s)) {
        cb_errf(err, "cannot start the event stream thread");
        rc = CB_ERR_IO;
        goto fail;
    }
    s->streams_thread = true;
    {
        struct MHD_OptionItem tls_opts[] = {
            { MHD_OPTION_HTTPS_MEM_CERT, 0, s->tls_cert_pem },
            { MHD_OPTION_HTTPS_MEM_KEY, 0, s->tls_key_pem },
            { MHD_OPTION_END, 0, NULL },
        };
        struct MHD_OptionItem no_opts[] = { { MHD_OPTION_END, 0, NULL } };
        s->daemon = MHD_start_daemon(
            flags, (uint16_t)s->port, NULL, NULL, access_handler, s,
            MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s,
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)s->cfg.threads,
            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)s->cfg.max_connections,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->cfg.timeout_s,
            MHD_OPTION_NOTIFY_COMPLETED, completed, s,
            MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
            MHD_OPTION_ARRAY, s->tls ? tls_opts : no_opts,
            MHD_OPTION_END);
    }
    if (!s->daemon) {
        cb_errf(err, "cannot listen on %s (address in use, not permitted, or a bad TLS"
                " certificate or key)", s->cfg.listen);
        rc = CB_ERR_IO;
        goto fail;
    }
    di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (di)
        s->port = di->port;
    if ((rc = cb__web_feed_start(s, err))) {
        MHD_stop_daemon(s->daemon);
        s->daemon = NULL;
        goto fail;
    }
    *out = s;
    return CB_OK;

fail:
    streams_stop(s);
    server_free(s);
    return rc;
}

int
cb_web_port(const struct cb_web_server *s)
{
    return s->port;
}

const char *
cb_web_host(const struct cb_web_server *s)
{
    return s->host;
}

bool
cb_web_tls(const struct cb_web_server *s)
{
    return s->tls;
}

void
cb_web_stop(struct cb_web_server *s)
{
    if (!s)
        return;
    /* HTTP first: /metrics reads the feed's counters, so the feed stops
       (in server_free) only once no request can run. */
    if (s->daemon) {
        struct MHD_Daemon *d = s->daemon;
        double deadline;

        atomic_store(&s->stopping, true);
        s->quiesced_fd = MHD_quiesce_daemon(d);
        deadline = cb__web_mono() + (double)s->cfg.shutdown_grace_s;
        for (;;) {
            struct timespec nap = { 0, 20 * 1000000L };
            unsigned open_streams;
            /* Streams see `stopping` when woken and end. */
            pthread_mutex_lock(&s->streams_mu);
            sse_wake_locked(s);
            open_streams = s->nstreams;
            pthread_mutex_unlock(&s->streams_mu);
            if ((atomic_load(&s->inflight) == 0 && open_streams == 0) ||
                cb__web_mono() >= deadline)
                break;
            nanosleep(&nap, NULL);
        }
        streams_stop(s);
        MHD_stop_daemon(d);
        if (s->quiesced_fd >= 0)
            close(s->quiesced_fd);
        s->daemon = NULL;
    }
    server_free(s);
}
