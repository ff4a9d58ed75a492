/*
 * drg_load.c - loads and verifies a DRG rule package (FORMAT.md §1-§6,
 * §11-§12) and builds the interned code tables; rules.json is compiled by
 * drg_rules.c.
 *
 * Verification: manifest.json format and version; SHA-256 and byte size of
 * every file it lists (and the grouping files must be listed); TSV headers
 * and field counts (errors give file:line); list counts against
 * lists_index.tsv; CC/MCC levels and tables; duplicate codes; and through
 * the rules compiler, unknown ops, fields and lists, duplicate MDCs and
 * rule ids, and DRGs without a split condition.
 */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>

#include "carebase/alloc.h"
#include "drg/drg_int.h"

/* ---- files -------------------------------------------------------------- */

struct file {
    char  *data;
    size_t len;
};

static enum cb_err
read_file(const char *dir, const char *name, struct file *f, struct cb_buf *err)
{
    char path[4096];
    int k = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (k < 0 || (size_t)k >= sizeof path) {
        cb_errf(err, "%s/%s: path too long", dir, name);
        return CB_ERR_USAGE;
    }
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        cb_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return CB_ERR_IO;
    }
    struct cb_buf b = CB_BUF_INIT;
    char chunk[65536];
    size_t n;
    enum cb_err rc = CB_OK;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        rc = cb_buf_add(&b, chunk, n);
    if (!rc && ferror(fp)) {
        cb_errf(err, "%s: read error", path);
        rc = CB_ERR_IO;
    }
    fclose(fp);
    if (rc) {
        cb_buf_release(&b);
        if (rc == CB_ERR_NOMEM)
            cb_errf(err, "%s: out of memory", path);
        return rc;
    }
    if (!b.ptr && (rc = cb_buf_reserve(&b, 1)))
        return rc;
    f->data = cb_buf_detach(&b, &f->len);
    return CB_OK;
}

static void
hex_digest(const unsigned char *d, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

static void
sha256_hex(const struct file *f, char out[65])
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)f->data, f->len);
    hex_digest(d, out);
}

/* ---- TSV ---------------------------------------------------------------- */

/* Iterates the lines of a TSV file; fields are split on TAB, never trimmed. */
struct tsv {
    const char *name;
    const char *p, *end;
    int         line;
    struct cb_str f[4];
    int         nf;
};

static enum cb_err
tsv_open(struct tsv *t, const char *name, const struct file *f,
         const char *header, struct cb_buf *err)
{
    t->name = name;
    t->p = f->data;
    t->end = f->data + f->len;
    t->line = 0;
    const char *nl = memchr(t->p, '\n', (size_t)(t->end - t->p));
    size_t hl = strlen(header);
    if (!nl || (size_t)(nl - t->p) != hl || memcmp(t->p, header, hl)) {
        cb_errf(err, "%s:1: the header must be \"%s\" (TAB-separated)", name,
                header);
        for (char *q = err->ptr; q && *q; q++)
            if (*q == '\t')
                *q = ' ';
        return CB_ERR_PROTO;
    }
    t->p = nl + 1;
    t->line = 1;
    return CB_OK;
}

/* Next line split into exactly nf fields: CB_OK, CB_EOF or CB_ERR_PROTO. */
static enum cb_err
tsv_next(struct tsv *t, int nf, struct cb_buf *err)
{
    if (t->p >= t->end)
        return CB_EOF;
    t->line++;
    const char *nl = memchr(t->p, '\n', (size_t)(t->end - t->p));
    const char *le = nl ? nl : t->end;
    const char *q = t->p;
    int n = 0;
    for (;;) {
        const char *tab = memchr(q, '\t', (size_t)(le - q));
        const char *fe = tab ? tab : le;
        if (n < 4)
            t->f[n] = cb_str_make(q, (size_t)(fe - q));
        n++;
        if (!tab)
            break;
        q = tab + 1;
    }
    t->p = nl ? nl + 1 : t->end;
    if (n != nf) {
        cb_errf(err, "%s:%d: expected %d TAB-separated fields, got %d", t->name,
                t->line, nf, n);
        return CB_ERR_PROTO;
    }
    for (int i = 0; i < nf; i++)
        if (!t->f[i].len && !(i == 2 && nf == 3 && !strcmp(t->name, "lists_index.tsv"))) {
            cb_errf(err, "%s:%d: field %d is empty", t->name, t->line, i + 1);
            return CB_ERR_PROTO;
        }
    return CB_OK;
}

