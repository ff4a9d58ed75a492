/*
 * gen.c - the driver of `carebase generate`: consortium set-up, the
 * discharge calendar of each hospital (weekday pattern, Spring Festival and
 * National Day dips, seasonal case mix), readmissions, and the loop that
 * builds, spoils (error_rate) and writes one record at a time.
 *
 * Each record draws from its own RNG seeded by (seed, hospital, record
 * number), and the injected errors from another, so the file is a pure
 * function of the options and clean records do not depend on error_rate.
 */
#include <iconv.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "carebase/alloc.h"
#include "gen/gen_int.h"

#define HEAP_MAX      (1 << 16)

/* ---- set-up ---- */

static uint64_t
annual_volume(const struct gen_hosp *h, struct cb_rng *r)
{
    static const double base[GEN_NLEVELS] = { 60000, 15000, 4000 };
    static const double spread[GEN_NLEVELS] = { 0.15, 0.3, 0.4 };
    double f = 1.0 + spread[h->level] * (2.0 * cb_rng_unif(r) - 1.0);

    return (uint64_t)(base[h->level] * f);
}

/* Cumulative case-mix weights per month (seasonality). */
static enum cb_err
build_casemix(struct cb_gen *g, struct gen_hosp *h)
{
    size_t a, n = g->narch;
    int m;

    h->cum = cb_arena_alloc(&g->arena, 12 * n * sizeof(*h->cum));
    if (!h->cum)
        return CB_ERR_NOMEM;
    for (m = 0; m < 12; m++) {
        uint32_t sum = 0;
        double doy = 15.0 + 30.4 * m;
        for (a = 0; a < n; a++) {
            const struct gen_archdef *d = g->arch[a].def;
            double w = g->arch[a].usable ? d->w[h->level] : 0;
            w *= 1.0 + d->season / 100.0 * cos(2 * M_PI * (doy - 20) / 365.0);
            sum += (uint32_t)(w * 100.0 + 0.5);
            h->cum[m * n + a] = sum;
        }
    }
    return CB_OK;
}

static enum cb_err
check_opts(const struct cb_gen_opts *o, struct cb_buf *err)
{
    if (o->hospitals < 1 || o->hospitals > 64) {
        cb_errf(err, "hospitals must be 1..64, not %d", o->hospitals);
        return CB_ERR_USAGE;
    }
    if (o->years < 1 || o->years > 3) {
        cb_errf(err, "years must be 1..3, not %d", o->years);
        return CB_ERR_USAGE;
    }
    if (o->end_year < 2000 || o->end_year > 2100) {
        cb_errf(err, "end year %d is out of range", o->end_year);
        return CB_ERR_USAGE;
    }
    if (!(o->error_rate >= 0.0 && o->error_rate <= 1.0)) {
        cb_errf(err, "error rate must be within 0..1");
        return CB_ERR_USAGE;
    }
    if (o->delimiter != ',' && o->delimiter != '\t') {
        cb_errf(err, "delimiter must be ',' or TAB");
        return CB_ERR_USAGE;
    }
    if (!o->profile) {
        cb_errf(err, "no output profile");
        return CB_ERR_USAGE;
    }
    return CB_OK;
}

