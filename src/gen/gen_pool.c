/*
 * gen_pool.c - resolves the code patterns of gen_casemix.c against the
 * reference dictionaries (and the CHS-DRG translation maps, when present)
 * into weighted pools of codes.
 *
 * A diagnosis is usable when it is a main code of the national clinical
 * edition (not a dagger code: those are map keys only in their combined
 * "main+asterisk" form) and, with a scheme, a `from` key of dx_map.tsv.
 * External causes and morphology codes are usable for H23 and JBMM.
 * A procedure is usable when it is in the dictionary and, with a scheme, a
 * `from` key of px_map.tsv.
 */
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/tsvfile.h"
#include "gen/gen_int.h"

/* Sorted views of the usable codes, for prefix range lookups. */
struct sorted {
    struct gen_code *c;
    size_t n;
};

struct resolver {
    struct cb_gen   *g;
    struct sorted    dx, px;
    struct cb_strmap dxmap, pxmap;
    bool             have_dxmap, have_pxmap;
};

static int
code_cmp(const void *a, const void *b)
{
    const struct gen_code *x = a, *y = b;
    size_t n = x->code.len < y->code.len ? x->code.len : y->code.len;
    int c = memcmp(x->code.ptr, y->code.ptr, n);

    if (c)
        return c;
    return x->code.len < y->code.len ? -1 : x->code.len > y->code.len;
}

static enum cb_err
map_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    (void)err;
    if (l->ncols < 1 || l->col[0].len == 0)
        return CB_OK;
    return cb_strmap_put(ctx, l->col[0], 1);
}

/* Loads the `from` column of a map; a missing file is not an error. */
static enum cb_err
load_map(const char *dir, const char *name, struct cb_strmap *m, bool *have,
         struct cb_buf *err)
{
    struct cb_buf path = CB_BUF_INIT;
    struct cb_buf ignore = CB_BUF_INIT;
    enum cb_err rc;

    *have = false;
    if (!dir || !*dir)
        return CB_OK;
    rc = cb_buf_addf(&path, "%s/maps/%s", dir, name);
    if (rc)
        return rc;
    rc = cb_tsv_read(cb_buf_cstr(&path), NULL, map_line, m, &ignore);
    if (rc == CB_ERR_NOT_FOUND) {
        rc = CB_OK;
    } else if (rc) {
        cb_errf(err, "cannot read '%s': %s", cb_buf_cstr(&path),
                cb_buf_cstr(&ignore));
    } else {
        *have = m->count > 0;
    }
    cb_buf_release(&path);
    cb_buf_release(&ignore);
    return rc;
}

static bool
ends_with_dagger(struct cb_str s)
{
    static const char dagger[] = "\xe2\x80\xa0"; /* U+2020 */

    return s.len >= 3 && memcmp(s.ptr + s.len - 3, dagger, 3) == 0;
}

static enum cb_err
build_sorted(struct resolver *rs)
{
    const struct cb_refdata *rd = rs->g->rd;
    size_t i, n;

    n = cb_refdata_dx_count(rd);
    rs->dx.c = cb_reallocarray(NULL, n ? n : 1, sizeof(*rs->dx.c));
    if (!rs->dx.c)
        return CB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        struct cb_str code, name, kind;
        bool main_code;

        cb_refdata_dx_at(rd, i, &code, &name, &kind);
        main_code = kind.len == 0 || cb_str_eqz(kind, "main");
        if (code.len == 0 || ends_with_dagger(code) || code.ptr[0] == '\xe2')
            continue;
        if (!main_code && !cb_str_eqz(kind, "external_cause") &&
            !cb_str_eqz(kind, "morphology"))
            continue;
        if (rs->have_dxmap && !cb_str_eqz(kind, "morphology") &&
            !cb_strmap_has(&rs->dxmap, code))
            continue;
        rs->dx.c[rs->dx.n].code = code;
        rs->dx.c[rs->dx.n].name = name;
        rs->dx.c[rs->dx.n].cat = CB_PXCAT_NONE;
        rs->dx.n++;
    }
    qsort(rs->dx.c, rs->dx.n, sizeof(*rs->dx.c), code_cmp);

    n = cb_refdata_px_count(rd);
    rs->px.c = cb_reallocarray(NULL, n ? n : 1, sizeof(*rs->px.c));
    if (!rs->px.c)
        return CB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        struct gen_code *e = &rs->px.c[rs->px.n];

        cb_refdata_px_at(rd, i, &e->code, &e->name, &e->cat);
        if (e->code.len == 0)
            continue;
        if (rs->have_pxmap && !cb_strmap_has(&rs->pxmap, e->code))
            continue;
        rs->px.n++;
    }
    qsort(rs->px.c, rs->px.n, sizeof(*rs->px.c), code_cmp);
    return CB_OK;
}