/* ---- interning ---------------------------------------------------------- */

struct builder {
    struct cb_drg_scheme *s;
    int     code_cap;
    /* (code, list) pairs from lists.tsv */
    int32_t *pair_code;
    uint16_t *pair_list;
    size_t   npairs, pair_cap;
};

static enum cb_err
intern(struct builder *b, struct cb_str code, int32_t *id)
{
    struct cb_drg_scheme *s = b->s;
    uint32_t v;
    if (cb_strmap_get(&s->code_ids, code, &v)) {
        *id = (int32_t)v;
        return CB_OK;
    }
    if (s->ncodes == b->code_cap) {
        int cap = b->code_cap ? b->code_cap * 2 : 65536;
        struct drg_code *c = cb_reallocarray(s->codes, (size_t)cap, sizeof *c);
        if (!c)
            return CB_ERR_NOMEM;
        s->codes = c;
        int32_t (*m)[2] = cb_reallocarray(s->map_to, (size_t)cap, sizeof *m);
        if (!m)
            return CB_ERR_NOMEM;
        s->map_to = m;
        b->code_cap = cap;
    }
    enum cb_err rc = cb_strmap_put(&s->code_ids, code, (uint32_t)s->ncodes);
    if (rc)
        return rc;
    struct drg_code *c = &s->codes[s->ncodes];
    memset(c, 0, sizeof *c);
    c->cc_table = c->excl_table = -1;
    s->map_to[s->ncodes][0] = s->map_to[s->ncodes][1] = -1;
    *id = s->ncodes++;
    return CB_OK;
}

static enum cb_err
intern_table(struct cb_drg_scheme *s, struct cb_str name, int32_t *id)
{
    uint32_t v;
    if (cb_strmap_get(&s->table_ids, name, &v)) {
        *id = (int32_t)v;
        return CB_OK;
    }
    if (s->ntables >= INT16_MAX) {
        *id = -1;
        return CB_ERR_TOO_LARGE;
    }
    char **t = cb_reallocarray(s->table_name, (size_t)s->ntables + 1, sizeof *t);
    if (!t)
        return CB_ERR_NOMEM;
    s->table_name = t;
    if (!(t[s->ntables] = cb_strndup(name.ptr, name.len)))
        return CB_ERR_NOMEM;
    enum cb_err rc = cb_strmap_put(&s->table_ids, name, (uint32_t)s->ntables);
    if (rc)
        return rc;
    *id = s->ntables++;
    return CB_OK;
}

/* lists_index.tsv: list ids in file order, and the expected counts. */
static enum cb_err
load_list_index(struct cb_drg_scheme *s, const struct file *f, int **counts,
                struct cb_buf *err)
{
    struct tsv t;
    enum cb_err rc = tsv_open(&t, "lists_index.tsv", f, "list\tcount\tdescription", err);
    int cap = 0;
    while (!rc && !(rc = tsv_next(&t, 3, err))) {
        int64_t n;
        if (cb_parse_i64(t.f[1], &n) || n < 0 || n > INT32_MAX) {
            cb_errf(err, "lists_index.tsv:%d: count \"%.*s\" is not a number",
                    t.line, (int)t.f[1].len, t.f[1].ptr);
            return CB_ERR_PROTO;
        }
        if (cb_strmap_has(&s->list_ids, t.f[0])) {
            cb_errf(err, "lists_index.tsv:%d: duplicate list \"%.*s\"", t.line,
                    (int)t.f[0].len, t.f[0].ptr);
            return CB_ERR_PROTO;
        }
        if (s->nlists >= 65535) {
            cb_errf(err, "lists_index.tsv:%d: more than 65535 lists", t.line);
            return CB_ERR_PROTO;
        }
        if (s->nlists == cap) {
            cap = cap ? cap * 2 : 512;
            char **nm = cb_reallocarray(s->list_name, (size_t)cap, sizeof *nm);
            int *cn = nm ? cb_reallocarray(*counts, (size_t)cap, sizeof *cn) : NULL;
            if (nm)
                s->list_name = nm;
            if (!cn)
                return CB_ERR_NOMEM;
            *counts = cn;
        }
        if (!(s->list_name[s->nlists] = cb_strndup(t.f[0].ptr, t.f[0].len)) ||
            (rc = cb_strmap_put(&s->list_ids, t.f[0], (uint32_t)s->nlists)))
            return CB_ERR_NOMEM;
        (*counts)[s->nlists++] = (int)n;
    }
    if (rc == CB_EOF)
        rc = CB_OK;
    s->nwords = (s->nlists + 63) / 64;
    if (!s->nwords)
        s->nwords = 1;
    return rc;
}

