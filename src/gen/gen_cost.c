/*
 * gen_cost.c - length of stay and the cost of a stay, broken down over the
 * 24 numbered items of spec a.10 so that they add up exactly to ZFY (fen),
 * with every 其中 sub-item within its parent and the out-of-pocket part
 * within the total.
 *
 * Total cost is log-normal around the archetype's median, scaled by level,
 * severity and length of stay, plus the procedures' own costs (implants and
 * devices mostly go to the surgical consumables item). Bed and nursing fees
 * follow the number of days; the rest is shared by weights typical of the
 * kind of stay.
 */
#include <math.h>

#include "gen/gen_int.h"

int
gen__los(const struct cb_gen *g, const struct gen_case *c, struct cb_rng *r)
{
    static const double levf[GEN_NLEVELS] = { 1.0, 0.95, 1.15 };
    static const double sevf[3] = { 0.85, 1.15, 1.7 };
    const struct gen_archdef *d = c->a->def;
    double med = d->los * levf[c->h->level] * sevf[c->sev], los;

    (void)g;
    if (c->day_surgery)
        return cb_rng_chance(r, 0.45) ? 0 : 1;
    los = gen__lognormal(r, med, d->los_sd);
    if (c->lyfs == 5)
        los *= 0.15 + cb_rng_unif(r);
    else if (c->lyfs == 4)
        los *= 0.3 + 0.5 * cb_rng_unif(r);
    else if (c->lyfs == 2)
        los *= 0.25 + 0.5 * cb_rng_unif(r);
    if (c->via_icu)
        los *= 1.4;
    if (los > 180)
        los = 180;
    if (los < 1 && c->lyfs != 5 && c->lyfs != 4 && c->lyfs != 2)
        los = 1;
    return (int)(los + 0.5);
}

/* Share items, in this order. */
enum {
    I_ZLCZF, I_QTFY, I_SYSZDF, I_YXXZDF, I_LCZDXMF, I_FSSZLXMF, I_SSZLF,
    I_KFF, I_ZYZLF, I_XYF, I_ZCYF, I_ZCYF1, I_HCYYCLF, I_YYCLF,
    I_YCXYYCLF, I_QTF, NSHARE
};

static const int share_field[NSHARE] = {
    CB_F_ZLCZF, CB_F_QTFY, CB_F_SYSZDF, CB_F_YXXZDF, CB_F_LCZDXMF,
    CB_F_FSSZLXMF, CB_F_SSZLF, CB_F_KFF, CB_F_ZYZLF, CB_F_XYF, CB_F_ZCYF,
    CB_F_ZCYF1, CB_F_HCYYCLF, CB_F_YYCLF, CB_F_YCXYYCLF, CB_F_QTF,
};

/* Share weights by enum gen_kind. */
static const uint8_t shares[][NSHARE] = {
    /* ZLCZ QTFY SYS YXX LCZD FSS SSZL KFF ZYZL XYF ZCYF ZCY1 HCY YYCL YCX QTF */
    [K_MED] =      { 8, 1, 18, 9, 5, 6, 0, 1, 1, 36, 5, 1, 2, 6, 0, 1 },
    [K_SURG] =     { 6, 1, 12, 6, 3, 3, 18, 1, 1, 22, 2, 1, 2, 5, 16, 1 },
    [K_ONCO_SURG] ={ 6, 1, 12, 6, 3, 3, 16, 1, 1, 24, 2, 1, 2, 5, 18, 1 },
    [K_CHEMO] =    { 5, 1, 12, 8, 2, 10, 0, 0, 1, 52, 3, 1, 1, 5, 0, 1 },
    [K_VAGINAL] =  { 12, 1, 15, 6, 6, 8, 10, 0, 1, 20, 3, 0, 3, 10, 4, 1 },
    [K_CSECTION] = { 8, 1, 14, 5, 4, 4, 20, 0, 1, 22, 2, 0, 2, 7, 10, 1 },
    [K_NEONATE] =  { 12, 1, 20, 6, 4, 18, 0, 0, 0, 18, 1, 0, 3, 8, 0, 1 },
    [K_TRAUMA] =   { 6, 1, 10, 10, 2, 3, 16, 2, 1, 20, 3, 1, 2, 5, 25, 1 },
    [K_HEAD] =     { 8, 1, 14, 14, 4, 6, 4, 1, 1, 32, 4, 1, 2, 6, 0, 1 },
    [K_ICU] =      { 12, 1, 18, 6, 4, 14, 0, 0, 0, 35, 1, 0, 3, 10, 0, 1 },
    [K_INTERV] =   { 4, 1, 8, 3, 6, 2, 10, 0, 0, 18, 2, 0, 1, 3, 45, 1 },
    [K_REHAB] =    { 6, 1, 8, 5, 2, 10, 0, 28, 12, 22, 6, 2, 1, 3, 0, 1 },
    [K_DAY] =      { 4, 1, 15, 4, 20, 15, 0, 0, 0, 20, 1, 0, 6, 10, 0, 1 },
};

