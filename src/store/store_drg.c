/*
 * store_drg.c - DRG schemes, where and when each applies, and the result
 * of grouping each record (schema version 2; see store.h "DRG results"):
 * installing schemes, the per-record choice of a scheme, decoding a
 * stored record back into a struct cb_fp, and regrouping stored records.
 * Results are written with the fact of their record (store_fact.c; the
 * drg_result view, schema v9).
 *
 * The choice is made for every imported record, so it is an in-memory
 * table: the uses sorted by preference and, per hospital, a bit set of the
 * regional uses whose region contains it. Picking a use is one hash lookup
 * and a short scan; no SQL.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/drg.h"
#include "store_int.h"

#define REGROUP_BATCH 20000

/* ---- installing ------------------------------------------------------------ */

/* Runs a prepared one-shot statement to completion and finalises it. */
static enum cb_err
finish(struct cb_store *st, sqlite3_stmt *s, const char *what, struct cb_buf *err)
{
    int rc = sqlite3_step(s);

    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        cb_errf(err, "%s: %s", what, sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
        return CB_ERR_DB;
    }
    sqlite3_finalize(s);
    return CB_OK;
}

static int
prepare(struct cb_store *st, const char *sql, sqlite3_stmt **s)
{
    return sqlite3_prepare_v2(st->db, sql, -1, s, NULL) == SQLITE_OK;
}

enum cb_err
cb_store_drg_scheme_put(struct cb_store *st, const struct cb_drg_scheme *s,
                        int64_t *scheme_id, int *created, struct cb_buf *err)
{
    static const char what[] = "cannot record the DRG scheme";
    char abs[PATH_MAX], ts[32];
    const char *path = cb_drg_scheme_dir(s);
    sqlite3_stmt *q;
    time_t t = time(NULL);
    struct tm tm;
    int found;

    if (realpath(path, abs))
        path = abs;
    if (!prepare(st, "SELECT id FROM drg_scheme WHERE scheme = ?1 AND digest = ?2", &q))
        return cb__store_fail(st, what, err);
    sqlite3_bind_text(q, 1, cb_drg_scheme_id(s), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, cb_drg_scheme_digest(s), -1, SQLITE_STATIC);
    found = sqlite3_step(q) == SQLITE_ROW;
    if (found)
        *scheme_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (created)
        *created = !found;
    if (found) {
        /* The same package version: it may have moved. */
        if (!prepare(st, "UPDATE drg_scheme SET path = ?2 WHERE id = ?1", &q))
            return cb__store_fail(st, what, err);
        sqlite3_bind_int64(q, 1, *scheme_id);
        sqlite3_bind_text(q, 2, path, -1, SQLITE_STATIC);
        return finish(st, q, what, err);
    }
    gmtime_r(&t, &tm);
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!prepare(st, "INSERT INTO drg_scheme(scheme, name, digest, path, installed_at)"
                     " VALUES (?1, ?2, ?3, ?4, ?5)", &q))
        return cb__store_fail(st, what, err);
    sqlite3_bind_text(q, 1, cb_drg_scheme_id(s), -1, SQLITE_STATIC);
    bind_textz(q, 2, cb_drg_scheme_name(s));
    sqlite3_bind_text(q, 3, cb_drg_scheme_digest(s), -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 4, path, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 5, ts, -1, SQLITE_STATIC);
    if (finish(st, q, what, err))
        return CB_ERR_DB;
    *scheme_id = sqlite3_last_insert_rowid(st->db);
    return CB_OK;
}

static void
bind_use(sqlite3_stmt *q, int64_t scheme_id, int64_t region_id,
         const int64_t *from, const int64_t *to)
{
    sqlite3_bind_int64(q, 1, scheme_id);
    if (region_id)
        sqlite3_bind_int64(q, 2, region_id);
    if (from)
        sqlite3_bind_int64(q, 3, *from);
    if (to)
        sqlite3_bind_int64(q, 4, *to);
}

enum cb_err
cb_store_drg_use_add(struct cb_store *st, int64_t scheme_id, const char *region,
                     const int64_t *from, const int64_t *to, int64_t *use_id,
                     struct cb_buf *err)
{
    static const char what[] = "cannot add the scheme use";
    sqlite3_stmt *q;
    int64_t region_id = 0;
    int found;

