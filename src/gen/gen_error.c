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

struct ictx {
    struct cb_gen            *g;
    struct gen_case          *c;
    struct gen_rng           *r;
    const struct gen_errstate *keys;
    int                       field;   /* out: the field that carries the error */
};

static bool
can(const struct ictx *x, int f)
{
    return x->g->want[f] != 0;
}

static bool
is_op(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY;
}

/* A procedure slot (1-based) matching pred, chosen at random; 0 if none. */
static int
pick_slot(const struct ictx *x, bool (*pred)(const struct gen_proc *))
{
    int n = 0, i, k;

    for (i = 0; i < x->c->npx; i++)
        n += pred(&x->c->px[i]);
    if (n == 0)
        return 0;
    k = (int)gen_below(x->r, (uint32_t)n);
    for (i = 0; i < x->c->npx; i++)
        if (pred(&x->c->px[i]) && k-- == 0)
            return i + 1;
    return 0;
}

static bool
surg_or_interv(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY || p->c->cat == CB_PXCAT_INTERVENTION;
}

static bool
not_surgical(const struct gen_proc *p)
{
    return !surg_or_interv(p);
}

static bool
any_proc(const struct gen_proc *p)
{
    (void)p;
    return true;
}

static bool
unset_to(struct ictx *x, int f)
{
    if (!can(x, f) || !gen_has(x->g, f))
        return false;
    gen_unset(x->g, f);
    x->field = f;
    return true;
}

/* ---- dates, age ---- */

static bool
e_sjzyts(struct ictx *x)
{
    /* counted both the day of admission and the day of discharge */
    gen_seti(x->g, CB_F_SJZYTS, x->c->los + 1);
    x->field = CB_F_SJZYTS;
    return true;
}

static bool
e_age(struct ictx *x)
{
    int y1, y2, m, d, nl;

    if (x->c->age_y < 1)
        return false;
    cb_civil_from_days(x->c->pt.birth, &y1, &m, &d);
    cb_civil_from_days(cb_day_of(x->c->adm), &y2, &m, &d);
    nl = y2 - y1;   /* calendar years instead of completed years */
    if (nl == x->c->age_y)
        nl = x->c->age_y + 1;
    gen_seti(x->g, CB_F_NL, nl);
    x->field = CB_F_NL;
    return true;
}

static bool
e_age_days(struct ictx *x)
{
    if (x->c->age_y != 0 || x->c->age_d <= 28)
        return false;
    return unset_to(x, CB_F_BZYZS_NL);
}

static bool
e_bad_date(struct ictx *x)
{
    char b[11];
    int y, m, d;

    if (!can(x, CB_F_ZKRQ))
        return false;
    cb_civil_from_days(cb_day_of(x->c->dis) + 2, &y, &m, &d);
    /* a day that does not exist in its month */
    gen_putn(b, 0, (uint64_t)y, 4);
    b[4] = '-';
    if (m == 2 || gen_chance(x->r, 0.3)) {
        memcpy(b + 5, "02-30", 5);
    } else {
        static const char *const m30[] = { "04", "06", "09", "11" };
        memcpy(b + 5, m30[gen_below(x->r, 4)], 2);
        memcpy(b + 7, "-31", 3);
    }
    gen_setb(x->g, CB_F_ZKRQ, b, 10);
    x->field = CB_F_ZKRQ;
    return true;
}

static bool
e_zkrq_early(struct ictx *x)
{
    if (!can(x, CB_F_ZKRQ))
        return false;
    gen_setd(x->g, CB_F_ZKRQ, cb_day_of(x->c->dis) - gen_range(x->r, 2, 20));
    x->field = CB_F_ZKRQ;
    return true;
}

static bool
e_px_late(struct ictx *x)
{
    int f = cb_fp_px(1, CB_PX_DATE);

    if (x->c->npx == 0 || !can(x, f))
        return false;
    gen_setdt(x->g, f, x->c->dis + 86400 * gen_range(x->r, 1, 3));
    x->field = f;
    return true;
}

