/*
 * test_web.c - the pure parts of `carebase serve` (src/web): password
 * hashing, tokens, who may read what, the login rate limiter, the
 * configuration file, periods, metrics and static paths; and the store's accounts
 * (users, sessions, audit, scoped reads).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/store.h"
#include "carebase/web.h"
#include "testutil.h"
#include "web/web_int.h"

static void
test_password_hash_verify(void **state)
{
    char h1[CB_PWHASH_MAX], h2[CB_PWHASH_MAX];
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    assert_int_equal(cb_web_password_hash("correct horse", h1, sizeof h1, &err), CB_OK);
    assert_int_equal(strncmp(h1, "$argon2id$", 10), 0);
    assert_true(cb_web_password_verify(h1, "correct horse"));
    assert_false(cb_web_password_verify(h1, "correct horsE"));
    assert_false(cb_web_password_verify(h1, ""));
    assert_false(cb_web_password_verify("", "correct horse"));
    assert_false(cb_web_password_verify("not a hash", "correct horse"));
    /* A fresh salt each time. */
    assert_int_equal(cb_web_password_hash("correct horse", h2, sizeof h2, &err), CB_OK);
    assert_string_not_equal(h1, h2);
    assert_true(cb_web_password_verify(h2, "correct horse"));
    /* Length limits. */
    assert_int_equal(cb_web_password_hash("short", h2, sizeof h2, &err), CB_ERR_USAGE);
    char *longpw = malloc(CB_WEB_PASSWORD_MAX + 2);
    memset(longpw, 'x', CB_WEB_PASSWORD_MAX + 1);
    longpw[CB_WEB_PASSWORD_MAX + 1] = '\0';
    assert_int_equal(cb_web_password_hash(longpw, h2, sizeof h2, &err), CB_ERR_USAGE);
    assert_false(cb_web_password_verify(h1, longpw));
    longpw[CB_WEB_PASSWORD_MAX] = '\0';
    assert_int_equal(cb_web_password_hash(longpw, h2, sizeof h2, &err), CB_OK);
    assert_true(cb_web_password_verify(h2, longpw));
    free(longpw);
    assert_int_equal(cb_web_password_hash("long enough", h2, 16, &err), CB_ERR_USAGE);
    cb_buf_release(&err);
}

