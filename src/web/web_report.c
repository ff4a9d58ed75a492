/*
 * web_report.c - the indicator service of the server: the engine loaded
 * from the store's facts with the names of its ids (hospitals,
 * departments, doctors, DRGs), the newest DRG reference, the indicator
 * catalogue, and a query rendered as the JSON of `carebase indicators
 * --format json` (same rows, same numbers: the same engine query, the same
 * evaluation, the same ranking among hospitals of one level).
 *
 * Lineage: the cases behind a value (lineage.h) are selected from the same
 * engine under the same read lock, with the same reference and catalogues,
 * so a count is the numerator /api/indicators gives for the same scope.
 *
 * Staying current: facts carry a write generation (store_fact.c). The
 * engine remembers the highest generation it loaded and how many facts had
 * it or a later one; when either changes (an import, a regroup, an import
 * still running) it reloads the facts of that generation onwards, which
 * replaces by record id. Names and the reference are reloaded with them.
 * Queries hold a read lock; a reload reads names and the reference into
 * new objects first and takes the write lock for the facts and the swap.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/json.h"
#include "carebase/lineage.h"
#include "carebase/report.h"
#include "carebase/reference.h"
#include "web_int.h"

struct report_ref {
    bool                     have;
    struct cb_store_ref_info info;
    struct cb_engine_ref     ref;       /* arrays by engine DRG id, owned */
};

/*
 * The answer cache: a dashboard asks the same few questions again and
 * again, and an answer only changes when the data does (a new fact
 * generation or reference). Keyed by the whole query, scope mask included;
 * the oldest entry is evicted; at most CACHE_MAX_BYTES in all.
 */
#define CACHE_SLOTS 64
#define CACHE_MAX_BYTES ((size_t)64 << 20)
#define CACHE_MAX_ENTRY ((size_t)8 << 20)

/*
 * What an answer was computed from: the fact generation loaded and how many
 * facts it had, the newest reference, and the newest reject (QC answers
 * change with rejects that add no fact).
 */
struct data_version {
    int64_t gen, gen_rows, ref_id, reject_id;
};

static bool
version_eq(const struct data_version *a, const struct data_version *b)
{
    return a->gen == b->gen && a->gen_rows == b->gen_rows && a->ref_id == b->ref_id &&
           a->reject_id == b->reject_id;
}

struct cache_entry {
    char    *key;
    size_t   key_len;
    char    *body;
    size_t   body_len;
    struct data_version v;
    unsigned used;
};

struct report_rule {
    char id[32];
    char name_zh[160];
    char name_en[200];
};

static enum cb_err rules_load(struct web_report *r, const char *datadir);

struct web_report {
    pthread_rwlock_t      lock;         /* read: queries; write: applying a reload */
    pthread_mutex_t       refresh_mu;   /* one refresher at a time */
    struct cb_engine     *e;
    struct cb_store_names   names;
    struct report_ref     ref;
    struct cb_indicator_set set;
    struct cb_catalogues  cat;
    uint32_t              have_cat;     /* CB_NEED_* of the loaded catalogues */
    bool                  loaded;
    struct data_version   v;            /* v.gen: highest fact generation
                                           loaded; v.gen_rows: facts with gen >=
                                           v.gen then; v.ref_id, v.reject_id:
                                           newest reference and reject then */
    double                checked_at;   /* cb__web_mono() of the last look */
    struct report_rule   *rules;        /* QC rule names (immutable after new) */
    int                   nrules, caprules;
    /* Rendered /api/indicators answers, valid for one data version. */
    pthread_mutex_t       cache_mu;
    struct cache_entry   *cache;        /* CACHE_SLOTS entries */
    size_t                cache_bytes;
    unsigned              cache_clock;
    /* The grouping traces of /api/case: one at a time (tracer_mu). */
    pthread_mutex_t       tracer_mu;
    struct cb_case_tracer *tracer;
};

/* ---- the reference, mapped onto the engine's DRG ids ---- */

static void
ref_release(struct report_ref *r)
{
    cb_engine_ref_release(&r->ref);
    memset(r, 0, sizeof *r);
}

/* The newest reference (none is not an error: r->have stays false). */
static enum cb_err
ref_load(struct report_ref *r, const struct cb_store_names *n, struct cb_store *st,
         struct cb_buf *err)
{
    struct cb_buf e2 = CB_BUF_INIT;
    memset(r, 0, sizeof *r);
    enum cb_err rc = cb_store_reference_map(st, NULL, n, &r->info, &r->ref, &e2);
    if (rc == CB_ERR_NOT_FOUND)
        rc = CB_OK;
    else if (rc)
        cb_errf(err, "%s", cb_buf_cstr(&e2));
    else
        r->have = true;
    cb_buf_release(&e2);
    return rc;
}

/* ---- life cycle ---- */

