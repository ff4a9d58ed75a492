/*
 * engine.c - facts in memory and their aggregation (see engine.h).
 *
 * Layout: one array of struct cb_fact (40 bytes each) and an open-
 * addressing index record_id -> position (4-byte slots at load <= 0.5, so
 * about 8 bytes per discharge). Department and doctor ids are interned by
 * the store per (hospital, code), so every unit id is dense and a group is
 * found by direct indexing: slot[unit * nperiods + period].
 *
 * A query is one pass over the facts (split across threads, merged by
 * adding counters and OR-ing the DRG bitsets), or, when the cube serves it
 * (cube_serves), one pass over the cube's cells.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/engine.h"

/*
 * The cube. Per (hospital, department, month) cell: every counter that
 * does not depend on the DRG reference (add_counters), and per DRG a
 * tally from which the reference-dependent counters are derived at query
 * time (the reference is a query parameter, so they cannot be stored).
 * Cells are tens of thousands for millions of discharges; tallies a few
 * per cell and DRG. put/remove keep the cells in step by adding and
 * subtracting a fact's contribution.
 */
struct tally {
    uint32_t drg;               /* engine DRG id */
    int32_t  n, deaths;         /* grouped discharges of the DRG, deaths */
    int32_t  pad_;
    int64_t  zfy, los;          /* their sums (fen, days) */
};

struct cell {
    uint16_t      hospital, dept;
    uint16_t      month;        /* months since 2000-01 */
    uint32_t      ntally, captally;
    struct tally *t;            /* sorted by drg */
    int64_t       c[CB_C__N];   /* the reference-independent counters */
};

struct cb_engine {
    struct cb_fact *f;
    size_t          n, cap;
    uint32_t       *slots;      /* position + 1; 0 = empty */
    size_t          nslots;     /* power of two */
    uint32_t        max_hospital, max_dept, max_doctor;
    int             ndrg;
    uint16_t        min_day, max_day;  /* over the facts ever put (a bound) */
    bool            has_days;
    /* The cube: partial aggregates per (hospital, department, month). */
    struct cell    *cells;
    size_t          ncells, capcells;
    uint32_t       *cslots;     /* cell index + 1; 0 = empty */
    size_t          ncslots;    /* power of two */
    size_t          ntallies;   /* allocated tallies over all cells */
    bool            cube_off;   /* a cube allocation failed: full passes only */
};

/* ---- counters by name ------------------------------------------------- */

static const char *const counter_names[CB_C__INT] = {
#define X(name) #name,
    CB_COUNTERS(X)
#undef X
};
static const char *const cohort_suffix[4] = { "n", "los", "zfy", "deaths" };
static const char *const real_names[CB_R__N] = { "tw", "cei", "tei" };

int
cb_counter_by_name(struct cb_str name)
{
    for (int i = 0; i < CB_C__INT; i++)
        if (cb_str_eqz(name, counter_names[i]))
            return i;
    for (int i = 0; i < CB_R__N; i++)
        if (cb_str_eqz(name, real_names[i]))
            return -(1 + i);
    if (cb_str_eqz(name, "drg_count"))
        return CB_COUNTER_DRG_COUNT;
    /* cohortK_SUFFIX, K = 1..10 */
    if (cb_str_starts(name, "cohort")) {
        const char *p = name.ptr + 6, *e = name.ptr + name.len;
        int k = 0;
        while (p < e && *p >= '0' && *p <= '9')
            k = k * 10 + (*p++ - '0');
        if (k >= 1 && k <= CB_COHORTS && p < e && *p == '_') {
            struct cb_str suf = cb_str_make(p + 1, (size_t)(e - p - 1));
            for (int s = 0; s < 4; s++)
                if (cb_str_eqz(suf, cohort_suffix[s]))
                    return CB_C_COHORT + 4 * (k - 1) + s;
        }
    }
    return CB_COUNTER_UNKNOWN;
}

double
cb_agg_value(const struct cb_agg *a, int counter, int ndrg_words)
{
    if (counter >= 0 && counter < CB_C__N)
        return (double)a->c[counter];
    if (counter < 0 && counter >= -CB_R__N)
        return a->r[-counter - 1];
    if (counter == CB_COUNTER_DRG_COUNT) {
        int64_t k = 0;
        for (int i = 0; a->drgs && i < ndrg_words; i++)
            k += __builtin_popcountll(a->drgs[i]);
        return (double)k;
    }
    return NAN;
}

/* ---- periods ---------------------------------------------------------- */

static void
ym_of_day(uint16_t day, int *y, int *m)
{
    int64_t d = (int64_t)day + CB_FACT_EPOCH_DAY;
    /* civil from days (H. Hinnant) */
    d += 719468;
    int64_t era = (d >= 0 ? d : d - 146096) / 146097;
    unsigned doe = (unsigned)(d - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (mm <= 2));
    *m = (int)mm;
}

