/*
 * qc.c - the data-quality rule set: loading, the rule table, issue
 * reporting and the entry point cb_qc_check().
 *
 * <datadir>/qc/rules.tsv is the one place where rule names and severities
 * live: id, severity (E, W or off), name_zh, name_en, basis. Its ids must be
 * exactly the ids of QC_RULES (qc_int.h); a missing or an unknown id is a
 * load error, so the code and the file cannot drift apart.
 *
 * Everything that can be resolved before seeing a record is resolved here:
 * rule ids to indexes, value-set tables to hash maps (own copies, so a
 * membership test is one hash probe), per-field length limits and the lists
 * of required and value-set fields. cb_qc_check() allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/tsvfile.h"
#include "qc_int.h"

const char *const qc__rule_ids[QC__NRULES] = {
#define X(e, id) id,
    QC_RULES(X)
#undef X
};

/* ---- rules.tsv ---- */

struct rules_ctx {
    struct cb_qc *qc;
    int  cid, csev, czh, cen;
    bool seen[QC__NRULES];
};

static enum cb_err
rules_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct rules_ctx *rc = ctx;

    rc->cid = cb_tsv_col(l, "id");
    rc->csev = cb_tsv_col(l, "severity");
    rc->czh = cb_tsv_col(l, "name_zh");
    rc->cen = cb_tsv_col(l, "name_en");
    if (rc->cid < 0 || rc->csev < 0 || rc->czh < 0 || rc->cen < 0) {
        cb_errf(err, "'%s' needs columns 'id', 'severity', 'name_zh' and "
                "'name_en'", l->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static struct cb_str
rcol(const struct cb_tsv_line *l, int i)
{
    return (size_t)i < l->ncols ? cb_str_trim(l->col[i]) : CB_STR_NULL;
}

static enum cb_err
rules_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct rules_ctx *rc = ctx;
    struct cb_qc *qc = rc->qc;
    struct cb_str id = rcol(l, rc->cid), sev = rcol(l, rc->csev);
    struct cb_str zh = rcol(l, rc->czh), en = rcol(l, rc->cen);
    uint32_t rule;

    if (!cb_strmap_get(&qc->rule_index, id, &rule)) {
        cb_errf(err, "%s:%lu: unknown rule id '%.*s'", l->path, l->lineno,
                (int)id.len, id.ptr);
        return CB_ERR_PROTO;
    }
    if (rc->seen[rule]) {
        cb_errf(err, "%s:%lu: rule '%s' listed twice", l->path, l->lineno,
                qc__rule_ids[rule]);
        return CB_ERR_PROTO;
    }
    rc->seen[rule] = true;
    if (cb_str_eqz(sev, "E"))
        qc->sev[rule] = CB_SEV_E;
    else if (cb_str_eqz(sev, "W"))
        qc->sev[rule] = CB_SEV_W;
    else if (cb_str_eqz(sev, "off"))
        qc->sev[rule] = CB_SEV_OFF;
    else {
        cb_errf(err, "%s:%lu: severity of '%s' must be E, W or off",
                l->path, l->lineno, qc__rule_ids[rule]);
        return CB_ERR_PROTO;
    }
    if (zh.len == 0 || en.len == 0) {
        cb_errf(err, "%s:%lu: rule '%s' needs a Chinese and an English name",
                l->path, l->lineno, qc__rule_ids[rule]);
        return CB_ERR_PROTO;
    }
    qc->name_zh[rule] = cb_strndup(zh.ptr, zh.len);
    qc->name_en[rule] = cb_strndup(en.ptr, en.len);
    if (!qc->name_zh[rule] || !qc->name_en[rule])
        return CB_ERR_NOMEM;
    return CB_OK;
}

static enum cb_err
load_rules(struct cb_qc *qc, const char *datadir, struct cb_buf *err)
{
    struct rules_ctx rc;
    char path[4096];
    enum cb_err e;
    int i;

    memset(&rc, 0, sizeof(rc));
    rc.qc = qc;
    for (i = 0; i < QC__NRULES; i++) {
        e = cb_strmap_put(&qc->rule_index, cb_str_c(qc__rule_ids[i]),
                          (uint32_t)i);
        if (e)
            return e;
    }
    if ((size_t)snprintf(path, sizeof(path), "%s/qc/rules.tsv", datadir) >=
        sizeof(path)) {
        cb_errf(err, "data directory path too long");
        return CB_ERR_TOO_LARGE;
    }
    e = cb_tsv_read(path, rules_header, rules_line, &rc, err);
    if (e)
        return e;
    for (i = 0; i < QC__NRULES; i++)
        if (!rc.seen[i]) {
            cb_errf(err, "rule '%s' is missing from '%s'", qc__rule_ids[i],
                    path);
            e = CB_ERR_PROTO;
        }
    return e;
}

/* ---- value sets and field table ---- */

static enum cb_err
vs_fill(struct cb_qc *qc, struct cb_strmap *m, enum cb_vs_std std,
        const char *table, struct cb_buf *err)
{
    const struct cb_str *codes;
    size_t i, n = cb_refdata_set_members(qc->rd, std, table, &codes);
    enum cb_err rc;

    if (n == 0) {
        cb_errf(err, "value set '%s' is missing from the reference data",
                table);
        return CB_ERR_NOT_FOUND;
    }
    for (i = 0; i < n; i++)
        if ((rc = cb_strmap_put(m, cb_str_trim(codes[i]), 1)))
            return rc;
    return CB_OK;
}

/* Index of the value set of table (created on first use), or -1. */
static int
vs_get(struct cb_qc *qc, const char *table, enum cb_err *rc,
       struct cb_buf *err)
{
    static const char *const old_rc032[] = { "1", "2", "3" };
    static const char *const padded_rc036[] = { "01", "02", "03", "04", "05",
                                                "06", "07", "08", "09" };
    int i;
    size_t k;

    for (i = 0; i < qc->nvs; i++)
        if (qc->vs_table[i] && strcmp(qc->vs_table[i], table) == 0)
            return i;
    if (qc->nvs >= QC_MAX_VS) {
        cb_errf(err, "too many value sets (more than %d)", QC_MAX_VS);
        *rc = CB_ERR_TOO_LARGE;
        return -1;
    }
    i = qc->nvs++;
    qc->vs_table[i] = table;
    if ((*rc = vs_fill(qc, &qc->vs[i], CB_VS_WESTERN, table, err)))
        return -1;
    /* Spec a.11: the 2011 single-digit payment codes; RC036 "01".."09". */
    if (strcmp(table, "RC032") == 0)
        for (k = 0; k < sizeof(old_rc032) / sizeof(old_rc032[0]); k++)
            if ((*rc = cb_strmap_put(&qc->vs[i], cb_str_c(old_rc032[k]), 1)))
                return -1;
    if (strcmp(table, "RC036") == 0)
        for (k = 0; k < sizeof(padded_rc036) / sizeof(padded_rc036[0]); k++)
            if ((*rc = cb_strmap_put(&qc->vs[i], cb_str_c(padded_rc036[k]),
                                     1)))
                return -1;
    return i;
}

static bool
has_own_rule(int id)
{
    switch (id) {
    case CB_F_RYKB: case CB_F_CYKB: case CB_F_ZKKB:  /* QC-DEPT-01 */
    case CB_F_RYBQ:                                  /* QC-DX-02 */
    case CB_F_SWHZSJ:                                /* QC-DIS-02/03 */
        return true;
    default:
        return false;
    }
}

static bool
is_doc_field(int id)
{
    return id == CB_F_KZR || id == CB_F_ZRYS || id == CB_F_ZZYS ||
           id == CB_F_ZYYS || id == CB_F_ZRHS || id == CB_F_BMY;
}

static enum cb_err
load_fields(struct cb_qc *qc, struct cb_buf *err)
{
    static const struct { int vs; const char *table; } fixed[] = {
        { QC_VS_RC013, "RC013" }, { QC_VS_RC016, "RC016" },
        { QC_VS_RC023, "RC023" }, { QC_VS_RC023_TCM, "RC023" },
        { QC_VS_RC027, "RC027" }, { QC_VS_RC029, "RC029" },
    };
    enum cb_err rc = CB_OK;
    size_t k;
    int id;

    for (k = 0; k < sizeof(fixed) / sizeof(fixed[0]); k++) {
        qc->vs_table[fixed[k].vs] = fixed[k].vs == QC_VS_RC023_TCM
                                        ? NULL : fixed[k].table;
        if ((rc = vs_fill(qc, &qc->vs[fixed[k].vs], CB_VS_WESTERN,
                          fixed[k].table, err)))
            return rc;
    }
    /* QC-DEPT-01, TCM profile: the union of the TCM and Western tables. */
    if ((rc = vs_fill(qc, &qc->vs[QC_VS_RC023_TCM], CB_VS_TCM, "RC023", err)))
        return rc;
    qc->nvs = QC_VS__FIXED;

    for (id = 0; id < CB_FP_NFIELDS; id++) {
        const struct cb_fp_field_info *fi = cb_fp_field(id);
        struct qc_field *f = &qc->field[id];

        f->type = (uint8_t)fi->type;
        f->vset = -1;
        /*
         * Dates are checked by parsing. A code (K) is checked by its value
         * set alone: a member is valid whatever its length (TCM RC023 codes
         * such as "50.01.01" are longer than the Western six digits).
         */
        f->max_len = fi->type == CB_T_D || fi->type == CB_T_DT ||
                     fi->type == CB_T_K ? 0 : (uint16_t)fi->max_len;
        /* Postcodes and SFZH have their own format rules. */
        if (id == CB_F_YB1 || id == CB_F_YB2 || id == CB_F_YB3 ||
            id == CB_F_SFZH)
            f->max_len = 0;
        f->len_lim = f->max_len ? f->max_len : UINT16_MAX;
        if (id >= CB_F__SCALARS)
            continue;
        if (fi->req == CB_REQ_R && !is_doc_field(id)) {
            if (qc->nreq >= QC_MAX_LIST)
                return CB_ERR_TOO_LARGE;
            qc->req[qc->nreq++] = id;
        }
        if ((fi->type == CB_T_K || fi->type == CB_T_S) && fi->value_set &&
            !has_own_rule(id)) {
            int v = vs_get(qc, fi->value_set, &rc, err);
            if (v < 0)
                return rc ? rc : CB_ERR_PROTO;
            f->vset = (int8_t)v;
            if (qc->ngeneric >= QC_MAX_LIST)
                return CB_ERR_TOO_LARGE;
            qc->generic[qc->ngeneric++] = id;
        }
    }
    return CB_OK;
}

/* ---- short codes of a value set ---- */

static inline uint64_t
short_key(struct cb_str s)
{
    uint64_t k = (uint64_t)s.len << 56;
    size_t i;

    for (i = 0; i < s.len; i++)
        k |= (uint64_t)(unsigned char)s.ptr[i] << (8 * i);
    return k;
}

static inline uint32_t
short_slot(uint64_t key, uint32_t mask)
{
    return (uint32_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >> 40) & mask;
}

/* Fills vs_short[i] from the codes of 2..7 bytes of value set i. */
static enum cb_err
short_codes_build(struct cb_qc *qc, int i)
{
    const struct cb_strmap *m = &qc->vs[i];
    uint32_t size = 16;
    struct cb_str key;
    size_t k;

    while (size < 2 * m->count + 16)
        size *= 2;
    qc->vs_short[i] = cb_calloc(size, sizeof(uint64_t));
    if (!qc->vs_short[i])
        return CB_ERR_NOMEM;
    qc->vs_short_mask[i] = size - 1;
    for (k = 0; k < m->nslots; k++) {
        uint64_t sk;
        uint32_t h;

        if (!cb_strmap_slot_key(m, k, &key, NULL) || key.len < 2 || key.len > 7)
            continue;
        sk = short_key(key);
        for (h = short_slot(sk, size - 1); qc->vs_short[i][h] && qc->vs_short[i][h] != sk;
             h = (h + 1) & (size - 1))
            ;
        qc->vs_short[i][h] = sk;
    }
    return CB_OK;
}

/* ---- public: loading ---- */

enum cb_err
cb_qc_load(struct cb_qc **out, const char *datadir,
           const struct cb_refdata *rd, struct cb_buf *err)
{
    struct cb_qc *qc;
    enum cb_err rc;

    *out = NULL;
    if (!datadir)
        datadir = CB_DEFAULT_DATADIR;
    if (!rd) {
        cb_errf(err, "no reference data for the quality rules");
        return CB_ERR_USAGE;
    }
    qc = cb_calloc(1, sizeof(*qc));
    if (!qc)
        return CB_ERR_NOMEM;
    qc->rd = rd;
    if ((rc = load_rules(qc, datadir, err)) ||
        (rc = load_fields(qc, err)) ||
        (rc = qc__load_lists(qc, datadir, err))) {
        if (rc == CB_ERR_NOMEM)
            cb_errf(err, "out of memory loading quality rules");
        cb_qc_free(qc);
        return rc;
    }
    /*
     * Most codes checked against a value set are one character ("1", "9"):
     * those are answered from a bit set instead of the hash map.
     */
    for (int i = 0; i < qc->nvs; i++)
        for (size_t k = 0; k < qc->vs[i].nslots; k++) {
            struct cb_str key;
            if (cb_strmap_slot_key(&qc->vs[i], k, &key, NULL) && key.len == 1) {
                unsigned char c = (unsigned char)key.ptr[0];
                qc->vs_one[i][c >> 6] |= (uint64_t)1 << (c & 63);
            }
        }
    for (int i = 0; i < qc->nvs; i++)
        if ((rc = short_codes_build(qc, i))) {
            cb_qc_free(qc);
            return rc;
        }
    *out = qc;
    return CB_OK;
}

void
cb_qc_free(struct cb_qc *qc)
{
    int i;

    if (!qc)
        return;
    for (i = 0; i < QC__NRULES; i++) {
        cb_free(qc->name_zh[i]);
        cb_free(qc->name_en[i]);
    }
    cb_strmap_release(&qc->rule_index);
    for (i = 0; i < QC_MAX_VS; i++) {
        cb_strmap_release(&qc->vs[i]);
        cb_free(qc->vs_short[i]);
    }
    qc__free_lists(qc);
    cb_free(qc);
}

/* ---- public: rule table ---- */

int
cb_qc_rule_count(const struct cb_qc *qc)
{
    (void)qc;
    return QC__NRULES;
}

const char *
cb_qc_rule_id(const struct cb_qc *qc, int rule)
{
    (void)qc;
    return rule >= 0 && rule < QC__NRULES ? qc__rule_ids[rule] : "";
}

const char *
cb_qc_rule_name_zh(const struct cb_qc *qc, int rule)
{
    return rule >= 0 && rule < QC__NRULES && qc->name_zh[rule]
               ? qc->name_zh[rule] : "";
}

const char *
cb_qc_rule_name_en(const struct cb_qc *qc, int rule)
{
    return rule >= 0 && rule < QC__NRULES && qc->name_en[rule]
               ? qc->name_en[rule] : "";
}

enum cb_qc_sev
cb_qc_rule_sev(const struct cb_qc *qc, int rule)
{
    return rule >= 0 && rule < QC__NRULES ? qc->sev[rule] : CB_SEV_OFF;
}

int
cb_qc_rule_find(const struct cb_qc *qc, const char *id)
{
    uint32_t rule;

    if (!id || !cb_strmap_get(&qc->rule_index, cb_str_c(id), &rule))
        return -1;
    return (int)rule;
}

const char *
cb_qc_sev_name(enum cb_qc_sev s)
{
    switch (s) {
    case CB_SEV_OFF: return "off";
    case CB_SEV_W:   return "W";
    case CB_SEV_E:   return "E";
    }
    return "?";
}

/* ---- issues ---- */

/* Counts the issue and returns its slot, or NULL past the cap. */
static struct cb_qc_issue *
add_issue(struct cb_qc_result *res, int rule, enum cb_qc_sev sev, int field,
          struct cb_str value)
{
    struct cb_qc_issue *is;

    if (sev == CB_SEV_E)
        res->nerrors++;
    else
        res->nwarnings++;
    if (res->n >= CB_QC_MAX_ISSUES) {
        res->ndropped++;
        return NULL;
    }
    is = &res->issue[res->n++];
    is->rule = rule;
    is->sev = sev;
    is->field = field;
    is->value = value;
    is->detail[0] = '\0';
    return is;
}

void
cb_qc_add_issue(const struct cb_qc *qc, struct cb_qc_result *res,
                const char *rule_id, int field, struct cb_str value,
                const char *detail)
{
    struct cb_qc_issue *is;
    int rule;

    if (!qc || !res)
        return;
    rule = cb_qc_rule_find(qc, rule_id);
    if (rule < 0 || qc->sev[rule] == CB_SEV_OFF)
        return;  /* unknown ids are a caller bug; never crash on them */
    if (field < -1 || field >= CB_FP_NFIELDS)
        field = -1;
    is = add_issue(res, rule, qc->sev[rule], field, value);
    if (is && detail)
        snprintf(is->detail, sizeof(is->detail), "%s", detail);
}

void
qc__report(struct qc_ctx *c, enum qc_rule rule, int field, const char *fmt,
           ...)
{
    enum cb_qc_sev sev = c->qc->sev[rule];
    struct cb_qc_issue *is;
    va_list ap;

    if (sev == CB_SEV_OFF)
        return;
    is = add_issue(c->res, (int)rule, sev, field,
                   field >= 0 ? c->r->v[field] : CB_STR_NULL);
    if (!is)
        return;
    va_start(ap, fmt);
    vsnprintf(is->detail, sizeof(is->detail), fmt, ap);
    va_end(ap);
}

const char *
qc__key(int id, char *buf, size_t n)
{
    return cb_fp_key(id, buf, n);
}

bool
qc__in_vs(const struct cb_qc *qc, int vs, struct cb_str code)
{
    code = cb_str_trim(code);
    if (code.len == 1) {
        unsigned char c = (unsigned char)code.ptr[0];
        return (qc->vs_one[vs][c >> 6] >> (c & 63)) & 1;
    }
    if (code.len >= 2 && code.len <= 7 && qc->vs_short[vs]) {
        uint64_t sk = short_key(code), have;
        uint32_t mask = qc->vs_short_mask[vs], h = short_slot(sk, mask);

        while ((have = qc->vs_short[vs][h]) != 0) {
            if (have == sk)
                return true;
            h = (h + 1) & mask;
        }
        return false;
    }
    return cb_strmap_has(&qc->vs[vs], code);
}

/* ---- checking ---- */

static void
prepare(struct qc_ctx *c)
{
    const struct cb_fp *r = c->r;
    int64_t v;
    int n;

    c->has_rysj = qc_val(c, CB_F_RYSJ, &v);
    c->rysj_day = c->has_rysj ? cb_day_of(v) : 0;
    c->has_cysj = qc_val(c, CB_F_CYSJ, &v);
    c->cysj_day = c->has_cysj ? cb_day_of(v) : 0;
    c->has_csrq = qc_val(c, CB_F_CSRQ, &c->csrq);
    c->ndx = r->ndx > CB_FP_MAX_DX ? CB_FP_MAX_DX : r->ndx;
    c->npx = r->npx > CB_FP_MAX_PX ? CB_FP_MAX_PX : r->npx;

    qc__code_norm(r->v[CB_F_JBDM], &c->jbdm);
    for (n = 1; n <= c->ndx; n++)
        qc__code_norm(r->v[cb_fp_dx(n, CB_DX_CODE)], &c->dx[n]);
    c->any_surgery = false;
    for (n = 1; n <= c->npx; n++) {
        int id = cb_fp_px(n, CB_PX_CODE);
        c->cat[n] = CB_PXCAT_NONE;
        c->px_known[n] = !qc_empty(c, id) &&
                         cb_refdata_px(c->qc->rd, r->v[id], &c->cat[n], NULL);
        if (c->px_known[n] && c->cat[n] == CB_PXCAT_SURGERY)
            c->any_surgery = true;
    }
}

void
cb_qc_check(const struct cb_qc *qc, const struct cb_fp *r, enum cb_std std,
            struct cb_qc_result *res)
{
    struct qc_ctx c;

    res->n = 0;
    res->nerrors = 0;
    res->nwarnings = 0;
    res->ndropped = 0;
    if (!qc || !r)
        return;
    c.qc = qc;
    c.r = r;
    c.std = std;
    c.res = res;
    prepare(&c);
    qc__check_record(&c);
    qc__check_newborn(&c);
    qc__check_dx(&c);
    qc__check_px(&c);
    qc__check_costs(&c);
}
