/*
 * ind_bench.c - indicator engine benchmark (issue 4: the indicator engine).
 *
 *   ind_bench DB [RUNS] [ROWS_TSV] [IMPORT_CMD]
 *
 * 1. Loads every fact of DB into an engine (cb_store_facts_load), once;
 *    reports the time, the engine's memory per discharge and the process
 *    RSS growth (with SQLite's own heap growth shown apart).
 * 2. Maps the newest DRG reference onto the engine's DRG ids as the CLI
 *    does (src/cli/cli_engine.c, cli_ref_load), and loads the indicator
 *    catalogue (data/indicators/catalogue-2019.tsv) and the catalogues.
 * 3. RUNS times each: one query (cb_engine_query) plus the evaluation of
 *    every catalogue indicator on every row (cb_indicator_eval), by
 *    department x month (2 threads, and 1), hospital x month and
 *    consortium x year; reports the median of query + evaluation, and of
 *    each part.
 * 4. ROWS_TSV (optional, "" for none): the counters of every department x
 *    month row, for the DuckDB peer to compare with row by row.
 * 5. The department x month and hospital x month queries again over a copy
 *    of the facts in random order (the stored order favours the full pass).
 *    Queries are answered from the engine's cube (per hospital, department,
 *    month) except those marked "full" (no_cube: the pass over every fact).
 * 6. IMPORT_CMD (optional): RUNS rounds of `IMPORT_CMD ROUND` (which must
 *    import one new record into DB), each followed by the timed incremental
 *    update, cb_store_facts_load(since = the last generation seen), and the
 *    timed re-query of hospital x month with evaluation.
 *
 * Output: one JSON object per line, for bench/run_ind.sh.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "carebase/engine.h"
#include "carebase/indicator.h"
#include "carebase/reference.h"
#include "carebase/store.h"

#define MAX_RUNS 50

static double
now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v[0..n) without reordering v. */
static double
median(const double *v, int n)
{
    double s[MAX_RUNS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static void
print_runs(const char *key, const double *v, int n, double scale)
{
    printf("\"%s\":[", key);
    for (int i = 0; i < n; i++)
        printf("%s%.4f", i ? "," : "", v[i] * scale);
    printf("]");
}

/* Resident set size of this process, bytes. */
static long
rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

static void
die(const char *what, const struct cb_buf *err)
{
    fprintf(stderr, "ind_bench: %s: %s\n", what, err && err->len ? cb_buf_cstr(err) : "failed");
    exit(1);
}

/* ---- the reference on the engine's DRG ids (as cli_ref_load does) ----- */

struct drg_names {
    int    n;            /* ids 0..n-1 */
    char **scheme, **code;
};

static enum cb_err
drg_row(void *ctx, int64_t id, const char *scope, const char *code)
{
    struct drg_names *d = ctx;
    if (id < 0 || id > 65535)
        return CB_OK;
    if (id >= d->n) {
        int n = (int)id + 1;
        char **s = realloc(d->scheme, (size_t)n * sizeof *s);
        if (s)
            d->scheme = s;
        char **c = realloc(d->code, (size_t)n * sizeof *c);
        if (c)
            d->code = c;
        if (!s || !c)
            return CB_ERR_NOMEM;
        for (int i = d->n; i < n; i++)
            d->scheme[i] = d->code[i] = NULL;
        d->n = n;
    }
    d->scheme[id] = strdup(scope ? scope : "");
    d->code[id] = strdup(code ? code : "");
    return d->scheme[id] && d->code[id] ? CB_OK : CB_ERR_NOMEM;
}

struct ref_ctx {
    const struct drg_names          *names;
    const struct cb_store_ref_info  *info;   /* filled before the rows */
    struct cb_engine_ref            *ref;
};

static enum cb_err
ref_row(void *ctx, const char *drg, const struct cb_ref_drg *d)
{
    struct ref_ctx *c = ctx;
    for (int i = 0; i < c->names->n; i++)
        if (c->names->code[i] && !strcmp(c->names->code[i], drg) &&
            !strcmp(c->names->scheme[i], c->info->scheme)) {
            c->ref->weight[i] = d->weight;
            c->ref->mean_cost[i] = d->cases ? d->mean_cost : NAN;
            c->ref->mean_los[i] = d->mean_los;
            c->ref->risk[i] = d->risk;
        }
    return CB_OK;
}

/* ---- one timed query plus evaluation ---------------------------------- */

struct bench {
    const struct cb_engine        *e;
    const struct cb_engine_ref    *ref;
    const struct cb_indicator_set *set;
    uint32_t                       have;
};

struct run_out {
    double  query_s, eval_s;
    size_t  rows;
    long    computable;
    double  checksum;     /* keeps the evaluation from being optimised away */
};

static void
run_once(const struct bench *b, enum cb_unit unit, enum cb_period period, int threads,
         bool full, struct cb_engine_result *keep, struct run_out *o)
{
    struct cb_engine_query q = {
        .unit = unit, .period = period, .day_from = 0, .day_to = UINT16_MAX,
        .ref = b->ref, .threads = threads, .no_cube = full,
    };
    struct cb_engine_result res;
    double t0 = now();
    if (cb_engine_query(b->e, &q, &res))
        die("query", NULL);
    double t1 = now();
    long computable = 0;
    double sum = 0;
    for (size_t i = 0; i < res.nrows; i++) {
        for (int k = 0; k < b->set->n; k++) {
            struct cb_ind_value v;
            cb_indicator_eval(&b->set->ind[k], &res.rows[i].agg, res.ndrg_words, b->have, &v);
            if (v.computable) {
                computable++;
                sum += v.value;
            }
        }
    }
    double t2 = now();
    o->query_s = t1 - t0;
    o->eval_s = t2 - t1;
    o->rows = res.nrows;
    o->computable = computable;
    o->checksum = sum;
    if (keep)
        *keep = res;
    else
        cb_engine_result_release(&res);
}

static const char *
unit_name(enum cb_unit u)
{
    return u == CB_UNIT_DEPT ? "department" : u == CB_UNIT_HOSPITAL ? "hospital"
         : u == CB_UNIT_DOCTOR ? "doctor" : "consortium";
}

static const char *
period_name(enum cb_period p)
{
    return p == CB_PERIOD_MONTH ? "month" : p == CB_PERIOD_QUARTER ? "quarter"
         : p == CB_PERIOD_YEAR ? "year" : "all";
}

/* ---- the rows for the DuckDB check ------------------------------------ */

static const char *const counter_names[CB_C__INT] = {
#define X(name) #name,
    CB_COUNTERS(X)
#undef X
};

static void
write_rows(const char *path, const struct cb_engine_result *r)
{
    static const char *const suffix[4] = { "n", "los", "zfy", "deaths" };
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fprintf(f, "hospital_id\tdept_id\tym");
    for (int k = 0; k < CB_C__INT; k++)
        fprintf(f, "\t%s", counter_names[k]);
    for (int k = 0; k < CB_COHORTS; k++)
        for (int s = 0; s < 4; s++)
            fprintf(f, "\tcohort%d_%s", k + 1, suffix[s]);
    fprintf(f, "\ttw\tcei\ttei\tdrg_count\n");
    for (size_t i = 0; i < r->nrows; i++) {
        const struct cb_engine_row *row = &r->rows[i];
        fprintf(f, "%u\t%u\t%" PRId32, row->hospital, row->dept, row->period);
        for (int k = 0; k < CB_C__N; k++)
            fprintf(f, "\t%" PRId64, row->agg.c[k]);
        fprintf(f, "\t%.17g\t%.17g\t%.17g\t%.0f\n", row->agg.r[CB_R_TW], row->agg.r[CB_R_CEI],
                row->agg.r[CB_R_TEI],
                cb_agg_value(&row->agg, CB_COUNTER_DRG_COUNT, r->ndrg_words));
    }
    if (fclose(f)) {
        perror(path);
        exit(1);
    }
}

static const struct query_kind {
    enum cb_unit   unit;
    enum cb_period period;
    int            threads;
    bool           full;      /* the full pass (no_cube), for comparison */
} queries[] = {
    { CB_UNIT_DEPT, CB_PERIOD_MONTH, 2, false },
    { CB_UNIT_DEPT, CB_PERIOD_MONTH, 1, false },
    { CB_UNIT_HOSPITAL, CB_PERIOD_MONTH, 2, false },
    { CB_UNIT_ALL, CB_PERIOD_YEAR, 2, false },
    { CB_UNIT_DEPT, CB_PERIOD_MONTH, 2, true },
    { CB_UNIT_HOSPITAL, CB_PERIOD_MONTH, 2, true },
    { CB_UNIT_ALL, CB_PERIOD_YEAR, 2, true },
};

/* RUNS timed runs (after one warm-up) of one kind of query; prints a line.
 * keep: the last run's result, for the caller. */
static void
time_query(const struct bench *b, const struct query_kind *qk, const char *order, int runs,
           struct cb_engine_result *keep)
{
    double tot[MAX_RUNS], tq[MAX_RUNS], te[MAX_RUNS];
    struct run_out o = { 0 };
    size_t nfacts = cb_engine_count(b->e);
    run_once(b, qk->unit, qk->period, qk->threads, qk->full, NULL, &o);  /* warm-up */
    for (int i = 0; i < runs; i++) {
        run_once(b, qk->unit, qk->period, qk->threads, qk->full,
                 keep && i == runs - 1 ? keep : NULL, &o);
        tq[i] = o.query_s;
        te[i] = o.eval_s;
        tot[i] = o.query_s + o.eval_s;
    }
    double med = median(tot, runs);
    printf("{\"what\":\"query\",\"path\":\"%s\",\"unit\":\"%s\",\"period\":\"%s\","
           "\"threads\":%d,\"order\":\"%s\",\"facts\":%zu,\"rows\":%zu,\"indicators\":%d,\"values\":%zu,"
           "\"computable\":%ld,\"checksum\":%.9g,",
           qk->full ? "full" : "cube", unit_name(qk->unit), period_name(qk->period),
           qk->threads, order, nfacts, o.rows,
           b->set->n, o.rows * (size_t)b->set->n, o.computable, o.checksum);
    print_runs("runs_s", tot, runs, 1);
    printf(",\"median_s\":%.4f,\"query_median_s\":%.4f,\"eval_median_s\":%.5f,"
           "\"ns_per_discharge\":%.2f}\n",
           med, median(tq, runs), median(te, runs), med / (double)nfacts * 1e9);
    fflush(stdout);
}

/* A copy of the engine with its facts in random order (fixed seed): the
 * stored order (by hospital and discharge day, as generated and imported)
 * is the engine's best case for its caches. */
static struct cb_engine *
shuffled_copy(const struct cb_engine *e)
{
    size_t n;
    const struct cb_fact *f = cb_engine_facts(e, &n);
    struct cb_fact *c = malloc((n ? n : 1) * sizeof *c);
    struct cb_engine *s = NULL;
    if (!c || cb_engine_new(&s))
        die("shuffle", NULL);
    memcpy(c, f, n * sizeof *c);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (size_t i = n; i > 1; i--) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        size_t j = (size_t)(x % i);
        struct cb_fact t = c[i - 1];
        c[i - 1] = c[j];
        c[j] = t;
    }
    if (cb_engine_put(s, c, n))
        die("shuffle", NULL);
    free(c);
    return s;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ind_bench DB [RUNS] [ROWS_TSV] [IMPORT_CMD]\n");
        return 2;
    }
    const char *dbpath = argv[1];
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    const char *rows_tsv = argc > 3 && argv[3][0] ? argv[3] : NULL;
    const char *import_cmd = argc > 4 && argv[4][0] ? argv[4] : NULL;
    if (runs < 1 || runs > MAX_RUNS)
        return 2;
    const char *datadir = getenv("CAREBASE_DATADIR");
    const char *refdata = getenv("CAREBASE_REFDATA");
    if (!datadir)
        datadir = CB_DEFAULT_DATADIR;
    if (!refdata)
        refdata = CB_DEFAULT_REFDATA;
    struct cb_buf err = CB_BUF_INIT;

    /* 1. the facts */
    long rss0 = rss_bytes();
    sqlite3_int64 sql0 = sqlite3_memory_used();
    struct cb_store *st = NULL;
    if (cb_store_open(&st, dbpath, &err))
        die("open", &err);
    struct cb_engine *e = NULL;
    if (cb_engine_new(&e))
        die("engine", NULL);
    int64_t gen = 0;
    double t0 = now();
    if (cb_store_facts_load(st, e, 0, &gen, &err))
        die("load facts", &err);
    double load_s = now() - t0;
    long rss1 = rss_bytes();
    sqlite3_int64 sql1 = sqlite3_memory_used();
    size_t nfacts = cb_engine_count(e), mem = cb_engine_memory(e);
    double rss_delta = (double)(rss1 - rss0), sql_delta = (double)(sql1 - sql0);
    printf("{\"what\":\"load\",\"facts\":%zu,\"generation\":%" PRId64 ",\"load_s\":%.3f,"
           "\"facts_per_s\":%.0f,\"engine_memory_mb\":%.1f,\"engine_bytes_per_discharge\":%.1f,"
           "\"fact_bytes\":%zu,\"rss_delta_mb\":%.1f,\"sqlite_heap_delta_mb\":%.1f,"
           "\"rss_delta_bytes_per_discharge\":%.1f,"
           "\"rss_delta_less_sqlite_bytes_per_discharge\":%.1f}\n",
           nfacts, gen, load_s, (double)nfacts / load_s, (double)mem / 1048576.0,
           (double)mem / (double)nfacts, sizeof(struct cb_fact), rss_delta / 1048576.0,
           sql_delta / 1048576.0, rss_delta / (double)nfacts,
           (rss_delta - sql_delta) / (double)nfacts);
    fflush(stdout);

    /* 2. reference, indicator catalogue, catalogues */
    struct drg_names names = { 0, NULL, NULL };
    if (cb_store_dim_list(st, CB_DIM_DRG, drg_row, &names, &err))
        die("DRG dictionary", &err);
    int nref = names.n > 0 ? names.n : 1;
    struct cb_engine_ref ref = {
        .ndrg = nref,
        .weight = malloc((size_t)nref * sizeof(double)),
        .mean_cost = malloc((size_t)nref * sizeof(double)),
        .mean_los = malloc((size_t)nref * sizeof(double)),
        .risk = malloc((size_t)nref),
    };
    if (!ref.weight || !ref.mean_cost || !ref.mean_los || !ref.risk)
        die("reference", NULL);
    for (int i = 0; i < nref; i++) {
        ref.weight[i] = ref.mean_cost[i] = ref.mean_los[i] = NAN;
        ref.risk[i] = -1;
    }
    struct cb_store_ref_info info;
    struct ref_ctx rc = { &names, &info, &ref };
    if (cb_store_reference_load(st, NULL, &info, ref_row, &rc, &err))  /* the newest */
        die("reference", &err);
    struct cb_indicator_set set;
    char path[1200];
    snprintf(path, sizeof path, "%s/indicators/catalogue-2019.tsv", datadir);
    if (cb_indicators_load(&set, path, &err))
        die("indicator catalogue", &err);
    struct cb_catalogues cat;
    struct cb_catalogue_paths cp = { .refdata_dir = refdata, .datadir = datadir };
    if (cb_catalogues_load(&cat, &cp, &err))
        die("catalogues", &err);
    uint32_t have = CB_NEED_COHORTS | CB_NEED_REFERENCE;
    if (cat.cat[CB_CAT_DAY_SURGERY].loaded) have |= CB_NEED_DAY_SURGERY;
    if (cat.cat[CB_CAT_COMPLICATION].loaded) have |= CB_NEED_COMPLICATION;
    if (cat.cat[CB_CAT_MIS].loaded) have |= CB_NEED_MIS;
    if (cat.cat[CB_CAT_LEVEL4].loaded) have |= CB_NEED_LEVEL4;
    if (cat.cat[CB_CAT_LEVEL3].loaded) have |= CB_NEED_LEVEL3;
    printf("{\"what\":\"setup\",\"reference\":\"%s\",\"scheme\":\"%s\",\"drg_ids\":%d,"
           "\"indicators\":%d,\"catalogue\":\"%s\",\"have\":%u}\n",
           info.name, info.scheme, names.n, set.n, set.version, have);
    fflush(stdout);

    /* 3. query + evaluation */
    struct bench b = { e, &ref, &set, have };
    struct cb_engine_result dept_rows = { 0 };
    for (size_t k = 0; k < sizeof queries / sizeof queries[0]; k++)
        time_query(&b, &queries[k], "stored", runs, k == 0 ? &dept_rows : NULL);

    /* 4. rows for the DuckDB check, and totals for a quick look */
    {
        int64_t tn = 0, tsurg = 0, tzfy = 0, tdrg = 0;
        double ttw = 0;
        for (size_t i = 0; i < dept_rows.nrows; i++) {
            const struct cb_agg *a = &dept_rows.rows[i].agg;
            tn += a->c[CB_C_n];
            tsurg += a->c[CB_C_surgical];
            tzfy += a->c[CB_C_zfy];
            ttw += a->r[CB_R_TW];
            tdrg += (int64_t)cb_agg_value(a, CB_COUNTER_DRG_COUNT, dept_rows.ndrg_words);
        }
        printf("{\"what\":\"totals\",\"unit\":\"department\",\"period\":\"month\","
               "\"rows\":%zu,\"n\":%" PRId64 ",\"surgical\":%" PRId64 ",\"zfy\":%" PRId64 ","
               "\"tw\":%.6f,\"drg_count\":%" PRId64 "}\n",
               dept_rows.nrows, tn, tsurg, tzfy, ttw, tdrg);
        if (rows_tsv)
            write_rows(rows_tsv, &dept_rows);
        cb_engine_result_release(&dept_rows);
        fflush(stdout);
    }

    /* 5. the same queries over the facts in random order */
    {
        struct cb_engine *sh = shuffled_copy(e);
        struct bench bs = { sh, &ref, &set, have };
        time_query(&bs, &queries[0], "random", runs, NULL);
        time_query(&bs, &queries[2], "random", runs, NULL);
        time_query(&bs, &queries[4], "random", runs, NULL);
        cb_engine_free(sh);
    }

    /* 6. incremental: import one record, load what changed, re-query */
    if (import_cmd) {
        double tl[MAX_RUNS], tr[MAX_RUNS], tt[MAX_RUNS], ti[MAX_RUNS];
        long added[MAX_RUNS];
        for (int i = 0; i < runs; i++) {
            char cmd[2048];
            snprintf(cmd, sizeof cmd, "%s %d", import_cmd, i);
            size_t before = cb_engine_count(e);
            double s0 = now();
            if (system(cmd) != 0) {
                fprintf(stderr, "ind_bench: import command failed: %s\n", cmd);
                return 1;
            }
            double s1 = now();
            if (cb_store_facts_load(st, e, gen, &gen, &err))
                die("incremental load", &err);
            double s2 = now();
            struct run_out o;
            run_once(&b, CB_UNIT_HOSPITAL, CB_PERIOD_MONTH, 2, false, NULL, &o);
            ti[i] = s1 - s0;
            tl[i] = s2 - s1;
            tr[i] = o.query_s + o.eval_s;
            tt[i] = tl[i] + tr[i];
            added[i] = (long)(cb_engine_count(e) - before);
        }
        printf("{\"what\":\"incremental\",\"rounds\":%d,\"added\":[", runs);
        for (int i = 0; i < runs; i++)
            printf("%s%ld", i ? "," : "", added[i]);
        printf("],\"facts\":%zu,\"generation\":%" PRId64 ",\"engine_bytes_per_discharge\":%.1f,",
               cb_engine_count(e), gen,
               (double)cb_engine_memory(e) / (double)cb_engine_count(e));
        print_runs("load_ms", tl, runs, 1000);
        printf(",");
        print_runs("requery_ms", tr, runs, 1000);
        printf(",\"load_median_ms\":%.3f,\"requery_median_ms\":%.2f,\"total_median_ms\":%.2f,"
               "\"import_cmd_median_s\":%.3f}\n",
               median(tl, runs) * 1000, median(tr, runs) * 1000, median(tt, runs) * 1000,
               median(ti, runs));
    }

    cb_catalogues_release(&cat);
    cb_indicators_release(&set);
    free(ref.weight);
    free(ref.mean_cost);
    free(ref.mean_los);
    free(ref.risk);
    for (int i = 0; i < names.n; i++) {
        free(names.scheme[i]);
        free(names.code[i]);
    }
    free(names.scheme);
    free(names.code);
    cb_engine_free(e);
    cb_store_close(st);
    cb_buf_release(&err);
    return 0;
}