/* ---- identity, format ---- */

static bool
e_dup_key(struct ictx *x)
{
    const struct gen_errstate *k = x->keys;
    int i;

    if (!k || k->n == 0)
        return false;
    i = (int)gen_below(x->r, (uint32_t)k->n);
    if (k->bah[i] == x->c->bah && k->zycs[i] == x->c->zycs)
        return false;
    gen_seti(x->g, CB_F_BAH, k->bah[i]);
    gen_seti(x->g, CB_F_ZYCS, k->zycs[i]);
    x->field = CB_F_BAH;
    return true;
}

static bool
e_zycs_zero(struct ictx *x)
{
    gen_setz(x->g, CB_F_ZYCS, "0");
    x->field = CB_F_ZYCS;
    return true;
}

static bool
e_required(struct ictx *x)
{
    static const int f[] = { CB_F_XM, CB_F_CSD, CB_F_XZZ, CB_F_HKDZ, CB_F_DH,
        CB_F_GZDWJDZ, CB_F_LXRXM, CB_F_DZ, CB_F_DH1, CB_F_RYBF, CB_F_CYBF,
        CB_F_ZY, CB_F_HY, CB_F_MZ, CB_F_GG, CB_F_GX, CB_F_YLFKFS };
    int tries;

    for (tries = 0; tries < 6; tries++)
        if (unset_to(x, f[gen_below(x->r, sizeof(f) / sizeof(f[0]))]))
            return true;
    return false;
}

static bool
e_value_set(struct ictx *x)
{
    static const struct { int f; const char *table, *bad; } v[] = {
        { CB_F_ZY, "RC003", "10" }, { CB_F_MZ, "RC035", "60" },
        { CB_F_XX, "RC030", "7" },  { CB_F_GX, "RC033", "10" },
    };
    size_t i = gen_below(x->r, 4);

    if (!can(x, v[i].f) ||
        cb_refdata_in_set(x->g->rd, CB_VS_WESTERN, v[i].table,
                          cb_str_c(v[i].bad)) ||
        cb_refdata_in_set(x->g->rd, CB_VS_TCM, v[i].table, cb_str_c(v[i].bad)))
        return false;
    gen_setz(x->g, v[i].f, v[i].bad);
    x->field = v[i].f;
    return true;
}

static bool
e_postcode(struct ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_YB1];

    if (!can(x, CB_F_YB1) || s.len != 6)
        return false;
    gen_setb(x->g, CB_F_YB1, s.ptr, 5);
    x->field = CB_F_YB1;
    return true;
}

static bool
e_sfzh(struct ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_SFZH];
    char b[18];

    if (!can(x, CB_F_SFZH) || s.len != 18)
        return false;
    memcpy(b, s.ptr, 18);
    b[17] = b[17] == '0' ? '1' : b[17] == 'X' ? '2' : b[17] == '9' ? 'X'
          : (char)(b[17] + 1);
    gen_setb(x->g, CB_F_SFZH, b, 18);
    x->field = CB_F_SFZH;
    return true;
}

static bool
e_dept(struct ictx *x)
{
    static const char *const bad[] = { "0312", "0410", "0313", "2801" };
    const char *z = bad[gen_below(x->r, 4)];

    if (cb_refdata_in_set(x->g->rd, CB_VS_WESTERN, "RC023", cb_str_c(z)))
        return false;
    gen_setz(x->g, CB_F_CYKB, z);
    x->field = CB_F_CYKB;
    return true;
}

/* ---- diagnoses ---- */

/* Writes an unknown variant of code into field f (old 4-character form). */
static bool
mangle_dx(struct ictx *x, int f)
{
    struct cb_str s = x->g->row.v[f];
    char b[24];
    size_t n;

    if (!can(x, f) || s.len < 5 || s.len > 20)
        return false;
    n = 5;                              /* "J18.900" -> "J18.9" */
    memcpy(b, s.ptr, n);
    if (cb_refdata_dx(x->g->rd, cb_str_make(b, n), NULL)) {
        memcpy(b + n, "99", 2);         /* "J18.999" */
        n += 2;
        if (cb_refdata_dx(x->g->rd, cb_str_make(b, n), NULL))
            return false;
    }
    gen_setb(x->g, f, b, n);
    x->field = f;
    return true;
}

