/*
 * qc_rec.c - rules on the record as a whole (spec b.1, b.2, b.4, b.7,
 * b.8): presence, format, identity, dates and age, discharge, coma,
 * departments, staff, blood, allergy and costs.
 *
 * Conventions shared by every rule function:
 *   - a rule that compares values runs only when those values parsed
 *     (state CB_FS_OK); an empty item is QC-REQ-*'s business and an
 *     unparseable one QC-FMT-01's, so one defect is reported once;
 *   - details name field keys, list entries and computed numbers, never the
 *     record's free text (the value itself travels in cb_qc_issue.value).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "carebase/date.h"
#include "qc_int.h"

/* ---- QC-REQ-01 ---- */

static void
check_required(struct qc_ctx *c)
{
    char k[32];
    int i;

    if (!qc_on(c, QC_REQ_01))
        return;
    for (i = 0; i < c->qc->nreq; i++) {
        int id = c->qc->req[i];
        if (qc_empty(c, id))
            qc__report(c, QC_REQ_01, id, "required item %s is empty",
                       qc__key(id, k, sizeof(k)));
    }
}

/* ---- QC-FMT-01..04 ---- */

static const char *
type_name(uint8_t t)
{
    switch (t) {
    case CB_T_N:  return "an integer";
    case CB_T_M:  return "an amount with at most 2 decimals";
    case CB_T_D:  return "a date";
    case CB_T_DT: return "a date-time";
    default:      return "valid";
    }
}

static void
fmt01_field(struct qc_ctx *c, int id)
{
    const struct qc_field *f = &c->qc->field[id];
    uint8_t st = c->r->state[id];
    struct cb_str s;
    size_t len;
    char k[32];

    if (st == CB_FS_EMPTY)
        return;
    if (st == CB_FS_BAD) {
        qc__report(c, QC_FMT_01, id, "%s is not %s",
                   qc__key(id, k, sizeof(k)), type_name(f->type));
        return;
    }
    if (f->type == CB_T_M && st == CB_FS_OK && c->r->val[id] < 0) {
        qc__report(c, QC_FMT_01, id, "%s is negative",
                   qc__key(id, k, sizeof(k)));
        return;
    }
    /* Untrimmed bytes bound the characters from above. */
    if (!f->max_len || c->r->v[id].len <= f->max_len)
        return;
    s = cb_str_trim(c->r->v[id]);
    len = s.len;
    if (f->type == CB_T_N && len && (s.ptr[0] == '-' || s.ptr[0] == '+'))
        len--;
    if (len <= f->max_len)
        return;
    if (f->type == CB_T_N || f->type == CB_T_M ||
        cb_str_utf8_len(s) > f->max_len)
        qc__report(c, QC_FMT_01, id, "%s is longer than %u %s",
                   qc__key(id, k, sizeof(k)), (unsigned)f->max_len,
                   f->type == CB_T_N ? "digits" : "characters");
}

/*
 * False when fmt01_field has nothing to report on a field (true does not
 * mean it has: the length test is on bytes). check_fmt01's pre-scan
 * repeats this test inline.
 */
static inline bool
fmt01_suspect(const struct qc_ctx *c, int id)
{
    const struct qc_field *f = &c->qc->field[id];
    uint8_t st = c->r->state[id];

    if (c->r->v[id].len > f->len_lim)
        return true;
    return st >= CB_FS_OK &&
           (st == CB_FS_BAD ||
            (f->type == CB_T_M && c->r->val[id] < 0));
}

