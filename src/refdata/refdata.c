/*
 * refdata.c - loads the national code tables and value sets from a
 * directory shaped like shared/data/nhc-2019 (see its README.md):
 *
 *   diagnoses.tsv        code, name, additional_code, code_column, kind, seq
 *   procedures.tsv       code, name, category, entry_option, code_column, seq
 *   value-sets/RCnnn.tsv      [subtable,] code, name, ...   (Western, 附件3)
 *   value-sets-tcm/RCnnn.tsv  tables that differ in the TCM standard (附件4)
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/refdata.h"
#include "carebase/strmap.h"
#include "carebase/tsvfile.h"

struct dx_entry {
    struct cb_str code, name, kind;
};

struct px_entry {
    struct cb_str code, name;
    enum cb_px_category cat;
};

struct vset {
    char           table[16];  /* "RC019" */
    struct cb_strmap index;    /* code -> position in codes */
    struct cb_str   *codes;
    struct cb_str   *names;
    size_t           n, cap;
};

struct vset_list {
    struct vset *v;
    size_t n, cap;
    struct cb_strmap by_name;  /* "RC019" -> index in v */
};

struct cb_refdata {
    char             *dir;
    char             *version;
    struct cb_arena   pool;     /* all strings */
    struct dx_entry  *dx;
    size_t            ndx, capdx;
    struct cb_strmap  dx_index; /* stripped code -> dx position */
    struct px_entry  *px;
    size_t            npx, cappx;
    struct cb_strmap  px_index;
    struct vset_list  vs[2];    /* CB_VS_WESTERN, CB_VS_TCM */
};

struct cb_str
cb_code_strip_marks(struct cb_str c, bool *had_asterisk)
{
    static const char dagger[] = "\xe2\x80\xa0"; /* U+2020 † */
    int changed = 1;

    if (had_asterisk)
        *had_asterisk = false;
    c = cb_str_trim(c);
    while (changed && c.len) {
        changed = 0;
        if (c.ptr[c.len - 1] == '*') {
            c.len--;
            changed = 1;
            if (had_asterisk)
                *had_asterisk = true;
        } else if (c.len >= 3 && memcmp(c.ptr + c.len - 3, dagger, 3) == 0) {
            c.len -= 3;
            changed = 1;
        } else if (c.len >= 3 && memcmp(c.ptr, dagger, 3) == 0) {
            c.ptr += 3;
            c.len -= 3;
            changed = 1;
        }
    }
    return c;
}

const char *
cb_px_category_zh(enum cb_px_category c)
{
    switch (c) {
    case CB_PXCAT_NONE:         return "";
    case CB_PXCAT_SURGERY:      return "手术";
    case CB_PXCAT_INTERVENTION: return "介入治疗";
    case CB_PXCAT_THERAPEUTIC:  return "治疗性操作";
    case CB_PXCAT_DIAGNOSTIC:   return "诊断性操作";
    }
    return "";
}

static enum cb_px_category
category_from_zh(struct cb_str s)
{
    if (cb_str_eqz(s, "手术"))
        return CB_PXCAT_SURGERY;
    if (cb_str_eqz(s, "介入治疗"))
        return CB_PXCAT_INTERVENTION;
    if (cb_str_eqz(s, "治疗性操作"))
        return CB_PXCAT_THERAPEUTIC;
    if (cb_str_eqz(s, "诊断性操作"))
        return CB_PXCAT_DIAGNOSTIC;
    return CB_PXCAT_NONE;
}

struct cols {
    int code, name, extra;
};

static enum cb_err
dup_into(struct cb_refdata *rd, struct cb_str s, struct cb_str *out,
         struct cb_buf *err)
{
    *out = cb_arena_dup(&rd->pool, s.ptr, s.len);
    if (!out->ptr) {
        cb_errf(err, "out of memory loading reference data");
        return CB_ERR_NOMEM;
    }
    return CB_OK;
}

static enum cb_err
cols_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct cols *c = ctx;

    c->code = cb_tsv_col(l, "code");
    c->name = cb_tsv_col(l, "name");
    if (c->code < 0 || c->name < 0) {
        cb_errf(err, "'%s' has no 'code' and 'name' columns", l->path);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

struct load_ctx {
    struct cb_refdata *rd;
    struct cols c;
    struct vset *vs;
};

static enum cb_err
dx_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    enum cb_err rc = cols_header(l, &lc->c, err);

    lc->c.extra = cb_tsv_col(l, "kind");
    return rc;
}