static bool
e_dx_unknown(struct ictx *x)
{
    if (x->c->nother > 0 && gen_chance(x->r, 0.5))
        return mangle_dx(x, cb_fp_dx(1 + (int)gen_below(x->r,
                                     (uint32_t)x->c->nother), CB_DX_CODE));
    return mangle_dx(x, CB_F_JBDM);
}

static bool
e_dx_poa(struct ictx *x)
{
    if (x->c->nother == 0)
        return false;
    return unset_to(x, cb_fp_dx(1 + (int)gen_below(x->r,
                                (uint32_t)x->c->nother), CB_DX_POA));
}

static bool
e_invalid_principal(struct ictx *x)
{
    struct cb_gen *g = x->g;
    int i;

    /* delivery coded with the outcome first: Z37 as principal */
    for (i = 0; i < x->c->nother; i++)
        if (cb_str_starts(x->c->other[i].c->code, "Z37")) {
            int f = cb_fp_dx(i + 1, CB_DX_CODE);
            if (!can(x, f))
                return false;
            gen_set(g, f, x->c->prin.c->code);
            gen_set(g, cb_fp_dx(i + 1, CB_DX_NAME), x->c->prin.c->name);
            gen_set(g, CB_F_JBDM, x->c->other[i].c->code);
            gen_set(g, CB_F_ZYZD, x->c->other[i].c->name);
            x->field = CB_F_JBDM;
            return true;
        }
    /* injury coded with the external cause first */
    if (gen_has(g, CB_F_H23) && x->c->nother < CB_FP_MAX_DX &&
        can(x, cb_fp_dx(x->c->nother + 1, CB_DX_CODE))) {
        int n = x->c->nother + 1;
        gen_set(g, cb_fp_dx(n, CB_DX_CODE), x->c->prin.c->code);
        gen_set(g, cb_fp_dx(n, CB_DX_NAME), x->c->prin.c->name);
        gen_setz(g, cb_fp_dx(n, CB_DX_POA), "1");
        gen_set(g, CB_F_JBDM, g->row.v[CB_F_H23]);
        gen_set(g, CB_F_ZYZD, g->row.v[CB_F_WBYY]);
        x->field = CB_F_JBDM;
        return true;
    }
    return false;
}

static bool
e_no_external(struct ictx *x)
{
    if (!gen_has(x->g, CB_F_H23) || !can(x, CB_F_H23))
        return false;
    gen_unset(x->g, CB_F_WBYY);
    return unset_to(x, CB_F_H23);
}

static bool
e_no_morph(struct ictx *x)
{
    if (!gen_has(x->g, CB_F_JBMM))
        return false;
    if (gen_chance(x->r, 0.25))
        return unset_to(x, CB_F_BLH);
    gen_unset(x->g, CB_F_BLZD);
    return unset_to(x, CB_F_JBMM);
}

static bool
e_sex(struct ictx *x)
{
    int i, s = gen_code_sex(x->c->prin.c->code);

    for (i = 0; i < x->c->nother && !s; i++)
        s = gen_code_sex(x->c->other[i].c->code);
    if (!s)
        return false;
    gen_setz(x->g, CB_F_XB, s == 2 ? "1" : "2");
    x->field = CB_F_XB;
    return true;
}

static bool
e_dx_repeat(struct ictx *x)
{
    int n = x->c->nother + 1;

    if (n > CB_FP_MAX_DX || !can(x, cb_fp_dx(n, CB_DX_CODE)))
        return false;
    gen_set(x->g, cb_fp_dx(n, CB_DX_CODE), x->c->prin.c->code);
    gen_set(x->g, cb_fp_dx(n, CB_DX_NAME), x->c->prin.c->name);
    gen_setz(x->g, cb_fp_dx(n, CB_DX_POA), "1");
    x->field = cb_fp_dx(n, CB_DX_CODE);
    return true;
}

