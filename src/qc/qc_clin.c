/*
 * qc_clin.c - diagnosis, procedure and newborn rules (spec b.3, b.5, b.6).
 *
 * Diagnosis codes were normalised once by cb_qc_check (c->jbdm, c->dx[n]):
 * marks stripped, ICD letter upper-cased, 3-character category resolved.
 * Procedure categories come from the dictionary (c->cat[n]), never from the
 * record.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "carebase/date.h"
#include "carebase/refdata.h"
#include "qc_int.h"

/*
 * Diagnosis n of the record: 0 = principal (JBDM), 1..ndx = JBDMn. Returns
 * NULL when that code is empty; *id receives the field id.
 */
static const struct qc_code *
dx_at(const struct qc_ctx *c, int n, int *id)
{
    const struct qc_code *code = n ? &c->dx[n] : &c->jbdm;

    *id = n ? cb_fp_dx(n, CB_DX_CODE) : CB_F_JBDM;
    return code->s.len ? code : NULL;
}

/* ---- QC-NB-* ---- */

/* 1 for Z37.0, 2 for Z37.2/Z37.3, 3 for Z37.5/Z37.6, else 0. */
static int
live_births(const struct qc_code *code)
{
    if (code->uplen < 5 || memcmp(code->up, "Z37.", 4) != 0)
        return 0;
    switch (code->up[4]) {
    case '0': return 1;
    case '2': case '3': return 2;
    case '5': case '6': return 3;
    default: return 0;
    }
}

void
qc__check_newborn(struct qc_ctx *c)
{
    static const int weights[] = { CB_F_XSECSTZ, CB_F_XSECSTZ2, CB_F_XSECSTZ3,
                                   CB_F_XSECSTZ4, CB_F_XSECSTZ5,
                                   CB_F_XSERYTZ };
    const struct qc_code *code;
    int64_t nl, bz, v;
    bool neonate;
    int n, id, births = 0, filled = 0;
    size_t i;
    char k[16];

    neonate = qc_val(c, CB_F_NL, &nl) && nl == 0 &&
              qc_val(c, CB_F_BZYZS_NL, &bz) && bz >= 0 && bz <= 28;
    if (neonate && qc_empty(c, CB_F_XSERYTZ))
        qc__report(c, QC_NB_01, CB_F_XSERYTZ,
                   "XSERYTZ is required for a neonate (BZYZS_NL <= 28)");
    if (neonate && qc_empty(c, CB_F_XSECSTZ))
        qc__report(c, QC_NB_06, CB_F_XSECSTZ,
                   "XSECSTZ is expected for a neonate (BZYZS_NL <= 28)");
    if (!neonate && !qc_empty(c, CB_F_XSERYTZ))
        qc__report(c, QC_NB_02, CB_F_XSERYTZ, "XSERYTZ is filled but the "
                   "patient is not a neonate (NL = 0 and BZYZS_NL <= 28)");

    for (i = 0; i < sizeof(weights) / sizeof(weights[0]); i++) {
        if (!qc_val(c, weights[i], &v))
            continue;
        if (weights[i] != CB_F_XSERYTZ)
            filled++;
        if (v < 100 || v > 9999)
            qc__report(c, QC_NB_04, weights[i], "%s must be 100..9999 g",
                       qc__key(weights[i], k, sizeof(k)));
        else if (v % 10 != 0)
            qc__report(c, QC_NB_05, weights[i], "%s is not a multiple of 10 g",
                       qc__key(weights[i], k, sizeof(k)));
    }

    for (n = 0; n <= c->ndx; n++) {
        int b;
        if (!(code = dx_at(c, n, &id)))
            continue;
        b = live_births(code);
        if (b > births)
            births = b;
    }
    if (births && qc_empty(c, CB_F_XSECSTZ))
        qc__report(c, QC_NB_03, CB_F_XSECSTZ, "XSECSTZ is required with a "
                   "live-birth outcome code (Z37.0/2/3/5/6)");
    else if (births > 1 && filled < births)
        qc__report(c, QC_NB_07, CB_F_XSECSTZ, "a multiple-birth outcome code "
                   "needs at least %d birth weights, %d filled", births,
                   filled);
}

/* ---- QC-DX-* ---- */