    if (from && to && *from > *to) {
        char a[11], b[11];
        cb_format_date(*from, a);
        cb_format_date(*to, b);
        cb_errf(err, "the date range %s..%s is empty", a, b);
        return CB_ERR_USAGE;
    }
    if (!prepare(st, "SELECT 1 FROM drg_scheme WHERE id = ?1", &q))
        return cb__store_fail(st, what, err);
    sqlite3_bind_int64(q, 1, scheme_id);
    found = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
    if (!found) {
        cb_errf(err, "no installed DRG scheme with id %lld", (long long)scheme_id);
        return CB_ERR_NOT_FOUND;
    }
    if (region) {
        /* A code is an identifier; a name is accepted when unambiguous. */
        if (!prepare(st, "SELECT id FROM org_group WHERE kind = 'region'"
                         " AND (code = ?1 OR name = ?1) ORDER BY code = ?1 DESC, id", &q))
            return cb__store_fail(st, what, err);
        sqlite3_bind_text(q, 1, region, -1, SQLITE_STATIC);
        found = sqlite3_step(q) == SQLITE_ROW;
        if (found)
            region_id = sqlite3_column_int64(q, 0);
        sqlite3_finalize(q);
        if (!found) {
            cb_errf(err, "no region with code or name '%s'", region);
            return CB_ERR_NOT_FOUND;
        }
    }
    /* The same use twice would change nothing: the first one is kept. */
    if (!prepare(st, "SELECT id FROM drg_scheme_use WHERE scheme_id = ?1"
                     " AND region_id IS ?2 AND valid_from IS ?3 AND valid_to IS ?4", &q))
        return cb__store_fail(st, what, err);
    bind_use(q, scheme_id, region_id, from, to);
    found = sqlite3_step(q) == SQLITE_ROW;
    if (found && use_id)
        *use_id = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (found)
        return CB_OK;
    if (!prepare(st, "INSERT INTO drg_scheme_use(scheme_id, region_id, valid_from,"
                     " valid_to) VALUES (?1, ?2, ?3, ?4)", &q))
        return cb__store_fail(st, what, err);
    bind_use(q, scheme_id, region_id, from, to);
    if (finish(st, q, what, err))
        return CB_ERR_DB;
    if (use_id)
        *use_id = sqlite3_last_insert_rowid(st->db);
    return CB_OK;
}

enum cb_err
cb_store_drg_use_remove(struct cb_store *st, int64_t use_id, struct cb_buf *err)
{
    static const char what[] = "cannot remove the scheme use";
    sqlite3_stmt *q;

    if (!prepare(st, "DELETE FROM drg_scheme_use WHERE id = ?1", &q))
        return cb__store_fail(st, what, err);
    sqlite3_bind_int64(q, 1, use_id);
    if (finish(st, q, what, err))
        return CB_ERR_DB;
    if (sqlite3_changes(st->db) == 0) {
        cb_errf(err, "no scheme use with id %lld", (long long)use_id);
        return CB_ERR_NOT_FOUND;
    }
    return CB_OK;
}

enum cb_err
cb_store_drg_use_count(struct cb_store *st, int64_t *n, struct cb_buf *err)
{
    sqlite3_stmt *q;

    *n = 0;
    if (!prepare(st, "SELECT count(*) FROM drg_scheme_use", &q))
        return cb__store_fail(st, "cannot count scheme uses", err);
    if (sqlite3_step(q) == SQLITE_ROW)
        *n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return CB_OK;
}

enum cb_err
cb_store_drg_use_replace(struct cb_store *st, int64_t scheme_id, int64_t *nuses,
                         struct cb_buf *err)
{
    static const char what[] = "cannot move the scheme's uses";
    sqlite3_stmt *q;

    *nuses = 0;
    if (!prepare(st, "UPDATE drg_scheme_use SET scheme_id = ?1 WHERE scheme_id IN"
                     " (SELECT id FROM drg_scheme WHERE scheme ="
                     "  (SELECT scheme FROM drg_scheme WHERE id = ?1))", &q))
        return cb__store_fail(st, what, err);
    sqlite3_bind_int64(q, 1, scheme_id);
    if (finish(st, q, what, err))
        return CB_ERR_DB;
    *nuses = sqlite3_changes(st->db);
    return CB_OK;
}

enum cb_err
cb_store_drg_list(struct cb_store *st, cb_store_row_fn fn, void *ctx,
                  struct cb_buf *err)
{
    return cb_store_query(st,
        "SELECT u.id AS use, s.id AS scheme_id, s.scheme, s.name,"
        " substr(s.digest, 1, 12) AS digest, g.code AS region, g.name AS region_name,"
        " date(u.valid_from * 86400, 'unixepoch') AS valid_from,"
        " date(u.valid_to * 86400, 'unixepoch') AS valid_to,"
        " (SELECT count(*) FROM drg_result r WHERE r.scheme_id = s.id) AS records,"
        " s.path"
        " FROM drg_scheme s LEFT JOIN drg_scheme_use u ON u.scheme_id = s.id"
        " LEFT JOIN org_group g ON g.id = u.region_id"
        " ORDER BY s.id, u.id", fn, ctx, err);
}

/* ---- the choice ------------------------------------------------------------ */

struct ch_scheme {
    int64_t               id;        /* drg_scheme.id */
    char                 *scheme;    /* "chs-drg-1.1" */
    char                 *digest;
    char                 *path;
    /* Loaded on first need, under the chooser's lock; read without it
       (atomically) once set, and never changed again. */
    struct cb_drg_scheme *s;
    struct cb_drg_work   *works;     /* one per thread, bound to s when set */
    int                   nworks;
    int                   has_maps;
};

struct ch_use {
    int64_t  id;          /* drg_scheme_use.id */
    int      slot;        /* index into schemes */
    int64_t  region_id;   /* 0 = everywhere */
    int      has_from, has_to;
    int64_t  from, to;    /* discharge days, inclusive */
    char    *choice;      /* the text stored with each result */
};

struct cb_store_drg_chooser {
    struct ch_scheme *schemes;
    int               nschemes;
    struct ch_use    *uses;      /* in order of preference */
    int               nuses;
    int               nwords;    /* 64-bit words per hospital's bit set */
    struct cb_strmap  hosp;      /* zzjgdm -> row of masks */
    uint64_t         *masks;     /* per hospital: bit i = use i's region has it */
    size_t            nhosp, hosp_cap;
    int               nthreads;  /* work areas per loaded scheme */
    pthread_mutex_t   load_mu;   /* loading a scheme */
};

