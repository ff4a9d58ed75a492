/*
 * web_metrics.c - the route table, request counters and latency
 * histogram, rendered as Prometheus text (exposition format 0.0.4).
 *
 * Labels are the route patterns and a fixed set of status codes, never a
 * raw path: an unknown path counts as route "other", so a client cannot
 * grow the label set (or put a patient identifier into it).
 */
#include <stdio.h>

#include "web_int.h"

const struct web_route_def cb__web_routes[] = {
    { "/",               "GET",  WEB_R_INDEX,      false, false },
    { "/healthz",        "GET",  WEB_R_HEALTHZ,    false, false },
    { "/metrics",        "GET",  WEB_R_METRICS,    false, false },
    { "/api/login",      "POST", WEB_R_LOGIN,      false, false },
    { "/api/logout",     "POST", WEB_R_LOGOUT,     true,  true  },
    { "/api/me",         "GET",  WEB_R_ME,         true,  false },
    { "/api/orgs",       "GET",  WEB_R_ORGS,       true,  false },
    { "/api/indicators", "GET",  WEB_R_INDICATORS, true,  false },
    { "/api/rejects",    "GET",  WEB_R_REJECTS,    true,  false },
    { "/api/drgs",       "GET",  WEB_R_DRGS,       true,  false },
    { "/api/qc",         "GET",  WEB_R_QC,         true,  false },
    { "/api/cases",      "GET",  WEB_R_CASES,      true,  false },
    { "/api/case",       "GET",  WEB_R_CASE,       true,  false },
    { "/api/live/summary", "GET", WEB_R_LIVE_SUMMARY, true, false },
    { "/api/live/wards",   "GET", WEB_R_LIVE_WARDS,   true, false },
    { "/api/live/alerts",  "GET", WEB_R_LIVE_ALERTS,  true, false },
    { "/api/live/stream",  "GET", WEB_R_LIVE_STREAM,  true, false },
    /* A prefix: every path under /app/ (the label never has the raw path). */
    { "/app/*",          "GET",  WEB_R_STATIC,     false, false },
};
const int cb__web_nroutes = (int)(sizeof cb__web_routes / sizeof cb__web_routes[0]);

const char *
cb__web_route_label(enum web_route r)
{
    for (int i = 0; i < cb__web_nroutes; i++)
        if (cb__web_routes[i].id == r)
            return cb__web_routes[i].path;
    return "other";
}

static const int status_codes[WEB_NSTATUS] = {
    200, 204, 304, 400, 401, 403, 404, 405, 409, 413, 415, 429, 500, 503,
    0 /* any other */
};

static const double bucket_le[WEB_NBUCKETS - 1] = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5
};

void
cb__web_metrics_observe(struct web_metrics *m, enum web_route r, int status, double seconds)
{
    int k = WEB_NSTATUS - 1;

    for (int i = 0; i < WEB_NSTATUS - 1; i++)
        if (status_codes[i] == status) {
            k = i;
            break;
        }
    if ((unsigned)r >= WEB_R__N)
        r = WEB_R_OTHER;
    atomic_fetch_add(&m->req[r][k], 1);
    for (int b = 0; b < WEB_NBUCKETS - 1; b++)
        if (seconds <= bucket_le[b])
            atomic_fetch_add(&m->bucket[b], 1);
    atomic_fetch_add(&m->bucket[WEB_NBUCKETS - 1], 1);
    atomic_fetch_add(&m->count, 1);
    atomic_fetch_add(&m->sum_us, (uint_least64_t)(seconds > 0 ? seconds * 1e6 : 0));
}

enum cb_err
cb__web_metrics_render(struct web_metrics *m, size_t facts, unsigned inflight,
                   struct cb_buf *out)
{
    enum cb_err rc;

    if ((rc = cb_buf_adds(out,
            "# HELP carebase_http_requests_total HTTP requests by route and status.\n"
            "# TYPE carebase_http_requests_total counter\n")))
        return rc;
    for (int r = 0; r < WEB_R__N; r++)
        for (int k = 0; k < WEB_NSTATUS; k++) {
            uint_least64_t n = atomic_load(&m->req[r][k]);
            char st[8];
            if (!n)
                continue;
            if (status_codes[k])
                snprintf(st, sizeof st, "%d", status_codes[k]);
            else
                snprintf(st, sizeof st, "other");
            if ((rc = cb_buf_addf(out, "carebase_http_requests_total{route=\"%s\","
                                  "status=\"%s\"} %llu\n", cb__web_route_label((enum web_route)r),
                                  st, (unsigned long long)n)))
                return rc;
        }
    if ((rc = cb_buf_adds(out,
            "# HELP carebase_http_request_duration_seconds Time from the first byte"
            " of a request to its response, all routes.\n"
            "# TYPE carebase_http_request_duration_seconds histogram\n")))
        return rc;
    for (int b = 0; b < WEB_NBUCKETS; b++) {
        char le[16];
        if (b < WEB_NBUCKETS - 1)
            snprintf(le, sizeof le, "%g", bucket_le[b]);
        else
            snprintf(le, sizeof le, "+Inf");
        if ((rc = cb_buf_addf(out, "carebase_http_request_duration_seconds_bucket{le=\"%s\"}"
                              " %llu\n", le,
                              (unsigned long long)atomic_load(&m->bucket[b]))))
            return rc;
    }
    rc = cb_buf_addf(out,
        "carebase_http_request_duration_seconds_sum %.6f\n"
        "carebase_http_request_duration_seconds_count %llu\n"
        "# HELP carebase_http_requests_in_flight Requests being handled now.\n"
        "# TYPE carebase_http_requests_in_flight gauge\n"
        "carebase_http_requests_in_flight %u\n"
        "# HELP carebase_login_failures_total Failed logins (bad name or password).\n"
        "# TYPE carebase_login_failures_total counter\n"
        "carebase_login_failures_total %llu\n"
        "# HELP carebase_login_rate_limited_total Logins refused by the rate limit.\n"
        "# TYPE carebase_login_rate_limited_total counter\n"
        "carebase_login_rate_limited_total %llu\n"
        "# HELP carebase_http_busy_total Requests refused over the in-flight limit.\n"
        "# TYPE carebase_http_busy_total counter\n"
        "carebase_http_busy_total %llu\n"
        "# HELP carebase_engine_facts Discharges (facts) loaded in the indicator engine.\n"
        "# TYPE carebase_engine_facts gauge\n"
        "carebase_engine_facts %zu\n",
        (double)atomic_load(&m->sum_us) / 1e6, (unsigned long long)atomic_load(&m->count),
        inflight, (unsigned long long)atomic_load(&m->login_failures),
        (unsigned long long)atomic_load(&m->rate_limited),
        (unsigned long long)atomic_load(&m->rejected_busy), facts);
    return rc;
}