static enum cb_err
dx_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    struct cb_refdata *rd = lc->rd;
    struct dx_entry *e;
    enum cb_err rc;

    if ((size_t)lc->c.code >= l->ncols || (size_t)lc->c.name >= l->ncols)
        return CB_OK;
    if (rd->ndx == rd->capdx) {
        size_t cap = rd->capdx ? rd->capdx * 2 : 1024;
        void *p = cb_reallocarray(rd->dx, cap, sizeof(*rd->dx));
        if (!p)
            return CB_ERR_NOMEM;
        rd->dx = p;
        rd->capdx = cap;
    }
    e = &rd->dx[rd->ndx];
    memset(e, 0, sizeof(*e));
    if ((rc = dup_into(rd, l->col[lc->c.code], &e->code, err)) ||
        (rc = dup_into(rd, l->col[lc->c.name], &e->name, err)))
        return rc;
    if (lc->c.extra >= 0 && (size_t)lc->c.extra < l->ncols &&
        (rc = dup_into(rd, l->col[lc->c.extra], &e->kind, err)))
        return rc;
    rc = cb_strmap_put(&rd->dx_index, cb_code_strip_marks(e->code, NULL),
                       (uint32_t)rd->ndx);
    if (rc)
        return rc;
    rd->ndx++;
    return CB_OK;
}

static enum cb_err
px_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    enum cb_err rc = cols_header(l, &lc->c, err);

    lc->c.extra = cb_tsv_col(l, "category");
    if (!rc && lc->c.extra < 0) {
        cb_errf(err, "'%s' has no 'category' column", l->path);
        rc = CB_ERR_PROTO;
    }
    return rc;
}

static enum cb_err
px_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    struct cb_refdata *rd = lc->rd;
    struct px_entry *e;
    enum cb_err rc;

    if ((size_t)lc->c.code >= l->ncols || (size_t)lc->c.extra >= l->ncols)
        return CB_OK;
    if (rd->npx == rd->cappx) {
        size_t cap = rd->cappx ? rd->cappx * 2 : 1024;
        void *p = cb_reallocarray(rd->px, cap, sizeof(*rd->px));
        if (!p)
            return CB_ERR_NOMEM;
        rd->px = p;
        rd->cappx = cap;
    }
    e = &rd->px[rd->npx];
    if ((rc = dup_into(rd, l->col[lc->c.code], &e->code, err)) ||
        (rc = dup_into(rd, l->col[lc->c.name], &e->name, err)))
        return rc;
    e->cat = category_from_zh(l->col[lc->c.extra]);
    if (e->cat == CB_PXCAT_NONE) {
        cb_errf(err, "%s:%lu: unknown procedure category '%.*s'", l->path,
                l->lineno, (int)l->col[lc->c.extra].len,
                l->col[lc->c.extra].ptr);
        return CB_ERR_PROTO;
    }
    rc = cb_strmap_put(&rd->px_index, e->code, (uint32_t)rd->npx);
    if (rc)
        return rc;
    rd->npx++;
    return CB_OK;
}

static enum cb_err
vs_header(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;

    return cols_header(l, &lc->c, err);
}

static enum cb_err
vs_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    struct vset *vs = lc->vs;
    struct cb_str code;
    enum cb_err rc;

    if ((size_t)lc->c.code >= l->ncols || (size_t)lc->c.name >= l->ncols)
        return CB_OK;
    if (vs->n == vs->cap) {
        size_t cap = vs->cap ? vs->cap * 2 : 32;
        struct cb_str *c = cb_reallocarray(vs->codes, cap, sizeof(*c));
        if (!c)
            return CB_ERR_NOMEM;
        vs->codes = c;
        c = cb_reallocarray(vs->names, cap, sizeof(*c));
        if (!c)
            return CB_ERR_NOMEM;
        vs->names = c;
        vs->cap = cap;
    }
    code = cb_str_trim(l->col[lc->c.code]);
    if ((rc = dup_into(lc->rd, code, &vs->codes[vs->n], err)) ||
        (rc = dup_into(lc->rd, l->col[lc->c.name], &vs->names[vs->n], err)))
        return rc;
    /* A code may repeat across TCM RC014's two sub-tables: first wins. */
    if (!cb_strmap_has(&vs->index, code)) {
        rc = cb_strmap_put(&vs->index, code, (uint32_t)vs->n);
        if (rc)
            return rc;
    }
    vs->n++;
    return CB_OK;
}