void
cb_store_drg_chooser_free(struct cb_store_drg_chooser *c)
{
    int i;

    if (!c)
        return;
    for (i = 0; i < c->nschemes; i++) {
        struct ch_scheme *sc = &c->schemes[i];
        for (int k = 0; k < sc->nworks; k++)
            cb_drg_work_release(&sc->works[k]);
        cb_free(sc->works);
        cb_drg_scheme_free(sc->s);
        cb_free(sc->scheme);
        cb_free(sc->digest);
        cb_free(sc->path);
    }
    for (i = 0; i < c->nuses; i++)
        cb_free(c->uses[i].choice);
    cb_free(c->schemes);
    cb_free(c->uses);
    cb_free(c->masks);
    cb_strmap_release(&c->hosp);
    pthread_mutex_destroy(&c->load_mu);
    cb_free(c);
}

static char *
col_dup(sqlite3_stmt *q, int i)
{
    const char *z = (const char *)sqlite3_column_text(q, i);
    return cb_strdup(z ? z : "");
}

/* "default", "national 2024-01-01..", "region 北京 2022-01-01..2022-12-31". */
static char *
choice_text(const struct ch_use *u, const char *region)
{
    struct cb_buf b = CB_BUF_INIT;
    char d[11];
    enum cb_err rc = CB_OK;
    char *out;

    if (!u->region_id && !u->has_from && !u->has_to)
        return cb_strdup("default");
    rc = u->region_id ? cb_buf_addf(&b, "region %s", region) : cb_buf_adds(&b, "national");
    if (!rc && (u->has_from || u->has_to)) {
        rc = cb_buf_addc(&b, ' ');
        if (!rc && u->has_from) {
            cb_format_date(u->from, d);
            rc = cb_buf_adds(&b, d);
        }
        if (!rc)
            rc = cb_buf_adds(&b, "..");
        if (!rc && u->has_to) {
            cb_format_date(u->to, d);
            rc = cb_buf_adds(&b, d);
        }
    }
    out = rc ? NULL : cb_buf_detach(&b, NULL);
    cb_buf_release(&b);
    return out;
}