enum cb_err
cb_gen_new(struct cb_gen **out, const struct cb_gen_opts *opts,
           const struct cb_refdata *rd, struct cb_buf *err)
{
    struct cb_gen *g;
    struct cb_rng r;
    size_t i;
    uint64_t total = 0, assigned = 0;
    int h;
    enum cb_err rc;

    *out = NULL;
    if ((rc = check_opts(opts, err)))
        return rc;
    g = cb_calloc(1, sizeof(*g));
    if (!g)
        return CB_ERR_NOMEM;
    g->opts = *opts;
    if (g->opts.encoding == CB_ENC_AUTO)
        g->opts.encoding = CB_ENC_UTF8;
    g->rd = rd;
    g->profile = opts->profile;
    g->std = cb_profile_std(opts->profile);
    g->iconv = (void *)-1;
    cb_arena_init(&g->arena, 1 << 20);
    cb_strmap_init(&g->daysurg);
    cb_buf_init(&g->line, (size_t)1 << 24);
    cb_buf_init(&g->tmp, (size_t)1 << 20);
    cb_buf_init(&g->out, (size_t)1 << 28);

    g->row.scap = GEN_SCRATCH_SIZE;
    g->row.sp = cb_malloc(GEN_SCRATCH_SIZE);
    g->ncols = cb_profile_ncolumns(g->profile);
    g->colfield = cb_reallocarray(NULL, g->ncols ? g->ncols : 1, sizeof(int));
    if (!g->row.sp || !g->colfield) {
        rc = CB_ERR_NOMEM;
        goto fail;
    }
    for (i = 0; i < g->ncols; i++) {
        int f = -1;
        cb_profile_column(g->profile, i, &f);
        g->colfield[i] = f;
        if (f >= 0 && f < CB_FP_NFIELDS)
            g->want[f] = 1;
    }

    if ((rc = gen__casemix_init(g, err)) || (rc = gen__org_init(g, err)))
        goto fail;

    cb_rng_seed(&r, cb_rng_mix(opts->seed, 0x766f6c));  /* "vol" */
    for (h = 0; h < g->nhosp; h++) {
        g->hosp[h].nrec = annual_volume(&g->hosp[h], &r) *
                          (uint64_t)opts->years;
        total += g->hosp[h].nrec;
        if ((rc = build_casemix(g, &g->hosp[h])))
            goto fail;
    }
    if (opts->records > 0) {
        for (h = 0; h < g->nhosp; h++) {
            double share = (double)g->hosp[h].nrec / (double)total;
            g->hosp[h].nrec = (uint64_t)(share * (double)opts->records);
            assigned += g->hosp[h].nrec;
        }
        g->hosp[0].nrec += opts->records - assigned;
    }

    if (g->opts.encoding == CB_ENC_GB18030) {
        iconv_t cd = iconv_open("GB18030", "UTF-8");
        if (cd == (iconv_t)-1) {
            cb_errf(err, "cannot convert to GB18030: iconv lacks it");
            rc = CB_ERR_USAGE;
            goto fail;
        }
        g->iconv = (void *)cd;
    }
    *out = g;
    return CB_OK;

fail:
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "out of memory");
    cb_gen_free(g);
    return rc;
}

void
cb_gen_free(struct cb_gen *g)
{
    if (!g)
        return;
    if (g->iconv != (void *)-1)
        iconv_close((iconv_t)g->iconv);
    gen__casemix_free(g);
    gen__org_free(g);
    cb_free(g->row.sp);
    cb_free(g->colfield);
    cb_buf_release(&g->line);
    cb_buf_release(&g->tmp);
    cb_buf_release(&g->out);
    cb_arena_release(&g->arena);
    cb_free(g);
}

/* ---- calendar ---- */

static int64_t
spring_festival(int y)
{
    static const char *const d[] = {
        "2015-02-19", "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05",
        "2020-01-25", "2021-02-12", "2022-02-01", "2023-01-22", "2024-02-10",
        "2025-01-29", "2026-02-17", "2027-02-06", "2028-01-26", "2029-02-13",
        "2030-02-03",
    };

    if (y >= 2015 && y <= 2030) {
        const char *s = d[y - 2015];
        return cb_days_from_civil(y, (s[5] - '0') * 10 + s[6] - '0',
                                  (s[8] - '0') * 10 + s[9] - '0');
    }
    return cb_days_from_civil(y, 2, 1);
}