/* Dictionary lookup with the ICD letter upper-cased (spec 0.3). */
static bool
dx_lookup(const struct qc_ctx *c, struct cb_str code, struct cb_str *name)
{
    char buf[64];

    code = cb_str_trim(code);
    if (code.len && code.len <= sizeof(buf) && code.ptr[0] >= 'a' &&
        code.ptr[0] <= 'z') {
        memcpy(buf, code.ptr, code.len);
        buf[0] = (char)(buf[0] - 'a' + 'A');
        code = cb_str_make(buf, code.len);
    }
    return cb_refdata_dx(c->qc->rd, code, name);
}

static void
dx_exists(struct qc_ctx *c, int code_id, int name_id)
{
    struct cb_str name;
    char k[16], kn[16];

    if (qc_empty(c, code_id))
        return;
    if (!dx_lookup(c, c->r->v[code_id], &name))
        qc__report(c, QC_DX_01, code_id, "%s is not in the diagnosis "
                   "dictionary", qc__key(code_id, k, sizeof(k)));
    else if (!qc_empty(c, name_id) &&
             !cb_str_eq(cb_str_trim(c->r->v[name_id]), name))
        qc__report(c, QC_DX_01B, name_id, "%s differs from the dictionary "
                   "name of %s", qc__key(name_id, kn, sizeof(kn)),
                   qc__key(code_id, k, sizeof(k)));
}

static void
check_dx_slots(struct qc_ctx *c)
{
    char k[16], k2[16];
    int n, m;

    dx_exists(c, CB_F_JBDM, CB_F_ZYZD);
    dx_exists(c, CB_F_MZZD_JBBM, CB_F_MZZD);
    dx_exists(c, CB_F_H23, CB_F_WBYY);
    if (!qc_empty(c, CB_F_RYBQ) &&
        !qc__in_vs(c->qc, QC_VS_RC027, c->r->v[CB_F_RYBQ]))
        qc__report(c, QC_DX_02, CB_F_RYBQ, "RYBQ is not in RC027");

    for (n = 1; n <= c->ndx; n++) {
        int code = cb_fp_dx(n, CB_DX_CODE), poa = cb_fp_dx(n, CB_DX_POA);

        if (qc_empty(c, code)) {
            if (!qc_empty(c, poa) || !qc_empty(c, cb_fp_dx(n, CB_DX_NAME)))
                qc__report(c, QC_REQ_02, code, "%s is empty but its slot is "
                           "filled", qc__key(code, k, sizeof(k)));
            if (!qc_empty(c, poa) &&
                !qc__in_vs(c->qc, QC_VS_RC027, c->r->v[poa]))
                qc__report(c, QC_DX_02, poa, "%s is not in RC027",
                           qc__key(poa, k, sizeof(k)));
            continue;
        }
        dx_exists(c, code, cb_fp_dx(n, CB_DX_NAME));
        if (qc_empty(c, poa))
            qc__report(c, QC_DX_02, poa, "%s is required with %s",
                       qc__key(poa, k, sizeof(k)),
                       qc__key(code, k2, sizeof(k2)));
        else if (!qc__in_vs(c->qc, QC_VS_RC027, c->r->v[poa]))
            qc__report(c, QC_DX_02, poa, "%s is not in RC027",
                       qc__key(poa, k, sizeof(k)));

        if (!qc_on(c, QC_DX_03))
            continue;
        if (qc__codes_equal(&c->dx[n], &c->jbdm)) {
            qc__report(c, QC_DX_03, code, "%s repeats the principal "
                       "diagnosis", qc__key(code, k, sizeof(k)));
            continue;
        }
        for (m = 1; m < n; m++)
            if (qc__codes_equal(&c->dx[n], &c->dx[m])) {
                qc__report(c, QC_DX_03, code, "%s repeats %s",
                           qc__key(code, k, sizeof(k)),
                           qc__key(cb_fp_dx(m, CB_DX_CODE), k2, sizeof(k2)));
                break;
            }
    }
}