/* ---- procedures ---- */

static bool
e_px_unknown(struct ictx *x)
{
    int n = pick_slot(x, any_proc), f;
    struct cb_str s;
    char b[24];

    if (!n)
        return false;
    f = cb_fp_px(n, CB_PX_CODE);
    s = x->g->row.v[f];
    if (!can(x, f) || s.len < 5 || s.len > 20)
        return false;
    memcpy(b, s.ptr, 5);                 /* "47.0100" -> "47.01" */
    if (cb_refdata_px(x->g->rd, cb_str_make(b, 5), NULL, NULL))
        return false;
    gen_setb(x->g, f, b, 5);
    x->field = f;
    return true;
}

static bool
e_px_level(struct ictx *x)
{
    int n = pick_slot(x, surg_or_interv);

    if (!n)
        return false;
    if (gen_chance(x->r, 0.3))
        return unset_to(x, cb_fp_px(n, CB_PX_SZ));
    return unset_to(x, cb_fp_px(n, CB_PX_LEVEL));
}

static bool
e_px_anaes(struct ictx *x)
{
    int n = pick_slot(x, is_op);

    if (!n)
        return false;
    return unset_to(x, cb_fp_px(n, CB_PX_MZFS));
}

static bool
e_px_date(struct ictx *x)
{
    if (x->c->npx == 0)
        return false;
    return unset_to(x, cb_fp_px(1, CB_PX_DATE));
}

static bool
e_px_slot1(struct ictx *x)
{
    int f;

    if (x->c->npx < 2 || !can(x, cb_fp_px(1, CB_PX_CODE)))
        return false;
    for (f = 0; f < CB_PX__FIELDS; f++)
        gen_unset(x->g, cb_fp_px(1, (enum cb_fp_px_field)f));
    x->field = cb_fp_px(1, CB_PX_CODE);
    return true;
}

static bool
e_px_level_unexpected(struct ictx *x)
{
    int n = pick_slot(x, not_surgical), f;

    if (!n)
        return false;
    f = cb_fp_px(n, CB_PX_LEVEL);
    if (!can(x, f))
        return false;
    gen_setz(x->g, f, "1");
    x->field = f;
    return true;
}

/* ---- newborns, discharge, clinical items ---- */

static bool
e_no_birth_weight(struct ictx *x)
{
    if (x->c->a->def->kind != K_VAGINAL && x->c->a->def->kind != K_CSECTION)
        return false;
    gen_unset(x->g, CB_F_XSECSTZ2);
    return unset_to(x, CB_F_XSECSTZ);
}

static bool
e_no_adm_weight(struct ictx *x)
{
    return unset_to(x, CB_F_XSERYTZ);
}

static bool
e_weight_range(struct ictx *x)
{
    if (!gen_has(x->g, CB_F_XSECSTZ) || !can(x, CB_F_XSECSTZ))
        return false;
    gen_seti(x->g, CB_F_XSECSTZ, (x->c->weights[0] + 500) / 1000); /* kg */
    x->field = CB_F_XSECSTZ;
    return true;
}

static bool
e_weight_10g(struct ictx *x)
{
    if (!gen_has(x->g, CB_F_XSECSTZ) || !can(x, CB_F_XSECSTZ))
        return false;
    gen_seti(x->g, CB_F_XSECSTZ, x->c->weights[0] + 1 + gen_below(x->r, 9));
    x->field = CB_F_XSECSTZ;
    return true;
}

static bool
e_no_receiver(struct ictx *x)
{
    if (x->c->lyfs != 2 && x->c->lyfs != 3)
        return false;
    return unset_to(x, gen_has(x->g, CB_F_WSY_YLJG) ? CB_F_WSY_YLJG
                                                    : CB_F_YZZY_YLJG);
}

static bool
e_no_purpose(struct ictx *x)
{
    return unset_to(x, CB_F_MD);
}