enum cb_err
cb__web_report_new(struct web_report **out, const struct cb_web_config *c, struct cb_buf *err)
{
    struct web_report *r;
    char path[4200];
    struct cb_catalogue_paths p = {
        .refdata_dir = c->refdata,
        .datadir = c->datadir,
        .complications = c->catalogue_complications,
        .mis = c->catalogue_mis,
        .level4 = c->catalogue_level4,
        .level3 = c->catalogue_level3,
    };
    enum cb_err rc;

    *out = NULL;
    if (!c->refdata || !c->datadir) {
        cb_errf(err, "the server needs refdata and datadir");
        return CB_ERR_USAGE;
    }
    if (!(r = cb_calloc(1, sizeof *r)))
        return CB_ERR_NOMEM;
    snprintf(path, sizeof path, "%s/indicators/catalogue-2019.tsv", c->datadir);
    if ((rc = cb_indicators_load(&r->set, c->indicators ? c->indicators : path, err))) {
        cb_free(r);
        return rc;
    }
    if ((rc = cb_catalogues_load(&r->cat, &p, err))) {
        cb_indicators_release(&r->set);
        cb_free(r);
        return rc;
    }
    if ((rc = cb_engine_new(&r->e))) {
        cb_catalogues_release(&r->cat);
        cb_indicators_release(&r->set);
        cb_free(r);
        return rc;
    }
    if ((rc = rules_load(r, c->datadir))) {
        cb_engine_free(r->e);
        cb_catalogues_release(&r->cat);
        cb_indicators_release(&r->set);
        cb_free(r->rules);
        cb_free(r);
        return rc;
    }
    r->have_cat = CB_NEED_COHORTS;
    if (r->cat.cat[CB_CAT_DAY_SURGERY].loaded) r->have_cat |= CB_NEED_DAY_SURGERY;
    if (r->cat.cat[CB_CAT_COMPLICATION].loaded) r->have_cat |= CB_NEED_COMPLICATION;
    if (r->cat.cat[CB_CAT_MIS].loaded) r->have_cat |= CB_NEED_MIS;
    if (r->cat.cat[CB_CAT_LEVEL4].loaded) r->have_cat |= CB_NEED_LEVEL4;
    if (r->cat.cat[CB_CAT_LEVEL3].loaded) r->have_cat |= CB_NEED_LEVEL3;
    pthread_rwlock_init(&r->lock, NULL);
    pthread_mutex_init(&r->refresh_mu, NULL);
    pthread_mutex_init(&r->cache_mu, NULL);
    pthread_mutex_init(&r->tracer_mu, NULL);
    *out = r;
    return CB_OK;
}

void
cb__web_report_free(struct web_report *r)
{
    if (!r)
        return;
    cb_engine_free(r->e);
    cb_store_names_release(&r->names);
    ref_release(&r->ref);
    cb_catalogues_release(&r->cat);
    cb_indicators_release(&r->set);
    cb_free(r->rules);
    for (int i = 0; r->cache && i < CACHE_SLOTS; i++) {
        cb_free(r->cache[i].key);
        cb_free(r->cache[i].body);
    }
    cb_free(r->cache);
    cb_case_tracer_free(r->tracer);
    pthread_mutex_destroy(&r->tracer_mu);
    pthread_mutex_destroy(&r->cache_mu);
    pthread_rwlock_destroy(&r->lock);
    pthread_mutex_destroy(&r->refresh_mu);
    cb_free(r);
}

size_t
cb__web_report_facts(struct web_report *r)
{
    size_t n;

    pthread_rwlock_rdlock(&r->lock);
    n = cb_engine_count(r->e);
    pthread_rwlock_unlock(&r->lock);
    return n;
}

/* ---- refresh ---- */

struct state {
    int64_t v[4];   /* max gen, facts with gen >= loaded gen, newest reference id,
                       newest reject id */
    int     got;
};

static enum cb_err
state_row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct state *s = ctx;

    (void)names;
    for (int i = 0; i < 4 && i < ncols; i++)
        if (!v[i] || cb_parse_i64(cb_str_c(v[i]), &s->v[i]))
            s->v[i] = 0;
    s->got = 1;
    return CB_OK;
}

static enum cb_err
read_state(struct cb_store *st, int64_t gen, struct state *s, struct cb_buf *err)
{
    char sql[256];

    snprintf(sql, sizeof sql,
             "SELECT (SELECT coalesce(max(gen), 0) FROM fact_change),"
             " (SELECT coalesce(sum(hi - lo + 1), 0) FROM fact_change WHERE gen >= %lld),"
             " (SELECT coalesce(max(id), 0) FROM reference),"
             " (SELECT coalesce(max(id), 0) FROM reject)", (long long)gen);
    memset(s, 0, sizeof *s);
    return cb_store_query(st, sql, state_row, s, err);
}

enum cb_err
cb__web_report_refresh(struct web_report *r, struct cb_store *st, unsigned min_interval,
                   struct cb_buf *err)
{
    struct state s, next;
    struct cb_store_names names;
    struct report_ref ref;
    double now = cb__web_mono();
    int64_t gen;
    enum cb_err rc;