static void
invalid_principal(struct qc_ctx *c, enum qc_rule rule,
                  const struct qc_codeset *set, bool asterisk, bool morph)
{
    const struct qc_code *p = &c->jbdm;
    int e;

    if (!qc_on(c, rule) || p->s.len == 0)
        return;
    if (asterisk && (p->asterisk ||
                     cb_strmap_has(&c->qc->asterisk_codes, p->s)))
        qc__report(c, rule, CB_F_JBDM, "JBDM is an asterisk (manifestation) "
                   "code, not valid as principal diagnosis");
    else if (morph && qc__is_morphology(p->s))
        qc__report(c, rule, CB_F_JBDM, "JBDM is a morphology code, not "
                   "valid as principal diagnosis");
    else if ((e = qc__codeset_match(set, p)) >= 0)
        qc__report(c, rule, CB_F_JBDM, "JBDM is in the invalid-as-principal "
                   "list (%s)", set->e[e].text);
}

static void
check_injury_and_neoplasm(struct qc_ctx *c)
{
    const struct qc_code *p = &c->jbdm;
    char l = p->uplen && p->cat >= 0 ? p->up[0] : '\0';
    struct qc_code h23;

    if (l == 'S' || l == 'T') {
        if (qc_empty(c, CB_F_H23))
            qc__report(c, QC_DX_05, CB_F_H23, "H23 is required when JBDM is "
                       "an injury or poisoning (S/T)");
        else {
            qc__code_norm(c->r->v[CB_F_H23], &h23);
            if (qc__codeset_match(&c->qc->ext_cause, &h23) < 0)
                qc__report(c, QC_DX_05, CB_F_H23,
                           "H23 is not an external-cause code (V01-Y98)");
        }
        if (qc_empty(c, CB_F_WBYY))
            qc__report(c, QC_REQ_02, CB_F_WBYY, "WBYY is required when JBDM "
                       "is an injury or poisoning (S/T)");
    }

    if (l == 'C' || qc__codeset_match(&c->qc->neoplasm_d, p) >= 0) {
        if (qc_empty(c, CB_F_JBMM))
            qc__report(c, QC_DX_06, CB_F_JBMM, "JBMM is required when JBDM "
                       "is a neoplasm (C00-C97, D00-D48)");
        if (qc_empty(c, CB_F_BLZD))
            qc__report(c, QC_REQ_02, CB_F_BLZD, "BLZD is required when JBDM "
                       "is a neoplasm (C00-C97, D00-D48)");
    }
    if (!qc_empty(c, CB_F_JBMM)) {
        if (qc_empty(c, CB_F_BLH))
            qc__report(c, QC_DX_06, CB_F_BLH, "BLH is required with JBMM");
        if (!qc__is_morphology(c->r->v[CB_F_JBMM]))
            qc__report(c, QC_DX_06B, CB_F_JBMM,
                       "JBMM is not a morphology code (M + 4-5 digits/digit)");
    }
}

/* Age at admission in days, or -1 when unknown. */
static int64_t
age_days(const struct qc_ctx *c)
{
    int64_t nl, bz;

    if (c->has_csrq && c->has_rysj && c->csrq <= c->rysj_day)
        return c->rysj_day - c->csrq;
    if (!qc_val(c, CB_F_NL, &nl) || nl < 0)
        return -1;
    if (nl >= 1)
        return (nl > 1000 ? 1000 : nl) * 365;  /* only a lower bound */
    return qc_val(c, CB_F_BZYZS_NL, &bz) && bz >= 0 ? bz : -1;
}

static void
check_sex_and_age(struct qc_ctx *c)
{
    const struct qc_codeset *other = NULL;
    const struct qc_code *code;
    int64_t years = -1, days = -2;
    int n, id, e;
    size_t a;
    char k[16];

    if (qc__is(c, CB_F_XB, "1"))
        other = &c->qc->female;
    else if (qc__is(c, CB_F_XB, "2"))
        other = &c->qc->male;
    if (other && qc_on(c, QC_DX_07))
        for (n = 0; n <= c->ndx; n++) {
            if (!(code = dx_at(c, n, &id)))
                continue;
            if ((e = qc__codeset_match(other, code)) >= 0)
                qc__report(c, QC_DX_07, id, "%s is a %s-only code (%s) but "
                           "XB = %s", qc__key(id, k, sizeof(k)),
                           other == &c->qc->female ? "female" : "male",
                           other->e[e].text,
                           other == &c->qc->female ? "1" : "2");
        }

    if (!qc_on(c, QC_DX_08))
        return;
    if (!qc_val(c, CB_F_NL, &years) || years < 0)
        years = c->has_csrq && c->has_rysj && c->csrq <= c->rysj_day
                    ? cb_completed_years(c->csrq, c->rysj_day) : -1;
    for (a = 0; a < c->qc->nage; a++) {
        const struct qc_agerule *ar = &c->qc->age[a];
        for (n = 0; n <= c->ndx; n++) {
            int64_t age;
            if (!(code = dx_at(c, n, &id)))
                continue;
            if ((e = qc__codeset_match(&ar->set, code)) < 0)
                continue;
            if (ar->days && days == -2)
                days = age_days(c);
            age = ar->days ? days : years;
            if (age >= 0 && (age < ar->min || age > ar->max))
                qc__report(c, QC_DX_08, id, "%s (%s) is implausible at this "
                           "age (expected %" PRId64 "..%" PRId64 " %s)",
                           qc__key(id, k, sizeof(k)), ar->set.e[e].text,
                           ar->min, ar->max, ar->days ? "days" : "years");
        }
    }
}

