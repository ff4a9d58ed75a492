/*
 * catalogue.c - the code catalogues the indicator definitions need (spec d):
 * prefix lists read from data files, each with a version and a source.
 *
 * Formats:
 *  - a catalogue file (complications, MIS, level 4, level 3): '#' comment
 *    lines (a "# version: ..." and a "# source: ..." line are recorded),
 *    one header line, then one code prefix per line in the first TAB-
 *    separated column;
 *  - the shared day-surgery table (nhc-2019/day-surgery-2016.tsv): the
 *    icd9cm3 column, split on spaces, commas and slashes (spec c.5.4);
 *  - the shared single-disease table (nhc-2019/single-disease-2019.tsv):
 *    include_prefixes / exclude_prefixes split on ';', basis 主要诊断 or
 *    主要手术; cohorts 3 and 4 (pneumonia) split by age (child < 18).
 */
#include <errno.h>
#include <sodium.h>

#include "carebase/alloc.h"
#include "carebase/tsvfile.h"
#include "carebase/indicator.h"

/*
 * Prefixes in the order of their first byte, so that a code is compared
 * only with those that share its first byte: from[b] .. from[b + 1] - 1.
 * (A scan of all of them, each a separate allocation, cost about 1k
 * instructions and several cache misses a record on an import's workers.)
 */
struct cb_prefix_list {
    int            n, cap;
    struct cb_str *p;      /* each owned (allocated copy) */
    int            from[257];
};

static enum cb_err
prefix_add(struct cb_prefix_list **lp, struct cb_str s)
{
    if (!s.len)
        return CB_OK;
    struct cb_prefix_list *l = *lp;
    if (!l) {
        if (!(l = cb_calloc(1, sizeof *l)))
            return CB_ERR_NOMEM;
        *lp = l;
    }
    for (int i = 0; i < l->n; i++)
        if (cb_str_eq(l->p[i], s))
            return CB_OK;
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 16;
        struct cb_str *p = cb_reallocarray(l->p, (size_t)cap, sizeof *p);
        if (!p)
            return CB_ERR_NOMEM;
        l->p = p;
        l->cap = cap;
    }
    char *z = cb_strndup(s.ptr, s.len);
    if (!z)
        return CB_ERR_NOMEM;
    /* After the last prefix of the same or a lower first byte. */
    unsigned char b = (unsigned char)z[0];
    int at = l->from[b + 1];
    memmove(l->p + at + 1, l->p + at, (size_t)(l->n - at) * sizeof *l->p);
    l->p[at] = cb_str_make(z, s.len);
    l->n++;
    for (int k = b + 1; k <= 256; k++)
        l->from[k]++;
    return CB_OK;
}

static void
prefix_free(struct cb_prefix_list *l)
{
    if (!l)
        return;
    for (int i = 0; i < l->n; i++)
        cb_free((void *)l->p[i].ptr);
    cb_free(l->p);
    cb_free(l);
}

bool
cb_prefix_match(const struct cb_prefix_list *l, struct cb_str code)
{
    if (!l || !code.len)
        return false;
    unsigned char b = (unsigned char)code.ptr[0]; /* prefixes are never empty */
    for (int i = l->from[b], end = l->from[b + 1]; i < end; i++)
        if (code.len >= l->p[i].len && !memcmp(code.ptr, l->p[i].ptr, l->p[i].len))
            return true;
    return false;
}

static enum cb_err
slurp(const char *path, struct cb_buf *out, struct cb_buf *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        cb_errf(err, "%s: cannot open: %s", path, strerror(errno));
        return CB_ERR_IO;
    }
    char chunk[65536];
    size_t n;
    enum cb_err rc = CB_OK;
    while (!rc && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = cb_buf_add(out, chunk, n);
    if (!rc && ferror(f))
        rc = CB_ERR_IO;
    fclose(f);
    if (rc)
        cb_errf(err, "%s: read error", path);
    return rc;
}

static void
set_text(char *dst, size_t cap, struct cb_str s)
{
    snprintf(dst, cap, "%.*s", (int)s.len, s.ptr);
}

