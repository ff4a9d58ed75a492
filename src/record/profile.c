/*
 * profile.c - loads column dialects (data/profiles/NAME.tsv) and turns the
 * rows of a file into canonical records.
 *
 * Profile file: TSV, header "kind a b c", '#' comments. Kinds:
 *   profile  NAME  STD  DESCRIPTION     STD = western | tcm | n041
 *   detect   COLUMN                     marks the dialect in header detection
 *   alias    COLUMN  KEY                "{a..b}" ranges expand in step
 *   map      KEY     RAW  CANONICAL     KEY* applies to every slot of a slot field
 *   incision RAW     QKDJ QKYHLB        Western combined RC014 code
 *   option   age_unit  days|months
 * Later files may extend a profile already loaded (same NAME).
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/profile.h"
#include "carebase/strmap.h"
#include "carebase/tsvfile.h"
#include "record_int.h"

#define MAX_PROFILES 32
#define MAX_DETECT 16

struct column {
    char *name;
    int   field;
};

struct cb_profile {
    char            *name;
    char            *description;
    enum cb_std      std;
    int              age_in_months;
    struct cb_strmap alias;       /* upper-cased column -> field id */
    struct column   *cols;        /* writer columns, file order */
    size_t           ncols, capcols;
    struct cb_strmap vmap;        /* "K\x1fRAW" -> index in canon */
    struct cb_strmap vmap_inv;    /* "K\x1fCANON" -> index in raw */
    char           **canon, **raw;
    size_t           nmaps, capmaps;
    uint8_t          kind[CB_FP_NFIELDS]; /* per field: KIND_* | type */
    struct cb_strmap incision;    /* raw -> index in inc */
    struct cb_strmap incision_inv;/* "q/h" -> index */
    struct { char raw[8], q[4], h[4]; } *inc;
    size_t           ninc, capinc;
    char            *detect[MAX_DETECT];
    int              ndetect;
};

/*
 * What filling a field involves, one byte per field so that the per-column
 * work of cb_profile_fill is one lookup: the field's enum cb_fp_type in the
 * low bits and these flags.
 */
#define KIND_TYPE   0x07u
#define KIND_MAP    0x08u  /* the profile has value maps for the field */
#define KIND_DXCODE 0x10u  /* a diagnosis code: ICD letter upper-cased */
#define KIND_PARSE  0x20u  /* typed (N, M, D, DT): parsed into val[] */

struct cb_profiles {
    struct cb_profile *p[MAX_PROFILES];
    size_t n;
};

static void
profile_free(struct cb_profile *p)
{
    size_t i;

    if (!p)
        return;
    cb_free(p->name);
    cb_free(p->description);
    cb_strmap_release(&p->alias);
    for (i = 0; i < p->ncols; i++)
        cb_free(p->cols[i].name);
    cb_free(p->cols);
    cb_strmap_release(&p->vmap);
    cb_strmap_release(&p->vmap_inv);
    for (i = 0; i < p->nmaps; i++) {
        cb_free(p->canon[i]);
        cb_free(p->raw[i]);
    }
    cb_free(p->canon);
    cb_free(p->raw);
    cb_strmap_release(&p->incision);
    cb_strmap_release(&p->incision_inv);
    cb_free(p->inc);
    for (i = 0; i < (size_t)p->ndetect; i++)
        cb_free(p->detect[i]);
    cb_free(p);
}

void
cb_profiles_free(struct cb_profiles *ps)
{
    size_t i;

    if (!ps)
        return;
    for (i = 0; i < ps->n; i++)
        profile_free(ps->p[i]);
    cb_free(ps);
}

/* Upper-cases ASCII letters of a column name into buf (for alias lookup). */
static struct cb_str
upper_col(struct cb_str s, char *buf, size_t n)
{
    size_t i;

    s = cb_str_trim(s);
    if (s.len > n)
        s.len = n;
    for (i = 0; i < s.len; i++)
        buf[i] = (char)toupper((unsigned char)s.ptr[i]);
    return cb_str_make(buf, s.len);
}

/* Map key of a field: scalar "RYTJ", slot field "*MZFS". */
static size_t
map_key(int field, struct cb_str v, char *buf, size_t n)
{
    const struct cb_fp_field_info *fi = cb_fp_field(field);
    int k = snprintf(buf, n, "%s%s\x1f", fi->slot ? "*" : "", fi->base);

    if (k < 0 || (size_t)k + v.len > n)
        return 0;
    memcpy(buf + k, v.ptr, v.len);
    return (size_t)k + v.len;
}

static int
is_dx_code_field(int f)
{
    if (f == CB_F_JBDM || f == CB_F_MZZD_JBBM || f == CB_F_H23 || f == CB_F_JBMM)
        return 1;
    return f >= CB_FP_DX_BASE && f < CB_FP_PX_BASE &&
           (f - CB_FP_DX_BASE) % CB_DX__FIELDS == CB_DX_CODE;
}

