/*
 * gen_clinical.c - the clinical course of one stay: principal diagnosis,
 * severity, admission route, procedures (with level, incision, healing and
 * anaesthesia), discharge disposition, secondary diagnoses with their
 * present-on-admission flags, departments and the staff who signed.
 */
#include <math.h>

#include "gen/gen_int.h"

/* ---- code attributes ---- */

static int
cat3(struct cb_str code, char letter, int lo, int hi)
{
    int n;

    if (code.len < 3 || code.ptr[0] != letter || code.ptr[1] < '0' ||
        code.ptr[1] > '9' || code.ptr[2] < '0' || code.ptr[2] > '9')
        return 0;
    n = (code.ptr[1] - '0') * 10 + (code.ptr[2] - '0');
    return n >= lo && n <= hi;
}

int
gen__code_sex(struct cb_str c)
{
    if (cat3(c, 'O', 0, 99) || cat3(c, 'N', 70, 98) || cat3(c, 'C', 51, 58) ||
        cat3(c, 'D', 6, 6) || cat3(c, 'D', 25, 28) || cat3(c, 'D', 39, 39) ||
        cat3(c, 'Z', 32, 37) || cat3(c, 'Z', 39, 39))
        return 2;
    if (cat3(c, 'N', 40, 51) || cat3(c, 'C', 60, 63) || cat3(c, 'D', 29, 29) ||
        cat3(c, 'D', 40, 40))
        return 1;
    if (cat3(c, 'D', 7, 7) && c.len >= 5 && c.ptr[4] >= '4' && c.ptr[4] <= '6')
        return 1;
    return 0;
}

static bool
sex_ok(const struct gen_code *code, int sex)
{
    int s = code ? gen__code_sex(code->code) : 0;

    return s == 0 || s == sex;
}

/* Picks from a pool, retrying codes that do not fit the patient's sex. */
static const struct gen_code *
pick_sex(const struct gen_pool *p, struct cb_rng *r, int sex)
{
    int tries;

    for (tries = 0; tries < 8; tries++) {
        const struct gen_code *c = gen__pool_pick(p, r);
        if (!c || sex_ok(c, sex))
            return c;
    }
    return NULL;
}

static bool
needs_morph(struct cb_str c)
{
    return (c.len > 0 && c.ptr[0] == 'C') || cat3(c, 'D', 0, 48);
}

const char *
gen__anaes_code(enum gen_anaes an, struct cb_rng *r)
{
    double u = cb_rng_unif(r);

    switch (an) {
    case AN_GA_OR_SPINAL:
        if (u < 0.55)
            return gen__anaes_code(AN_GA, r);
        return gen__anaes_code(AN_SPINAL, r);
    case AN_GA:
        return u < 0.45 ? "0103" : u < 0.80 ? "0102" : u < 0.95 ? "0101" : "01";
    case AN_SPINAL:
        return u < 0.40 ? "020103" : u < 0.70 ? "020101" : "020102";
    case AN_CSE:
        return u < 0.80 ? "020103" : u < 0.90 ? "020102" : "0103";
    case AN_NERVE:
        return u < 0.70 ? "020202" : u < 0.90 ? "020203" : "0103";
    case AN_TOPICAL:
        return u < 0.75 ? "0301" : "0302";
    case AN_LOCAL:
    case AN_NONE:
        return u < 0.85 ? "0302" : "0303";
    }
    return "0302";
}

/* ---- the course ---- */

static bool
level_allows(const struct gen_pxdef *d, int level)
{
    return d->only == 0 || (d->only == 1 && level == GEN_HUB) ||
           (d->only == 2 && level != GEN_COMMUNITY);
}