static enum cb_err
load_schemes(struct cb_store *st, struct cb_store_drg_chooser *c, struct cb_buf *err)
{
    sqlite3_stmt *q;
    int n = 0, step;
    enum cb_err rc = CB_OK;

    if (!prepare(st, "SELECT count(*) FROM drg_scheme", &q))
        return cb__store_fail(st, "cannot read the DRG schemes", err);
    if (sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (n > INT16_MAX) {
        cb_errf(err, "too many DRG schemes installed (%d)", n);
        return CB_ERR_TOO_LARGE;
    }
    c->schemes = cb_calloc((size_t)n + 1, sizeof(*c->schemes));
    if (!c->schemes)
        return CB_ERR_NOMEM;
    if (!prepare(st, "SELECT id, scheme, digest, path FROM drg_scheme ORDER BY id", &q))
        return cb__store_fail(st, "cannot read the DRG schemes", err);
    while ((step = sqlite3_step(q)) == SQLITE_ROW && c->nschemes < n) {
        struct ch_scheme *sc = &c->schemes[c->nschemes++];
        sc->id = sqlite3_column_int64(q, 0);
        sc->scheme = col_dup(q, 1);
        sc->digest = col_dup(q, 2);
        sc->path = col_dup(q, 3);
        if (!sc->scheme || !sc->digest || !sc->path) {
            rc = CB_ERR_NOMEM;
            break;
        }
    }
    if (!rc && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = cb__store_fail(st, "cannot read the DRG schemes", err);
    sqlite3_finalize(q);
    return rc;
}

static int
slot_of(const struct cb_store_drg_chooser *c, int64_t scheme_id)
{
    int i;

    for (i = 0; i < c->nschemes; i++)
        if (c->schemes[i].id == scheme_id)
            return i;
    return -1;
}

static enum cb_err
load_uses(struct cb_store *st, struct cb_store_drg_chooser *c, struct cb_buf *err)
{
    sqlite3_stmt *q;
    int64_t n = 0;
    int step;
    enum cb_err rc;

    if ((rc = cb_store_drg_use_count(st, &n, err)))
        return rc;
    if (n > 4096) {
        cb_errf(err, "too many DRG scheme uses (%lld)", (long long)n);
        return CB_ERR_TOO_LARGE;
    }
    c->uses = cb_calloc((size_t)n + 1, sizeof(*c->uses));
    if (!c->uses)
        return CB_ERR_NOMEM;
    /* The order of preference (see store.h). */
    if (!prepare(st, "SELECT u.id, u.scheme_id, u.region_id, u.valid_from, u.valid_to,"
                     " g.name FROM drg_scheme_use u"
                     " LEFT JOIN org_group g ON g.id = u.region_id"
                     " ORDER BY u.region_id IS NULL, u.valid_from IS NULL,"
                     " u.valid_from DESC, u.id DESC", &q))
        return cb__store_fail(st, "cannot read the DRG scheme uses", err);
    while ((step = sqlite3_step(q)) == SQLITE_ROW && c->nuses < n) {
        struct ch_use *u = &c->uses[c->nuses];
        const char *region = (const char *)sqlite3_column_text(q, 5);

        u->id = sqlite3_column_int64(q, 0);
        u->slot = slot_of(c, sqlite3_column_int64(q, 1));
        u->region_id = sqlite3_column_int64(q, 2);
        u->has_from = sqlite3_column_type(q, 3) != SQLITE_NULL;
        u->from = sqlite3_column_int64(q, 3);
        u->has_to = sqlite3_column_type(q, 4) != SQLITE_NULL;
        u->to = sqlite3_column_int64(q, 4);
        if (u->slot < 0)
            CB_BUG("a scheme use without its scheme");
        u->choice = choice_text(u, region ? region : "?");
        c->nuses++;
        if (!u->choice) {
            sqlite3_finalize(q);
            return CB_ERR_NOMEM;
        }
    }
    sqlite3_finalize(q);
    if (step != SQLITE_DONE && step != SQLITE_ROW)
        return cb__store_fail(st, "cannot read the DRG scheme uses", err);
    c->nwords = (c->nuses + 63) / 64;
    return CB_OK;
}

static enum cb_err
hospital_row(struct cb_store_drg_chooser *c, struct cb_str zzjgdm, uint64_t **row)
{
    uint32_t k;
    enum cb_err rc;

    if (!cb_strmap_get(&c->hosp, zzjgdm, &k)) {
        if (c->nhosp == c->hosp_cap) {
            size_t cap = c->hosp_cap ? c->hosp_cap * 2 : 64;
            uint64_t *m = cb_reallocarray(c->masks, cap * (size_t)c->nwords,
                                          sizeof(uint64_t));
            if (!m)
                return CB_ERR_NOMEM;
            c->masks = m;
            c->hosp_cap = cap;
        }
        k = (uint32_t)c->nhosp++;
        memset(c->masks + (size_t)k * (size_t)c->nwords, 0,
               (size_t)c->nwords * sizeof(uint64_t));
        if ((rc = cb_strmap_put(&c->hosp, zzjgdm, k)))
            return rc;
    }
    *row = c->masks + (size_t)k * (size_t)c->nwords;
    return CB_OK;
}

static enum cb_err
load_members(struct cb_store *st, struct cb_store_drg_chooser *c, struct cb_buf *err)
{
    sqlite3_stmt *q;
    int step, i;
    enum cb_err rc = CB_OK;

    if (!c->nwords)
        return CB_OK;
    if (!prepare(st, "SELECT h.zzjgdm, u.id FROM drg_scheme_use u"
                     " JOIN org_group g ON g.id = u.region_id AND g.kind = 'region'"
                     " JOIN org_member m ON m.group_id = g.id"
                     " JOIN hospital h ON h.id = m.hospital_id", &q))
        return cb__store_fail(st, "cannot read the regions' hospitals", err);
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        const char *z = (const char *)sqlite3_column_text(q, 0);
        int64_t id = sqlite3_column_int64(q, 1);
        uint64_t *row;

        if (!z)
            continue;
        for (i = 0; i < c->nuses && c->uses[i].id != id; i++)
            ;
        if (i == c->nuses)
            continue;
        if ((rc = hospital_row(c, cb_str_c(z), &row)))
            break;
        row[i / 64] |= (uint64_t)1 << (i % 64);
    }
    if (!rc && step != SQLITE_DONE)
        rc = cb__store_fail(st, "cannot read the regions' hospitals", err);
    sqlite3_finalize(q);
    return rc;
}

enum cb_err
cb_store_drg_chooser_new(struct cb_store *st, struct cb_store_drg_chooser **out,
                         struct cb_buf *err)
{
    struct cb_store_drg_chooser *c = cb_calloc(1, sizeof(*c));
    enum cb_err rc;

    *out = NULL;
    if (!c)
        return CB_ERR_NOMEM;
    cb_strmap_init(&c->hosp);
    c->nthreads = 1;
    pthread_mutex_init(&c->load_mu, NULL);
    if ((rc = load_schemes(st, c, err)) || (rc = load_uses(st, c, err)) ||
        (rc = load_members(st, c, err))) {
        cb_store_drg_chooser_free(c);
        return rc;
    }
    *out = c;
    return CB_OK;
}

/* Gives sc n work areas bound to s (those it has stay). */
static enum cb_err
grow_works(struct ch_scheme *sc, const struct cb_drg_scheme *s, int n)
{
    struct cb_drg_work *w;
    enum cb_err rc;

    if (n <= sc->nworks)
        return CB_OK;
    w = cb_reallocarray(sc->works, (size_t)n, sizeof(*w));
    if (!w)
        return CB_ERR_NOMEM;
    sc->works = w;
    while (sc->nworks < n) {
        memset(&w[sc->nworks], 0, sizeof(*w));
        if ((rc = cb_drg_work_init(&w[sc->nworks], s))) {
            cb_drg_work_release(&w[sc->nworks]);
            return rc;
        }
        sc->nworks++;
    }
    return CB_OK;
}

/* Publishes s as sc's scheme once its work areas are ready. */
static enum cb_err
bind_scheme(struct cb_store_drg_chooser *c, struct ch_scheme *sc,
            struct cb_drg_scheme *s)
{
    enum cb_err rc = grow_works(sc, s, c->nthreads);

    if (rc) {
        for (int k = 0; k < sc->nworks; k++)
            cb_drg_work_release(&sc->works[k]);
        cb_free(sc->works);
        sc->works = NULL;
        sc->nworks = 0;
        return rc;
    }
    sc->has_maps = cb_drg_scheme_has_maps(s);
    __atomic_store_n(&sc->s, s, __ATOMIC_RELEASE);
    return CB_OK;
}

enum cb_err
cb_store_drg_chooser_threads(struct cb_store_drg_chooser *c, int n)
{
    enum cb_err rc;

    if (n < 1)
        n = 1;
    for (int i = 0; i < c->nschemes; i++)
        if (c->schemes[i].s && (rc = grow_works(&c->schemes[i], c->schemes[i].s, n)))
            return rc;
    if (n > c->nthreads)
        c->nthreads = n;
    return CB_OK;
}

void
cb_store_drg_chooser_take_scheme(struct cb_store_drg_chooser *c,
                                 struct cb_drg_scheme *s)
{
    int i;

    for (i = 0; s && i < c->nschemes; i++) {
        struct ch_scheme *sc = &c->schemes[i];
        if (!sc->s && !strcmp(sc->scheme, cb_drg_scheme_id(s)) &&
            !strcmp(sc->digest, cb_drg_scheme_digest(s))) {
            if (bind_scheme(c, sc, s) == CB_OK)
                return;
            break;
        }
    }
    cb_drg_scheme_free(s);
}

static enum cb_err
load_scheme(struct cb_store_drg_chooser *c, struct ch_scheme *sc, struct cb_buf *err)
{
    struct cb_drg_load_opts lo;
    struct cb_drg_scheme *s;
    enum cb_err rc;

    memset(&lo, 0, sizeof(lo));
    lo.skip_dicts = true; /* names are for display; grouping never needs them */
    if ((rc = cb_drg_scheme_load(sc->path, &lo, &s, err))) {
        cb_errf(err, "cannot load DRG scheme %s (installed as #%lld) from '%s'",
                sc->scheme, (long long)sc->id, sc->path);
        return rc;
    }
    if (strcmp(cb_drg_scheme_digest(s), sc->digest) != 0) {
        cb_errf(err, "the DRG scheme package in '%s' has changed since it was "
                "installed (digest %.12s, installed %.12s); install it again",
                sc->path, cb_drg_scheme_digest(s), sc->digest);
        cb_drg_scheme_free(s);
        return CB_ERR_USAGE;
    }
    if ((rc = bind_scheme(c, sc, s)))
        cb_drg_scheme_free(s);
    return rc;
}

/* sc's scheme, loaded on first need (one thread loads, the others wait). */
static enum cb_err
scheme_ready(struct cb_store_drg_chooser *c, struct ch_scheme *sc,
             struct cb_drg_scheme **out, struct cb_buf *err)
{
    enum cb_err rc = CB_OK;

    *out = __atomic_load_n(&sc->s, __ATOMIC_ACQUIRE);
    if (*out)
        return CB_OK;
    pthread_mutex_lock(&c->load_mu);
    if (!sc->s)
        rc = load_scheme(c, sc, err);
    *out = sc->s;
    pthread_mutex_unlock(&c->load_mu);
    return rc;
}

int
cb_store_drg_chooser_nuses(const struct cb_store_drg_chooser *c)
{
    return c->nuses;
}

int
cb_store_drg_chooser_nschemes(const struct cb_store_drg_chooser *c)
{
    return c->nschemes;
}

void
cb_store_drg_chooser_scheme(const struct cb_store_drg_chooser *c, int slot,
                            int64_t *id, const char **scheme, const char **digest)
{
    const struct ch_scheme *sc = &c->schemes[slot];

    if (id)
        *id = sc->id;
    if (scheme)
        *scheme = sc->scheme;
    if (digest)
        *digest = sc->digest;
}

int
cb_store_drg_chooser_pick(const struct cb_store_drg_chooser *c,
                          struct cb_str zzjgdm, int has_day, int64_t day)
{
    const uint64_t *row = NULL;
    uint32_t k;
    int i;

    if (c->nwords && zzjgdm.len && cb_strmap_get(&c->hosp, zzjgdm, &k))
        row = c->masks + (size_t)k * (size_t)c->nwords;
    for (i = 0; i < c->nuses; i++) {
        const struct ch_use *u = &c->uses[i];

        if (u->region_id && (!row || !((row[i / 64] >> (i % 64)) & 1)))
            continue;
        if (has_day) {
            if ((u->has_from && day < u->from) || (u->has_to && day > u->to))
                continue;
        } else if (u->has_from || u->has_to) {
            continue;
        }
        return i;
    }
    return -1;
}

int64_t
cb_store_drg_chooser_use_scheme(const struct cb_store_drg_chooser *c, int use)
{
    return use >= 0 && use < c->nuses ? c->schemes[c->uses[use].slot].id : 0;
}

static void
copy_code(char *dst, const char *src)
{
    memcpy(dst, src, CB_DRG_CODE_MAX);
    dst[CB_DRG_CODE_MAX - 1] = '\0';
}

static enum cb_err
group_use(struct cb_store_drg_chooser *c, int thread, int use, const struct cb_fp *fp,
          enum cb_drg_translate tr, struct cb_store_drg *out, struct cb_buf *err)
{
    struct cb_drg_input in;
    struct cb_drg_result res;
    struct cb_drg_scheme *s;
    struct cb_drg_work *w;
    struct ch_scheme *sc;
    enum cb_err rc;

    if (use < 0 || use >= c->nuses) {
        memset(out, 0, sizeof(*out));
        out->scheme_id = -1;
        out->slot = -1;
        return CB_OK;
    }
    if (thread < 0 || thread >= c->nthreads)
        CB_BUG("DRG chooser: thread index out of range");
    sc = &c->schemes[c->uses[use].slot];
    if ((rc = scheme_ready(c, sc, &s, err)))
        return rc;
    w = &sc->works[thread];
    if ((rc = cb_drg_input_from_fp(&in, fp, w)) ||
        (rc = cb_drg_group(s, &in, sc->has_maps ? tr : CB_DRG_TR_OFF, w, &res)))
        return rc;
    out->scheme_id = sc->id;
    out->choice = c->uses[use].choice;
    out->slot = (int16_t)c->uses[use].slot;
    out->status = (uint8_t)res.status;
    copy_code(out->mdc, res.mdc);
    copy_code(out->adrg, res.adrg);
    copy_code(out->drg, res.drg);
    switch (res.status) {
    case CB_DRG_ZD_NOT_MAPPING:
    case CB_DRG_SS_NOT_MAPPING:
        /* Reported with the record, never dropped. */
        snprintf(out->unmapped, sizeof(out->unmapped), "%s:%.*s",
                 res.status == CB_DRG_ZD_NOT_MAPPING ? "dx" : "px",
                 (int)(res.unmapped_code.len < 32 ? res.unmapped_code.len : 32),
                 res.unmapped_code.ptr ? res.unmapped_code.ptr : "");
        out->mcc = out->cc = -1;
        break;
    case CB_DRG_CHECK_FAILED:
        out->unmapped[0] = '\0';
        out->mcc = out->cc = -1;
        break;
    case CB_DRG_SUCCESS:
    case CB_DRG_FAIL:
    case CB_DRG_QY:
        out->unmapped[0] = '\0';
        out->mcc = res.mcc;
        out->cc = res.cc;
        break;
    }
    return CB_OK;
}

enum cb_err
cb_store_drg_chooser_group_use(struct cb_store_drg_chooser *c, int use,
                               const struct cb_fp *fp, enum cb_drg_translate tr,
                               struct cb_store_drg *out, struct cb_buf *err)
{
    return group_use(c, 0, use, fp, tr, out, err);
}

enum cb_err
cb_store_drg_chooser_group_on(struct cb_store_drg_chooser *c, int thread,
                              const struct cb_fp *fp, enum cb_drg_translate tr,
                              struct cb_store_drg *out, struct cb_buf *err)
{
    int has_day = fp->state[CB_F_CYSJ] == CB_FS_OK;
    int64_t day = has_day ? cb_day_of(fp->val[CB_F_CYSJ]) : 0;

    return group_use(c, thread,
                     cb_store_drg_chooser_pick(c, fp->v[CB_F_ZZJGDM], has_day, day),
                     fp, tr, out, err);
}

enum cb_err
cb_store_drg_chooser_group(struct cb_store_drg_chooser *c, const struct cb_fp *fp,
                           enum cb_drg_translate tr, struct cb_store_drg *out,
                           struct cb_buf *err)
{
    return cb_store_drg_chooser_group_on(c, 0, fp, tr, out, err);
}

/* ---- decoding a stored record ------------------------------------------------ */

/*
 * The dx and px texts are arrays of arrays of JSON scalars as written by
 * store_encode.c (strings, integers, null). This reader accepts exactly
 * that, unescaping strings in place (an escape is never shorter than what
 * it stands for).
 */
struct jscan {
    char *p, *end;
};

static int
jeat(struct jscan *j, char c)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' ||
                             *j->p == '\t'))
        j->p++;
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