static int64_t
days_of_ymd(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (unsigned)((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1);
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

int32_t
cb_period_key(enum cb_period p, uint16_t day)
{
    int y, m;
    ym_of_day(day, &y, &m);
    switch (p) {
    case CB_PERIOD_MONTH:   return y * 100 + m;
    case CB_PERIOD_QUARTER: return y * 10 + (m - 1) / 3 + 1;
    case CB_PERIOD_YEAR:    return y;
    case CB_PERIOD_ALL:     break;
    }
    return 0;
}

static uint16_t
clamp_day(int64_t d)
{
    d -= CB_FACT_EPOCH_DAY;
    return d < 0 ? 0 : d > UINT16_MAX ? UINT16_MAX : (uint16_t)d;
}

void
cb_period_bounds(enum cb_period p, int32_t key, uint16_t *first, uint16_t *last)
{
    int y0, m0, y1, m1;
    switch (p) {
    case CB_PERIOD_MONTH:
        y0 = y1 = key / 100; m0 = m1 = key % 100;
        break;
    case CB_PERIOD_QUARTER:
        y0 = y1 = key / 10; m0 = (key % 10 - 1) * 3 + 1; m1 = m0 + 2;
        break;
    case CB_PERIOD_YEAR:
        y0 = y1 = key; m0 = 1; m1 = 12;
        break;
    default:
        *first = 0;
        *last = UINT16_MAX;
        return;
    }
    *first = clamp_day(days_of_ymd(y0, m0, 1));
    int ny = m1 == 12 ? y1 + 1 : y1, nm = m1 == 12 ? 1 : m1 + 1;
    *last = clamp_day(days_of_ymd(ny, nm, 1) - 1);
}

int32_t
cb_period_prev(enum cb_period p, int32_t key)
{
    switch (p) {
    case CB_PERIOD_MONTH:
        return key % 100 == 1 ? (key / 100 - 1) * 100 + 12 : key - 1;
    case CB_PERIOD_QUARTER:
        return key % 10 == 1 ? (key / 10 - 1) * 10 + 4 : key - 1;
    case CB_PERIOD_YEAR:
        return key - 1;
    default:
        return 0;
    }
}

int32_t
cb_period_last_year(enum cb_period p, int32_t key)
{
    switch (p) {
    case CB_PERIOD_MONTH:   return key - 100;
    case CB_PERIOD_QUARTER: return key - 10;
    case CB_PERIOD_YEAR:    return key - 1;
    default:                return 0;
    }
}

/* Dense period index of a key (months since year 0, etc.). */
static int32_t
period_index(enum cb_period p, int32_t key)
{
    switch (p) {
    case CB_PERIOD_MONTH:   return (key / 100) * 12 + key % 100 - 1;
    case CB_PERIOD_QUARTER: return (key / 10) * 4 + key % 10 - 1;
    case CB_PERIOD_YEAR:    return key;
    default:                return 0;
    }
}

static int32_t
period_key_of_index(enum cb_period p, int32_t i)
{
    switch (p) {
    case CB_PERIOD_MONTH:   return (i / 12) * 100 + i % 12 + 1;
    case CB_PERIOD_QUARTER: return (i / 4) * 10 + i % 4 + 1;
    case CB_PERIOD_YEAR:    return i;
    default:                return 0;
    }
}

void
cb_engine_ref_release(struct cb_engine_ref *r)
{
    cb_free(r->weight);
    cb_free(r->mean_cost);
    cb_free(r->mean_los);
    cb_free(r->risk);
    memset(r, 0, sizeof *r);
}

/* ---- the fact store --------------------------------------------------- */

static void cube_apply(struct cb_engine *e, const struct cb_fact *f, int sign);
static void cube_free(struct cb_engine *e);

enum cb_err
cb_engine_new(struct cb_engine **out)
{
    *out = cb_calloc(1, sizeof **out);
    return *out ? CB_OK : CB_ERR_NOMEM;
}

void
cb_engine_free(struct cb_engine *e)
{
    if (!e)
        return;
    cube_free(e);
    cb_free(e->f);
    cb_free(e->slots);
    cb_free(e);
}

static inline size_t
hash_id(int64_t id)
{
    uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15u;
    return (size_t)(h ^ (h >> 29));
}

static size_t
find_slot(const struct cb_engine *e, int64_t id)
{
    size_t mask = e->nslots - 1;
    for (size_t i = hash_id(id) & mask;; i = (i + 1) & mask) {
        uint32_t v = e->slots[i];
        if (!v || e->f[v - 1].record_id == id)
            return i;
    }
}

static enum cb_err
rehash(struct cb_engine *e, size_t nslots)
{
    uint32_t *s = cb_calloc(nslots, sizeof *s);
    if (!s)
        return CB_ERR_NOMEM;
    cb_free(e->slots);
    e->slots = s;
    e->nslots = nslots;
    for (size_t i = 0; i < e->n; i++)
        e->slots[find_slot(e, e->f[i].record_id)] = (uint32_t)(i + 1);
    return CB_OK;
}

static enum cb_err
grow_to(struct cb_engine *e, size_t cap)
{
    if (cap <= e->cap)
        return CB_OK;
    struct cb_fact *p = cb_reallocarray(e->f, cap, sizeof *p);
    if (!p)
        return CB_ERR_NOMEM;
    e->f = p;
    e->cap = cap;
    return CB_OK;
}

enum cb_err
cb_engine_reserve(struct cb_engine *e, size_t n)
{
    if (e->n + n > UINT32_MAX - 1)
        return CB_ERR_TOO_LARGE;
    return grow_to(e, e->n + n);
}

enum cb_err
cb_engine_put(struct cb_engine *e, const struct cb_fact *f, size_t n)
{
    enum cb_err rc;
    if (e->n + n > UINT32_MAX - 1)
        return CB_ERR_TOO_LARGE;
    if (e->n + n > e->cap) {
        /* Grow by a sixteenth: the facts are the engine's memory, and an
           incremental update after a bulk load (which reserves its size)
           must not inflate it. */
        size_t cap = e->cap ? e->cap : 4096;
        while (cap < e->n + n)
            cap += cap / 16 + 4096;
        if ((rc = grow_to(e, cap)))
            return rc;
    }
    if ((e->n + n) * 2 > e->nslots) {
        size_t ns = e->nslots ? e->nslots : 8192;
        while ((e->n + n) * 2 > ns)
            ns *= 2;
        if ((rc = rehash(e, ns)))
            return rc;
    }
    for (size_t i = 0; i < n; i++) {
        size_t s = find_slot(e, f[i].record_id);
        if (e->slots[s]) {
            cube_apply(e, &e->f[e->slots[s] - 1], -1);
            e->f[e->slots[s] - 1] = f[i];
        } else {
            e->f[e->n] = f[i];
            e->slots[s] = (uint32_t)++e->n;
        }
        cube_apply(e, &f[i], 1);
        if (f[i].hospital > e->max_hospital) e->max_hospital = f[i].hospital;
        if (f[i].dept > e->max_dept) e->max_dept = f[i].dept;
        if (f[i].doctor > e->max_doctor) e->max_doctor = f[i].doctor;
        if (f[i].drg >= e->ndrg) e->ndrg = f[i].drg + 1;
        if (!e->has_days || f[i].day < e->min_day) e->min_day = f[i].day;
        if (!e->has_days || f[i].day > e->max_day) e->max_day = f[i].day;
        e->has_days = true;
    }
    return CB_OK;
}

void
cb_engine_remove(struct cb_engine *e, int64_t record_id)
{
    if (!e->nslots)
        return;
    size_t s = find_slot(e, record_id);
    if (!e->slots[s])
        return;
    size_t pos = e->slots[s] - 1;
    cube_apply(e, &e->f[pos], -1);
    /* Move the last fact into the hole, then rebuild the index (rare). */
    e->f[pos] = e->f[--e->n];
    if (rehash(e, e->nslots)) {
        /* keeps the old index on allocation failure: rebuild in place */
        memset(e->slots, 0, e->nslots * sizeof *e->slots);
        for (size_t i = 0; i < e->n; i++)
            e->slots[find_slot(e, e->f[i].record_id)] = (uint32_t)(i + 1);
    }
}

void
cb_engine_shrink(struct cb_engine *e)
{
    if (e->cap <= e->n + e->n / 64)
        return;
    struct cb_fact *p = cb_reallocarray(e->f, e->n ? e->n : 1, sizeof *p);
    if (p) {
        e->f = p;
        e->cap = e->n ? e->n : 1;
    }
}

size_t cb_engine_count(const struct cb_engine *e) { return e->n; }
int    cb_engine_ndrg(const struct cb_engine *e) { return e->ndrg; }

size_t
cb_engine_memory(const struct cb_engine *e)
{
    return sizeof *e + e->cap * sizeof *e->f + e->nslots * sizeof *e->slots +
           e->capcells * sizeof *e->cells + e->ncslots * sizeof *e->cslots +
           e->ntallies * sizeof(struct tally);
}

const struct cb_fact *
cb_engine_facts(const struct cb_engine *e, size_t *n)
{
    *n = e->n;
    return e->f;
}

/* ---- aggregation ------------------------------------------------------ */

struct part {
    const struct cb_engine       *e;
    const struct cb_engine_query *q;
    size_t   from, to;
    int32_t  pmin, nperiods;
    uint32_t nunits;
    int32_t *group;        /* unit * nperiods + p -> row index + 1 */
    struct cb_engine_row *rows;
    size_t   nrows, cap;
    uint64_t *bits;        /* ndrg_words per row */
    int      ndrg_words;
    const int32_t *day_period;  /* fact day - day0 -> period index - pmin */
    uint16_t day0;
    const struct prep_ref *pref;
    enum cb_err rc;
};

static uint32_t
unit_of(const struct cb_fact *f, enum cb_unit u)
{
    switch (u) {
    case CB_UNIT_HOSPITAL: return f->hospital;
    case CB_UNIT_DEPT:     return f->dept;
    case CB_UNIT_DOCTOR:   return f->doctor;
    default:               return 0;
    }
}

static struct cb_engine_row *
row_for(struct part *pt, const struct cb_fact *f, uint32_t unit, int32_t pi)
{
    size_t g = (size_t)unit * (size_t)pt->nperiods + (size_t)pi;
    int32_t r = pt->group[g];
    if (r)
        return &pt->rows[r - 1];
    if (pt->nrows == pt->cap) {
        size_t cap = pt->cap ? pt->cap * 2 : 256;
        struct cb_engine_row *rows = cb_reallocarray(pt->rows, cap, sizeof *rows);
        uint64_t *bits = rows ? cb_reallocarray(pt->bits, cap * (size_t)pt->ndrg_words + 1,
                                                sizeof *bits) : NULL;
        if (rows)
            pt->rows = rows;
        if (!bits) {
            pt->rc = CB_ERR_NOMEM;
            return NULL;
        }
        pt->bits = bits;
        pt->cap = cap;
    }
    struct cb_engine_row *row = &pt->rows[pt->nrows];
    memset(row, 0, sizeof *row);
    memset(pt->bits + pt->nrows * (size_t)pt->ndrg_words, 0,
           (size_t)pt->ndrg_words * sizeof *pt->bits);
    row->hospital = pt->q->unit == CB_UNIT_ALL ? 0 : f->hospital;
    row->dept = pt->q->unit == CB_UNIT_DEPT ? f->dept : 0;
    row->doctor = pt->q->unit == CB_UNIT_DOCTOR ? f->doctor : 0;
    row->period = period_key_of_index(pt->q->period, pt->pmin + pi);
    pt->group[g] = (int32_t)++pt->nrows;
    return row;
}

/*
 * The reference prepared once per query: reciprocals instead of divisions,
 * and each DRG's risk band as the index of its counter pair.
 */
struct prep_ref {
    int     ndrg;
    double *inv_cost, *inv_los, *weight;  /* NAN: no reference cases / weight */
    int8_t *band;                         /* counter of the band's n, or -1 ungraded */
};

static const int risk_counter[5] = { CB_C_risk0_n, CB_C_risk1_n, CB_C_risk2_n,
                                     CB_C_risk3_n, CB_C_risk4_n };

/* The counters of a fact that do not depend on the reference (the cube's
 * cells hold exactly these). */
static void
add_counters(int64_t *c, const struct cb_fact *f)
{
    uint32_t fl = f->flags;
    bool surg = fl & CB_FACT_SURGICAL;
    bool elective = fl & CB_FACT_ELECTIVE;
    bool death = fl & CB_FACT_DEATH;
    c[CB_C_n]++;
    c[CB_C_surgical] += surg;
    c[CB_C_elective_surgical] += surg && elective;
    bool s8 = surg && elective && !(fl & CB_FACT_OBST_NEONATAL);
    c[CB_C_s8_den] += s8;
    c[CB_C_s8_num] += s8 && (fl & CB_FACT_COMPLICATION);
    c[CB_C_day24] += !!(fl & CB_FACT_DAY_SURGERY);
    c[CB_C_day48] += !!(fl & CB_FACT_DAY_SURGERY_48);
    c[CB_C_mis] += !!(fl & CB_FACT_MIS);
    c[CB_C_level4] += !!(fl & CB_FACT_LEVEL4);
    c[CB_C_level4_proxy] += !!(fl & CB_FACT_LEVEL4_PROXY);
    c[CB_C_level3] += !!(fl & CB_FACT_LEVEL3);
    c[CB_C_level3_proxy] += !!(fl & CB_FACT_LEVEL3_PROXY);
    c[CB_C_incision_i] += !!(fl & CB_FACT_INCISION_I);
    c[CB_C_ssi_i] += !!(fl & CB_FACT_SSI_I);
    c[CB_C_deaths] += death;
    c[CB_C_los] += f->los;
    c[CB_C_zfy] += f->zfy;
    c[CB_C_drug] += f->drug;
    c[CB_C_material] += f->material;
    c[CB_C_down_referral] += !!(fl & CB_FACT_DOWN_REFERRAL);
    c[CB_C_down_transfer] += !!(fl & CB_FACT_DOWN_TRANSFER);
    c[CB_C_down_referrals] += !!(fl & (CB_FACT_DOWN_REFERRAL | CB_FACT_DOWN_TRANSFER));
    if (f->cohorts) {
        for (int k = 0; k < CB_COHORTS; k++)
            if (f->cohorts & (1u << k)) {
                int64_t *ck = c + CB_C_COHORT + 4 * k;
                ck[0]++;
                ck[1] += f->los;
                ck[2] += f->zfy;
                ck[3] += death;
            }
    }
    c[CB_C_grouped] += (fl & CB_FACT_GROUPED) && f->drg;
}

static void
add_fact(struct cb_agg *a, uint64_t *drgs, const struct cb_fact *f,
         const struct cb_engine_ref *ref)
{
    uint32_t fl = f->flags;
    int64_t *c = a->c;
    bool death = fl & CB_FACT_DEATH;
    add_counters(c, f);
    if (!(fl & CB_FACT_GROUPED) || !f->drg)
        return;
    if (drgs)
        drgs[f->drg >> 6] |= (uint64_t)1 << (f->drg & 63);
    if (!ref)
        return;
    if (f->drg >= ref->ndrg || isnan(ref->mean_cost[f->drg])) {
        c[CB_C_drg_skipped]++;
        return;
    }
    c[CB_C_drg_cases]++;
    a->r[CB_R_CEI] += (double)f->zfy / ref->mean_cost[f->drg];
    a->r[CB_R_TEI] += ref->mean_los[f->drg] > 0 ? (double)f->los / ref->mean_los[f->drg] : 0;
    double w = ref->weight[f->drg];
    if (!isnan(w)) {
        c[CB_C_weighted]++;
        c[CB_C_zfy_weighted] += f->zfy;
        a->r[CB_R_TW] += w;
    }
    switch (ref->risk[f->drg]) {
    case 0: c[CB_C_risk0_n]++; c[CB_C_risk0_deaths] += death; break;
    case 1: c[CB_C_risk1_n]++; c[CB_C_risk1_deaths] += death; break;
    case 2: c[CB_C_risk2_n]++; c[CB_C_risk2_deaths] += death; break;
    case 3: c[CB_C_risk3_n]++; c[CB_C_risk3_deaths] += death; break;
    case 4: c[CB_C_risk4_n]++; c[CB_C_risk4_deaths] += death; break;
    default: c[CB_C_ungraded]++; break;
    }
}

/* add_fact with the reference prepared (the query's hot loop). */
static void
add_fact_prep(struct cb_agg *a, uint64_t *drgs, const struct cb_fact *f,
              const struct prep_ref *p)
{
    add_fact(a, drgs, f, NULL);
    if (!p || !(f->flags & CB_FACT_GROUPED) || !f->drg)
        return;
    int64_t *c = a->c;
    if (f->drg >= p->ndrg || isnan(p->inv_cost[f->drg])) {
        c[CB_C_drg_skipped]++;
        return;
    }
    c[CB_C_drg_cases]++;
    a->r[CB_R_CEI] += (double)f->zfy * p->inv_cost[f->drg];
    a->r[CB_R_TEI] += (double)f->los * p->inv_los[f->drg];
    double w = p->weight[f->drg];
    if (!isnan(w)) {
        c[CB_C_weighted]++;
        c[CB_C_zfy_weighted] += f->zfy;
        a->r[CB_R_TW] += w;
    }
    int b = p->band[f->drg];
    if (b >= 0) {
        c[b]++;
        c[b + 1] += !!(f->flags & CB_FACT_DEATH);
    } else {
        c[CB_C_ungraded]++;
    }
}

/* ---- the cube --------------------------------------------------------- */

static uint16_t
month_of_day(uint16_t day)
{
    int y, m;
    ym_of_day(day, &y, &m);
    return (uint16_t)((y - 2000) * 12 + m - 1);
}

static inline size_t
hash_cell(uint16_t hospital, uint16_t dept, uint16_t month)
{
    uint64_t k = (uint64_t)hospital << 32 | (uint64_t)dept << 16 | month;
    return hash_id((int64_t)k);
}

static void
cube_free(struct cb_engine *e)
{
    for (size_t i = 0; i < e->ncells; i++)
        cb_free(e->cells[i].t);
    cb_free(e->cells);
    cb_free(e->cslots);
    e->cells = NULL;
    e->cslots = NULL;
    e->ncells = e->capcells = e->ncslots = e->ntallies = 0;
}

/* An allocation failed: the cube can no longer follow the facts, so it is
 * dropped and every query takes the full pass (same results, slower).
 * NEEDSWORK: rebuild it from the facts once memory is available. */
static void
cube_disable(struct cb_engine *e)
{
    cube_free(e);
    e->cube_off = true;
}

static enum cb_err
cube_rehash(struct cb_engine *e, size_t nslots)
{
    uint32_t *s = cb_calloc(nslots, sizeof *s);
    if (!s)
        return CB_ERR_NOMEM;
    cb_free(e->cslots);
    e->cslots = s;
    e->ncslots = nslots;
    size_t mask = nslots - 1;
    for (size_t i = 0; i < e->ncells; i++) {
        const struct cell *c = &e->cells[i];
        size_t j = hash_cell(c->hospital, c->dept, c->month) & mask;
        while (s[j])
            j = (j + 1) & mask;
        s[j] = (uint32_t)(i + 1);
    }
    return CB_OK;
}

/* The cell of a fact, created when absent; NULL when out of memory. */
static struct cell *
cell_of(struct cb_engine *e, const struct cb_fact *f)
{
    uint16_t month = month_of_day(f->day);
    size_t mask = e->ncslots - 1, j = 0;
    if (e->ncslots) {
        for (j = hash_cell(f->hospital, f->dept, month) & mask;; j = (j + 1) & mask) {
            uint32_t v = e->cslots[j];
            if (!v)
                break;
            struct cell *c = &e->cells[v - 1];
            if (c->hospital == f->hospital && c->dept == f->dept && c->month == month)
                return c;
        }
    }
    if (e->ncells == e->capcells) {
        size_t cap = e->capcells ? e->capcells * 2 : 256;
        struct cell *p = cb_reallocarray(e->cells, cap, sizeof *p);
        if (!p)
            return NULL;
        e->cells = p;
        e->capcells = cap;
    }
    if ((e->ncells + 1) * 2 > e->ncslots) {
        if (cube_rehash(e, e->ncslots ? e->ncslots * 2 : 1024))
            return NULL;
        mask = e->ncslots - 1;
        for (j = hash_cell(f->hospital, f->dept, month) & mask; e->cslots[j];
             j = (j + 1) & mask)
            ;
    }
    struct cell *c = &e->cells[e->ncells];
    memset(c, 0, sizeof *c);
    c->hospital = f->hospital;
    c->dept = f->dept;
    c->month = month;
    e->cslots[j] = (uint32_t)++e->ncells;
    return c;
}

/* The tally of a DRG in a cell, inserted in order when absent. */
static struct tally *
tally_of(struct cb_engine *e, struct cell *c, uint32_t drg)
{
    uint32_t lo = 0, hi = c->ntally;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->t[mid].drg < drg)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->ntally && c->t[lo].drg == drg)
        return &c->t[lo];
    if (c->ntally == c->captally) {
        uint32_t cap = c->captally ? c->captally + c->captally / 2 + 1 : 4;
        struct tally *t = cb_reallocarray(c->t, cap, sizeof *t);
        if (!t)
            return NULL;
        e->ntallies += cap - c->captally;
        c->t = t;
        c->captally = cap;
    }
    memmove(&c->t[lo + 1], &c->t[lo], (c->ntally - lo) * sizeof *c->t);
    memset(&c->t[lo], 0, sizeof *c->t);
    c->t[lo].drg = drg;
    c->ntally++;
    return &c->t[lo];
}