static void
check_fmt01(struct qc_ctx *c)
{
    const uint8_t *st = c->r->state;
    int id, end, end_dx, end_px;

    if (!qc_on(c, QC_FMT_01))
        return;
    end_dx = cb_fp_dx(c->ndx + 1, CB_DX_CODE);
    end_px = cb_fp_px(c->npx + 1, CB_PX_CODE);
    if (c->r->set_tracked) {
        /*
         * Only assigned fields can be filled. Most records have nothing to
         * report: find that out in assignment order, then, if needed,
         * visit the assigned fields in field order (the order of the scan
         * below, so the issues come out the same).
         */
        const struct cb_fp *r = c->r;
        const struct qc_field *fld = c->qc->field;
        const struct cb_str *v = r->v;
        uint16_t k, nset = r->nset;
        const uint16_t *ids = r->set_ids;

        for (k = 0; k < nset; k++) {
            int i = ids[k];
            if (v[i].len > fld[i].len_lim)
                break;
            if (st[i] >= CB_FS_OK &&
                (st[i] == CB_FS_BAD || (fld[i].type == CB_T_M && r->val[i] < 0)))
                break;
        }
        if (k == nset && nset < CB_FP_NFIELDS) /* a full list may miss some */
            return;
        for (id = cb_fp_next_set(c->r, 0); id < CB_FP_NFIELDS;
             id = cb_fp_next_set(c->r, id + 1)) {
            if (id >= end_px || (id >= end_dx && id < CB_FP_PX_BASE))
                continue;
            if (st[id] != CB_FS_EMPTY && fmt01_suspect(c, id))
                fmt01_field(c, id);
        }
        return;
    }
    /* Scalars, then the used part of each repeating group. */
    for (id = 0; id < CB_F__SCALARS; id++)
        if (st[id] != CB_FS_EMPTY && fmt01_suspect(c, id))
            fmt01_field(c, id);
    for (id = CB_FP_DX_BASE; id < end_dx; id++)
        if (st[id] != CB_FS_EMPTY && fmt01_suspect(c, id))
            fmt01_field(c, id);
    end = end_px;
    for (id = CB_FP_PX_BASE; id < end; id++)
        if (st[id] != CB_FS_EMPTY && fmt01_suspect(c, id))
            fmt01_field(c, id);
}

/* True when every element of a comma-separated set (',' or '，') is in vs. */
static bool
set_all_in(const struct cb_qc *qc, int vs, struct cb_str s)
{
    static const char fwcomma[] = "\xef\xbc\x8c"; /* U+FF0C ， */
    size_t i = 0, start = 0;

    while (i <= s.len) {
        size_t seplen = 0;
        if (i == s.len || s.ptr[i] == ',')
            seplen = 1;
        else if (i + 3 <= s.len && memcmp(s.ptr + i, fwcomma, 3) == 0)
            seplen = 3;
        if (seplen) {
            struct cb_str e = cb_str_trim(cb_str_make(s.ptr + start,
                                                      i - start));
            if (e.len && !qc__in_vs(qc, vs, e))
                return false;
            i += seplen;
            start = i;
        } else {
            i++;
        }
    }
    return true;
}

static void
check_fmt02(struct qc_ctx *c)
{
    const struct cb_qc *qc = c->qc;
    char k[32];
    int i;

    if (!qc_on(c, QC_FMT_02))
        return;
    for (i = 0; i < qc->ngeneric; i++) {
        int id = qc->generic[i], vs = qc->field[id].vset;
        bool ok;

        if (c->r->state[id] != CB_FS_TEXT)
            continue;
        ok = qc->field[id].type == CB_T_S
                 ? set_all_in(qc, vs, c->r->v[id])
                 : qc__in_vs(qc, vs, c->r->v[id]);
        if (!ok)
            qc__report(c, QC_FMT_02, id, "%s is not in value set %s",
                       qc__key(id, k, sizeof(k)), qc->vs_table[vs]);
    }
}

static bool
all_digits(struct cb_str s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return false;
    return true;
}

static void
check_postcodes(struct qc_ctx *c)
{
    static const int yb[] = { CB_F_YB1, CB_F_YB2, CB_F_YB3 };
    size_t i;

    for (i = 0; i < sizeof(yb) / sizeof(yb[0]); i++) {
        struct cb_str s = cb_str_trim(c->r->v[yb[i]]);
        char k[8];
        if (qc_empty(c, yb[i]))
            continue;
        if (s.len != 6 || !all_digits(s))
            qc__report(c, QC_FMT_03, yb[i], "%s is not 6 digits",
                       qc__key(yb[i], k, sizeof(k)));
    }
}