static void
choose_procedures(struct gen_case *c, struct cb_rng *r)
{
    const struct gen_arch *a = c->a;
    bool prev = false;
    int k;

    c->npx = 0;
    for (k = 0; k < a->npx && c->npx < GEN_MAX_PROCS; k++) {
        const struct gen_pxstep *st = &a->px[k];
        const struct gen_pxdef *d = st->def;
        const struct gen_pool *pool = &st->pool;
        struct gen_proc *p;
        bool happens;

        if (d->alt && prev) {
            prev = false;  /* the alternative is not taken */
            continue;
        }
        happens = level_allows(d, c->h->level) && pool->n > 0 &&
                  cb_rng_unif(r) * 100 < d->pct;
        prev = happens;
        if (!happens)
            continue;
        /* a day case uses a catalogue procedure for its main operation */
        if (c->day_surgery && c->npx == 0 && st->day.n > 0)
            pool = &st->day;
        p = &c->px[c->npx++];
        memset(p, 0, sizeof(*p));
        p->def = d;
        p->c = gen__pool_pick(pool, r);
        p->inc = -1;
        c->extra += d->extra;
        if (p->c->cat == CB_PXCAT_SURGERY ||
            p->c->cat == CB_PXCAT_INTERVENTION) {
            c->surgical = true;
            p->level = d->level ? d->level : 2;
            if (c->h->level == GEN_COMMUNITY && p->level > 2)
                p->level = 2;
        }
        if (p->c->cat == CB_PXCAT_SURGERY) {
            c->has_op = true;
            p->inc = d->inc;
            p->mzfs = gen__anaes_code((enum gen_anaes)d->an, r);
        } else if (p->c->cat == CB_PXCAT_INTERVENTION && d->an != AN_NONE) {
            p->mzfs = gen__anaes_code((enum gen_anaes)d->an, r);
        }
        if (p->mzfs) {
            c->anaesthesia = true;
            p->mzys = p->mzfs[0] != '0' || p->mzfs[1] != '3';
        }
        if (strncmp(p->c->code.ptr, "99.04", 5) == 0)
            c->blood = true;
        if (p->c->cat == CB_PXCAT_SURGERY && d->inc > 0)
            c->pathology = c->pathology || c->a->def->kind == K_ONCO_SURG ||
                           c->a->def->morph != NULL;
    }
    /* major operations are sometimes transfused without a coded procedure */
    if (c->has_op && !c->blood && c->px[0].level >= 4 && cb_rng_chance(r, 0.12))
        c->blood = true;
}

static int
death_pm_scale(const struct gen_case *c)
{
    /* The archetype rates are "would die in hospital"; many very ill
     * patients leave against advice instead (LYFS 4), so in-hospital deaths
     * are well below them (spec #14: most DRGs have low mortality). */
    static const double sevf[3] = { 0.1, 0.4, 1.6 };
    static const double levf[GEN_NLEVELS] = { 1.0, 0.85, 0.7 };
    double f = sevf[c->sev] * levf[c->h->level];

    if (c->age_y >= 85)
        f *= 2.0;
    else if (c->age_y >= 75)
        f *= 1.4;
    else if (c->age_y < 45 && c->a->def->age != AGE_NEONATE)
        f *= 0.4;
    return (int)(c->a->def->death * f);
}

static void
disposition(struct cb_gen *g, struct gen_case *c, struct cb_rng *r)
{
    const struct gen_archdef *d = c->a->def;
    const struct gen_hosp *h = c->h;
    double up = d->up_pct / 100.0;

    c->lyfs = 1;
    c->receiver = CB_STR_NULL;
    if (cb_rng_unif(r) * 10000 < death_pm_scale(c)) {
        c->lyfs = 5;
        return;
    }
    if (c->day_surgery)
        return;
    up *= c->sev == 2 ? 2.0 : c->sev == 1 ? 0.8 : 0.2;
    if (h->level != GEN_HUB && cb_rng_chance(r, up)) {
        /* up-referral: community -> district or hub, district -> hub */
        int to = 0;
        if (h->level == GEN_COMMUNITY && g->nhosp > 2 && cb_rng_chance(r, 0.4)) {
            int i;
            for (i = 1; i < g->nhosp; i++)
                if (g->hosp[i].level == GEN_DISTRICT &&
                    g->hosp[i].district == h->district)
                    to = i;
        }
        c->lyfs = 2;
        c->receiver = g->hosp[to].name;
        return;
    }
    if (h->level == GEN_HUB && c->sev == 2 && cb_rng_chance(r, 0.03)) {
        c->lyfs = 2;
        c->receiver = g->outside_tertiary;
        return;
    }
    if (h->level != GEN_COMMUNITY && cb_rng_unif(r) * 100 < d->down_pct) {
        /* down-referral to a primary-care member, else one outside */
        int i, n = 0, pick;
        for (i = 0; i < g->nhosp; i++)
            n += g->hosp[i].level == GEN_COMMUNITY;
        c->lyfs = 3;
        if (n == 0 || cb_rng_chance(r, 0.1)) {
            c->receiver = g->outside_primary;
            return;
        }
        pick = (int)cb_rng_below(r, (uint32_t)n);
        for (i = 0; i < g->nhosp; i++)
            if (g->hosp[i].level == GEN_COMMUNITY && pick-- == 0)
                c->receiver = g->hosp[i].name;
        return;
    }
    if (h->level == GEN_HUB && (c->sev > 0 || cb_rng_chance(r, 0.3)) &&
        cb_rng_unif(r) * 100 < d->down_pct * 0.3 && g->nhosp > 1) {
        c->lyfs = 2;  /* to a district member for continued care */
        c->receiver = g->hosp[1].name;
        return;
    }
    {
        double ama = 0.018 * (c->age_y >= 80 ? 1.8 : 1) *
                     (c->sev == 2 ? 3.0 : 1);
        if (cb_rng_chance(r, ama))
            c->lyfs = 4;
        else if (cb_rng_chance(r, 0.004))
            c->lyfs = 9;
    }
}

