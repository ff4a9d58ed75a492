/*
 * gen_error.c - realistic data-quality errors, one per chosen record, each
 * aimed at one rule of spec section b (severity E or W there), so that the
 * manifest can tell a test which rule the importer must report.
 *
 * Errors are applied to the filled text row (after the clean record was
 * built), never to the case model: readmissions and later records do not
 * depend on whether an error was injected. An injector only touches fields
 * the output dialect has columns for, and declines (returns false) when the
 * record offers no occasion for its error.
 */
#include "gen/gen_int.h"

/* ---- shared by the injectors (gen_error_clin.c too) ---- */

/* The output dialect has a column for f. */
bool
gen__can(const struct gen_ictx *x, int f)
{
    return x->g->want[f] != 0;
}

bool
gen__is_op(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY;
}

/* A procedure slot (1-based) matching pred, chosen at random; 0 if none. */
int
gen__pick_slot(const struct gen_ictx *x, bool (*pred)(const struct gen_proc *))
{
    int n = 0, i, k;

    for (i = 0; i < x->c->npx; i++)
        n += pred(&x->c->px[i]);
    if (n == 0)
        return 0;
    k = (int)cb_rng_below(x->r, (uint32_t)n);
    for (i = 0; i < x->c->npx; i++)
        if (pred(&x->c->px[i]) && k-- == 0)
            return i + 1;
    return 0;
}

bool
gen__surg_or_interv(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY || p->c->cat == CB_PXCAT_INTERVENTION;
}

bool
gen__not_surgical(const struct gen_proc *p)
{
    return !gen__surg_or_interv(p);
}

bool
gen__any_proc(const struct gen_proc *p)
{
    (void)p;
    return true;
}

/* Empties f (when present) and makes it the error field. */
bool
gen__unset_to(struct gen_ictx *x, int f)
{
    if (!gen__can(x, f) || !gen_has(x->g, f))
        return false;
    gen__unset(x->g, f);
    x->field = f;
    return true;
}

/* ---- dates, age, identity, format, costs ---- */

static bool
e_sjzyts(struct gen_ictx *x)
{
    /* counted both the day of admission and the day of discharge */
    gen__seti(x->g, CB_F_SJZYTS, x->c->los + 1);
    x->field = CB_F_SJZYTS;
    return true;
}

static bool
e_age(struct gen_ictx *x)
{
    int y1, y2, m, d, nl;

    if (x->c->age_y < 1)
        return false;
    cb_civil_from_days(x->c->pt.birth, &y1, &m, &d);
    cb_civil_from_days(cb_day_of(x->c->adm), &y2, &m, &d);
    nl = y2 - y1;   /* calendar years instead of completed years */
    if (nl == x->c->age_y)
        nl = x->c->age_y + 1;
    gen__seti(x->g, CB_F_NL, nl);
    x->field = CB_F_NL;
    return true;
}

static bool
e_age_days(struct gen_ictx *x)
{
    if (x->c->age_y != 0 || x->c->age_d <= 28)
        return false;
    return gen__unset_to(x, CB_F_BZYZS_NL);
}

static bool
e_bad_date(struct gen_ictx *x)
{
    char b[11];
    int y, m, d;

    if (!gen__can(x, CB_F_ZKRQ))
        return false;
    cb_civil_from_days(cb_day_of(x->c->dis) + 2, &y, &m, &d);
    /* a day that does not exist in its month */
    gen_putn(b, 0, (uint64_t)y, 4);
    b[4] = '-';
    if (m == 2 || cb_rng_chance(x->r, 0.3)) {
        memcpy(b + 5, "02-30", 5);
    } else {
        static const char *const m30[] = { "04", "06", "09", "11" };
        memcpy(b + 5, m30[cb_rng_below(x->r, 4)], 2);
        memcpy(b + 7, "-31", 3);
    }
    gen__setb(x->g, CB_F_ZKRQ, b, 10);
    x->field = CB_F_ZKRQ;
    return true;
}

static bool
e_zkrq_early(struct gen_ictx *x)
{
    if (!gen__can(x, CB_F_ZKRQ))
        return false;
    gen__setd(x->g, CB_F_ZKRQ, cb_day_of(x->c->dis) - cb_rng_range(x->r, 2, 20));
    x->field = CB_F_ZKRQ;
    return true;
}

