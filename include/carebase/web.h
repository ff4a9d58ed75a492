/*
 * web.h - `carebase serve`: an HTTP server (libmicrohttpd) with an
 * authenticated JSON API over the store and the indicator engine.
 *
 * The server owns a small pool of store connections (one per worker thread,
 * plus one), the indicator engine loaded from the store's facts (refreshed
 * when an import or regroup writes new ones), a login rate limiter and the
 * request metrics. It never prints: each request's log line goes to the
 * caller's log function. docs/api.md describes the routes, the errors, the
 * limits and the configuration file.
 *
 * Thread-safety: cb_web_start and cb_web_stop are called by one thread;
 * the log function is called from the server's worker threads.
 */
#ifndef CAREBASE_WEB_H
#define CAREBASE_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "carebase/buf.h"
#include "carebase/err.h"

/* Settings of the server; strings are owned (cb_web_config_release). */
struct cb_web_config {
    char    *listen;           /* "127.0.0.1:8080"; port 0 = ephemeral */
    char    *db;               /* database file */
    char    *scheme;           /* DRG scheme package (not used by the routes yet) */
    char    *refdata;          /* national code tables (indicator catalogues) */
    char    *datadir;          /* Carebase data (indicator catalogue, lists) */
    char    *indicators;       /* indicator catalogue; NULL: datadir's */
    char    *catalogue_complications, *catalogue_mis, *catalogue_level4,
            *catalogue_level3; /* as $CAREBASE_CATALOGUE_*; NULL = default/none */
    char    *tls_cert, *tls_key; /* PEM files; both set = HTTPS */
    char    *web_dir;          /* the web application (index.html, app/,
                                  node_modules/echarts); NULL = none */
    unsigned threads;          /* worker threads, 1..64 (default 4) */
    unsigned max_connections;  /* open connections at once (default 256) */
    unsigned max_inflight;     /* requests being handled at once (default 64) */
    unsigned timeout_s;        /* idle connection timeout (default 15) */
    size_t   max_body;         /* request body limit, bytes (default 65536) */
    unsigned session_ttl_s;    /* session lifetime (default 28800: 8 h) */
    unsigned login_failures;   /* per user name and per client address in
                                  login_window_s before 429 (default 5) */
    unsigned login_window_s;   /* default 60 */
    unsigned refresh_s;        /* new facts are looked for at most this often (5) */
    unsigned shutdown_grace_s; /* in-flight requests may finish (default 10) */
    /* Live operations (the command centre, fed by HL7 ADT): */
    char    *wards;            /* wards TSV: hospital, ward, name, care_level,
                                  beds, staffed; NULL = only wards seen in the feed */
    unsigned alert_occupancy_pct;   /* ward occupancy alert at >= (default 95) */
    unsigned alert_boarders;        /* ED boarders alert at > (default 5) */
    unsigned alert_feed_silent_min; /* feed silent alert after (default 10) */
    unsigned los_outlier_days;      /* length-of-stay outliers (default 30) */
    int      utc_offset_min;        /* local time of the feeds (default 480: +0800) */
    /* The MLLP listener (include/carebase/feed.h), started after HTTP. */
    char    *mllp_listen;      /* "127.0.0.1:2575"; NULL or "off": none
                                  (`carebase serve` sets the default) */
    size_t   mllp_max_message; /* bytes per message (default 1 MiB) */
    unsigned mllp_max_connections; /* default 256 */
    unsigned mllp_idle_timeout_s;  /* default 300 */
};

/* Sets every field to its default (strings NULL); cannot fail. */
void cb_web_config_init(struct cb_web_config *c);
void cb_web_config_release(struct cb_web_config *c);

/*
 * Sets one setting by its configuration-file key (listen, db, scheme,
 * refdata, datadir, indicators, catalogue_*, tls_cert, tls_key, web_dir, threads,
 * max_connections, max_inflight, timeout, max_body, session_ttl,
 * login_failures, login_window, refresh, shutdown_grace, mllp_listen,
 * mllp_max_message, mllp_max_connections, mllp_idle_timeout). CB_ERR_USAGE for
 * an unknown key or a bad value (message in err).
 */
CB_MUST_CHECK enum cb_err cb_web_config_set(struct cb_web_config *c, const char *key,
                                            const char *value, struct cb_buf *err);

/*
 * Reads a configuration file: `key = value` lines, `#` comments, blank
 * lines. Relative paths in it are taken as they are (relative to the
 * server's working directory). Errors name the file and line.
 */
CB_MUST_CHECK enum cb_err cb_web_config_load(struct cb_web_config *c, const char *path,
                                             struct cb_buf *err);

/* One request log line (no newline); called from worker threads. */
typedef void (*cb_web_log_fn)(void *ctx, const char *line);

struct cb_web_server;

/*
 * Opens the store, loads the indicator engine and starts listening; then,
 * unless mllp_listen is NULL or "off", replays the HL7 journal and starts
 * the MLLP listener (its log lines go to log too). c is copied. log may be
 * NULL. On success the server runs on its own threads until cb_web_stop.
 */
CB_MUST_CHECK enum cb_err cb_web_start(struct cb_web_server **out,
                                       const struct cb_web_config *c,
                                       cb_web_log_fn log, void *log_ctx,
                                       struct cb_buf *err);
/* The bound port (the ephemeral one when the configuration said 0). */
int  cb_web_port(const struct cb_web_server *s);
/* The address as listened on, e.g. "127.0.0.1" or "[::1]". */
const char *cb_web_host(const struct cb_web_server *s);
bool cb_web_tls(const struct cb_web_server *s);
/* The MLLP listener's port (0: none) and address ("127.0.0.1"). */
int  cb_web_mllp_port(const struct cb_web_server *s);
const char *cb_web_mllp_host(const struct cb_web_server *s);
/*
 * Graceful stop: first the MLLP listener (what it read is stored and
 * answered), then HTTP: stops accepting, lets in-flight requests finish
 * (at most shutdown_grace_s), stops the threads, closes the store.
 * cb_web_stop(NULL) is a no-op.
 */
void cb_web_stop(struct cb_web_server *s);

/* ---- passwords ---------------------------------------------------------- */

#define CB_WEB_PASSWORD_MIN 8
#define CB_WEB_PASSWORD_MAX 1024

/*
 * Hashes a password with argon2id (libsodium crypto_pwhash_str, interactive
 * limits) into out (CB_PWHASH_MAX bytes, see store.h). CB_ERR_USAGE when
 * the password is shorter than CB_WEB_PASSWORD_MIN or longer than
 * CB_WEB_PASSWORD_MAX bytes; CB_ERR_NOMEM when hashing cannot get memory.
 */
CB_MUST_CHECK enum cb_err cb_web_password_hash(const char *password, char *out,
                                               size_t out_cap, struct cb_buf *err);
/* Whether password matches a hash from cb_web_password_hash (constant time). */
bool cb_web_password_verify(const char *hash, const char *password);

#endif