/* The kinds of a new profile: types and code flags, no maps yet. */
static void
init_kinds(struct cb_profile *p)
{
    int f;

    for (f = 0; f < CB_FP_NFIELDS; f++) {
        enum cb_fp_type t = cb_fp_field(f)->type;
        bool text = t == CB_T_C || t == CB_T_K || t == CB_T_S;

        p->kind[f] = (uint8_t)((unsigned)t |
                               (is_dx_code_field(f) ? KIND_DXCODE : 0u) |
                               (text ? 0u : KIND_PARSE));
    }
}

struct range {
    size_t pre_len, post_len;  /* text before '{' and after '}' */
    long   lo, hi;
    int    width;              /* zero-padded width, or 0 */
    const char *pre, *post;
};

/* Parses "ABC{01..40}D"; a string without braces is a range of one. */
static int
parse_range(struct cb_str s, struct range *r)
{
    const char *open = memchr(s.ptr, '{', s.len), *close, *dots;
    int64_t lo, hi;

    memset(r, 0, sizeof(*r));
    r->pre = s.ptr;
    if (!open) {
        r->pre_len = s.len;
        r->lo = r->hi = -1;
        return 0;
    }
    close = memchr(open, '}', s.len - (size_t)(open - s.ptr));
    dots = close ? memchr(open, '.', (size_t)(close - open)) : NULL;
    if (!close || !dots || dots[1] != '.')
        return -1;
    if (cb_parse_i64(cb_str_make(open + 1, (size_t)(dots - open - 1)), &lo) ||
        cb_parse_i64(cb_str_make(dots + 2, (size_t)(close - dots - 2)), &hi) ||
        lo < 0 || hi < lo || hi > 999)
        return -1;
    r->pre_len = (size_t)(open - s.ptr);
    r->post = close + 1;
    r->post_len = s.len - (size_t)(close + 1 - s.ptr);
    r->lo = lo;
    r->hi = hi;
    r->width = open[1] == '0' ? (int)(dots - open - 1) : 0;
    return 0;
}

static void
range_at(const struct range *r, long i, char *buf, size_t n)
{
    if (r->lo < 0)
        snprintf(buf, n, "%.*s", (int)r->pre_len, r->pre);
    else
        snprintf(buf, n, "%.*s%0*ld%.*s", (int)r->pre_len, r->pre, r->width,
                 r->lo + i, (int)r->post_len, r->post);
}

struct load_ctx {
    struct cb_profiles *ps;
    struct cb_profile  *cur;
};

static int
std_from(struct cb_str s, enum cb_std *std)
{
    if (cb_str_eqz(s, "western"))
        *std = CB_STD_WESTERN;
    else if (cb_str_eqz(s, "tcm"))
        *std = CB_STD_TCM;
    else if (cb_str_eqz(s, "n041"))
        *std = CB_STD_N041;
    else
        return -1;
    return 0;
}

static enum cb_err
add_alias(struct cb_profile *p, const struct cb_tsv_line *l,
          struct cb_buf *err)
{
    struct range rc_col, rc_key;
    long i, n;
    enum cb_err rc;

    if (l->ncols < 3 || parse_range(l->col[1], &rc_col) ||
        parse_range(l->col[2], &rc_key) ||
        (rc_col.hi - rc_col.lo) != (rc_key.hi - rc_key.lo)) {
        cb_errf(err, "%s:%lu: bad alias line: expected COLUMN<TAB>KEY with "
                "ranges of equal length", l->path, l->lineno);
        return CB_ERR_PROTO;
    }
    n = rc_col.lo < 0 ? 1 : rc_col.hi - rc_col.lo + 1;
    for (i = 0; i < n; i++) {
        char col[128], key[64], up[128];
        int field;
        struct cb_str ucol;

        range_at(&rc_col, i, col, sizeof(col));
        range_at(&rc_key, i, key, sizeof(key));
        field = cb_fp_field_by_key(cb_str_c(key));
        if (field < 0) {
            cb_errf(err, "%s:%lu: unknown canonical key '%s'", l->path,
                    l->lineno, key);
            return CB_ERR_PROTO;
        }
        ucol = upper_col(cb_str_c(col), up, sizeof(up));
        if ((rc = cb_strmap_put(&p->alias, ucol, (uint32_t)field)))
            return rc;
        if (p->ncols == p->capcols) {
            size_t cap = p->capcols ? p->capcols * 2 : 256;
            struct column *c = cb_reallocarray(p->cols, cap, sizeof(*c));
            if (!c)
                return CB_ERR_NOMEM;
            p->cols = c;
            p->capcols = cap;
        }
        {
            size_t j;
            int seen = 0;
            for (j = 0; j < p->ncols; j++) /* load time only */
                if (p->cols[j].field == field)
                    seen = 1;
            if (seen)
                continue;
        }
        p->cols[p->ncols].name = cb_strdup(col);
        if (!p->cols[p->ncols].name)
            return CB_ERR_NOMEM;
        p->cols[p->ncols].field = field;
        p->ncols++;
    }
    return CB_OK;
}

