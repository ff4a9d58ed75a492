/*
 * gen_error_clin.c - injected errors in the clinical part of a record:
 * diagnoses, procedures, newborn items, discharge and other clinical items
 * (the rule families QC-DX, QC-PX, QC-NB, QC-DIS, QC-COMA, QC-ALG, QC-DOC,
 * QC-BLD of spec b). See gen_error.c for the contract of an injector.
 */
#include "gen/gen_int.h"

/* Writes an unknown variant of code into field f (old 4-character form). */
static bool
mangle_dx(struct gen_ictx *x, int f)
{
    struct cb_str s = x->g->row.v[f];
    char b[24];
    size_t n;

    if (!gen__can(x, f) || s.len < 5 || s.len > 20)
        return false;
    n = 5;                              /* "J18.900" -> "J18.9" */
    memcpy(b, s.ptr, n);
    if (cb_refdata_dx(x->g->rd, cb_str_make(b, n), NULL)) {
        memcpy(b + n, "99", 2);         /* "J18.999" */
        n += 2;
        if (cb_refdata_dx(x->g->rd, cb_str_make(b, n), NULL))
            return false;
    }
    gen__setb(x->g, f, b, n);
    x->field = f;
    return true;
}

bool
gen__e_dx_unknown(struct gen_ictx *x)
{
    if (x->c->nother > 0 && cb_rng_chance(x->r, 0.5))
        return mangle_dx(x, cb_fp_dx(1 + (int)cb_rng_below(x->r,
                                     (uint32_t)x->c->nother), CB_DX_CODE));
    return mangle_dx(x, CB_F_JBDM);
}

bool
gen__e_dx_poa(struct gen_ictx *x)
{
    if (x->c->nother == 0)
        return false;
    return gen__unset_to(x, cb_fp_dx(1 + (int)cb_rng_below(x->r,
                                (uint32_t)x->c->nother), CB_DX_POA));
}

bool
gen__e_invalid_principal(struct gen_ictx *x)
{
    struct cb_gen *g = x->g;
    int i;

    /* delivery coded with the outcome first: Z37 as principal */
    for (i = 0; i < x->c->nother; i++)
        if (cb_str_starts(x->c->other[i].c->code, "Z37")) {
            int f = cb_fp_dx(i + 1, CB_DX_CODE);
            if (!gen__can(x, f))
                return false;
            gen__set(g, f, x->c->prin.c->code);
            gen__set(g, cb_fp_dx(i + 1, CB_DX_NAME), x->c->prin.c->name);
            gen__set(g, CB_F_JBDM, x->c->other[i].c->code);
            gen__set(g, CB_F_ZYZD, x->c->other[i].c->name);
            x->field = CB_F_JBDM;
            return true;
        }
    /* injury coded with the external cause first */
    if (gen_has(g, CB_F_H23) && x->c->nother < CB_FP_MAX_DX &&
        gen__can(x, cb_fp_dx(x->c->nother + 1, CB_DX_CODE))) {
        int n = x->c->nother + 1;
        gen__set(g, cb_fp_dx(n, CB_DX_CODE), x->c->prin.c->code);
        gen__set(g, cb_fp_dx(n, CB_DX_NAME), x->c->prin.c->name);
        gen__setz(g, cb_fp_dx(n, CB_DX_POA), "1");
        gen__set(g, CB_F_JBDM, g->row.v[CB_F_H23]);
        gen__set(g, CB_F_ZYZD, g->row.v[CB_F_WBYY]);
        x->field = CB_F_JBDM;
        return true;
    }
    return false;
}

bool
gen__e_no_external(struct gen_ictx *x)
{
    if (!gen_has(x->g, CB_F_H23) || !gen__can(x, CB_F_H23))
        return false;
    gen__unset(x->g, CB_F_WBYY);
    return gen__unset_to(x, CB_F_H23);
}

bool
gen__e_no_morph(struct gen_ictx *x)
{
    if (!gen_has(x->g, CB_F_JBMM))
        return false;
    if (cb_rng_chance(x->r, 0.25))
        return gen__unset_to(x, CB_F_BLH);
    gen__unset(x->g, CB_F_BLZD);
    return gen__unset_to(x, CB_F_JBMM);
}

bool
gen__e_sex(struct gen_ictx *x)
{
    int i, s = gen__code_sex(x->c->prin.c->code);

    for (i = 0; i < x->c->nother && !s; i++)
        s = gen__code_sex(x->c->other[i].c->code);
    if (!s)
        return false;
    gen__setz(x->g, CB_F_XB, s == 2 ? "1" : "2");
    x->field = CB_F_XB;
    return true;
}

