/*
 * indicators.c - the indicator catalogue (data) and the evaluation of an
 * indicator on aggregated counters: value = numerator / denominator *
 * scale, or "not computable" with the reason.
 */
#include <errno.h>
#include <math.h>

#include "carebase/alloc.h"
#include "carebase/tsvfile.h"
#include "carebase/engine.h"

static void
copy(char *dst, size_t cap, struct cb_str s)
{
    snprintf(dst, cap, "%.*s", (int)s.len, s.ptr ? s.ptr : "");
}

static const char *const columns[] = {
    "id", "no", "list", "name_zh", "name_en", "unit", "scale", "direction",
    "monitor", "numerator", "denominator", "needs", "note"
};
#define NCOLS 13

static const struct { const char *name; uint32_t bit; } needs[] = {
    { "day_surgery", CB_NEED_DAY_SURGERY }, { "mis", CB_NEED_MIS },
    { "level4", CB_NEED_LEVEL4 }, { "level3", CB_NEED_LEVEL3 },
    { "complication", CB_NEED_COMPLICATION }, { "cohorts", CB_NEED_COHORTS },
    { "reference", CB_NEED_REFERENCE },
};

static enum cb_err
parse_row(struct cb_indicator *ind, struct cb_str line, const char *path, int lineno,
          struct cb_buf *err)
{
    struct cb_str f[NCOLS];
    for (int i = 0; i < NCOLS; i++)
        f[i] = cb_tsv_field(line, i);
    if (!f[NCOLS - 1].ptr) {
        cb_errf(err, "%s:%d: expected %d TAB-separated columns", path, lineno, NCOLS);
        return CB_ERR_PROTO;
    }
    memset(ind, 0, sizeof *ind);
    copy(ind->id, sizeof ind->id, f[0]);
    copy(ind->no, sizeof ind->no, f[1]);
    copy(ind->list, sizeof ind->list, f[2]);
    copy(ind->name_zh, sizeof ind->name_zh, f[3]);
    copy(ind->name_en, sizeof ind->name_en, f[4]);
    copy(ind->unit, sizeof ind->unit, f[5]);
    copy(ind->note, sizeof ind->note, f[12]);
    char num[32];
    copy(num, sizeof num, f[6]);
    char *end;
    ind->scale = strtod(num, &end);
    if (!f[0].len || !num[0] || *end) {
        cb_errf(err, "%s:%d: id and a numeric scale are required", path, lineno);
        return CB_ERR_PROTO;
    }
    ind->dir = cb_str_eqz(f[7], "up") ? CB_DIR_UP
             : cb_str_eqz(f[7], "down") ? CB_DIR_DOWN : CB_DIR_MONITOR;
    ind->monitor = f[8].len > 0;
    ind->num = cb_counter_by_name(f[9]);
    ind->den = f[10].len ? cb_counter_by_name(f[10]) : CB_COUNTER_NONE;
    if (ind->num == CB_COUNTER_UNKNOWN || ind->den == CB_COUNTER_UNKNOWN) {
        cb_errf(err, "%s:%d: indicator %s: unknown counter \"%.*s\"", path, lineno,
                ind->id, (int)(ind->num == CB_COUNTER_UNKNOWN ? f[9].len : f[10].len),
                ind->num == CB_COUNTER_UNKNOWN ? f[9].ptr : f[10].ptr);
        return CB_ERR_PROTO;
    }
    struct cb_str nd = f[11];
    size_t start = 0;
    for (size_t i = 0; i <= nd.len; i++) {
        if (i < nd.len && nd.ptr[i] != ',' && nd.ptr[i] != ' ')
            continue;
        struct cb_str w = cb_str_make(nd.ptr + start, i - start);
        start = i + 1;
        if (!w.len)
            continue;
        size_t k = 0;
        for (; k < sizeof needs / sizeof needs[0]; k++)
            if (cb_str_eqz(w, needs[k].name))
                break;
        if (k == sizeof needs / sizeof needs[0]) {
            cb_errf(err, "%s:%d: indicator %s: unknown need \"%.*s\"", path, lineno,
                    ind->id, (int)w.len, w.ptr);
            return CB_ERR_PROTO;
        }
        ind->needs |= needs[k].bit;
    }
    return CB_OK;
}