static bool
e_px_late(struct gen_ictx *x)
{
    int f = cb_fp_px(1, CB_PX_DATE);

    if (x->c->npx == 0 || !gen__can(x, f))
        return false;
    gen__setdt(x->g, f, x->c->dis + 86400 * cb_rng_range(x->r, 1, 3));
    x->field = f;
    return true;
}

static bool
e_dup_key(struct gen_ictx *x)
{
    const struct gen_errstate *k = x->keys;
    int i;

    if (!k || k->n == 0)
        return false;
    i = (int)cb_rng_below(x->r, (uint32_t)k->n);
    if (k->bah[i] == x->c->bah && k->zycs[i] == x->c->zycs)
        return false;
    gen__seti(x->g, CB_F_BAH, k->bah[i]);
    gen__seti(x->g, CB_F_ZYCS, k->zycs[i]);
    x->field = CB_F_BAH;
    return true;
}

static bool
e_zycs_zero(struct gen_ictx *x)
{
    gen__setz(x->g, CB_F_ZYCS, "0");
    x->field = CB_F_ZYCS;
    return true;
}

static bool
e_required(struct gen_ictx *x)
{
    static const int f[] = { CB_F_XM, CB_F_CSD, CB_F_XZZ, CB_F_HKDZ, CB_F_DH,
        CB_F_GZDWJDZ, CB_F_LXRXM, CB_F_DZ, CB_F_DH1, CB_F_RYBF, CB_F_CYBF,
        CB_F_ZY, CB_F_HY, CB_F_MZ, CB_F_GG, CB_F_GX, CB_F_YLFKFS };
    int tries;

    for (tries = 0; tries < 6; tries++)
        if (gen__unset_to(x, f[cb_rng_below(x->r, sizeof(f) / sizeof(f[0]))]))
            return true;
    return false;
}

static bool
e_value_set(struct gen_ictx *x)
{
    static const struct { int f; const char *table, *bad; } v[] = {
        { CB_F_ZY, "RC003", "10" }, { CB_F_MZ, "RC035", "60" },
        { CB_F_XX, "RC030", "7" },  { CB_F_GX, "RC033", "10" },
    };
    size_t i = cb_rng_below(x->r, 4);

    if (!gen__can(x, v[i].f) ||
        cb_refdata_in_set(x->g->rd, CB_VS_WESTERN, v[i].table,
                          cb_str_c(v[i].bad)) ||
        cb_refdata_in_set(x->g->rd, CB_VS_TCM, v[i].table, cb_str_c(v[i].bad)))
        return false;
    gen__setz(x->g, v[i].f, v[i].bad);
    x->field = v[i].f;
    return true;
}

static bool
e_postcode(struct gen_ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_YB1];

    if (!gen__can(x, CB_F_YB1) || s.len != 6)
        return false;
    gen__setb(x->g, CB_F_YB1, s.ptr, 5);
    x->field = CB_F_YB1;
    return true;
}

static bool
e_sfzh(struct gen_ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_SFZH];
    char b[18];

    if (!gen__can(x, CB_F_SFZH) || s.len != 18)
        return false;
    memcpy(b, s.ptr, 18);
    b[17] = b[17] == '0' ? '1' : b[17] == 'X' ? '2' : b[17] == '9' ? 'X'
          : (char)(b[17] + 1);
    gen__setb(x->g, CB_F_SFZH, b, 18);
    x->field = CB_F_SFZH;
    return true;
}

static bool
e_dept(struct gen_ictx *x)
{
    static const char *const bad[] = { "0312", "0410", "0313", "2801" };
    const char *z = bad[cb_rng_below(x->r, 4)];

    if (cb_refdata_in_set(x->g->rd, CB_VS_WESTERN, "RC023", cb_str_c(z)))
        return false;
    gen__setz(x->g, CB_F_CYKB, z);
    x->field = CB_F_CYKB;
    return true;
}

static bool
e_total_low(struct gen_ictx *x)
{
    int64_t zfy = x->c->cost[CB_F_ZFY];
    int64_t cut = 100 + (int64_t)(zfy * (0.01 + 0.09 * cb_rng_unif(x->r)));

    if (zfy - cut <= 0)
        return false;
    gen__setm(x->g, CB_F_ZFY, zfy - cut);
    if (x->c->cost[CB_F_ZFJE] > zfy - cut)
        gen__setm(x->g, CB_F_ZFJE, zfy - cut);
    x->field = CB_F_ZFY;
    return true;
}

