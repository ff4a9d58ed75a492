/*
 * qc_lists.c - the user-editable code lists of the data-quality rules,
 * read from <datadir>/qc/ at load time:
 *
 *   invalid-principal.tsv  list, prefix_or_range, note
 *       list "core" (QC-DX-04) or "extended" (QC-DX-04b); prefix_or_range is
 *       a code range ("V01-Y98", "R65", "I25.2") or one of two tokens:
 *       "*"        asterisk (manifestation) codes: marked with '*' in the
 *                  record, or listed as asterisk codes in the dictionary
 *       "M####/#"  morphology codes (M + 4 or 5 digits + '/' + digit)
 *   sex-specific.tsv       sex, range, note        (QC-DX-07)
 *       sex "F" (female-only codes) or "M" (male-only codes)
 *   age-specific.tsv       range, unit, min, max, note   (QC-DX-08)
 *       unit "years" (completed years, NL) or "days" (days of age at
 *       admission); min and max are inclusive, empty = unbounded; a code in
 *       range outside [min, max] is implausible
 *
 * Range syntax: see qc_codes.c.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/refdata.h"
#include "carebase/tsvfile.h"
#include "qc_int.h"

struct list_ctx {
    struct cb_qc *qc;
    int c1, c2, c3, c4;  /* column indexes, meaning per file */
};

static struct cb_str
col(const struct cb_tsv_line *l, int i)
{
    if (i < 0 || (size_t)i >= l->ncols)
        return CB_STR_NULL;
    return cb_str_trim(l->col[i]);
}

static enum cb_err
add_range(struct qc_codeset *set, const struct cb_tsv_line *l,
          struct cb_str text, struct cb_buf *err)
{
    struct qc_range rg;
    enum cb_err rc;

    if (!qc__range_parse(text, &rg)) {
        cb_errf(err, "%s:%lu: bad code range '%.*s'", l->path, l->lineno,
                (int)text.len, text.ptr);
        return CB_ERR_PROTO;
    }
    rc = qc__codeset_add(set, &rg);
    if (rc)
        cb_errf(err, "%s:%lu: cannot add code range '%.*s'", l->path,
                l->lineno, (int)text.len, text.ptr);
    return rc;
}

/* ---- invalid-principal.tsv ---- */