static int
cmp_u16(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

/* lists.tsv: interns members and builds each code's sorted list ids. */
static enum cb_err
load_lists(struct builder *b, const struct file *f, const int *counts,
           struct cb_buf *err)
{
    struct cb_drg_scheme *s = b->s;
    struct tsv t;
    enum cb_err rc = tsv_open(&t, "lists.tsv", f, "list\tcode", err);
    while (!rc && !(rc = tsv_next(&t, 2, err))) {
        uint32_t list;
        int32_t code;
        if (!cb_strmap_get(&s->list_ids, t.f[0], &list)) {
            cb_errf(err, "lists.tsv:%d: list \"%.*s\" is not in lists_index.tsv",
                    t.line, (int)t.f[0].len, t.f[0].ptr);
            return CB_ERR_PROTO;
        }
        if ((rc = intern(b, t.f[1], &code)))
            return rc;
        if (b->npairs == b->pair_cap) {
            size_t cap = b->pair_cap ? b->pair_cap * 2 : 131072;
            int32_t *pc = cb_reallocarray(b->pair_code, cap, sizeof *pc);
            uint16_t *pl = pc ? cb_reallocarray(b->pair_list, cap, sizeof *pl) : NULL;
            if (pc)
                b->pair_code = pc;
            if (!pl)
                return CB_ERR_NOMEM;
            b->pair_list = pl;
            b->pair_cap = cap;
        }
        b->pair_code[b->npairs] = code;
        b->pair_list[b->npairs++] = (uint16_t)list;
    }
    if (rc != CB_EOF)
        return rc;

    /* Counting sort of the pairs by code, then sort+dedup each code's lists. */
    uint32_t *start = cb_calloc((size_t)s->ncodes + 1, sizeof *start);
    int *actual = cb_calloc((size_t)s->nlists + 1, sizeof *actual);
    s->memb = cb_calloc(b->npairs + 1, sizeof *s->memb);
    if (!start || !actual || !s->memb) {
        cb_free(start);
        cb_free(actual);
        return CB_ERR_NOMEM;
    }
    for (size_t i = 0; i < b->npairs; i++)
        start[b->pair_code[i]]++;
    uint32_t off = 0;
    for (int c = 0; c < s->ncodes; c++) {
        uint32_t n = start[c];
        start[c] = off;
        s->codes[c].memb = off;
        off += n;
    }
    for (size_t i = 0; i < b->npairs; i++)
        s->memb[start[b->pair_code[i]]++] = b->pair_list[i];
    size_t w = 0;
    for (int c = 0; c < s->ncodes; c++) {
        uint32_t beg = s->codes[c].memb;
        uint32_t end = start[c];
        qsort(s->memb + beg, end - beg, sizeof *s->memb, cmp_u16);
        s->codes[c].memb = (uint32_t)w;
        for (uint32_t i = beg; i < end; i++) {
            if (i > beg && s->memb[i] == s->memb[i - 1])
                continue;
            s->memb[w++] = s->memb[i];
            actual[s->memb[i]]++;
        }
        if (w - s->codes[c].memb > UINT16_MAX) {
            cb_free(start);
            cb_free(actual);
            cb_errf(err, "lists.tsv: a code is in more than 65535 lists");
            return CB_ERR_PROTO;
        }
        s->codes[c].nmemb = (uint16_t)(w - s->codes[c].memb);
    }
    s->nmemb = w;
    s->list_entries = (int)w;
    rc = CB_OK;
    for (int l = 0; l < s->nlists; l++)
        if (actual[l] != counts[l]) {
            cb_errf(err, "lists.tsv: list \"%s\" has %d distinct codes, but "
                    "lists_index.tsv says %d", s->list_name[l], actual[l], counts[l]);
            rc = CB_ERR_PROTO;
            break;
        }
    cb_free(start);
    cb_free(actual);
    s->memory += w * sizeof *s->memb;
    return rc;
}

static enum cb_err
load_cc(struct builder *b, const struct file *f, struct cb_buf *err)
{
    struct cb_drg_scheme *s = b->s;
    struct tsv t;
    enum cb_err rc = tsv_open(&t, "cc_mcc.tsv", f, "code\tlevel\ttable", err);
    while (!rc && !(rc = tsv_next(&t, 3, err))) {
        int level = cb_str_eqz(t.f[1], "CC") ? 1 : cb_str_eqz(t.f[1], "MCC") ? 2 : 0;
        if (!level) {
            cb_errf(err, "cc_mcc.tsv:%d: level \"%.*s\" must be CC or MCC",
                    t.line, (int)t.f[1].len, t.f[1].ptr);
            return CB_ERR_PROTO;
        }
        int32_t code, table;
        if ((rc = intern(b, t.f[0], &code)) || (rc = intern_table(s, t.f[2], &table)))
            return rc;
        if (s->codes[code].cc_level) {
            cb_errf(err, "cc_mcc.tsv:%d: code \"%.*s\" is listed twice", t.line,
                    (int)t.f[0].len, t.f[0].ptr);
            return CB_ERR_PROTO;
        }
        s->codes[code].cc_level = (int8_t)level;
        s->codes[code].cc_table = (int16_t)table;
        if (level == 1)
            s->ncc++;
        else
            s->nmcc++;
    }
    return rc == CB_EOF ? CB_OK : rc;
}

static enum cb_err
load_exclusions(struct builder *b, const struct file *f, struct cb_buf *err)
{
    struct cb_drg_scheme *s = b->s;
    struct tsv t;
    enum cb_err rc = tsv_open(&t, "cc_exclusion.tsv", f, "principal\ttable", err);
    while (!rc && !(rc = tsv_next(&t, 2, err))) {
        int32_t code, table;
        if ((rc = intern(b, t.f[0], &code)) || (rc = intern_table(s, t.f[1], &table)))
            return rc;
        if (s->codes[code].excl_table >= 0) {
            cb_errf(err, "cc_exclusion.tsv:%d: principal \"%.*s\" is listed twice",
                    t.line, (int)t.f[0].len, t.f[0].ptr);
            return CB_ERR_PROTO;
        }
        s->codes[code].excl_table = (int16_t)table;
        s->nexcl++;
    }
    return rc == CB_EOF ? CB_OK : rc;
}

static enum cb_err
load_map(struct builder *b, const struct file *f, const char *name, int which,
         struct cb_buf *err)
{
    struct cb_drg_scheme *s = b->s;
    struct tsv t;
    enum cb_err rc = tsv_open(&t, name, f, "from\tto", err);
    while (!rc && !(rc = tsv_next(&t, 2, err))) {
        int32_t from, to;
        if ((rc = intern(b, t.f[0], &from)) || (rc = intern(b, t.f[1], &to)))
            return rc;
        if (s->map_to[from][which] >= 0) {
            cb_errf(err, "%s:%d: code \"%.*s\" is mapped twice", name, t.line,
                    (int)t.f[0].len, t.f[0].ptr);
            return CB_ERR_PROTO;
        }
        s->map_to[from][which] = to;
    }
    return rc == CB_EOF ? CB_OK : rc;
}

/* dict/ files: names into one blob, indexed by code. */
static enum cb_err
load_names(struct cb_drg_scheme *s, const struct file *f, const char *name,
           const char *header, int which, struct cb_buf *err)
{
    struct tsv t;
    enum cb_err rc = tsv_open(&t, name, f, header, err);
    while (!rc && !(rc = tsv_next(&t, 2, err))) {
        size_t need = s->name_len + t.f[1].len + 1;
        if (need > UINT32_MAX) {
            cb_errf(err, "%s: too large", name);
            return CB_ERR_PROTO;
        }
        if (need > s->name_cap) {
            size_t cap = s->name_cap ? s->name_cap * 2 : 65536;
            while (cap < need)
                cap *= 2;
            char *grown = cb_realloc(s->name_blob, cap);
            if (!grown)
                return CB_ERR_NOMEM;
            s->name_blob = grown;
            s->name_cap = cap;
        }
        char *nb = s->name_blob;
        if ((rc = cb_strmap_put(&s->names[which], t.f[0], (uint32_t)s->name_len)))
            return rc;
        memcpy(nb + s->name_len, t.f[1].ptr, t.f[1].len);
        nb[s->name_len + t.f[1].len] = '\0';
        s->name_len = need;
    }
    return rc == CB_EOF ? CB_OK : rc;
}

/* ---- manifest ----------------------------------------------------------- */

static const char *const grouping_files[] = {
    "rules.json", "lists.tsv", "lists_index.tsv", "cc_mcc.tsv", "cc_exclusion.tsv"
};

static enum cb_err
check_file(json_t *files, const char *name, const struct file *f, bool verify,
           struct cb_buf *err)
{
    json_t *e = json_object_get(files, name);
    if (!json_is_object(e)) {
        cb_errf(err, "manifest.json: files has no entry for \"%s\"", name);
        return CB_ERR_PROTO;
    }
    if (!verify)
        return CB_OK;
    json_t *bytes = json_object_get(e, "bytes");
    json_t *sha = json_object_get(e, "sha256");
    if (!json_is_integer(bytes) || (uint64_t)json_integer_value(bytes) != f->len) {
        cb_errf(err, "%s: size %zu bytes does not match manifest.json (%lld)",
                name, f->len,
                json_is_integer(bytes) ? (long long)json_integer_value(bytes) : -1LL);
        return CB_ERR_PROTO;
    }
    char hex[65];
    sha256_hex(f, hex);
    if (!json_is_string(sha) || strcmp(json_string_value(sha), hex)) {
        cb_errf(err, "%s: SHA-256 %s does not match manifest.json (%s): the "
                "file was changed or damaged", name, hex,
                json_is_string(sha) ? json_string_value(sha) : "missing");
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

static enum cb_err
load_manifest(struct cb_drg_scheme *s, const struct file *f, json_t **files,
              struct cb_buf *err)
{
    json_error_t je;
    json_t *root = json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        cb_errf(err, "manifest.json:%d:%d: invalid JSON: %s", je.line, je.column,
                je.text);
        return CB_ERR_PROTO;
    }
    json_t *fmt = json_object_get(root, "format");
    json_t *ver = json_object_get(root, "format_version");
    json_t *id = json_object_get(root, "scheme");
    json_t *name = json_object_get(root, "scheme_name");
    enum cb_err rc = CB_OK;
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "drg-package")) {
        cb_errf(err, "manifest.json: \"format\" must be \"drg-package\"");
        rc = CB_ERR_PROTO;
    } else if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        cb_errf(err, "manifest.json: format_version must be 1 (this Carebase "
                "reads version 1)");
        rc = CB_ERR_PROTO;
    } else if (!json_is_string(id) || !json_string_length(id)) {
        cb_errf(err, "manifest.json: \"scheme\" must be a non-empty string");
        rc = CB_ERR_PROTO;
    } else if (!json_is_object(json_object_get(root, "files"))) {
        cb_errf(err, "manifest.json: \"files\" must be an object");
        rc = CB_ERR_PROTO;
    }
    if (!rc) {
        s->id = cb_strdup(json_string_value(id));
        s->name = cb_strdup(json_is_string(name) ? json_string_value(name)
                                                  : json_string_value(id));
        if (!s->id || !s->name)
            rc = CB_ERR_NOMEM;
        *files = json_incref(json_object_get(root, "files"));
    }
    json_decref(root);
    return rc;
}