enum cb_err
cb_indicators_load(struct cb_indicator_set *set, const char *path, struct cb_buf *err)
{
    memset(set, 0, sizeof *set);
    snprintf(set->path, sizeof set->path, "%s", path);
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cb_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return CB_ERR_IO;
    }
    char line[4096];
    int lineno = 0, cap = 0;
    bool header = false;
    enum cb_err rc = CB_OK;
    while (!rc && fgets(line, sizeof line, fp)) {
        lineno++;
        size_t n = strlen(line);
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        struct cb_str l = cb_str_make(line, n);
        if (l.len && l.ptr[0] == '#') {
            struct cb_str t = cb_str_trim(cb_str_make(line + 1, n - 1));
            if (cb_str_starts(t, "version:"))
                copy(set->version, sizeof set->version,
                     cb_str_trim(cb_str_make(t.ptr + 8, t.len - 8)));
            continue;
        }
        if (!l.len)
            continue;
        if (!header) {
            for (int i = 0; i < NCOLS; i++)
                if (!cb_str_eqz(cb_tsv_field(l, i), columns[i])) {
                    cb_errf(err, "%s:%d: the header must name the columns id, no, "
                            "list, name_zh, name_en, unit, scale, direction, monitor, "
                            "numerator, denominator, needs, note", path, lineno);
                    rc = CB_ERR_PROTO;
                    break;
                }
            header = true;
            continue;
        }
        if (set->n == cap) {
            cap = cap ? cap * 2 : 64;
            struct cb_indicator *p = cb_reallocarray(set->ind, (size_t)cap, sizeof *p);
            if (!p) {
                rc = CB_ERR_NOMEM;
                break;
            }
            set->ind = p;
        }
        if (!(rc = parse_row(&set->ind[set->n], l, path, lineno, err))) {
            if (cb_indicator_find(set, cb_str_c(set->ind[set->n].id))) {
                cb_errf(err, "%s:%d: duplicate indicator id %s", path, lineno,
                        set->ind[set->n].id);
                rc = CB_ERR_PROTO;
            } else {
                set->n++;
            }
        }
    }
    fclose(fp);
    if (!rc && !set->n) {
        cb_errf(err, "%s: no indicators", path);
        rc = CB_ERR_PROTO;
    }
    if (rc)
        cb_indicators_release(set);
    return rc;
}

void
cb_indicators_release(struct cb_indicator_set *set)
{
    cb_free(set->ind);
    memset(set, 0, sizeof *set);
}

const struct cb_indicator *
cb_indicator_find(const struct cb_indicator_set *set, struct cb_str id)
{
    for (int i = 0; i < set->n; i++)
        if (cb_str_eqz(id, set->ind[i].id))
            return &set->ind[i];
    return NULL;
}

static const char *
missing(uint32_t need)
{
    switch (need) {
    case CB_NEED_DAY_SURGERY:  return "not computable: catalogue missing (day surgery)";
    case CB_NEED_MIS:          return "not computable: catalogue missing (minimally invasive surgery)";
    case CB_NEED_LEVEL4:       return "not computable: catalogue missing (level-4 surgery)";
    case CB_NEED_LEVEL3:       return "not computable: catalogue missing (level-3 surgery)";
    case CB_NEED_COMPLICATION: return "not computable: catalogue missing (complications)";
    case CB_NEED_COHORTS:      return "not computable: catalogue missing (single diseases)";
    case CB_NEED_REFERENCE:    return "not computable: no DRG reference";
    default:                   return "not computable";
    }
}

void
cb_indicator_eval(const struct cb_indicator *ind, const struct cb_agg *a,
                  int ndrg_words, uint32_t have, struct cb_ind_value *out)
{
    memset(out, 0, sizeof *out);
    uint32_t lack = ind->needs & ~have;
    if (lack) {
        out->reason = missing(lack & -lack);
        out->value = NAN;
        return;
    }
    out->num = cb_agg_value(a, ind->num, ndrg_words);
    if (ind->den == CB_COUNTER_NONE) {
        out->den = 1;
        if (!a->c[CB_C_n]) {
            out->reason = "not computable: no discharges in the period";
            out->value = NAN;
            return;
        }
    } else {
        out->den = cb_agg_value(a, ind->den, ndrg_words);
        if (!(out->den > 0)) {
            out->reason = "not computable: empty denominator";
            out->value = NAN;
            return;
        }
    }
    out->computable = true;
    out->value = out->num / out->den * ind->scale;
}