void
gen__course(struct cb_gen *g, struct gen_case *c, struct cb_rng *r)
{
    const struct gen_archdef *d = c->a->def;
    const struct gen_hosp *h = c->h;
    double u;
    int role;

    c->prin.c = pick_sex(&c->a->dx, r, c->pt.sex);
    if (!c->prin.c)
        c->prin.c = gen__pool_pick(&c->a->dx, r);
    c->prin.poa = 1;

    u = cb_rng_unif(r) * 100;
    c->sev = u < d->sev_pct ? 2 : u < d->sev_pct + 30 ? 1 : 0;
    if (c->age_y >= 80 && c->sev < 2 && cb_rng_chance(r, 0.15))
        c->sev++;

    /* admission route, canonical RC026: 1 emergency, 2 outpatient, 3 transfer */
    c->rytj = 2;
    if (cb_rng_unif(r) * 100 < d->emerg_pct * (c->sev == 2 ? 1.2 : 1.0))
        c->rytj = 1;
    else if (h->level != GEN_HUB && cb_rng_unif(r) * 100 < d->xin_pct)
        c->rytj = 3;
    else if (h->level == GEN_HUB && (c->sev == 2 || d->up_pct) &&
             cb_rng_chance(r, 0.06))
        c->rytj = 3;
    else if (cb_rng_chance(r, 0.005))
        c->rytj = 9;
    if (c->readmission && c->planned_this)
        c->rytj = 2;

    c->day_surgery = d->day_pct && c->rytj != 1 && h->level != GEN_COMMUNITY &&
                     cb_rng_unif(r) * 100 < d->day_pct;
    if (c->day_surgery)
        c->sev = 0;

    c->surgical = c->has_op = c->anaesthesia = c->blood = false;
    c->pathology = needs_morph(c->prin.c->code);
    c->extra = 0;
    choose_procedures(c, r);
    if (c->day_surgery && (c->npx == 0 || !c->surgical ||
                           !gen__is_day_surgery_code(g, c->px[0].c->code)))
        c->day_surgery = d->kind == K_DAY && c->npx > 0 &&
                         gen__is_day_surgery_code(g, c->px[0].c->code);

    /* departments: the ICU as a passage for some severe cases */
    role = d->role;
    c->dept = h->role_dept[role];
    c->dept_in = c->dept;
    c->icu = h->role_dept[R_ICU];
    if (c->icu >= 0 && h->dept[c->icu].role != R_ICU)
        c->icu = -1;
    c->via_icu = false;
    if (c->icu >= 0 && c->icu != c->dept &&
        (c->sev == 2 || (c->has_op && c->px[0].level >= 4)) &&
        cb_rng_chance(r, c->sev == 2 ? 0.3 : 0.15))
        c->via_icu = true;

    disposition(g, c, r);
    if (c->lyfs == 5 && c->via_icu && cb_rng_chance(r, 0.6))
        c->dept = c->icu;   /* died in the ICU */

    c->next_arch = -1;
    c->planned_next = false;
    if (c->lyfs != 5 && c->lyfs != 2 && cb_rng_unif(r) * 100 < d->readmit_pct) {
        c->planned_next = cb_rng_unif(r) * 100 < d->planned_pct;
        c->next_arch = c->planned_next && c->a->readmit >= 0 ? c->a->readmit
                                                             : c->ai;
    } else if (c->lyfs != 5 && cb_rng_chance(r, 0.01)) {
        c->planned_next = true;   /* planned, but back elsewhere or later */
    }
}

