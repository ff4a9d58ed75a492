/*
 * drg_group.c - grouping one record (FORMAT.md §9): intern its codes,
 * translate them (optional, §11), run the input checks, normalise, compute
 * MCC/CC (§6), then search MDC -> rule -> DRG split with fall-through.
 *
 * Per record, the codes become five list-hit bitsets (principal, all
 * diagnoses, secondaries, main procedure, all procedures), so that every
 * list predicate is one bit test. The search loop exists twice, with and
 * without the trace, from one always-inline body: without the trace it
 * does no trace work at all.
 */
#include <math.h>

#include "carebase/alloc.h"
#include "carebase/record.h"
#include "drg/drg_int.h"

/* ---- status names ------------------------------------------------------- */

static const char *const status_names[] = {
    "SUCCESS", "FAIL", "QY", "CHECK_FAILED", "ZD_NOT_MAPPING", "SS_NOT_MAPPING"
};
static const char *const status_zh[] = {
    "分组成功", "无法入组", "歧义病案", "信息校验不通过",
    "诊断不能转换为分组器支持的编码", "手术操作不能转换为分组器支持的编码"
};

const char *
cb_drg_status_name(enum cb_drg_status st)
{
    return (unsigned)st < 6 ? status_names[st] : "?";
}

const char *
cb_drg_status_zh(enum cb_drg_status st)
{
    return (unsigned)st < 6 ? status_zh[st] : "?";
}

bool
cb_drg_status_parse(struct cb_str s, enum cb_drg_status *st)
{
    for (int i = 0; i < 6; i++)
        if (cb_str_eqz(s, status_names[i])) {
            *st = (enum cb_drg_status)i;
            return true;
        }
    return false;
}

/* ---- work --------------------------------------------------------------- */

enum cb_err
cb_drg_work_init(struct cb_drg_work *w, const struct cb_drg_scheme *s)
{
    if (w->scheme == s)
        return CB_OK;
    cb_free(w->bits);
    cb_free(w->trace.mdc);
    cb_free(w->trace.split);
    w->scheme = s;
    w->nwords = s->nwords;
    w->bits = cb_calloc((size_t)SET__N * (size_t)s->nwords, sizeof *w->bits);
    w->trace.mdc = cb_calloc((size_t)s->nmdcs + 1, sizeof *w->trace.mdc);
    w->trace.split = cb_calloc((size_t)s->max_rule_drgs + 1, sizeof *w->trace.split);
    if (!w->bits || !w->trace.mdc || !w->trace.split) {
        cb_drg_work_release(w);
        return CB_ERR_NOMEM;
    }
    return CB_OK;
}

void
cb_drg_work_release(struct cb_drg_work *w)
{
    cb_free(w->dx_id);
    cb_free(w->px_id);
    cb_free(w->bits);
    cb_free(w->codes[0]);
    cb_free(w->codes[1]);
    cb_free(w->trace.mdc);
    cb_free(w->trace.split);
    cb_free(w->trace.cc);
    bool trace = w->trace.enabled;
    memset(w, 0, sizeof *w);
    w->trace.enabled = trace;
}

static enum cb_err
grow_ids(struct cb_drg_work *w, int n)
{
    if (n <= w->id_cap)
        return CB_OK;
    int cap = n < 64 ? 64 : n * 2;
    int32_t *a = cb_reallocarray(w->dx_id, (size_t)cap, sizeof *a);
    if (!a)
        return CB_ERR_NOMEM;
    w->dx_id = a;
    int32_t *b = cb_reallocarray(w->px_id, (size_t)cap, sizeof *b);
    if (!b)
        return CB_ERR_NOMEM;
    w->px_id = b;
    w->id_cap = cap;
    return CB_OK;
}

static enum cb_err
grow_codes(struct cb_drg_work *w, int which, int n)
{
    if (n <= w->codes_cap[which])
        return CB_OK;
    int cap = n < 64 ? 64 : n * 2;
    struct cb_str *a = cb_reallocarray(w->codes[which], (size_t)cap, sizeof *a);
    if (!a)
        return CB_ERR_NOMEM;
    w->codes[which] = a;
    w->codes_cap[which] = cap;
    return CB_OK;
}