static void
test_tokens(void **state)
{
    char a[WEB_TOKEN_HEX], b[WEB_TOKEN_HEX], h[WEB_TOKEN_HEX];

    (void)state;
    cb__web_token_new(a);
    cb__web_token_new(b);
    assert_int_equal(strlen(a), 64);
    assert_true(cb__web_token_valid(a));
    assert_string_not_equal(a, b);
    cb__web_token_hash("abc", h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_false(cb__web_token_valid(""));
    assert_false(cb__web_token_valid("abc"));
    assert_false(cb__web_token_valid("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
    assert_false(cb__web_token_valid("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
    assert_false(cb__web_token_valid("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    assert_true(cb__web_str_equal_ct(a, a));
    assert_false(cb__web_str_equal_ct(a, b));
    assert_false(cb__web_str_equal_ct(a, ""));
    assert_true(cb__web_str_equal_ct("", ""));
}

/* Who may read what: every role against every unit, in and out of scope. */
static void
test_authorize(void **state)
{
    static const struct {
        enum web_role role;
        enum web_by   by;
        bool          given, visible;
        int           want;
    } cases[] = {
        { WEB_ROLE_CONSORTIUM_ADMIN, WEB_BY_CONSORTIUM, false, false, 0 },
        { WEB_ROLE_CONSORTIUM_ADMIN, WEB_BY_HOSPITAL, false, false, 0 },
        { WEB_ROLE_CONSORTIUM_ADMIN, WEB_BY_DOCTOR, true, true, 0 },
        { WEB_ROLE_CONSORTIUM_ADMIN, WEB_BY_HOSPITAL, true, false, 403 },
        { WEB_ROLE_HOSPITAL_ADMIN, WEB_BY_CONSORTIUM, false, false, 403 },
        { WEB_ROLE_HOSPITAL_ADMIN, WEB_BY_HOSPITAL, false, false, 0 },
        { WEB_ROLE_HOSPITAL_ADMIN, WEB_BY_DEPARTMENT, true, true, 0 },
        { WEB_ROLE_HOSPITAL_ADMIN, WEB_BY_DOCTOR, false, false, 0 },
        { WEB_ROLE_HOSPITAL_ADMIN, WEB_BY_HOSPITAL, true, false, 403 },
        { WEB_ROLE_DEPARTMENT_VIEWER, WEB_BY_DEPARTMENT, false, false, 0 },
        { WEB_ROLE_DEPARTMENT_VIEWER, WEB_BY_HOSPITAL, true, true, 0 },
        { WEB_ROLE_DEPARTMENT_VIEWER, WEB_BY_DOCTOR, false, false, 403 },
        { WEB_ROLE_DEPARTMENT_VIEWER, WEB_BY_CONSORTIUM, false, false, 403 },
        { WEB_ROLE_DEPARTMENT_VIEWER, WEB_BY_DEPARTMENT, true, false, 403 },
        { WEB_ROLE_NONE, WEB_BY_HOSPITAL, false, false, 403 },
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = cb__web_authorize_indicators(cases[i].role, cases[i].by, cases[i].given,
                                           cases[i].visible);
        if (got != cases[i].want)
            fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
    }
    assert_int_equal(cb__web_authorize_rejects(WEB_ROLE_CONSORTIUM_ADMIN, false, false), 0);
    assert_int_equal(cb__web_authorize_rejects(WEB_ROLE_HOSPITAL_ADMIN, true, true), 0);
    assert_int_equal(cb__web_authorize_rejects(WEB_ROLE_HOSPITAL_ADMIN, true, false), 403);
    assert_int_equal(cb__web_authorize_rejects(WEB_ROLE_DEPARTMENT_VIEWER, false, false), 403);
    assert_int_equal(cb__web_authorize_rejects(WEB_ROLE_NONE, false, false), 403);

    assert_int_equal(cb__web_role_parse("consortium_admin"), WEB_ROLE_CONSORTIUM_ADMIN);
    assert_int_equal(cb__web_role_parse("hospital_admin"), WEB_ROLE_HOSPITAL_ADMIN);
    assert_int_equal(cb__web_role_parse("department_viewer"), WEB_ROLE_DEPARTMENT_VIEWER);
    assert_int_equal(cb__web_role_parse("root"), WEB_ROLE_NONE);
    enum web_by by;
    assert_int_equal(cb__web_by_parse("doctor", &by), 0);
    assert_int_equal(by, WEB_BY_DOCTOR);
    assert_int_equal(cb__web_by_parse("ward", &by), -1);
}

static void
test_limiter(void **state)
{
    struct web_limiter *l = malloc(sizeof *l);
    char key[32];

    (void)state;
    cb__web_limiter_init(l, 3, 60);
    assert_false(cb__web_limiter_blocked(l, "user:a", 1000));
    for (int i = 0; i < 3; i++) {
        assert_false(cb__web_limiter_blocked(l, "user:a", 1000 + i));
        cb__web_limiter_fail(l, "user:a", 1000 + i);
    }
    assert_true(cb__web_limiter_blocked(l, "user:a", 1003));
    assert_true(cb__web_limiter_blocked(l, "user:a", 1059));
    assert_false(cb__web_limiter_blocked(l, "user:b", 1003));
    assert_false(cb__web_limiter_blocked(l, "ip:a", 1003));
    /* The window ends. */
    assert_false(cb__web_limiter_blocked(l, "user:a", 1060));
    cb__web_limiter_fail(l, "user:a", 1061);
    assert_false(cb__web_limiter_blocked(l, "user:a", 1061));
    /* A success clears the count. */
    cb__web_limiter_fail(l, "user:c", 2000);
    cb__web_limiter_fail(l, "user:c", 2000);
    cb__web_limiter_fail(l, "user:c", 2000);
    assert_true(cb__web_limiter_blocked(l, "user:c", 2000));
    cb__web_limiter_clear(l, "user:c");
    assert_false(cb__web_limiter_blocked(l, "user:c", 2000));
    /* Many keys: memory stays bounded, recent keys keep their counts. */
    for (int i = 0; i < 3 * WEB_LIMIT_SLOTS; i++) {
        snprintf(key, sizeof key, "ip:10.0.%d.%d", i / 256, i % 256);
        cb__web_limiter_fail(l, key, 3000 + i / 1000);
    }
    for (int i = 0; i < 3; i++)
        cb__web_limiter_fail(l, "user:d", 4000);
    assert_true(cb__web_limiter_blocked(l, "user:d", 4000));
    cb__web_limiter_release(l);
    free(l);
}

static void
test_config(void **state)
{
    struct cb_web_config c;
    struct cb_buf err = CB_BUF_INIT;
    static const char good[] =
        "# settings\n"
        "\n"
        "listen = 0.0.0.0:8443\n"
        "  db=/var/lib/carebase/cb.db  \n"
        "tls_cert = \" /etc/cb/cert.pem\"\n"
        "threads = 8\n"
        "max_body = 2048\n"
        "listen = 127.0.0.1:0\n";

    (void)state;
    cb_web_config_init(&c);
    assert_int_equal(c.threads, 4);
    assert_int_equal(c.max_body, 65536);
    assert_int_equal(c.login_failures, 5);
    assert_int_equal(cb_web_config_load(&c, tu_write_file("good.conf", good, sizeof good - 1),
                                        &err), CB_OK);
    assert_string_equal(c.listen, "127.0.0.1:0");
    assert_string_equal(c.db, "/var/lib/carebase/cb.db");
    assert_string_equal(c.tls_cert, " /etc/cb/cert.pem");
    assert_null(c.tls_key);
    assert_int_equal(c.threads, 8);
    assert_int_equal(c.max_body, 2048);

    assert_int_equal(cb_web_config_set(&c, "threads", "0", &err), CB_ERR_USAGE);
    assert_int_equal(cb_web_config_set(&c, "threads", "4x", &err), CB_ERR_USAGE);
    assert_int_equal(cb_web_config_set(&c, "max_body", "10", &err), CB_ERR_USAGE);
    assert_int_equal(cb_web_config_set(&c, "colour", "red", &err), CB_ERR_USAGE);
    assert_int_equal(cb_web_config_set(&c, "db", "", &err), CB_ERR_USAGE);
    assert_int_equal(c.threads, 8);

    cb_buf_reset(&err);
    static const char bad[] = "listen = 127.0.0.1:0\nthreads 4\n";
    assert_int_equal(cb_web_config_load(&c, tu_write_file("bad.conf", bad, sizeof bad - 1),
                                        &err), CB_ERR_USAGE);
    assert_non_null(strstr(cb_buf_cstr(&err), "bad.conf:2"));
    cb_buf_reset(&err);
    static const char unknown[] = "\n\nnope = 1\n";
    assert_int_equal(cb_web_config_load(&c, tu_write_file("unknown.conf", unknown,
                                                          sizeof unknown - 1), &err),
                     CB_ERR_USAGE);
    assert_non_null(strstr(cb_buf_cstr(&err), "unknown setting 'nope'"));
    assert_non_null(strstr(cb_buf_cstr(&err), "unknown.conf:3"));
    cb_buf_reset(&err);
    assert_int_equal(cb_web_config_load(&c, "/nonexistent/serve.conf", &err), CB_ERR_IO);
    cb_web_config_release(&c);
    cb_buf_release(&err);
}

static void
test_periods(void **state)
{
    enum cb_period k;
    uint16_t from, to, f2, t2;

    (void)state;
    assert_int_equal(cb__web_parse_period("2025Q1", &k, &from, &to), 0);
    assert_int_equal(k, CB_PERIOD_QUARTER);
    cb_period_bounds(CB_PERIOD_QUARTER, 20251, &f2, &t2);
    assert_int_equal(from, f2);
    assert_int_equal(to, t2);
    assert_int_equal(cb__web_parse_period("2025-03", &k, &from, &to), 0);
    assert_int_equal(k, CB_PERIOD_MONTH);
    assert_int_equal(cb__web_parse_period("2025", &k, &from, &to), 0);
    assert_int_equal(k, CB_PERIOD_YEAR);
    static const char *const bad[] = { "", "25", "2025Q5", "2025Q0", "2025-13", "2025-1",
                                       "1999", "2025Q1x", "２０２５", "2025-03-01" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cb__web_parse_period(bad[i], &k, &from, &to) != -1)
            fail_msg("'%s' was accepted", bad[i]);
}

static void
test_metrics(void **state)
{
    struct web_metrics *m = calloc(1, sizeof *m);
    struct cb_buf out = CB_BUF_INIT;

    (void)state;
    cb__web_metrics_observe(m, WEB_R_LOGIN, 401, 0.0004);
    cb__web_metrics_observe(m, WEB_R_LOGIN, 401, 0.2);
    cb__web_metrics_observe(m, WEB_R_INDICATORS, 200, 3.0);
    cb__web_metrics_observe(m, WEB_R_OTHER, 418, 0.001);
    assert_int_equal(cb__web_metrics_render(m, 1234, 2, &out), CB_OK);
    const char *t = cb_buf_cstr(&out);
    assert_non_null(strstr(t, "carebase_http_requests_total{route=\"/api/login\",status=\"401\"} 2\n"));
    assert_non_null(strstr(t, "carebase_http_requests_total{route=\"/api/indicators\",status=\"200\"} 1\n"));
    assert_non_null(strstr(t, "carebase_http_requests_total{route=\"other\",status=\"other\"} 1\n"));
    assert_non_null(strstr(t, "carebase_http_request_duration_seconds_bucket{le=\"0.001\"} 2\n"));
    assert_non_null(strstr(t, "carebase_http_request_duration_seconds_bucket{le=\"2.5\"} 3\n"));
    assert_non_null(strstr(t, "carebase_http_request_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(t, "carebase_http_request_duration_seconds_count 4\n"));
    assert_non_null(strstr(t, "carebase_engine_facts 1234\n"));
    assert_non_null(strstr(t, "carebase_http_requests_in_flight 2\n"));
    assert_null(strstr(t, "status=\"404\""));
    cb_buf_release(&out);
    free(m);
}

/* ---- the store's accounts ---- */

static struct cb_store *
org_store(const char *name)
{
    static char p[512];
    struct cb_store *st;
    struct cb_buf err = CB_BUF_INIT;

    snprintf(p, sizeof p, "%s/%s", tu_tmpdir(), name);
    remove(p);
    assert_int_equal(cb_store_open(&st, p, &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "consortium", "YLT01", "医联体", &err), CB_OK);
    assert_int_equal(cb_store_group_set(st, "consortium", "YLT 02", "second", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H1", "一院", "三级", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H2", "二院", "二级", &err), CB_OK);
    assert_int_equal(cb_store_hospital_set(st, "H3", "三院", NULL, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT01", "H1", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT01", "H2", 0, &err), CB_OK);
    assert_int_equal(cb_store_group_member(st, "YLT 02", "H2", 0, &err), CB_OK);
    cb_buf_release(&err);
    return st;
}

static struct cb_store_user
user(const char *name, const char *role, const char *scope, const char *dept)
{
    struct cb_store_user u;

    memset(&u, 0, sizeof u);
    snprintf(u.name, sizeof u.name, "%s", name);
    snprintf(u.role, sizeof u.role, "%s", role);
    snprintf(u.scope_code, sizeof u.scope_code, "%s", scope);
    snprintf(u.department, sizeof u.department, "%s", dept ? dept : "");
    snprintf(u.pw_hash, sizeof u.pw_hash, "$argon2id$fake");
    return u;
}

struct rows {
    int  n;
    char text[1024];
};

static enum cb_err
collect(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct rows *r = ctx;
    size_t k = strlen(r->text);

    (void)names;
    for (int i = 0; i < ncols; i++)
        k += (size_t)snprintf(r->text + k, sizeof r->text - k, "%s%s", i ? "|" : "",
                              v[i] ? v[i] : "NULL");
    snprintf(r->text + k, sizeof r->text - k, "\n");
    r->n++;
    return CB_OK;
}

static void
test_store_users(void **state)
{
    struct cb_store *st = org_store("users.db");
    struct cb_buf err = CB_BUF_INIT;
    struct cb_store_user u, got;
    char csrf[WEB_TOKEN_HEX];
    struct rows r;

    (void)state;
    u = user("alice", "hospital_admin", "H1", NULL);
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_OK);
    assert_true(u.id > 0);
    assert_string_equal(u.scope_kind, "hospital");
    u = user("alice", "hospital_admin", "H2", NULL);
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_ERR_USAGE);
    u = user("bob", "consortium_admin", "YLT01", NULL);
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_OK);
    assert_string_equal(u.scope_kind, "group");
    u = user("x", "consortium_admin", "H1", NULL);       /* a hospital is no group */
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_ERR_NOT_FOUND);
    u = user("x", "hospital_admin", "YLT01", NULL);      /* nor a group a hospital */
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_ERR_NOT_FOUND);
    u = user("x", "department_viewer", "H1", NULL);      /* needs a department */
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_ERR_USAGE);
    u = user("x", "hospital_admin", "H1", "0301");       /* only viewers have one */
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_ERR_USAGE);
    u = user("x", "superuser", "H1", NULL);
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_ERR_USAGE);
    u = user("dave", "department_viewer", "H1", "0301");
    assert_int_equal(cb_store_user_add(st, &u, &err), CB_OK);

    assert_int_equal(cb_store_user_get(st, "dave", &got, &err), CB_OK);
    assert_string_equal(got.department, "0301");
    assert_string_equal(got.pw_hash, "$argon2id$fake");
    assert_int_equal(cb_store_user_get(st, "nobody", &got, &err), CB_ERR_NOT_FOUND);

    /* Sessions: live, expired, ended by a password change or disabling. */
    assert_int_equal(cb_store_session_put(st, "h-alice", 1, "c1", 2000, &err), CB_OK);
    assert_int_equal(cb_store_session_put(st, "h-bob", 2, "c2", 2000, &err), CB_OK);
    assert_int_equal(cb_store_session_put(st, "h-old", 2, "c3", 1000, &err), CB_OK);
    assert_int_equal(cb_store_session_get(st, "h-alice", 1500, &got, csrf, sizeof csrf, &err),
                     CB_OK);
    assert_string_equal(got.name, "alice");
    assert_string_equal(got.scope_code, "H1");
    assert_string_equal(csrf, "c1");
    assert_string_equal(got.pw_hash, "");
    assert_int_equal(cb_store_session_get(st, "h-alice", 2000, &got, csrf, sizeof csrf, &err),
                     CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_session_get(st, "h-old", 1500, &got, csrf, sizeof csrf, &err),
                     CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_session_purge(st, 1500, &err), CB_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_user_list(st, 1500, collect, &r, &err), CB_OK);
    assert_int_equal(r.n, 3);
    assert_null(strstr(r.text, "argon2"));
    assert_non_null(strstr(r.text, "|bob|consortium_admin|group|YLT01||0|"));
    assert_int_equal(cb_store_user_set_password(st, "alice", "$argon2id$new", &err), CB_OK);
    assert_int_equal(cb_store_session_get(st, "h-alice", 1500, &got, csrf, sizeof csrf, &err),
                     CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_user_disable(st, "bob", &err), CB_OK);
    assert_int_equal(cb_store_session_get(st, "h-bob", 1500, &got, csrf, sizeof csrf, &err),
                     CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_user_get(st, "bob", &got, &err), CB_OK);
    assert_int_equal(got.disabled, 1);
    assert_int_equal(cb_store_user_disable(st, "nobody", &err), CB_ERR_NOT_FOUND);
    assert_int_equal(cb_store_session_delete(st, "h-none", &err), CB_OK);

    assert_int_equal(cb_store_audit_add(st, 1, "read_rejects", "rejects=2", &err), CB_OK);
    assert_int_equal(cb_store_audit_add(st, 0, "login_failed", NULL, &err), CB_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_query(st, "SELECT user_id, action, what FROM audit ORDER BY id",
                                    collect, &r, &err), CB_OK);
    assert_string_equal(r.text, "1|read_rejects|rejects=2\nNULL|login_failed|NULL\n");
    cb_store_close(st);
    cb_buf_release(&err);
}

/* A scope's hospitals follow the group's members (codes may have spaces). */
static void
test_store_scope(void **state)
{
    struct cb_store *st = org_store("scope.db");
    struct cb_buf err = CB_BUF_INIT;
    struct rows r;

    (void)state;
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_scope_hospitals(st, "group", "YLT01", collect, &r, &err), CB_OK);
    assert_int_equal(r.n, 2);
    assert_non_null(strstr(r.text, "|H1|一院|三级|YLT01\n"));
    assert_non_null(strstr(r.text, "|H2|二院|二级|YLT01\x1fYLT 02\n"));
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_scope_hospitals(st, "hospital", "H3", collect, &r, &err), CB_OK);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.text, "|H3|三院|NULL|NULL\n"));
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_scope_hospitals(st, "hospital", "YLT01", collect, &r, &err), CB_OK);
    assert_int_equal(r.n, 0);
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_scope_hospitals(st, "group", "H1", collect, &r, &err), CB_OK);
    assert_int_equal(r.n, 0);
    assert_int_equal(cb_store_group_member(st, "YLT01", "H2", 1, &err), CB_OK);
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_scope_hospitals(st, "group", "YLT01", collect, &r, &err), CB_OK);
    assert_int_equal(r.n, 1);
    memset(&r, 0, sizeof r);
    assert_int_equal(cb_store_scope_rejects(st, "group", "YLT01", NULL, NULL, 10, collect, &r,
                                            &err), CB_OK);
    assert_int_equal(r.n, 0);
    cb_store_close(st);
    cb_buf_release(&err);
}

/* The web application's files: only plain relative paths are served. */
static void
test_static_paths(void **state)
{
    static const char *const good[] = {
        "main.js", "views/overview.js", "vendor/echarts.min.js", "style.css",
        "a-b_c.1.js", "x/y/z.svg",
    };
    static const char *const bad[] = {
        "", "..", "../x.js", "views/../main.js", "./main.js", ".hidden.js", "views/.x.js",
        "/etc/passwd", "views//x.js", "views/", "a\\b.js", "a b.js", "a%2e.js", "a\x01.js",
        "\x01", "x.js\n", "a:b.js", "~root.js",
    };
    char longp[260];

    (void)state;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        assert_true(cb__web_static_path_ok(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_false(cb__web_static_path_ok(bad[i]));
    assert_false(cb__web_static_path_ok(NULL));
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = '\0';
    assert_false(cb__web_static_path_ok(longp));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_password_hash_verify),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_authorize),
        cmocka_unit_test(test_limiter),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_periods),
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_store_users),
        cmocka_unit_test(test_store_scope),
        cmocka_unit_test(test_static_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