static bool
e_no_autopsy(struct ictx *x)
{
    return x->c->lyfs == 5 && unset_to(x, CB_F_SWHZSJ);
}

static bool
e_autopsy_alive(struct ictx *x)
{
    if (x->c->lyfs == 5 || !can(x, CB_F_SWHZSJ))
        return false;
    gen_setz(x->g, CB_F_SWHZSJ, "2");
    x->field = CB_F_SWHZSJ;
    return true;
}

static bool
e_allergy(struct ictx *x)
{
    if (!can(x, CB_F_GMYW))
        return false;
    gen_setz(x->g, CB_F_YWGM, "2");
    gen_unset(x->g, CB_F_GMYW);
    x->field = CB_F_GMYW;
    return true;
}

static bool
e_doctor(struct ictx *x)
{
    static const int f[] = { CB_F_ZYYS, CB_F_ZRHS, CB_F_ZZYS, CB_F_BMY };

    return unset_to(x, f[gen_below(x->r, 4)]);
}

static bool
e_coma(struct ictx *x)
{
    if (!gen_has(x->g, CB_F_RYQ_F) || !can(x, CB_F_RYQ_F))
        return false;
    if (gen_chance(x->r, 0.5)) {
        gen_seti(x->g, CB_F_RYQ_F, 60 + gen_below(x->r, 40));
        x->field = CB_F_RYQ_F;
    } else {
        gen_seti(x->g, CB_F_RYQ_XS, 24 + gen_below(x->r, 12));
        x->field = CB_F_RYQ_XS;
    }
    return true;
}

static bool
e_blood_type(struct ictx *x)
{
    if (x->c->cost[CB_F_XF] <= 0)
        return false;
    gen_setz(x->g, CB_F_XX, "6");
    gen_setz(x->g, CB_F_RH, "4");
    x->field = CB_F_XX;
    return true;
}

/* ---- costs ---- */

static bool
e_total_low(struct ictx *x)
{
    int64_t zfy = x->c->cost[CB_F_ZFY];
    int64_t cut = 100 + (int64_t)(zfy * (0.01 + 0.09 * gen_unif(x->r)));

    if (zfy - cut <= 0)
        return false;
    gen_setm(x->g, CB_F_ZFY, zfy - cut);
    if (x->c->cost[CB_F_ZFJE] > zfy - cut)
        gen_setm(x->g, CB_F_ZFJE, zfy - cut);
    x->field = CB_F_ZFY;
    return true;
}

static bool
e_total_high(struct ictx *x)
{
    int64_t zfy = x->c->cost[CB_F_ZFY];

    gen_setm(x->g, CB_F_ZFY, zfy + 100 + (int64_t)gen_below(x->r, 50000));
    x->field = CB_F_ZFY;
    return true;
}

static bool
e_sub_item(struct ictx *x)
{
    const int64_t *k = x->c->cost;
    double u = gen_unif(x->r);

    if (u < 0.6 && k[CB_F_XYF] > 0) {
        gen_setm(x->g, CB_F_KJYWF, k[CB_F_XYF] + 100 + gen_below(x->r, 20000));
        x->field = CB_F_KJYWF;
    } else if (u < 0.8 && k[CB_F_FSSZLXMF] > 0) {
        gen_setm(x->g, CB_F_WLZLF, k[CB_F_FSSZLXMF] + 100 +
                 gen_below(x->r, 20000));
        x->field = CB_F_WLZLF;
    } else if (k[CB_F_SSZLF] > 0) {
        gen_setm(x->g, CB_F_SSF, k[CB_F_SSZLF] - k[CB_F_MAF] + 100 +
                 gen_below(x->r, 20000));
        x->field = CB_F_SSF;
    } else {
        return false;
    }
    return true;
}

static bool
e_oop(struct ictx *x)
{
    gen_setm(x->g, CB_F_ZFJE, x->c->cost[CB_F_ZFY] + 100 +
             gen_below(x->r, 100000));
    x->field = CB_F_ZFJE;
    return true;
}