    if (pthread_mutex_trylock(&r->refresh_mu))
        return CB_OK;   /* another thread is at it; use what is loaded */
    if (r->loaded && now - r->checked_at < (double)min_interval) {
        pthread_mutex_unlock(&r->refresh_mu);
        return CB_OK;
    }
    r->checked_at = now;
    if ((rc = read_state(st, r->v.gen, &s, err)))
        goto out;
    if (r->loaded && s.v[0] == r->v.gen && s.v[1] == r->v.gen_rows && s.v[2] == r->v.ref_id) {
        if (s.v[3] != r->v.reject_id) {   /* only new rejects: no reload */
            pthread_rwlock_wrlock(&r->lock);
            r->v.reject_id = s.v[3];
            pthread_rwlock_unlock(&r->lock);
        }
        goto out;
    }
    /*
     * What the next look compares with, read before loading: facts added
     * in between are loaded now and make the next look load again, which
     * costs a little and loses nothing.
     */
    if ((rc = read_state(st, s.v[0], &next, err)))
        goto out;

    /* Names and the reference first (no lock: they are new objects). */
    if ((rc = cb_store_names_load(st, &names, err)))
        goto out;
    if ((rc = ref_load(&ref, &names, st, err))) {
        cb_store_names_release(&names);
        goto out;
    }
    pthread_rwlock_wrlock(&r->lock);
    /* The last generation again: an import may have added to it since. */
    rc = cb_store_facts_load(st, r->e, r->loaded && r->v.gen > 0 ? r->v.gen - 1 : 0, &gen,
                             err);
    if (!rc) {
        cb_store_names_release(&r->names);
        ref_release(&r->ref);
        r->names = names;
        r->ref = ref;
        r->v.gen = gen;
        r->v.gen_rows = gen == next.v[0] ? next.v[1] : -1;   /* -1: load again */
        r->v.reject_id = next.v[3];
        r->v.ref_id = r->ref.have && r->ref.info.id == next.v[2] ? next.v[2]
                  : !r->ref.have && !next.v[2] ? 0 : -1;
        r->loaded = true;
    }
    pthread_rwlock_unlock(&r->lock);
    if (rc) {
        cb_store_names_release(&names);
        ref_release(&ref);
    }
out:
    pthread_mutex_unlock(&r->refresh_mu);
    return rc;
}

/* ---- periods ---- */

/* Digits only, exactly n of them, as a number. */
static int
digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int
cb__web_parse_period(const char *s, enum cb_period *kind, uint16_t *from, uint16_t *to)
{
    size_t n = strlen(s);
    int y = n >= 4 ? digits(s, 4) : -1;

    if (y < 2000 || y > 2170)
        return -1;
    if (n == 4) {
        *kind = CB_PERIOD_YEAR;
        cb_period_bounds(*kind, y, from, to);
        return 0;
    }
    if (n == 6 && s[4] == 'Q' && s[5] >= '1' && s[5] <= '4') {
        *kind = CB_PERIOD_QUARTER;
        cb_period_bounds(*kind, y * 10 + (s[5] - '0'), from, to);
        return 0;
    }
    if (n == 7 && s[4] == '-') {
        int m = digits(s + 5, 2);
        if (m < 1 || m > 12)
            return -1;
        *kind = CB_PERIOD_MONTH;
        cb_period_bounds(*kind, y * 100 + m, from, to);
        return 0;
    }
    return -1;
}

/* ---- the query (as cmd_indicators.c) ---- */

static const char *
unit_label(enum web_by by)
{
    switch (by) {
    case WEB_BY_HOSPITAL:   return "hospital";
    case WEB_BY_DEPARTMENT: return "department";
    case WEB_BY_DOCTOR:     return "doctor";
    case WEB_BY_CONSORTIUM: return "consortium";
    }
    return "consortium";
}

/* Money counters are kept in fen; shown in yuan like the value. */
static double
shown(const struct cb_indicator *ind, double counter)
{
    return !strcmp(ind->unit, "元") ? counter / 100.0 : counter;
}

static enum cb_err
json_num(struct cb_buf *b, const char *key, double v, bool ok)
{
    enum cb_err rc = cb_buf_addf(b, ",\"%s\":", key);

    if (rc)
        return rc;
    if (!ok || !isfinite(v))
        return cb_buf_adds(b, "null");
    return cb_buf_addf(b, "%.17g", v);
}

static enum cb_err
json_kv(struct cb_buf *b, const char *key, const char *v)
{
    enum cb_err rc = cb_buf_addf(b, ",\"%s\":", key);

    return rc ? rc : cb_json_strz(b, v ? v : "");
}

static void
period_text(enum cb_period p, int32_t key, char *buf, size_t n)
{
    switch (p) {
    case CB_PERIOD_MONTH:   snprintf(buf, n, "%d-%02d", key / 100, key % 100); break;
    case CB_PERIOD_QUARTER: snprintf(buf, n, "%dQ%d", key / 10, key % 10); break;
    case CB_PERIOD_YEAR:    snprintf(buf, n, "%d", key); break;
    default:                snprintf(buf, n, "all"); break;
    }
}

static bool
id_selected(const char *ids, const char *id)
{
    size_t L = strlen(id);

    for (const char *p = ids; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == L && !strncmp(p, id, n))
            return true;
        p += n + (e ? 1 : 0);
    }
    return false;
}