/* Adds (sign 1) or subtracts (sign -1) a fact's contribution to its cell. */
static void
cube_apply(struct cb_engine *e, const struct cb_fact *f, int sign)
{
    if (e->cube_off)
        return;
    struct cell *c = cell_of(e, f);
    if (!c) {
        cube_disable(e);
        return;
    }
    if (sign > 0) {
        add_counters(c->c, f);
    } else {
        int64_t d[CB_C__N];
        memset(d, 0, sizeof d);
        add_counters(d, f);
        for (int k = 0; k < CB_C__N; k++)
            c->c[k] -= d[k];
    }
    if (!(f->flags & CB_FACT_GROUPED) || !f->drg)
        return;
    struct tally *t = tally_of(e, c, f->drg);
    if (!t) {
        cube_disable(e);
        return;
    }
    t->n += sign;
    t->deaths += (f->flags & CB_FACT_DEATH) ? sign : 0;
    t->zfy += sign * (int64_t)f->zfy;
    t->los += sign * (int64_t)f->los;
}

/* Whether a query can be answered from the cells: not by doctor, and a day
 * range made of whole months (or not limiting the facts at all). */
static bool
cube_serves(const struct cb_engine *e, const struct cb_engine_query *q)
{
    if (e->cube_off || q->no_cube || q->unit == CB_UNIT_DOCTOR)
        return false;
    const char *env = getenv("CB_ENGINE_NO_CUBE");
    if (env && *env && strcmp(env, "0"))
        return false;
    uint16_t first, last;
    if (q->day_from > e->min_day) {
        cb_period_bounds(CB_PERIOD_MONTH, cb_period_key(CB_PERIOD_MONTH, q->day_from),
                         &first, &last);
        if (first != q->day_from)
            return false;
    }
    if (q->day_to < e->max_day) {
        cb_period_bounds(CB_PERIOD_MONTH, cb_period_key(CB_PERIOD_MONTH, q->day_to),
                         &first, &last);
        if (last != q->day_to)
            return false;
    }
    return true;
}