/* Discharges per day of one hospital: exactly h->nrec in total. */
static enum cb_err
day_counts(const struct cb_gen *g, const struct gen_hosp *h, int64_t first,
           int ndays, uint32_t *cnt)
{
    static const double weekday[7] = { 1.05, 1.1, 1.1, 1.1, 1.15, 0.85, 0.6 };
    double *w = cb_reallocarray(NULL, (size_t)ndays, sizeof(double));
    double sum = 0, acc = 0;
    struct cb_rng r;
    uint64_t prev = 0;
    int i;

    if (!w)
        return CB_ERR_NOMEM;
    cb_rng_seed(&r, cb_rng_mix(g->opts.seed, 0x646179ULL + (uint64_t)h->index));
    for (i = 0; i < ndays; i++) {
        int64_t day = first + i;
        int y, m, d;
        int64_t sf;
        double f = weekday[(day + 3) % 7];

        cb_civil_from_days(day, &y, &m, &d);
        sf = day - spring_festival(y);
        if (sf >= -10 && sf < 0)
            f *= 1.15;         /* discharged home for the festival */
        else if (sf >= 0 && sf < 7)
            f *= 0.45;
        else if (sf >= 7 && sf < 15)
            f *= 0.8;
        if (m == 10 && d <= 7)
            f *= 0.75;         /* National Day holiday */
        if (m == 12 || m == 1)
            f *= 1.08;         /* winter */
        f *= gen__lognormal(&r, 1.0, 0.12);
        w[i] = f;
        sum += f;
    }
    for (i = 0; i < ndays; i++) {
        uint64_t upto;
        acc += w[i];
        upto = i == ndays - 1 ? h->nrec
             : (uint64_t)((double)h->nrec * acc / sum);
        if (upto > h->nrec)
            upto = h->nrec;
        cnt[i] = (uint32_t)(upto - prev);
        prev = upto;
    }
    cb_free(w);
    return CB_OK;
}

/* ---- readmissions ---- */

struct pending {
    int64_t  due;        /* discharge day at the earliest */
    uint64_t seq;        /* tie-break, keeps the heap order deterministic */
    struct gen_patient pt;
    uint32_t bah;
    int      zycs;
    int      arch;
    int64_t  prev_dis;   /* secs */
    bool     planned;
};

struct heap {
    struct pending *e;
    size_t n;
};

static bool
pend_less(const struct pending *a, const struct pending *b)
{
    return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
heap_push(struct heap *h, const struct pending *p)
{
    size_t i = h->n++;

    h->e[i] = *p;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        struct pending t;
        if (!pend_less(&h->e[i], &h->e[up]))
            break;
        t = h->e[i];
        h->e[i] = h->e[up];
        h->e[up] = t;
        i = up;
    }
}

static void
heap_pop(struct heap *h, struct pending *out)
{
    size_t i = 0;

    *out = h->e[0];
    h->e[0] = h->e[--h->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct pending t;
        if (l < h->n && pend_less(&h->e[l], &h->e[m]))
            m = l;
        if (r < h->n && pend_less(&h->e[r], &h->e[m]))
            m = r;
        if (m == i)
            break;
        t = h->e[i];
        h->e[i] = h->e[m];
        h->e[m] = t;
        i = m;
    }
}

/* ---- one record ---- */

static int64_t
sample_age_days(const struct gen_archdef *d, struct cb_rng *r)
{
    double y;

    switch ((enum gen_agemodel)d->age) {
    case AGE_NEONATE: {
        double x = fabs(cb_rng_normal(r)) * (d->age_mean - d->age_lo + 1.5);
        int64_t days = d->age_lo + (int64_t)x;
        return days > d->age_hi ? d->age_hi : days;
    }
    case AGE_CHILD:
        if (d->age_lo == 0 && cb_rng_chance(r, 0.25))
            return 29 + cb_rng_below(r, 336);
        y = d->age_lo + floor(gen__lognormal(r, d->age_mean + 0.5, 0.6));
        if (y > d->age_hi)
            y = d->age_hi;
        if (y < d->age_lo || y < 1)
            y = d->age_lo < 1 ? 1 : d->age_lo;
        return (int64_t)(y * 365.25) + cb_rng_below(r, 365);
    case AGE_ADULT:
    case AGE_OBST:
        break;
    }
    y = d->age_mean + d->age_sd * cb_rng_normal(r);
    if (y < d->age_lo)
        y = d->age_lo + cb_rng_unif(r) * 2;
    if (y > d->age_hi)
        y = d->age_hi - cb_rng_unif(r) * 2;
    return (int64_t)(y * 365.25);
}

