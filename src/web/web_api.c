/*
 * web_api.c - the routes of `carebase serve`: a struct web_req in, a
 * struct web_resp out. Each handler parses its parameters, asks the store
 * or the indicator service, and renders JSON; nothing here knows the HTTP
 * library (web_http.c does the wire).
 *
 * Order of checks for every request: route (404), method (405), session
 * (401), CSRF token on state-changing routes (403), then the handler's
 * own: parameters (400), scope (403). docs/api.md is the contract.
 */
#include <jansson.h>
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "carebase/reader.h"
#include "web_int.h"

#define BODY_MAX ((size_t)256 << 20)   /* a response (indicators by doctor) */

struct session {
    struct cb_store_user u;
    enum web_role        role;
    char                 csrf[WEB_TOKEN_HEX];
    char                 token_hash[WEB_TOKEN_HEX];
};

void
cb__web_resp_init(struct web_resp *rs)
{
    memset(rs, 0, sizeof *rs);
    rs->status = 200;
    rs->route = WEB_R_OTHER;
    rs->content_type = "application/json";
    rs->file_fd = -1;
    cb_buf_init(&rs->body, BODY_MAX);
}

void
cb__web_resp_release(struct web_resp *rs)
{
    cb_buf_release(&rs->body);
    if (rs->file_fd >= 0)
        close(rs->file_fd);
    rs->file_fd = -1;
    if (rs->stream.release)
        rs->stream.release(rs->stream.ctx);
    memset(&rs->stream, 0, sizeof rs->stream);
}

void
cb__web_error(struct web_resp *rs, int status, const char *code, const char *msg)
{
    cb_buf_reset(&rs->body);
    if (rs->file_fd >= 0)
        close(rs->file_fd);
    rs->file_fd = -1;
    rs->cache_control = NULL;
    rs->csp = NULL;
    rs->etag[0] = '\0';
    rs->status = status;
    rs->content_type = "application/json";
    if (cb_buf_adds(&rs->body, "{\"error\":{\"code\":") || cb_json_strz(&rs->body, code) ||
        cb_buf_adds(&rs->body, ",\"message\":") || cb_json_strz(&rs->body, msg) ||
        cb_buf_adds(&rs->body, "}}"))
        cb_buf_reset(&rs->body);   /* out of memory: the status says enough */
}

static void
oom(struct web_resp *rs)
{
    cb__web_error(rs, 500, "internal", "out of memory");
}

/* Store failures: the detail goes to the server's log, never to the client. */
static void
internal(struct web_resp *rs, const struct cb_buf *err)
{
    cb__web_error(rs, 500, "internal", "internal error");
    snprintf(rs->note, sizeof rs->note, "%s", err && err->len ? cb_buf_cstr(err)
                                                               : "internal error");
}

/* The answer to a failure rc (none when CB_OK): out of memory or internal. */
static void
failed(struct web_resp *rs, enum cb_err rc, const struct cb_buf *err)
{
    if (rc == CB_ERR_NOMEM || rc == CB_ERR_TOO_LARGE)
        oom(rs);
    else if (rc)
        internal(rs, err);
}

static const char *
arg(const struct web_req *rq, const char *key)
{
    for (int i = 0; i < rq->nargs; i++)
        if (!strcmp(rq->arg_key[i], key))
            return rq->arg_val[i];
    return NULL;
}

/*
 * Whether s has 1..max bytes, each a letter, digit, one of extra or part of
 * a non-ASCII character (valid UTF-8: a parameter may be echoed in JSON).
 */
static bool
plain(const char *s, size_t max, const char *extra)
{
    size_t n = 0;
    bool wide = false;

    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        wide |= c >= 0x80;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              (c >= 0x80) || strchr(extra, c)))
            return false;
    }
    return n > 0 && n <= max && (!wide || cb_utf8_valid(s, n));
}

/* A name (a doctor's): 1..max bytes of UTF-8 text without control characters. */
static bool
name_text(const char *s, size_t max)
{
    size_t n = 0;

    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
            return false;
    return n > 0 && n <= max && cb_utf8_valid(s, n);
}