/* ---- the loader --------------------------------------------------------- */

void
cb_drg_scheme_free(struct cb_drg_scheme *s)
{
    if (!s)
        return;
    cb_free(s->dir);
    cb_free(s->id);
    cb_free(s->name);
    cb_strmap_release(&s->code_ids);
    cb_free(s->codes);
    cb_free(s->map_to);
    cb_free(s->code_str);
    cb_free(s->slots);
    cb_free(s->memb);
    cb_strmap_release(&s->list_ids);
    for (int i = 0; i < s->nlists; i++)
        cb_free(s->list_name[i]);
    cb_free(s->list_name);
    cb_free(s->masks);
    cb_strmap_release(&s->table_ids);
    for (int i = 0; i < s->ntables; i++)
        cb_free(s->table_name[i]);
    cb_free(s->table_name);
    for (uint32_t i = 0; i < s->nnodes; i++)
        if (s->nodes[i].op == OP_STR_EQ)
            cb_free((void *)s->nodes[i].str.ptr);
    cb_free(s->nodes);
    for (int i = 0; i < s->nchecks; i++)
        cb_free((void *)s->checks[i].message);
    cb_free(s->checks);
    for (int i = 0; i < s->nnorms; i++) {
        for (int j = 0; j < s->norms[i].nmap; j++) {
            cb_free((void *)s->norms[i].from[j].ptr);
            cb_free((void *)s->norms[i].to[j].ptr);
        }
        cb_free(s->norms[i].from);
        cb_free(s->norms[i].to);
    }
    cb_free(s->norms);
    for (int i = 0; i < s->nmdcs; i++)
        cb_free((void *)s->mdcs[i].code);
    cb_free(s->mdcs);
    for (int i = 0; i < s->nrules; i++) {
        cb_free((void *)s->rules[i].id);
        cb_free((void *)s->rules[i].adrg);
    }
    cb_free(s->rules);
    cb_free(s->rule_drgs);
    for (int i = 0; i < s->ndrgs; i++)
        cb_free((void *)s->drgs[i].code);
    cb_free(s->drgs);
    cb_strmap_release(&s->drg_ids);
    for (int i = 0; i < 3; i++)
        cb_strmap_release(&s->names[i]);
    cb_free(s->name_blob);
    cb_free(s);
}