static enum cb_err
add_map(struct cb_profile *p, const struct cb_tsv_line *l, struct cb_buf *err)
{
    struct cb_str key;
    int slot = 0, field = -1, n, lo = 0, hi = 0, f;
    char kb[256];
    size_t kn;
    enum cb_err rc;

    if (l->ncols < 4) {
        cb_errf(err, "%s:%lu: bad map line: expected KEY<TAB>RAW<TAB>CANONICAL",
                l->path, l->lineno);
        return CB_ERR_PROTO;
    }
    key = l->col[1];
    if (key.len && key.ptr[key.len - 1] == '*') {
        char kz[64];
        slot = 1;
        snprintf(kz, sizeof(kz), "%.*s1", (int)key.len - 1, key.ptr);
        field = cb_fp_field_by_key(cb_str_c(kz));
    } else {
        field = cb_fp_field_by_key(key);
    }
    if (field < 0 || (slot && !cb_fp_field(field)->slot)) {
        cb_errf(err, "%s:%lu: unknown key '%.*s' in map", l->path, l->lineno,
                (int)key.len, key.ptr);
        return CB_ERR_PROTO;
    }
    if (p->nmaps == p->capmaps) {
        size_t cap = p->capmaps ? p->capmaps * 2 : 64;
        char **c = cb_reallocarray(p->canon, cap, sizeof(*c));
        if (!c)
            return CB_ERR_NOMEM;
        p->canon = c;
        c = cb_reallocarray(p->raw, cap, sizeof(*c));
        if (!c)
            return CB_ERR_NOMEM;
        p->raw = c;
        p->capmaps = cap;
    }
    p->raw[p->nmaps] = cb_strndup(l->col[2].ptr, l->col[2].len);
    p->canon[p->nmaps] = cb_strndup(l->col[3].ptr, l->col[3].len);
    if (!p->raw[p->nmaps] || !p->canon[p->nmaps]) {
        cb_free(p->raw[p->nmaps]);
        cb_free(p->canon[p->nmaps]);
        return CB_ERR_NOMEM;
    }
    kn = map_key(field, l->col[2], kb, sizeof(kb));
    if (!kn || (rc = cb_strmap_put(&p->vmap, cb_str_make(kb, kn), (uint32_t)p->nmaps)))
        return kn ? rc : CB_ERR_TOO_LARGE;
    kn = map_key(field, l->col[3], kb, sizeof(kb));
    if (!kn)
        return CB_ERR_TOO_LARGE;
    if (!cb_strmap_has(&p->vmap_inv, cb_str_make(kb, kn)) &&
        (rc = cb_strmap_put(&p->vmap_inv, cb_str_make(kb, kn), (uint32_t)p->nmaps)))
        return rc;
    p->nmaps++;
    /* Flag every field the map applies to. */
    if (slot) {
        const struct cb_fp_field_info *fi = cb_fp_field(field);
        lo = 1;
        hi = field >= CB_FP_PX_BASE ? CB_FP_MAX_PX : CB_FP_MAX_DX;
        f = field >= CB_FP_PX_BASE ? (field - CB_FP_PX_BASE) % CB_PX__FIELDS
                                   : (field - CB_FP_DX_BASE) % CB_DX__FIELDS;
        for (n = lo; n <= hi; n++)
            p->kind[field >= CB_FP_PX_BASE ? cb_fp_px(n, f) : cb_fp_dx(n, f)] |= KIND_MAP;
        (void)fi;
    } else {
        p->kind[field] |= KIND_MAP;
    }
    return CB_OK;
}

static enum cb_err
add_incision(struct cb_profile *p, const struct cb_tsv_line *l,
             struct cb_buf *err)
{
    char qh[16];
    enum cb_err rc;
    struct cb_str h = l->ncols > 3 ? l->col[3] : CB_STR_NULL;

    if (l->ncols < 3 || l->col[1].len >= 8 || l->col[2].len >= 4 || h.len >= 4) {
        cb_errf(err, "%s:%lu: bad incision line: expected RAW<TAB>QKDJ<TAB>QKYHLB",
                l->path, l->lineno);
        return CB_ERR_PROTO;
    }
    if (p->ninc == p->capinc) {
        size_t cap = p->capinc ? p->capinc * 2 : 16;
        void *v = cb_reallocarray(p->inc, cap, sizeof(*p->inc));
        if (!v)
            return CB_ERR_NOMEM;
        p->inc = v;
        p->capinc = cap;
    }
    snprintf(p->inc[p->ninc].raw, 8, "%.*s", (int)l->col[1].len, l->col[1].ptr);
    snprintf(p->inc[p->ninc].q, 4, "%.*s", (int)l->col[2].len, l->col[2].ptr);
    snprintf(p->inc[p->ninc].h, 4, "%.*s", (int)h.len, h.ptr);
    if ((rc = cb_strmap_put(&p->incision, l->col[1], (uint32_t)p->ninc)))
        return rc;
    snprintf(qh, sizeof(qh), "%s/%s", p->inc[p->ninc].q, p->inc[p->ninc].h);
    if (!cb_strmap_has(&p->incision_inv, cb_str_c(qh)) &&
        (rc = cb_strmap_put(&p->incision_inv, cb_str_c(qh), (uint32_t)p->ninc)))
        return rc;
    p->ninc++;
    return CB_OK;
}