static bool
is_json(const char *content_type)
{
    static const char want[] = "application/json";
    size_t n = sizeof want - 1;

    return content_type && !strncmp(content_type, want, n) &&
           (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

/* ---- sessions ---- */

/* The session of the request, or an error response (401, 500). */
static int
load_session(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
             struct session *ss, struct web_resp *rs)
{
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc;

    (void)s;
    memset(ss, 0, sizeof *ss);
    if (!rq->session || !cb__web_token_valid(rq->session)) {
        cb__web_error(rs, 401, "unauthenticated", "log in first (POST /api/login)");
        return -1;
    }
    cb__web_token_hash(rq->session, ss->token_hash);
    rc = cb_store_session_get(st, ss->token_hash, cb__web_now(), &ss->u, ss->csrf,
                              sizeof ss->csrf, &err);
    if (rc == CB_ERR_NOT_FOUND)
        cb__web_error(rs, 401, "unauthenticated", "the session has ended; log in again");
    else if (rc)
        internal(rs, &err);
    cb_buf_release(&err);
    if (rc)
        return -1;
    ss->role = cb__web_role_parse(ss->u.role);
    rs->user_id = ss->u.id;
    return 0;
}

static enum cb_err
user_json(struct cb_buf *b, const struct cb_store_user *u)
{
    enum cb_err rc;

    if ((rc = cb_buf_addf(b, "{\"id\":%lld,\"name\":", (long long)u->id)) ||
        (rc = cb_json_strz(b, u->name)) ||
        (rc = cb_buf_adds(b, ",\"role\":")) || (rc = cb_json_strz(b, u->role)) ||
        (rc = cb_buf_adds(b, ",\"scope\":{\"kind\":")) ||
        (rc = cb_json_strz(b, u->scope_kind)) ||
        (rc = cb_buf_adds(b, ",\"code\":")) || (rc = cb_json_strz(b, u->scope_code)) ||
        (rc = cb_buf_adds(b, "},\"department\":")))
        return rc;
    if (u->department[0])
        rc = cb_json_strz(b, u->department);
    else
        rc = cb_buf_adds(b, "null");
    return rc ? rc : cb_buf_adds(b, "}");
}

static void
audit(struct cb_store *st, int64_t user_id, const char *action, const char *what)
{
    struct cb_buf err = CB_BUF_INIT;

    if (cb_store_audit_add(st, user_id, action, what, &err)) {
        /* a login or logout still happens; reads check their audit row */
    }
    cb_buf_release(&err);
}

/* ---- POST /api/login ---- */

static void
h_login(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
        struct web_resp *rs)
{
    struct cb_store_user u;
    struct cb_buf err = CB_BUF_INIT;
    char token[WEB_TOKEN_HEX], token_hash[WEB_TOKEN_HEX], csrf[WEB_TOKEN_HEX];
    char ukey[CB_USER_NAME_MAX + 16], ipkey[96];
    const char *name, *password;
    json_error_t je;
    json_t *root;
    int64_t now = cb__web_now();
    enum cb_err rc;
    bool ok;

    if (!is_json(rq->content_type)) {
        cb__web_error(rs, 415, "unsupported_media_type", "send the body as application/json");
        return;
    }
    root = rq->body ? json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!root || !json_is_object(root)) {
        json_decref(root);
        cb__web_error(rs, 400, "bad_json", "the body is not a JSON object");
        return;
    }
    name = json_string_value(json_object_get(root, "user"));
    password = json_string_value(json_object_get(root, "password"));
    if (!name || !password || !name[0] || strlen(name) >= CB_USER_NAME_MAX ||
        strlen(password) > CB_WEB_PASSWORD_MAX) {
        json_decref(root);
        cb__web_error(rs, 400, "bad_request",
                  "\"user\" and \"password\" are required strings");
        return;
    }
    snprintf(ukey, sizeof ukey, "user:%s", name);
    snprintf(ipkey, sizeof ipkey, "ip:%s", rq->client ? rq->client : "");
    if (cb__web_limiter_blocked(s->limiter, ukey, now) ||
        cb__web_limiter_blocked(s->limiter, ipkey, now)) {
        json_decref(root);
        atomic_fetch_add(&s->metrics.rate_limited, 1);
        rs->retry_after = s->cfg.login_window_s;
        cb__web_error(rs, 429, "rate_limited", "too many failed logins; try again later");
        return;
    }
    rc = cb_store_user_get(st, name, &u, &err);
    if (rc && rc != CB_ERR_NOT_FOUND) {
        json_decref(root);
        internal(rs, &err);
        cb_buf_release(&err);
        return;
    }
    if (rc == CB_OK) {
        ok = cb_web_password_verify(u.pw_hash, password) && !u.disabled;
    } else {
        /* The same work for an unknown name: timing does not tell names. */
        (void)cb_web_password_verify(s->dummy_hash, password);
        ok = false;
        u.id = 0;
    }
    sodium_memzero(u.pw_hash, sizeof u.pw_hash);
    json_decref(root);
    if (!ok) {
        cb__web_limiter_fail(s->limiter, ukey, now);
        cb__web_limiter_fail(s->limiter, ipkey, now);
        atomic_fetch_add(&s->metrics.login_failures, 1);
        audit(st, u.id, "login_failed", NULL);
        cb_buf_release(&err);
        cb__web_error(rs, 401, "bad_credentials", "wrong user name or password");
        return;
    }
    cb__web_limiter_clear(s->limiter, ukey);

    cb__web_token_new(token);
    cb__web_token_new(csrf);
    cb__web_token_hash(token, token_hash);
    if (cb_store_session_purge(st, now, &err) ||
        cb_store_session_put(st, token_hash, u.id, csrf, now + s->cfg.session_ttl_s, &err)) {
        sodium_memzero(token, sizeof token);
        internal(rs, &err);
        cb_buf_release(&err);
        return;
    }
    cb_buf_release(&err);
    audit(st, u.id, "login", NULL);
    snprintf(rs->cookie, sizeof rs->cookie,
             "cb_session=%s; Path=/; Max-Age=%u; HttpOnly; SameSite=Strict%s", token,
             s->cfg.session_ttl_s, s->tls ? "; Secure" : "");
    sodium_memzero(token, sizeof token);
    rs->user_id = u.id;
    if (cb_buf_adds(&rs->body, "{\"csrf\":\"") || cb_buf_adds(&rs->body, csrf) ||
        cb_buf_addf(&rs->body, "\",\"expires_in\":%u,\"user\":", s->cfg.session_ttl_s) ||
        user_json(&rs->body, &u) || cb_buf_adds(&rs->body, "}"))
        oom(rs);
}

/* ---- POST /api/logout, GET /api/me ---- */

static void
h_logout(struct cb_web_server *s, struct cb_store *st, const struct session *ss,
         struct web_resp *rs)
{
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc = cb_store_session_delete(st, ss->token_hash, &err);

    if (rc)
        internal(rs, &err);
    cb_buf_release(&err);
    if (rc)
        return;
    audit(st, ss->u.id, "logout", NULL);
    snprintf(rs->cookie, sizeof rs->cookie,
             "cb_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict%s",
             s->tls ? "; Secure" : "");
    if (cb_buf_adds(&rs->body, "{\"status\":\"ok\"}"))
        oom(rs);
}

static void
h_me(const struct session *ss, struct web_resp *rs)
{
    if (cb_buf_adds(&rs->body, "{\"user\":") || user_json(&rs->body, &ss->u) ||
        cb_buf_adds(&rs->body, ",\"csrf\":\"") || cb_buf_adds(&rs->body, ss->csrf) ||
        cb_buf_adds(&rs->body, "\"}"))
        oom(rs);
}

/* ---- the hospitals of a scope ---- */

struct scope_hosp {
    int64_t id;
    char    zzjgdm[32];
};

struct scope {
    struct scope_hosp *h;
    int                n, cap;
    struct cb_buf     *json;     /* when not NULL: GET /api/orgs's array */
    int64_t            max_id;
};

static enum cb_err
split_groups(struct cb_buf *b, const char *groups)
{
    enum cb_err rc = cb_buf_addc(b, '[');
    const char *p = groups;

    while (!rc && p && *p) {
        const char *e = strchr(p, '\x1f');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if ((p != groups && (rc = cb_buf_addc(b, ','))) ||
            (rc = cb_json_str(b, cb_str_make(p, n))))
            break;
        p = e ? e + 1 : NULL;
    }
    return rc ? rc : cb_buf_addc(b, ']');
}

static enum cb_err
scope_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct scope *sc = ctx;
    int64_t id;
    enum cb_err rc;

    (void)names;
    if (ncols < 5 || !v[0] || !v[1] || cb_parse_i64(cb_str_c(v[0]), &id) || id < 0)
        return CB_OK;
    if (sc->n == sc->cap) {
        int cap = sc->cap ? 2 * sc->cap : 16;
        struct scope_hosp *p = cb_reallocarray(sc->h, (size_t)cap, sizeof *p);
        if (!p)
            return CB_ERR_NOMEM;
        sc->h = p;
        sc->cap = cap;
    }
    sc->h[sc->n].id = id;
    snprintf(sc->h[sc->n].zzjgdm, sizeof sc->h[sc->n].zzjgdm, "%s", v[1]);
    sc->n++;
    if (id > sc->max_id)
        sc->max_id = id;
    if (!sc->json)
        return CB_OK;
    if ((rc = cb_buf_adds(sc->json, sc->n > 1 ? ",{\"zzjgdm\":" : "{\"zzjgdm\":")) ||
        (rc = cb_json_strz(sc->json, v[1])) ||
        (rc = cb_buf_adds(sc->json, ",\"name\":")) || (rc = cb_json_strz(sc->json, v[2])) ||
        (rc = cb_buf_adds(sc->json, ",\"level\":")) ||
        (rc = v[3] ? cb_json_strz(sc->json, v[3]) : cb_buf_adds(sc->json, "null")) ||
        (rc = cb_buf_adds(sc->json, ",\"groups\":")) ||
        (rc = split_groups(sc->json, v[4])))
        return rc;
    return cb_buf_addc(sc->json, '}');
}

static int
scope_load(struct cb_store *st, const struct session *ss, struct scope *sc,
           struct cb_buf *json, struct web_resp *rs)
{
    struct cb_buf err = CB_BUF_INIT;
    enum cb_err rc;

    memset(sc, 0, sizeof *sc);
    sc->json = json;
    rc = cb_store_scope_hospitals(st, ss->u.scope_kind, ss->u.scope_code, scope_row, sc,
                                  &err);
    failed(rs, rc, &err);
    cb_buf_release(&err);
    return rc ? -1 : 0;
}

static const struct scope_hosp *
scope_find(const struct scope *sc, const char *zzjgdm)
{
    for (int i = 0; i < sc->n; i++)
        if (!strcmp(sc->h[i].zzjgdm, zzjgdm))
            return &sc->h[i];
    return NULL;
}

struct dept_ctx {
    struct cb_buf *b;
    const char    *only;     /* a department viewer's department, or NULL */
    int            n;
};

/* zzjgdm, code, name */
static enum cb_err
dept_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct dept_ctx *c = ctx;
    enum cb_err rc;

    (void)names;
    if (ncols < 3 || !v[0] || !v[1] || (c->only && strcmp(c->only, v[1])))
        return CB_OK;
    if ((rc = cb_buf_adds(c->b, c->n++ ? ",{\"hospital\":" : "{\"hospital\":")) ||
        (rc = cb_json_strz(c->b, v[0])) || (rc = cb_buf_adds(c->b, ",\"code\":")) ||
        (rc = cb_json_strz(c->b, v[1])) || (rc = cb_buf_adds(c->b, ",\"name\":")) ||
        (rc = v[2] ? cb_json_strz(c->b, v[2]) : cb_buf_adds(c->b, "null")))
        return rc;
    return cb_buf_addc(c->b, '}');
}