/* ---- input -------------------------------------------------------------- */

enum cb_err
cb_drg_split_codes(struct cb_drg_work *w, int which, struct cb_str field,
                   const struct cb_str **codes, int *n)
{
    int k = 1;
    for (size_t i = 0; i < field.len; i++)
        k += field.ptr[i] == '|';
    enum cb_err rc = grow_codes(w, which, k);
    if (rc)
        return rc;
    struct cb_str *out = w->codes[which];
    const char *p = field.ptr, *e = field.ptr + field.len;
    int i = 0;
    for (;;) {
        const char *bar = p < e ? memchr(p, '|', (size_t)(e - p)) : NULL;
        const char *fe = bar ? bar : e;
        out[i++] = cb_str_make(p ? p : "", (size_t)(fe - p));
        if (!bar)
            break;
        p = bar + 1;
    }
    *codes = out;
    *n = i;
    return CB_OK;
}

enum cb_err
cb_drg_input_from_fp(struct cb_drg_input *in, const struct cb_fp *fp,
                     struct cb_drg_work *w)
{
    enum cb_err rc;
    if ((rc = grow_codes(w, 0, CB_FP_MAX_DX + 1)) ||
        (rc = grow_codes(w, 1, CB_FP_MAX_PX)))
        return rc;
    memset(in, 0, sizeof *in);
    in->index = fp->v[CB_F_BAH];
    in->sex = fp->v[CB_F_XB];
    in->age = fp->v[CB_F_NL];
    /* spec c.5.1: age in days only for infants (NL = 0) */
    if (fp->state[CB_F_NL] == CB_FS_OK && fp->val[CB_F_NL] == 0)
        in->age_days = fp->v[CB_F_BZYZS_NL];
    in->weight = fp->v[CB_F_XSECSTZ];
    in->dept = fp->v[CB_F_CYKB];
    in->los = fp->v[CB_F_SJZYTS];
    in->leaving_type = fp->v[CB_F_LYFS];

    struct cb_str *dx = w->codes[0], *px = w->codes[1];
    int ndx = 0, npx = 0;
    dx[ndx++] = fp->v[CB_F_JBDM];
    for (int n = 1; n <= fp->ndx && n <= CB_FP_MAX_DX; n++) {
        struct cb_str c = fp->v[cb_fp_dx(n, CB_DX_CODE)];
        if (c.len)
            dx[ndx++] = c;
    }
    for (int n = 1; n <= fp->npx && n <= CB_FP_MAX_PX; n++) {
        struct cb_str c = fp->v[cb_fp_px(n, CB_PX_CODE)];
        if (c.len)
            px[npx++] = c;
    }
    if (!npx)
        px[npx++] = CB_STR_LIT("");
    in->dx = dx;
    in->ndx = ndx;
    in->px = px;
    in->npx = npx;
    return CB_OK;
}

/* ---- evaluation --------------------------------------------------------- */

static inline int32_t
lookup(const struct cb_drg_scheme *s, struct cb_str code)
{
    return drg_code_lookup(s, code);
}

/*
 * Interns a record's codes in passes so that the cache misses overlap:
 * hash every code and prefetch its slot; prefetch the code entry of each
 * slot; then probe (each probe reads the code entry, which build_sets and
 * compute_cc read next).
 */