static bool
e_total_high(struct gen_ictx *x)
{
    int64_t zfy = x->c->cost[CB_F_ZFY];

    gen__setm(x->g, CB_F_ZFY, zfy + 100 + (int64_t)cb_rng_below(x->r, 50000));
    x->field = CB_F_ZFY;
    return true;
}

static bool
e_sub_item(struct gen_ictx *x)
{
    const int64_t *k = x->c->cost;
    double u = cb_rng_unif(x->r);

    if (u < 0.6 && k[CB_F_XYF] > 0) {
        gen__setm(x->g, CB_F_KJYWF,
                  k[CB_F_XYF] + 100 + cb_rng_below(x->r, 20000));
        x->field = CB_F_KJYWF;
    } else if (u < 0.8 && k[CB_F_FSSZLXMF] > 0) {
        gen__setm(x->g, CB_F_WLZLF, k[CB_F_FSSZLXMF] + 100 +
                 cb_rng_below(x->r, 20000));
        x->field = CB_F_WLZLF;
    } else if (k[CB_F_SSZLF] > 0) {
        gen__setm(x->g, CB_F_SSF, k[CB_F_SSZLF] - k[CB_F_MAF] + 100 +
                 cb_rng_below(x->r, 20000));
        x->field = CB_F_SSF;
    } else {
        return false;
    }
    return true;
}

static bool
e_oop(struct gen_ictx *x)
{
    gen__setm(x->g, CB_F_ZFJE, x->c->cost[CB_F_ZFY] + 100 +
             cb_rng_below(x->r, 100000));
    x->field = CB_F_ZFJE;
    return true;
}

static bool
e_no_maf(struct gen_ictx *x)
{
    if (!x->c->anaesthesia || x->c->cost[CB_F_MAF] <= 0)
        return false;
    gen__setm(x->g, CB_F_MAF, 0);
    x->field = CB_F_MAF;
    return true;
}


static bool
e_age_days_extra(struct gen_ictx *x)
{
    if (x->c->age_y < 1 || x->c->age_y > 5 || !gen__can(x, CB_F_BZYZS_NL))
        return false;
    gen__seti(x->g, CB_F_BZYZS_NL, x->c->age_d % 365);
    x->field = CB_F_BZYZS_NL;
    return true;
}

static bool
e_nursing_fee(struct gen_ictx *x)
{
    const int64_t *k = x->c->cost;

    if (x->c->los < 2 || k[CB_F_HLF] <= 0 || !gen__can(x, CB_F_HLF))
        return false;
    /* nursing billed under "other comprehensive services" */
    gen__setm(x->g, CB_F_QTFY, k[CB_F_QTFY] + k[CB_F_HLF]);
    gen__setm(x->g, CB_F_HLF, 0);
    x->field = CB_F_HLF;
    return true;
}

struct injector {
    const char *rule;
    uint16_t    w;
    bool      (*fn)(struct gen_ictx *x);
};