static void
h_orgs(struct cb_store *st, const struct session *ss, struct web_resp *rs)
{
    struct dept_ctx dc = { &rs->body, NULL, 0 };
    struct cb_buf sql = CB_BUF_INIT, err = CB_BUF_INIT;
    struct scope sc;
    enum cb_err rc;

    if (cb_buf_adds(&rs->body, "{\"scope\":{\"kind\":") ||
        cb_json_strz(&rs->body, ss->u.scope_kind) || cb_buf_adds(&rs->body, ",\"code\":") ||
        cb_json_strz(&rs->body, ss->u.scope_code) ||
        cb_buf_adds(&rs->body, "},\"hospitals\":[")) {
        oom(rs);
        return;
    }
    if (scope_load(st, ss, &sc, &rs->body, rs)) {
        cb_free(sc.h);
        return;
    }
    /* The departments of those hospitals (a viewer's own only), for names. */
    if (ss->role == WEB_ROLE_DEPARTMENT_VIEWER)
        dc.only = ss->u.department;
    rc = cb_buf_adds(&sql, "SELECT h.zzjgdm, d.code, d.name FROM department d"
                           " JOIN hospital h ON h.id = d.hospital_id WHERE d.hospital_id IN (-1");
    for (int i = 0; !rc && i < sc.n; i++)
        rc = cb_buf_addf(&sql, ",%lld", (long long)sc.h[i].id);
    cb_free(sc.h);
    if (!rc)
        rc = cb_buf_adds(&sql, ") ORDER BY h.zzjgdm, d.code");
    if (!rc)
        rc = cb_buf_adds(&rs->body, "],\"departments\":[");
    if (!rc)
        rc = cb_store_query(st, cb_buf_cstr(&sql), dept_row, &dc, &err);
    if (!rc)
        rc = cb_buf_adds(&rs->body, "]}");
    failed(rs, rc, &err);
    cb_buf_release(&sql);
    cb_buf_release(&err);
}

/* ---- GET /api/indicators ---- */

static void
h_indicators(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
             const struct session *ss, struct web_resp *rs)
{
    struct web_ind_query q = { .by = WEB_BY_HOSPITAL, .period = CB_PERIOD_YEAR,
                               .from = 0, .to = UINT16_MAX, .threads = 2 };
    const char *by = arg(rq, "by"), *period = arg(rq, "period"), *in = arg(rq, "in"),
               *ids = arg(rq, "ids"), *list = arg(rq, "list"), *hosp = arg(rq, "hospital");
    const struct scope_hosp *target = NULL;
    struct cb_buf err = CB_BUF_INIT;
    struct scope sc;
    uint8_t *mask = NULL;
    enum cb_err rc;
    int deny;

    if (by && cb__web_by_parse(by, &q.by)) {
        cb__web_error(rs, 400, "bad_request",
                  "by wants hospital, department, doctor or consortium");
        return;
    }
    if (period) {
        if (!strcmp(period, "all")) q.period = CB_PERIOD_ALL;
        else if (!strcmp(period, "month")) q.period = CB_PERIOD_MONTH;
        else if (!strcmp(period, "quarter")) q.period = CB_PERIOD_QUARTER;
        else if (!strcmp(period, "year")) q.period = CB_PERIOD_YEAR;
        else {
            cb__web_error(rs, 400, "bad_request", "period wants all, month, quarter or year");
            return;
        }
    }
    if (in && cb__web_parse_period(in, &q.period, &q.from, &q.to)) {
        cb__web_error(rs, 400, "bad_request", "in wants a period: 2025, 2025Q1 or 2025-03");
        return;
    }
    if ((ids && !plain(ids, 1024, "._,-")) || (list && !plain(list, 32, "._-")) ||
        (hosp && !plain(hosp, 31, "-_"))) {
        cb__web_error(rs, 400, "bad_request", "ids, list or hospital is malformed");
        return;
    }
    q.ids = ids;
    q.list = list;
    if (scope_load(st, ss, &sc, NULL, rs)) {
        cb_free(sc.h);
        return;
    }
    if (hosp)
        target = scope_find(&sc, hosp);
    deny = cb__web_authorize_indicators(ss->role, q.by, hosp != NULL, target != NULL);
    if (deny) {
        cb_free(sc.h);
        cb__web_error(rs, deny, "forbidden", hosp && !target
                  ? "that hospital is not in your scope"
                  : "your role may not read indicators by this unit");
        return;
    }
    if (!(mask = cb_calloc((size_t)sc.max_id + 1, 1))) {
        cb_free(sc.h);
        oom(rs);
        return;
    }
    for (int i = 0; i < sc.n; i++)
        if (!target || target == &sc.h[i])
            mask[sc.h[i].id] = 1;
    q.mask = mask;
    q.nmask = (size_t)sc.max_id + 1;
    if (ss->role == WEB_ROLE_DEPARTMENT_VIEWER)
        q.department = ss->u.department;

    /* Stale facts are better than none: a failed refresh keeps what is loaded. */
    if (cb__web_report_refresh(s->report, st, s->cfg.refresh_s, &err))
        snprintf(rs->note, sizeof rs->note, "engine refresh: %s", cb_buf_cstr(&err));
    cb_buf_reset(&err);
    rc = cb__web_report_json(s->report, &q, &rs->body, &err);
    if (rc == CB_ERR_USAGE)
        cb__web_error(rs, 400, "bad_request", cb_buf_cstr(&err));
    else if (rc)
        oom(rs);
    cb_buf_release(&err);
    cb_free(mask);
    cb_free(sc.h);
}

/* ---- GET /api/rejects ---- */

struct rej_ctx {
    struct cb_buf *b;
    char           last[32];   /* id of the open reject object */
    int            n;          /* rejects */
};

static enum cb_err
json_text_or_null(struct cb_buf *b, const char *v)
{
    return v ? cb_json_strz(b, v) : cb_buf_adds(b, "null");
}

/* ,"key":v, or null when not ok or not finite. */
static enum cb_err
json_num_or_null(struct cb_buf *b, const char *key, double v, bool ok)
{
    enum cb_err rc = cb_buf_addf(b, ",\"%s\":", key);

    if (rc)
        return rc;
    if (!ok || !isfinite(v))
        return cb_buf_adds(b, "null");
    return cb_buf_addf(b, "%.17g", v);
}

static enum cb_err
rej_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct rej_ctx *c = ctx;
    struct cb_buf *b = c->b;
    enum cb_err rc;

    (void)names;
    if (ncols < 12 || !v[0])
        return CB_OK;
    if (strcmp(c->last, v[0])) {
        if ((c->n && (rc = cb_buf_adds(b, "]},"))) ||
            (rc = cb_buf_addf(b, "{\"id\":%s,\"file\":", v[0])) ||
            (rc = json_text_or_null(b, v[1])) ||
            (rc = cb_buf_addf(b, ",\"line\":%s,\"hospital\":", v[2] ? v[2] : "null")) ||
            (rc = json_text_or_null(b, v[3])) ||
            (rc = cb_buf_adds(b, ",\"bah\":")) || (rc = json_text_or_null(b, v[4])) ||
            (rc = cb_buf_adds(b, ",\"zycs\":")) || (rc = json_text_or_null(b, v[5])) ||
            (rc = cb_buf_adds(b, ",\"status\":")) || (rc = json_text_or_null(b, v[6])) ||
            (rc = cb_buf_adds(b, ",\"issues\":[")))
            return rc;
        snprintf(c->last, sizeof c->last, "%s", v[0]);
        c->n++;
    } else if ((rc = cb_buf_addc(b, ','))) {
        return rc;
    }
    if ((rc = cb_buf_adds(b, "{\"rule\":")) || (rc = json_text_or_null(b, v[7])) ||
        (rc = cb_buf_adds(b, ",\"severity\":")) || (rc = json_text_or_null(b, v[8])) ||
        (rc = cb_buf_adds(b, ",\"field\":")) || (rc = json_text_or_null(b, v[9])) ||
        (rc = cb_buf_adds(b, ",\"value\":")) || (rc = json_text_or_null(b, v[10])) ||
        (rc = cb_buf_adds(b, ",\"detail\":")) || (rc = json_text_or_null(b, v[11])))
        return rc;
    return cb_buf_addc(b, '}');
}

static void
h_rejects(struct cb_store *st, const struct web_req *rq, const struct session *ss,
          struct web_resp *rs)
{
    const char *lim = arg(rq, "limit"), *rule = arg(rq, "rule"), *hosp = arg(rq, "hospital");
    const struct scope_hosp *target = NULL;
    struct rej_ctx c = { &rs->body, "", 0 };
    struct cb_buf err = CB_BUF_INIT;
    char what[200];
    struct scope sc;
    int64_t limit = 100;
    enum cb_err rc;
    int deny;