static int64_t
yuan(struct cb_rng *r, double lo, double hi)
{
    return (int64_t)((lo + (hi - lo) * cb_rng_unif(r)) * 100.0);
}

static bool
infection_case(const struct gen_case *c)
{
    static const char *const ids[] = { "pneu_adult", "pneu_child", "copd",
        "uti", "sepsis", "appendicitis", "cholecyst", "abscess",
        "bronch_child", "bronch_adult", "neo_resp", "pancreatitis" };
    size_t i;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (strcmp(c->a->def->id, ids[i]) == 0)
            return true;
    return false;
}

static double
zfje_share(struct cb_rng *r, int pay)
{
    static const double lo[12] = { .12, .40, .28, .45, .30, .50, .03, .30, 0, 1,
                                   .15, .40 };
    static const double hi[12] = { .30, .75, .50, .75, .50, .80, .12, 1, .05, 1,
                                   .40, 1 };
    int i = pay >= 0 && pay < 12 ? pay : 11;

    return lo[i] + (hi[i] - lo[i]) * cb_rng_unif(r);
}

void
gen__costs(struct cb_gen *g, struct gen_case *c, struct cb_rng *r)
{
    static const double levf[GEN_NLEVELS] = { 1.0, 0.62, 0.38 };
    static const double levx[GEN_NLEVELS] = { 1.0, 0.85, 0.7 };
    static const double sevf[3] = { 0.85, 1.25, 2.1 };
    static const double bed[GEN_NLEVELS] = { 80, 55, 35 };
    static const double nurse[GEN_NLEVELS] = { 40, 28, 18 };
    const struct gen_archdef *d = c->a->def;
    int lvl = c->h->level, los = c->los > 0 ? c->los : 1, i, big = I_XYF;
    double ratio = (double)los / d->los, total, w[NSHARE], wsum = 0;
    int64_t T, fixed = 0, R, used = 0, *k = c->cost;
    int64_t ex_op = 0, ex_t = 0, ex_d = 0;

    (void)g;
    memset(c->cost, 0, sizeof(c->cost));
    if (ratio < 0.2)
        ratio = 0.2;
    if (ratio > 6)
        ratio = 6;
    total = d->cost * levf[lvl] * sevf[c->sev] * pow(ratio, 0.55) *
            gen__lognormal(r, 1.0, 0.25);
    if (c->day_surgery)
        total *= 0.85;
    for (i = 0; i < c->npx; i++) {
        const struct gen_proc *p = &c->px[i];
        int64_t x = (int64_t)(p->def->extra * levx[lvl] *
                              gen__lognormal(r, 1.0, 0.12) * 100.0);
        if (p->c->cat == CB_PXCAT_SURGERY || p->c->cat == CB_PXCAT_INTERVENTION)
            ex_op += x;
        else if (p->c->cat == CB_PXCAT_THERAPEUTIC)
            ex_t += x;
        else
            ex_d += x;
    }
    T = (int64_t)(total * 100.0);
    if (T < 30000)
        T = 30000 + (int64_t)cb_rng_below(r, 20000);

    /* items that follow days or events */
    k[CB_F_YLFUF] = (int64_t)(los * bed[lvl] * (0.85 + 0.4 * cb_rng_unif(r)) *
                              100);
    k[CB_F_HLF] = (int64_t)(los * nurse[lvl] * (0.8 + 0.5 * cb_rng_unif(r)) *
                            100);
    if (c->via_icu) {
        k[CB_F_YLFUF] += yuan(r, 600, 2400);
        k[CB_F_HLF] += yuan(r, 400, 1600);
    }
    if (c->pathology)
        k[CB_F_BLZDF] = yuan(r, 180, 1500);
    if (c->blood)
        k[CB_F_XF] = yuan(r, 350, 4000);
    if ((c->sev == 2 || (c->has_op && c->px[0].level >= 4) ||
         strcmp(d->id, "cirrhosis") == 0) && cb_rng_chance(r, 0.3))
        k[CB_F_BDBLZPF] = yuan(r, 800, 8000);
    if (cb_rng_chance(r, 0.01))
        k[CB_F_QDBLZPF] = yuan(r, 1500, 10000);
    if (cb_rng_chance(r, 0.003))
        k[CB_F_NXYZLZPF] = yuan(r, 500, 3000);
    if (d->kind == K_CHEMO && cb_rng_chance(r, 0.35))
        k[CB_F_XBYZLZPF] = yuan(r, 300, 3000);
    for (i = 0; i < CB_F__SCALARS; i++)
        fixed += k[i];
    if (fixed > T * 6 / 10) {
        /* keep the structure: the total grows a little instead */
        T = fixed * 10 / 6 + 1;
    }
    T += ex_op + ex_t + ex_d;

    /* weights of the shared items */
    for (i = 0; i < NSHARE; i++) {
        w[i] = shares[d->kind][i] * gen__lognormal(r, 1.0, 0.3);
        if (shares[d->kind][i] == 0)
            w[i] = 0;
    }
    if (!c->surgical && !c->anaesthesia && d->kind != K_VAGINAL &&
        d->kind != K_HEAD) {
        w[I_SSZLF] = 0;
        w[I_YCXYYCLF] = 0;
    }
    if ((c->surgical || c->anaesthesia) && w[I_SSZLF] < 5)
        w[I_SSZLF] = 8 * gen__lognormal(r, 1.0, 0.2);
    if (c->surgical && w[I_YCXYYCLF] < 4)
        w[I_YCXYYCLF] = 10 * gen__lognormal(r, 1.0, 0.3);
    if (!cb_rng_chance(r, 0.6))
        w[I_ZCYF] = 0;
    if (!cb_rng_chance(r, 0.12))
        w[I_ZCYF1] = 0;
    if (c->h->dept[c->dept].role == R_TCM || d->kind == K_REHAB) {
        w[I_ZYZLF] = 15 * gen__lognormal(r, 1.0, 0.3);
        w[I_ZCYF1] = 6 * gen__lognormal(r, 1.0, 0.3);
    } else if (!cb_rng_chance(r, 0.25)) {
        w[I_ZYZLF] = 0;
    }
    if (w[I_HCYYCLF] + w[I_YYCLF] <= 0)
        w[I_YYCLF] = 1;
    for (i = 0; i < NSHARE; i++)
        wsum += w[i];

    R = T - fixed - ex_op - ex_t - ex_d;
    for (i = 0; i < NSHARE; i++) {
        int64_t v = (int64_t)((double)R * w[i] / wsum);
        k[share_field[i]] += v;
        used += v;
    }
    k[share_field[big]] += R - used;   /* rounding rest: western drugs */
    /* procedure costs: devices and fees */
    {
        int64_t dev = ex_op * (c->has_op ? 55 : 70) / 100;
        k[CB_F_YCXYYCLF] += dev;
        k[CB_F_SSZLF] += ex_op - dev;
        k[CB_F_FSSZLXMF] += ex_t;
        k[CB_F_LCZDXMF] += ex_d;
    }
    /* the operation fee needs some room when there was an operation */
    if ((c->surgical || c->anaesthesia) && k[CB_F_SSZLF] < 20000) {
        int64_t need = 20000 - k[CB_F_SSZLF];
        if (k[CB_F_XYF] > need * 2) {
            k[CB_F_XYF] -= need;
            k[CB_F_SSZLF] += need;
        }
    }
    k[CB_F_ZFY] = T;

    /* 其中 sub-items */
    if (k[CB_F_FSSZLXMF] > 0) {
        double f = d->kind == K_REHAB || d->role == R_ORTHO || d->role == R_TCM
                   ? 0.3 + 0.4 * cb_rng_unif(r)
                   : cb_rng_chance(r, 0.2) ? 0.15 * cb_rng_unif(r) : 0;
        k[CB_F_WLZLF] = (int64_t)(k[CB_F_FSSZLXMF] * f);
    }
    if (c->anaesthesia && k[CB_F_SSZLF] > 1) {
        k[CB_F_MAF] = (int64_t)(k[CB_F_SSZLF] * (0.12 + 0.23 * cb_rng_unif(r)));
        if (k[CB_F_MAF] < 1)
            k[CB_F_MAF] = 1;
    }
    if ((c->has_op || c->surgical) && k[CB_F_SSZLF] - k[CB_F_MAF] > 1) {
        k[CB_F_SSF] = (int64_t)((k[CB_F_SSZLF] - k[CB_F_MAF]) *
                                (0.55 + 0.35 * cb_rng_unif(r)));
        if (k[CB_F_SSF] < 1)
            k[CB_F_SSF] = 1;
    }
    if (k[CB_F_XYF] > 0) {
        double f = infection_case(c) ? 0.25 + 0.3 * cb_rng_unif(r)
                 : c->has_op ? 0.06 + 0.14 * cb_rng_unif(r)
                 : cb_rng_chance(r, 0.6) ? 0.08 * cb_rng_unif(r) : 0;
        k[CB_F_KJYWF] = (int64_t)(k[CB_F_XYF] * f);
    }
    /* TCM dialect items: 中医类 split and its sub-items */
    if (k[CB_F_ZYZLF] > 0) {
        int64_t z = k[CB_F_ZYZLF];
        k[CB_F_ZYL_ZYZD] = z / 10;
        k[CB_F_ZYZL] = (int64_t)(z * (0.65 + 0.15 * cb_rng_unif(r)));
        k[CB_F_ZYQT] = z - k[CB_F_ZYL_ZYZD] - k[CB_F_ZYZL];
        k[CB_F_ZCYJF] = (int64_t)(k[CB_F_ZYZL] * 0.6 * cb_rng_unif(r));
        k[CB_F_ZYTNZL] = (int64_t)((k[CB_F_ZYZL] - k[CB_F_ZCYJF]) * 0.5 *
                                   cb_rng_unif(r));
        k[CB_F_BZLZF] = (int64_t)(k[CB_F_YLFUF] * 0.15 * cb_rng_unif(r));
    }
    if (k[CB_F_ZCYF] > 0 && cb_rng_chance(r, 0.3))
        k[CB_F_ZYZJF] = (int64_t)(k[CB_F_ZCYF] * 0.3 * cb_rng_unif(r));

    c->pay = gen__pay_index(g, &c->pt, c->age_y);
    k[CB_F_ZFJE] = c->pay == GEN_PAY_SELF ? T
                 : (int64_t)(T * zfje_share(r, c->pay));
    if (k[CB_F_ZFJE] > T)
        k[CB_F_ZFJE] = T;
}


void
gen__costs_fill(struct cb_gen *g, const struct gen_case *c)
{
    static const int other[] = {
        CB_F_ZFY, CB_F_ZFJE, CB_F_WLZLF, CB_F_MAF, CB_F_SSF, CB_F_KJYWF,
    };
    static const int tcm[] = {
        CB_F_BZLZF, CB_F_ZYL_ZYZD, CB_F_ZYZL, CB_F_ZCYJF, CB_F_ZYTNZL,
        CB_F_ZYQT, CB_F_ZYZJF,
    };
    size_t i;

    for (i = 0; i < 24; i++)
        gen__setm(g, cb_fp_cost_items[i], c->cost[cb_fp_cost_items[i]]);
    for (i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        gen__setm(g, other[i], c->cost[other[i]]);
    for (i = 0; i < sizeof(tcm) / sizeof(tcm[0]); i++)
        if (g->want[tcm[i]])
            gen__setm(g, tcm[i], c->cost[tcm[i]]);
}