static enum cb_err
load_vsets(struct cb_refdata *rd, enum cb_vs_std std, const char *sub,
           struct cb_buf *err)
{
    char path[4096];
    DIR *d;
    struct dirent *de;
    enum cb_err rc = CB_OK;
    struct vset_list *list = &rd->vs[std];

    if ((size_t)snprintf(path, sizeof(path), "%s/%s", rd->dir, sub) >= sizeof(path))
        return CB_ERR_TOO_LARGE;
    d = opendir(path);
    if (!d) {
        cb_errf(err, "cannot open value-set directory '%s'", path);
        return CB_ERR_NOT_FOUND;
    }
    cb_strmap_init(&list->by_name);
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        struct load_ctx lc;
        char file[4096];

        if (n < 6 || n > 15 || strncmp(de->d_name, "RC", 2) != 0 ||
            strcmp(de->d_name + n - 4, ".tsv") != 0)
            continue;
        if (list->n == list->cap) {
            size_t cap = list->cap ? list->cap * 2 : 32;
            struct vset *v = cb_reallocarray(list->v, cap, sizeof(*v));
            if (!v) {
                rc = CB_ERR_NOMEM;
                break;
            }
            list->v = v;
            list->cap = cap;
        }
        memset(&list->v[list->n], 0, sizeof(list->v[0]));
        memcpy(list->v[list->n].table, de->d_name, n - 4);
        list->v[list->n].table[n - 4] = '\0';
        cb_strmap_init(&list->v[list->n].index);
        lc.rd = rd;
        lc.vs = &list->v[list->n];
        list->n++;
        if ((size_t)snprintf(file, sizeof(file), "%s/%s", path, de->d_name) >=
            sizeof(file)) {
            rc = CB_ERR_TOO_LARGE;
            break;
        }
        rc = cb_tsv_read(file, vs_header, vs_line, &lc, err);
        if (rc)
            break;
    }
    closedir(d);
    for (size_t i = 0; !rc && i < list->n; i++)
        rc = cb_strmap_put(&list->by_name, cb_str_c(list->v[i].table), (uint32_t)i);
    return rc;
}

enum cb_err
cb_refdata_load(struct cb_refdata **out, const char *dir, struct cb_buf *err)
{
    struct cb_refdata *rd;
    struct load_ctx lc;
    char path[4096];
    const char *base;
    size_t n;
    enum cb_err rc = CB_ERR_NOMEM;

    *out = NULL;
    rd = cb_calloc(1, sizeof(*rd));
    if (!rd)
        return CB_ERR_NOMEM;
    cb_arena_init(&rd->pool, 1 << 20);
    cb_strmap_init(&rd->dx_index);
    cb_strmap_init(&rd->px_index);
    rd->dir = cb_strdup(dir);
    if (!rd->dir)
        goto fail;
    n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    base = dir + n;
    while (base > dir && base[-1] != '/')
        base--;
    rd->version = cb_strndup(base, (size_t)(dir + n - base));
    if (!rd->version)
        goto fail;

    lc.rd = rd;
    rc = CB_ERR_TOO_LARGE;
    if (n > sizeof(path) - 32)
        goto fail;
    snprintf(path, sizeof(path), "%.*s/diagnoses.tsv", (int)n, dir);
    if ((rc = cb_tsv_read(path, dx_header, dx_line, &lc, err)))
        goto fail;
    snprintf(path, sizeof(path), "%.*s/procedures.tsv", (int)n, dir);
    if ((rc = cb_tsv_read(path, px_header, px_line, &lc, err)))
        goto fail;
    if ((rc = load_vsets(rd, CB_VS_WESTERN, "value-sets", err)))
        goto fail;
    if ((rc = load_vsets(rd, CB_VS_TCM, "value-sets-tcm", err)))
        goto fail;
    *out = rd;
    return CB_OK;

fail:
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "out of memory loading reference data from '%s'", dir);
    cb_refdata_free(rd);
    return rc;
}