static int
num(const char *p, int n)
{
    int v = 0;

    while (n-- > 0)
        v = v * 10 + (*p++ - '0');
    return v;
}

/* QC-FMT-04; SFZH is "R (std)": an empty one is only a warning. */
static void
check_sfzh(struct qc_ctx *c)
{
    static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8,
                               4, 2 };
    static const char check[] = "10X98765432";
    struct cb_str s = cb_str_trim(c->r->v[CB_F_SFZH]);
    int i, sum = 0, y, m, d;
    char last;

    if (!qc_on(c, QC_FMT_04))
        return;
    if (qc_empty(c, CB_F_SFZH)) {
        qc__report(c, QC_FMT_04, CB_F_SFZH, "SFZH is empty (required by the "
                   "standard, conditional: patients without an ID number)");
        return;
    }
    if (s.len == 15) {
        if (!all_digits(s))
            qc__report(c, QC_FMT_04, CB_F_SFZH,
                       "15-character SFZH must be all digits");
        return;
    }
    if (s.len != 18) {
        qc__report(c, QC_FMT_04, CB_F_SFZH,
                   "SFZH has %zu characters, expected 15 or 18", s.len);
        return;
    }
    if (!all_digits(cb_str_make(s.ptr, 17))) {
        qc__report(c, QC_FMT_04, CB_F_SFZH,
                   "SFZH: the first 17 characters must be digits");
        return;
    }
    for (i = 0; i < 17; i++)
        sum += (s.ptr[i] - '0') * w[i];
    last = s.ptr[17] == 'x' ? 'X' : s.ptr[17];
    if (last != check[sum % 11]) {
        qc__report(c, QC_FMT_04, CB_F_SFZH,
                   "SFZH check character is wrong (ISO 7064 MOD 11-2)");
        return;
    }
    y = num(s.ptr + 6, 4);
    m = num(s.ptr + 10, 2);
    d = num(s.ptr + 12, 2);
    if (m < 1 || m > 12 || d < 1 || d > 31) {
        qc__report(c, QC_FMT_04, CB_F_SFZH,
                   "SFZH embedded birth date is not a date");
        return;
    }
    if (c->has_csrq && cb_days_from_civil(y, m, d) != c->csrq)
        qc__report(c, QC_FMT_04, CB_F_SFZH,
                   "SFZH embedded birth date differs from CSRQ");
}

/* ---- QC-ID-01, QC-DATE-*, QC-DEM-* ---- */