/* The query from the cells: each cell in the month range and the hospital
 * mask is added into its row, and the reference-dependent counters are
 * derived from its tallies. Department ids are interned per hospital, so a
 * department's rows carry its one hospital as the full pass does. */
static void
cube_run(struct part *pt, uint16_t mlo, uint16_t mhi)
{
    const struct cb_engine *e = pt->e;
    const struct cb_engine_query *q = pt->q;
    const struct prep_ref *p = pt->pref;
    for (size_t i = 0; i < e->ncells; i++) {
        const struct cell *cl = &e->cells[i];
        if (!cl->c[CB_C_n] || cl->month < mlo || cl->month > mhi)
            continue;
        if (q->hospitals && (cl->hospital >= q->nhospitals || !q->hospitals[cl->hospital]))
            continue;
        struct cb_fact probe = { .hospital = cl->hospital, .dept = cl->dept };
        uint32_t unit = q->unit == CB_UNIT_HOSPITAL ? cl->hospital
                      : q->unit == CB_UNIT_DEPT ? cl->dept : 0;
        int y = 2000 + cl->month / 12, m = cl->month % 12 + 1;
        int32_t key = q->period == CB_PERIOD_MONTH ? y * 100 + m
                    : q->period == CB_PERIOD_QUARTER ? y * 10 + (m - 1) / 3 + 1
                    : q->period == CB_PERIOD_YEAR ? y : 0;
        int32_t pi = period_index(q->period, key) - pt->pmin;
        struct cb_engine_row *row = row_for(pt, &probe, unit, pi);
        if (!row)
            return;
        int64_t *c = row->agg.c;
        double *r = row->agg.r;
        for (int k = 0; k < CB_C__N; k++)
            c[k] += cl->c[k];
        uint64_t *bits = pt->bits + (size_t)(row - pt->rows) * (size_t)pt->ndrg_words;
        for (uint32_t j = 0; j < cl->ntally; j++) {
            const struct tally *t = &cl->t[j];
            if (!t->n)
                continue;
            uint32_t g = t->drg;
            bits[g >> 6] |= (uint64_t)1 << (g & 63);
            if (!p)
                continue;
            if ((int)g >= p->ndrg || isnan(p->inv_cost[g])) {
                c[CB_C_drg_skipped] += t->n;
                continue;
            }
            c[CB_C_drg_cases] += t->n;
            r[CB_R_CEI] += (double)t->zfy * p->inv_cost[g];
            r[CB_R_TEI] += (double)t->los * p->inv_los[g];
            double w = p->weight[g];
            if (!isnan(w)) {
                c[CB_C_weighted] += t->n;
                c[CB_C_zfy_weighted] += t->zfy;
                r[CB_R_TW] += (double)t->n * w;
            }
            int b = p->band[g];
            if (b >= 0) {
                c[b] += t->n;
                c[b + 1] += t->deaths;
            } else {
                c[CB_C_ungraded] += t->n;
            }
        }
    }
}