    if ((lim && (cb_parse_i64(cb_str_c(lim), &limit) || limit < 1 || limit > 1000)) ||
        (rule && !plain(rule, 64, "._-")) || (hosp && !plain(hosp, 31, "-_"))) {
        cb__web_error(rs, 400, "bad_request",
                  "limit wants 1 to 1000; rule and hospital are codes");
        return;
    }
    if (scope_load(st, ss, &sc, NULL, rs)) {
        cb_free(sc.h);
        return;
    }
    if (hosp)
        target = scope_find(&sc, hosp);
    cb_free(sc.h);
    deny = cb__web_authorize_rejects(ss->role, hosp != NULL, target != NULL);
    if (deny) {
        cb__web_error(rs, deny, "forbidden", hosp && !target
                  ? "that hospital is not in your scope"
                  : "your role may not read case-level rejects");
        return;
    }
    if (cb_buf_adds(&rs->body, "{\"rejects\":[")) {
        oom(rs);
        return;
    }
    rc = cb_store_scope_rejects(st, ss->u.scope_kind, ss->u.scope_code, hosp, rule,
                                (int)limit, rej_row, &c, &err);
    if (!rc && c.n)
        rc = cb_buf_adds(&rs->body, "]}");
    if (!rc)
        rc = cb_buf_addf(&rs->body, "],\"limit\":%lld}", (long long)limit);
    if (rc) {
        failed(rs, rc, &err);
        cb_buf_release(&err);
        return;
    }
    /* Case-level data leaves only with its audit row. */
    snprintf(what, sizeof what, "rejects=%d hospital=%s rule=%s limit=%lld", c.n,
             hosp ? hosp : "*", rule ? rule : "*", (long long)limit);
    if (cb_store_audit_add(st, ss->u.id, "read_rejects", what, &err)) {
        internal(rs, &err);
        cb_buf_release(&err);
        return;
    }
    cb_buf_release(&err);
}

/* ---- GET /api/drgs ---- */

/*
 * The mask of the hospitals a request covers: every hospital in scope, or
 * the one named by hospital (403 when it is not in scope). -1 after an
 * error response.
 */
static int
request_mask(struct cb_store *st, const struct session *ss, const char *hosp,
             struct scope *sc, uint8_t **mask, struct web_resp *rs)
{
    const struct scope_hosp *target = NULL;

    *mask = NULL;
    if (scope_load(st, ss, sc, NULL, rs))
        return -1;
    if (hosp && !(target = scope_find(sc, hosp))) {
        cb__web_error(rs, 403, "forbidden", "that hospital is not in your scope");
        return -1;
    }
    if (!(*mask = cb_calloc((size_t)sc->max_id + 1, 1))) {
        oom(rs);
        return -1;
    }
    for (int i = 0; i < sc->n; i++)
        if (!target || target == &sc->h[i])
            (*mask)[sc->h[i].id] = 1;
    return 0;
}

static void
h_drgs(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
       const struct session *ss, struct web_resp *rs)
{
    const char *in = arg(rq, "in"), *hosp = arg(rq, "hospital"), *lim = arg(rq, "limit");
    struct web_drg_query q = { .from = 0, .to = UINT16_MAX, .limit = 200 };
    struct cb_buf err = CB_BUF_INIT;
    enum cb_period kind;
    struct scope sc;
    uint8_t *mask = NULL;
    int64_t limit = 200;

    if ((in && cb__web_parse_period(in, &kind, &q.from, &q.to)) ||
        (hosp && !plain(hosp, 31, "-_")) ||
        (lim && (cb_parse_i64(cb_str_c(lim), &limit) || limit < 1 || limit > 2000))) {
        cb__web_error(rs, 400, "bad_request",
                      "in wants a period (2025, 2025Q1, 2025-03), limit 1 to 2000");
        return;
    }
    q.limit = (int)limit;
    if (request_mask(st, ss, hosp, &sc, &mask, rs))
        goto out;
    q.mask = mask;
    q.nmask = (size_t)sc.max_id + 1;
    if (ss->role == WEB_ROLE_DEPARTMENT_VIEWER)
        q.department = ss->u.department;
    if (cb__web_report_refresh(s->report, st, s->cfg.refresh_s, &err))
        snprintf(rs->note, sizeof rs->note, "engine refresh: %s", cb_buf_cstr(&err));
    if (cb__web_report_drgs(s->report, &q, &rs->body))
        oom(rs);
out:
    cb_buf_release(&err);
    cb_free(mask);
    cb_free(sc.h);
}

/* ---- GET /api/qc ---- */

#define QC_RULES_MAX 128

struct qc_rule {
    char    rule[32];
    char    severity[4];
    int64_t rejects, warnings;
};

struct qc_ctx {
    struct qc_rule r[QC_RULES_MAX];
    int            n;
    bool           warnings;     /* the rows are warning counts */
    struct cb_buf *b;            /* hospital rows go here */
    int            nh;
};

static enum cb_err
qc_rule_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct qc_ctx *c = ctx;
    int64_t n;
    int k;

    (void)names;
    if (ncols < 3 || !v[0] || !v[2] || cb_parse_i64(cb_str_c(v[2]), &n))
        return CB_OK;
    for (k = 0; k < c->n; k++)
        if (!strcmp(c->r[k].rule, v[0]))
            break;
    if (k == c->n) {
        if (c->n == QC_RULES_MAX)
            return CB_OK;
        snprintf(c->r[k].rule, sizeof c->r[k].rule, "%.31s", v[0]);
        snprintf(c->r[k].severity, sizeof c->r[k].severity, "%.3s", v[1] ? v[1] : "");
        c->n++;
    }
    if (c->warnings)
        c->r[k].warnings += n;
    else
        c->r[k].rejects += n;
    return CB_OK;
}

static int
cmp_qc_rule(const void *a, const void *b)
{
    const struct qc_rule *x = a, *y = b;
    int64_t nx = x->rejects + x->warnings, ny = y->rejects + y->warnings;

    if (nx != ny)
        return nx < ny ? 1 : -1;
    if (x->rejects != y->rejects)
        return x->rejects < y->rejects ? 1 : -1;
    return strcmp(x->rule, y->rule);
}

/* zzjgdm, name, accepted, with warnings, rejected */
static enum cb_err
qc_hosp_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct qc_ctx *c = ctx;
    int64_t acc = 0, warn = 0, rej = 0;
    enum cb_err rc;

    (void)names;
    if (ncols < 5 || !v[0])
        return CB_OK;
    if ((v[2] && cb_parse_i64(cb_str_c(v[2]), &acc)) ||
        (v[3] && cb_parse_i64(cb_str_c(v[3]), &warn)) ||
        (v[4] && cb_parse_i64(cb_str_c(v[4]), &rej)))
        return CB_OK;
    if ((rc = cb_buf_adds(c->b, c->nh++ ? ",{\"hospital\":" : "{\"hospital\":")) ||
        (rc = cb_json_strz(c->b, v[0])) || (rc = cb_buf_adds(c->b, ",\"hospital_name\":")) ||
        (rc = cb_json_strz(c->b, v[1] ? v[1] : "")) ||
        (rc = cb_buf_addf(c->b, ",\"accepted\":%lld,\"with_warnings\":%lld,\"rejected\":%lld,"
                          "\"excluded_share\":", (long long)acc, (long long)warn,
                          (long long)rej)))
        return rc;
    if (acc + rej)
        rc = cb_buf_addf(c->b, "%.17g}", (double)rej / (double)(acc + rej) * 100.0);
    else
        rc = cb_buf_adds(c->b, "null}");
    return rc;
}