static void
check_dates(struct qc_ctx *c)
{
    const struct cb_fp *r = c->r;
    int64_t v, rysj = r->val[CB_F_RYSJ], cysj = r->val[CB_F_CYSJ];
    bool day_only = r->dt_date_only_rysj || r->dt_date_only_cysj;
    bool ordered = true;
    char k[32];
    int n;

    if (qc_val(c, CB_F_ZYCS, &v) && v <= 0)
        qc__report(c, QC_ID_01, CB_F_ZYCS, "ZYCS is %" PRId64
                   ", must be > 0", v);

    if (c->has_csrq && c->has_rysj && c->csrq > c->rysj_day)
        qc__report(c, QC_DATE_01, CB_F_CSRQ,
                   "CSRQ is after the admission date");
    if (c->has_rysj && c->has_cysj &&
        (day_only ? c->rysj_day > c->cysj_day : rysj > cysj)) {
        ordered = false;
        qc__report(c, QC_DATE_01, CB_F_CYSJ, "CYSJ is before RYSJ");
    }

    if (qc_val(c, CB_F_SJZYTS, &v)) {
        if (c->has_rysj && c->has_cysj && c->cysj_day >= c->rysj_day) {
            int64_t want = c->cysj_day - c->rysj_day;
            if (want < 1)
                want = 1;
            if (v != want)
                qc__report(c, QC_DATE_02, CB_F_SJZYTS, "SJZYTS is %" PRId64
                           ", the dates give %" PRId64, v, want);
        } else if (v <= 0 && ordered) {
            qc__report(c, QC_DATE_02, CB_F_SJZYTS, "SJZYTS is %" PRId64
                       ", must be > 0", v);
        }
    }

    if (c->has_rysj && c->has_cysj && ordered && qc_on(c, QC_DATE_03))
        for (n = 1; n <= c->npx; n++) {
            int id = cb_fp_px(n, CB_PX_DATE);
            bool late;
            if (!qc_val(c, id, &v))
                continue;
            late = r->dt_date_only_cysj ? cb_day_of(v) > c->cysj_day
                                        : v > cysj;
            if (cb_day_of(v) < c->rysj_day || late)
                qc__report(c, QC_DATE_03, id, "%s is %s the stay",
                           qc__key(id, k, sizeof(k)),
                           late ? "after" : "before");
        }

    if (c->has_cysj && qc_val(c, CB_F_ZKRQ, &v) && v < c->cysj_day)
        qc__report(c, QC_DATE_04, CB_F_ZKRQ,
                   "ZKRQ is before the discharge date");
}

static void
check_age(struct qc_ctx *c)
{
    int64_t nl, days = -1, bz;
    bool dates = c->has_csrq && c->has_rysj && c->csrq <= c->rysj_day;

    if (dates)
        days = c->rysj_day - c->csrq;
    if (!qc_val(c, CB_F_NL, &nl))
        return;
    if (nl < 0) {
        qc__report(c, QC_DEM_01, CB_F_NL, "NL is negative");
    } else if (dates) {
        int y = cb_completed_years(c->csrq, c->rysj_day);
        if (nl != y)
            qc__report(c, QC_DEM_01, CB_F_NL, "NL is %" PRId64
                       ", completed years at admission are %d", nl, y);
    }
    if (nl > 120)
        qc__report(c, QC_DEM_03, CB_F_NL, "NL is above 120");

    if (nl == 0) {
        if (qc_empty(c, CB_F_BZYZS_NL))
            qc__report(c, QC_DEM_02, CB_F_BZYZS_NL,
                       "BZYZS_NL is required when NL = 0");
        else if (!qc_val(c, CB_F_BZYZS_NL, &bz))
            return;  /* QC-FMT-01 */
        else if (bz < 0 || bz > 364)
            qc__report(c, QC_DEM_02, CB_F_BZYZS_NL,
                       "BZYZS_NL is %" PRId64 ", must be 0..364", bz);
        else if (days >= 0 && days <= 364 && bz != days)
            qc__report(c, QC_DEM_02, CB_F_BZYZS_NL, "BZYZS_NL is %" PRId64
                       ", days from CSRQ to admission are %" PRId64, bz, days);
    } else if (nl >= 1 && !qc_empty(c, CB_F_BZYZS_NL)) {
        qc__report(c, QC_DEM_02B, CB_F_BZYZS_NL,
                   "BZYZS_NL is filled although NL >= 1");
    }
}

/* ---- QC-DIS-*, QC-COMA-*, QC-DEPT-01 ---- */