static bool
e_no_maf(struct ictx *x)
{
    if (!x->c->anaesthesia || x->c->cost[CB_F_MAF] <= 0)
        return false;
    gen_setm(x->g, CB_F_MAF, 0);
    x->field = CB_F_MAF;
    return true;
}


/* ---- warnings and split rules (data/qc/rules.tsv sub-ids) ---- */

static bool
e_dx_name(struct ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_ZYZD];
    size_t cut = 0, i;

    if (!can(x, CB_F_ZYZD) || s.len < 9)
        return false;
    /* a local, shortened name: drop the last character (UTF-8 aware) */
    for (i = s.len - 1; i > 0 && ((unsigned char)s.ptr[i] & 0xc0) == 0x80; i--)
        ;
    cut = i;
    gen_setb(x->g, CB_F_ZYZD, s.ptr, cut);
    x->field = CB_F_ZYZD;
    return true;
}

static bool
e_morph_format(struct ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_JBMM];

    if (!can(x, CB_F_JBMM) || s.len < 3 || s.ptr[0] != 'M')
        return false;
    gen_setb(x->g, CB_F_JBMM, s.ptr + 1, s.len - 1);  /* "81400/3" */
    x->field = CB_F_JBMM;
    return true;
}

static bool
e_px_date_other(struct ictx *x)
{
    int n;

    if (x->c->npx < 2)
        return false;
    n = 2 + (int)gen_below(x->r, (uint32_t)(x->c->npx - 1));
    return unset_to(x, cb_fp_px(n, CB_PX_DATE));
}

static bool
e_px_assistant(struct ictx *x)
{
    int n = pick_slot(x, surg_or_interv);

    if (!n)
        return false;
    return unset_to(x, cb_fp_px(n, gen_chance(x->r, 0.5) ? CB_PX_YZ : CB_PX_EZ));
}

static bool
has_anaesthetist(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY && p->mzys;
}

static bool
e_px_anaesthetist(struct ictx *x)
{
    int n = pick_slot(x, has_anaesthetist);

    return n && unset_to(x, cb_fp_px(n, CB_PX_MZYS));
}

static bool
e_age_days_extra(struct ictx *x)
{
    if (x->c->age_y < 1 || x->c->age_y > 5 || !can(x, CB_F_BZYZS_NL))
        return false;
    gen_seti(x->g, CB_F_BZYZS_NL, x->c->age_d % 365);
    x->field = CB_F_BZYZS_NL;
    return true;
}

static bool
e_adm_weight_infant(struct ictx *x)
{
    if (x->c->age_y != 0 || x->c->age_d <= 28 || !can(x, CB_F_XSERYTZ))
        return false;
    gen_seti(x->g, CB_F_XSERYTZ, (3300 + 25 * x->c->age_d) / 10 * 10);
    x->field = CB_F_XSERYTZ;
    return true;
}

static bool
e_neonate_birth_weight(struct ictx *x)
{
    if (!gen_has(x->g, CB_F_XSERYTZ))
        return false;
    return unset_to(x, CB_F_XSECSTZ);
}

static bool
e_twin_weight(struct ictx *x)
{
    return unset_to(x, CB_F_XSECSTZ2);
}

static bool
e_coma_empty(struct ictx *x)
{
    static const int f[] = { CB_F_RYQ_XS, CB_F_RYQ_F, CB_F_RYH_T, CB_F_RYH_XS,
                             CB_F_RYH_F };
    size_t i;

    if (!gen_has(x->g, CB_F_RYQ_T) || !unset_to(x, CB_F_RYQ_T))
        return false;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        gen_unset(x->g, f[i]);
    return true;
}

static bool
e_nursing_fee(struct ictx *x)
{
    const int64_t *k = x->c->cost;

    if (x->c->los < 2 || k[CB_F_HLF] <= 0 || !can(x, CB_F_HLF))
        return false;
    /* nursing billed under "other comprehensive services" */
    gen_setm(x->g, CB_F_QTFY, k[CB_F_QTFY] + k[CB_F_HLF]);
    gen_setm(x->g, CB_F_HLF, 0);
    x->field = CB_F_HLF;
    return true;
}