static void
intern_codes(const struct cb_drg_scheme *s, const struct cb_str *dx, int ndx,
             const struct cb_str *px, int npx, int32_t *dx_id, int32_t *px_id)
{
    uint64_t hash[2][64];
    for (int which = 0; which < 2; which++) {
        const struct cb_str *codes = which ? px : dx;
        int n = which ? npx : ndx;
        for (int i = 0; i < n && i < 64; i++) {
            if (!codes[i].len || codes[i].len > DRG_KEY_MAX)
                continue;
            uint64_t k[2];
            drg_key_load(k, codes[i]);
            hash[which][i] = drg_key_hash(k, (uint32_t)codes[i].len);
            __builtin_prefetch(&s->slots[(uint32_t)hash[which][i] & s->slot_mask]);
        }
    }
    /* The slot array stays in cache; the code entries are the misses. */
    for (int which = 0; which < 2; which++) {
        const struct cb_str *codes = which ? px : dx;
        int n = which ? npx : ndx;
        for (int i = 0; i < n && i < 64; i++) {
            if (!codes[i].len || codes[i].len > DRG_KEY_MAX)
                continue;
            uint32_t v = s->slots[(uint32_t)hash[which][i] & s->slot_mask];
            if (v)
                __builtin_prefetch(&s->codes[(v & DRG_MAX_CODES) - 1]);
        }
    }
    for (int which = 0; which < 2; which++) {
        const struct cb_str *codes = which ? px : dx;
        int32_t *ids = which ? px_id : dx_id;
        int n = which ? npx : ndx;
        for (int i = 0; i < n; i++) {
            if (i >= 64 || !codes[i].len || codes[i].len > DRG_KEY_MAX) {
                ids[i] = drg_code_lookup(s, codes[i]);
                continue;
            }
            uint64_t k[2];
            drg_key_load(k, codes[i]);
            ids[i] = drg_probe(s, hash[which][i], k, (uint32_t)codes[i].len);
        }
    }
}

static inline bool
bit(const uint64_t *set, uint32_t i)
{
    return (set[i >> 6] >> (i & 63)) & 1;
}

bool
cb__drg_code_in(const struct cb_drg_scheme *s, int32_t code, uint32_t list)
{
    if (code < 0)
        return false;
    const struct drg_code *c = &s->codes[code];
    const uint16_t *m = s->memb + c->memb;
    for (int i = 0; i < c->nmemb; i++) {
        if (m[i] == list)
            return true;
        if (m[i] > list)
            return false;
    }
    return false;
}

int
cb__drg_lists_hit(const struct cb_drg_scheme *s, const struct cb_drg_work *w,
                  uint32_t node)
{
    const uint64_t *mask = s->masks + (size_t)s->nodes[node].list * (size_t)s->nwords;
    const uint64_t *dx = W_SET(w, SET_DX);
    int hit = 0;
    for (int i = 0; i < s->nwords; i++)
        hit += __builtin_popcountll(mask[i] & dx[i]);
    return hit;
}

int
cb__drg_count_in(const struct cb_drg_scheme *s, const struct cb_drg_work *w,
                 uint32_t node)
{
    int n = 0;
    for (int i = 0; i < w->ndx; i++)
        n += cb__drg_code_in(s, w->dx_id[i], s->nodes[node].list);
    return n;
}

static inline bool
compare(double x, enum drg_cmp cmp, double v)
{
    switch (cmp) {
    case CMP_EQ: return x == v;
    case CMP_LT: return x < v;
    case CMP_LE: return x <= v;
    case CMP_GT: return x > v;
    case CMP_GE: return x >= v;
    }
    return false;
}