static void
h_qc(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
     const struct session *ss, struct web_resp *rs)
{
    const char *hosp = arg(rq, "hospital"), *lim = arg(rq, "limit");
    const struct scope_hosp *target = NULL;
    struct cb_buf err = CB_BUF_INIT, ids = CB_BUF_INIT, sql = CB_BUF_INIT, key = CB_BUF_INIT;
    struct web_answer_version ver;
    struct qc_ctx *c = NULL;
    struct scope sc;
    int64_t limit = 20;
    enum cb_err rc = CB_OK;
    int deny;

    if ((hosp && !plain(hosp, 31, "-_")) ||
        (lim && (cb_parse_i64(cb_str_c(lim), &limit) || limit < 1 || limit > QC_RULES_MAX))) {
        cb__web_error(rs, 400, "bad_request", "limit wants 1 to 128; hospital is a code");
        return;
    }
    if (scope_load(st, ss, &sc, NULL, rs))
        goto out;
    if (hosp)
        target = scope_find(&sc, hosp);
    deny = cb__web_authorize_rejects(ss->role, hosp != NULL, target != NULL);
    if (deny) {
        cb__web_error(rs, deny, "forbidden", hosp && !target
                      ? "that hospital is not in your scope"
                      : "your role may not read QC results");
        goto out;
    }
    /* The hospital ids are the store's integers: safe to put in the SQL. */
    rc = cb_buf_adds(&ids, "(-1");
    for (int i = 0; !rc && i < sc.n; i++)
        if (!target || target == &sc.h[i])
            rc = cb_buf_addf(&ids, ",%lld", (long long)sc.h[i].id);
    if (!rc)
        rc = cb_buf_adds(&ids, ")");
    if (!rc)
        rc = cb_buf_addf(&key, "Q|%s|%lld|", cb_buf_cstr(&ids), (long long)limit);
    if (rc || !(c = cb_calloc(1, sizeof *c))) {
        oom(rs);
        goto out;
    }
    /* The counts change only with imports: answered from the cache until then. */
    if (cb__web_report_refresh(s->report, st, s->cfg.refresh_s, &err)) {
        internal(rs, &err);
        goto out;
    }
    if (cb__web_report_cached(s->report, &key, &rs->body, &ver))
        goto out;
    c->b = &rs->body;
    if ((rc = cb_buf_addf(&sql,
            "SELECT i.rule, i.severity, count(DISTINCT j.id) FROM reject j"
            " JOIN reject_issue i ON i.reject_id = j.id WHERE j.status = 'open'"
            " AND j.zzjgdm IN (SELECT zzjgdm FROM hospital WHERE id IN %s)"
            " GROUP BY i.rule, i.severity", cb_buf_cstr(&ids))) ||
        (rc = cb_store_query(st, cb_buf_cstr(&sql), qc_rule_row, c, &err)))
        goto fail;
    cb_buf_reset(&sql);
    c->warnings = true;
    if ((rc = cb_buf_addf(&sql,
            "SELECT w.rule, 'W', count(*) FROM record_warning w"
            " JOIN record r ON r.id = w.record_id WHERE r.hospital_id IN %s"
            " GROUP BY w.rule", cb_buf_cstr(&ids))) ||
        (rc = cb_store_query(st, cb_buf_cstr(&sql), qc_rule_row, c, &err)))
        goto fail;
    qsort(c->r, (size_t)c->n, sizeof c->r[0], cmp_qc_rule);

    if ((rc = cb_buf_adds(&rs->body, "{\"rules\":[")))
        goto fail;
    for (int k = 0; k < c->n && k < limit; k++) {
        const char *zh = cb__web_report_rule_name(s->report, c->r[k].rule, true);
        const char *en = cb__web_report_rule_name(s->report, c->r[k].rule, false);
        if ((rc = cb_buf_adds(&rs->body, k ? ",{\"rule\":" : "{\"rule\":")) ||
            (rc = cb_json_strz(&rs->body, c->r[k].rule)) ||
            (rc = cb_buf_adds(&rs->body, ",\"severity\":")) ||
            (rc = cb_json_strz(&rs->body, c->r[k].severity)) ||
            (rc = cb_buf_adds(&rs->body, ",\"name_zh\":")) ||
            (rc = json_text_or_null(&rs->body, zh)) ||
            (rc = cb_buf_adds(&rs->body, ",\"name_en\":")) ||
            (rc = json_text_or_null(&rs->body, en)) ||
            (rc = cb_buf_addf(&rs->body, ",\"rejects\":%lld,\"warnings\":%lld}",
                              (long long)c->r[k].rejects, (long long)c->r[k].warnings)))
            goto fail;
    }
    if ((rc = cb_buf_addf(&rs->body, "],\"total_rules\":%d,\"limit\":%lld,\"hospitals\":[",
                          c->n, (long long)limit)))
        goto fail;
    cb_buf_reset(&sql);
    if ((rc = cb_buf_addf(&sql,
            "SELECT h.zzjgdm, h.name,"
            " (SELECT count(*) FROM record r WHERE r.hospital_id = h.id),"
            " (SELECT count(DISTINCT w.record_id) FROM record_warning w"
            "   JOIN record r ON r.id = w.record_id WHERE r.hospital_id = h.id),"
            " (SELECT count(*) FROM reject j WHERE j.zzjgdm = h.zzjgdm AND j.status = 'open')"
            " FROM hospital h WHERE h.id IN %s ORDER BY h.id", cb_buf_cstr(&ids))) ||
        (rc = cb_store_query(st, cb_buf_cstr(&sql), qc_hosp_row, c, &err)) ||
        (rc = cb_buf_adds(&rs->body, "]}")))
        goto fail;
    cb__web_report_cache(s->report, &key, &ver, rs->body.ptr, rs->body.len);
    goto out;
fail:
    failed(rs, rc, &err);
out:
    cb_free(c);
    cb_free(sc.h);
    cb_buf_release(&ids);
    cb_buf_release(&sql);
    cb_buf_release(&key);
    cb_buf_release(&err);
}

/* ---- GET /api/cases, GET /api/case: lineage (case-level: audited) ---- */

#define CASES_LIMIT_MAX     500   /* cases per page */
#define CASES_LIMIT_DEFAULT 100
#define CASES_OFFSET_MAX    ((int64_t)100000000)

/* "YYYY-MM-DD" as a fact day; -1 when not a real date in 2000..2170. */
static int
parse_day(const char *s, uint16_t *day)
{
    int y = 0, m = 0, d = 0, y2, m2, d2;
    int64_t days;

    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7)
            continue;
        if (s[i] < '0' || s[i] > '9')
            return -1;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    m = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (y < 2000 || y > 2170 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    days = cb_days_from_civil(y, m, d);
    cb_civil_from_days(days, &y2, &m2, &d2);
    if (y2 != y || m2 != m || d2 != d)
        return -1;              /* 2025-02-30 */
    days -= CB_FACT_EPOCH_DAY;
    if (days < 0 || days > UINT16_MAX)
        return -1;
    *day = (uint16_t)days;
    return 0;
}

static enum cb_err
json_day_or_null(struct cb_buf *b, bool given, uint16_t day)
{
    char text[11];

    if (!given)
        return cb_buf_adds(b, "null");
    cb_format_date((int64_t)day + CB_FACT_EPOCH_DAY, text);
    return cb_buf_addf(b, "\"%s\"", text);
}

/* A case's fields as JSON members (after an opening brace). */
static enum cb_err
case_fields_json(struct cb_buf *b, const struct cb_case *c)
{
    static const char *const key[CB_CASE__N] = {
        "hospital", "bah", "zycs", "cysj", "department", "department_name", "doctor",
        "lyfs", "drg", "drg_status", "drg_scheme",
    };
    enum cb_err rc = CB_OK;

    for (int k = 0; !rc && k < CB_CASE__N; k++) {
        const char *v = c->v[k];
        if ((rc = cb_buf_addf(b, "%s\"%s\":", k ? "," : "", key[k])))
            break;
        if (k == CB_CASE_ZYCS && v && v[0] && strspn(v, "0123456789") == strlen(v) &&
            strlen(v) < 10)
            rc = cb_buf_adds(b, v);         /* a number */
        else
            rc = json_text_or_null(b, v);
    }
    return rc;
}