static void
new_patient(const struct cb_gen *g, const struct gen_hosp *h,
            struct gen_case *c, struct cb_rng *r)
{
    const struct gen_archdef *d = c->a->def;
    double u = cb_rng_unif(r), away = h->level == GEN_HUB ? 0.10
                                 : h->level == GEN_DISTRICT ? 0.05 : 0.02;

    c->pt.seed = cb_rng_u64(r);
    c->pt.sex = d->age == AGE_OBST || d->male_pct == 0 ? 2
              : cb_rng_unif(r) * 100 < d->male_pct ? 1 : 2;
    if (u < away) {
        int p;
        do {
            p = 1 + (int)cb_rng_below(r, (uint32_t)gen__nprovinces);
        } while (p == g->org.prov);
        c->pt.place = -1;
        c->pt.prov = p;
    } else {
        c->pt.place = u < away + 0.25
                      ? (int)cb_rng_below(r, (uint32_t)g->org.nplace)
                      : h->district;
        c->pt.prov = cb_rng_chance(r, 0.9) ? g->org.prov
                   : 1 + (int)cb_rng_below(r, (uint32_t)gen__nprovinces);
    }
    c->age_days = sample_age_days(d, r);
    c->age_y = (int)(c->age_days / 365.25);
    c->age_d = (int)c->age_days;
}

static int64_t
clock_time(struct cb_rng *r, int lo_min, int hi_min)
{
    int m = lo_min + (int)cb_rng_below(r, (uint32_t)(hi_min - lo_min));

    return (int64_t)m * 60 + cb_rng_below(r, 60);
}

static void
set_times(struct gen_case *c, int64_t day, struct cb_rng *r)
{
    int64_t adm_day;

    if (c->lyfs == 5)
        c->dis = day * 86400 + clock_time(r, 0, 1440);
    else if (cb_rng_chance(r, 0.7))
        c->dis = day * 86400 + clock_time(r, 510, 720);
    else
        c->dis = day * 86400 + clock_time(r, 720, 1140);
    adm_day = day - c->los;
    if (c->day_surgery) {
        c->adm = adm_day * 86400 + clock_time(r, 450, 600);
        if (c->los == 0)
            c->dis = c->adm + clock_time(r, 240, 540);
        else
            c->dis = c->adm + 86400 - clock_time(r, 30, 240);
    } else if (c->rytj == 1) {
        /* emergencies come round the clock, most in the day and evening */
        c->adm = adm_day * 86400 + (cb_rng_chance(r, 0.8)
                                    ? clock_time(r, 480, 1410)
                                    : clock_time(r, 0, 480));
    } else {
        c->adm = adm_day * 86400 + clock_time(r, 480, 690);
    }
    if (c->adm >= c->dis) {
        if (c->los == 0)
            c->dis = c->adm + clock_time(r, 60, 300);
        if (c->adm >= c->dis || cb_day_of(c->dis) != day) {
            c->adm = day * 86400 + clock_time(r, 0, 300);
            c->dis = c->adm + clock_time(r, 60, 600);
        }
    }
}

static void
fill_identity(struct cb_gen *g, const struct gen_case *c)
{
    gen__set(g, CB_F_ZZJGDM, c->h->zzjgdm);
    gen__set(g, CB_F_JGMC, c->h->name);
    gen__set(g, CB_F_USERNAME, c->h->username);
    gen__seti(g, CB_F_BAH, c->bah);
    gen__seti(g, CB_F_ZYCS, c->zycs);
}