bool
cb__drg_eval(const struct cb_drg_scheme *s, const struct cb_drg_work *w,
             uint32_t i)
{
    const struct drg_node *n = &s->nodes[i];
    switch ((enum drg_op)n->op) {
    case OP_TRUE:
        return true;
    case OP_FALSE:
        return false;
    case OP_ALL:
        for (uint32_t c = i + 1; c < n->end; c = s->nodes[c].end)
            if (!cb__drg_eval(s, w, c))
                return false;
        return true;
    case OP_ANY:
        for (uint32_t c = i + 1; c < n->end; c = s->nodes[c].end)
            if (cb__drg_eval(s, w, c))
                return true;
        return false;
    case OP_NOT:
        return !cb__drg_eval(s, w, i + 1);
    case OP_PDX_IN:
        return bit(W_SET(w, SET_PDX), n->list);
    case OP_DX_ANY_IN:
        return bit(W_SET(w, SET_DX), n->list);
    case OP_SDX_ANY_IN:
        return bit(W_SET(w, SET_SDX), n->list);
    case OP_PPX_IN:
        return bit(W_SET(w, SET_PPX), n->list);
    case OP_PX_ANY_IN:
        return bit(W_SET(w, SET_PX), n->list);
    case OP_NUM:
        return compare(w->num[n->field], (enum drg_cmp)n->cmp, n->value);
    case OP_STR_EQ:
        return cb_str_eq(w->str[n->field], n->str);
    case OP_STR_IN:
        return cb__drg_code_in(s, lookup(s, w->str[n->field]), n->list);
    case OP_EMPTY:
        return w->str[n->field].len == 0;
    case OP_MCC:
        return w->mcc;
    case OP_CC:
        return w->cc;
    case OP_LISTS_HIT:
        return cb__drg_lists_hit(s, w, i) >= n->min;
    case OP_COUNT_IN:
        return cb__drg_count_in(s, w, i) >= n->min;
    case OP__N:
        break;
    }
    return false;
}

/* ---- the steps ---------------------------------------------------------- */

static void
set_result(struct cb_drg_result *r, enum cb_drg_status st, const char *mdc,
           const char *adrg, const char *drg)
{
    r->status = st;
    snprintf(r->mdc, sizeof r->mdc, "%s", mdc);
    snprintf(r->adrg, sizeof r->adrg, "%s", adrg);
    snprintf(r->drg, sizeof r->drg, "%s", drg);
}

/* §9 to_result. Codes are 3..15 bytes (checked at load). */
static void
to_result(struct cb_drg_result *r, const char *code)
{
    if (!code) {
        set_result(r, CB_DRG_FAIL, "0000", "00", "0000");
        return;
    }
    size_t n = strlen(code);
    memcpy(r->mdc, "MDC", 3);
    r->mdc[3] = code[0];
    r->mdc[4] = '\0';
    memcpy(r->drg, code, n + 1);
    if (code[1] == '0' && code[2] == '0') {
        r->status = CB_DRG_FAIL;
        memcpy(r->adrg, "00", 3);
    } else if (code[1] == 'Q' && code[2] == 'Y') {
        r->status = CB_DRG_QY;
        memcpy(r->adrg, "QY", 3);
    } else {
        r->status = CB_DRG_SUCCESS;
        memcpy(r->adrg, code, 3);
        r->adrg[3] = '\0';
    }
}

/* §11 translation on the interned ids. Returns the failing status or SUCCESS. */
static enum cb_drg_status
translate(const struct cb_drg_scheme *s, struct cb_drg_work *w,
          const struct cb_drg_input *in, enum cb_drg_translate tr,
          struct cb_drg_result *r)
{
    for (int which = 0; which < 2; which++) {
        int32_t *ids = which ? w->px_id : w->dx_id;
        int n = which ? w->npx : w->ndx;
        const struct cb_str *codes = which ? in->px : in->dx;
        for (int i = 0; i < n; i++) {
            int32_t x = ids[i];
            if (tr == CB_DRG_TR_CODES && !codes[i].len)
                continue;
            int32_t y = x >= 0 ? s->map_to[x][which] : -1;
            if (y < 0) {
                r->unmapped_pos = i;
                r->unmapped_code = codes[i];
                return which ? CB_DRG_SS_NOT_MAPPING : CB_DRG_ZD_NOT_MAPPING;
            }
            if (y == x)
                continue;
            int j = 0;
            while (ids[j] != x)  /* §11: the first position holding x */
                j++;
            ids[j] = y;
            if (w->trace.enabled)
                w->trace.ntranslated++;
        }
    }
    return CB_DRG_SUCCESS;
}