void
qc__check_dx(struct qc_ctx *c)
{
    check_dx_slots(c);
    invalid_principal(c, QC_DX_04, &c->qc->inv_core, c->qc->inv_core_asterisk,
                      c->qc->inv_core_morph);
    invalid_principal(c, QC_DX_04B, &c->qc->inv_ext, c->qc->inv_ext_asterisk,
                      c->qc->inv_ext_morph);
    check_injury_and_neoplasm(c);
    check_sex_and_age(c);
    if (c->any_surgery && qc__codeset_match(&c->qc->symptom, &c->jbdm) >= 0)
        qc__report(c, QC_DX_09, CB_F_JBDM, "JBDM is a symptom code (R00-R99) "
                   "although an operation was performed");
}

/* ---- QC-PX-* ---- */

static bool
one_of(struct cb_str s, char lo, char hi)
{
    s = cb_str_trim(s);
    return s.len == 1 && s.ptr[0] >= lo && s.ptr[0] <= hi;
}

static bool
slot_has_data(const struct qc_ctx *c, int n)
{
    int f;

    for (f = 0; f < CB_PX__FIELDS; f++)
        if (!qc_empty(c, cb_fp_px(n, (enum cb_fp_px_field)f)))
            return true;
    return false;
}

static void
px_level_and_staff(struct qc_ctx *c, int n, enum cb_px_category cat)
{
    int lvl = cb_fp_px(n, CB_PX_LEVEL);
    char k[16];

    if (cat == CB_PXCAT_SURGERY || cat == CB_PXCAT_INTERVENTION) {
        static const enum cb_fp_px_field asst[] = { CB_PX_YZ, CB_PX_EZ };
        size_t i;
        int sz = cb_fp_px(n, CB_PX_SZ);

        if (qc_empty(c, lvl))
            qc__report(c, QC_PX_04, lvl, "%s is required for an operation or "
                       "intervention", qc__key(lvl, k, sizeof(k)));
        else if (!qc__in_vs(c->qc, QC_VS_RC029, c->r->v[lvl]))
            qc__report(c, QC_PX_04, lvl, "%s is not in RC029",
                       qc__key(lvl, k, sizeof(k)));
        if (qc_empty(c, sz))
            qc__report(c, QC_PX_04, sz, "%s is required for an operation or "
                       "intervention", qc__key(sz, k, sizeof(k)));
        for (i = 0; i < sizeof(asst) / sizeof(asst[0]); i++) {
            int id = cb_fp_px(n, asst[i]);
            if (qc_empty(c, id))
                qc__report(c, QC_PX_04B, id, "%s should be filled for an "
                           "operation or intervention",
                           qc__key(id, k, sizeof(k)));
        }
        return;
    }
    if (qc_empty(c, lvl))
        return;
    if (cat == CB_PXCAT_DIAGNOSTIC || cat == CB_PXCAT_THERAPEUTIC)
        qc__report(c, QC_PX_07, lvl, "%s is filled for a diagnostic or "
                   "therapeutic procedure", qc__key(lvl, k, sizeof(k)));
    if (!qc__in_vs(c->qc, QC_VS_RC029, c->r->v[lvl]))
        qc__report(c, QC_FMT_02, lvl, "%s is not in RC029",
                   qc__key(lvl, k, sizeof(k)));
}