static enum cb_err
profile_line(const struct cb_tsv_line *l, void *ctx, struct cb_buf *err)
{
    struct load_ctx *lc = ctx;
    struct cb_profile *p = lc->cur;
    struct cb_str kind = l->ncols ? l->col[0] : CB_STR_NULL;

    if (cb_str_eqz(kind, "profile")) {
        size_t i;
        char name[64];

        if (l->ncols < 3 || l->col[1].len == 0 || l->col[1].len >= sizeof(name)) {
            cb_errf(err, "%s:%lu: bad profile line", l->path, l->lineno);
            return CB_ERR_PROTO;
        }
        snprintf(name, sizeof(name), "%.*s", (int)l->col[1].len, l->col[1].ptr);
        for (i = 0; i < lc->ps->n; i++)
            if (strcmp(lc->ps->p[i]->name, name) == 0) {
                lc->cur = lc->ps->p[i];
                return CB_OK;
            }
        if (lc->ps->n == MAX_PROFILES) {
            cb_errf(err, "%s: too many profiles (at most %d)", l->path, MAX_PROFILES);
            return CB_ERR_TOO_LARGE;
        }
        p = cb_calloc(1, sizeof(*p));
        if (!p)
            return CB_ERR_NOMEM;
        lc->ps->p[lc->ps->n++] = p;
        lc->cur = p;
        cb_strmap_init(&p->alias);
        cb_strmap_init(&p->vmap);
        cb_strmap_init(&p->vmap_inv);
        cb_strmap_init(&p->incision);
        cb_strmap_init(&p->incision_inv);
        init_kinds(p);
        p->name = cb_strdup(name);
        p->description = cb_strndup(l->ncols > 3 ? l->col[3].ptr : "",
                                    l->ncols > 3 ? l->col[3].len : 0);
        if (!p->name || !p->description)
            return CB_ERR_NOMEM;
        if (std_from(l->col[2], &p->std)) {
            cb_errf(err, "%s:%lu: unknown standard '%.*s' (western, tcm or n041)",
                    l->path, l->lineno, (int)l->col[2].len, l->col[2].ptr);
            return CB_ERR_PROTO;
        }
        return CB_OK;
    }
    if (!p) {
        cb_errf(err, "%s:%lu: '%.*s' before any 'profile' line", l->path,
                l->lineno, (int)kind.len, kind.ptr);
        return CB_ERR_PROTO;
    }
    if (cb_str_eqz(kind, "alias"))
        return add_alias(p, l, err);
    if (cb_str_eqz(kind, "map"))
        return add_map(p, l, err);
    if (cb_str_eqz(kind, "incision"))
        return add_incision(p, l, err);
    if (cb_str_eqz(kind, "detect")) {
        if (l->ncols < 2 || p->ndetect == MAX_DETECT) {
            cb_errf(err, "%s:%lu: bad detect line", l->path, l->lineno);
            return CB_ERR_PROTO;
        }
        p->detect[p->ndetect] = cb_strndup(l->col[1].ptr, l->col[1].len);
        if (!p->detect[p->ndetect])
            return CB_ERR_NOMEM;
        p->ndetect++;
        return CB_OK;
    }
    if (cb_str_eqz(kind, "option")) {
        if (l->ncols >= 3 && cb_str_eqz(l->col[1], "age_unit") &&
            (cb_str_eqz(l->col[2], "days") || cb_str_eqz(l->col[2], "months"))) {
            p->age_in_months = cb_str_eqz(l->col[2], "months");
            return CB_OK;
        }
        cb_errf(err, "%s:%lu: unknown option (known: age_unit days|months)",
                l->path, l->lineno);
        return CB_ERR_PROTO;
    }
    cb_errf(err, "%s:%lu: unknown line kind '%.*s'", l->path, l->lineno,
            (int)kind.len, kind.ptr);
    return CB_ERR_PROTO;
}

enum cb_err
cb_profiles_add_file(struct cb_profiles *ps, const char *path,
                     struct cb_buf *err)
{
    struct load_ctx lc = { ps, NULL };
    enum cb_err rc = cb_tsv_read(path, NULL, profile_line, &lc, err);

    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "out of memory loading profile '%s'", path);
    return rc;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum cb_err
