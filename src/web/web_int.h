/*
 * web_int.h - shared only by the files under src/web/.
 *
 *   web_http.c     the only includer of microhttpd.h: the daemon, request
 *                  bodies and limits, responses, logging, shutdown
 *   web_api.c      the routes: request struct in, response struct out
 *                  (parse -> service -> render; no HTTP library)
 *   web_auth.c     passwords, tokens, the login rate limiter, and who may
 *                  see what (pure)
 *   web_report.c   the indicator service: the engine loaded from the store,
 *                  its names, and the JSON of `carebase indicators`
 *   web_metrics.c  request counters and the Prometheus text
 *   web_config.c   the settings and the configuration file
 *   web_static.c   the web application's files (GET /, /app/...): path
 *                  checks, content types, caching headers
 *   web_feed.c     the MLLP listener in the server: its handler (for now
 *                  a minimal one) and its metrics
 */
#ifndef CB_WEB_INT_H
#define CB_WEB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "carebase/engine.h"
#include "carebase/live.h"
#include "carebase/lineage.h"
#include "carebase/store.h"
#include "carebase/web.h"

/* ---- roles and scope (web_auth.c) -------------------------------------- */

enum web_role {
    WEB_ROLE_NONE = 0,
    WEB_ROLE_CONSORTIUM_ADMIN,   /* the hospitals of one org group */
    WEB_ROLE_HOSPITAL_ADMIN,     /* one hospital */
    WEB_ROLE_DEPARTMENT_VIEWER   /* one department of one hospital */
};
enum web_role cb__web_role_parse(const char *s);

/* The unit of an indicator request (?by=). */
enum web_by { WEB_BY_HOSPITAL = 0, WEB_BY_DEPARTMENT, WEB_BY_DOCTOR, WEB_BY_CONSORTIUM };
/* 0, or -1 when s is not hospital, department, doctor or consortium. */
int cb__web_by_parse(const char *s, enum web_by *by);

/*
 * Whether a role may read indicators by a unit (consortium aggregates:
 * consortium_admin only; doctors: not a department_viewer, whose doctors
 * cannot be told from the rest of the hospital's) and, when the request
 * names a hospital, whether that hospital is in the user's scope.
 * Returns 0 (allowed) or 403.
 */
int cb__web_authorize_indicators(enum web_role role, enum web_by by, bool hospital_given,
                             bool hospital_visible);
/* Rejects (case-level): admins, for hospitals in scope. 0 or 403. */
/* Cases (GET /api/cases, /api/case): every role, for hospitals in scope;
 * a department viewer only for its own department (department_given: the
 * request names one; department_own: it is the viewer's). 0 or 403. */
int cb__web_authorize_cases(enum web_role role, bool hospital_given, bool hospital_visible,
                            bool department_given, bool department_own);
int cb__web_authorize_rejects(enum web_role role, bool hospital_given, bool hospital_visible);

/* ---- tokens (web_auth.c) ------------------------------------------------ */

#define WEB_TOKEN_BYTES 32
#define WEB_TOKEN_HEX   (2 * WEB_TOKEN_BYTES + 1)   /* with the NUL */

/* 32 random bytes (libsodium randombytes) as lower-case hex. */
void cb__web_token_new(char out[WEB_TOKEN_HEX]);
/* The SHA-256 of a token, as lower-case hex: what the store keeps. */
void cb__web_token_hash(const char *token, char out[WEB_TOKEN_HEX]);
/* Whether s is 64 lower-case hex digits. */
bool cb__web_token_valid(const char *s);
/* a == b in time independent of where they differ (lengths may leak). */
bool cb__web_str_equal_ct(const char *a, const char *b);

/* ---- the login rate limiter (web_auth.c) -------------------------------- */

#define WEB_LIMIT_SLOTS 4096

struct web_limit_slot {
    uint64_t key;      /* keyed hash of the name; 0 = free */
    int64_t  start;    /* start of the window, seconds */
    uint32_t count;    /* failures in the window */
};