static void
check_discharge(struct qc_ctx *c)
{
    bool lyfs = !qc_empty(c, CB_F_LYFS);
    bool transfer2 = qc__is(c, CB_F_LYFS, "2");
    bool transfer3 = qc__is(c, CB_F_LYFS, "3");
    bool death = qc__is(c, CB_F_LYFS, "5");
    bool yz = !qc_empty(c, CB_F_YZZY_YLJG), wsy = !qc_empty(c, CB_F_WSY_YLJG);

    /* The Western file has one field (B35) for both kinds of transfer. */
    if (c->std == CB_STD_WESTERN) {
        if ((transfer2 || transfer3) && !yz && !wsy)
            qc__report(c, QC_DIS_01,
                       transfer2 ? CB_F_YZZY_YLJG : CB_F_WSY_YLJG,
                       "receiving institution (B35) is required when LYFS = %s",
                       transfer2 ? "2" : "3");
    } else if (transfer2 && !yz) {
        qc__report(c, QC_DIS_01, CB_F_YZZY_YLJG,
                   "YZZY_YLJG is required when LYFS = 2");
    } else if (transfer3 && !wsy) {
        qc__report(c, QC_DIS_01, CB_F_WSY_YLJG,
                   "WSY_YLJG is required when LYFS = 3");
    }

    if (death) {
        if (!qc__is(c, CB_F_SWHZSJ, "1") && !qc__is(c, CB_F_SWHZSJ, "2"))
            qc__report(c, c->std == CB_STD_TCM ? QC_DIS_02 : QC_DIS_02B,
                       CB_F_SWHZSJ, "SWHZSJ must be 1 or 2 when LYFS = 5");
    } else if (!qc_empty(c, CB_F_SWHZSJ)) {
        if (lyfs)
            qc__report(c, QC_DIS_03, CB_F_SWHZSJ,
                       "SWHZSJ is filled although LYFS is not 5");
        if (!qc__in_vs(c->qc, QC_VS_RC016, c->r->v[CB_F_SWHZSJ]))
            qc__report(c, QC_FMT_02, CB_F_SWHZSJ,
                       "SWHZSJ is not in value set RC016");
    }

    if (qc__is(c, CB_F_SFZZYJH, "2") && qc_empty(c, CB_F_MD))
        qc__report(c, QC_DIS_04, CB_F_MD,
                   "MD is required when a readmission is planned");
}

static void
check_coma(struct qc_ctx *c)
{
    static const struct { int id; int64_t max; } lim[] = {
        { CB_F_RYQ_T, INT64_MAX }, { CB_F_RYQ_XS, 23 }, { CB_F_RYQ_F, 59 },
        { CB_F_RYH_T, INT64_MAX }, { CB_F_RYH_XS, 23 }, { CB_F_RYH_F, 59 },
    };
    bool head = qc__codeset_match(&c->qc->head_injury, &c->jbdm) >= 0;
    char k[16];
    size_t i;
    int64_t v;

    for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
        int id = lim[i].id;
        if (qc_val(c, id, &v) && (v < 0 || v > lim[i].max)) {
            if (lim[i].max == INT64_MAX)
                qc__report(c, QC_COMA_01, id, "%s must be >= 0",
                           qc__key(id, k, sizeof(k)));
            else
                qc__report(c, QC_COMA_01, id, "%s must be 0..%" PRId64,
                           qc__key(id, k, sizeof(k)), lim[i].max);
        }
        if (head && qc_empty(c, id))
            qc__report(c, QC_COMA_02, id, "%s must be filled (0 allowed) "
                       "for a head injury (S00-S09)",
                       qc__key(id, k, sizeof(k)));
    }
}

static void
check_departments(struct qc_ctx *c)
{
    static const int dept[] = { CB_F_RYKB, CB_F_CYKB };
    int vs = c->std == CB_STD_TCM ? QC_VS_RC023_TCM : QC_VS_RC023;
    char k[8];
    size_t i;

    for (i = 0; i < sizeof(dept) / sizeof(dept[0]); i++)
        if (!qc_empty(c, dept[i]) &&
            !qc__in_vs(c->qc, vs, c->r->v[dept[i]]))
            qc__report(c, QC_DEPT_01, dept[i], "%s is not in RC023",
                       qc__key(dept[i], k, sizeof(k)));
    if (!qc_empty(c, CB_F_ZKKB) && !set_all_in(c->qc, vs, c->r->v[CB_F_ZKKB]))
        qc__report(c, QC_DEPT_01, CB_F_ZKKB,
                   "an element of ZKKB is not in RC023");
}