static enum cb_err
inv_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct list_ctx *lc = ctx;

    lc->c1 = cb_tsv_col(l, "list");
    lc->c2 = cb_tsv_col(l, "prefix_or_range");
    if (lc->c1 < 0 || lc->c2 < 0) {
        cb_errf(err, "'%s' needs columns 'list' and 'prefix_or_range'",
                l->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static enum cb_err
inv_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct list_ctx *lc = ctx;
    struct cb_qc *qc = lc->qc;
    struct cb_str list = col(l, lc->c1), what = col(l, lc->c2);
    bool core;

    if (cb_str_eqz(list, "core"))
        core = true;
    else if (cb_str_eqz(list, "extended"))
        core = false;
    else {
        cb_errf(err, "%s:%lu: list must be 'core' or 'extended', not '%.*s'",
                l->path, l->lineno, (int)list.len, list.ptr);
        return CB_ERR_PROTO;
    }
    if (cb_str_eqz(what, "*")) {
        *(core ? &qc->inv_core_asterisk : &qc->inv_ext_asterisk) = true;
        return CB_OK;
    }
    if (cb_str_eqz(what, "M####/#")) {
        *(core ? &qc->inv_core_morph : &qc->inv_ext_morph) = true;
        return CB_OK;
    }
    return add_range(core ? &qc->inv_core : &qc->inv_ext, l, what, err);
}

/* ---- sex-specific.tsv ---- */

static enum cb_err
sex_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct list_ctx *lc = ctx;

    lc->c1 = cb_tsv_col(l, "sex");
    lc->c2 = cb_tsv_col(l, "range");
    if (lc->c1 < 0 || lc->c2 < 0) {
        cb_errf(err, "'%s' needs columns 'sex' and 'range'", l->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static enum cb_err
sex_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct list_ctx *lc = ctx;
    struct cb_str sex = col(l, lc->c1);

    if (cb_str_eqz(sex, "F"))
        return add_range(&lc->qc->female, l, col(l, lc->c2), err);
    if (cb_str_eqz(sex, "M"))
        return add_range(&lc->qc->male, l, col(l, lc->c2), err);
    cb_errf(err, "%s:%lu: sex must be 'F' or 'M', not '%.*s'", l->path,
            l->lineno, (int)sex.len, sex.ptr);
    return CB_ERR_PROTO;
}

/* ---- age-specific.tsv ---- */

static enum cb_err
age_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct list_ctx *lc = ctx;

    lc->c1 = cb_tsv_col(l, "range");
    lc->c2 = cb_tsv_col(l, "unit");
    lc->c3 = cb_tsv_col(l, "min");
    lc->c4 = cb_tsv_col(l, "max");
    if (lc->c1 < 0 || lc->c2 < 0 || lc->c3 < 0 || lc->c4 < 0) {
        cb_errf(err, "'%s' needs columns 'range', 'unit', 'min' and 'max'",
                l->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static enum cb_err
age_bound(const struct cb_tsv_line *l, struct cb_str s, int64_t dflt,
          int64_t *out, struct cb_buf *err)
{
    if (s.len == 0) {
        *out = dflt;
        return CB_OK;
    }
    if (cb_parse_i64(s, out) != CB_OK || *out < 0) {
        cb_errf(err, "%s:%lu: bad age bound '%.*s'", l->path, l->lineno,
                (int)s.len, s.ptr);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static enum cb_err
age_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct list_ctx *lc = ctx;
    struct cb_qc *qc = lc->qc;
    struct cb_str unit = col(l, lc->c2);
    struct qc_agerule *a;
    enum cb_err rc;

    a = cb_reallocarray(qc->age, qc->nage + 1, sizeof(*qc->age));
    if (!a)
        return CB_ERR_NOMEM;
    qc->age = a;
    a = &qc->age[qc->nage];
    memset(a, 0, sizeof(*a));
    qc__codeset_init(&a->set);
    qc->nage++;  /* counted now so that cb_qc_free releases it */
    if (cb_str_eqz(unit, "days"))
        a->days = true;
    else if (!cb_str_eqz(unit, "years")) {
        cb_errf(err, "%s:%lu: unit must be 'years' or 'days', not '%.*s'",
                l->path, l->lineno, (int)unit.len, unit.ptr);
        return CB_ERR_PROTO;
    }
    if ((rc = age_bound(l, col(l, lc->c3), 0, &a->min, err)) ||
        (rc = age_bound(l, col(l, lc->c4), INT64_MAX, &a->max, err)))
        return rc;
    if (a->min > a->max) {
        cb_errf(err, "%s:%lu: min is above max", l->path, l->lineno);
        return CB_ERR_PROTO;
    }
    return add_range(&a->set, l, col(l, lc->c1), err);
}

/* ---- loading ---- */

static enum cb_err
read_list(const char *datadir, const char *name, cb_tsv_fn header,
          cb_tsv_fn line, struct list_ctx *lc, struct cb_buf *err)
{
    char path[4096];

    if ((size_t)snprintf(path, sizeof(path), "%s/qc/%s", datadir, name) >=
        sizeof(path)) {
        cb_errf(err, "data directory path too long");
        return CB_ERR_TOO_LARGE;
    }
    return cb_tsv_read(path, header, line, lc, err);
}

static enum cb_err
fixed_range(struct qc_codeset *set, const char *text)
{
    struct qc_range rg;

    if (!qc__range_parse(cb_str_c(text), &rg))
        return CB_ERR_PROTO;
    return qc__codeset_add(set, &rg);
}

/* Dictionary codes of kind "asterisk", so that "G01" counts as "G01*". */
static enum cb_err
load_asterisk_codes(struct cb_qc *qc)
{
    size_t i, n = cb_refdata_dx_count(qc->rd);
    struct cb_str code, kind;
    enum cb_err rc;

    for (i = 0; i < n; i++) {
        cb_refdata_dx_at(qc->rd, i, &code, NULL, &kind);
        if (!cb_str_eqz(kind, "asterisk"))
            continue;
        rc = cb_strmap_put(&qc->asterisk_codes,
                           cb_code_strip_marks(code, NULL), 1);
        if (rc)
            return rc;
    }
    return CB_OK;
}

enum cb_err
qc__load_lists(struct cb_qc *qc, const char *datadir, struct cb_buf *err)
{
    struct list_ctx lc;
    enum cb_err rc;

    memset(&lc, 0, sizeof(lc));
    lc.qc = qc;
    if ((rc = read_list(datadir, "invalid-principal.tsv", inv_header,
                        inv_line, &lc, err)) ||
        (rc = read_list(datadir, "sex-specific.tsv", sex_header, sex_line,
                        &lc, err)) ||
        (rc = read_list(datadir, "age-specific.tsv", age_header, age_line,
                        &lc, err)))
        return rc;
    if ((qc->inv_core_asterisk || qc->inv_ext_asterisk) &&
        (rc = load_asterisk_codes(qc)))
        return rc;
    /* Ranges that are part of the rule definitions themselves (spec b). */
    if ((rc = fixed_range(&qc->neoplasm_d, "D00-D48")) ||
        (rc = fixed_range(&qc->head_injury, "S00-S09")) ||
        (rc = fixed_range(&qc->ext_cause, "V01-Y98")) ||
        (rc = fixed_range(&qc->symptom, "R00-R99")))
        return rc;
    return CB_OK;
}

void
qc__free_lists(struct cb_qc *qc)
{
    size_t i;

    qc__codeset_release(&qc->inv_core);
    qc__codeset_release(&qc->inv_ext);
    qc__codeset_release(&qc->female);
    qc__codeset_release(&qc->male);
    for (i = 0; i < qc->nage; i++)
        qc__codeset_release(&qc->age[i].set);
    cb_free(qc->age);
    qc->age = NULL;
    qc->nage = 0;
    qc__codeset_release(&qc->neoplasm_d);
    qc__codeset_release(&qc->head_injury);
    qc__codeset_release(&qc->ext_cause);
    qc__codeset_release(&qc->symptom);
    cb_strmap_release(&qc->asterisk_codes);
}