/* First index whose code is >= prefix. */
static size_t
lower_bound(const struct sorted *s, struct cb_str prefix)
{
    size_t lo = 0, hi = s->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        struct gen_code key = { prefix, CB_STR_NULL, CB_PXCAT_NONE };
        if (code_cmp(&s->c[mid], &key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static char
cat_letter(enum cb_px_category c)
{
    switch (c) {
    case CB_PXCAT_SURGERY:      return 'S';
    case CB_PXCAT_INTERVENTION: return 'I';
    case CB_PXCAT_THERAPEUTIC:  return 'T';
    case CB_PXCAT_DIAGNOSTIC:   return 'D';
    case CB_PXCAT_NONE:         return '?';
    }
    return '?';
}

/* Growable scratch list of (code, weight) while a pool is built. */
struct plist {
    struct gen_code *c;
    uint32_t *w;
    size_t n, cap;
};

static enum cb_err
plist_add(struct plist *l, const struct gen_code *c, uint32_t w)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct gen_code *nc = cb_reallocarray(l->c, cap, sizeof(*nc));
        uint32_t *nw;

        if (!nc)
            return CB_ERR_NOMEM;
        l->c = nc;
        nw = cb_reallocarray(l->w, cap, sizeof(*nw));
        if (!nw)
            return CB_ERR_NOMEM;
        l->w = nw;
        l->cap = cap;
    }
    l->c[l->n] = *c;
    l->w[l->n] = w ? w : 1;
    l->n++;
    return CB_OK;
}

/* Token of a pattern: "=X" exact or prefix, optional "*N" weight. */
struct token {
    struct cb_str code;
    bool exact;
    uint32_t w;
};

static size_t
tokens(const char *p, struct token *t, size_t max)
{
    size_t n = 0;

    while (p && *p && n < max) {
        const char *s, *e, *star;

        while (*p == ' ')
            p++;
        if (!*p)
            break;
        s = p;
        while (*p && *p != ' ')
            p++;
        e = p;
        t[n].exact = *s == '=';
        if (t[n].exact)
            s++;
        t[n].w = 1;
        star = memchr(s, '*', (size_t)(e - s));
        if (star) {
            uint32_t w = 0;
            const char *q;
            for (q = star + 1; q < e && *q >= '0' && *q <= '9'; q++)
                w = w * 10 + (uint32_t)(*q - '0');
            t[n].w = w ? w : 1;
            e = star;
        }
        t[n].code = cb_str_make(s, (size_t)(e - s));
        n++;
    }
    return n;
}

/*
 * Adds the codes of pattern p to l with total weight w spread over its
 * tokens (by token weight) and, within a token, evenly over its matches.
 * cat filters procedures by category letter (0 = any).
 */
static enum cb_err
add_pattern(struct plist *l, const struct sorted *s, const char *p,
            uint32_t w, char cat)
{
    struct token t[16];
    size_t nt = tokens(p, t, 16), i, j;
    uint32_t tw = 0;
    enum cb_err rc;

    for (i = 0; i < nt; i++)
        tw += t[i].w;
    for (i = 0; i < nt; i++) {
        size_t lo = lower_bound(s, t[i].code), hi, m = 0;
        uint64_t share;

        for (hi = lo; hi < s->n; hi++) {
            struct cb_str c = s->c[hi].code;
            if (c.len < t[i].code.len ||
                memcmp(c.ptr, t[i].code.ptr, t[i].code.len) != 0)
                break;
            if (t[i].exact && c.len != t[i].code.len)
                continue;
            if (cat && cat_letter(s->c[hi].cat) != cat)
                continue;
            m++;
        }
        if (m == 0)
            continue;
        share = (uint64_t)w * 1000 * t[i].w / (tw ? tw : 1) / m;
        for (j = lo; j < hi; j++) {
            struct cb_str c = s->c[j].code;
            if (t[i].exact && c.len != t[i].code.len)
                continue;
            if (cat && cat_letter(s->c[j].cat) != cat)
                continue;
            rc = plist_add(l, &s->c[j], (uint32_t)(share ? share : 1));
            if (rc)
                return rc;
        }
    }
    return CB_OK;
}

/* Copies l into an arena-backed pool (empty pool when l is empty). */
static enum cb_err
plist_finish(struct cb_gen *g, struct plist *l, struct gen_pool *pool)
{
    size_t i;
    uint64_t sum = 0;

    memset(pool, 0, sizeof(*pool));
    if (l->n == 0)
        return CB_OK;
    pool->c = cb_arena_alloc(&g->arena, l->n * sizeof(*pool->c));
    pool->cum = cb_arena_alloc(&g->arena, l->n * sizeof(*pool->cum));
    if (!pool->c || !pool->cum)
        return CB_ERR_NOMEM;
    for (i = 0; i < l->n; i++) {
        pool->c[i] = l->c[i];
        sum += l->w[i];
        if (sum > UINT32_MAX / 2)
            sum = UINT32_MAX / 2;  /* weights are small; never reached */
        pool->cum[i] = (uint32_t)sum;
    }
    pool->n = (uint32_t)l->n;
    l->n = 0;
    return CB_OK;
}

static enum cb_err
resolve(struct resolver *rs, struct plist *l, const struct sorted *s,
        const char *p, char cat, struct gen_pool *pool)
{
    enum cb_err rc = CB_OK;

    if (p)
        rc = add_pattern(l, s, p, 1, cat);
    if (!rc)
        rc = plist_finish(rs->g, l, pool);
    return rc;
}

static enum cb_err
resolve_seclist(struct resolver *rs, struct plist *l,
                const struct gen_sec *defs, struct gen_seclist *out)
{
    int n = 0, i;
    enum cb_err rc;

    while (defs[n].p)
        n++;
    out->def = defs;
    out->n = n;
    out->pool = cb_arena_alloc(&rs->g->arena,
                               (size_t)(n ? n : 1) * sizeof(*out->pool));
    if (!out->pool)
        return CB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        rc = resolve(rs, l, &rs->dx, defs[i].p, 0, &out->pool[i]);
        if (rc)
            return rc;
    }
    return CB_OK;
}