bool
gen__e_dx_repeat(struct gen_ictx *x)
{
    int n = x->c->nother + 1;

    if (n > CB_FP_MAX_DX || !gen__can(x, cb_fp_dx(n, CB_DX_CODE)))
        return false;
    gen__set(x->g, cb_fp_dx(n, CB_DX_CODE), x->c->prin.c->code);
    gen__set(x->g, cb_fp_dx(n, CB_DX_NAME), x->c->prin.c->name);
    gen__setz(x->g, cb_fp_dx(n, CB_DX_POA), "1");
    x->field = cb_fp_dx(n, CB_DX_CODE);
    return true;
}

bool
gen__e_px_unknown(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, gen__any_proc), f;
    struct cb_str s;
    char b[24];

    if (!n)
        return false;
    f = cb_fp_px(n, CB_PX_CODE);
    s = x->g->row.v[f];
    if (!gen__can(x, f) || s.len < 5 || s.len > 20)
        return false;
    memcpy(b, s.ptr, 5);                 /* "47.0100" -> "47.01" */
    if (cb_refdata_px(x->g->rd, cb_str_make(b, 5), NULL, NULL))
        return false;
    gen__setb(x->g, f, b, 5);
    x->field = f;
    return true;
}

bool
gen__e_px_level(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, gen__surg_or_interv);

    if (!n)
        return false;
    if (cb_rng_chance(x->r, 0.3))
        return gen__unset_to(x, cb_fp_px(n, CB_PX_SZ));
    return gen__unset_to(x, cb_fp_px(n, CB_PX_LEVEL));
}

bool
gen__e_px_anaes(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, gen__is_op);

    if (!n)
        return false;
    return gen__unset_to(x, cb_fp_px(n, CB_PX_MZFS));
}

bool
gen__e_px_date(struct gen_ictx *x)
{
    if (x->c->npx == 0)
        return false;
    return gen__unset_to(x, cb_fp_px(1, CB_PX_DATE));
}

bool
gen__e_px_slot1(struct gen_ictx *x)
{
    int f;

    if (x->c->npx < 2 || !gen__can(x, cb_fp_px(1, CB_PX_CODE)))
        return false;
    for (f = 0; f < CB_PX__FIELDS; f++)
        gen__unset(x->g, cb_fp_px(1, (enum cb_fp_px_field)f));
    x->field = cb_fp_px(1, CB_PX_CODE);
    return true;
}

bool
gen__e_px_level_unexpected(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, gen__not_surgical), f;

    if (!n)
        return false;
    f = cb_fp_px(n, CB_PX_LEVEL);
    if (!gen__can(x, f))
        return false;
    gen__setz(x->g, f, "1");
    x->field = f;
    return true;
}

bool
gen__e_no_birth_weight(struct gen_ictx *x)
{
    if (x->c->a->def->kind != K_VAGINAL && x->c->a->def->kind != K_CSECTION)
        return false;
    gen__unset(x->g, CB_F_XSECSTZ2);
    return gen__unset_to(x, CB_F_XSECSTZ);
}

bool
gen__e_no_adm_weight(struct gen_ictx *x)
{
    return gen__unset_to(x, CB_F_XSERYTZ);
}

bool
gen__e_weight_range(struct gen_ictx *x)
{
    if (!gen_has(x->g, CB_F_XSECSTZ) || !gen__can(x, CB_F_XSECSTZ))
        return false;
    gen__seti(x->g, CB_F_XSECSTZ, (x->c->weights[0] + 500) / 1000); /* kg */
    x->field = CB_F_XSECSTZ;
    return true;
}

bool
gen__e_weight_10g(struct gen_ictx *x)
{
    if (!gen_has(x->g, CB_F_XSECSTZ) || !gen__can(x, CB_F_XSECSTZ))
        return false;
    gen__seti(x->g, CB_F_XSECSTZ, x->c->weights[0] + 1 + cb_rng_below(x->r, 9));
    x->field = CB_F_XSECSTZ;
    return true;
}

bool
gen__e_no_receiver(struct gen_ictx *x)
{
    if (x->c->lyfs != 2 && x->c->lyfs != 3)
        return false;
    return gen__unset_to(x, gen_has(x->g, CB_F_WSY_YLJG) ? CB_F_WSY_YLJG
                                                    : CB_F_YZZY_YLJG);
}

bool
gen__e_no_purpose(struct gen_ictx *x)
{
    return gen__unset_to(x, CB_F_MD);
}

bool
gen__e_no_autopsy(struct gen_ictx *x)
{
    return x->c->lyfs == 5 && gen__unset_to(x, CB_F_SWHZSJ);
}

bool
gen__e_autopsy_alive(struct gen_ictx *x)
{
    if (x->c->lyfs == 5 || !gen__can(x, CB_F_SWHZSJ))
        return false;
    gen__setz(x->g, CB_F_SWHZSJ, "2");
    x->field = CB_F_SWHZSJ;
    return true;
}

bool
gen__e_allergy(struct gen_ictx *x)
{
    if (!gen__can(x, CB_F_GMYW))
        return false;
    gen__setz(x->g, CB_F_YWGM, "2");
    gen__unset(x->g, CB_F_GMYW);
    x->field = CB_F_GMYW;
    return true;
}