static void
h_cases(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
        const struct session *ss, struct web_resp *rs)
{
    const char *indicator = arg(rq, "indicator"), *side = arg(rq, "side"),
               *in = arg(rq, "in"), *from = arg(rq, "from"), *to = arg(rq, "to"),
               *hosp = arg(rq, "hospital"), *dept = arg(rq, "department"),
               *doctor = arg(rq, "doctor"),
               *lim = arg(rq, "limit"), *off = arg(rq, "offset");
    struct web_cases_query q = { .from = 0, .to = UINT16_MAX };
    struct web_cases_answer ans;
    const struct scope_hosp *target = NULL;
    struct cb_buf err = CB_BUF_INIT, *b = &rs->body;
    struct cb_case *cases = NULL;
    struct cb_arena a;
    enum cb_period kind;
    struct scope sc;
    uint8_t *mask = NULL;
    int64_t limit = CASES_LIMIT_DEFAULT, offset = 0;
    char what[512], t[64];
    enum cb_err rc = CB_OK;
    int deny;

    memset(&ans, 0, sizeof ans);
    memset(&sc, 0, sizeof sc);
    cb_arena_init(&a, 1 << 16);
    if (!indicator || !plain(indicator, 32, "._-") || !side ||
        (strcmp(side, "numerator") && strcmp(side, "denominator"))) {
        cb__web_error(rs, 400, "bad_request",
                      "indicator (an id) and side (numerator or denominator) are required");
        goto out;
    }
    if ((in && (from || to)) ||
        (in && cb__web_parse_period(in, &kind, &q.from, &q.to)) ||
        (from && parse_day(from, &q.from)) || (to && parse_day(to, &q.to)) ||
        q.from > q.to) {
        cb__web_error(rs, 400, "bad_request", "give in (2025, 2025Q1, 2025-03) or from/to "
                      "(YYYY-MM-DD, from <= to), not both");
        goto out;
    }
    if ((hosp && !plain(hosp, 31, "-_")) || (dept && !plain(dept, 64, "-_."))) {
        cb__web_error(rs, 400, "bad_request", "hospital and department are codes");
        goto out;
    }
    if (doctor && !name_text(doctor, 64)) {
        cb__web_error(rs, 400, "bad_request", "doctor is a name (1 to 64 bytes of text)");
        goto out;
    }
    if (lim && (cb_parse_i64(cb_str_c(lim), &limit) || limit < 1)) {
        cb__web_error(rs, 400, "bad_request", "limit wants 1 to 500");
        goto out;
    }
    if (limit > CASES_LIMIT_MAX) {
        cb__web_error(rs, 400, "too_many", "at most 500 cases per request: page with "
                      "limit and offset");
        goto out;
    }
    if (off && (cb_parse_i64(cb_str_c(off), &offset) || offset < 0 ||
                offset > CASES_OFFSET_MAX)) {
        cb__web_error(rs, 400, "bad_request", "offset wants 0 or more");
        goto out;
    }
    if (scope_load(st, ss, &sc, NULL, rs))
        goto out;
    if (hosp)
        target = scope_find(&sc, hosp);
    deny = cb__web_authorize_cases(ss->role, hosp != NULL, target != NULL, dept != NULL,
                                   dept && !strcmp(dept, ss->u.department));
    if (deny) {
        cb__web_error(rs, deny, "forbidden", hosp && !target
                      ? "that hospital is not in your scope"
                      : "that department is not in your scope");
        goto out;
    }
    if (!(mask = cb_calloc((size_t)sc.max_id + 1, 1))) {
        oom(rs);
        goto out;
    }
    for (int i = 0; i < sc.n; i++)
        if (!target || target == &sc.h[i])
            mask[sc.h[i].id] = 1;
    q.indicator = indicator;
    q.denominator = !strcmp(side, "denominator");
    q.mask = mask;
    q.nmask = (size_t)sc.max_id + 1;
    q.department = ss->role == WEB_ROLE_DEPARTMENT_VIEWER ? ss->u.department : dept;
    q.doctor = doctor;
    q.offset = (size_t)offset;
    q.limit = (size_t)limit;

    if (cb__web_report_refresh(s->report, st, s->cfg.refresh_s, &err))
        snprintf(rs->note, sizeof rs->note, "engine refresh: %s", cb_buf_cstr(&err));
    cb_buf_reset(&err);
    rc = cb__web_report_cases(s->report, &q, &ans, &err);
    if (rc == CB_ERR_USAGE) {
        cb__web_error(rs, 400, "bad_request", cb_buf_cstr(&err));
        goto out;
    }
    if (rc) {
        oom(rs);
        goto out;
    }
    if (ans.not_computable[0]) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s is not computable here: %s", ans.ind->id,
                 ans.not_computable);
        cb__web_error(rs, 409, "not_computable", msg);
        goto out;
    }
    if (ans.sel.nhits && !(cases = cb_calloc(ans.sel.nhits, sizeof *cases))) {
        oom(rs);
        goto out;
    }
    if (ans.sel.nhits &&
        (rc = cb_case_fetch(st, NULL, ans.sel.hits, ans.sel.nhits, 0, cases, &a, &err))) {
        if (rc == CB_ERR_NOMEM)
            oom(rs);
        else
            internal(rs, &err);
        goto out;
    }

    const struct cb_indicator *ind = ans.ind;
    bool ok = ans.v.computable;
    double num = !strcmp(ind->unit, "元") ? ans.v.num / 100.0 : ans.v.num;
    cb_counter_format(&ans.ctr, ans.sel.sum, t, sizeof t);
    if ((rc = cb_buf_adds(b, "{\"indicator\":{\"id\":")) || (rc = cb_json_strz(b, ind->id)) ||
        (rc = cb_buf_adds(b, ",\"no\":")) || (rc = cb_json_strz(b, ind->no)) ||
        (rc = cb_buf_adds(b, ",\"list\":")) || (rc = cb_json_strz(b, ind->list)) ||
        (rc = cb_buf_adds(b, ",\"name_zh\":")) || (rc = cb_json_strz(b, ind->name_zh)) ||
        (rc = cb_buf_adds(b, ",\"name_en\":")) || (rc = cb_json_strz(b, ind->name_en)) ||
        (rc = cb_buf_adds(b, ",\"unit_of_measure\":")) || (rc = cb_json_strz(b, ind->unit)) ||
        (rc = cb_buf_addf(b, "},\"has_denominator\":%s,\"side\":\"%s\",\"counter\":\"%s\","
                          "\"contribution_unit\":\"%s\"",
                          ind->den != CB_COUNTER_NONE ? "true" : "false", side, ans.ctr.name,
                          cb_counter_unit(&ans.ctr, false))) ||
        (rc = cb_buf_adds(b, ",\"scope\":{\"hospital\":")) || (rc = json_text_or_null(b, hosp)) ||
        (rc = cb_buf_adds(b, ",\"department\":")) ||
        (rc = json_text_or_null(b, q.department)) ||
        (rc = cb_buf_adds(b, ",\"doctor\":")) || (rc = json_text_or_null(b, doctor)) ||
        (rc = cb_buf_adds(b, ",\"from\":")) ||
        (rc = json_day_or_null(b, in || from, q.from)) ||
        (rc = cb_buf_adds(b, ",\"to\":")) || (rc = json_day_or_null(b, in || to, q.to)) ||
        (rc = cb_buf_adds(b, "},\"reference\":")) ||
        (rc = json_text_or_null(b, ans.reference[0] ? ans.reference : NULL)) ||
        (rc = cb_buf_addf(b, ",\"count\":%zu,\"total\":%s", ans.sel.count, t)) ||
        (rc = json_num_or_null(b, "value", ans.v.value, ok)) ||
        (rc = json_num_or_null(b, "numerator", num, ok)) ||
        (rc = json_num_or_null(b, "denominator", ans.v.den, ok)) ||
        (rc = cb_buf_adds(b, ",\"status\":")) ||
        (rc = cb_json_strz(b, ok ? "ok" : ans.v.reason ? ans.v.reason : "not computable")) ||
        (rc = cb_buf_addf(b, ",\"offset\":%lld,\"limit\":%lld,\"identifiers\":\"omitted\","
                          "\"cases\":[", (long long)offset, (long long)limit)))
        goto fail;
    for (size_t i = 0, listed = 0; i < ans.sel.nhits; i++) {
        if (!cases[i].found)
            continue;           /* removed since the engine loaded its fact */
        cb_counter_format(&ans.ctr, ans.sel.hits[i].contrib, t, sizeof t);
        if ((rc = cb_buf_adds(b, listed++ ? ",{" : "{")) ||
            (rc = case_fields_json(b, &cases[i])) ||
            (rc = cb_buf_addf(b, ",\"contribution\":%s}", t)))
            goto fail;
    }
    if ((rc = cb_buf_adds(b, "]}")))
        goto fail;
    /* Case-level data leaves only with its audit row: the query, not the cases. */
    char d0[11], d1[11];
    cb_format_date((int64_t)q.from + CB_FACT_EPOCH_DAY, d0);
    cb_format_date((int64_t)q.to + CB_FACT_EPOCH_DAY, d1);
    snprintf(what, sizeof what, "indicator=%s side=%s hospital=%s department=%s doctor=%s "
             "from=%s to=%s offset=%lld limit=%lld listed=%zu of=%zu", ind->id, side,
             hosp ? hosp : "*", q.department ? q.department : "*", doctor ? doctor : "*",
             in || from ? d0 : "*", in || to ? d1 : "*",
             (long long)offset, (long long)limit, ans.sel.nhits, ans.sel.count);
    if ((rc = cb_store_audit_add(st, ss->u.id, "read_cases", what, &err))) {
        internal(rs, &err);
        goto out;
    }
    goto out;