/* ---- QC-BLD-01, QC-ALG-01, QC-DOC-01 ---- */

static void
check_clinical_misc(struct qc_ctx *c)
{
    static const int doc[] = { CB_F_KZR, CB_F_ZRYS, CB_F_ZZYS, CB_F_ZYYS,
                               CB_F_ZRHS, CB_F_BMY };
    int64_t xf;
    char k[8];
    size_t i;

    if (qc_val(c, CB_F_XF, &xf) && xf > 0) {
        if (qc__is(c, CB_F_XX, "5") || qc__is(c, CB_F_XX, "6"))
            qc__report(c, QC_BLD_01, CB_F_XX,
                       "XX is unknown or not tested although XF > 0");
        if (qc__is(c, CB_F_RH, "3") || qc__is(c, CB_F_RH, "4"))
            qc__report(c, QC_BLD_01, CB_F_RH,
                       "RH is unknown or not tested although XF > 0");
    }
    if (qc__is(c, CB_F_YWGM, "2") && qc_empty(c, CB_F_GMYW))
        qc__report(c, QC_ALG_01, CB_F_GMYW,
                   "GMYW is required when YWGM = 2");
    for (i = 0; i < sizeof(doc) / sizeof(doc[0]); i++)
        if (qc_empty(c, doc[i]))
            qc__report(c, QC_DOC_01, doc[i], "%s is empty",
                       qc__key(doc[i], k, sizeof(k)));
}

void
qc__check_record(struct qc_ctx *c)
{
    check_required(c);
    check_fmt01(c);
    check_fmt02(c);
    check_postcodes(c);
    check_sfzh(c);
    check_dates(c);
    check_age(c);
    check_discharge(c);
    check_coma(c);
    check_departments(c);
    check_clinical_misc(c);
}

/* ---- QC-COST-* ---- */

/*
 * Amounts beyond this (10^13 yuan; decimal(10,2) allows 10^8) are left out
 * of the cost rules, so that sums of any 30 items cannot overflow.
 */
#define QC_MONEY_MAX INT64_C(1000000000000000)

/* Amount in fen; empty counts 0. False when the item is unusable. */
static bool
money(const struct qc_ctx *c, int id, int64_t *v)
{
    *v = 0;
    if (c->r->state[id] == CB_FS_BAD)
        return false;
    if (c->r->state[id] == CB_FS_OK) {
        if (c->r->val[id] > QC_MONEY_MAX || c->r->val[id] < -QC_MONEY_MAX)
            return false;
        *v = c->r->val[id];
    }
    return true;
}

static const char *
yuan(int64_t fen, char *buf, size_t n)
{
    uint64_t a = fen < 0 ? (uint64_t)0 - (uint64_t)fen : (uint64_t)fen;

    snprintf(buf, n, "%s%" PRIu64 ".%02u", fen < 0 ? "-" : "", a / 100,
             (unsigned)(a % 100));
    return buf;
}

static int64_t
sum_of(const struct qc_ctx *c, const int *ids, size_t n, bool *ok)
{
    int64_t s = 0, v;
    size_t i;

    for (i = 0; i < n; i++) {
        if (!money(c, ids[i], &v))
            *ok = false;
        s += v;
    }
    return s;
}

static void
sub_items(struct qc_ctx *c, int parent, const int *subs, size_t n,
          const char *what)
{
    bool ok = true;
    int64_t p, s = sum_of(c, subs, n, &ok);
    char k[16];

    if (!money(c, parent, &p) || !ok)
        return;
    if (s > p)
        qc__report(c, QC_COST_04, parent, "%s exceed%s %s", what,
                   n == 1 ? "s" : "", qc__key(parent, k, sizeof(k)));
}