bool
gen__e_doctor(struct gen_ictx *x)
{
    static const int f[] = { CB_F_ZYYS, CB_F_ZRHS, CB_F_ZZYS, CB_F_BMY };

    return gen__unset_to(x, f[cb_rng_below(x->r, 4)]);
}

bool
gen__e_coma(struct gen_ictx *x)
{
    if (!gen_has(x->g, CB_F_RYQ_F) || !gen__can(x, CB_F_RYQ_F))
        return false;
    if (cb_rng_chance(x->r, 0.5)) {
        gen__seti(x->g, CB_F_RYQ_F, 60 + cb_rng_below(x->r, 40));
        x->field = CB_F_RYQ_F;
    } else {
        gen__seti(x->g, CB_F_RYQ_XS, 24 + cb_rng_below(x->r, 12));
        x->field = CB_F_RYQ_XS;
    }
    return true;
}

bool
gen__e_blood_type(struct gen_ictx *x)
{
    if (x->c->cost[CB_F_XF] <= 0)
        return false;
    gen__setz(x->g, CB_F_XX, "6");
    gen__setz(x->g, CB_F_RH, "4");
    x->field = CB_F_XX;
    return true;
}

bool
gen__e_dx_name(struct gen_ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_ZYZD];
    size_t cut = 0, i;

    if (!gen__can(x, CB_F_ZYZD) || s.len < 9)
        return false;
    /* a local, shortened name: drop the last character (UTF-8 aware) */
    for (i = s.len - 1; i > 0 && ((unsigned char)s.ptr[i] & 0xc0) == 0x80; i--)
        ;
    cut = i;
    gen__setb(x->g, CB_F_ZYZD, s.ptr, cut);
    x->field = CB_F_ZYZD;
    return true;
}

bool
gen__e_morph_format(struct gen_ictx *x)
{
    struct cb_str s = x->g->row.v[CB_F_JBMM];

    if (!gen__can(x, CB_F_JBMM) || s.len < 3 || s.ptr[0] != 'M')
        return false;
    gen__setb(x->g, CB_F_JBMM, s.ptr + 1, s.len - 1);  /* "81400/3" */
    x->field = CB_F_JBMM;
    return true;
}

bool
gen__e_px_date_other(struct gen_ictx *x)
{
    int n;

    if (x->c->npx < 2)
        return false;
    n = 2 + (int)cb_rng_below(x->r, (uint32_t)(x->c->npx - 1));
    return gen__unset_to(x, cb_fp_px(n, CB_PX_DATE));
}

bool
gen__e_px_assistant(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, gen__surg_or_interv);

    if (!n)
        return false;
    return gen__unset_to(x, cb_fp_px(n, cb_rng_chance(x->r, 0.5) ? CB_PX_YZ
                                                                : CB_PX_EZ));
}

static bool
has_anaesthetist(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY && p->mzys;
}

bool
gen__e_px_anaesthetist(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, has_anaesthetist);

    return n && gen__unset_to(x, cb_fp_px(n, CB_PX_MZYS));
}

bool
gen__e_adm_weight_infant(struct gen_ictx *x)
{
    if (x->c->age_y != 0 || x->c->age_d <= 28 || !gen__can(x, CB_F_XSERYTZ))
        return false;
    gen__seti(x->g, CB_F_XSERYTZ, (3300 + 25 * x->c->age_d) / 10 * 10);
    x->field = CB_F_XSERYTZ;
    return true;
}

bool
gen__e_neonate_birth_weight(struct gen_ictx *x)
{
    if (!gen_has(x->g, CB_F_XSERYTZ))
        return false;
    return gen__unset_to(x, CB_F_XSECSTZ);
}

bool
gen__e_twin_weight(struct gen_ictx *x)
{
    return gen__unset_to(x, CB_F_XSECSTZ2);
}

bool
gen__e_coma_empty(struct gen_ictx *x)
{
    static const int f[] = { CB_F_RYQ_XS, CB_F_RYQ_F, CB_F_RYH_T, CB_F_RYH_XS,
                             CB_F_RYH_F };
    size_t i;

    if (!gen_has(x->g, CB_F_RYQ_T) || !gen__unset_to(x, CB_F_RYQ_T))
        return false;
    for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        gen__unset(x->g, f[i]);
    return true;
}

static bool
zero_incision(const struct gen_proc *p)
{
    return p->c->cat == CB_PXCAT_SURGERY && p->inc == 0;
}

bool
gen__e_incision_zero_healed(struct gen_ictx *x)
{
    int n = gen__pick_slot(x, zero_incision), f;

    if (!n)
        return false;
    f = cb_fp_px(n, CB_PX_QKYHLB);
    if (!gen__can(x, f) || gen__can(x, cb_fp_px(n, CB_PX_QKYH)))
        return false;   /* the Western combined code cannot express it */
    gen__setz(x->g, f, "1");
    x->field = f;
    return true;
}