/*
 * Failures per key ("user:NAME", "ip:ADDR") in fixed windows. Memory is
 * bounded: a full table overwrites the oldest window among the probed
 * slots. Keys are hashed with a random seed, so names cannot be chosen to
 * collide.
 */
struct web_limiter {
    pthread_mutex_t       mu;
    uint64_t              seed;
    unsigned              max;     /* failures allowed per window */
    unsigned              window;  /* seconds */
    struct web_limit_slot slot[WEB_LIMIT_SLOTS];
};

void cb__web_limiter_init(struct web_limiter *l, unsigned max, unsigned window);
void cb__web_limiter_release(struct web_limiter *l);
/* Whether key has used up its failures in the window that contains now. */
bool cb__web_limiter_blocked(struct web_limiter *l, const char *key, int64_t now);
void cb__web_limiter_fail(struct web_limiter *l, const char *key, int64_t now);
void cb__web_limiter_clear(struct web_limiter *l, const char *key);

/* ---- the indicator service (web_report.c) ------------------------------- */

struct web_report;

/* Loads the indicator catalogue and the catalogues named by c; no facts yet. */
CB_MUST_CHECK enum cb_err cb__web_report_new(struct web_report **out,
                                         const struct cb_web_config *c,
                                         struct cb_buf *err);
void cb__web_report_free(struct web_report *r);

/*
 * Brings the engine up to date with the store: at most once per
 * min_interval seconds (0: now), looks for new or rewritten facts, a new
 * reference or new organisations and loads what changed. Safe to call
 * from several threads: one refreshes, the others go on with what is
 * loaded.
 */
CB_MUST_CHECK enum cb_err cb__web_report_refresh(struct web_report *r, struct cb_store *st,
                                             unsigned min_interval, struct cb_buf *err);
size_t cb__web_report_facts(struct web_report *r);

struct web_ind_query {
    enum web_by    by;
    enum cb_period period;
    uint16_t       from, to;      /* fact days, inclusive (0, 0xFFFF = all) */
    const uint8_t *mask;          /* allowed[hospital id]; never NULL */
    size_t         nmask;
    const char    *ids;           /* comma-separated indicator ids, or NULL */
    const char    *list;          /* one list of the catalogue, or NULL */
    const char    *department;    /* by department: only this code, or NULL */
    int            threads;
};

/*
 * The JSON of `carebase indicators --format json` for q into out (the same
 * rows; without the engine's load time and record count). CB_ERR_USAGE
 * when no indicator matches ids/list (message in err).
 */
CB_MUST_CHECK enum cb_err cb__web_report_json(struct web_report *r, const struct web_ind_query *q,
                                          struct cb_buf *out, struct cb_buf *err);

struct web_drg_query {
    const uint8_t *mask;          /* allowed[hospital id]; never NULL */
    size_t         nmask;
    uint16_t       from, to;      /* fact days, inclusive */
    const char    *department;    /* only this CYKB code, or NULL */
    int            limit;         /* DRGs listed, most cases first */
};

/*
 * The DRG table of GET /api/drgs: per DRG of the grouped facts in q, the
 * cases, deaths, mean LOS and cost, and the newest reference's weight,
 * risk grade, means and the DRG's cost and time indices.
 */
CB_MUST_CHECK enum cb_err cb__web_report_drgs(struct web_report *r,
                                          const struct web_drg_query *q,
                                          struct cb_buf *out);

/*
 * The answer cache of /api/indicators and /api/drgs, for other answers that
 * change only with the data (imports, references): the key must hold the
 * whole query, scope included, and a prefix of its own ("Q|" for /api/qc).
 * cb__web_report_cached copies a fresh answer into out (true), or says
 * which data version an answer computed now is of (ver, read before the
 * data); cb__web_report_cache keeps body unless the data changed since.
 */