fail:
    failed(rs, rc, &err);
out:
    cb__web_cases_answer_release(&ans);
    cb_free(cases);
    cb_arena_release(&a);
    cb_free(mask);
    cb_free(sc.h);
    cb_buf_release(&err);
}

/* The record's dx or px JSON ([[slot, code, name, ...], ...]) as a list of
 * {slot, code, name} objects. */
static enum cb_err
codes_json(struct cb_buf *b, const char *text)
{
    json_t *root = text ? json_loads(text, 0, NULL) : NULL;
    enum cb_err rc = cb_buf_addc(b, '[');
    size_t i, n = 0;
    json_t *e;

    json_array_foreach(root, i, e) {
        json_t *slot = json_array_get(e, 0);
        const char *code = json_string_value(json_array_get(e, 1));
        const char *name = json_string_value(json_array_get(e, 2));
        if (rc || !code)
            continue;
        if ((rc = cb_buf_addf(b, "%s{\"slot\":%lld,\"code\":", n++ ? "," : "",
                              json_is_integer(slot) ? (long long)json_integer_value(slot)
                                                    : -1LL)) ||
            (rc = cb_json_strz(b, code)) || (rc = cb_buf_adds(b, ",\"name\":")) ||
            (rc = json_text_or_null(b, name)) || (rc = cb_buf_addc(b, '}')))
            break;
    }
    json_decref(root);
    return rc ? rc : cb_buf_addc(b, ']');
}

/* A BAH as given: 1..50 bytes, no control characters, quotes or backslashes. */
static bool
bah_ok(const char *s)
{
    size_t n = strlen(s);

    if (!n || n > 50)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            return false;
    }
    return true;
}

static void
h_case(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
       const struct session *ss, struct web_resp *rs)
{
    const char *hosp = arg(rq, "hospital"), *bah = arg(rq, "bah"), *zy = arg(rq, "zycs");
    const struct scope_hosp *target = NULL;
    struct cb_buf err = CB_BUF_INIT, *b = &rs->body;
    bool ids = ss->u.show_identifiers != 0;
    struct cb_case c;
    struct cb_arena a;
    struct scope sc;
    int64_t zycs = 0;
    char what[256];
    enum cb_err rc = CB_OK;
    int deny;

    memset(&sc, 0, sizeof sc);
    cb_arena_init(&a, 1 << 16);
    if (!hosp || !plain(hosp, 31, "-_") || !bah || !bah_ok(bah) || !zy ||
        cb_parse_i64(cb_str_c(zy), &zycs) || zycs < 0 || zycs > 99999) {
        cb__web_error(rs, 400, "bad_request", "hospital (ZZJGDM), bah and zycs (a number) "
                      "are required");
        goto out;
    }
    if (scope_load(st, ss, &sc, NULL, rs))
        goto out;
    target = scope_find(&sc, hosp);
    deny = cb__web_authorize_cases(ss->role, true, target != NULL, false, false);
    if (deny) {
        cb__web_error(rs, deny, "forbidden", "that hospital is not in your scope");
        goto out;
    }
    rc = cb__web_report_case(s->report, st, hosp, bah, zycs,
                             CB_CASE_TRACE | CB_CASE_TRACE_JSON | CB_CASE_CODES |
                             (ids ? CB_CASE_IDS : 0u), &c, &a, &err);
    /* A viewer's hospital has other departments: their cases are not found. */
    if (!rc && ss->role == WEB_ROLE_DEPARTMENT_VIEWER &&
        (!c.v[CB_CASE_DEPT] || strcmp(c.v[CB_CASE_DEPT], ss->u.department)))
        rc = CB_ERR_NOT_FOUND;
    if (rc == CB_ERR_NOT_FOUND) {
        cb__web_error(rs, 404, "not_found", "no such case in your scope");
        goto out;
    }
    if (rc)
        goto fail;
    if ((rc = cb_buf_adds(b, "{\"case\":{")) || (rc = case_fields_json(b, &c)) ||
        (rc = cb_buf_adds(b, "},\"diagnoses\":")) || (rc = codes_json(b, c.dx)) ||
        (rc = cb_buf_adds(b, ",\"procedures\":")) || (rc = codes_json(b, c.px)) ||
        (rc = cb_buf_adds(b, ",\"trace\":{\"zh\":")) || (rc = json_text_or_null(b, c.trace_zh)) ||
        (rc = cb_buf_adds(b, ",\"en\":")) || (rc = json_text_or_null(b, c.trace_en)) ||
        (rc = cb_buf_adds(b, ",\"json\":")) ||
        (rc = cb_buf_adds(b, c.trace_json ? c.trace_json : "null")) ||
        (rc = cb_buf_adds(b, "},\"identifiers\":")))
        goto fail;
    if (!ids) {
        rc = cb_buf_adds(b, "\"omitted\"");
    } else {
        rc = cb_buf_addc(b, '{');
        for (int k = 0; !rc && k < CB_CASE_NIDS; k++)
            if (!(rc = cb_buf_addf(b, "%s\"%s\":", k ? "," : "", cb_case_id_keys[k])))
                rc = json_text_or_null(b, c.ids[k]);
        if (!rc)
            rc = cb_buf_addc(b, '}');
    }
    if (rc || (rc = cb_buf_adds(b, "}")))
        goto fail;
    /* The audit row names the case by its record id, never by patient data. */
    snprintf(what, sizeof what, "hospital=%s record=%lld identifiers=%s", hosp,
             (long long)c.record_id, ids ? "shown" : "omitted");
    if ((rc = cb_store_audit_add(st, ss->u.id, "read_case", what, &err))) {
        internal(rs, &err);
        goto out;
    }
    goto out;
fail:
    failed(rs, rc, &err);
out:
    cb_arena_release(&a);
    cb_free(sc.h);
    cb_buf_release(&err);
}

/* ---- live operations: GET /api/live/{summary,wards,alerts,stream} ---- */

/*
 * The hospitals a user may see live: the codes of the scope, copied, so
 * that an event stream keeps them after its request.
 */
struct live_scope {
    struct cb_web_server *s;
    char                (*code)[32];
    int                   n;
    uint64_t              sent_version;
    double                sent_at;
};

static bool
live_filter(void *ctx, struct cb_str hospital)
{
    const struct live_scope *ls = ctx;

    for (int i = 0; i < ls->n; i++)
        if (strlen(ls->code[i]) == hospital.len &&
            !memcmp(ls->code[i], hospital.ptr, hospital.len))
            return true;
    return false;
}

static void
live_scope_free(void *ctx)
{
    struct live_scope *ls = ctx;

    if (ls)
        cb_free(ls->code);
    cb_free(ls);
}

/*
 * The user's hospitals, or only `hospital` when given (403 when it is not
 * in the scope). NULL after an error response.
 */
static struct live_scope *
live_scope_load(struct cb_web_server *s, struct cb_store *st, const struct session *ss,
                const char *hospital, struct web_resp *rs)
{
    struct live_scope *ls;
    struct scope sc;

    if (hospital && !plain(hospital, 31, "-_")) {
        cb__web_error(rs, 400, "bad_request", "hospital is an organisation code");
        return NULL;
    }
    if (scope_load(st, ss, &sc, NULL, rs))
        return NULL;
    if (hospital && !scope_find(&sc, hospital)) {
        cb_free(sc.h);
        cb__web_error(rs, 403, "forbidden", "that hospital is not in your scope");
        return NULL;
    }
    if (!(ls = cb_calloc(1, sizeof *ls)) ||
        !(ls->code = cb_calloc((size_t)sc.n + 1, sizeof *ls->code))) {
        live_scope_free(ls);
        cb_free(sc.h);
        oom(rs);
        return NULL;
    }
    ls->s = s;
    for (int i = 0; i < sc.n; i++)
        if (!hospital || !strcmp(sc.h[i].zzjgdm, hospital))
            memcpy(ls->code[ls->n++], sc.h[i].zzjgdm, sizeof ls->code[0]);
    cb_free(sc.h);
    return ls;
}