static void
px_incision(struct qc_ctx *c, int n, enum cb_px_category cat)
{
    int qk = cb_fp_px(n, CB_PX_QKDJ), yh = cb_fp_px(n, CB_PX_QKYHLB);
    bool has_qk = !qc_empty(c, qk), has_yh = !qc_empty(c, yh);
    bool qk_ok = has_qk && one_of(c->r->v[qk], '0', '3');
    char k[16];

    if (has_qk && !qk_ok)
        qc__report(c, QC_PX_05, qk, "%s must be 0..3",
                   qc__key(qk, k, sizeof(k)));
    else if (!has_qk && cat == CB_PXCAT_SURGERY)
        qc__report(c, QC_PX_05, qk, "%s is required for an operation",
                   qc__key(qk, k, sizeof(k)));
    if (has_yh && !one_of(c->r->v[yh], '1', '4'))
        qc__report(c, QC_PX_05, yh, "%s must be 1..4",
                   qc__key(yh, k, sizeof(k)));
    if (!qk_ok)
        return;
    if (qc__is(c, qk, "0") && has_yh)
        qc__report(c, QC_PX_06, yh, "%s must be empty for incision class 0",
                   qc__key(yh, k, sizeof(k)));
    else if (!qc__is(c, qk, "0") && !has_yh)
        qc__report(c, QC_PX_06, yh, "%s is required for incision class I-III",
                   qc__key(yh, k, sizeof(k)));
}

static void
px_anaesthesia(struct qc_ctx *c, int n, enum cb_px_category cat)
{
    int mz = cb_fp_px(n, CB_PX_MZFS), ys = cb_fp_px(n, CB_PX_MZYS);
    bool has = !qc_empty(c, mz);
    bool valid = has && qc__in_vs(c->qc, QC_VS_RC013, c->r->v[mz]);
    struct cb_str s = cb_str_trim(c->r->v[mz]);
    char k[16];

    if (cat != CB_PXCAT_SURGERY) {
        if (has && !valid)
            qc__report(c, QC_FMT_02, mz, "%s is not in RC013",
                       qc__key(mz, k, sizeof(k)));
        return;
    }
    if (!has)
        qc__report(c, QC_PX_05, mz, "%s is required for an operation",
                   qc__key(mz, k, sizeof(k)));
    else if (!valid)
        qc__report(c, QC_PX_05, mz, "%s is not in RC013",
                   qc__key(mz, k, sizeof(k)));
    else if (!cb_str_starts(s, "03") && !cb_str_eqz(s, "99") &&
             qc_empty(c, ys))
        qc__report(c, QC_PX_05B, ys, "%s is required unless the anaesthesia "
                   "is local (03xx) or other (99)", qc__key(ys, k, sizeof(k)));
}

void
qc__check_px(struct qc_ctx *c)
{
    bool later = false;
    char k[16];
    int n;

    for (n = 1; n <= c->npx; n++) {
        int code = cb_fp_px(n, CB_PX_CODE), date = cb_fp_px(n, CB_PX_DATE);
        int name = cb_fp_px(n, CB_PX_NAME);
        enum cb_px_category cat = c->px_known[n] ? c->cat[n] : CB_PXCAT_NONE;

        if (qc_empty(c, code)) {
            if (slot_has_data(c, n))
                qc__report(c, QC_REQ_02, code, "%s is empty but its slot is "
                           "filled", qc__key(code, k, sizeof(k)));
            continue;
        }
        if (n > 1)
            later = true;
        if (!c->px_known[n])
            qc__report(c, QC_PX_01, code, "%s is not in the procedure "
                       "dictionary", qc__key(code, k, sizeof(k)));
        if (qc_empty(c, name))
            qc__report(c, QC_REQ_02, name, "%s is required with %s",
                       qc__key(name, k, sizeof(k)), "the procedure code");
        if (qc_empty(c, date))
            qc__report(c, n == 1 ? QC_PX_03 : QC_PX_03B, date,
                       "%s is required with the procedure code",
                       qc__key(date, k, sizeof(k)));
        px_level_and_staff(c, n, cat);
        px_incision(c, n, cat);
        px_anaesthesia(c, n, cat);
    }
    if (later && qc_empty(c, cb_fp_px(1, CB_PX_CODE)))
        qc__report(c, QC_PX_02, cb_fp_px(1, CB_PX_CODE), "SSJCZBM1 is "
                   "required when other procedures are recorded");
}