/* Day-surgery catalogue (day-surgery-2016.tsv, column icd9cm3). */
struct ds_ctx {
    struct cb_gen *g;
    int col;
};

static enum cb_err
ds_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct ds_ctx *d = ctx;

    (void)err;
    d->col = cb_tsv_col(l, "icd9cm3");
    return CB_OK;
}

static enum cb_err
ds_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct ds_ctx *d = ctx;
    struct cb_str s;
    size_t i = 0;
    enum cb_err rc;

    (void)err;
    if (d->col < 0 || (size_t)d->col >= l->ncols)
        return CB_OK;
    s = l->col[d->col];
    while (i < s.len) {
        size_t j = i;
        while (j < s.len && s.ptr[j] != ' ' && s.ptr[j] != ',' &&
               s.ptr[j] != '/')
            j++;
        if (j > i) {
            rc = cb_strmap_put(&d->g->daysurg,
                               cb_str_make(s.ptr + i, j - i), 1);
            if (rc)
                return rc;
        }
        i = j + 1;
    }
    return CB_OK;
}

bool
gen__is_day_surgery_code(const struct cb_gen *g, struct cb_str code)
{
    size_t n;

    /* Catalogue entries are 4 to 5 characters ("53.00", "13.41"). */
    for (n = 2; n <= code.len && n <= 8; n++)
        if (cb_strmap_has(&g->daysurg, cb_str_make(code.ptr, n)))
            return true;
    return false;
}