/* ---- timing of procedures, healing ---- */

void
gen__procedures_timed(struct cb_gen *g, struct gen_case *c, struct cb_rng *r)
{
    int64_t span = c->dis - c->adm, op = c->adm;
    int i;

    (void)g;
    for (i = 0; i < c->npx; i++) {
        struct gen_proc *p = &c->px[i];
        int64_t t;

        if (i == 0 && c->surgical) {
            if (c->day_surgery || c->rytj == 1 || span < 86400) {
                t = c->adm + 1800 + (int64_t)cb_rng_below(r, 4 * 3600);
            } else {
                int64_t day = cb_day_of(c->adm) + 1 + cb_rng_below(r, 2);
                t = day * 86400 + 8 * 3600 + (int64_t)cb_rng_below(r, 9 * 3600);
            }
            op = t;
        } else if (span > 86400) {
            /* tests and treatments on some day of the stay, in office hours */
            int64_t d0 = cb_day_of(c->adm), nd = cb_day_of(c->dis) - d0 + 1;
            t = (d0 + (int64_t)cb_rng_below(r, (uint32_t)nd)) * 86400 +
                8 * 3600 + (int64_t)cb_rng_below(r, 9 * 3600);
        } else if (span > 3600) {
            t = c->adm + 1800 + (int64_t)(cb_rng_unif(r) * (double)(span - 3600));
        } else {
            t = c->adm;
        }
        if (t > c->dis - 1800)
            t = c->dis - 1800 > c->adm ? c->dis - 1800 : c->adm;
        if (t < c->adm)
            t = c->adm;
        p->when = t - t % 60;
        if (p->when < c->adm)
            p->when = c->adm;
        if (p->inc > 0) {
            double u = cb_rng_unif(r);
            double ssi = p->inc == 1 ? 0.006 : p->inc == 2 ? 0.015 : 0.04;
            if (c->h->level == GEN_COMMUNITY)
                ssi *= 1.3;
            if (u < ssi) {
                p->heal = 3;
                c->ssi = true;
            } else if (u < ssi + 0.015) {
                p->heal = 2;
            } else if (c->dis - op < 3 * 86400 && cb_rng_chance(r, 0.3)) {
                p->heal = 4;   /* stitches not yet due at discharge */
            } else {
                p->heal = 1;
            }
        }
    }
}

/* ---- secondary diagnoses ---- */

static bool
same_category(struct cb_str a, struct cb_str b)
{
    return a.len >= 3 && b.len >= 3 && memcmp(a.ptr, b.ptr, 3) == 0;
}

static bool
add_dx(struct gen_case *c, const struct gen_code *code, int poa)
{
    int i;

    if (!code || c->nother >= GEN_MAX_OTHER_DX || !sex_ok(code, c->pt.sex))
        return false;
    if (same_category(code->code, c->prin.c->code))
        return false;
    for (i = 0; i < c->nother; i++)
        if (same_category(code->code, c->other[i].c->code))
            return false;
    c->other[c->nother].c = code;
    c->other[c->nother].poa = poa;
    c->nother++;
    return true;
}

static void
add_list(struct gen_case *c, const struct gen_seclist *l, double f,
         struct cb_rng *r)
{
    int i;

    for (i = 0; i < l->n; i++)
        if (cb_rng_unif(r) * 1000 < l->def[i].pm * f)
            add_dx(c, pick_sex(&l->pool[i], r, c->pt.sex), l->def[i].poa);
}

static int
birth_weight(struct cb_rng *r, double mean, double sd, int lo, int hi)
{
    double w = mean + sd * cb_rng_normal(r);

    if (w < lo)
        w = lo;
    if (w > hi)
        w = hi;
    return (int)(w / 10 + 0.5) * 10;
}

