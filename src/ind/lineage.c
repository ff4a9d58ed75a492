/*
 * lineage.c - which facts a counter counts (see lineage.h): one pass over
 * the engine's facts, each one's counters computed alone with
 * cb_engine_fact_counters, the same code the aggregation runs.
 *
 * Paging keeps the offset + limit smallest record ids in a max-heap, so a
 * page near the start of a long list costs a pass and a small heap, not
 * an array of every case.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/lineage.h"

/* ---- counters ---------------------------------------------------------------- */

void
cb_counter_describe(int id, struct cb_counter_info *c)
{
    static const char *const names[CB_C__INT] = {
#define X(name) #name,
        CB_COUNTERS(X)
#undef X
    };
    static const char *const cohort_suffix[4] = { "n", "los", "zfy", "deaths" };
    static const char *const real_names[CB_R__N] = { "tw", "cei", "tei" };

    memset(c, 0, sizeof *c);
    c->id = id;
    c->kind = CB_CK_COUNT;
    if (id >= 0 && id < CB_C__INT) {
        snprintf(c->name, sizeof c->name, "%s", names[id]);
        if (id == CB_C_zfy || id == CB_C_drug || id == CB_C_material ||
            id == CB_C_zfy_weighted)
            c->kind = CB_CK_MONEY;
        else if (id == CB_C_los)
            c->kind = CB_CK_DAYS;
    } else if (id >= CB_C_COHORT && id < CB_C__N) {
        int k = (id - CB_C_COHORT) / 4, s = (id - CB_C_COHORT) % 4;
        snprintf(c->name, sizeof c->name, "cohort%d_%s", k + 1, cohort_suffix[s]);
        c->kind = s == 1 ? CB_CK_DAYS : s == 2 ? CB_CK_MONEY : CB_CK_COUNT;
    } else if (id < 0 && id >= -CB_R__N) {
        snprintf(c->name, sizeof c->name, "%s", real_names[-id - 1]);
        c->kind = CB_CK_REAL;
    } else {
        snprintf(c->name, sizeof c->name, "drg_count");
    }
}

double
cb_counter_shown(const struct cb_counter_info *c, double v)
{
    return c->kind == CB_CK_MONEY ? v / 100.0 : v;
}

void
cb_counter_format(const struct cb_counter_info *c, double v, char *buf, size_t n)
{
    switch (c->kind) {
    case CB_CK_MONEY: snprintf(buf, n, "%.2f", v / 100.0); break;
    case CB_CK_REAL:  snprintf(buf, n, "%.12g", v); break;
    case CB_CK_COUNT:
    case CB_CK_DAYS:  snprintf(buf, n, "%.0f", v); break;
    }
}

const char *
cb_counter_unit(const struct cb_counter_info *c, bool zh)
{
    switch (c->kind) {
    case CB_CK_MONEY: return zh ? "元" : "yuan";
    case CB_CK_DAYS:  return zh ? "天" : "days";
    case CB_CK_REAL:  return c->id == -(1 + CB_R_TW) ? (zh ? "权重" : "weight")
                                                     : (zh ? "比值" : "ratio");
    case CB_CK_COUNT: return zh ? "例" : "cases";
    }
    return "";
}

/* ---- selection ------------------------------------------------------------- */

static bool
admits(const uint8_t *mask, size_t n, uint32_t id)
{
    return !mask || (id < n && mask[id]);
}

static int
cmp_hit(const void *a, const void *b)
{
    int64_t x = ((const struct cb_lineage_hit *)a)->record_id;
    int64_t y = ((const struct cb_lineage_hit *)b)->record_id;
    return (x > y) - (x < y);
}

/* The max-heap of the kept cases, by record id (h[0] the largest). */
static void
heap_sift_down(struct cb_lineage_hit *h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n && h[l].record_id > h[m].record_id)
            m = l;
        if (r < n && h[r].record_id > h[m].record_id)
            m = r;
        if (m == i)
            return;
        struct cb_lineage_hit t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