void
qc__check_costs(struct qc_ctx *c)
{
    static const int wl[] = { CB_F_WLZLF }, ss[] = { CB_F_MAF, CB_F_SSF },
                     kj[] = { CB_F_KJYWF }, zj[] = { CB_F_ZYZJF },
                     zl[] = { CB_F_ZYWZ, CB_F_ZYGS, CB_F_ZCYJF, CB_F_ZYTNZL,
                              CB_F_ZYGCZL, CB_F_ZYTSZL },
                     mat[] = { CB_F_HCYYCLF, CB_F_YYCLF, CB_F_YCXYYCLF };
    int64_t zfy = 0, v, items, los;
    bool has_zfy = qc_val(c, CB_F_ZFY, &zfy) && money(c, CB_F_ZFY, &zfy);
    bool ok = true;
    char b1[32], b2[32];
    int n;

    if (has_zfy && zfy <= 0)
        qc__report(c, QC_COST_01, CB_F_ZFY, "ZFY must be > 0");

    items = sum_of(c, cb_fp_cost_items, 24, &ok);
    if (has_zfy && ok) {
        if (zfy < items - 1)
            qc__report(c, QC_COST_02, CB_F_ZFY, "the 24 cost items add up to "
                       "%s, more than ZFY %s", yuan(items, b1, sizeof(b1)),
                       yuan(zfy, b2, sizeof(b2)));
        else if (zfy - items > 1)
            qc__report(c, QC_COST_03, CB_F_ZFY, "ZFY %s exceeds the sum of "
                       "the 24 cost items %s", yuan(zfy, b1, sizeof(b1)),
                       yuan(items, b2, sizeof(b2)));
    }

    sub_items(c, CB_F_FSSZLXMF, wl, 1, "WLZLF");
    sub_items(c, CB_F_SSZLF, ss, 2, "MAF + SSF");
    sub_items(c, CB_F_XYF, kj, 1, "KJYWF");
    sub_items(c, CB_F_ZCYF, zj, 1, "ZYZJF");
    sub_items(c, CB_F_ZYZL, zl, 6, "the TCM treatment sub-items");

    if (has_zfy && qc_val(c, CB_F_ZFJE, &v) && money(c, CB_F_ZFJE, &v) &&
        v > zfy)
        qc__report(c, QC_COST_05, CB_F_ZFJE, "ZFJE exceeds ZFY");

    if (qc_val(c, CB_F_SJZYTS, &los) && los > 1 && qc_on(c, QC_COST_06)) {
        if (money(c, CB_F_YLFUF, &v) && v <= 0)
            qc__report(c, QC_COST_06, CB_F_YLFUF,
                       "YLFUF is 0 for a stay of more than 1 day");
        if (money(c, CB_F_HLF, &v) && v <= 0)
            qc__report(c, QC_COST_06, CB_F_HLF,
                       "HLF is 0 for a stay of more than 1 day");
        ok = true;
        if (sum_of(c, mat, 3, &ok) <= 0 && ok)
            qc__report(c, QC_COST_06, CB_F_HCYYCLF, "MATERIAL (HCYYCLF + "
                       "YYCLF + YCXYYCLF) is 0 for a stay of more than 1 day");
        if (has_zfy && money(c, CB_F_QTF, &v) && v >= zfy)
            qc__report(c, QC_COST_06, CB_F_QTF, "QTF is not less than ZFY");
    }

    if (qc_on(c, QC_COST_07)) {
        bool anaes = false;
        for (n = 1; n <= c->npx && !anaes; n++)
            anaes = !qc_empty(c, cb_fp_px(n, CB_PX_CODE)) &&
                    !qc_empty(c, cb_fp_px(n, CB_PX_MZFS));
        if (anaes && money(c, CB_F_MAF, &v) && v <= 0)
            qc__report(c, QC_COST_07, CB_F_MAF,
                       "MAF is 0 although an anaesthesia is recorded");
        if (c->any_surgery && money(c, CB_F_SSF, &v) && v <= 0)
            qc__report(c, QC_COST_07, CB_F_SSF,
                       "SSF is 0 although an operation is recorded");
    }
}