static void
build_sets(const struct cb_drg_scheme *s, struct cb_drg_work *w)
{
    memset(w->bits, 0, (size_t)SET__N * (size_t)w->nwords * sizeof *w->bits);
    uint64_t *pdx = W_SET(w, SET_PDX), *dx = W_SET(w, SET_DX),
             *sdx = W_SET(w, SET_SDX), *ppx = W_SET(w, SET_PPX),
             *px = W_SET(w, SET_PX);
    for (int i = 0; i < w->ndx; i++) {
        int32_t id = w->dx_id[i];
        if (id < 0)
            continue;
        const struct drg_code *c = &s->codes[id];
        const uint16_t *m = s->memb + c->memb;
        uint64_t *one = i ? sdx : pdx;
        for (int k = 0; k < c->nmemb; k++) {
            uint64_t b = (uint64_t)1 << (m[k] & 63);
            dx[m[k] >> 6] |= b;
            one[m[k] >> 6] |= b;
        }
    }
    for (int i = 0; i < w->npx; i++) {
        int32_t id = w->px_id[i];
        if (id < 0)
            continue;
        const struct drg_code *c = &s->codes[id];
        const uint16_t *m = s->memb + c->memb;
        for (int k = 0; k < c->nmemb; k++) {
            uint64_t b = (uint64_t)1 << (m[k] & 63);
            px[m[k] >> 6] |= b;
            if (!i)
                ppx[m[k] >> 6] |= b;
        }
    }
}

/* Parses the numeric fields the scheme's conditions read (others stay 0). */
static void
parse_numbers(const struct cb_drg_scheme *s, struct cb_drg_work *w)
{
    for (int f = 0; f < FLD__NUM; f++)
        w->num[f] = (s->num_used >> f) & 1 ? cb__drg_number(w->str[f]) : 0;
}

static void
normalize(const struct cb_drg_scheme *s, struct cb_drg_work *w)
{
    for (int i = 0; i < s->nnorms; i++) {
        const struct drg_norm *n = &s->norms[i];
        struct cb_str *v = &w->str[n->field];
        struct cb_str old = *v;
        const char *dot = v->len ? memchr(v->ptr, '.', v->len) : NULL;
        if (dot && n->op != NORM_MAP) {
            v->len = (size_t)(dot - v->ptr);
        } else if (n->op != NORM_TRUNC_DOT) {
            for (int k = 0; k < n->nmap; k++)
                if (cb_str_eq(*v, n->from[k])) {
                    *v = n->to[k];
                    break;
                }
        }
        if (w->trace.enabled && !cb_str_eq(old, *v))
            w->trace.nnormalized++;
    }
    if (s->norm_touches_num)
        parse_numbers(s, w);
}

static enum cb_err
add_trace_cc(struct cb_drg_work *w, int pos, int level, bool excluded, int32_t table)
{
    struct cb_drg_trace *t = &w->trace;
    if (t->ncc == t->ncc_cap) {
        int cap = t->ncc_cap ? t->ncc_cap * 2 : 16;
        struct cb_drg_trace_cc *c = cb_reallocarray(t->cc, (size_t)cap, sizeof *c);
        if (!c)
            return CB_ERR_NOMEM;
        t->cc = c;
        t->ncc_cap = cap;
    }
    t->cc[t->ncc++] = (struct cb_drg_trace_cc){ (int16_t)pos, (int8_t)level,
                                                excluded, table };
    return CB_OK;
}

/* §6, once per record. */
static enum cb_err
compute_cc(const struct cb_drg_scheme *s, struct cb_drg_work *w, bool trace)
{
    int32_t p = w->dx_id[0];
    int32_t tp = p >= 0 ? s->codes[p].excl_table : -1;
    bool mcc = false, cc = false;
    w->principal_table = tp;
    for (int i = 1; i < w->ndx; i++) {
        int32_t id = w->dx_id[i];
        if (id < 0 || !s->codes[id].cc_level)
            continue;
        const struct drg_code *c = &s->codes[id];
        bool excluded = tp >= 0 && c->cc_table == tp;
        if (!excluded) {
            if (c->cc_level == 2)
                mcc = true;
            else
                cc = true;
        }
        if (trace) {
            enum cb_err rc = add_trace_cc(w, i, c->cc_level, excluded, c->cc_table);
            if (rc)
                return rc;
        }
    }
    w->mcc = mcc;
    w->cc = cc;
    return CB_OK;
}