cb_profiles_load(struct cb_profiles **out, const char *dir, struct cb_buf *err)
{
    struct cb_profiles *ps;
    DIR *d;
    struct dirent *de;
    char *names[64];
    size_t nnames = 0, i;
    enum cb_err rc = CB_OK;

    *out = NULL;
    d = opendir(dir);
    if (!d) {
        cb_errf(err, "cannot open profile directory '%s'", dir);
        return CB_ERR_NOT_FOUND;
    }
    while ((de = readdir(d)) != NULL && nnames < 64) {
        size_t n = strlen(de->d_name);
        if (n > 4 && strcmp(de->d_name + n - 4, ".tsv") == 0 && de->d_name[0] != '.') {
            names[nnames] = cb_strdup(de->d_name);
            if (!names[nnames]) {
                rc = CB_ERR_NOMEM;
                break;
            }
            nnames++;
        }
    }
    closedir(d);
    qsort(names, nnames, sizeof(names[0]), cmp_names); /* stable order */
    ps = cb_calloc(1, sizeof(*ps));
    if (!ps)
        rc = CB_ERR_NOMEM;
    for (i = 0; i < nnames; i++) {
        char path[4096];
        if (!rc) {
            if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, names[i]) >= sizeof(path))
                rc = CB_ERR_TOO_LARGE;
            else
                rc = cb_profiles_add_file(ps, path, err);
        }
        cb_free(names[i]);
    }
    if (!rc && ps->n == 0) {
        cb_errf(err, "no profiles found in '%s'", dir);
        rc = CB_ERR_NOT_FOUND;
    }
    if (rc) {
        cb_profiles_free(ps);
        return rc;
    }
    *out = ps;
    return CB_OK;
}

size_t
cb_profiles_count(const struct cb_profiles *ps)
{
    return ps->n;
}

const struct cb_profile *
cb_profiles_at(const struct cb_profiles *ps, size_t i)
{
    return i < ps->n ? ps->p[i] : NULL;
}

const struct cb_profile *
cb_profiles_find(const struct cb_profiles *ps, const char *name)
{
    size_t i;

    for (i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i]->name, name) == 0)
            return ps->p[i];
    return NULL;
}

const char *
cb_profile_name(const struct cb_profile *p)
{
    return p->name;
}

const char *
cb_profile_description(const struct cb_profile *p)
{
    return p->description;
}

enum cb_std
cb_profile_std(const struct cb_profile *p)
{
    return p->std;
}

static int
lookup_col(const struct cb_profile *p, struct cb_str name)
{
    char up[128];
    uint32_t f;

    if (!cb_strmap_get(&p->alias, upper_col(name, up, sizeof(up)), &f))
        return -1;
    return (int)f;
}

const struct cb_profile *
cb_profiles_detect(const struct cb_profiles *ps, const struct cb_row *header)
{
    const struct cb_profile *best = NULL;
    size_t i, j, best_hits = 0;
    int best_detect = -1;

    for (i = 0; i < ps->n; i++) {
        const struct cb_profile *p = ps->p[i];
        size_t hits = 0;
        int det = 0, k;

        for (j = 0; j < header->nfields; j++)
            if (lookup_col(p, header->fields[j]) >= 0)
                hits++;
        for (k = 0; k < p->ndetect; k++)
            for (j = 0; j < header->nfields; j++) {
                char up[128];
                if (cb_str_eqz(upper_col(header->fields[j], up, sizeof(up)),
                               p->detect[k])) {
                    det++;
                    break;
                }
            }
        if (hits > best_hits || (hits == best_hits && det > best_detect)) {
            best = p;
            best_hits = hits;
            best_detect = det;
        }
    }
    return best_hits >= 3 ? best : NULL;
}

/* The dialect's column for a field, for messages. */
static const char *
column_of(const struct cb_profile *p, int field)
{
    size_t i;

    for (i = 0; i < p->ncols; i++)
        if (p->cols[i].field == field)
            return p->cols[i].name;
    return NULL;
}

enum cb_err
cb_header_map_build(struct cb_header_map *m, const struct cb_profile *p,
                    const struct cb_row *header, const int *supplied,
                    struct cb_buf *err)
{
    static uint8_t seen_init[CB_FP_NFIELDS];
    uint8_t seen[CB_FP_NFIELDS];
    size_t i;
    int f, missing = 0;
    enum cb_err rc = CB_OK;