static void
h_live_summary(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
               const struct session *ss, struct web_resp *rs)
{
    struct live_scope *ls = live_scope_load(s, st, ss, arg(rq, "hospital"), rs);

    if (!ls)
        return;
    if (cb_live_summary_json(s->live, live_filter, ls, cb__web_live_now(s), &rs->body))
        oom(rs);
    live_scope_free(ls);
}

static void
h_live_alerts(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
              const struct session *ss, struct web_resp *rs)
{
    const char *active = arg(rq, "active");
    struct live_scope *ls;

    if (active && strcmp(active, "0") && strcmp(active, "1")) {
        cb__web_error(rs, 400, "bad_request", "active wants 0 or 1");
        return;
    }
    if (!(ls = live_scope_load(s, st, ss, arg(rq, "hospital"), rs)))
        return;
    if (cb_live_alerts_json(s->live, live_filter, ls, active && !strcmp(active, "1"),
                            &rs->body))
        oom(rs);
    live_scope_free(ls);
}

/*
 * The bed board of one hospital. Visit numbers always; patient ids only
 * for users allowed identifiers, and then the read is audited (case-level
 * data leaves only with its audit row).
 */
static void
h_live_wards(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
             const struct session *ss, struct web_resp *rs)
{
    const char *hosp = arg(rq, "hospital");
    bool ids = ss->u.show_identifiers != 0;
    struct live_scope *ls;
    enum cb_err rc;

    if (!hosp) {
        cb__web_error(rs, 400, "bad_request", "hospital is required");
        return;
    }
    if (!(ls = live_scope_load(s, st, ss, hosp, rs)))
        return;
    live_scope_free(ls);
    if (ids) {
        struct cb_buf err = CB_BUF_INIT, what = CB_BUF_INIT;
        rc = cb_buf_addf(&what, "bed board hospital=%s with patient ids", hosp);
        if (!rc)
            rc = cb_store_audit_add(st, ss->u.id, "read_bed_board", cb_buf_cstr(&what), &err);
        cb_buf_release(&what);
        if (rc) {
            internal(rs, &err);
            cb_buf_release(&err);
            return;
        }
        cb_buf_release(&err);
    }
    rc = cb_live_wards_json(s->live, cb_str_c(hosp), cb__web_live_now(s), ids, &rs->body);
    if (rc == CB_ERR_NOT_FOUND)
        cb__web_error(rs, 404, "not_found", "no live data for that hospital yet");
    else if (rc)
        oom(rs);
}

/*
 * The stream: a "summary" event (the JSON of GET /api/live/summary for the
 * user's hospitals) whenever the live state changed, and at least every
 * WEB_STREAM_PING_S so that the freshness shown stays true when a feed
 * goes quiet. live_stream_due: whether there is one to send now (the
 * streams thread asks it before waking a suspended stream).
 */
static bool
live_stream_due(void *ctx)
{
    const struct live_scope *ls = ctx;

    return ls->sent_at <= 0 || cb_live_version(ls->s->live) != ls->sent_version ||
           cb__web_mono() - ls->sent_at >= WEB_STREAM_PING_S;
}

static enum cb_err
live_stream_poll(void *ctx, uint64_t *seen, struct cb_buf *out)
{
    struct live_scope *ls = ctx;
    uint64_t v;
    enum cb_err rc;

    (void)seen;   /* what was sent is kept in ls */
    if (!live_stream_due(ls))
        return CB_OK;
    v = cb_live_version(ls->s->live);
    if ((rc = cb_buf_addf(out, "event: summary\nid: %llu\ndata: ", (unsigned long long)v)) ||
        (rc = cb_live_summary_json(ls->s->live, live_filter, ls, cb__web_live_now(ls->s),
                                   out)) ||
        (rc = cb_buf_adds(out, "\n\n")))
        return rc;
    ls->sent_version = v;
    ls->sent_at = cb__web_mono();
    return CB_OK;
}

static void
h_live_stream(struct cb_web_server *s, struct cb_store *st, const struct web_req *rq,
              const struct session *ss, struct web_resp *rs)
{
    struct live_scope *ls = live_scope_load(s, st, ss, arg(rq, "hospital"), rs);

    if (!ls)
        return;
    rs->content_type = "text/event-stream; charset=utf-8";
    rs->stream.poll = live_stream_poll;
    rs->stream.due = live_stream_due;
    rs->stream.release = live_scope_free;
    rs->stream.ctx = ls;
}

/* ---- dispatch ---- */

void
cb__web_handle(struct cb_web_server *s, const struct web_req *rq, struct web_resp *rs)
{
    const struct web_route_def *rt = NULL;
    bool known = false, head = !strcmp(rq->method, "HEAD");
    struct cb_store *st;
    struct session ss;

    for (int i = 0; i < cb__web_nroutes; i++) {
        const struct web_route_def *d = &cb__web_routes[i];
        if (d->id == WEB_R_STATIC
                ? strncmp(rq->path, WEB_STATIC_PREFIX, sizeof WEB_STATIC_PREFIX - 1)
                : strcmp(d->path, rq->path))
            continue;
        known = true;
        rs->route = d->id;
        if (!strcmp(d->method, rq->method) || (head && !strcmp(d->method, "GET")))
            rt = d;
        else
            rs->allow = !strcmp(d->method, "GET") ? "GET, HEAD" : d->method;
    }
    if (!known) {
        cb__web_error(rs, 404, "not_found", "no such route");
        return;
    }
    if (!rt) {
        cb__web_error(rs, 405, "method_not_allowed", "method not allowed on this route");
        return;
    }
    switch (rt->id) {
    case WEB_R_INDEX:
    case WEB_R_STATIC:
        cb__web_static(s->cfg.web_dir, rq, rs);
        return;
    case WEB_R_HEALTHZ:
        if (cb_buf_adds(&rs->body, "{\"status\":\"ok\"}"))
            oom(rs);
        return;
    case WEB_R_METRICS:
        rs->content_type = "text/plain; version=0.0.4; charset=utf-8";
        if (cb__web_metrics_render(&s->metrics, cb__web_report_facts(s->report),
                               atomic_load(&s->inflight), &rs->body) ||
            cb__web_feed_metrics(s, &rs->body))
            oom(rs);
        return;
    default:
        break;
    }

    st = cb__web_pool_get(&s->pool);
    if (rt->session && load_session(s, st, rq, &ss, rs))
        goto out;
    if (rt->csrf && (!rq->csrf || !cb__web_str_equal_ct(rq->csrf, ss.csrf))) {
        cb__web_error(rs, 403, "csrf", "missing or wrong X-CSRF-Token header");
        goto out;
    }
    switch (rt->id) {
    case WEB_R_LOGIN:      h_login(s, st, rq, rs); break;
    case WEB_R_LOGOUT:     h_logout(s, st, &ss, rs); break;
    case WEB_R_ME:         h_me(&ss, rs); break;
    case WEB_R_ORGS:       h_orgs(st, &ss, rs); break;
    case WEB_R_INDICATORS: h_indicators(s, st, rq, &ss, rs); break;
    case WEB_R_REJECTS:    h_rejects(st, rq, &ss, rs); break;
    case WEB_R_DRGS:       h_drgs(s, st, rq, &ss, rs); break;
    case WEB_R_QC:         h_qc(s, st, rq, &ss, rs); break;
    case WEB_R_CASES:      h_cases(s, st, rq, &ss, rs); break;
    case WEB_R_CASE:       h_case(s, st, rq, &ss, rs); break;
    case WEB_R_LIVE_SUMMARY: h_live_summary(s, st, rq, &ss, rs); break;
    case WEB_R_LIVE_WARDS:   h_live_wards(s, st, rq, &ss, rs); break;
    case WEB_R_LIVE_ALERTS:  h_live_alerts(s, st, rq, &ss, rs); break;
    case WEB_R_LIVE_STREAM:  h_live_stream(s, st, rq, &ss, rs); break;
    default:               cb__web_error(rs, 404, "not_found", "no such route"); break;
    }
out:
    cb__web_pool_put(&s->pool, st);
}