void
gen__diagnoses(struct cb_gen *g, struct gen_case *c, struct cb_rng *r)
{
    static const double levf[GEN_NLEVELS] = { 1.35, 0.9, 0.7 };
    const struct gen_arch *a = c->a;
    const struct gen_archdef *d = a->def;
    double agef;
    int i;

    c->nother = 0;
    c->nweights = 0;
    c->adm_weight = 0;
    if (cb_rng_chance(r, 0.04))
        c->prin.poa = cb_rng_chance(r, 0.8) ? 2 : 3;

    for (i = 0; i < a->nsec; i++) {
        double f = d->sec[i].poa == 1 && c->sev == 2 ? 1.6 : 1.0;
        if (cb_rng_unif(r) * 1000 < d->sec[i].pm * f * levf[c->h->level])
            add_dx(c, pick_sex(&a->sec[i], r, c->pt.sex), d->sec[i].poa);
    }

    if (d->kind == K_VAGINAL || d->kind == K_CSECTION) {
        /* outcome of delivery: single live birth, twins, stillbirth */
        double u = cb_rng_unif(r);
        const char *z = "Z37.000";
        int n = 1;
        if (u < (d->kind == K_CSECTION ? 0.03 : 0.008)) {
            z = "Z37.200";
            n = 2;
        } else if (u < 0.035) {
            z = "Z37.100";
            n = 0;
        }
        if (!add_dx(c, gen__pool_find(&g->misc, z), 1))
            n = 0;
        for (i = 0; i < n; i++)
            c->weights[c->nweights++] = n == 2
                ? birth_weight(r, 2450, 380, 1300, 3600)
                : birth_weight(r, 3300, 430, 1900, 4800);
    }
    if (d->kind == K_NEONATE) {
        struct cb_str p = c->prin.c->code;
        int bw;
        if (cb_str_starts(p, "P07.300x001"))
            bw = birth_weight(r, 1450, 220, 900, 1990);
        else if (cb_str_starts(p, "P07.100x004"))
            bw = birth_weight(r, 2100, 260, 1500, 2490);
        else if (cb_str_starts(p, "P07.3"))
            bw = birth_weight(r, 2250, 300, 1600, 2990);
        else
            bw = birth_weight(r, 3250, 420, 2300, 4600);
        c->weights[c->nweights++] = bw;
        if (c->age_d <= 3)
            c->adm_weight = (int)(bw * (1.0 - 0.02 * c->age_d) / 10) * 10;
        else
            c->adm_weight =
                (int)((bw * 0.95 + 22.0 * (c->age_d - 3)) / 10) * 10;
        if (c->adm_weight < 100)
            c->adm_weight = 100;
    }

    if (c->age_y >= 18) {
        agef = c->age_y < 30 ? 0.1 : c->age_y < 45 ? 0.35 : c->age_y < 60 ? 0.7
             : c->age_y < 75 ? 1.0 : 1.3;
        agef *= levf[c->h->level];
        if (d->kind == K_VAGINAL || d->kind == K_CSECTION)
            agef *= 0.3;
        add_list(c, &g->comorb, agef, r);
        add_list(c, c->pt.sex == 1 ? &g->comorb_m : &g->comorb_f, agef, r);
    }

    if (c->ssi)
        add_dx(c, gen__pool_pick(&g->ssi, r), 4);
    if (c->has_op) {
        double f = c->px[0].level >= 4 ? 2.5 : c->px[0].level == 3 ? 1.5 : 1.0;
        f *= c->sev == 2 ? 3.0 : c->sev == 1 ? 1.3 : 0.7;
        add_list(c, &g->comp_surg, f, r);
    } else if (d->kind != K_NEONATE && d->kind != K_VAGINAL) {
        double f = (c->los > 14 ? 2.0 : 1.0) * (c->sev == 2 ? 2.5 : 1.0);
        if (c->age_y >= 18)
            add_list(c, &g->comp_med, f, r);
    }
    if (c->lyfs == 5 && cb_rng_chance(r, 0.45))
        add_dx(c, gen__pool_find(&g->misc, "I46.900"), 4);
}

/* ---- text ---- */

static const struct gen_code *
morph_for(const struct cb_gen *g, const struct gen_case *c, struct cb_rng *r)
{
    static const struct { const char *site, *m; } site[] = {
        { "C22.0", "M81700/3" }, { "C15", "M80700/3" }, { "C50", "M85000/3" },
        { "C73", "M82600/3" },   { "C92", "M98610/3" }, { "D12", "M82100/0" },
        { "D24", "M90100/0" },   { "D25", "M88900/0" }, { "D34", "M83300/0" },
    };
    size_t i;

    for (i = 0; i < sizeof(site) / sizeof(site[0]); i++)
        if (cb_str_starts(c->prin.c->code, site[i].site)) {
            const struct gen_code *m = gen__pool_find(&g->morph_all, site[i].m);
            if (m)
                return m;
        }
    if (c->a->morph.n > 0)
        return gen__pool_pick(&c->a->morph, r);
    return gen__pool_find(&g->morph_all, "M81400/3");
}