static void
heap_push(struct cb_lineage_hit *h, size_t n, struct cb_lineage_hit x)
{
    size_t i = n;

    h[i] = x;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p].record_id >= h[i].record_id)
            return;
        struct cb_lineage_hit t = h[i];
        h[i] = h[p];
        h[p] = t;
        i = p;
    }
}

/* Keeps x: every case (keep 0), or the keep smallest ids. */
static enum cb_err
keep_hit(struct cb_lineage *l, size_t *cap, size_t keep, struct cb_lineage_hit x)
{
    if (keep && l->nhits == keep) {
        if (x.record_id >= l->hits[0].record_id)
            return CB_OK;
        l->hits[0] = x;
        heap_sift_down(l->hits, l->nhits, 0);
        return CB_OK;
    }
    if (l->nhits == *cap) {
        size_t ncap = *cap ? *cap * 2 : 1024;
        if (keep && ncap > keep)
            ncap = keep;
        struct cb_lineage_hit *h = cb_reallocarray(l->hits, ncap, sizeof *h);
        if (!h)
            return CB_ERR_NOMEM;
        l->hits = h;
        *cap = ncap;
    }
    if (keep)
        heap_push(l->hits, l->nhits++, x);
    else
        l->hits[l->nhits++] = x;
    return CB_OK;
}

void
cb_lineage_release(struct cb_lineage *l)
{
    cb_free(l->hits);
    cb_free(l->total.drgs);
    memset(l, 0, sizeof *l);
}

uint8_t *
cb_lineage_name_mask(char *const *names, int n, const char *want, int *matches)
{
    uint8_t *m = cb_calloc((size_t)n + 1, 1);

    *matches = 0;
    if (!m)
        return NULL;
    for (int i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], want)) {
            m[i] = 1;
            (*matches)++;
        }
    return m;
}

enum cb_err
cb_lineage_select(const struct cb_engine *e, const struct cb_lineage_scope *s,
                  const struct cb_engine_ref *ref, int counter, struct cb_lineage *out)
{
    size_t nf, cap = 0, keep = 0;
    const struct cb_fact *f = cb_engine_facts(e, &nf);
    struct cb_agg a;
    enum cb_err rc = CB_OK;

    memset(out, 0, sizeof *out);
    memset(&a, 0, sizeof a);
    if (s->limit) {
        keep = s->offset + s->limit;
        if (keep < s->limit)          /* overflow: keep them all */
            keep = 0;
    }
    out->words = (cb_engine_ndrg(e) + 63) / 64 + 1;
    out->total.drgs = cb_calloc((size_t)out->words, sizeof(uint64_t));
    a.drgs = cb_calloc((size_t)out->words, sizeof(uint64_t));
    if (!out->total.drgs || !a.drgs) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < nf; i++) {
        const struct cb_fact *x = &f[i];
        if (x->day < s->day_from || x->day > s->day_to ||
            !admits(s->hospitals, s->nhospitals, x->hospital) ||
            !admits(s->depts, s->ndepts, x->dept) ||
            !admits(s->doctors, s->ndoctors, x->doctor))
            continue;
        cb_engine_fact_counters(x, ref, &a);
        double v = cb_agg_value(&a, counter, out->words);
        for (int k = 0; k < CB_C__N; k++)
            out->total.c[k] += a.c[k];
        for (int k = 0; k < CB_R__N; k++)
            out->total.r[k] += a.r[k];
        if (x->drg) {
            size_t w = x->drg >> 6;
            out->total.drgs[w] |= a.drgs[w];
            a.drgs[w] = 0;
        }
        if (!(v > 0))
            continue;
        out->count++;
        out->sum += v;
        if ((rc = keep_hit(out, &cap, keep,
                           (struct cb_lineage_hit){ .record_id = x->record_id, .contrib = v })))
            goto out;
    }
    if (out->nhits)
        qsort(out->hits, out->nhits, sizeof *out->hits, cmp_hit);
    if (keep && s->offset) {
        size_t drop = s->offset < out->nhits ? s->offset : out->nhits;
        memmove(out->hits, out->hits + drop, (out->nhits - drop) * sizeof *out->hits);
        out->nhits -= drop;
    }
out:
    cb_free(a.drgs);
    return rc;
}