void
cb_engine_drg_sums(const struct cb_engine *e, const struct cb_engine_query *q,
                   const uint8_t *depts, size_t ndepts, struct cb_engine_drg_sum *acc,
                   int64_t *total)
{
    struct cb_engine_query qq = *q;
    *total = 0;
    if (e->ndrg > 0)
        memset(acc, 0, (size_t)e->ndrg * sizeof *acc);
    if (!qq.day_from && !qq.day_to)
        qq.day_to = UINT16_MAX;
    qq.unit = CB_UNIT_ALL;
    uint16_t lo = e->min_day > qq.day_from ? e->min_day : qq.day_from;
    uint16_t hi = e->max_day < qq.day_to ? e->max_day : qq.day_to;
    if (!e->n || lo > hi)
        return;
    if (cube_serves(e, &qq)) {
        uint16_t mlo = month_of_day(lo), mhi = month_of_day(hi);
        for (size_t i = 0; i < e->ncells; i++) {
            const struct cell *cl = &e->cells[i];
            if (!cl->c[CB_C_n] || cl->month < mlo || cl->month > mhi)
                continue;
            if (qq.hospitals && (cl->hospital >= qq.nhospitals || !qq.hospitals[cl->hospital]))
                continue;
            if (depts && (cl->dept >= ndepts || !depts[cl->dept]))
                continue;
            *total += cl->c[CB_C_n];
            for (uint32_t j = 0; j < cl->ntally; j++) {
                const struct tally *t = &cl->t[j];
                struct cb_engine_drg_sum *a = &acc[t->drg];
                a->cases += t->n;
                a->deaths += t->deaths;
                a->los += t->los;
                a->zfy += t->zfy;
            }
        }
        return;
    }
    for (size_t i = 0; i < e->n; i++) {
        const struct cb_fact *x = &e->f[i];
        if (x->day < lo || x->day > hi)
            continue;
        if (qq.hospitals && (x->hospital >= qq.nhospitals || !qq.hospitals[x->hospital]))
            continue;
        if (depts && (x->dept >= ndepts || !depts[x->dept]))
            continue;
        ++*total;
        if (!(x->flags & CB_FACT_GROUPED) || !x->drg)
            continue;
        struct cb_engine_drg_sum *a = &acc[x->drg];
        a->cases++;
        a->deaths += !!(x->flags & CB_FACT_DEATH);
        a->los += x->los;
        a->zfy += x->zfy;
    }
}