static enum cb_err
day_subpool(struct cb_gen *g, struct plist *l, const struct gen_pool *p,
            struct gen_pool *out)
{
    uint32_t i, prev = 0;
    enum cb_err rc;

    for (i = 0; i < p->n; i++) {
        uint32_t w = p->cum[i] - prev;
        prev = p->cum[i];
        if (gen__is_day_surgery_code(g, p->c[i].code)) {
            rc = plist_add(l, &p->c[i], w);
            if (rc)
                return rc;
        }
    }
    return plist_finish(g, l, out);
}

int
gen__arch_find(const struct cb_gen *g, const char *id)
{
    size_t i;

    for (i = 0; i < g->narch; i++)
        if (strcmp(g->arch[i].def->id, id) == 0)
            return (int)i;
    return -1;
}

enum cb_err
gen__casemix_init(struct cb_gen *g, struct cb_buf *err)
{
    struct resolver rs;
    struct plist l = { NULL, NULL, 0, 0 };
    struct ds_ctx ds = { g, -1 };
    struct cb_buf path = CB_BUF_INIT;
    struct cb_buf ignore = CB_BUF_INIT;
    size_t i;
    int k;
    enum cb_err rc;

    memset(&rs, 0, sizeof(rs));
    rs.g = g;
    cb_strmap_init(&rs.dxmap);
    cb_strmap_init(&rs.pxmap);
    rc = load_map(g->opts.scheme_dir, "dx_map.tsv", &rs.dxmap,
                  &rs.have_dxmap, err);
    if (!rc)
        rc = load_map(g->opts.scheme_dir, "px_map.tsv", &rs.pxmap,
                      &rs.have_pxmap, err);
    if (!rc)
        rc = build_sorted(&rs);
    if (rc)
        goto out;

    rc = cb_buf_addf(&path, "%s/day-surgery-2016.tsv", cb_refdata_dir(g->rd));
    if (rc)
        goto out;
    rc = cb_tsv_read(cb_buf_cstr(&path), ds_header, ds_line, &ds, &ignore);
    if (rc == CB_ERR_NOT_FOUND)
        rc = CB_OK;  /* no catalogue: no day-surgery cases */
    if (rc)
        goto out;

    g->narch = gen__narchdefs;
    g->arch = cb_arena_alloc(&g->arena, g->narch * sizeof(*g->arch));
    if (!g->arch) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    memset(g->arch, 0, g->narch * sizeof(*g->arch));
    for (i = 0; i < g->narch && !rc; i++) {
        struct gen_arch *a = &g->arch[i];
        const struct gen_archdef *d = &gen__archdefs[i];

        a->def = d;
        a->readmit = -1;
        for (k = 0; d->dx[k].p && !rc; k++)
            rc = add_pattern(&l, &rs.dx, d->dx[k].p, d->dx[k].w, 0);
        if (!rc)
            rc = plist_finish(g, &l, &a->dx);
        for (k = 0; d->sec[k].p && !rc; k++)
            rc = resolve(&rs, &l, &rs.dx, d->sec[k].p, 0, &a->sec[k]);
        a->nsec = k;
        for (k = 0; d->px[k].p && !rc; k++) {
            a->px[k].def = &d->px[k];
            rc = resolve(&rs, &l, &rs.px, d->px[k].p, d->px[k].cat,
                         &a->px[k].pool);
            if (!rc)
                rc = day_subpool(g, &l, &a->px[k].pool, &a->px[k].day);
        }
        a->npx = k;
        if (!rc)
            rc = resolve(&rs, &l, &rs.dx, d->morph, 0, &a->morph);
        if (!rc)
            rc = resolve(&rs, &l, &rs.dx, d->ext, 0, &a->ext);
        a->usable = a->dx.n > 0;
    }
    for (i = 0; i < g->narch && !rc; i++)
        if (gen__archdefs[i].readmit)
            g->arch[i].readmit = gen__arch_find(g, gen__archdefs[i].readmit);

    if (!rc)
        rc = resolve_seclist(&rs, &l, gen__comorb, &g->comorb);
    if (!rc)
        rc = resolve_seclist(&rs, &l, gen__comorb_female, &g->comorb_f);
    if (!rc)
        rc = resolve_seclist(&rs, &l, gen__comorb_male, &g->comorb_m);
    if (!rc)
        rc = resolve_seclist(&rs, &l, gen__comp_surg, &g->comp_surg);
    if (!rc)
        rc = resolve_seclist(&rs, &l, gen__comp_med, &g->comp_med);
    if (!rc)
        rc = resolve(&rs, &l, &rs.dx, "=T81.400x001 =T81.400", 0, &g->ssi);
    if (!rc)
        rc = resolve(&rs, &l, &rs.dx, "=Z37.000 =Z37.100 =Z37.200 =I46.900",
                     0, &g->misc);
    if (!rc)
        rc = resolve(&rs, &l, &rs.dx,
                     "=M81400/3 =M80700/3 =M81700/3 =M85000/3 =M82600/3 "
                     "=M98610/3 =M82100/0 =M90100/0 =M88900/0 =M83300/0 "
                     "=M84800/3 =M80410/3",
                     0, &g->morph_all);
    if (rc)
        goto out;
    for (i = 0; i < g->narch; i++)
        if (g->arch[i].usable)
            break;
    if (i == g->narch) {
        cb_errf(err, "no usable diagnosis codes in '%s'",
                cb_refdata_dir(g->rd));
        rc = CB_ERR_NOT_FOUND;
    }

out:
    cb_free(l.c);
    cb_free(l.w);
    cb_free(rs.dx.c);
    cb_free(rs.px.c);
    cb_strmap_release(&rs.dxmap);
    cb_strmap_release(&rs.pxmap);
    cb_buf_release(&path);
    cb_buf_release(&ignore);
    return rc;
}