static size_t
strmap_bytes(const struct cb_strmap *m)
{
    return m->nslots * sizeof *m->slots + m->keys_cap;
}

static enum cb_err
load_package(struct cb_drg_scheme *s, const char *dir,
             const struct cb_drg_load_opts *o, struct cb_buf *err)
{
    struct file mf = { 0 }, fl[5] = { { 0 } };
    json_t *files = NULL;
    struct builder b = { .s = s };
    int *counts = NULL;
    enum cb_err rc;

    if ((rc = read_file(dir, "manifest.json", &mf, err)) ||
        (rc = load_manifest(s, &mf, &files, err)))
        goto out;
    {
        unsigned char d[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(d, (const unsigned char *)mf.data, mf.len);
        hex_digest(d, s->digest);
    }
    for (int i = 0; i < 5; i++)
        if ((rc = read_file(dir, grouping_files[i], &fl[i], err)) ||
            (rc = check_file(files, grouping_files[i], &fl[i], !o->skip_checksums, err)))
            goto out;

    if ((rc = load_list_index(s, &fl[2], &counts, err)) ||
        (rc = load_lists(&b, &fl[1], counts, err)) ||
        (rc = load_cc(&b, &fl[3], err)) ||
        (rc = load_exclusions(&b, &fl[4], err)))
        goto out;

    /* The maps are optional (FORMAT.md §1): loaded when the manifest lists them. */
    if (!o->skip_maps && json_object_get(files, "maps/dx_map.tsv") &&
        json_object_get(files, "maps/px_map.tsv")) {
        static const char *const maps[2] = { "maps/dx_map.tsv", "maps/px_map.tsv" };
        for (int i = 0; i < 2; i++) {
            struct file m = { 0 };
            rc = read_file(dir, maps[i], &m, err);
            if (!rc)
                rc = check_file(files, maps[i], &m, !o->skip_checksums, err);
            if (!rc)
                rc = load_map(&b, &m, maps[i], i, err);
            cb_free(m.data);
            if (rc)
                goto out;
        }
        s->has_maps = true;
    }
    if (!o->skip_dicts) {
        static const struct { const char *file, *header; } dicts[3] = {
            { "dict/drgs.tsv", "drg\tname" },
            { "dict/diagnoses.tsv", "code\tname" },
            { "dict/procedures.tsv", "code\tname" },
        };
        for (int i = 0; i < 3; i++) {
            struct file m = { 0 };
            rc = read_file(dir, dicts[i].file, &m, err);
            if (!rc)
                rc = check_file(files, dicts[i].file, &m, !o->skip_checksums, err);
            if (!rc)
                rc = load_names(s, &m, dicts[i].file, dicts[i].header, i, err);
            cb_free(m.data);
            if (rc)
                goto out;
        }
        s->has_dicts = true;
    }

    /* The code table for grouping (see drg_int.h). */
    if (s->ncodes > DRG_MAX_CODES) {
        cb_errf(err, "%s: more than %d distinct codes", dir, DRG_MAX_CODES);
        rc = CB_ERR_PROTO;
        goto out;
    }
    uint32_t nslots = 1024;
    while (nslots < (uint32_t)s->ncodes * 2u + 2u)
        nslots *= 2;
    s->slots = cb_calloc(nslots, sizeof *s->slots);
    if (!s->slots) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    s->slot_mask = nslots - 1;
    s->memory += (size_t)nslots * sizeof *s->slots;

    /* Code strings, for reports (views into the interning map's storage). */
    s->code_str = cb_calloc((size_t)s->ncodes + 1, sizeof *s->code_str);
    if (!s->code_str) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    for (size_t i = 0; i < s->code_ids.nslots; i++) {
        struct cb_str k;
        uint32_t v;
        if (!cb_strmap_slot_key(&s->code_ids, i, &k, &v))
            continue;
        s->code_str[v] = k;
        if (k.len > DRG_KEY_MAX) {
            s->long_codes = true;
            continue;
        }
        struct drg_code *c = &s->codes[v];
        drg_key_load(c->k, k);
        c->len = (uint8_t)k.len;
        uint64_t h = drg_key_hash(c->k, (uint32_t)k.len);
        uint32_t tag = (uint32_t)(h >> (64 - (32 - DRG_ID_BITS)));
        uint32_t j = (uint32_t)h & s->slot_mask;
        while (s->slots[j])
            j = (j + 1) & s->slot_mask;
        s->slots[j] = tag << DRG_ID_BITS | (v + 1);
    }

    if ((rc = cb__drg_compile_rules(s, fl[0].data, fl[0].len, err)))
        goto out;

    s->memory += sizeof *s + (size_t)s->ncodes * (sizeof *s->codes + sizeof *s->code_str + sizeof *s->map_to)
               + strmap_bytes(&s->code_ids) + strmap_bytes(&s->list_ids)
               + strmap_bytes(&s->table_ids) + strmap_bytes(&s->drg_ids)
               + strmap_bytes(&s->names[0]) + strmap_bytes(&s->names[1])
               + strmap_bytes(&s->names[2]) + s->name_len;
out:
    if (rc == CB_ERR_NOMEM && !err->len)
        cb_errf(err, "%s: out of memory", dir);
    json_decref(files);
    cb_free(mf.data);
    for (int i = 0; i < 5; i++)
        cb_free(fl[i].data);
    cb_free(b.pair_code);
    cb_free(b.pair_list);
    cb_free(counts);
    return rc;
}

enum cb_err
cb_drg_scheme_load(const char *dir, const struct cb_drg_load_opts *opts,
                   struct cb_drg_scheme **out, struct cb_buf *err)
{
    static const struct cb_drg_load_opts defaults;
    const struct cb_drg_load_opts *o = opts ? opts : &defaults;
    *out = NULL;
    if (sodium_init() < 0) {
        cb_errf(err, "libsodium failed to initialise");
        return CB_ERR_IO;
    }
    struct cb_drg_scheme *s = cb_calloc(1, sizeof *s);
    if (!s || !(s->dir = cb_strdup(dir))) {
        cb_free(s);
        cb_errf(err, "%s: out of memory", dir);
        return CB_ERR_NOMEM;
    }
    cb_strmap_init(&s->code_ids);
    cb_strmap_init(&s->list_ids);
    cb_strmap_init(&s->table_ids);
    cb_strmap_init(&s->drg_ids);
    for (int i = 0; i < 3; i++)
        cb_strmap_init(&s->names[i]);
    enum cb_err rc = load_package(s, dir, o, err);
    if (rc) {
        cb_drg_scheme_free(s);
        return rc;
    }
    *out = s;
    return CB_OK;
}

/* ---- accessors ---------------------------------------------------------- */

const char *cb_drg_scheme_id(const struct cb_drg_scheme *s) { return s->id; }
const char *cb_drg_scheme_name(const struct cb_drg_scheme *s) { return s->name; }
const char *cb_drg_scheme_digest(const struct cb_drg_scheme *s) { return s->digest; }
const char *cb_drg_scheme_dir(const struct cb_drg_scheme *s) { return s->dir; }
bool cb_drg_scheme_has_maps(const struct cb_drg_scheme *s) { return s->has_maps; }
size_t cb_drg_scheme_memory(const struct cb_drg_scheme *s) { return s->memory; }

void
cb_drg_scheme_counts(const struct cb_drg_scheme *s, struct cb_drg_counts *c)
{
    c->mdcs = s->nmdcs;
    c->rules = s->nrules;
    c->drgs = s->ndrgs;
    c->lists = s->nlists;
    c->list_entries = s->list_entries;
    c->codes = s->ncodes;
    c->cc = s->ncc;
    c->mcc = s->nmcc;
    c->excl_principals = s->nexcl;
}

static const char *
name_of(const struct cb_drg_scheme *s, int which, struct cb_str code)
{
    uint32_t off;
    if (!s->has_dicts || !cb_strmap_get(&s->names[which], code, &off))
        return NULL;
    return s->name_blob + off;
}

const char *
cb_drg_drg_name(const struct cb_drg_scheme *s, struct cb_str drg)
{
    return name_of(s, 0, drg);
}

const char *
cb_drg_dx_name(const struct cb_drg_scheme *s, struct cb_str code)
{
    return name_of(s, 1, code);
}

const char *
cb_drg_px_name(const struct cb_drg_scheme *s, struct cb_str code)
{
    return name_of(s, 2, code);
}

const char *
cb_drg_mdc_code(const struct cb_drg_scheme *s, int mdc)
{
    return mdc >= 0 && mdc < s->nmdcs ? s->mdcs[mdc].code : "?";
}

const char *
cb_drg_rule_id(const struct cb_drg_scheme *s, int rule)
{
    return rule >= 0 && rule < s->nrules ? s->rules[rule].id : "?";
}

const char *
cb_drg_rule_adrg(const struct cb_drg_scheme *s, int rule)
{
    return rule >= 0 && rule < s->nrules ? s->rules[rule].adrg : "?";
}

const char *
cb_drg_drg_code(const struct cb_drg_scheme *s, int drg)
{
    return drg >= 0 && drg < s->ndrgs ? s->drgs[drg].code : "?";
}

const char *
cb_drg_table_name(const struct cb_drg_scheme *s, int32_t table)
{
    return table >= 0 && table < s->ntables ? s->table_name[table] : "-";
}