static void
fill_staff(struct cb_gen *g, const struct gen_case *c, struct cb_rng *r)
{
    const struct gen_hosp *h = c->h;
    const struct gen_dept *dp = &h->dept[c->dept];
    struct cb_str zrys, zzys, zyys;
    int i;

    zrys = gen__staff(h, dp->zrys, dp->nzrys, r);
    zzys = gen__staff(h, dp->zzys, dp->nzzys, r);
    zyys = gen__staff(h, dp->zyys, dp->nzyys, r);
    gen__set(g, CB_F_KZR, dp->kzr);
    gen__set(g, CB_F_ZRYS, zrys);
    gen__set(g, CB_F_ZZYS, zzys);
    gen__set(g, CB_F_ZYYS, zyys);
    gen__set(g, CB_F_ZRHS, gen__staff(h, dp->hs, dp->nhs, r));
    if (h->njx && cb_rng_chance(r, h->level == GEN_HUB ? 0.2 : 0.05))
        gen__set(g, CB_F_JXYS, gen__staff(h, h->jx, h->njx, r));
    if (h->nsx && cb_rng_chance(r, h->level == GEN_HUB ? 0.3 : 0.08))
        gen__set(g, CB_F_SXYS, gen__staff(h, h->sx, h->nsx, r));
    gen__set(g, CB_F_BMY, gen__staff(h, h->bmy, h->nbmy, r));

    for (i = 0; i < c->npx; i++) {
        const struct gen_proc *p = &c->px[i];
        int n = i + 1;
        if (!p->level)
            continue;
        if (p->level >= 3) {
            gen__set(g, cb_fp_px(n, CB_PX_SZ),
                     cb_rng_chance(r, 0.3) ? dp->kzr : zrys);
            gen__set(g, cb_fp_px(n, CB_PX_YZ), zzys);
        } else {
            gen__set(g, cb_fp_px(n, CB_PX_SZ), zzys);
            gen__set(g, cb_fp_px(n, CB_PX_YZ), zyys);
        }
        gen__set(g, cb_fp_px(n, CB_PX_EZ), h->nsx && cb_rng_chance(r, 0.4)
                ? gen__staff(h, h->sx, h->nsx, r) : zyys);
    }
}

static void
fill_procedures(struct cb_gen *g, const struct gen_case *c, struct cb_rng *r)
{
    const struct gen_hosp *h = c->h;
    int i;

    for (i = 0; i < c->npx; i++) {
        const struct gen_proc *p = &c->px[i];
        int n = i + 1;

        gen__set(g, cb_fp_px(n, CB_PX_CODE), p->c->code);
        gen__set(g, cb_fp_px(n, CB_PX_NAME), p->c->name);
        gen__setdt(g, cb_fp_px(n, CB_PX_DATE), p->when);
        if (p->level)
            gen__seti(g, cb_fp_px(n, CB_PX_LEVEL), p->level);
        if (p->inc >= 0) {
            char qk[4];
            size_t qn = 0;
            gen__seti(g, cb_fp_px(n, CB_PX_QKDJ), p->inc);
            if (p->heal)
                gen__seti(g, cb_fp_px(n, CB_PX_QKYHLB), p->heal);
            qk[qn++] = (char)('0' + p->inc);
            qk[qn++] = '/';
            if (p->heal)
                qk[qn++] = (char)('0' + p->heal);
            gen__setb(g, cb_fp_px(n, CB_PX_QKYH), qk, qn);
        }
        if (p->mzfs) {
            gen__setz(g, cb_fp_px(n, CB_PX_MZFS), p->mzfs);
            if (p->mzys)
                gen__set(g, cb_fp_px(n, CB_PX_MZYS),
                        gen__staff(h, h->anaes, h->nanaes, r));
        }
    }
}

static void
fill_coma(struct cb_gen *g, const struct gen_case *c, struct cb_rng *r)
{
    int pre, post;   /* minutes */

    if (!cat3(c->prin.c->code, 'S', 0, 9))
        return;
    if (cb_str_starts(c->prin.c->code, "S06.0")) {
        pre = cb_rng_chance(r, 0.7) ? cb_rng_range(r, 1, 30) : 0;
        post = 0;
    } else if (c->sev == 2) {
        pre = cb_rng_range(r, 30, 3 * 1440);
        post = cb_rng_range(r, 60, 7 * 1440);
    } else {
        pre = cb_rng_range(r, 0, 360);
        post = cb_rng_chance(r, 0.3) ? cb_rng_range(r, 10, 720) : 0;
    }
    gen__seti(g, CB_F_RYQ_T, pre / 1440);
    gen__seti(g, CB_F_RYQ_XS, pre / 60 % 24);
    gen__seti(g, CB_F_RYQ_F, pre % 60);
    gen__seti(g, CB_F_RYH_T, post / 1440);
    gen__seti(g, CB_F_RYH_XS, post / 60 % 24);
    gen__seti(g, CB_F_RYH_F, post % 60);
}