static int
hex4(const char *p, unsigned *v)
{
    int i;

    *v = 0;
    for (i = 0; i < 4; i++) {
        char c = p[i];
        *v <<= 4;
        if (c >= '0' && c <= '9')
            *v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            *v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            *v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    return 0;
}

static char *
put_utf8(char *w, unsigned cp)
{
    if (cp < 0x80) {
        *w++ = (char)cp;
    } else if (cp < 0x800) {
        *w++ = (char)(0xc0 | (cp >> 6));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *w++ = (char)(0xe0 | (cp >> 12));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *w++ = (char)(0xf0 | (cp >> 18));
        *w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *w++ = (char)(0x80 | (cp & 0x3f));
    }
    return w;
}

static int
jstring(struct jscan *j, struct cb_str *out)
{
    char *start = ++j->p, *r = start, *w = start;

    while (r < j->end) {
        char c = *r++;
        unsigned cp, lo;

        if (c == '"') {
            *out = cb_str_make(start, (size_t)(w - start));
            j->p = r;
            return 0;
        }
        if (c != '\\') {
            *w++ = c;
            continue;
        }
        if (r >= j->end)
            return -1;
        switch (c = *r++) {
        case '"': case '\\': case '/': *w++ = c; break;
        case 'b': *w++ = '\b'; break;
        case 'f': *w++ = '\f'; break;
        case 'n': *w++ = '\n'; break;
        case 'r': *w++ = '\r'; break;
        case 't': *w++ = '\t'; break;
        case 'u':
            if (j->end - r < 4 || hex4(r, &cp))
                return -1;
            r += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && j->end - r >= 6 && r[0] == '\\' &&
                r[1] == 'u' && !hex4(r + 2, &lo) && lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                r += 6;
            }
            w = put_utf8(w, cp);
            break;
        default:
            return -1;
        }
    }
    return -1;
}