void
cb_engine_fact_counters(const struct cb_fact *f, const struct cb_engine_ref *ref,
                        struct cb_agg *a)
{
    memset(a->c, 0, sizeof a->c);
    memset(a->r, 0, sizeof a->r);
    add_fact(a, a->drgs, f, ref);
}

static void *
run_part(void *arg)
{
    struct part *pt = arg;
    const struct cb_engine_query *q = pt->q;
    const struct cb_fact *f = pt->e->f;
    for (size_t i = pt->from; i < pt->to; i++) {
        const struct cb_fact *x = &f[i];
        if (x->day < q->day_from || x->day > q->day_to)
            continue;
        if (q->hospitals && (x->hospital >= q->nhospitals || !q->hospitals[x->hospital]))
            continue;
        int32_t pi = pt->day_period ? pt->day_period[x->day - pt->day0] : 0;
        struct cb_engine_row *row = row_for(pt, x, unit_of(x, q->unit), pi);
        if (!row)
            return NULL;
        add_fact_prep(&row->agg, pt->bits + (size_t)(row - pt->rows) * (size_t)pt->ndrg_words,
                      x, pt->pref);
    }
    return NULL;
}

static void
merge_into(struct part *dst, const struct part *src)
{
    for (size_t i = 0; i < src->nrows && !dst->rc; i++) {
        const struct cb_engine_row *s = &src->rows[i];
        struct cb_fact probe = { .hospital = s->hospital, .dept = s->dept,
                                 .doctor = s->doctor };
        uint32_t unit = dst->q->unit == CB_UNIT_HOSPITAL ? s->hospital
                      : dst->q->unit == CB_UNIT_DEPT ? s->dept
                      : dst->q->unit == CB_UNIT_DOCTOR ? s->doctor : 0;
        int32_t pi = period_index(dst->q->period, s->period) - dst->pmin;
        struct cb_engine_row *d = row_for(dst, &probe, unit, pi);
        if (!d)
            return;
        d->hospital = s->hospital;
        for (int k = 0; k < CB_C__N; k++)
            d->agg.c[k] += s->agg.c[k];
        for (int k = 0; k < CB_R__N; k++)
            d->agg.r[k] += s->agg.r[k];
        uint64_t *db = dst->bits + (size_t)(d - dst->rows) * (size_t)dst->ndrg_words;
        const uint64_t *sb = src->bits + i * (size_t)src->ndrg_words;
        for (int w = 0; w < dst->ndrg_words; w++)
            db[w] |= sb[w];
    }
}