static const struct injector inj[] = {
    { "QC-DATE-02", 60, e_sjzyts },
    { "QC-DEM-01", 50, e_age },
    { "QC-DEM-02", 30, e_age_days },
    { "QC-FMT-01", 35, e_bad_date },
    { "QC-DATE-04", 15, e_zkrq_early },
    { "QC-DATE-03", 15, e_px_late },
    { "QC-ID-02", 40, e_dup_key },
    { "QC-ID-01", 10, e_zycs_zero },
    { "QC-REQ-01", 60, e_required },
    { "QC-FMT-02", 30, e_value_set },
    { "QC-FMT-03", 15, e_postcode },
    { "QC-FMT-04", 20, e_sfzh },
    { "QC-DEPT-01", 15, e_dept },
    { "QC-DX-01", 60, gen__e_dx_unknown },
    { "QC-DX-02", 25, gen__e_dx_poa },
    { "QC-DX-04", 40, gen__e_invalid_principal },
    { "QC-DX-05", 40, gen__e_no_external },
    { "QC-DX-06", 40, gen__e_no_morph },
    { "QC-DX-07", 40, gen__e_sex },
    { "QC-DX-03", 15, gen__e_dx_repeat },
    { "QC-PX-01", 45, gen__e_px_unknown },
    { "QC-PX-04", 40, gen__e_px_level },
    { "QC-PX-05", 30, gen__e_px_anaes },
    { "QC-PX-03", 25, gen__e_px_date },
    { "QC-PX-02", 15, gen__e_px_slot1 },
    { "QC-PX-07", 10, gen__e_px_level_unexpected },
    { "QC-NB-03", 40, gen__e_no_birth_weight },
    { "QC-NB-01", 30, gen__e_no_adm_weight },
    { "QC-NB-04", 15, gen__e_weight_range },
    { "QC-NB-05", 10, gen__e_weight_10g },
    { "QC-DIS-01", 40, gen__e_no_receiver },
    { "QC-DIS-04", 30, gen__e_no_purpose },
    { "QC-DIS-02", 20, gen__e_no_autopsy },          /* QC-DIS-02b unless TCM */
    { "QC-DIS-03", 10, gen__e_autopsy_alive },
    { "QC-ALG-01", 30, gen__e_allergy },
    { "QC-DOC-01", 30, gen__e_doctor },
    { "QC-COMA-01", 20, gen__e_coma },
    { "QC-BLD-01", 10, gen__e_blood_type },
    { "QC-COST-02", 50, e_total_low },
    { "QC-COST-03", 15, e_total_high },
    { "QC-COST-04", 40, e_sub_item },
    { "QC-COST-05", 30, e_oop },
    { "QC-COST-07", 10, e_no_maf },
    { "QC-COST-06", 10, e_nursing_fee },
    { "QC-DX-01b", 10, gen__e_dx_name },
    { "QC-DX-06b", 10, gen__e_morph_format },
    { "QC-PX-03b", 10, gen__e_px_date_other },
    { "QC-PX-04b", 10, gen__e_px_assistant },
    { "QC-PX-05b", 10, gen__e_px_anaesthetist },
    { "QC-PX-06", 10, gen__e_incision_zero_healed },
    { "QC-DEM-02b", 10, e_age_days_extra },
    { "QC-NB-02", 15, gen__e_adm_weight_infant },
    { "QC-NB-06", 10, gen__e_neonate_birth_weight },
    { "QC-NB-07", 10, gen__e_twin_weight },
    { "QC-COMA-02", 15, gen__e_coma_empty },
};

#define NINJ (sizeof(inj) / sizeof(inj[0]))

static const char *
rule_of(const struct cb_gen *g, size_t k)
{
    if (inj[k].fn == gen__e_no_autopsy && g->std != CB_STD_TCM)
        return "QC-DIS-02b";    /* a warning outside TCM files */
    return inj[k].rule;
}

const char *
gen__inject(struct cb_gen *g, struct gen_case *c, struct cb_rng *r,
           struct gen_errstate *st, int *field)
{
    struct gen_ictx x = { g, c, r, st, -1 };
    uint16_t w[NINJ];
    size_t i, k;
    int p;

    /* first the rules that waited for a fitting record */
    for (p = 0; p < st->npending; p++) {
        k = st->pending[p];
        if (inj[k].fn(&x) || ++st->tries[p] > 2000) {
            bool done = x.field >= 0;
            memmove(st->pending + p, st->pending + p + 1,
                    (size_t)(st->npending - p - 1) * sizeof(st->pending[0]));
            memmove(st->tries + p, st->tries + p + 1,
                    (size_t)(st->npending - p - 1) * sizeof(st->tries[0]));
            st->npending--;
            if (done) {
                *field = x.field;
                return rule_of(g, k);
            }
            p--;
        }
    }
    for (i = 0; i < NINJ; i++)
        w[i] = inj[i].w;
    k = cb_rng_pick_w(r, w, NINJ);
    if (inj[k].fn(&x)) {
        *field = x.field;
        return rule_of(g, k);
    }
    if (st->npending < GEN_PENDING) {
        st->pending[st->npending] = (uint8_t)k;
        st->tries[st->npending] = 0;
        st->npending++;
    }
    /*
     * This record still gets an error: draw without replacement until an
     * injector applies (by weight among the rules this record allows).
     */
    w[k] = 0;
    for (i = 1; i < NINJ; i++) {
        k = cb_rng_pick_w(r, w, NINJ);
        if (inj[k].fn(&x)) {
            *field = x.field;
            return rule_of(g, k);
        }
        w[k] = 0;
    }
    return NULL;
}