    memcpy(seen, seen_init, sizeof(seen));
    memset(m, 0, sizeof(*m));
    m->profile = p;
    m->ncols = header->nfields;
    m->field_of_col = cb_calloc(header->nfields ? header->nfields : 1, sizeof(int));
    if (!m->field_of_col)
        return CB_ERR_NOMEM;
    for (i = 0; i < header->nfields; i++) {
        f = lookup_col(p, header->fields[i]);
        m->field_of_col[i] = f;
        if (f < 0) {
            m->nignored++;
            continue;
        }
        if (seen[f]) {
            char kb[32];
            cb_errf(err, "header column %zu '%.*s' maps to %s, which an earlier "
                    "column already gives", i + 1, (int)header->fields[i].len,
                    header->fields[i].ptr, cb_fp_key(f, kb, sizeof(kb)));
            rc = CB_ERR_PROTO;
        }
        seen[f] = 1;
    }
    for (i = 0; supplied && supplied[i] >= 0; i++)
        seen[supplied[i]] = 1;
    for (f = 0; f < CB_F__SCALARS; f++) {
        const struct cb_fp_field_info *fi = cb_fp_field(f);
        const char *col;

        if (fi->req != CB_REQ_R || seen[f] || f == CB_F_USERNAME)
            continue;
        col = column_of(p, f);
        if (!col)
            continue; /* the dialect cannot express it */
        if (!missing)
            cb_errf(err, "missing required columns for profile '%s': %s (%s, "
                    "%s column '%s')", p->name, fi->base, fi->name_zh, p->name, col);
        else
            cb_errf(err, "%s (%s, %s column '%s')", fi->base, fi->name_zh,
                    p->name, col);
        missing++;
        rc = CB_ERR_PROTO;
    }
    if (rc)
        cb_header_map_release(m);
    return rc;
}

void
cb_header_map_release(struct cb_header_map *m)
{
    cb_free(m->field_of_col);
    m->field_of_col = NULL;
}

/* --- normalisation ------------------------------------------------------ */

/* Assigns a copy of a normalised value and parses it again. */
static enum cb_err
set_copy(struct cb_fp *r, int f, const char *p, size_t n, struct cb_arena *a)
{
    struct cb_str s = cb_arena_dup(a, p, n);

    if (!s.ptr)
        return CB_ERR_NOMEM;
    cb_fp_assign(r, f, s);
    cb_fp_parse_field(r, f);
    return CB_OK;
}

/* "1.1000000000000001" -> "1.1" for RC032 codes read from spreadsheets. */
static enum cb_err
fix_float_code(struct cb_fp *r, int f, struct cb_arena *a)
{
    struct cb_str s = r->v[f];
    size_t i;
    char buf[24];

    if (s.len < 5 || s.len > 24 || s.ptr[1] != '.' || s.ptr[0] < '0' || s.ptr[0] > '9')
        return CB_OK;
    for (i = 2; i < s.len; i++)
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return CB_OK;
    /* Round to one decimal: "2.2000000000000002" -> "2.2", "1.0999999" -> "1.1". */
    {
        int whole = s.ptr[0] - '0', tenth = s.ptr[2] - '0';
        if (s.ptr[3] >= '5' && ++tenth == 10) {
            tenth = 0;
            whole++;
        }
        if (tenth == 0)
            snprintf(buf, sizeof(buf), "%d", whole);
        else
            snprintf(buf, sizeof(buf), "%d.%d", whole, tenth);
    }
    return set_copy(r, f, buf, strlen(buf), a);
}

static enum cb_err
apply_map(const struct cb_profile *p, struct cb_fp *r, int f)
{
    char kb[256];
    size_t kn = map_key(f, r->v[f], kb, sizeof(kb));
    uint32_t i;

    if (kn && cb_strmap_get(&p->vmap, cb_str_make(kb, kn), &i))
        r->v[f] = cb_str_c(p->canon[i]);
    return CB_OK;
}

/*
 * Parses a slot field again after a change; *recount is set when it became
 * empty, as the record's ndx/npx may then be lower than counted so far.
 */
static void
reparse_slot_field(struct cb_fp *r, int f, bool *recount)
{
    cb_fp_parse_field(r, f);
    if (r->state[f] == CB_FS_EMPTY)
        *recount = true;
}

static enum cb_err
split_incision(const struct cb_profile *p, struct cb_fp *r, int n,
               bool *recount)
{
    int fq = cb_fp_px(n, CB_PX_QKYH);
    uint32_t i;

    if (!r->v[fq].len)
        return CB_OK;
    if (cb_strmap_get(&p->incision, r->v[fq], &i)) {
        cb_fp_assign(r, cb_fp_px(n, CB_PX_QKDJ), cb_str_c(p->inc[i].q));
        reparse_slot_field(r, cb_fp_px(n, CB_PX_QKDJ), recount);
        if (p->inc[i].h[0]) {
            cb_fp_assign(r, cb_fp_px(n, CB_PX_QKYHLB), cb_str_c(p->inc[i].h));
            reparse_slot_field(r, cb_fp_px(n, CB_PX_QKYHLB), recount);
        }
    } else if (!r->v[cb_fp_px(n, CB_PX_QKDJ)].len) {
        /* Unknown combined code: keep it visible to the incision rules. */
        cb_fp_assign(r, cb_fp_px(n, CB_PX_QKDJ), r->v[fq]);
        reparse_slot_field(r, cb_fp_px(n, CB_PX_QKDJ), recount);
    }
    return CB_OK;
}