static int
row_cmp(const void *a, const void *b)
{
    const struct cb_engine_row *x = a, *y = b;
    if (x->hospital != y->hospital) return x->hospital < y->hospital ? -1 : 1;
    if (x->dept != y->dept) return x->dept < y->dept ? -1 : 1;
    if (x->doctor != y->doctor) return x->doctor < y->doctor ? -1 : 1;
    return (x->period > y->period) - (x->period < y->period);
}

enum cb_err
cb_engine_query(const struct cb_engine *e, const struct cb_engine_query *q,
                struct cb_engine_result *out)
{
    memset(out, 0, sizeof *out);
    struct cb_engine_query qq = *q;
    if (!qq.day_from && !qq.day_to)
        qq.day_to = UINT16_MAX;

    /* Periods spanned: the tracked day bounds clipped to the range (no pass
       over the facts); a day -> period table makes the hot loop a lookup. */
    int32_t pmin = 0, pmax = 0;
    int32_t *day_period = NULL;
    uint16_t lo = e->min_day > qq.day_from ? e->min_day : qq.day_from;
    uint16_t hi = e->max_day < qq.day_to ? e->max_day : qq.day_to;
    if (!e->n || lo > hi)
        return CB_OK;  /* nothing in range: no rows */
    if (qq.period != CB_PERIOD_ALL) {
        pmin = period_index(qq.period, cb_period_key(qq.period, lo));
        pmax = period_index(qq.period, cb_period_key(qq.period, hi));
        day_period = cb_malloc(((size_t)(hi - lo) + 1) * sizeof *day_period);
        if (!day_period)
            return CB_ERR_NOMEM;
        for (uint32_t d = lo; d <= hi; d++)
            day_period[d - lo] = period_index(qq.period, cb_period_key(qq.period, (uint16_t)d)) - pmin;
        qq.day_from = lo;
        qq.day_to = hi;
    }
    struct prep_ref pref = { 0 };
    if (qq.ref) {
        int nd = qq.ref->ndrg;
        pref.ndrg = nd;
        pref.inv_cost = cb_malloc(((size_t)nd + 1) * sizeof(double));
        pref.inv_los = cb_malloc(((size_t)nd + 1) * sizeof(double));
        pref.weight = cb_malloc(((size_t)nd + 1) * sizeof(double));
        pref.band = cb_malloc((size_t)nd + 1);
        if (!pref.inv_cost || !pref.inv_los || !pref.weight || !pref.band) {
            cb_free(pref.inv_cost);
            cb_free(pref.inv_los);
            cb_free(pref.weight);
            cb_free(pref.band);
            cb_free(day_period);
            return CB_ERR_NOMEM;
        }
        for (int g = 0; g < nd; g++) {
            double mc = qq.ref->mean_cost[g], ml = qq.ref->mean_los[g];
            pref.inv_cost[g] = isnan(mc) ? NAN : 1.0 / mc;
            pref.inv_los[g] = ml > 0 ? 1.0 / ml : 0;
            pref.weight[g] = qq.ref->weight[g];
            int8_t r = qq.ref->risk[g];
            pref.band[g] = (int8_t)(r >= 0 && r <= 4 ? risk_counter[r] : -1);
        }
    }
    uint32_t nunits = qq.unit == CB_UNIT_HOSPITAL ? e->max_hospital + 1
                    : qq.unit == CB_UNIT_DEPT ? e->max_dept + 1
                    : qq.unit == CB_UNIT_DOCTOR ? e->max_doctor + 1 : 1;
    bool cube = cube_serves(e, &qq);
    int nthreads = qq.threads > 1 ? (qq.threads > 8 ? 8 : qq.threads) : 1;
    if (e->n < 200000 || cube)
        nthreads = 1;
    struct part parts[8];
    memset(parts, 0, sizeof parts);
    size_t ngroups = (size_t)nunits * (size_t)(pmax - pmin + 1);
    enum cb_err rc = CB_OK;
    for (int t = 0; t < nthreads; t++) {
        struct part *pt = &parts[t];
        pt->e = e;
        pt->q = &qq;
        pt->from = e->n * (size_t)t / (size_t)nthreads;
        pt->to = e->n * (size_t)(t + 1) / (size_t)nthreads;
        pt->pmin = pmin;
        pt->nperiods = pmax - pmin + 1;
        pt->nunits = nunits;
        pt->ndrg_words = (e->ndrg + 63) / 64 + 1;
        pt->day_period = day_period;
        pt->day0 = qq.day_from;
        pt->pref = qq.ref ? &pref : NULL;
        pt->group = cb_calloc(ngroups, sizeof *pt->group);
        if (!pt->group)
            rc = CB_ERR_NOMEM;
    }
    if (!rc && cube) {
        cube_run(&parts[0], month_of_day(lo), month_of_day(hi));
        rc = parts[0].rc;
    } else if (!rc) {
        pthread_t th[8];
        int started = 0;
        for (int t = 1; t < nthreads; t++)
            if (!pthread_create(&th[t], NULL, run_part, &parts[t]))
                started |= 1 << t;
            else
                run_part(&parts[t]);
        run_part(&parts[0]);
        for (int t = 1; t < nthreads; t++)
            if (started & (1 << t))
                pthread_join(th[t], NULL);
        for (int t = 0; t < nthreads; t++)
            if (parts[t].rc)
                rc = parts[t].rc;
        for (int t = 1; t < nthreads && !rc; t++) {
            merge_into(&parts[0], &parts[t]);
            rc = parts[0].rc;
        }
    }
    if (!rc) {
        struct part *p0 = &parts[0];
        /* Point each row at its bitset, then sort rows with their bitsets. */
        out->ndrg_words = p0->ndrg_words;
        out->nrows = p0->nrows;
        out->rows = p0->rows;
        out->bits = p0->bits;
        p0->rows = NULL;
        p0->bits = NULL;
        for (size_t i = 0; i < out->nrows; i++)
            out->rows[i].agg.drgs = out->bits + i * (size_t)out->ndrg_words;
        if (out->nrows)
            qsort(out->rows, out->nrows, sizeof *out->rows, row_cmp);
    }
    for (int t = 0; t < nthreads; t++) {
        cb_free(parts[t].group);
        cb_free(parts[t].rows);
        cb_free(parts[t].bits);
    }
    cb_free(day_period);
    cb_free(pref.inv_cost);
    cb_free(pref.inv_los);
    cb_free(pref.weight);
    cb_free(pref.band);
    return rc;
}

void
cb_engine_result_release(struct cb_engine_result *r)
{
    cb_free(r->rows);
    cb_free(r->bits);
    memset(r, 0, sizeof *r);
}