/* A string, an integer (as its text) or null (empty). */
static int
jscalar(struct jscan *j, struct cb_str *out)
{
    char *s;

    (void)jeat(j, ' ');
    if (j->p >= j->end)
        return -1;
    if (*j->p == '"')
        return jstring(j, out);
    if (j->end - j->p >= 4 && !memcmp(j->p, "null", 4)) {
        j->p += 4;
        *out = CB_STR_NULL;
        return 0;
    }
    s = j->p;
    while (j->p < j->end && ((*j->p >= '0' && *j->p <= '9') || *j->p == '-'))
        j->p++;
    if (j->p == s)
        return -1;
    *out = cb_str_make(s, (size_t)(j->p - s));
    return 0;
}

/* One list (dx or px) into fp: [[slot, field values...], ...]. */
static enum cb_err
decode_list(struct cb_fp *fp, struct cb_str text, int px, struct cb_arena *a)
{
    static const int dxf[] = { CB_DX_CODE, CB_DX_NAME, CB_DX_POA };
    static const int pxf[] = { CB_PX_CODE, CB_PX_NAME, CB_PX_DATE, CB_PX_LEVEL,
                               CB_PX_SZ, CB_PX_YZ, CB_PX_EZ, CB_PX_QKDJ,
                               CB_PX_QKYHLB, CB_PX_MZFS, CB_PX_MZYS };
    const int *fields = px ? pxf : dxf;
    int nfields = px ? (int)(sizeof(pxf) / sizeof(pxf[0])) : (int)(sizeof(dxf) / sizeof(dxf[0]));
    int max_slot = px ? CB_FP_MAX_PX : CB_FP_MAX_DX;
    struct cb_str copy;
    struct jscan j;

    if (!text.len)
        return CB_OK;
    copy = cb_arena_dup(a, text.ptr, text.len);
    if (!copy.ptr)
        return CB_ERR_NOMEM;
    j.p = (char *)copy.ptr;
    j.end = j.p + copy.len;
    if (!jeat(&j, '['))
        return CB_ERR_PROTO;
    if (jeat(&j, ']'))
        return CB_OK;
    do {
        int64_t slot = -1;
        int k = 0;

        if (!jeat(&j, '['))
            return CB_ERR_PROTO;
        do {
            struct cb_str v;

            if (jscalar(&j, &v))
                return CB_ERR_PROTO;
            if (k == 0) {
                if (cb_parse_i64(v, &slot) != CB_OK)
                    return CB_ERR_PROTO;
            } else if (k <= nfields && v.len && slot >= 1 && slot <= max_slot) {
                /* slot 0 of dx is the principal diagnosis: a scalar item */
                int id = px ? cb_fp_px((int)slot, (enum cb_fp_px_field)fields[k - 1])
                            : cb_fp_dx((int)slot, (enum cb_fp_dx_field)fields[k - 1]);
                cb_fp_assign(fp, id, v);
            }
            k++;
        } while (jeat(&j, ','));
        if (!jeat(&j, ']'))
            return CB_ERR_PROTO;
    } while (jeat(&j, ','));
    return jeat(&j, ']') ? CB_OK : CB_ERR_PROTO;
}