void
gen__clinical_fill(struct cb_gen *g, const struct gen_case *c,
                  struct cb_rng *r)
{
    static const char *const allergens[] = {
        "青霉素", "头孢类", "磺胺类", "青霉素,头孢类", "阿莫西林", "碘造影剂",
        "链霉素", "青霉素,磺胺类", "布洛芬", "左氧氟沙星",
    };
    static const char *const purpose[] = {
        "按疗程化疗", "定期复查", "二期手术", "放疗", "复查评估后续治疗",
    };
    const struct gen_hosp *h = c->h;
    const struct gen_dept *din = &h->dept[c->dept_in];
    const struct gen_dept *dout = &h->dept[c->dept];
    const struct gen_code *mz;
    char b[64];
    size_t n;
    uint32_t ward;
    int i;

    /* admission and discharge */
    gen__seti(g, CB_F_RYTJ, c->rytj);
    gen__setdt(g, CB_F_RYSJ, c->adm);
    gen__setdt(g, CB_F_CYSJ, c->dis);
    if (g->want[CB_F_RYSJ_S]) {
        gen__seti(g, CB_F_RYSJ_S, (c->adm % 86400) / 3600);
        gen__seti(g, CB_F_CYSJ_S, (c->dis % 86400) / 3600);
    }
    gen__setz(g, CB_F_RYKB, din->code);
    ward = cb_rng_below(r, (uint32_t)din->nward);
    gen__set(g, CB_F_RYBF, din->ward[ward]);
    if (c->via_icu && c->icu >= 0) {
        if (c->dept == c->icu || c->dept == c->dept_in) {
            gen__setz(g, CB_F_ZKKB, h->dept[c->icu].code);
        } else {
            n = gen_putz(b, 0, h->dept[c->icu].code);
            b[n++] = ',';
            n = gen_putz(b, n, dout->code);
            gen__setb(g, CB_F_ZKKB, b, n);
        }
    } else if (c->dept != c->dept_in) {
        gen__setz(g, CB_F_ZKKB, dout->code);
    }
    gen__setz(g, CB_F_CYKB, dout->code);
    if (dout != din)
        ward = cb_rng_below(r, (uint32_t)dout->nward);
    gen__set(g, CB_F_CYBF, dout->ward[ward]);
    gen__seti(g, CB_F_SJZYTS, c->los);
    gen__seti(g, CB_F_LYFS, c->lyfs);
    if (c->lyfs == 2 || (c->lyfs == 3 && !g->want[CB_F_WSY_YLJG]))
        gen__set(g, CB_F_YZZY_YLJG, c->receiver);
    else if (c->lyfs == 3)
        gen__set(g, CB_F_WSY_YLJG, c->receiver);
    gen__setz(g, CB_F_SFZZYJH, c->planned_next ? "2" : "1");
    if (c->planned_next)
        gen__setz(g, CB_F_MD, c->a->def->kind == K_CHEMO || c->next_arch >= 0
                 ? purpose[c->a->readmit >= 0 ? 0 : 1 + cb_rng_below(r, 4)]
                 : purpose[1]);
    if (c->lyfs == 5)
        gen__setz(g, CB_F_SWHZSJ, cb_rng_chance(r, 0.08) ? "1" : "2");
    fill_coma(g, c, r);