/* A leaf the search tests inline: a list bit, mcc, cc, true or false. */
static inline __attribute__((always_inline)) bool
leaf(const struct drg_node *n, const struct cb_drg_work *w)
{
    switch (n->op) {
    case OP_MCC:   return w->mcc;
    case OP_CC:    return w->cc;
    case OP_TRUE:  return true;
    case OP_FALSE: return false;
    case OP_NUM:   return compare(w->num[n->field], (enum drg_cmp)n->cmp, n->value);
    case OP_STR_EQ: return cb_str_eq(w->str[n->field], n->str);
    default:       return bit(W_SET(w, n->op - OP_PDX_IN), n->list);
    }
}

/*
 * cb__drg_eval with the commonest conditions inline: one list test, mcc,
 * cc, and all/any over such leaves (flagged "flat" when compiled); the
 * rest goes through the general evaluator.
 */
static inline __attribute__((always_inline)) bool
eval_fast(const struct cb_drg_scheme *s, const struct cb_drg_work *w, uint32_t i)
{
    const struct drg_node *n = &s->nodes[i];
    if (n->op >= OP_PDX_IN && n->op <= OP_PX_ANY_IN)
        return bit(W_SET(w, n->op - OP_PDX_IN), n->list);
    switch (n->op) {
    case OP_TRUE: return true;
    case OP_MCC:  return w->mcc;
    case OP_CC:   return w->cc;
    case OP_NUM:  return compare(w->num[n->field], (enum drg_cmp)n->cmp, n->value);
    case OP_ALL:
        if (!n->flat)
            break;
        for (uint32_t c = i + 1; c < n->end; c++)  /* leaves: end = c + 1 */
            if (!leaf(&s->nodes[c], w))
                return false;
        return true;
    case OP_ANY:
        if (!n->flat)
            break;
        for (uint32_t c = i + 1; c < n->end; c++)
            if (leaf(&s->nodes[c], w))
                return true;
        return false;
    default:
        break;
    }
    return cb__drg_eval(s, w, i);
}

/* §9 steps 4-6. */
static inline __attribute__((always_inline)) const char *
search(const struct cb_drg_scheme *s, struct cb_drg_work *w, const bool trace)
{
    struct cb_drg_trace *t = &w->trace;
    for (int m = 0; m < s->nmdcs; m++) {
        const struct drg_mdc *md = &s->mdcs[m];
        bool entered = eval_fast(s, w, md->when);
        struct cb_drg_trace_mdc *tm = NULL;
        if (trace) {
            tm = &t->mdc[t->nmdc++];
            *tm = (struct cb_drg_trace_mdc){ (int16_t)m, entered, -1, 0 };
        }
        if (!entered)
            continue;
        for (int ri = md->rule_begin; ri < md->rule_end; ri++) {
            const struct drg_rule *r = &s->rules[ri];
            if (trace)
                tm->rules_tried++;
            if (!eval_fast(s, w, r->when))
                continue;
            if (trace)
                tm->rule = (int16_t)ri;
            for (int k = r->drg_begin; k < r->drg_end; k++) {
                const struct drg_drg *d = &s->drgs[s->rule_drgs[k]];
                bool held = eval_fast(s, w, d->when);
                if (trace)
                    t->split[t->nsplit++] =
                        (struct cb_drg_trace_split){ (int16_t)s->rule_drgs[k], held };
                if (held)
                    return d->code;
            }
            return r->adrg;
        }
    }
    return NULL;
}

static const char *
search_plain(const struct cb_drg_scheme *s, struct cb_drg_work *w)
{
    return search(s, w, false);
}

static const char *
search_traced(const struct cb_drg_scheme *s, struct cb_drg_work *w)
{
    return search(s, w, true);
}