/*
 * The scalar items (store_items.h) into fp. The values are copied into a:
 * they point into st's buffers, which the next record reuses.
 */
static enum cb_err
decode_items(struct cb_store *st, struct cb_fp *fp, struct cb_arena *a)
{
    const unsigned char *p = (const unsigned char *)st->zbuf.ptr;
    size_t n = 0, f;
    char *at;
    enum cb_err rc;

    if ((rc = cb__items_decode(p, st->zbuf.len, &st->items_text, st->items)))
        return rc;
    for (f = 0; f < CB_F__SCALARS; f++)
        n += st->items[f].len;
    if (!(at = cb_arena_alloc(a, n ? n : 1)))
        return CB_ERR_NOMEM;
    for (f = 0; f < CB_F__SCALARS; f++) {
        struct cb_str v = st->items[f];

        if (!v.len)
            continue;
        memcpy(at, v.ptr, v.len);
        cb_fp_assign(fp, (int)f, cb_str_make(at, v.len));
        at += v.len;
    }
    return CB_OK;
}

enum cb_err
cb_store_record_decode(struct cb_store *st, const void *data, size_t n,
                       struct cb_str dx, struct cb_str px, struct cb_fp *fp,
                       struct cb_arena *a, struct cb_buf *err)
{
    enum cb_err rc;

    cb_fp_reset(fp);
    rc = cb__codec_decompress(st->codec, data, n, &st->zbuf);
    if (rc == CB_ERR_NOMEM)
        return rc;
    if (!rc)
        rc = decode_items(st, fp, a);
    if (rc == CB_ERR_NOMEM)
        return rc;
    if (rc) {
        cb_errf(err, "damaged or unknown record payload");
        return CB_ERR_PROTO;
    }
    if ((rc = decode_list(fp, dx, 0, a)) || (rc = decode_list(fp, px, 1, a))) {
        if (rc == CB_ERR_PROTO)
            cb_errf(err, "damaged record payload or diagnosis/procedure list");
        return rc;
    }
    cb_fp_parse(fp);
    return CB_OK;
}