static enum cb_err
render_head(struct web_report *r, enum web_by by, struct cb_buf *out)
{
    static const char *const cat_names[CB_CAT__N] = {
        "complication", "day_surgery", "mis", "level4", "level3" };
    const struct cb_store_ref_info *ri = &r->ref.info;
    enum cb_err rc;

    if ((rc = cb_buf_addf(out, "{\"unit\":\"%s\",\"catalogue\":", unit_label(by))) ||
        (rc = cb_json_strz(out, r->set.version)) ||
        (rc = cb_buf_adds(out, ",\"reference\":")))
        return rc;
    if (r->ref.have) {
        if ((rc = cb_buf_adds(out, "{\"name\":")) || (rc = cb_json_strz(out, ri->name)) ||
            (rc = cb_buf_adds(out, ",\"scheme\":")) || (rc = cb_json_strz(out, ri->scheme)) ||
            (rc = cb_buf_adds(out, ",\"weights\":")) ||
            (rc = cb_json_strz(out, ri->weights_file[0] ? ri->weights_file : "computed")) ||
            (rc = cb_buf_addf(out, ",\"created_at\":\"%s\",\"settings\":%s}", ri->created_at,
                              ri->settings[0] ? ri->settings : "null")))
            return rc;
    } else if ((rc = cb_buf_adds(out, "null"))) {
        return rc;
    }
    if ((rc = cb_buf_adds(out, ",\"catalogues\":{")))
        return rc;
    for (int k = 0; k < CB_CAT__N; k++)
        if ((rc = cb_buf_addf(out, "%s\"%s\":", k ? "," : "", cat_names[k])) ||
            (rc = r->cat.cat[k].loaded ? cb_json_strz(out, r->cat.cat[k].version)
                                       : cb_buf_adds(out, "null")))
            return rc;
    return cb_buf_adds(out, "},\"rows\":[");
}

static enum cb_err
render_row(struct web_report *r, enum web_by by, enum cb_period period,
           const struct cb_report_row *o, bool first, struct cb_buf *out)
{
    const struct cb_store_names *nm = &r->names;
    const struct cb_engine_row *row = o->row;
    const struct cb_store_hosp *h = by != WEB_BY_CONSORTIUM && row->hospital < nm->nhosp
                                      ? &nm->hosp[row->hospital] : NULL;
    const char *dept = by == WEB_BY_DEPARTMENT && row->dept < nm->ndept && nm->dept[row->dept]
                           ? nm->dept[row->dept] : "";
    const char *doc = by == WEB_BY_DOCTOR && row->doctor < (uint32_t)nm->ndoctor &&
                              nm->doctor[row->doctor] ? nm->doctor[row->doctor] : "";
    char per[16];
    enum cb_err rc;

    period_text(period, row->period, per, sizeof per);
    if ((rc = cb_buf_adds(out, first ? "{" : ",{")) ||
        (rc = cb_buf_adds(out, "\"id\":")) || (rc = cb_json_strz(out, o->ind->id)) ||
        (rc = json_kv(out, "no", o->ind->no)) ||
        (rc = json_kv(out, "name_zh", o->ind->name_zh)) ||
        (rc = json_kv(out, "name_en", o->ind->name_en)) ||
        (rc = json_kv(out, "unit_of_measure", o->ind->unit)) ||
        (rc = json_kv(out, "direction", o->ind->dir == CB_DIR_UP ? "up"
                                        : o->ind->dir == CB_DIR_DOWN ? "down" : "monitor")) ||
        (rc = json_kv(out, "hospital", h ? h->zzjgdm : "")) ||
        (rc = json_kv(out, "hospital_name", h ? h->name : "")) ||
        (rc = json_kv(out, "level", h ? h->level : "")) ||
        (rc = json_kv(out, "department", dept)) ||
        (rc = json_kv(out, "doctor", doc)) ||
        (rc = json_kv(out, "period", per)) ||
        (rc = json_num(out, "value", o->v.value, o->v.computable)) ||
        (rc = json_num(out, "numerator", shown(o->ind, o->v.num), o->v.computable)) ||
        (rc = json_num(out, "denominator", o->v.den, o->v.computable)) ||
        (rc = json_kv(out, "status", o->v.computable ? "ok" : o->v.reason)) ||
        (rc = json_num(out, "previous", o->prev.value, o->has_prev && o->prev.computable)) ||
        (rc = json_num(out, "last_year", o->yoy.value, o->has_yoy && o->yoy.computable)) ||
        (rc = json_num(out, "rank", o->rank, o->rank > 0)) ||
        (rc = json_num(out, "peers", o->peers, o->rank > 0)))
        return rc;
    return cb_buf_adds(out, "}");
}