static bool
zero_incision(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY && p->inc == 0;
}

static bool
e_incision_zero_healed(struct ictx *x)
{
    int n = pick_slot(x, zero_incision), f;

    if (!n)
        return false;
    f = cb_fp_px(n, CB_PX_QKYHLB);
    if (!can(x, f) || can(x, cb_fp_px(n, CB_PX_QKYH)))
        return false;   /* the Western combined code cannot express it */
    gen_setz(x->g, f, "1");
    x->field = f;
    return true;
}

struct injector {
    const char *rule;
    uint16_t    w;
    bool      (*fn)(struct ictx *x);
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
    { "QC-DX-01", 60, e_dx_unknown },
    { "QC-DX-02", 25, e_dx_poa },
    { "QC-DX-04", 40, e_invalid_principal },
    { "QC-DX-05", 40, e_no_external },
    { "QC-DX-06", 40, e_no_morph },
    { "QC-DX-07", 40, e_sex },
    { "QC-DX-03", 15, e_dx_repeat },
    { "QC-PX-01", 45, e_px_unknown },
    { "QC-PX-04", 40, e_px_level },
    { "QC-PX-05", 30, e_px_anaes },
    { "QC-PX-03", 25, e_px_date },
    { "QC-PX-02", 15, e_px_slot1 },
    { "QC-PX-07", 10, e_px_level_unexpected },
    { "QC-NB-03", 40, e_no_birth_weight },
    { "QC-NB-01", 30, e_no_adm_weight },
    { "QC-NB-04", 15, e_weight_range },
    { "QC-NB-05", 10, e_weight_10g },
    { "QC-DIS-01", 40, e_no_receiver },
    { "QC-DIS-04", 30, e_no_purpose },
    { "QC-DIS-02", 20, e_no_autopsy },          /* QC-DIS-02b unless TCM */
    { "QC-DIS-03", 10, e_autopsy_alive },
    { "QC-ALG-01", 30, e_allergy },
    { "QC-DOC-01", 30, e_doctor },
    { "QC-COMA-01", 20, e_coma },
    { "QC-BLD-01", 10, e_blood_type },
    { "QC-COST-02", 50, e_total_low },
    { "QC-COST-03", 15, e_total_high },
    { "QC-COST-04", 40, e_sub_item },
    { "QC-COST-05", 30, e_oop },
    { "QC-COST-07", 10, e_no_maf },
    { "QC-COST-06", 10, e_nursing_fee },
    { "QC-DX-01b", 10, e_dx_name },
    { "QC-DX-06b", 10, e_morph_format },
    { "QC-PX-03b", 10, e_px_date_other },
    { "QC-PX-04b", 10, e_px_assistant },
    { "QC-PX-05b", 10, e_px_anaesthetist },
    { "QC-PX-06", 10, e_incision_zero_healed },
    { "QC-DEM-02b", 10, e_age_days_extra },
    { "QC-NB-02", 15, e_adm_weight_infant },
    { "QC-NB-06", 10, e_neonate_birth_weight },
    { "QC-NB-07", 10, e_twin_weight },
    { "QC-COMA-02", 15, e_coma_empty },
};

#define NINJ (sizeof(inj) / sizeof(inj[0]))

static const char *
rule_of(const struct cb_gen *g, size_t k)
{
    if (inj[k].fn == e_no_autopsy && g->std != CB_STD_TCM)
        return "QC-DIS-02b";    /* a warning outside TCM files */
    return inj[k].rule;
}

const char *
gen_inject(struct cb_gen *g, struct gen_case *c, struct gen_rng *r,
           struct gen_errstate *st, int *field)
{
    struct ictx x = { g, c, r, st, -1 };
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
    k = gen_pick_w(r, w, NINJ);
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
        k = gen_pick_w(r, w, NINJ);
        if (inj[k].fn(&x)) {
            *field = x.field;
            return rule_of(g, k);
        }
        w[k] = 0;
    }
    return NULL;
}