struct web_answer_version {
    int64_t v[4];
};
bool cb__web_report_cached(struct web_report *r, const struct cb_buf *key, struct cb_buf *out,
                           struct web_answer_version *ver);
void cb__web_report_cache(struct web_report *r, const struct cb_buf *key,
                          const struct web_answer_version *ver, const char *body, size_t len);

/* The cases behind an indicator value (GET /api/cases). */
struct web_cases_query {
    const char    *indicator;     /* an id (fp.04) or a national number (4) */
    bool           denominator;   /* the denominator's cases, else the numerator's */
    uint16_t       from, to;      /* fact days, inclusive */
    const uint8_t *mask;          /* allowed[hospital id]; never NULL */
    size_t         nmask;
    const char    *department;    /* only this CYKB code, or NULL */
    const char    *doctor;        /* only this attending doctor (ZZYS), or NULL */
    size_t         offset, limit; /* the page (limit > 0) */
};

struct web_cases_answer {
    const struct cb_indicator *ind;        /* the report's catalogue (immutable) */
    struct cb_counter_info     ctr;        /* the side's counter */
    struct cb_lineage          sel;        /* the page's cases; count, sum */
    struct cb_ind_value        v;          /* the indicator for the whole scope */
    char                       reference[128];    /* the reference used, or "" */
    char                       not_computable[160];/* why not, or "" (no cases) */
};

/*
 * Selects the cases of q with the loaded engine, reference and catalogues
 * into a (owned: cb__web_cases_answer_release, also after a failure).
 * CB_ERR_USAGE when the indicator is unknown or a count is asked for its
 * denominator (message in err); an indicator the loaded catalogues or
 * reference cannot compute gives CB_OK with a->not_computable set.
 */
CB_MUST_CHECK enum cb_err cb__web_report_cases(struct web_report *r,
                                               const struct web_cases_query *q,
                                               struct web_cases_answer *a,
                                               struct cb_buf *err);
void cb__web_cases_answer_release(struct web_cases_answer *a);

/*
 * One case by key with cb_case_find, traced with the server's tracer
 * (created on first use from st, shared under a mutex). CB_ERR_NOT_FOUND.
 */
CB_MUST_CHECK enum cb_err cb__web_report_case(struct web_report *r, struct cb_store *st,
                                              const char *zzjgdm, const char *bah,
                                              int64_t zycs, unsigned flags,
                                              struct cb_case *out, struct cb_arena *a,
                                              struct cb_buf *err);

/* A QC rule's name from datadir/qc/rules.tsv, or NULL when unknown. */
const char *cb__web_report_rule_name(const struct web_report *r, const char *rule, bool zh);

/* "2025", "2025Q1", "2025-03": the period kind and its days; -1 if invalid. */
int cb__web_parse_period(const char *s, enum cb_period *kind, uint16_t *from, uint16_t *to);

/* ---- routes and metrics (web_metrics.c) --------------------------------- */

enum web_route {
    WEB_R_INDEX, WEB_R_HEALTHZ, WEB_R_METRICS, WEB_R_LOGIN, WEB_R_LOGOUT, WEB_R_ME,
    WEB_R_ORGS, WEB_R_INDICATORS, WEB_R_REJECTS, WEB_R_DRGS, WEB_R_QC,
    WEB_R_CASES, WEB_R_CASE,
    WEB_R_LIVE_SUMMARY, WEB_R_LIVE_WARDS, WEB_R_LIVE_ALERTS, WEB_R_LIVE_STREAM,
    WEB_R_STATIC,   /* /app/...: the web application's files (prefix route) */
    WEB_R_OTHER,    /* no route: 404 */
    WEB_R__N
};

struct web_route_def {
    const char    *path;
    const char    *method;   /* GET or POST (GET routes also answer HEAD) */
    enum web_route id;
    bool           session;  /* needs a valid session */
    bool           csrf;     /* state-changing: needs X-CSRF-Token */
};
extern const struct web_route_def cb__web_routes[];
extern const int cb__web_nroutes;
const char *cb__web_route_label(enum web_route r);

