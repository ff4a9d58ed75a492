/*
 * fact.c - one discharge's fact: the definitions of spec c.0 and c.1
 * evaluated once, at import, into bits, amounts and dimensions. Every
 * indicator is then a ratio of sums of facts.
 */
#include "carebase/indicator.h"

static bool
is(const struct cb_fp *fp, int id, const char *z)
{
    return cb_str_eqz(fp->v[id], z);
}

static uint32_t
fen(const struct cb_fp *fp, int id)
{
    if (!cb_fp_ok(fp, id) || fp->val[id] <= 0)
        return 0;
    return fp->val[id] > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)fp->val[id];
}

static uint32_t
fen_sum(const struct cb_fp *fp, const int *ids, int n)
{
    uint64_t s = 0;
    for (int i = 0; i < n; i++)
        s += fen(fp, ids[i]);
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

static int64_t
num(const struct cb_fp *fp, int id, int64_t dflt)
{
    return cb_fp_ok(fp, id) ? fp->val[id] : dflt;
}

/* c.0 obstetric_or_neonatal: JBDM in O00-O99 or P00-P96, or a neonate. */
static bool
obstetric_or_neonatal(const struct cb_fp *fp)
{
    struct cb_str d = fp->v[CB_F_JBDM];
    if (d.len >= 3 && d.ptr[1] >= '0' && d.ptr[1] <= '9' && d.ptr[2] >= '0' &&
        d.ptr[2] <= '9') {
        int n = (d.ptr[1] - '0') * 10 + (d.ptr[2] - '0');
        if (d.ptr[0] == 'O' || (d.ptr[0] == 'P' && n <= 96))
            return true;
    }
    return num(fp, CB_F_NL, -1) == 0 && cb_fp_ok(fp, CB_F_BZYZS_NL) &&
           fp->val[CB_F_BZYZS_NL] <= 28;
}

static bool
complication(const struct cb_fp *fp, const struct cb_prefix_list *c)
{
    if (is(fp, CB_F_RYBQ, "4") && cb_prefix_match(c, fp->v[CB_F_JBDM]))
        return true;
    for (int n = 1; n <= fp->ndx && n <= CB_FP_MAX_DX; n++)
        if (is(fp, cb_fp_dx(n, CB_DX_POA), "4") &&
            cb_prefix_match(c, fp->v[cb_fp_dx(n, CB_DX_CODE)]))
            return true;
    return false;
}

static bool
in_cohort(const struct cb_cohort *k, const struct cb_fp *fp)
{
    struct cb_str code = k->by_procedure ? fp->v[cb_fp_px(1, CB_PX_CODE)]
                                         : fp->v[CB_F_JBDM];
    if (!cb_prefix_match(k->include, code) || cb_prefix_match(k->exclude, code))
        return false;
    int64_t age = num(fp, CB_F_NL, -1);
    if (k->age_min >= 0 && age < k->age_min)
        return false;
    if (k->age_max >= 0 && (age < 0 || age > k->age_max))
        return false;
    return true;
}

void
cb_fact_derive(const struct cb_fp *fp, const struct cb_refdata *rd,
               const struct cb_catalogues *cat, bool grouped, struct cb_fact *out)
{
    /* spec a.10: DRUG = XYF + ZCYF + ZCYF1; ZYZJF is a sub-item of ZCYF */
    static const int drug[] = { CB_F_XYF, CB_F_ZCYF, CB_F_ZCYF1 };
    static const int material[] = { CB_F_HCYYCLF, CB_F_YYCLF, CB_F_YCXYYCLF };
    const struct cb_prefix_list *day_cat = cat->cat[CB_CAT_DAY_SURGERY].codes;
    const struct cb_prefix_list *mis = cat->cat[CB_CAT_MIS].codes;
    const struct cb_prefix_list *l4 = cat->cat[CB_CAT_LEVEL4].codes;
    const struct cb_prefix_list *l3 = cat->cat[CB_CAT_LEVEL3].codes;
    uint32_t f = 0;

    memset(out, 0, sizeof *out);
    bool surgical = false, day_code = false, day_flag = false, flag_present = false,
         mis_code = false;
    for (int n = 1; n <= fp->npx && n <= CB_FP_MAX_PX; n++) {
        struct cb_str code = fp->v[cb_fp_px(n, CB_PX_CODE)];
        if (!code.len)
            continue;
        enum cb_px_category c = CB_PXCAT_NONE;
        bool op = cb_refdata_px(rd, code, &c, NULL) &&
                  (c == CB_PXCAT_SURGERY || c == CB_PXCAT_INTERVENTION);
        surgical |= op;
        struct cb_str level = fp->v[cb_fp_px(n, CB_PX_LEVEL)];
        if (op && cb_str_eqz(level, "4"))  /* SSJB is an operation's level (a.8) */
            f |= CB_FACT_LEVEL4_PROXY;
        if (op && cb_str_eqz(level, "3"))
            f |= CB_FACT_LEVEL3_PROXY;
        if (cb_prefix_match(l4, code))
            f |= CB_FACT_LEVEL4;
        if (op && cb_prefix_match(l3, code))
            f |= CB_FACT_LEVEL3;
        mis_code |= cb_prefix_match(mis, code);
        day_code |= cb_prefix_match(day_cat, code);
        struct cb_str rj = fp->v[cb_fp_px(n, CB_PX_SFRJSS)];
        flag_present |= rj.len > 0;
        day_flag |= cb_str_eqz(rj, "1") || cb_str_eqz(rj, "是");
        if (is(fp, cb_fp_px(n, CB_PX_QKDJ), "1")) {
            f |= CB_FACT_INCISION_I;
            if (is(fp, cb_fp_px(n, CB_PX_QKYHLB), "3"))
                f |= CB_FACT_SSI_I;
        }
    }
    bool elective = !is(fp, CB_F_RYTJ, "1");
    if (surgical)
        f |= CB_FACT_SURGICAL;
    if (elective)
        f |= CB_FACT_ELECTIVE;
    if (surgical && mis_code)
        f |= CB_FACT_MIS;
    if (obstetric_or_neonatal(fp))
        f |= CB_FACT_OBST_NEONATAL;
    if (is(fp, CB_F_LYFS, "5"))
        f |= CB_FACT_DEATH;
    if (is(fp, CB_F_LYFS, "3"))
        f |= CB_FACT_DOWN_REFERRAL;
    if (is(fp, CB_F_LYFS, "2"))
        f |= CB_FACT_TRANSFER;
    if (complication(fp, cat->cat[CB_CAT_COMPLICATION].codes))
        f |= CB_FACT_COMPLICATION;
    if (grouped)
        f |= CB_FACT_GROUPED;

    /* #3 day surgery (spec c.1, c.5.5): planned (elective) surgery; the
       source's flag decides when present (yes or no), else discharged within
       24 h (48 h variant) with a catalogue procedure. */
    if (flag_present) {
        f |= CB_FACT_DAY_FLAG;
        if (day_flag && surgical && elective)
            f |= CB_FACT_DAY_SURGERY | CB_FACT_DAY_SURGERY_48;
    } else if (surgical && elective && day_code && cb_fp_ok(fp, CB_F_RYSJ) &&
               cb_fp_ok(fp, CB_F_CYSJ)) {
        int64_t secs = fp->val[CB_F_CYSJ] - fp->val[CB_F_RYSJ];
        int64_t h = cat->day_surgery_hours > 0 ? cat->day_surgery_hours : 24;
        if (secs >= 0 && secs <= h * 3600)
            f |= CB_FACT_DAY_SURGERY;
        if (secs >= 0 && secs <= 2 * h * 3600)
            f |= CB_FACT_DAY_SURGERY_48;
    }

    if (cb_fp_ok(fp, CB_F_ZFY))
        f |= CB_FACT_COST_OK;
    out->zfy = fen(fp, CB_F_ZFY);
    out->drug = fen_sum(fp, drug, 3);
    out->material = fen_sum(fp, material, 3);
    if (cb_fp_ok(fp, CB_F_CYSJ)) {
        int64_t day = fp->val[CB_F_CYSJ] / 86400 - CB_FACT_EPOCH_DAY;
        out->day = day < 0 ? 0 : day > UINT16_MAX ? UINT16_MAX : (uint16_t)day;
    }
    int64_t los = num(fp, CB_F_SJZYTS, 0);
    out->los = los < 0 ? 0 : los > UINT16_MAX ? UINT16_MAX : (uint16_t)los;
    for (int k = 0; k < CB_COHORTS; k++)
        if (cat->cohort[k].include && in_cohort(&cat->cohort[k], fp))
            out->cohorts |= (uint16_t)(1u << k);
    out->flags = f;
}