void
gen__casemix_free(struct cb_gen *g)
{
    cb_strmap_release(&g->daysurg);
}

const struct gen_code *
gen__pool_pick(const struct gen_pool *p, struct cb_rng *r)
{
    if (p->n == 0)
        return NULL;
    return &p->c[cb_rng_pick_cum(r, p->cum, p->n)];
}

/* Finds code (exact) in a pool, or NULL. */
const struct gen_code *
gen__pool_find(const struct gen_pool *p, const char *code)
{
    uint32_t i;

    for (i = 0; i < p->n; i++)
        if (cb_str_eqz(p->c[i].code, code))
            return &p->c[i];
    return NULL;
}

size_t
gen__casemix_report(const struct cb_gen *g, struct cb_buf *out)
{
    size_t i, bad = 0;
    int k;

    for (i = 0; i < g->narch; i++) {
        const struct gen_arch *a = &g->arch[i];
        const struct gen_archdef *d = a->def;

        if (a->dx.n == 0) {
            cb_errf(out, "%s: no principal codes", d->id);
            bad++;
        }
        for (k = 0; k < a->nsec; k++)
            if (a->sec[k].n == 0) {
                cb_errf(out, "%s: no codes for secondary '%s'", d->id,
                        d->sec[k].p);
                bad++;
            }
        for (k = 0; k < a->npx; k++)
            if (a->px[k].pool.n == 0) {
                cb_errf(out, "%s: no codes for procedure '%s'", d->id,
                        d->px[k].p);
                bad++;
            }
        if (d->morph && a->morph.n == 0) {
            cb_errf(out, "%s: no morphology codes", d->id);
            bad++;
        }
        if (d->ext && a->ext.n == 0) {
            cb_errf(out, "%s: no external causes", d->id);
            bad++;
        }
    }
    return bad;
}