/* The path of a static file under /app/ (route WEB_R_STATIC). */
#define WEB_STATIC_PREFIX "/app/"

#define WEB_NSTATUS  15
#define WEB_NBUCKETS 12

struct web_metrics {
    _Atomic uint_least64_t req[WEB_R__N][WEB_NSTATUS];
    _Atomic uint_least64_t bucket[WEB_NBUCKETS]; /* cumulative by le, +Inf last */
    _Atomic uint_least64_t count, sum_us;
    _Atomic uint_least64_t login_failures, rate_limited, rejected_busy;
};

void cb__web_metrics_observe(struct web_metrics *m, enum web_route r, int status,
                         double seconds);
CB_MUST_CHECK enum cb_err cb__web_metrics_render(struct web_metrics *m, size_t facts,
                                             unsigned inflight, struct cb_buf *out);

/* ---- the server --------------------------------------------------------- */

/* Store connections: one thread at a time each (store.h). */
struct web_pool {
    pthread_mutex_t   mu;
    pthread_cond_t    cv;
    struct cb_store **all, **idle;
    int               n, nidle;
};

struct cb_web_server {
    struct cb_web_config cfg;          /* copy, owned */
    cb_web_log_fn        log;
    void                *log_ctx;
    struct web_pool      pool;
    struct web_report   *report;
    struct cb_live      *live;         /* the command centre's state (web_live.c) */
    struct web_limiter  *limiter;
    struct web_metrics   metrics;
    char                 dummy_hash[CB_PWHASH_MAX]; /* verified for unknown users */
    atomic_uint          inflight;     /* requests begun, not completed */
    atomic_bool          stopping;
    void                *daemon;       /* struct MHD_Daemon */
    int                  quiesced_fd;  /* listen socket after quiesce, or -1 */
    int                  port;
    char                 host[80];
    bool                 tls;
    char                *tls_cert_pem, *tls_key_pem;
    size_t               tls_key_len;
    /* Event streams (web_http.c): the open ones, and a thread that wakes
       the suspended ones every WEB_STREAM_TICK_MS. */
    pthread_mutex_t      streams_mu;
    pthread_cond_t       streams_cv;
    struct web_sse      *streams;
    unsigned             nstreams;
    bool                 streams_run;
    bool                 streams_thread;
    pthread_t            streams_tid;
    struct web_feed     *feed;         /* the MLLP listener, or NULL */
};

/* ---- live operations (web_live.c) -------------------------------------- */

/* The live state with the configured thresholds and wards (s->live). */
CB_MUST_CHECK enum cb_err cb__web_live_open(struct cb_web_server *s, struct cb_buf *err);
/* Local wall-clock milliseconds now, at the configured UTC offset. */
int64_t cb__web_live_now(const struct cb_web_server *s);

/* ---- the MLLP listener (web_feed.c) ------------------------------------- */

/*
 * Starts the MLLP listener of s->cfg (nothing when mllp_listen is NULL or
 * "off"): its handler, the replay of the journal, the socket.
 */
CB_MUST_CHECK enum cb_err cb__web_feed_start(struct cb_web_server *s, struct cb_buf *err);
/* Stops it gracefully; nothing when it does not run. */
void cb__web_feed_stop(struct cb_web_server *s);
/* Its counters as Prometheus text, appended to out (nothing when off). */
CB_MUST_CHECK enum cb_err cb__web_feed_metrics(struct cb_web_server *s, struct cb_buf *out);

struct cb_store *cb__web_pool_get(struct web_pool *p);
void cb__web_pool_put(struct web_pool *p, struct cb_store *st);

/* ---- requests and responses (web_api.c) --------------------------------- */

#define WEB_MAX_ARGS 32