/* Merges the TCM hour field (RYSJ_S) into a date-only RYSJ. */
static enum cb_err
merge_hour(struct cb_fp *r, int fdt, int fh, struct cb_arena *a)
{
    int64_t h;
    char buf[24];

    if (r->v[fdt].len != 10 || !r->v[fh].len ||
        cb_parse_i64(r->v[fh], &h) || h < 0 || h > 23)
        return CB_OK;
    snprintf(buf, sizeof(buf), "%.10s %02d:00:00", r->v[fdt].ptr, (int)h);
    return set_copy(r, fdt, buf, strlen(buf), a);
}

/* Converts an under-one age given in months ("3", "3.5", "3 15/30") to days. */
static enum cb_err
months_to_days(struct cb_fp *r, struct cb_arena *a)
{
    struct cb_str s = r->v[CB_F_BZYZS_NL];
    int64_t months = 0, extra = 0, birth, adm;
    bool ht;
    const char *sp;
    char buf[16];
    long days;

    if (!s.len)
        return CB_OK;
    sp = memchr(s.ptr, ' ', s.len);
    if (sp) {
        const char *slash = memchr(sp, '/', s.len - (size_t)(sp - s.ptr));
        if (cb_parse_i64(cb_str_make(s.ptr, (size_t)(sp - s.ptr)), &months) ||
            !slash || cb_parse_i64(cb_str_make(sp + 1, (size_t)(slash - sp - 1)), &extra))
            return CB_OK; /* left as is: QC reports it */
    } else if (cb_parse_i64(s, &months)) {
        return CB_OK;
    }
    days = (long)(months * 30 + extra);
    /* Prefer the exact day count when birth and admission dates agree. */
    if (cb_parse_datetime(r->v[CB_F_CSRQ], &birth, &ht) == CB_OK &&
        cb_parse_datetime(r->v[CB_F_RYSJ], &adm, &ht) == CB_OK) {
        long exact = (long)(cb_day_of(adm) - cb_day_of(birth));
        if (exact >= 0 && exact < 365 && labs(exact - days) <= 31)
            days = exact;
    }
    snprintf(buf, sizeof(buf), "%ld", days);
    return set_copy(r, CB_F_BZYZS_NL, buf, strlen(buf), a);
}

static enum cb_err
sum_tcm_costs(struct cb_fp *r, struct cb_arena *a)
{
    static const int parts[] = { CB_F_ZYL_ZYZD, CB_F_ZYZL, CB_F_ZYQT };
    int64_t total = 0, v;
    size_t i;
    int any = 0;
    char buf[32];

    if (r->v[CB_F_ZYZLF].len)
        return CB_OK;
    for (i = 0; i < 3; i++) {
        if (!r->v[parts[i]].len)
            continue;
        if (cb_parse_money(r->v[parts[i]], &v))
            return CB_OK; /* QC-FMT-01 reports the bad part */
        total += v;
        any = 1;
    }
    if (!any)
        return CB_OK;
    snprintf(buf, sizeof(buf), "%lld.%02lld", (long long)(total / 100),
             (long long)(total % 100));
    return set_copy(r, CB_F_ZYZLF, buf, strlen(buf), a);
}

enum cb_err
cb_profile_fill(const struct cb_header_map *m, const struct cb_row *row,
                struct cb_fp *r, struct cb_arena *a)
{
    const struct cb_profile *p = m->profile;
    size_t i;
    int n;
    enum cb_err rc;

    /* Locals: the stores into r below could otherwise alias them. */
    const int *field_of_col = m->field_of_col;
    const uint8_t *kind = p->kind;
    const struct cb_str *fields = row->fields;
    const uint16_t *cols = row->cols;
    size_t ncols = m->ncols < row->nfields ? m->ncols : row->nfields;
    /* A sparse row lists its non-empty fields only (cols[k] is the column). */
    size_t nfill = cols ? row->nset : ncols;
    /* Mapped fields: parsed last, as their canonical text may be anything. */
    uint16_t mapped[CB_FP_NFIELDS];
    size_t nmapped = 0;
    bool recount = false;
    unsigned k;
    int npx;