    /* diagnoses */
    mz = c->prin.c;
    if (cb_rng_chance(r, 0.3))
        mz = pick_sex(&c->a->dx, r, c->pt.sex);
    if (!mz)
        mz = c->prin.c;
    gen__set(g, CB_F_MZZD_JBBM, mz->code);
    gen__set(g, CB_F_MZZD, mz->name);
    gen__set(g, CB_F_JBDM, c->prin.c->code);
    gen__set(g, CB_F_ZYZD, c->prin.c->name);
    gen__seti(g, CB_F_RYBQ, c->prin.poa);
    for (i = 0; i < c->nother; i++) {
        gen__set(g, cb_fp_dx(i + 1, CB_DX_CODE), c->other[i].c->code);
        gen__set(g, cb_fp_dx(i + 1, CB_DX_NAME), c->other[i].c->name);
        gen__seti(g, cb_fp_dx(i + 1, CB_DX_POA), c->other[i].poa);
    }
    if (c->prin.c->code.len && (c->prin.c->code.ptr[0] == 'S' ||
                                c->prin.c->code.ptr[0] == 'T')) {
        const struct gen_code *e = gen__pool_pick(&c->a->ext, r);
        if (e) {
            gen__set(g, CB_F_H23, e->code);
            gen__set(g, CB_F_WBYY, e->name);
        }
    }
    if (needs_morph(c->prin.c->code)) {
        const struct gen_code *m = morph_for(g, c, r);
        if (m) {
            int y, mo, d;
            gen__set(g, CB_F_JBMM, m->code);
            gen__set(g, CB_F_BLZD, m->name);
            cb_civil_from_days(cb_day_of(c->dis), &y, &mo, &d);
            n = gen_putn(b, 0, (uint64_t)y, 4);
            b[n++] = '-';
            n = gen_putn(b, n, cb_rng_below(r, 90000) + 10000, 5);
            gen__setb(g, CB_F_BLH, b, n);
        }
    }

    /* newborn weights */
    for (i = 0; i < c->nweights && i < 5; i++) {
        static const int wf[5] = { CB_F_XSECSTZ, CB_F_XSECSTZ2, CB_F_XSECSTZ3,
                                   CB_F_XSECSTZ4, CB_F_XSECSTZ5 };
        gen__seti(g, wf[i], c->weights[i]);
    }
    if (c->adm_weight)
        gen__seti(g, CB_F_XSERYTZ, c->adm_weight);

    /* allergy, blood group */
    if (cb_rng_chance(r, 0.06)) {
        gen__setz(g, CB_F_YWGM, "2");
        gen__setz(g, CB_F_GMYW, allergens[cb_rng_below(r, 10)]);
    } else {
        gen__setz(g, CB_F_YWGM, "1");
    }
    if (c->blood || cb_rng_chance(r, c->has_op ? 0.85 : 0.45)) {
        double u = cb_rng_unif(r);
        gen__setz(g, CB_F_XX, u < 0.28 ? "1" : u < 0.58 ? "2"
                            : u < 0.90 ? "3" : "4");
        gen__setz(g, CB_F_RH, cb_rng_chance(r, 0.004) ? "1" : "2");
    } else if (cb_rng_chance(r, 0.5)) {
        gen__setz(g, CB_F_XX, "5");
        gen__setz(g, CB_F_RH, "3");
    } else {
        gen__setz(g, CB_F_XX, "6");
        gen__setz(g, CB_F_RH, "4");
    }

    fill_procedures(g, c, r);
    fill_staff(g, c, r);

    /* record quality control */
    {
        double u = cb_rng_unif(r);
        gen__setz(g, CB_F_BAZL, u < 0.955 ? "1" : u < 0.995 ? "2" : "3");
    }
    gen__set(g, CB_F_ZKYS, gen__staff(h, h->zk, h->nzk, r));
    gen__set(g, CB_F_ZKHS, gen__staff(h, h->zkhs, h->nzkhs, r));
    if (cb_rng_chance(r, 0.9))
        gen__setd(g, CB_F_ZKRQ, cb_day_of(c->dis) + cb_rng_range(r, 0, 10));

    /* TCM-only items (only the TCM dialect has columns for them) */
    if (g->want[CB_F_ZLLB]) {
        bool tcm = h->dept[c->dept].role == R_TCM;
        /* A copy of the stream: dialects must not shift later draws. */
        struct cb_rng rt = *r;
        gen__setz(g, CB_F_ZLLB, tcm ? "2" : "3");
        gen__setz(g, CB_F_SSLCLJ, cb_rng_chance(&rt, 0.2) ? "2" : "3");
        gen__setz(g, CB_F_ZYYJ, tcm ? "1" : "2");
        gen__setz(g, CB_F_ZYZLSB, tcm ? "1" : "2");
        gen__setz(g, CB_F_ZYZLJS, tcm ? "1" : "2");
        gen__setz(g, CB_F_BZSH, tcm ? "1" : "2");
    }
}