/* Builds one record discharged on day (fresh or readmission), fills the row. */
static void
make_record(struct cb_gen *g, struct gen_hosp *h, int64_t day,
            const struct pending *re, struct cb_rng *r, struct gen_case *c)
{
    memset(c, 0, offsetof(struct gen_case, cost));
    c->h = h;
    if (re) {
        c->ai = re->arch;
        c->a = &g->arch[c->ai];
        c->pt = re->pt;
        c->bah = re->bah;
        c->zycs = re->zycs;
        c->readmission = true;
        c->planned_this = re->planned;
        c->age_days = day - c->pt.birth;
        c->age_y = (int)(c->age_days / 365.25);
        c->age_d = (int)c->age_days;
    } else {
        int m;
        cb_civil_from_days(day, &(int){ 0 }, &m, &(int){ 0 });
        c->ai = (int)cb_rng_pick_cum(r, h->cum + (size_t)(m - 1) * g->narch,
                                  g->narch);
        c->a = &g->arch[c->ai];
        new_patient(g, h, c, r);
        c->bah = h->bah_base++;
        {
            double u = cb_rng_unif(r);
            int k = c->a->def->kind;
            c->zycs = k == K_CHEMO ? 2 + (int)cb_rng_below(r, 8)
                    : k == K_NEONATE ? 1
                    : u < 0.78 ? 1 : u < 0.90 ? 2 : u < 0.95 ? 3
                    : 4 + (int)cb_rng_below(r, 6);
        }
    }
    gen__course(g, c, r);
    c->los = gen__los(g, c, r);
    if (re) {
        /* stays of one patient never overlap */
        int64_t room = day - cb_day_of(re->prev_dis) - 2;
        if (c->los > room)
            c->los = room > 0 ? (int)room : 0;
    }
    set_times(c, day, r);
    {
        int64_t adm_day = cb_day_of(c->adm);
        if (!re)
            c->pt.birth = adm_day - c->age_days;
        c->age_y = cb_completed_years(c->pt.birth, adm_day);
        c->age_d = (int)(adm_day - c->pt.birth);
        c->los = (int)(day - adm_day);
        if (c->los < 1)
            c->los = 1;
    }
    gen__procedures_timed(g, c, r);
    gen__diagnoses(g, c, r);
    gen__costs(g, c, r);

    gen__row_clear(g);
    fill_identity(g, c);
    gen__patient_fill(g, c);
    gen__clinical_fill(g, c, r);
    gen__costs_fill(g, c);
}

static void
schedule(struct heap *hp, const struct gen_case *c, const struct cb_gen *g,
         struct cb_rng *r, uint64_t *seq)
{
    struct pending p;
    double gap;

    if (c->next_arch < 0 || hp->n >= HEAP_MAX || !g->arch[c->next_arch].usable)
        return;
    gap = c->planned_next ? 14 + cb_rng_below(r, 15)
                          : 3 + gen__lognormal(r, 18, 0.8);
    if (gap > 120)
        gap = 120;
    memset(&p, 0, sizeof(p));
    p.due = cb_day_of(c->dis) + (int64_t)gap +
            (int64_t)g->arch[c->next_arch].def->los;
    p.seq = (*seq)++;
    p.pt = c->pt;
    p.bah = c->bah;
    p.zycs = c->zycs + 1;
    p.arch = c->next_arch;
    p.prev_dis = c->dis;
    p.planned = c->planned_next;
    heap_push(hp, &p);
}