    cb_fp_reset(r);
    for (i = 0; i < nfill; i++) {
        size_t col = cols ? cols[i] : i;
        struct cb_str v = fields[i];
        int f;

        if (!v.len || col >= ncols || (f = field_of_col[col]) < 0)
            continue;
        v = cb_str_trim(v);
        if (!v.len || (v.len == 1 && v.ptr[0] == '-'))
            continue;
        k = kind[f];
        cb_fp_assign(r, f, v);
        if (!(k & (KIND_MAP | KIND_DXCODE | KIND_PARSE))) {
            /* Plain text, the most common case: nothing to parse. */
            r->state[f] = CB_FS_TEXT;
            if (f >= CB_FP_DX_BASE)
                cb_fp_note_filled(r, f);
            continue;
        }
        if (k & KIND_MAP) {
            apply_map(p, r, f);
            if (nmapped < CB_FP_NFIELDS)
                mapped[nmapped++] = (uint16_t)f;
        }
        if ((k & KIND_DXCODE) && r->v[f].ptr[0] >= 'a' && r->v[f].ptr[0] <= 'z') {
            char *d = cb_arena_alloc(a, r->v[f].len);
            if (!d)
                return CB_ERR_NOMEM;
            memcpy(d, r->v[f].ptr, r->v[f].len);
            d[0] = (char)(d[0] - 'a' + 'A');
            r->v[f].ptr = d;
        }
        /*
         * Parsing now leaves the text as it is (trimmed, not empty), so the
         * steps below read what they read before parsing; each one parses
         * again the fields it changes. Mapped fields are parsed last.
         */
        if (k & KIND_MAP)
            continue;
        if (k & KIND_PARSE) {
            cb__fp_parse_value(r, f, (enum cb_fp_type)(k & KIND_TYPE));
            cb_fp_note_filled(r, f);
        } else {
            r->state[f] = CB_FS_TEXT;
            if (f >= CB_FP_DX_BASE)
                cb_fp_note_filled(r, f);
        }
    }
    /* A combined incision code fills its slot, counted in npx (unless mapped). */
    npx = nmapped ? CB_FP_MAX_PX : r->npx;
    for (n = 1; n <= npx; n++)
        if ((rc = split_incision(p, r, n, &recount)))
            return rc;
    if ((rc = fix_float_code(r, CB_F_YLFKFS, a)))
        return rc;
    if ((rc = merge_hour(r, CB_F_RYSJ, CB_F_RYSJ_S, a)) ||
        (rc = merge_hour(r, CB_F_CYSJ, CB_F_CYSJ_S, a)))
        return rc;
    if (p->age_in_months && (rc = months_to_days(r, a)))
        return rc;
    if ((rc = sum_tcm_costs(r, a)))
        return rc;
    /* The Western standard has one field (B35) for both kinds of transfer. */
    if (cb_str_eqz(r->v[CB_F_LYFS], "3") && !r->v[CB_F_WSY_YLJG].len &&
        r->v[CB_F_YZZY_YLJG].len) {
        cb_fp_assign(r, CB_F_WSY_YLJG, r->v[CB_F_YZZY_YLJG]);
        r->v[CB_F_YZZY_YLJG] = CB_STR_NULL;
        cb_fp_parse_field(r, CB_F_WSY_YLJG);
        cb_fp_parse_field(r, CB_F_YZZY_YLJG);
    }
    /* What cb_fp_parse would give: every field parsed from its last text. */
    for (i = 0; i < nmapped; i++)
        if (mapped[i] >= CB_FP_DX_BASE)
            reparse_slot_field(r, mapped[i], &recount);
        else
            cb_fp_parse_field(r, mapped[i]);
    /* A slot field emptied after it was counted: count from scratch. */
    if (recount)
        cb_fp_parse(r);
    return CB_OK;
}

/* --- writing ------------------------------------------------------------ */

size_t
cb_profile_ncolumns(const struct cb_profile *p)
{
    return p->ncols;
}

const char *
cb_profile_column(const struct cb_profile *p, size_t i, int *field)
{
    if (i >= p->ncols)
        return NULL;
    if (field)
        *field = p->cols[i].field;
    return p->cols[i].name;
}

enum cb_err
cb_profile_denormalise(const struct cb_profile *p, int field,
                       struct cb_str canonical, struct cb_buf *out)
{
    uint32_t i;
    char kb[256];
    size_t kn;

    cb_buf_reset(out);
    if (field >= CB_FP_PX_BASE &&
        (field - CB_FP_PX_BASE) % CB_PX__FIELDS == CB_PX_QKYH) {
        if (cb_strmap_get(&p->incision_inv, canonical, &i))
            return cb_buf_adds(out, p->inc[i].raw);
        return cb_buf_add(out, canonical.ptr, canonical.len);
    }
    if (field == CB_F_BZYZS_NL && p->age_in_months && canonical.len) {
        int64_t d;
        if (cb_parse_i64(canonical, &d) == CB_OK)
            return cb_buf_addf(out, "%lld", (long long)(d / 30));
    }
    if (p->kind[field] & KIND_MAP) {
        kn = map_key(field, canonical, kb, sizeof(kb));
        if (kn && cb_strmap_get(&p->vmap_inv, cb_str_make(kb, kn), &i))
            return cb_buf_adds(out, p->raw[i]);
    }
    return cb_buf_add(out, canonical.ptr, canonical.len);
}