enum cb_err
cb_drg_group(const struct cb_drg_scheme *s, const struct cb_drg_input *in,
             enum cb_drg_translate tr, struct cb_drg_work *w,
             struct cb_drg_result *out)
{
    static const struct cb_str empty_list[1] = { { "", 0 } };
    bool trace = w->trace.enabled;
    enum cb_err rc;
    if (tr != CB_DRG_TR_OFF && !s->has_maps)
        return CB_ERR_USAGE;  /* translation asked of a scheme loaded without maps */
    struct cb_drg_input fixed;
    if (in->ndx <= 0 || in->npx <= 0 || !in->dx || !in->px) {
        fixed = *in;
        if (fixed.ndx <= 0 || !fixed.dx) {
            fixed.dx = empty_list;
            fixed.ndx = 1;
        }
        if (fixed.npx <= 0 || !fixed.px) {
            fixed.px = empty_list;
            fixed.npx = 1;
        }
        in = &fixed;
    }
    int ndx = in->ndx, npx = in->npx;
    if ((rc = grow_ids(w, ndx > npx ? ndx : npx)))
        return rc;
    out->mcc = out->cc = false;
    out->unmapped_pos = -1;
    out->unmapped_code = CB_STR_NULL;
    if (trace) {
        w->trace.check = -1;
        w->trace.nnormalized = w->trace.ntranslated = 0;
        w->trace.nmdc = w->trace.nsplit = w->trace.ncc = 0;
        w->trace.principal_table = -1;
    }

    /* Intern the codes ([""] for an empty list). */
    w->ndx = ndx;
    w->npx = npx;
    intern_codes(s, in->dx, ndx, in->px, npx, w->dx_id, w->px_id);

    if (tr != CB_DRG_TR_OFF) {
        enum cb_drg_status st = translate(s, w, in, tr, out);
        if (st != CB_DRG_SUCCESS) {
            set_result(out, st, "0000", "00", "0000");
            return CB_OK;
        }
    }
    build_sets(s, w);

    w->str[FLD_AGE] = in->age;
    w->str[FLD_AGE_DAYS] = in->age_days;
    w->str[FLD_WEIGHT] = in->weight;
    w->str[FLD_LOS] = in->los;
    w->str[FLD_SEX] = in->sex;
    w->str[FLD_DEPT] = in->dept;
    w->str[FLD_LEAVING_TYPE] = in->leaving_type;
    w->str[FLD_INDEX] = in->index;
    parse_numbers(s, w);
    if ((rc = compute_cc(s, w, trace)))
        return rc;

    for (int i = 0; i < s->nchecks; i++)
        if (cb__drg_eval(s, w, s->checks[i].when)) {
            if (trace)
                w->trace.check = i;
            set_result(out, s->checks[i].status, "0000", "00", "0000");
            return CB_OK;
        }
    normalize(s, w);

    out->mcc = w->mcc;
    out->cc = w->cc;
    to_result(out, trace ? search_traced(s, w) : search_plain(s, w));
    if (trace)
        w->trace.principal_table = w->principal_table;
    return CB_OK;
}

enum cb_err
cb_drg_group_batch(const struct cb_drg_scheme *s, const struct cb_drg_input *in,
                   size_t n, enum cb_drg_translate tr, struct cb_drg_work *w,
                   struct cb_drg_result *out)
{
    /*
     * The next inputs' structs only. A prefetch of their code arrays and
     * code bytes (a static function that only prefetched) was compiled
     * away without anyone noticing: GCC counts a prefetch as no side
     * effect, took the function for pure and dropped its calls. Made to
     * run (always_inline), it cost drg_bench 3-6 %, so it is gone.
     */
    if (n)
        __builtin_prefetch(&in[0]);
    for (size_t i = 0; i < n; i++) {
        if (i + 2 < n)
            __builtin_prefetch(&in[i + 2]);
        enum cb_err rc = cb_drg_group(s, &in[i], tr, w, &out[i]);
        if (rc)
            return rc;
    }
    return CB_OK;
}