enum cb_err
cb_gen_write(struct cb_gen *g, FILE *out, FILE *manifest, struct cb_buf *err)
{
    int64_t first = cb_days_from_civil(g->opts.end_year - g->opts.years + 1,
                                       1, 1);
    int64_t last = cb_days_from_civil(g->opts.end_year, 12, 31);
    int ndays = (int)(last - first + 1), hi, d;
    uint32_t *cnt = NULL;
    struct heap hp = { NULL, 0 };
    struct gen_case *c = NULL;
    struct cb_buf man = CB_BUF_INIT;
    uint64_t line = 1;
    enum cb_err rc;

    cb_buf_reset(&g->out);
    cnt = cb_reallocarray(NULL, (size_t)ndays, sizeof(*cnt));
    hp.e = cb_reallocarray(NULL, HEAP_MAX + 1, sizeof(*hp.e));
    c = cb_malloc(sizeof(*c));
    if (!cnt || !hp.e || !c) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    if ((rc = gen__write_header(g, err)))
        goto out;

    for (hi = 0; hi < g->nhosp; hi++) {
        struct gen_hosp *h = &g->hosp[hi];
        struct gen_errstate keys;
        uint64_t recno = 0, seq = 0;
        uint32_t bah0;

        memset(&keys, 0, sizeof(keys));
        hp.n = 0;
        bah0 = h->bah_base;    /* restored below: writing twice is the same */
        if ((rc = day_counts(g, h, first, ndays, cnt)))
            goto out;
        for (d = 0; d < ndays; d++) {
            uint32_t k;
            for (k = 0; k < cnt[d]; k++) {
                struct cb_rng r, er;
                struct pending re;
                bool readmit = hp.n > 0 && hp.e[0].due <= first + d;
                const char *rule = NULL;
                int field = -1;

                cb_rng_seed(&r, cb_rng_mix(g->opts.seed ^ 0x5245434fULL,
                                         ((uint64_t)hi << 40) | recno));
                recno++;
                if (readmit)
                    heap_pop(&hp, &re);
                make_record(g, h, first + d, readmit ? &re : NULL, &r, c);
                schedule(&hp, c, g, &r, &seq);

                cb_rng_seed(&er, cb_rng_mix(g->opts.seed ^ 0x455252ULL,
                                          ((uint64_t)hi << 40) | recno));
                if (g->opts.error_rate > 0 &&
                    cb_rng_chance(&er, g->opts.error_rate))
                    rule = gen__inject(g, c, &er, &keys, &field);
                if ((rc = gen__write_row(g, err)))
                    goto out;
                line++;
                if (rule && manifest) {
                    char key[32];
                    cb_fp_key(field, key, sizeof(key));
                    if ((rc = cb_buf_addf(&man, "%llu\t%s\t%s\n",
                                          (unsigned long long)line, rule, key)))
                        goto out;
                }
                keys.bah[keys.next] = c->bah;
                keys.zycs[keys.next] = c->zycs;
                keys.next = (keys.next + 1) % 64;
                if (keys.n < 64)
                    keys.n++;
                if ((rc = gen__flush(g, out, false, err)))
                    goto out;
                if (man.len > GEN_FLUSH_AT && manifest) {
                    if (fwrite(man.ptr, 1, man.len, manifest) != man.len) {
                        cb_errf(err, "cannot write the manifest");
                        rc = CB_ERR_IO;
                        goto out;
                    }
                    cb_buf_reset(&man);
                }
            }
        }
        h->bah_base = bah0;
    }
    if ((rc = gen__flush(g, out, true, err)))
        goto out;
    if (manifest && man.len &&
        fwrite(man.ptr, 1, man.len, manifest) != man.len) {
        cb_errf(err, "cannot write the manifest");
        rc = CB_ERR_IO;
        goto out;
    }
    if (fflush(out) != 0 || ferror(out)) {
        cb_errf(err, "cannot write the output");
        rc = CB_ERR_IO;
    }

out:
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "out of memory");
    cb_free(cnt);
    cb_free(hp.e);
    cb_free(c);
    cb_buf_release(&man);
    return rc;
}