void
cb_refdata_free(struct cb_refdata *rd)
{
    int s;
    size_t i;

    if (!rd)
        return;
    for (s = 0; s < 2; s++) {
        for (i = 0; i < rd->vs[s].n; i++) {
            cb_strmap_release(&rd->vs[s].v[i].index);
            cb_free(rd->vs[s].v[i].codes);
            cb_free(rd->vs[s].v[i].names);
        }
        cb_free(rd->vs[s].v);
        cb_strmap_release(&rd->vs[s].by_name);
    }
    cb_strmap_release(&rd->dx_index);
    cb_strmap_release(&rd->px_index);
    cb_free(rd->dx);
    cb_free(rd->px);
    cb_arena_release(&rd->pool);
    cb_free(rd->dir);
    cb_free(rd->version);
    cb_free(rd);
}

const char *
cb_refdata_dir(const struct cb_refdata *rd)
{
    return rd->dir;
}

const char *
cb_refdata_version(const struct cb_refdata *rd)
{
    return rd->version;
}

bool
cb_refdata_dx(const struct cb_refdata *rd, struct cb_str code,
              struct cb_str *name)
{
    uint32_t i;

    if (!cb_strmap_get(&rd->dx_index, cb_code_strip_marks(code, NULL), &i))
        return false;
    if (name)
        *name = rd->dx[i].name;
    return true;
}

bool
cb_refdata_px(const struct cb_refdata *rd, struct cb_str code,
              enum cb_px_category *cat, struct cb_str *name)
{
    uint32_t i;

    if (!cb_strmap_get(&rd->px_index, cb_str_trim(code), &i))
        return false;
    if (cat)
        *cat = rd->px[i].cat;
    if (name)
        *name = rd->px[i].name;
    return true;
}

static const struct vset *
find_vset(const struct cb_refdata *rd, enum cb_vs_std std, const char *table)
{
    uint32_t i;

    if (cb_strmap_get(&rd->vs[std].by_name, cb_str_c(table), &i))
        return &rd->vs[std].v[i];
    /* TCM tables equal to the Western ones are not repeated on disk. */
    if (std != CB_VS_WESTERN &&
        cb_strmap_get(&rd->vs[CB_VS_WESTERN].by_name, cb_str_c(table), &i))
        return &rd->vs[CB_VS_WESTERN].v[i];
    return NULL;
}

bool
cb_refdata_in_set(const struct cb_refdata *rd, enum cb_vs_std std,
                  const char *table, struct cb_str code)
{
    const struct vset *vs = find_vset(rd, std, table);

    return vs && cb_strmap_has(&vs->index, cb_str_trim(code));
}

bool
cb_refdata_set_name(const struct cb_refdata *rd, enum cb_vs_std std,
                    const char *table, struct cb_str code,
                    struct cb_str *name)
{
    const struct vset *vs = find_vset(rd, std, table);
    uint32_t i;

    if (!vs || !cb_strmap_get(&vs->index, cb_str_trim(code), &i))
        return false;
    if (name)
        *name = vs->names[i];
    return true;
}

size_t
cb_refdata_dx_count(const struct cb_refdata *rd)
{
    return rd->ndx;
}

void
cb_refdata_dx_at(const struct cb_refdata *rd, size_t i, struct cb_str *code,
                 struct cb_str *name, struct cb_str *kind)
{
    if (code)
        *code = rd->dx[i].code;
    if (name)
        *name = rd->dx[i].name;
    if (kind)
        *kind = rd->dx[i].kind;
}

size_t
cb_refdata_px_count(const struct cb_refdata *rd)
{
    return rd->npx;
}

void
cb_refdata_px_at(const struct cb_refdata *rd, size_t i, struct cb_str *code,
                 struct cb_str *name, enum cb_px_category *cat)
{
    if (code)
        *code = rd->px[i].code;
    if (name)
        *name = rd->px[i].name;
    if (cat)
        *cat = rd->px[i].cat;
}

size_t
cb_refdata_set_members(const struct cb_refdata *rd, enum cb_vs_std std,
                       const char *table, const struct cb_str **codes)
{
    const struct vset *vs = find_vset(rd, std, table);

    if (!vs) {
        *codes = NULL;
        return 0;
    }
    *codes = vs->codes;
    return vs->n;
}