struct web_req {
    const char *method;
    const char *path;                  /* without the query string */
    int         nargs;
    const char *arg_key[WEB_MAX_ARGS]; /* query parameters, first wins */
    const char *arg_val[WEB_MAX_ARGS];
    const char *session;               /* cookie cb_session, or NULL */
    const char *csrf;                  /* header X-CSRF-Token, or NULL */
    const char *content_type;
    const char *body;                  /* NUL-terminated; NULL when none */
    size_t      body_len;
    const char *client;                /* peer address as text */
    const char *if_none_match;         /* header If-None-Match, or NULL */
};

/*
 * A server-sent event stream (text/event-stream): a handler that answers
 * with one sets web_resp.stream; the HTTP layer then keeps the connection
 * open and calls poll whenever something may have changed (a tick every
 * WEB_STREAM_TICK_MS) on a worker thread. poll appends complete events
 * ("event: x\ndata: ...\n\n") that are new since *seen (the source's own
 * version counter, 0 at first) to out and advances *seen; it leaves out
 * empty when nothing is new. A stream ends after WEB_STREAM_MAX_S (the
 * browser's EventSource reconnects, with a fresh authorisation) or at
 * shutdown; release frees ctx.
 */
struct web_stream {
    enum cb_err (*poll)(void *ctx, uint64_t *seen, struct cb_buf *out);
    /* Optional: whether poll has something to send now. The streams thread
       resumes a suspended stream only then (or for a keep-alive); without
       it, at every tick. Called under the streams lock, never during poll. */
    bool        (*due)(void *ctx);
    void        (*release)(void *ctx);
    void         *ctx;
};

#define WEB_STREAM_TICK_MS   250
#define WEB_STREAM_PING_S    10
#define WEB_STREAM_MAX_S     300

struct web_resp {
    int            status;
    enum web_route route;
    int64_t        user_id;            /* 0 = none (for the log) */
    const char    *content_type;
    struct cb_buf  body;
    char           cookie[256];        /* Set-Cookie value, or "" */
    const char    *allow;              /* Allow (405), or NULL */
    unsigned       retry_after;        /* seconds (429), or 0 */
    char           note[256];          /* why a 500, for the server's log only */
    /* A static file (web_static.c): the body is the open file, handed to the
       HTTP library, which closes it; -1 = the body buffer. */
    int            file_fd;
    uint64_t       file_size;
    const char    *cache_control;      /* NULL: no-store */
    const char    *csp;                /* NULL: the API's policy */
    char           etag[48];           /* ETag, or "" */
    struct web_stream stream;          /* poll set: an event stream (200) */
};

void cb__web_resp_init(struct web_resp *rs);
void cb__web_resp_release(struct web_resp *rs);
/* Routes rq and fills rs; never fails (errors are responses). */
void cb__web_handle(struct cb_web_server *s, const struct web_req *rq, struct web_resp *rs);
/* Replaces rs's body with {"error":{"code":code,"message":msg}} and sets status. */
void cb__web_error(struct web_resp *rs, int status, const char *code, const char *msg);

/* ---- the web application's files (web_static.c) ------------------------ */

/*
 * Answers GET / (index.html) and GET /app/PATH from the web directory (NULL:
 * none): the file's descriptor in rs->file_fd with a fixed content type,
 * caching headers and the page's Content-Security-Policy; 304 when
 * if_none_match is the file's ETag; 404 for a path that is not a plain
 * relative name (dot segments, empty segments, backslashes, control bytes)
 * or not a regular file with a known extension.
 */
void cb__web_static(const char *web_dir, const struct web_req *rq, struct web_resp *rs);
/* Whether p (after /app/) is a safe relative path: see cb__web_static. */
bool cb__web_static_path_ok(const char *p);

/* Seconds since the epoch (wall clock) and a monotonic clock. */
int64_t cb__web_now(void);
double  cb__web_mono(void);

#endif