/* ---- regrouping ---------------------------------------------------------------- */

enum cb_err
cb_store_drg_regroup(struct cb_store *st, struct cb_store_drg_chooser *c,
                     const struct cb_store_regroup_opts *o,
                     struct cb_store_regroup_counts *n, struct cb_buf *err)
{
    struct cb_store_regroup_counts cur;
    struct cb_fp *fp = cb_calloc(1, sizeof(*fp));
    struct cb_arena a;
    sqlite3_stmt *sel = NULL;
    uint32_t batch = o->batch_rows ? o->batch_rows : REGROUP_BATCH;
    int64_t last = 0;
    enum cb_err rc = CB_OK;
    int began = 0;

    memset(n, 0, sizeof(*n));
    memset(&cur, 0, sizeof(cur));
    cb_arena_init(&a, 1 << 16);
    if (!fp) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    /* Keyset pages: each batch is one statement run and one transaction. */
    if (!prepare(st, "SELECT r.id, h.zzjgdm, r.cy_day, r.data, r.dx, r.px, r.hospital_id"
                     " FROM record r JOIN hospital h ON h.id = r.hospital_id"
                     " WHERE r.id > ?1 AND (?2 IS NULL OR h.zzjgdm = ?2)"
                     " ORDER BY r.id LIMIT ?3", &sel)) {
        rc = cb__store_fail(st, "cannot read the records", err);
        goto out;
    }
    if (o->hospital)
        sqlite3_bind_text(sel, 2, o->hospital, -1, SQLITE_STATIC);
    sqlite3_bind_int64(sel, 3, batch);
    for (;;) {
        uint32_t got = 0;
        int step;

        if ((rc = cb_store_begin(st, err)))
            goto out;
        began = 1;
        sqlite3_bind_int64(sel, 1, last);
        while ((step = sqlite3_step(sel)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(sel, 0);
            const char *zz = (const char *)sqlite3_column_text(sel, 1);
            int has_day = sqlite3_column_type(sel, 2) != SQLITE_NULL;
            int use = cb_store_drg_chooser_pick(c, cb_str_c(zz), has_day,
                                                sqlite3_column_int64(sel, 2));
            struct cb_store_drg d;
            struct cb_str dx, px;
            const void *data;
            size_t ndata;

            got++;
            last = id;
            cur.records++;
            if (o->only_scheme && cb_store_drg_chooser_use_scheme(c, use) != o->only_scheme) {
                cur.skipped++;
                continue;
            }
            if (use < 0 && !o->facts) {
                static const struct cb_store_drg none;  /* scheme_id 0: no result */
                if ((rc = cb__store_fact_set_drg(st, id, &none, err)))
                    break;
                cur.no_scheme++;
                continue;
            }
            cb_arena_reset(&a);
            /* Pointer first, then size: the order SQLite documents. */
            data = sqlite3_column_blob(sel, 3);
            ndata = (size_t)sqlite3_column_bytes(sel, 3);
            dx.ptr = (const char *)sqlite3_column_text(sel, 4);
            dx.len = (size_t)sqlite3_column_bytes(sel, 4);
            px.ptr = (const char *)sqlite3_column_text(sel, 5);
            px.len = (size_t)sqlite3_column_bytes(sel, 5);
            rc = cb_store_record_decode(st, data, ndata, dx, px, fp, &a, err);
            if (rc) {
                cb_errf(err, "record id %lld", (long long)id);
                break;
            }
            memset(&d, 0, sizeof d);
            d.scheme_id = -1;  /* no scheme applies: the fact keeps no result */
            if (use >= 0 &&
                (rc = cb_store_drg_chooser_group_use(c, use, fp, o->translate, &d, err)))
                break;
            if (o->facts) {
                /* Re-derive the whole fact (new catalogues), beside the DRG. */
                struct cb_store_row row;
                memset(&row, 0, sizeof row);
                row.sval[CB_SC_CYKB] = fp->v[CB_F_CYKB];
                row.sval[CB_SC_ZZYS] = fp->v[CB_F_ZZYS];
                row.drg = d;
                row.has_fact = 1;
                row.transfer_to = fp->v[CB_F_YZZY_YLJG];
                cb_fact_derive(fp, o->rd, o->facts,
                               d.scheme_id > 0 && d.status == CB_DRG_SUCCESS, &row.fact);
                if ((rc = cb__store_put_fact(st, id, sqlite3_column_int64(sel, 6), &row, 0, err)))
                    break;
            } else if ((rc = cb__store_fact_set_drg(st, id, &d, err))) {
                break;
            }
            if (use < 0) {
                cur.no_scheme++;
                continue;
            }
            cur.grouped++;
            cur.status[d.status]++;
        }
        sqlite3_reset(sel);
        if (!rc && step != SQLITE_ROW && step != SQLITE_DONE)
            rc = cb__store_fail(st, "cannot read the records", err);
        if (rc)
            goto out;
        if ((rc = cb_store_commit(st, err)))
            goto out;
        began = 0;
        *n = cur;
        if (o->progress)
            o->progress(o->progress_ctx, cur.records);
        if (got < batch)
            break;
    }

out:
    if (began)
        cb_store_rollback(st);
    sqlite3_finalize(sel);
    cb_arena_release(&a);
    cb_free(fp);
    return rc;
}