/* Everything under the read lock. */
static enum cb_err
query_locked(struct web_report *r, const struct web_ind_query *q, struct cb_buf *out,
             struct cb_buf *err)
{
    const struct cb_store_names *nm = &r->names;
    struct cb_engine_result res = { 0 };
    const struct cb_indicator **sel = NULL;
    struct cb_report_row *rows = NULL;
    uint8_t *depts = NULL;
    size_t nout = 0;
    int nind = 0;
    uint32_t have = r->have_cat | (r->ref.have ? CB_NEED_REFERENCE : 0);
    struct cb_engine_query eq = {
        .unit = q->by == WEB_BY_CONSORTIUM ? CB_UNIT_ALL
              : q->by == WEB_BY_DEPARTMENT ? CB_UNIT_DEPT
              : q->by == WEB_BY_DOCTOR ? CB_UNIT_DOCTOR : CB_UNIT_HOSPITAL,
        .period = q->period,
        .day_from = 0, .day_to = UINT16_MAX,
        .hospitals = q->mask, .nhospitals = q->nmask,
        .ref = r->ref.have ? &r->ref.ref : NULL,
        .threads = q->threads,
    };
    struct timespec t0, t1;
    enum cb_err rc;

    /* All dates (comparisons need earlier periods); the range picks rows. */
    if (q->period == CB_PERIOD_ALL) {
        eq.day_from = q->from;
        eq.day_to = q->to;
    }
    if (!(sel = cb_calloc((size_t)r->set.n + 1, sizeof *sel)))
        return CB_ERR_NOMEM;
    for (int i = 0; i < r->set.n; i++) {
        const struct cb_indicator *ind = &r->set.ind[i];
        if (q->list && strcmp(ind->list, q->list))
            continue;
        if (q->ids && !id_selected(q->ids, ind->id))
            continue;
        sel[nind++] = ind;
    }
    if (!nind) {
        cb_errf(err, "no indicator matches ids/list");
        rc = CB_ERR_USAGE;
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = cb_engine_query(r->e, &eq, &res)))
        goto out;
    clock_gettime(CLOCK_MONOTONIC, &t1);

    if (q->by == WEB_BY_DEPARTMENT && q->department) {
        int matches;
        if (!(depts = cb_lineage_name_mask(nm->dept, nm->ndept, q->department, &matches))) {
            rc = CB_ERR_NOMEM;
            goto out;
        }
    }
    struct cb_report_query rq = {
        .period = q->period, .from = q->from, .to = q->to,
        .ind = sel, .nind = nind, .have = have,
        .depts = depts, .ndepts = depts ? (size_t)nm->ndept : 0,
        .rank_by_level = q->by == WEB_BY_HOSPITAL ? nm : NULL,
    };
    if ((rc = cb_report_rows(&res, &rq, &rows, &nout)))
        goto out;

    if ((rc = render_head(r, q->by, out)))
        goto out;
    for (size_t i = 0; i < nout; i++)
        if ((rc = render_row(r, q->by, q->period, &rows[i], i == 0, out)))
            goto out;
    rc = cb_buf_addf(out, "],\"query_s\":%.4f}",
                     (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
out:
    cb_free(rows);
    cb_free(depts);
    cb_free(sel);
    cb_engine_result_release(&res);
    return rc;
}

/* The whole query as bytes: the cache key. */
static enum cb_err
cache_key(const struct web_ind_query *q, struct cb_buf *k)
{
    enum cb_err rc = cb_buf_addf(k, "I|%d|%d|%u|%u|%d|%s|%s|%s|", (int)q->by, (int)q->period,
                                 q->from, q->to, q->threads, q->ids ? q->ids : "-",
                                 q->list ? q->list : "-", q->department ? q->department : "-");
    if (!rc)
        rc = cb_buf_add(k, q->mask, q->nmask);
    return rc;
}

/* Copies a fresh cached answer for key into out; true when found. */
static bool
cache_get(struct web_report *r, const struct cb_buf *key, struct cb_buf *out)
{
    bool hit = false;
    pthread_mutex_lock(&r->cache_mu);
    for (int i = 0; r->cache && i < CACHE_SLOTS; i++) {
        struct cache_entry *c = &r->cache[i];
        if (!c->key || c->key_len != key->len || memcmp(c->key, key->ptr, key->len) ||
            !version_eq(&c->v, &r->v))
            continue;
        if (!cb_buf_add(out, c->body, c->body_len)) {
            c->used = ++r->cache_clock;
            hit = true;
        }
        break;
    }
    pthread_mutex_unlock(&r->cache_mu);
    return hit;
}

static void
cache_put(struct web_report *r, const struct cb_buf *key, const struct data_version *from,
          const char *body, size_t len)
{
    if (len > CACHE_MAX_ENTRY || !version_eq(from, &r->v))
        return;   /* too big, or the data changed while it was computed */
    pthread_mutex_lock(&r->cache_mu);
    if (!r->cache)
        r->cache = cb_calloc(CACHE_SLOTS, sizeof *r->cache);
    if (r->cache) {
        /* A stale entry, an empty one, or else the least recently used. */
        int v = 0;
        for (int i = 0; i < CACHE_SLOTS; i++) {
            struct cache_entry *c = &r->cache[i];
            bool stale = c->key && !version_eq(&c->v, &r->v);
            if (!c->key || stale) {
                v = i;
                break;
            }
            if (c->used < r->cache[v].used)
                v = i;
        }
        struct cache_entry *c = &r->cache[v];
        r->cache_bytes -= c->key_len + c->body_len;
        cb_free(c->key);
        cb_free(c->body);
        memset(c, 0, sizeof *c);
        if (r->cache_bytes + key->len + len <= CACHE_MAX_BYTES) {
            c->key = cb_malloc(key->len + 1);
            c->body = cb_malloc(len + 1);
            if (c->key && c->body) {
                memcpy(c->key, key->ptr, key->len);
                memcpy(c->body, body, len);
                c->key_len = key->len;
                c->body_len = len;
                c->v = r->v;
                c->used = ++r->cache_clock;
                r->cache_bytes += key->len + len;
            } else {
                cb_free(c->key);
                cb_free(c->body);
                memset(c, 0, sizeof *c);
            }
        }
    }
    pthread_mutex_unlock(&r->cache_mu);
}

enum cb_err
cb__web_report_json(struct web_report *r, const struct web_ind_query *q, struct cb_buf *out,
                struct cb_buf *err)
{
    enum cb_err rc;
    struct cb_buf key = CB_BUF_INIT;
    bool keyed = cache_key(q, &key) == CB_OK;

    pthread_rwlock_rdlock(&r->lock);
    if (keyed && cache_get(r, &key, out)) {
        pthread_rwlock_unlock(&r->lock);
        cb_buf_release(&key);
        return CB_OK;
    }
    size_t start = out->len;
    rc = query_locked(r, q, out, err);
    if (!rc && keyed)
        cache_put(r, &key, &r->v, out->ptr + start, out->len - start);
    pthread_rwlock_unlock(&r->lock);
    cb_buf_release(&key);
    return rc;
}

bool
cb__web_report_cached(struct web_report *r, const struct cb_buf *key, struct cb_buf *out,
                      struct web_answer_version *ver)
{
    bool hit;

    pthread_rwlock_rdlock(&r->lock);
    _Static_assert(sizeof ver->v == sizeof r->v, "web_answer_version mirrors data_version");
    memcpy(ver->v, &r->v, sizeof ver->v);
    hit = cache_get(r, key, out);
    pthread_rwlock_unlock(&r->lock);
    return hit;
}

void
cb__web_report_cache(struct web_report *r, const struct cb_buf *key,
                     const struct web_answer_version *ver, const char *body, size_t len)
{
    struct data_version v;

    memcpy(&v, ver->v, sizeof v);
    pthread_rwlock_rdlock(&r->lock);
    cache_put(r, key, &v, body, len);
    pthread_rwlock_unlock(&r->lock);
}

/* ---- the DRG table (GET /api/drgs) ---- */

struct drg_acc {
    int64_t cases, deaths, los, zfy;
    int     id;
};

static int
cmp_drg_acc(const void *a, const void *b)
{
    const struct drg_acc *x = a, *y = b;

    if (x->cases != y->cases)
        return x->cases < y->cases ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* A DRG's reference value, or NAN. */
static double
ref_at(const struct report_ref *rf, const double *a, int id)
{
    return rf->have && id < rf->ref.ndrg ? a[id] : NAN;
}

static enum cb_err
drgs_locked(struct web_report *r, const struct web_drg_query *q, struct cb_buf *out)
{
    const struct cb_store_names *nm = &r->names;
    const struct report_ref *rf = &r->ref;
    int ndrg = cb_engine_ndrg(r->e);
    struct drg_acc *acc;
    struct cb_engine_drg_sum *sum;
    uint8_t *depts = NULL;
    int64_t total = 0, grouped = 0;
    int nused = 0;
    enum cb_err rc;
    /* The engine's cube answers whole months (in=) from its cells. */
    struct cb_engine_query eq = { .day_from = q->from, .day_to = q->to,
                                  .hospitals = q->mask, .nhospitals = q->nmask };

    if (ndrg < 1)
        ndrg = 1;
    acc = cb_calloc((size_t)ndrg, sizeof *acc);
    sum = cb_calloc((size_t)ndrg, sizeof *sum);
    if (q->department)
        depts = cb_calloc((size_t)nm->ndept + 1, 1);
    if (!acc || !sum || (q->department && !depts)) {
        cb_free(acc);
        cb_free(sum);
        cb_free(depts);
        return CB_ERR_NOMEM;
    }
    for (int d = 0; depts && d < nm->ndept; d++)
        depts[d] = nm->dept[d] && !strcmp(nm->dept[d], q->department);
    cb_engine_drg_sums(r->e, &eq, depts, depts ? (size_t)nm->ndept : 0, sum, &total);
    for (int i = 0; i < ndrg; i++) {
        acc[i].id = i;
        if (!i)
            continue;       /* id 0: not grouped */
        acc[i].cases = sum[i].cases;
        acc[i].deaths = sum[i].deaths;
        acc[i].los = sum[i].los;
        acc[i].zfy = sum[i].zfy;
        grouped += sum[i].cases;
    }
    cb_free(sum);
    cb_free(depts);
    qsort(acc, (size_t)ndrg, sizeof *acc, cmp_drg_acc);
    while (nused < ndrg && acc[nused].cases)
        nused++;

    if ((rc = cb_buf_adds(out, "{\"reference\":")))
        goto out;
    if (rf->have) {
        if ((rc = cb_buf_adds(out, "{\"name\":")) || (rc = cb_json_strz(out, rf->info.name)) ||
            (rc = cb_buf_adds(out, ",\"scheme\":")) ||
            (rc = cb_json_strz(out, rf->info.scheme)) || (rc = cb_buf_adds(out, "}")))
            goto out;
    } else if ((rc = cb_buf_adds(out, "null"))) {
        goto out;
    }
    if ((rc = cb_buf_addf(out, ",\"cases\":%lld,\"grouped\":%lld,\"total_drgs\":%d,"
                          "\"limit\":%d,\"drgs\":[", (long long)total, (long long)grouped,
                          nused, q->limit)))
        goto out;
    for (int k = 0; k < nused && k < q->limit; k++) {
        const struct drg_acc *a = &acc[k];
        int id = a->id;
        double n = (double)a->cases, alos = (double)a->los / n, cost = (double)a->zfy / n;
        double w = ref_at(rf, rf->ref.weight, id), rc_cost = ref_at(rf, rf->ref.mean_cost, id);
        double rc_los = ref_at(rf, rf->ref.mean_los, id);
        int risk = rf->have && id < rf->ref.ndrg ? rf->ref.risk[id] : -1;

        if ((rc = cb_buf_adds(out, k ? ",{\"drg\":" : "{\"drg\":")) ||
            (rc = cb_json_strz(out, id < nm->ndrg && nm->drg_code[id] ? nm->drg_code[id] : "")) ||
            (rc = cb_buf_adds(out, ",\"scheme\":")) ||
            (rc = cb_json_strz(out, id < nm->ndrg_scheme && nm->drg_scheme[id]
                                        ? nm->drg_scheme[id] : "")) ||
            (rc = cb_buf_addf(out, ",\"cases\":%lld,\"deaths\":%lld", (long long)a->cases,
                              (long long)a->deaths)) ||
            (rc = json_num(out, "share", n / (double)grouped * 100.0, grouped > 0)) ||
            (rc = json_num(out, "weight", w, true)) ||
            (rc = json_num(out, "alos", alos, true)) ||
            (rc = json_num(out, "mean_cost", cost / 100.0, true)) ||
            (rc = json_num(out, "mortality", (double)a->deaths / n * 100.0, true)) ||
            (rc = json_num(out, "risk", risk, risk >= 0)) ||
            (rc = json_num(out, "ref_alos", rc_los, true)) ||
            (rc = json_num(out, "ref_mean_cost", rc_cost / 100.0, true)) ||
            (rc = json_num(out, "cost_index", cost / rc_cost, rc_cost > 0)) ||
            (rc = json_num(out, "time_index", alos / rc_los, rc_los > 0)) ||
            (rc = cb_buf_adds(out, "}")))
            goto out;
    }
    rc = cb_buf_adds(out, "]}");
out:
    cb_free(acc);
    return rc;
}

enum cb_err
cb__web_report_drgs(struct web_report *r, const struct web_drg_query *q, struct cb_buf *out)
{
    enum cb_err rc;
    struct cb_buf key = CB_BUF_INIT;
    /* The same answer cache as /api/indicators; "D" keeps the keys apart. */
    bool keyed = !cb_buf_addf(&key, "D|%u|%u|%d|%s|", q->from, q->to, q->limit,
                              q->department ? q->department : "-") &&
                 !cb_buf_add(&key, q->mask, q->nmask);

    pthread_rwlock_rdlock(&r->lock);
    if (keyed && cache_get(r, &key, out)) {
        pthread_rwlock_unlock(&r->lock);
        cb_buf_release(&key);
        return CB_OK;
    }
    size_t start = out->len;
    rc = drgs_locked(r, q, out);
    if (!rc && keyed)
        cache_put(r, &key, &r->v, out->ptr + start, out->len - start);
    pthread_rwlock_unlock(&r->lock);
    cb_buf_release(&key);
    return rc;
}

/* ---- QC rule names (datadir/qc/rules.tsv) ---- */

const char *
cb__web_report_rule_name(const struct web_report *r, const char *rule, bool zh)
{
    for (int i = 0; i < r->nrules; i++)
        if (!strcmp(r->rules[i].id, rule))
            return zh ? r->rules[i].name_zh : r->rules[i].name_en;
    return NULL;
}

/* id, severity, name_zh, name_en, ...; '#' comments. A missing file is no error:
   the rules are then shown by id only. */
static enum cb_err
rules_load(struct web_report *r, const char *datadir)
{
    char path[4200], line[1024];
    FILE *f;

    snprintf(path, sizeof path, "%s/qc/rules.tsv", datadir);
    if (!(f = fopen(path, "r")))
        return CB_OK;
    while (fgets(line, sizeof line, f)) {
        char *col[4] = { line, NULL, NULL, NULL };
        int nc = 1;
        for (char *p = line; *p && nc < 4; p++)
            if (*p == '\t') {
                *p = '\0';
                col[nc++] = p + 1;
            }
        if (nc < 4 || line[0] == '#' || !strcmp(col[0], "id"))
            continue;
        col[3][strcspn(col[3], "\t\r\n")] = '\0';
        if (r->nrules == r->caprules) {
            int cap = r->caprules ? 2 * r->caprules : 64;
            struct report_rule *p = cb_reallocarray(r->rules, (size_t)cap, sizeof *p);
            if (!p) {
                fclose(f);
                return CB_ERR_NOMEM;
            }
            r->rules = p;
            r->caprules = cap;
        }
        snprintf(r->rules[r->nrules].id, sizeof r->rules[r->nrules].id, "%.31s", col[0]);
        snprintf(r->rules[r->nrules].name_zh, sizeof r->rules[r->nrules].name_zh, "%.159s", col[2]);
        snprintf(r->rules[r->nrules].name_en, sizeof r->rules[r->nrules].name_en, "%.199s", col[3]);
        r->nrules++;
    }
    fclose(f);
    return CB_OK;
}

/* ---- lineage: the cases behind a value (GET /api/cases, /api/case) ---- */

/* The indicator by id, or by national number in the 三级 list (as `carebase
 * cases`). */
static const struct cb_indicator *
find_indicator(const struct cb_indicator_set *set, const char *id)
{
    const struct cb_indicator *ind = cb_indicator_find(set, cb_str_c(id));

    if (ind || !*id || strspn(id, "0123456789") != strlen(id))
        return ind;
    for (int i = 0; i < set->n; i++)
        if (!strcmp(set->ind[i].no, id) && !strcmp(set->ind[i].list, "三级"))
            return &set->ind[i];
    return NULL;
}

void
cb__web_cases_answer_release(struct web_cases_answer *a)
{
    cb_lineage_release(&a->sel);
    memset(a, 0, sizeof *a);
}

enum cb_err
cb__web_report_cases(struct web_report *r, const struct web_cases_query *q,
                     struct web_cases_answer *a, struct cb_buf *err)
{
    uint32_t have = r->have_cat | (r->ref.have ? CB_NEED_REFERENCE : 0);
    const struct cb_indicator *ind;
    uint8_t *depts = NULL, *doctors = NULL;
    enum cb_err rc = CB_OK;

    memset(a, 0, sizeof *a);
    /* The catalogue is immutable after new: no lock needed for it. */
    if (!(ind = find_indicator(&r->set, q->indicator))) {
        cb_errf(err, "no indicator '%s' in the catalogue", q->indicator);
        return CB_ERR_USAGE;
    }
    if (q->denominator && ind->den == CB_COUNTER_NONE) {
        cb_errf(err, "%s is a count: it has no denominator", ind->id);
        return CB_ERR_USAGE;
    }
    a->ind = ind;
    cb_counter_describe(q->denominator ? ind->den : ind->num, &a->ctr);

    pthread_rwlock_rdlock(&r->lock);
    if (ind->needs & ~have) {
        /* Never a silent empty list: what /api/indicators calls not computable. */
        struct cb_agg none;
        memset(&none, 0, sizeof none);
        cb_indicator_eval(ind, &none, 0, have, &a->v);
        snprintf(a->not_computable, sizeof a->not_computable, "%s",
                 a->v.reason ? a->v.reason : "not computable");
        goto out;
    }
    if (r->ref.have)
        snprintf(a->reference, sizeof a->reference, "%s", r->ref.info.name);
    /* Names, not ids: the same doctor's name in two hospitals is two
       doctors, and the hospital mask keeps the ones in scope. */
    int matches;
    if ((q->department && !(depts = cb_lineage_name_mask(r->names.dept, r->names.ndept,
                                                         q->department, &matches))) ||
        (q->doctor && !(doctors = cb_lineage_name_mask(r->names.doctor, r->names.ndoctor,
                                                       q->doctor, &matches)))) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    struct cb_lineage_scope s = {
        .day_from = q->from, .day_to = q->to,
        .hospitals = q->mask, .nhospitals = q->nmask,
        .depts = depts, .ndepts = depts ? (size_t)r->names.ndept : 0,
        .doctors = doctors, .ndoctors = doctors ? (size_t)r->names.ndoctor : 0,
        .offset = q->offset, .limit = q->limit,
    };
    if ((rc = cb_lineage_select(r->e, &s, r->ref.have ? &r->ref.ref : NULL, a->ctr.id,
                                &a->sel)))
        goto out;
    cb_indicator_eval(ind, &a->sel.total, a->sel.words, have, &a->v);
out:
    pthread_rwlock_unlock(&r->lock);
    cb_free(depts);
    cb_free(doctors);
    return rc;
}

enum cb_err
cb__web_report_case(struct web_report *r, struct cb_store *st, const char *zzjgdm,
                    const char *bah, int64_t zycs, unsigned flags, struct cb_case *out,
                    struct cb_arena *a, struct cb_buf *err)
{
    enum cb_err rc = CB_OK;

    /* One tracer for the server: the schemes are loaded once, not per request. */
    pthread_mutex_lock(&r->tracer_mu);
    if (!r->tracer)
        rc = cb_case_tracer_new(&r->tracer, st, err);
    if (!rc)
        rc = cb_case_find(st, r->tracer, zzjgdm, bah, zycs, flags, out, a, err);
    pthread_mutex_unlock(&r->tracer_mu);
    return rc;
}