static void
digest_version(struct cb_catalogue *c, const struct cb_buf *b)
{
    unsigned char d[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(d, (const unsigned char *)cb_buf_cstr(b), b->len);
    char hex[17];
    for (int i = 0; i < 8; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
    snprintf(c->version, sizeof c->version, "sha256:%s", hex);
}

/* Iterates lines of a buffer: *line gets the next one (without '\n' / '\r'). */
static bool
next_line(struct cb_str *rest, struct cb_str *line)
{
    if (!rest->len)
        return false;
    const char *nl = memchr(rest->ptr, '\n', rest->len);
    size_t n = nl ? (size_t)(nl - rest->ptr) : rest->len;
    *line = cb_str_make(rest->ptr, n && rest->ptr[n - 1] == '\r' ? n - 1 : n);
    rest->ptr += nl ? n + 1 : n;
    rest->len -= nl ? n + 1 : n;
    return true;
}

static int
column(struct cb_str header, const char *name)
{
    for (int k = 0;; k++) {
        struct cb_str f = cb_tsv_field(header, k);
        if (!f.ptr)
            return -1;
        if (cb_str_eqz(f, name))
            return k;
    }
}

/* Splits s on any of the separator bytes and adds each piece. */
static enum cb_err
add_split(struct cb_prefix_list **l, struct cb_str s, const char *seps)
{
    size_t start = 0;
    for (size_t i = 0; i <= s.len; i++)
        if (i == s.len || strchr(seps, s.ptr[i])) {
            enum cb_err rc = prefix_add(l, cb_str_trim(cb_str_make(s.ptr + start, i - start)));
            if (rc)
                return rc;
            start = i + 1;
        }
    return CB_OK;
}

static enum cb_err
load_catalogue(struct cb_catalogue *c, const char *path, struct cb_buf *err)
{
    struct cb_buf b = CB_BUF_INIT;
    enum cb_err rc = slurp(path, &b, err);
    if (rc) {
        cb_buf_release(&b);
        return rc;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    digest_version(c, &b);
    struct cb_str rest = cb_buf_str(&b), line;
    bool header = false;
    int lineno = 0;
    while (!rc && next_line(&rest, &line)) {
        lineno++;
        if (line.len && line.ptr[0] == '#') {
            struct cb_str t = cb_str_trim(cb_str_make(line.ptr + 1, line.len - 1));
            if (cb_str_starts(t, "version:"))
                set_text(c->version, sizeof c->version, cb_str_trim(cb_str_make(t.ptr + 8, t.len - 8)));
            else if (cb_str_starts(t, "source:"))
                set_text(c->source, sizeof c->source, cb_str_trim(cb_str_make(t.ptr + 7, t.len - 7)));
            continue;
        }
        if (!line.len)
            continue;
        if (!header) {
            header = true;
            continue;
        }
        rc = prefix_add(&c->codes, cb_str_trim(cb_tsv_field(line, 0)));
    }
    cb_buf_release(&b);
    if (!rc && (!c->codes || !c->codes->n)) {
        cb_errf(err, "%s: no codes (expected '#' comments, a header line, then one "
                "code prefix per line)", path);
        rc = CB_ERR_PROTO;
    }
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "%s: out of memory", path);
    c->loaded = !rc;
    return rc;
}

static enum cb_err
load_day_surgery(struct cb_catalogue *c, const char *dir, struct cb_buf *err)
{
    char path[900];
    snprintf(path, sizeof path, "%s/day-surgery-2016.tsv", dir);
    struct cb_buf b = CB_BUF_INIT;
    enum cb_err rc = slurp(path, &b, err);
    if (rc) {
        cb_buf_release(&b);
        return rc;
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    digest_version(c, &b);
    snprintf(c->source, sizeof c->source, "国卫医函〔2016〕306号 附件3 (2019 manual appendix)");
    struct cb_str rest = cb_buf_str(&b), line;
    int col = -1;
    while (!rc && next_line(&rest, &line)) {
        if (col < 0) {
            if ((col = column(line, "icd9cm3")) < 0) {
                cb_errf(err, "%s: no icd9cm3 column", path);
                rc = CB_ERR_PROTO;
            }
            continue;
        }
        rc = add_split(&c->codes, cb_tsv_field(line, col), " ,/");
    }
    cb_buf_release(&b);
    c->loaded = !rc && c->codes;
    return rc;
}

static const char *const cohort_en[CB_COHORTS] = {
    "Acute myocardial infarction", "Heart failure", "Pneumonia (adult)",
    "Pneumonia (child)", "Cerebral infarction", "Hip replacement",
    "Knee replacement", "Coronary artery bypass graft", "Caesarean section",
    "Chronic obstructive pulmonary disease"
};

static enum cb_err
load_cohorts(struct cb_catalogues *cat, const char *dir, struct cb_buf *err)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/single-disease-2019.tsv", dir);
    struct cb_buf b = CB_BUF_INIT;
    enum cb_err rc = slurp(path, &b, err);
    if (rc) {
        cb_buf_release(&b);
        return rc;
    }
    struct cb_catalogue tmp = { 0 };
    digest_version(&tmp, &b);
    snprintf(cat->cohort_version, sizeof cat->cohort_version, "%s", tmp.version);
    struct cb_str rest = cb_buf_str(&b), line;
    int c_seq = -1, c_name = -1, c_basis = -1, c_inc = -1, c_exc = -1, n = 0;
    bool first = true;
    while (!rc && next_line(&rest, &line)) {
        if (first) {
            first = false;
            c_seq = column(line, "seq");
            c_name = column(line, "cohort");
            c_basis = column(line, "basis");
            c_inc = column(line, "include_prefixes");
            c_exc = column(line, "exclude_prefixes");
            if (c_seq < 0 || c_name < 0 || c_basis < 0 || c_inc < 0 || c_exc < 0) {
                cb_errf(err, "%s: expected columns seq, cohort, basis, "
                        "include_prefixes, exclude_prefixes", path);
                rc = CB_ERR_PROTO;
            }
            continue;
        }
        if (!line.len)
            continue;
        int64_t seq;
        if (cb_parse_i64(cb_tsv_field(line, c_seq), &seq) || seq < 1 || seq > CB_COHORTS) {
            cb_errf(err, "%s: seq must be 1..%d", path, CB_COHORTS);
            rc = CB_ERR_PROTO;
            break;
        }
        struct cb_cohort *k = &cat->cohort[seq - 1];
        set_text(k->name_zh, sizeof k->name_zh, cb_tsv_field(line, c_name));
        snprintf(k->name_en, sizeof k->name_en, "%s", cohort_en[seq - 1]);
        k->by_procedure = cb_str_eqz(cb_tsv_field(line, c_basis), "主要手术");
        k->age_min = k->age_max = -1;
        if (seq == 3)
            k->age_min = cat->child_age;
        else if (seq == 4)
            k->age_max = cat->child_age - 1;
        if ((rc = add_split(&k->include, cb_tsv_field(line, c_inc), ";")) ||
            (rc = add_split(&k->exclude, cb_tsv_field(line, c_exc), ";")))
            break;
        n++;
    }
    cb_buf_release(&b);
    if (!rc && n != CB_COHORTS) {
        cb_errf(err, "%s: %d cohorts, expected %d", path, n, CB_COHORTS);
        rc = CB_ERR_PROTO;
    }
    return rc;
}

enum cb_err
cb_catalogues_load(struct cb_catalogues *c, const struct cb_catalogue_paths *p,
                   struct cb_buf *err)
{
    memset(c, 0, sizeof *c);
    c->child_age = 18;
    c->day_surgery_hours = 24;
    if (sodium_init() < 0) {
        cb_errf(err, "libsodium failed to initialise");
        return CB_ERR_IO;
    }
    char def[1024];
    const char *comp = p->complications;
    if (!comp) {
        snprintf(def, sizeof def, "%s/catalogues/complications.tsv", p->datadir);
        comp = def;
    }
    enum cb_err rc;
    if ((rc = load_catalogue(&c->cat[CB_CAT_COMPLICATION], comp, err)) ||
        (rc = load_day_surgery(&c->cat[CB_CAT_DAY_SURGERY], p->refdata_dir, err)) ||
        (rc = load_cohorts(c, p->refdata_dir, err)))
        goto fail;
    const char *opt[3] = { p->mis, p->level4, p->level3 };
    for (int i = 0; i < 3; i++)
        if (opt[i] && (rc = load_catalogue(&c->cat[CB_CAT_MIS + i], opt[i], err)))
            goto fail;
    return CB_OK;
fail:
    cb_catalogues_release(c);
    return rc;
}

void
cb_catalogues_release(struct cb_catalogues *c)
{
    for (int i = 0; i < CB_CAT__N; i++)
        prefix_free(c->cat[i].codes);
    for (int i = 0; i < CB_COHORTS; i++) {
        prefix_free(c->cohort[i].include);
        prefix_free(c->cohort[i].exclude);
    }
    memset(c, 0, sizeof *c);
}
