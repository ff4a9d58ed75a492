/*
 * test_drg_rules.c - the DRG grouper against FORMAT.md §3-§11
 * (../shared/data/chs-drg-1.1/FORMAT.md), one package per predicate.
 *
 * Every package here is synthetic and tiny, written into a mkdtemp()
 * directory under /tmp that the group teardown removes (set KEEP_TMP=1 to
 * keep it). In rules.json text the character ' stands for " so the
 * conditions stay readable in C strings.
 *
 * A predicate under test is placed in three positions of its own package,
 * and the three must agree:
 *   0: the entry condition of MDCA  (true -> AA11, false -> MDCB's BB19)
 *   1: the `when` of MDCA's only rule (true -> AA11, false -> fall-through
 *      to BB19)
 *   2: the split condition of AA11 in drgs [AA11, AA15] (true -> AA11,
 *      false -> AA15)
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "testutil.h"

#include "carebase/buf.h"
#include "carebase/drg.h"

/* ---- malloc counting ---------------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define HAVE_MALLOC_HOOKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_MALLOC_HOOKS 1
#endif
#endif

#ifdef HAVE_MALLOC_HOOKS
/* From compiler-rt's sanitizer/allocator_interface.h (not shipped by GCC). */
int __sanitizer_install_malloc_and_free_hooks(
    void (*malloc_hook)(const volatile void *, size_t),
    void (*free_hook)(const volatile void *));

static volatile unsigned long g_mallocs;

static void
count_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    g_mallocs++;
}

static void
count_free(const volatile void *p)
{
    (void)p;
}

/* Installs the counting hooks once per process. */
static void
hooks_on(void)
{
    static bool on;

    if (!on)
        assert_int_not_equal(__sanitizer_install_malloc_and_free_hooks(
                                 count_malloc, count_free), 0);
    on = true;
}
#endif

/* ---- small text helpers ------------------------------------------------- */

static void addf(struct cb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
addf(struct cb_buf *b, const char *fmt, ...)
{
    va_list ap;
    enum cb_err rc;

    va_start(ap, fmt);
    rc = cb_buf_vaddf(b, fmt, ap);
    va_end(ap);
    assert_int_equal(rc, CB_OK);
}

/* A malloc'd copy of s with every ' turned into ". */
static char *
dq(const char *s)
{
    char *d = strdup(s), *p;

    assert_non_null(d);
    for (p = d; *p; p++)
        if (*p == '\'')
            *p = '"';
    return d;
}

static void
path_of(char *out, size_t n, const char *dir, const char *rel)
{
    assert_true((size_t)snprintf(out, n, "%s/%s", dir, rel) < n);
}

static void
write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    size_t n = strlen(text);
    FILE *f;

    path_of(path, sizeof(path), dir, rel);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void
write_tsv(const char *dir, const char *rel, const char *header,
          const char *rows)
{
    struct cb_buf b = CB_BUF_INIT;

    addf(&b, "%s\n%s", header, rows);
    write_file(dir, rel, cb_buf_cstr(&b));
    cb_buf_release(&b);
}

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p = NULL;
    long n;

    if (!f)
        return NULL;
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void
sha256_hex(const unsigned char *p, size_t n, char hex[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, p, n);
    sodium_bin2hex(hex, 65, h, sizeof(h));
}

static int
count_rows(const char *rows)
{
    int n = 0;

    for (; *rows; rows++)
        n += *rows == '\n';
    return n;
}

/*
 * lists_index.tsv rows derived from lists.tsv rows: each list in order of
 * first appearance, with its number of distinct codes.
 */
static void
derive_index(const char *rows, struct cb_buf *out)
{
    const char *p, *q;

    for (p = rows; *p; p = strchr(p, '\n') + 1) {
        size_t nl = strcspn(p, "\t");
        int distinct = 0;
        bool seen = false;

        for (q = rows; q < p; q = strchr(q, '\n') + 1)
            if (strncmp(q, p, nl + 1) == 0)
                seen = true;
        if (seen)
            continue;
        for (q = p; *q; q = strchr(q, '\n') + 1) {
            const char *r;
            size_t ql = strcspn(q, "\n");
            bool dup = false;

            if (strncmp(q, p, nl + 1) != 0)
                continue;
            for (r = p; r < q; r = strchr(r, '\n') + 1)
                if (strcspn(r, "\n") == ql && strncmp(r, q, ql) == 0)
                    dup = true;
            distinct += !dup;
        }
        addf(out, "%.*s\t%d\ttest list %.*s\n", (int)nl, p, distinct,
             (int)nl, p);
    }
}

/* ---- synthetic packages ------------------------------------------------- */

static char g_root[64];
static int  g_seq;

/* Lists, tables and maps shared by every package of this file. */
static const char STD_LISTS[] =
    "L1\tA01\n"
    "L1\tA02\n"
    "L1\tI21.000\n"
    "L1\tA01.000x005+J17.0*ABCDEF\n"           /* 24 bytes */
    "L1\tA01.000x005+J17.0*ABCDEFGHIJKL\n"     /* 30 bytes */
    "L2\tB01\n"
    "L2\tD01\n"
    "L3\tC01\n"
    "L3\tD01\n"
    "P1\t01.01\n"
    "P1\t01.02\n"
    "DEPTS\t0401\n";

static const char STD_CC_MCC[] =
    "M1\tMCC\t1\n"
    "M2\tMCC\t2\n"
    "M3\tMCC\t01\n"
    "C1\tCC\t1\n"
    "C2\tCC\t2\n"
    "I50.000\tMCC\t417\n"
    "J96.000\tMCC\t523\n";

static const char STD_EXCL[] =
    "E1\t1\n"
    "E2\t2\n"
    "M1\t1\n"
    "I21.000\t417\n";

static const char STD_DX_MAP[] =
    "A01\tA01\n"
    "A02\tA02\n"
    "B01\tB01\n"
    "Z99\tZ99\n"
    "M1\tM1\n"
    "M2\tM2\n"
    "a01\tA01\n"
    "X1\tX2\n"
    "X2\tA01\n"
    "k1\t A01\n";

static const char STD_PX_MAP[] =
    "01.01\t01.01\n"
    "01.02\t01.02\n"
    "p1\t01.01\n"
    "q1\tq2\n"
    "q2\t01.01\n";

static const char *const PKG_FILES[] = {
    "rules.json", "lists.tsv", "lists_index.tsv", "cc_mcc.tsv",
    "cc_exclusion.tsv", "dict/diagnoses.tsv", "dict/procedures.tsv",
    "dict/drgs.tsv", "dict/adrgs.tsv", "maps/dx_map.tsv", "maps/px_map.tsv",
};

/* dict/drgs.tsv and dict/adrgs.tsv from the parsed rules. */
static void
write_dicts(const char *dir, json_t *rules)
{
    struct cb_buf drgs = CB_BUF_INIT, adrgs = CB_BUF_INIT;
    json_t *mdcs = json_object_get(rules, "mdcs"), *m, *r, *cond;
    const char *code;
    size_t i, j;

    addf(&drgs, "drg\tname\n");
    addf(&adrgs, "adrg\tmdc\n");
    json_object_foreach(json_object_get(rules, "drgs"), code, cond)
        addf(&drgs, "%s\t测试组%s\n", code, code);
    json_array_foreach(mdcs, i, m) {
        json_array_foreach(json_object_get(m, "rules"), j, r) {
            const char *a = json_string_value(json_object_get(r, "adrg"));
            char key[64];

            snprintf(key, sizeof(key), "\n%s\t", a ? a : "");
            if (a && !strstr(cb_buf_cstr(&adrgs), key))
                addf(&adrgs, "%s\t%s\n", a,
                     json_string_value(json_object_get(m, "mdc")));
        }
    }
    write_file(dir, "dict/drgs.tsv", cb_buf_cstr(&drgs));
    write_file(dir, "dict/adrgs.tsv", cb_buf_cstr(&adrgs));
    cb_buf_release(&drgs);
    cb_buf_release(&adrgs);
}

/* manifest.json with the real SHA-256 and size of every file present. */
static void
write_manifest(const char *dir, json_t *rules, int nlists, int nentries,
               int ncc, int nmcc, int nexcl)
{
    json_t *m = json_object(), *counts = json_object(), *files = json_object();
    const char *scheme = json_string_value(json_object_get(rules, "scheme"));
    int nrules = 0;
    size_t i;
    json_t *mdc;
    char *text;

    json_array_foreach(json_object_get(rules, "mdcs"), i, mdc)
        nrules += (int)json_array_size(json_object_get(mdc, "rules"));
    json_object_set_new(m, "format", json_string("drg-package"));
    json_object_set_new(m, "format_version", json_integer(1));
    json_object_set_new(m, "scheme", json_string(scheme ? scheme : "t"));
    json_object_set_new(m, "scheme_name", json_string("Test scheme"));
    json_object_set_new(counts, "mdcs",
                        json_integer((json_int_t)json_array_size(
                            json_object_get(rules, "mdcs"))));
    json_object_set_new(counts, "adrg_rules", json_integer(nrules));
    json_object_set_new(counts, "drgs",
                        json_integer((json_int_t)json_object_size(
                            json_object_get(rules, "drgs"))));
    json_object_set_new(counts, "lists", json_integer(nlists));
    json_object_set_new(counts, "list_entries", json_integer(nentries));
    json_object_set_new(counts, "cc", json_integer(ncc));
    json_object_set_new(counts, "mcc", json_integer(nmcc));
    json_object_set_new(counts, "cc_exclusion_principals",
                        json_integer(nexcl));
    json_object_set_new(m, "counts", counts);
    for (i = 0; i < sizeof(PKG_FILES) / sizeof(PKG_FILES[0]); i++) {
        char path[512], hex[65];
        unsigned char *data;
        size_t len;

        path_of(path, sizeof(path), dir, PKG_FILES[i]);
        data = slurp(path, &len);
        if (!data)
            continue;
        sha256_hex(data, len, hex);
        free(data);
        json_object_set_new(files, PKG_FILES[i],
                            json_pack("{s:s, s:I}", "sha256", hex, "bytes",
                                      (json_int_t)len));
    }
    json_object_set_new(m, "files", files);
    text = json_dumps(m, JSON_INDENT(1) | JSON_SORT_KEYS);
    assert_non_null(text);
    write_file(dir, "manifest.json", text);
    free(text);
    json_decref(m);
}

/*
 * Writes a package with the given rules.json (' for ") and the standard
 * lists and tables into a fresh directory under g_root; maps/ only when
 * maps is set. Returns the directory in dir.
 */
static void
make_pkg(char *dir, size_t dirsz, const char *rules_q, bool maps)
{
    struct cb_buf idx = CB_BUF_INIT;
    char sub[512];
    char *rules = dq(rules_q);
    json_error_t jerr;
    json_t *doc;
    int ncc = 0, nmcc = 0;
    const char *p;

    assert_true((size_t)snprintf(dir, dirsz, "%s/p%03d", g_root, ++g_seq) <
                dirsz);
    assert_int_equal(mkdir(dir, 0700), 0);
    path_of(sub, sizeof(sub), dir, "dict");
    assert_int_equal(mkdir(sub, 0700), 0);

    write_file(dir, "rules.json", rules);
    write_tsv(dir, "lists.tsv", "list\tcode", STD_LISTS);
    derive_index(STD_LISTS, &idx);
    write_tsv(dir, "lists_index.tsv", "list\tcount\tdescription",
              cb_buf_cstr(&idx));
    write_tsv(dir, "cc_mcc.tsv", "code\tlevel\ttable", STD_CC_MCC);
    write_tsv(dir, "cc_exclusion.tsv", "principal\ttable", STD_EXCL);
    write_tsv(dir, "dict/diagnoses.tsv", "code\tname",
              "A01\t测试诊断甲\nM1\t测试诊断乙\n");
    write_tsv(dir, "dict/procedures.tsv", "code\tname", "01.01\t测试手术\n");
    if (maps) {
        path_of(sub, sizeof(sub), dir, "maps");
        assert_int_equal(mkdir(sub, 0700), 0);
        write_tsv(dir, "maps/dx_map.tsv", "from\tto", STD_DX_MAP);
        write_tsv(dir, "maps/px_map.tsv", "from\tto", STD_PX_MAP);
    }
    doc = json_loads(rules, 0, &jerr);
    if (!doc)
        fail_msg("test bug: rules.json does not parse: %s (line %d)",
                 jerr.text, jerr.line);
    write_dicts(dir, doc);
    for (p = STD_CC_MCC; (p = strchr(p, '\t')) != NULL; p = strchr(p, '\n')) {
        ncc += strncmp(p, "\tCC\t", 4) == 0;
        nmcc += strncmp(p, "\tMCC\t", 5) == 0;
    }
    write_manifest(dir, doc, count_rows(cb_buf_cstr(&idx)),
                   count_rows(STD_LISTS), ncc, nmcc, count_rows(STD_EXCL));
    json_decref(doc);
    cb_buf_release(&idx);
    free(rules);
}

/* rules.json text from its parts (each in the ' notation). */
static char *
rules_doc(const char *checks, const char *normalize, const char *mdcs,
          const char *drgs)
{
    struct cb_buf b = CB_BUF_INIT;

    addf(&b, "{'format':'drg-rules','format_version':1,'scheme':'t-rules',"
             "'checks':%s,'normalize':%s,'mdcs':%s,'drgs':%s}\n",
         checks ? checks : "[]", normalize ? normalize : "[]", mdcs, drgs);
    return cb_buf_detach(&b, NULL);
}

#define T "{'op':'true'}"
#define F "{'op':'false'}"

/* ---- loaded schemes and records ---------------------------------------- */

struct sch {
    struct cb_drg_scheme *s;
    struct cb_drg_work    w;
};

static void
sch_load_doc(struct sch *x, const char *rules_q, bool maps)
{
    struct cb_drg_load_opts opts = { .skip_checksums = true,
                                     .skip_dicts = true,
                                     .skip_maps = !maps };
    struct cb_buf err = CB_BUF_INIT;
    char dir[512], msg[1024];

    make_pkg(dir, sizeof(dir), rules_q, maps);
    memset(x, 0, sizeof(*x));
    if (cb_drg_scheme_load(dir, &opts, &x->s, &err) != CB_OK) {
        snprintf(msg, sizeof(msg), "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        fail_msg("cannot load %s: %s", dir, msg);
    }
    cb_buf_release(&err);
    assert_int_equal(cb_drg_work_init(&x->w, x->s), CB_OK);
}

static void
sch_load(struct sch *x, const char *checks, const char *normalize,
         const char *mdcs, const char *drgs, bool maps)
{
    char *doc = rules_doc(checks, normalize, mdcs, drgs);

    sch_load_doc(x, doc, maps);
    free(doc);
}

static void
sch_free(struct sch *x)
{
    cb_drg_work_release(&x->w);
    cb_drg_scheme_free(x->s);
    x->s = NULL;
}

/* A test record; NULL fields take the defaults of rec_input(). */
struct rec {
    const char *index, *sex, *age, *age_days, *weight, *dept, *los,
               *leaving_type, *dx, *px;
};

#define REC(...) (&(struct rec){ __VA_ARGS__ })

static const char *
or_(const char *v, const char *dflt)
{
    return v ? v : dflt;
}

/* Fills in from r; dx and px are split into the work's arrays. */
static void
rec_input(struct cb_drg_work *w, const struct rec *r, struct cb_drg_input *in)
{
    memset(in, 0, sizeof(*in));
    in->index = cb_str_c(or_(r->index, "R1"));
    in->sex = cb_str_c(or_(r->sex, "1"));
    in->age = cb_str_c(or_(r->age, "40"));
    in->age_days = cb_str_c(or_(r->age_days, ""));
    in->weight = cb_str_c(or_(r->weight, ""));
    in->dept = cb_str_c(or_(r->dept, ""));
    in->los = cb_str_c(or_(r->los, ""));
    in->leaving_type = cb_str_c(or_(r->leaving_type, ""));
    assert_int_equal(cb_drg_split_codes(w, 0, cb_str_c(or_(r->dx, "")),
                                        &in->dx, &in->ndx), CB_OK);
    assert_int_equal(cb_drg_split_codes(w, 1, cb_str_c(or_(r->px, "")),
                                        &in->px, &in->npx), CB_OK);
}

static void
sch_group(struct sch *x, const struct rec *r, enum cb_drg_translate tr,
          struct cb_drg_input *in, struct cb_drg_result *res)
{
    rec_input(&x->w, r, in);
    memset(res, 0x5a, sizeof(*res));
    assert_int_equal(cb_drg_group(x->s, in, tr, &x->w, res), CB_OK);
}

static const char *
stname(enum cb_drg_status st)
{
    switch (st) {
    case CB_DRG_SUCCESS:        return "SUCCESS";
    case CB_DRG_FAIL:           return "FAIL";
    case CB_DRG_QY:             return "QY";
    case CB_DRG_CHECK_FAILED:   return "CHECK_FAILED";
    case CB_DRG_ZD_NOT_MAPPING: return "ZD_NOT_MAPPING";
    case CB_DRG_SS_NOT_MAPPING: return "SS_NOT_MAPPING";
    }
    return "(bad status)";
}

static void
expect_res_at(const struct cb_drg_result *r, enum cb_drg_status st,
              const char *mdc, const char *adrg, const char *drg, int line)
{
    if (r->status != st || strcmp(r->mdc, mdc) != 0 ||
        strcmp(r->adrg, adrg) != 0 || strcmp(r->drg, drg) != 0)
        fail_msg("line %d: want %s %s/%s/%s, got %s %.16s/%.16s/%.16s", line,
                 stname(st), mdc, adrg, drg, stname(r->status), r->mdc,
                 r->adrg, r->drg);
}

#define EXPECT_RES(r, st, mdc, adrg, drg) \
    expect_res_at((r), (st), (mdc), (adrg), (drg), __LINE__)

/* Groups r in x and checks the whole result. */
static void
group_expect_at(struct sch *x, const struct rec *r, enum cb_drg_translate tr,
                enum cb_drg_status st, const char *mdc, const char *adrg,
                const char *drg, int line)
{
    struct cb_drg_input in;
    struct cb_drg_result res;

    sch_group(x, r, tr, &in, &res);
    expect_res_at(&res, st, mdc, adrg, drg, line);
}

#define GROUP(x, st, mdc, adrg, drg, ...)                                \
    group_expect_at((x), REC(__VA_ARGS__), CB_DRG_TR_OFF, (st), (mdc),  \
                    (adrg), (drg), __LINE__)

/* ---- predicate packages ------------------------------------------------- */

struct pred {
    struct sch v[3];  /* the predicate at MDC entry, rule, DRG split */
};

struct pred_opts {
    const char *checks, *normalize;
    bool maps;
};

static void
pred_load(struct pred *p, const char *cond, const struct pred_opts *o)
{
    static const char bb[] =
        "{'mdc':'MDCB','when':" T ",'rules':[{'id':'BB1','adrg':'BB1',"
        "'when':" T ",'drgs':['BB19']}]}]";
    struct pred_opts none = { NULL, NULL, false };
    struct cb_buf mdcs = CB_BUF_INIT, drgs = CB_BUF_INIT;
    int pos;

    if (!o)
        o = &none;
    for (pos = 0; pos < 3; pos++) {
        cb_buf_reset(&mdcs);
        cb_buf_reset(&drgs);
        addf(&mdcs,
             "[{'mdc':'MDCA','when':%s,'rules':[{'id':'AA1','adrg':'AA1',"
             "'when':%s,'drgs':%s}]},%s",
             pos == 0 ? cond : T, pos == 1 ? cond : T,
             pos == 2 ? "['AA11','AA15']" : "['AA11']", bb);
        if (pos == 2)
            addf(&drgs, "{'AA11':{'when':%s},'AA15':{'when':" T "},"
                        "'BB19':{'when':" T "}}", cond);
        else
            addf(&drgs, "{'AA11':{'when':" T "},'BB19':{'when':" T "}}");
        sch_load(&p->v[pos], o->checks, o->normalize, cb_buf_cstr(&mdcs),
                 cb_buf_cstr(&drgs), o->maps);
    }
    cb_buf_release(&mdcs);
    cb_buf_release(&drgs);
}

static void
pred_free(struct pred *p)
{
    int pos;

    for (pos = 0; pos < 3; pos++)
        sch_free(&p->v[pos]);
}

/* Whether the predicate holds for r, checked in all three positions. */
static bool
holds_at(struct pred *p, const struct rec *r, enum cb_drg_translate tr,
         int line)
{
    static const char *const yes[3] = { "AA11", "AA11", "AA11" };
    static const char *const no[3] = { "BB19", "BB19", "AA15" };
    int pos, v[3];

    for (pos = 0; pos < 3; pos++) {
        struct cb_drg_input in;
        struct cb_drg_result res;

        sch_group(&p->v[pos], r, tr, &in, &res);
        if (res.status == CB_DRG_SUCCESS && strcmp(res.drg, yes[pos]) == 0)
            v[pos] = 1;
        else if (res.status == CB_DRG_SUCCESS &&
                 strcmp(res.drg, no[pos]) == 0)
            v[pos] = 0;
        else
            fail_msg("line %d, position %d: unexpected %s %.16s/%.16s/%.16s",
                     line, pos, stname(res.status), res.mdc, res.adrg,
                     res.drg);
    }
    if (v[0] != v[1] || v[0] != v[2])
        fail_msg("line %d: positions disagree (MDC %d, rule %d, split %d)",
                 line, v[0], v[1], v[2]);
    return v[0] == 1;
}

#define HOLDS(p, ...) holds_at((p), REC(__VA_ARGS__), CB_DRG_TR_OFF, __LINE__)
#define HOLDS_TR(p, tr, ...) holds_at((p), REC(__VA_ARGS__), (tr), __LINE__)

/* ---- §7 true, false, all, any, not -------------------------------------- */

static void
test_true_false(void **state)
{
    struct pred t, f;
    (void)state;

    pred_load(&t, T, NULL);
    pred_load(&f, F, NULL);
    assert_true(HOLDS(&t, .dx = "A01"));
    assert_true(HOLDS(&t, .dx = "", .sex = ""));
    assert_false(HOLDS(&f, .dx = "A01"));
    assert_false(HOLDS(&f, .dx = "", .sex = ""));
    pred_free(&t);
    pred_free(&f);
}

static void
test_all(void **state)
{
    struct pred p2, p3;
    (void)state;

    pred_load(&p2, "{'op':'all','args':[{'op':'pdx_in','list':'L1'},"
                   "{'op':'ppx_in','list':'P1'}]}", NULL);
    assert_true(HOLDS(&p2, .dx = "A01", .px = "01.01"));
    assert_false(HOLDS(&p2, .dx = "A01", .px = ""));
    assert_false(HOLDS(&p2, .dx = "B01", .px = "01.01"));
    assert_false(HOLDS(&p2, .dx = "B01", .px = "99.99"));

    pred_load(&p3, "{'op':'all','args':[{'op':'pdx_in','list':'L1'},"
                   "{'op':'ppx_in','list':'P1'},"
                   "{'op':'str_eq','field':'sex','value':'2'}]}", NULL);
    assert_true(HOLDS(&p3, .dx = "A01", .px = "01.01", .sex = "2"));
    assert_false(HOLDS(&p3, .dx = "A01", .px = "01.01", .sex = "1"));
    assert_false(HOLDS(&p3, .dx = "A01", .px = "", .sex = "2"));
    pred_free(&p2);
    pred_free(&p3);
}

static void
test_any(void **state)
{
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'any','args':[{'op':'pdx_in','list':'L2'},"
                  "{'op':'ppx_in','list':'P1'},{'op':'false'}]}", NULL);
    assert_true(HOLDS(&p, .dx = "B01", .px = ""));
    assert_true(HOLDS(&p, .dx = "Z99", .px = "01.02"));
    assert_true(HOLDS(&p, .dx = "B01", .px = "01.01"));
    assert_false(HOLDS(&p, .dx = "Z99", .px = ""));
    assert_false(HOLDS(&p, .dx = "Z99|B01", .px = "99.99|01.01"));
    pred_free(&p);
}

static void
test_nested_all_any_not(void **state)
{
    struct pred p;
    (void)state;

    /* (pdx in L1 and not ppx in P1) or (pdx in L2 and a secondary in L3) */
    pred_load(&p,
              "{'op':'any','args':["
              " {'op':'all','args':[{'op':'pdx_in','list':'L1'},"
              "   {'op':'not','arg':{'op':'ppx_in','list':'P1'}}]},"
              " {'op':'all','args':[{'op':'pdx_in','list':'L2'},"
              "   {'op':'sdx_any_in','list':'L3'}]}]}", NULL);
    assert_true(HOLDS(&p, .dx = "A01", .px = ""));
    assert_true(HOLDS(&p, .dx = "A01", .px = "99.99|01.01"));
    assert_false(HOLDS(&p, .dx = "A01", .px = "01.01"));
    assert_true(HOLDS(&p, .dx = "B01|C01"));
    assert_false(HOLDS(&p, .dx = "B01|B01"));
    assert_true(HOLDS(&p, .dx = "D01|D01"));
    assert_false(HOLDS(&p, .dx = "C01|B01"));
    assert_false(HOLDS(&p, .dx = "Z99|A01|C01"));
    pred_free(&p);
}

static void
test_not(void **state)
{
    struct pred p, pp;
    (void)state;

    pred_load(&p, "{'op':'not','arg':{'op':'pdx_in','list':'L1'}}", NULL);
    assert_false(HOLDS(&p, .dx = "A01"));
    assert_true(HOLDS(&p, .dx = "Z99"));
    assert_true(HOLDS(&p, .dx = ""));
    assert_true(HOLDS(&p, .dx = "Z99|A01"));
    pred_load(&pp, "{'op':'not','arg':{'op':'not','arg':"
                   "{'op':'pdx_in','list':'L1'}}}", NULL);
    assert_true(HOLDS(&pp, .dx = "A01"));
    assert_false(HOLDS(&pp, .dx = "Z99"));
    pred_free(&p);
    pred_free(&pp);
}

/* ---- §7 list predicates, §3 list fields --------------------------------- */

static void
test_pdx_in(void **state)
{
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'pdx_in','list':'L1'}", NULL);
    assert_true(HOLDS(&p, .dx = "A01"));
    assert_true(HOLDS(&p, .dx = "A02|Z99"));
    assert_true(HOLDS(&p, .dx = "A01|"));
    assert_false(HOLDS(&p, .dx = "Z99|A01"));   /* a secondary only */
    assert_false(HOLDS(&p, .dx = ""));          /* empty principal */
    assert_false(HOLDS(&p, .dx = "|A01"));
    assert_false(HOLDS(&p, .dx = "B01"));
    pred_free(&p);
}

static void
test_codes_exact(void **state)
{
    struct pred p, pp;
    (void)state;

    /* §2: case-sensitive, byte for byte, never trimmed, never cut at '.' */
    pred_load(&p, "{'op':'dx_any_in','list':'L1'}", NULL);
    assert_true(HOLDS(&p, .dx = "I21.000"));
    assert_false(HOLDS(&p, .dx = " A01"));
    assert_false(HOLDS(&p, .dx = "A01 "));
    assert_false(HOLDS(&p, .dx = "a01"));
    assert_false(HOLDS(&p, .dx = "A01.0"));
    assert_false(HOLDS(&p, .dx = "I21"));
    assert_false(HOLDS(&p, .dx = "I21.00"));
    assert_false(HOLDS(&p, .dx = "i21.000"));
    assert_false(HOLDS(&p, .dx = "A0"));
    assert_false(HOLDS(&p, .dx = "A01\r"));
    assert_false(HOLDS(&p, .dx = "Z99| A01|a01|A01 "));
    /* around the 24-byte key of the code table */
    assert_true(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDEF"));
    assert_false(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDE"));
    assert_false(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDEFG"));
    assert_true(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDEFGHIJKL"));
    assert_false(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDEFGHIJKM"));
    assert_false(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDEFGHIJK"));
    assert_false(HOLDS(&p, .dx = "A01.000x005+J17.0*ABCDEFGHIJKLM"));
    pred_load(&pp, "{'op':'px_any_in','list':'P1'}", NULL);
    assert_true(HOLDS(&pp, .px = "01.01"));
    assert_false(HOLDS(&pp, .px = "01.010"));
    assert_false(HOLDS(&pp, .px = "01.0"));
    assert_false(HOLDS(&pp, .px = "01"));
    assert_false(HOLDS(&pp, .px = " 01.01"));
    pred_free(&p);
    pred_free(&pp);
}

static void
test_dx_any_in(void **state)
{
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'dx_any_in','list':'L1'}", NULL);
    assert_true(HOLDS(&p, .dx = "A01"));                 /* principal too */
    assert_true(HOLDS(&p, .dx = "Z99|A02"));
    assert_true(HOLDS(&p, .dx = "|Z99||A01"));
    assert_false(HOLDS(&p, .dx = "Z99|B01|C01"));
    assert_false(HOLDS(&p, .dx = ""));
    assert_false(HOLDS(&p, .dx = "||"));
    pred_free(&p);
}

static void
test_sdx_any_in(void **state)
{
    struct cb_buf many = CB_BUF_INIT;
    struct pred p;
    int i;
    (void)state;

    pred_load(&p, "{'op':'sdx_any_in','list':'L1'}", NULL);
    assert_false(HOLDS(&p, .dx = "A01"));                /* principal only */
    assert_false(HOLDS(&p, .dx = "A01|Z99"));
    assert_true(HOLDS(&p, .dx = "Z99|A01"));
    assert_true(HOLDS(&p, .dx = "A01|A01"));             /* duplicate */
    assert_true(HOLDS(&p, .dx = "|A02"));
    assert_false(HOLDS(&p, .dx = "A01|"));
    assert_false(HOLDS(&p, .dx = ""));

    /* A long list grows the work. */
    addf(&many, "Z99");
    for (i = 0; i < 300; i++)
        addf(&many, "|Z%03d", i);
    assert_false(HOLDS(&p, .dx = cb_buf_cstr(&many)));
    addf(&many, "|A02");
    assert_true(HOLDS(&p, .dx = cb_buf_cstr(&many)));
    cb_buf_release(&many);
    pred_free(&p);
}

static void
test_ppx_in(void **state)
{
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'ppx_in','list':'P1'}", NULL);
    assert_true(HOLDS(&p, .px = "01.01"));
    assert_true(HOLDS(&p, .px = "01.02|99.99"));
    assert_false(HOLDS(&p, .px = "99.99|01.01"));
    assert_false(HOLDS(&p, .px = ""));
    assert_false(HOLDS(&p, .px = "|01.01"));
    assert_false(HOLDS(&p, .dx = "01.01", .px = ""));  /* px, not dx */
    pred_free(&p);
}

static void
test_px_any_in(void **state)
{
    struct cb_buf many = CB_BUF_INIT;
    struct pred p;
    int i;
    (void)state;

    pred_load(&p, "{'op':'px_any_in','list':'P1'}", NULL);
    assert_true(HOLDS(&p, .px = "01.01"));
    assert_true(HOLDS(&p, .px = "99.99|01.02"));
    assert_true(HOLDS(&p, .px = "|01.01"));
    assert_true(HOLDS(&p, .px = "01.01|"));
    assert_false(HOLDS(&p, .px = ""));                   /* [""] */
    assert_false(HOLDS(&p, .px = "|"));
    assert_false(HOLDS(&p, .px = "99.99|98.01"));
    /* past the first 64 positions */
    addf(&many, "99.99");
    for (i = 0; i < 100; i++)
        addf(&many, "|98.%02d", i);
    assert_false(HOLDS(&p, .px = cb_buf_cstr(&many)));
    addf(&many, "|01.02");
    assert_true(HOLDS(&p, .px = cb_buf_cstr(&many)));
    cb_buf_release(&many);
    pred_free(&p);
}

static void
test_split_codes(void **state)
{
    static const struct {
        const char *field;
        int         n;
        const char *code[4];
    } cases[] = {
        { "", 1, { "" } },
        { "A", 1, { "A" } },
        { "A|", 2, { "A", "" } },
        { "|B", 2, { "", "B" } },
        { "A||B", 3, { "A", "", "B" } },
        { "|", 2, { "", "" } },
        { " A | B", 2, { " A ", " B" } },
    };
    struct sch x;
    size_t i;
    int j;
    (void)state;

    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCA','when':" T ",'rules':[{'id':'AA1','adrg':'AA1',"
             "'when':" T ",'drgs':['AA11']}]}]",
             "{'AA11':{'when':" T "}}", false);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct cb_str *dx, *px;
        int ndx, npx;

        assert_int_equal(cb_drg_split_codes(&x.w, 0, cb_str_c(cases[i].field),
                                            &dx, &ndx), CB_OK);
        /* the px array is separate: splitting it keeps dx intact */
        assert_int_equal(cb_drg_split_codes(&x.w, 1, cb_str_c("P|Q|R|S"),
                                            &px, &npx), CB_OK);
        assert_int_equal(npx, 4);
        if (ndx != cases[i].n)
            fail_msg("\"%s\": %d pieces, want %d", cases[i].field, ndx,
                     cases[i].n);
        for (j = 0; j < ndx; j++)
            if (!cb_str_eqz(dx[j], cases[i].code[j]))
                fail_msg("\"%s\"[%d] = \"%.*s\", want \"%s\"", cases[i].field,
                         j, (int)dx[j].len, dx[j].ptr, cases[i].code[j]);
        assert_true(cb_str_eqz(px[3], "S"));
    }
    sch_free(&x);
}

/* ---- §4 numbers, §7 num ------------------------------------------------- */

static void
test_num_cmp(void **state)
{
    static const char *const cmp[5] = { "==", "<", "<=", ">", ">=" };
    /* age 9, 10, 11, NaN against value 10 */
    static const bool want[5][4] = {
        { false, true, false, false },
        { true, false, false, false },
        { true, true, false, false },
        { false, false, true, false },
        { false, true, true, false },
    };
    static const char *const age[4] = { "9", "10", "11", "abc" };
    struct cb_buf cond = CB_BUF_INIT;
    struct pred p;
    int i, j;
    (void)state;

    for (i = 0; i < 5; i++) {
        cb_buf_reset(&cond);
        addf(&cond, "{'op':'num','field':'age','cmp':'%s','value':10}",
             cmp[i]);
        pred_load(&p, cb_buf_cstr(&cond), NULL);
        for (j = 0; j < 4; j++)
            if (HOLDS(&p, .age = age[j]) != want[i][j])
                fail_msg("age '%s' %s 10: want %d", age[j], cmp[i],
                         want[i][j]);
        pred_free(&p);
    }
    /* a negative constant */
    pred_load(&p, "{'op':'num','field':'age','cmp':'>','value':-1}", NULL);
    assert_true(HOLDS(&p, .age = ""));
    assert_true(HOLDS(&p, .age = "-0.5"));
    assert_false(HOLDS(&p, .age = "-1"));
    assert_false(HOLDS(&p, .age = "-2"));
    pred_free(&p);
    cb_buf_release(&cond);
}

static void
test_num_fields(void **state)
{
    struct pred w, d, l, a;
    (void)state;

    pred_load(&w, "{'op':'num','field':'weight','cmp':'>=','value':1500}",
              NULL);
    assert_true(HOLDS(&w, .weight = "1500"));
    assert_false(HOLDS(&w, .weight = "1499", .age = "2000",
                       .age_days = "2000", .los = "2000"));
    assert_false(HOLDS(&w, .weight = ""));

    pred_load(&d, "{'op':'num','field':'age_days','cmp':'<=','value':28}",
              NULL);
    assert_true(HOLDS(&d, .age_days = "28"));
    assert_true(HOLDS(&d, .age_days = ""));             /* empty is 0 */
    assert_false(HOLDS(&d, .age_days = "29", .age = "0", .weight = "0"));
    assert_false(HOLDS(&d, .age_days = "x"));

    pred_load(&l, "{'op':'num','field':'los','cmp':'>','value':3}", NULL);
    assert_true(HOLDS(&l, .los = "4"));
    assert_false(HOLDS(&l, .los = "3", .age = "40", .weight = "9"));

    pred_load(&a, "{'op':'num','field':'age','cmp':'==','value':0}", NULL);
    assert_true(HOLDS(&a, .age = "", .age_days = "5"));
    assert_false(HOLDS(&a, .age = "1", .age_days = "0", .weight = "0",
                       .los = "0"));
    pred_free(&w);
    pred_free(&d);
    pred_free(&l);
    pred_free(&a);
}

static void
test_num_parse(void **state)
{
    /* age == 0, age > 0, age < 1, age == 10 */
    static const struct {
        const char *text;
        bool        eq0, gt0, lt1, eq10;
    } cases[] = {
        { "", true, false, true, false },
        { "   ", true, false, true, false },
        { "\t\r\n\v\f ", true, false, true, false },
        { "\xC2\xA0", true, false, true, false },           /* NBSP only */
        { "0", true, false, true, false },
        { "-0", true, false, true, false },
        { "0.0", true, false, true, false },
        { "10", false, true, false, true },
        { " 10 ", false, true, false, true },
        { "\t10\n", false, true, false, true },
        { "\xC2\xA0" "10\xC2\xA0", false, true, false, true },  /* NBSP */
        { "\xE3\x80\x80" "10\xE3\x80\x80", false, true, false, true },
        { "\xE2\x80\x83" "10", false, true, false, true },  /* U+2003 */
        { "10\xE2\x80\xAF", false, true, false, true },     /* U+202F */
        { "\xE1\x9A\x80" "10", false, true, false, true },  /* U+1680 */
        { "1e1", false, true, false, true },
        { "1E+1", false, true, false, true },
        { "100e-1", false, true, false, true },
        { "10.", false, true, false, true },
        { "10.000", false, true, false, true },
        { "+10", false, true, false, true },
        { "010", false, true, false, true },                /* not octal */
        { ".5", false, true, true, false },
        { "5e-1", false, true, true, false },
        { "0.99", false, true, true, false },
        { "-1", false, false, true, false },
        { "abc", false, false, false, false },
        { "NA", false, false, false, false },
        { "1,5", false, false, false, false },
        { "5kg", false, false, false, false },
        { ".", false, false, false, false },
        { "-", false, false, false, false },
        { "+", false, false, false, false },
        { "1e", false, false, false, false },
        { "e1", false, false, false, false },
        { "1.2.3", false, false, false, false },
        { "1 0", false, false, false, false },
        { "++1", false, false, false, false },
        { "--1", false, false, false, false },
        { "10\xE2\x80\x8B", false, false, false, false }, /* ZWSP: not Zs */
        { "\xEF\xBC\x91\xEF\xBC\x90", false, false, false, false }, /* １０ */
    };
    static const char *const conds[4] = {
        "{'op':'num','field':'age','cmp':'==','value':0}",
        "{'op':'num','field':'age','cmp':'>','value':0}",
        "{'op':'num','field':'age','cmp':'<','value':1}",
        "{'op':'num','field':'age','cmp':'==','value':10}",
    };
    struct pred p[4];
    size_t i;
    int k, bad = 0;
    (void)state;

    for (k = 0; k < 4; k++)
        pred_load(&p[k], conds[k], NULL);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool want[4] = { cases[i].eq0, cases[i].gt0, cases[i].lt1,
                         cases[i].eq10 };
        for (k = 0; k < 4; k++) {
            if (HOLDS(&p[k], .age = cases[i].text) != want[k]) {
                print_error("age \"%s\": %s should be %s\n", cases[i].text,
                            conds[k], want[k] ? "true" : "false");
                bad++;
            }
        }
    }
    /* the same parsing for weight: " 2500 " is 2500 */
    for (k = 0; k < 4; k++)
        pred_free(&p[k]);
    pred_load(&p[0], "{'op':'num','field':'weight','cmp':'==','value':2500}",
              NULL);
    assert_true(HOLDS(&p[0], .weight = " 2500 "));
    assert_true(HOLDS(&p[0], .weight = "2500.0"));
    assert_false(HOLDS(&p[0], .weight = "2,500"));
    assert_false(HOLDS(&p[0], .weight = "2500g"));
    pred_free(&p[0]);
    assert_int_equal(bad, 0);
}

/* ---- §7 str_eq, str_in, empty; §8.2 normalize --------------------------- */

static void
test_str_eq(void **state)
{
    struct pred s, d, l;
    (void)state;

    pred_load(&s, "{'op':'str_eq','field':'sex','value':'1'}", NULL);
    assert_true(HOLDS(&s, .sex = "1"));
    assert_false(HOLDS(&s, .sex = "2"));
    assert_false(HOLDS(&s, .sex = " 1"));
    assert_false(HOLDS(&s, .sex = "1 "));
    assert_false(HOLDS(&s, .sex = "01"));
    assert_false(HOLDS(&s, .sex = "1.0"));        /* no normalize step here */
    assert_false(HOLDS(&s, .sex = "男"));
    assert_false(HOLDS(&s, .sex = ""));

    pred_load(&d, "{'op':'str_eq','field':'dept','value':'内科'}", NULL);
    assert_true(HOLDS(&d, .dept = "内科"));
    assert_false(HOLDS(&d, .dept = "内科 "));
    assert_false(HOLDS(&d, .dept = ""));

    pred_load(&l, "{'op':'str_eq','field':'leaving_type','value':'5'}",
              NULL);
    assert_true(HOLDS(&l, .leaving_type = "5"));
    assert_false(HOLDS(&l, .leaving_type = "5.0"));
    assert_false(HOLDS(&l, .leaving_type = "1", .sex = "5", .dept = "5"));
    pred_free(&s);
    pred_free(&d);
    pred_free(&l);
}

static void
test_str_in(void **state)
{
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'str_in','field':'dept','list':'DEPTS'}", NULL);
    assert_true(HOLDS(&p, .dept = "0401"));
    assert_false(HOLDS(&p, .dept = "0402"));
    assert_false(HOLDS(&p, .dept = " 0401"));
    assert_false(HOLDS(&p, .dept = ""));
    pred_free(&p);
}

/* Points the named scalar field of r at v. */
static void
rec_set(struct rec *r, const char *field, const char *v)
{
    if (strcmp(field, "index") == 0)
        r->index = v;
    else if (strcmp(field, "sex") == 0)
        r->sex = v;
    else if (strcmp(field, "age") == 0)
        r->age = v;
    else if (strcmp(field, "age_days") == 0)
        r->age_days = v;
    else if (strcmp(field, "weight") == 0)
        r->weight = v;
    else if (strcmp(field, "dept") == 0)
        r->dept = v;
    else if (strcmp(field, "los") == 0)
        r->los = v;
    else if (strcmp(field, "leaving_type") == 0)
        r->leaving_type = v;
    else
        fail_msg("test bug: no field %s", field);
}

static void
test_empty(void **state)
{
    static const char *const fields[] = {
        "sex", "age", "age_days", "weight", "dept", "los", "leaving_type",
        "index",
    };
    struct cb_buf cond = CB_BUF_INIT;
    struct pred p;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        struct rec r0 = { .index = "R1", .sex = "1", .age = "1",
                          .age_days = "1", .weight = "1", .dept = "1",
                          .los = "1", .leaving_type = "1" };
        struct rec re = r0, rs = r0;

        rec_set(&re, fields[i], "");
        rec_set(&rs, fields[i], " ");
        cb_buf_reset(&cond);
        addf(&cond, "{'op':'empty','field':'%s'}", fields[i]);
        pred_load(&p, cb_buf_cstr(&cond), NULL);
        if (!holds_at(&p, &re, CB_DRG_TR_OFF, __LINE__))
            fail_msg("empty %s: \"\" should be empty", fields[i]);
        if (holds_at(&p, &rs, CB_DRG_TR_OFF, __LINE__))
            fail_msg("empty %s: \" \" is not empty", fields[i]);
        if (holds_at(&p, &r0, CB_DRG_TR_OFF, __LINE__))
            fail_msg("empty %s: \"1\" is not empty", fields[i]);
        pred_free(&p);
    }
    cb_buf_release(&cond);
}

static void
test_normalize_map(void **state)
{
    struct pred_opts o = { NULL,
                           "[{'field':'sex','op':'map',"
                           "'map':{'男':'1','女':'2'}}]", false };
    struct pred m1, m2;
    (void)state;

    pred_load(&m1, "{'op':'str_eq','field':'sex','value':'1'}", &o);
    pred_load(&m2, "{'op':'str_eq','field':'sex','value':'2'}", &o);
    assert_true(HOLDS(&m1, .sex = "男"));
    assert_true(HOLDS(&m1, .sex = "1"));
    assert_false(HOLDS(&m1, .sex = "女"));
    assert_false(HOLDS(&m1, .sex = "男 "));       /* keys match exactly */
    assert_false(HOLDS(&m1, .sex = "9"));
    assert_true(HOLDS(&m2, .sex = "女"));
    assert_false(HOLDS(&m2, .sex = "男"));
    pred_free(&m1);
    pred_free(&m2);
}

static void
test_normalize_truncate(void **state)
{
    struct pred_opts o = { NULL,
                           "[{'field':'sex','op':'truncate_at_dot'},"
                           "{'field':'dept','op':'truncate_at_dot'},"
                           "{'field':'leaving_type','op':'truncate_at_dot'}]",
                           false };
    struct pred s, e, dl;
    (void)state;

    pred_load(&s, "{'op':'str_eq','field':'sex','value':'1'}", &o);
    assert_true(HOLDS(&s, .sex = "1.0"));
    assert_true(HOLDS(&s, .sex = "1"));
    assert_true(HOLDS(&s, .sex = "1.5.2"));
    assert_false(HOLDS(&s, .sex = "2.0"));
    assert_false(HOLDS(&s, .sex = "男"));          /* no map here */
    pred_load(&e, "{'op':'empty','field':'sex'}", &o);
    assert_true(HOLDS(&e, .sex = ".1"));
    assert_false(HOLDS(&e, .sex = " .1"));
    pred_load(&dl, "{'op':'all','args':["
                   "{'op':'str_eq','field':'dept','value':'0401'},"
                   "{'op':'str_eq','field':'leaving_type','value':'5'}]}",
              &o);
    assert_true(HOLDS(&dl, .dept = "0401.00", .leaving_type = "5.0"));
    assert_false(HOLDS(&dl, .dept = "0401.00", .leaving_type = "50"));
    pred_free(&s);
    pred_free(&e);
    pred_free(&dl);
}

static void
test_normalize_truncate_else_map(void **state)
{
    struct pred_opts o = { NULL,
                           "[{'field':'sex','op':'truncate_at_dot_else_map',"
                           "'map':{'男':'1','女':'2'}}]", false };
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'str_eq','field':'sex','value':'1'}", &o);
    assert_true(HOLDS(&p, .sex = "男"));
    assert_true(HOLDS(&p, .sex = "1.0"));
    assert_true(HOLDS(&p, .sex = "1"));
    assert_false(HOLDS(&p, .sex = "男.0"));  /* cut to 男, then not mapped */
    assert_false(HOLDS(&p, .sex = "女"));
    pred_free(&p);
}

static void
test_normalize_order(void **state)
{
    struct pred_opts map_first = {
        NULL, "[{'field':'sex','op':'map','map':{'男':'1.5'}},"
              "{'field':'sex','op':'truncate_at_dot'}]", false };
    struct pred_opts cut_first = {
        NULL, "[{'field':'sex','op':'truncate_at_dot'},"
              "{'field':'sex','op':'map','map':{'男':'1.5'}}]", false };
    struct pred a, b, c;
    (void)state;

    pred_load(&a, "{'op':'str_eq','field':'sex','value':'1'}", &map_first);
    pred_load(&b, "{'op':'str_eq','field':'sex','value':'1'}", &cut_first);
    pred_load(&c, "{'op':'str_eq','field':'sex','value':'1.5'}", &cut_first);
    assert_true(HOLDS(&a, .sex = "男"));
    assert_false(HOLDS(&b, .sex = "男"));
    assert_true(HOLDS(&c, .sex = "男"));
    pred_free(&a);
    pred_free(&b);
    pred_free(&c);
}

/* ---- §6 mcc, cc ---------------------------------------------------------- */

static void
test_mcc(void **state)
{
    struct pred p;
    (void)state;

    pred_load(&p, "{'op':'mcc'}", NULL);
    assert_true(HOLDS(&p, .dx = "Z99|M1"));     /* no table: every MCC */
    assert_true(HOLDS(&p, .dx = "|M1"));
    assert_false(HOLDS(&p, .dx = "E1|M1"));     /* table 1 == table 1 */
    assert_true(HOLDS(&p, .dx = "E1|M2"));      /* table 2 != table 1 */
    assert_true(HOLDS(&p, .dx = "E1|M1|M2"));
    assert_true(HOLDS(&p, .dx = "E1|M2|M1"));
    assert_false(HOLDS(&p, .dx = "E1|M1|M1"));
    assert_true(HOLDS(&p, .dx = "Z99|M1|M1"));
    assert_true(HOLDS(&p, .dx = "E1|M3"));      /* "01" != "1": strings */
    assert_false(HOLDS(&p, .dx = "E2|M2"));
    assert_false(HOLDS(&p, .dx = "M1"));        /* never its own MCC */
    assert_false(HOLDS(&p, .dx = "M2"));
    assert_false(HOLDS(&p, .dx = "M1|M1"));     /* M1's own table is 1 */
    assert_true(HOLDS(&p, .dx = "M2|M2"));      /* M2 has no table */
    assert_false(HOLDS(&p, .dx = "Z99|C1"));    /* a CC is not an MCC */
    assert_false(HOLDS(&p, .dx = "Z99|m1"));
    assert_false(HOLDS(&p, .dx = "Z99| M1"));
    pred_free(&p);
}

static void
test_cc(void **state)
{
    struct pred p, any;
    (void)state;

    pred_load(&p, "{'op':'cc'}", NULL);
    assert_true(HOLDS(&p, .dx = "Z99|C1"));
    assert_false(HOLDS(&p, .dx = "Z99|M1"));    /* MCC does not make cc */
    assert_false(HOLDS(&p, .dx = "E1|C1"));
    assert_true(HOLDS(&p, .dx = "E1|C2"));
    assert_true(HOLDS(&p, .dx = "E1|C1|C2"));
    assert_false(HOLDS(&p, .dx = "C1"));
    assert_false(HOLDS(&p, .dx = "C1|Z99"));
    assert_false(HOLDS(&p, .dx = "E1|M2"));
    assert_true(HOLDS(&p, .dx = "C2|C2"));

    pred_load(&any, "{'op':'any','args':[{'op':'mcc'},{'op':'cc'}]}", NULL);
    assert_true(HOLDS(&any, .dx = "Z99|C1"));
    assert_true(HOLDS(&any, .dx = "Z99|M1"));
    assert_false(HOLDS(&any, .dx = "E1|M1|C1"));
    assert_false(HOLDS(&any, .dx = "Z99"));
    pred_free(&p);
    pred_free(&any);
}

/* ---- §7 lists_hit, count_in ---------------------------------------------- */

static void
test_lists_hit(void **state)
{
    struct pred p1, p2, p3;
    (void)state;

    pred_load(&p2, "{'op':'lists_hit','field':'dx',"
                   "'lists':['L1','L2','L3'],'min':2}", NULL);
    assert_false(HOLDS(&p2, .dx = "A01"));
    assert_false(HOLDS(&p2, .dx = "A01|A02"));  /* one list, two codes */
    assert_false(HOLDS(&p2, .dx = "A01|A01"));
    assert_true(HOLDS(&p2, .dx = "A01|B01"));
    assert_true(HOLDS(&p2, .dx = "B01|A01"));
    assert_true(HOLDS(&p2, .dx = "Z99|A01|C01"));
    assert_true(HOLDS(&p2, .dx = "D01"));       /* one code in L2 and L3 */
    assert_false(HOLDS(&p2, .dx = "|A01|"));
    assert_false(HOLDS(&p2, .dx = ""));
    assert_false(HOLDS(&p2, .dx = "Z99|01.01", .px = "01.01|01.02"));

    pred_load(&p1, "{'op':'lists_hit','field':'dx',"
                   "'lists':['L1','L2'],'min':1}", NULL);
    assert_true(HOLDS(&p1, .dx = "A01"));       /* principal counts */
    assert_true(HOLDS(&p1, .dx = "Z99|B01"));
    assert_false(HOLDS(&p1, .dx = "Z99|C01"));  /* L3 not in the lists */

    pred_load(&p3, "{'op':'lists_hit','field':'dx',"
                   "'lists':['L1','L2','L3'],'min':3}", NULL);
    assert_true(HOLDS(&p3, .dx = "A01|B01|C01"));
    assert_true(HOLDS(&p3, .dx = "A01|D01"));
    assert_false(HOLDS(&p3, .dx = "A01|B01|B01|A02"));
    pred_free(&p1);
    pred_free(&p2);
    pred_free(&p3);
}

static void
test_count_in(void **state)
{
    struct pred p1, p2;
    (void)state;

    pred_load(&p2, "{'op':'count_in','field':'dx','list':'L1','min':2}",
              NULL);
    assert_true(HOLDS(&p2, .dx = "A01|A01"));   /* duplicates count */
    assert_true(HOLDS(&p2, .dx = "A01|A02"));
    assert_true(HOLDS(&p2, .dx = "Z99|A01|Z99|A02"));
    assert_false(HOLDS(&p2, .dx = "A01"));
    assert_false(HOLDS(&p2, .dx = "B01|A01"));
    assert_false(HOLDS(&p2, .dx = "A01||"));
    assert_false(HOLDS(&p2, .dx = ""));

    pred_load(&p1, "{'op':'count_in','field':'dx','list':'L1','min':1}",
              NULL);
    assert_true(HOLDS(&p1, .dx = "Z99|A01"));
    assert_true(HOLDS(&p1, .dx = "A01"));
    assert_false(HOLDS(&p1, .dx = "Z99|B01"));
    pred_free(&p1);
    pred_free(&p2);
}

/* ---- §8.1 checks --------------------------------------------------------- */

#define CHS_CHECKS                                                        \
    "[{'status':'CHECK_FAILED','message':'病人性别为空',"                  \
    "  'when':{'op':'empty','field':'sex'}},"                             \
    " {'status':'CHECK_FAILED','message':'新生儿的出生体重必须有值',"      \
    "  'when':{'op':'all','args':["                                       \
    "    {'op':'num','field':'age','cmp':'==','value':0},"                \
    "    {'op':'num','field':'age_days','cmp':'<=','value':28},"          \
    "    {'op':'num','field':'weight','cmp':'==','value':0}]}}]"

static void
check_failed_at(struct pred *p, const struct rec *r,
                enum cb_drg_translate tr, int want_check, int line)
{
    struct cb_drg_input in;
    struct cb_drg_result res;
    struct sch *x = &p->v[0];

    cb_drg_work_trace(&x->w, true);
    sch_group(x, r, tr, &in, &res);
    cb_drg_work_trace(&x->w, false);
    expect_res_at(&res, CB_DRG_CHECK_FAILED, "0000", "00", "0000", line);
    if (x->w.trace.check != want_check)
        fail_msg("line %d: trace.check %d, want %d", line, x->w.trace.check,
                 want_check);
}

#define CHECK_FAILS(p, n, ...) \
    check_failed_at((p), REC(__VA_ARGS__), CB_DRG_TR_OFF, (n), __LINE__)

static void
test_checks(void **state)
{
    struct pred_opts o = { CHS_CHECKS,
                           "[{'field':'sex','op':'map',"
                           "'map':{'男':'1','女':'2'}}]", false };
    struct pred p;
    (void)state;

    /* AA11 when sex is 1 after normalisation; the record would match */
    pred_load(&p, "{'op':'str_eq','field':'sex','value':'1'}", &o);
    CHECK_FAILS(&p, 0, .sex = "", .dx = "A01");
    assert_false(HOLDS(&p, .sex = " "));      /* not empty: passes */
    assert_true(HOLDS(&p, .sex = "男"));      /* checked raw, then mapped */
    CHECK_FAILS(&p, 1, .age = "0", .age_days = "10", .weight = "");
    CHECK_FAILS(&p, 1, .age = "0", .age_days = "28", .weight = "0");
    CHECK_FAILS(&p, 1, .age = "", .age_days = "", .weight = "");
    CHECK_FAILS(&p, 1, .age = " 0 ", .age_days = "-3", .weight = "0.0");
    CHECK_FAILS(&p, 0, .sex = "", .age = "0", .age_days = "1"); /* order */
    assert_true(HOLDS(&p, .age = "0", .age_days = "10", .weight = "3000"));
    assert_true(HOLDS(&p, .age = "0", .age_days = "29", .weight = ""));
    assert_true(HOLDS(&p, .age = "1", .age_days = "", .weight = ""));
    /* NaN == 0 is false, so a non-numeric value passes the check */
    assert_true(HOLDS(&p, .age = "abc", .age_days = "", .weight = ""));
    assert_true(HOLDS(&p, .age = "0", .age_days = "x", .weight = ""));
    assert_true(HOLDS(&p, .age = "0", .age_days = "10", .weight = "n/a"));
    pred_free(&p);
}

static void
test_checks_before_normalize(void **state)
{
    struct pred_opts o1 = { "[{'status':'CHECK_FAILED','message':'x',"
                            "'when':{'op':'empty','field':'sex'}}]",
                            "[{'field':'sex','op':'map','map':{'9':''}}]",
                            false };
    struct pred_opts o2 = { "[{'status':'CHECK_FAILED','message':'x',"
                            "'when':{'op':'str_eq','field':'sex',"
                            "'value':'男'}}]",
                            "[{'field':'sex','op':'map','map':{'男':'1'}}]",
                            false };
    struct pred p1, p2;
    (void)state;

    /* "9" passes the emptiness check and only then becomes "" */
    pred_load(&p1, "{'op':'empty','field':'sex'}", &o1);
    assert_true(HOLDS(&p1, .sex = "9"));
    assert_false(HOLDS(&p1, .sex = "1"));
    CHECK_FAILS(&p1, 0, .sex = "");
    /* the check sees the raw 男 */
    pred_load(&p2, "{'op':'str_eq','field':'sex','value':'1'}", &o2);
    CHECK_FAILS(&p2, 0, .sex = "男");
    assert_true(HOLDS(&p2, .sex = "1"));
    pred_free(&p1);
    pred_free(&p2);
}

/* ---- §9 search, §10 results --------------------------------------------- */

static void
test_mdc_fallthrough(void **state)
{
    struct sch x;
    (void)state;

    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCA','when':{'op':'pdx_in','list':'L1'},'rules':["
             "   {'id':'AA1','adrg':'AA1','when':{'op':'ppx_in','list':'P1'},"
             "    'drgs':['AA11']},"
             "   {'id':'AB1','adrg':'AB1','when':{'op':'sdx_any_in',"
             "    'list':'L2'},'drgs':['AB11']}]},"
             " {'mdc':'MDCB','when':{'op':'dx_any_in','list':'L1'},'rules':["
             "   {'id':'BB1','adrg':'BB1','when':" T ",'drgs':['BB19']}]},"
             " {'mdc':'MDCC','when':" T ",'rules':["
             "   {'id':'CB1','adrg':'CB1','when':{'op':'ppx_in','list':'P1'},"
             "    'drgs':['CB19']}]},"
             " {'mdc':'MDCD','when':" T ",'rules':["
             "   {'id':'DB1','adrg':'DB1','when':{'op':'sdx_any_in',"
             "    'list':'L3'},'drgs':['DB19']}]}]",
             "{'AA11':{'when':" T "},'AB11':{'when':" T "},"
             " 'BB19':{'when':" T "},'CB19':{'when':" T "},"
             " 'DB19':{'when':" T "}}", false);
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA11", .dx = "A01",
          .px = "01.01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AB1", "AB11", .dx = "A01|B01");
    /* enters MDCA, no rule matches: on to MDCB */
    GROUP(&x, CB_DRG_SUCCESS, "MDCB", "BB1", "BB19", .dx = "A01");
    /* MDCB's entry fails, MDCC enters and falls through, MDCD matches */
    GROUP(&x, CB_DRG_SUCCESS, "MDCD", "DB1", "DB19", .dx = "Z99|C01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCC", "CB1", "CB19", .dx = "Z99",
          .px = "01.02");
    /* every MDC entered or not, none matches */
    GROUP(&x, CB_DRG_FAIL, "0000", "00", "0000", .dx = "Z99");
    GROUP(&x, CB_DRG_FAIL, "0000", "00", "0000", .dx = "", .px = "");
    sch_free(&x);
}

static void
test_rule_order(void **state)
{
    struct sch x;
    (void)state;

    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCA','when':" T ",'rules':["
             "  {'id':'AA1','adrg':'AA1','when':{'op':'pdx_in','list':'L1'},"
             "   'drgs':['AA11']},"
             "  {'id':'AD1_1','adrg':'AD1','when':{'op':'pdx_in',"
             "   'list':'L3'},'drgs':['AD19']},"
             "  {'id':'AD1_2','adrg':'AD1','when':{'op':'ppx_in',"
             "   'list':'P1'},'drgs':['AD19']},"
             "  {'id':'AB1','adrg':'AB1','when':{'op':'dx_any_in',"
             "   'list':'L1'},'drgs':['AB19']},"
             "  {'id':'AC1','adrg':'AC1','when':" T ",'drgs':['AC19']}]}]",
             "{'AA11':{'when':{'op':'mcc'}},'AD19':{'when':" T "},"
             " 'AB19':{'when':" T "},'AC19':{'when':" T "}}", false);
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA11", .dx = "A01|M2");
    /* the first rule that holds is final even when none of its DRGs holds */
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA1", .dx = "A01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA1", .dx = "A01",
          .px = "01.01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AD1", "AD19", .dx = "C01|A01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AD1", "AD19", .dx = "Z99",
          .px = "01.01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AB1", "AB19", .dx = "B01|A01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AC1", "AC19", .dx = "B01");
    sch_free(&x);
}

static void
test_drg_split_order(void **state)
{
    struct cb_drg_input in;
    struct cb_drg_result res;
    struct sch x;
    (void)state;

    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCA','when':" T ",'rules':["
             "  {'id':'AA1','adrg':'AA1','when':{'op':'pdx_in','list':'L1'},"
             "   'drgs':['AA11','AA13','AA15']},"
             "  {'id':'AB1','adrg':'AB1','when':{'op':'pdx_in','list':'L2'},"
             "   'drgs':['AB15','AB11']},"
             "  {'id':'AC1','adrg':'AC1','when':" T ","
             "   'drgs':['AC11','AC13','AC15']}]}]",
             "{'AA11':{'when':{'op':'mcc'}},"
             " 'AA13':{'when':{'op':'any','args':[{'op':'mcc'},{'op':'cc'}]}},"
             " 'AA15':{'when':" T "},"
             " 'AB15':{'when':" T "},'AB11':{'when':{'op':'mcc'}},"
             " 'AC11':{'when':{'op':'mcc'}},"
             " 'AC13':{'when':{'op':'any','args':[{'op':'mcc'},{'op':'cc'}]}},"
             " 'AC15':{'when':" T "}}", false);
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA11", .dx = "A01|M1");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA11", .dx = "A01|C1|M2");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA13", .dx = "A01|C1");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AA1", "AA15", .dx = "A01");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AB1", "AB15", .dx = "B01|M2");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AC1", "AC15", .dx = "E1|M1");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AC1", "AC13", .dx = "E1|M1|C2");
    GROUP(&x, CB_DRG_SUCCESS, "MDCA", "AC1", "AC11", .dx = "E2|M1|C2");

    /* result.mcc / result.cc (§6) */
    sch_group(&x, REC(.dx = "Z99|M1|C1"), CB_DRG_TR_OFF, &in, &res);
    EXPECT_RES(&res, CB_DRG_SUCCESS, "MDCA", "AC1", "AC11");
    assert_true(res.mcc);
    assert_true(res.cc);
    assert_int_equal(res.unmapped_pos, -1);
    sch_group(&x, REC(.dx = "Z99|C1"), CB_DRG_TR_OFF, &in, &res);
    assert_false(res.mcc);
    assert_true(res.cc);
    sch_group(&x, REC(.dx = "E1|M1|C1"), CB_DRG_TR_OFF, &in, &res);
    EXPECT_RES(&res, CB_DRG_SUCCESS, "MDCA", "AC1", "AC15");
    assert_false(res.mcc);
    assert_false(res.cc);
    sch_free(&x);
}

static void
test_no_split_gives_adrg(void **state)
{
    struct sch x;
    (void)state;

    /* bj-drg-2022 style length-of-stay bands without a catch-all */
    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCR','when':" T ",'rules':["
             "  {'id':'RC1','adrg':'RC1','when':" T ","
             "   'drgs':['RC12','RC14']}]}]",
             "{'RC12':{'when':{'op':'all','args':["
             "   {'op':'num','field':'los','cmp':'>=','value':1},"
             "   {'op':'num','field':'los','cmp':'<=','value':5}]}},"
             " 'RC14':{'when':{'op':'num','field':'los','cmp':'>',"
             "   'value':5}}}", false);
    GROUP(&x, CB_DRG_SUCCESS, "MDCR", "RC1", "RC12", .los = "3");
    GROUP(&x, CB_DRG_SUCCESS, "MDCR", "RC1", "RC14", .los = "9");
    GROUP(&x, CB_DRG_SUCCESS, "MDCR", "RC1", "RC1", .los = "");
    GROUP(&x, CB_DRG_SUCCESS, "MDCR", "RC1", "RC1", .los = "0");
    GROUP(&x, CB_DRG_SUCCESS, "MDCR", "RC1", "RC1", .los = "abc");
    sch_free(&x);
}

static void
test_to_result(void **state)
{
    struct sch x;
    (void)state;

    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCA','when':{'op':'dx_any_in','list':'L1'},'rules':["
             "  {'id':'A00','adrg':'A00','when':{'op':'pdx_in','list':'L1'},"
             "   'drgs':['A001']},"
             "  {'id':'AQY','adrg':'AQY','when':{'op':'pdx_in','list':'L2'},"
             "   'drgs':['AQY1']},"
             "  {'id':'A0X','adrg':'A00','when':{'op':'pdx_in','list':'L3'},"
             "   'drgs':['A009']}]},"
             " {'mdc':'MDCX','when':{'op':'str_eq','field':'sex',"
             "   'value':'2'},'rules':["
             "  {'id':'KB1','adrg':'KB1','when':" T ",'drgs':['KB19']}]}]",
             "{'A001':{'when':" T "},'AQY1':{'when':{'op':'mcc'}},"
             " 'A009':{'when':{'op':'mcc'}},'KB19':{'when':" T "}}", false);
    GROUP(&x, CB_DRG_FAIL, "MDCA", "00", "A001", .dx = "A01");
    GROUP(&x, CB_DRG_QY, "MDCA", "QY", "AQY", .dx = "B01|A01");
    GROUP(&x, CB_DRG_QY, "MDCA", "QY", "AQY1", .dx = "B01|A01|M2");
    GROUP(&x, CB_DRG_FAIL, "MDCA", "00", "A00", .dx = "C01|A01");
    /* the output MDC is "MDC" + the code's first letter */
    GROUP(&x, CB_DRG_SUCCESS, "MDCK", "KB1", "KB19", .dx = "Z99",
          .sex = "2");
    GROUP(&x, CB_DRG_FAIL, "0000", "00", "0000", .dx = "Z99", .sex = "1");
    sch_free(&x);
}

static void
test_status_names(void **state)
{
    static const struct {
        enum cb_drg_status st;
        const char *name, *zh;
    } t[] = {
        { CB_DRG_SUCCESS, "SUCCESS", "分组成功" },
        { CB_DRG_FAIL, "FAIL", "无法入组" },
        { CB_DRG_QY, "QY", "歧义病案" },
        { CB_DRG_CHECK_FAILED, "CHECK_FAILED", "信息校验不通过" },
        { CB_DRG_ZD_NOT_MAPPING, "ZD_NOT_MAPPING",
          "诊断不能转换为分组器支持的编码" },
        { CB_DRG_SS_NOT_MAPPING, "SS_NOT_MAPPING",
          "手术操作不能转换为分组器支持的编码" },
    };
    enum cb_drg_status st;
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_string_equal(cb_drg_status_name(t[i].st), t[i].name);
        assert_string_equal(cb_drg_status_zh(t[i].st), t[i].zh);
        assert_true(cb_drg_status_parse(cb_str_c(t[i].name), &st));
        assert_int_equal(st, t[i].st);
    }
    assert_false(cb_drg_status_parse(cb_str_c("BOGUS"), &st));
    assert_false(cb_drg_status_parse(cb_str_c(""), &st));
    assert_false(cb_drg_status_parse(cb_str_c("SUCCESS "), &st));
}

/* ---- §11 translation ----------------------------------------------------- */

static void
expect_unmapped_at(struct sch *x, const struct rec *r,
                   enum cb_drg_translate tr, enum cb_drg_status st, int pos,
                   const char *code, int line)
{
    struct cb_drg_input in;
    struct cb_drg_result res;

    sch_group(x, r, tr, &in, &res);
    expect_res_at(&res, st, "0000", "00", "0000", line);
    if (res.unmapped_pos != pos || !cb_str_eqz(res.unmapped_code, code))
        fail_msg("line %d: unmapped %d \"%.*s\", want %d \"%s\"", line,
                 res.unmapped_pos, (int)res.unmapped_code.len,
                 res.unmapped_code.ptr ? res.unmapped_code.ptr : "",
                 pos, code);
}

#define UNMAPPED(x, tr, st, pos, code, ...) \
    expect_unmapped_at((x), REC(__VA_ARGS__), (tr), (st), (pos), (code), \
                       __LINE__)

static void
test_translate_source(void **state)
{
    struct pred_opts o = { CHS_CHECKS, NULL, true };
    struct pred pdx, sdx, ppx;
    struct sch *x;
    (void)state;

    pred_load(&pdx, "{'op':'pdx_in','list':'L1'}", &o);
    pred_load(&sdx, "{'op':'sdx_any_in','list':'L1'}", &o);
    pred_load(&ppx, "{'op':'ppx_in','list':'P1'}", &o);
    x = &pdx.v[0];
    assert_true(cb_drg_scheme_has_maps(x->s));

    assert_true(HOLDS_TR(&pdx, CB_DRG_TR_SOURCE, .dx = "a01", .px = "p1"));
    assert_true(HOLDS_TR(&ppx, CB_DRG_TR_SOURCE, .dx = "a01", .px = "p1"));
    assert_false(HOLDS_TR(&pdx, CB_DRG_TR_SOURCE, .dx = "B01|a01",
                          .px = "01.01"));
    assert_true(HOLDS_TR(&sdx, CB_DRG_TR_SOURCE, .dx = "B01|a01",
                         .px = "01.01"));
    /* map targets are not trimmed: k1 -> " A01" */
    assert_false(HOLDS_TR(&pdx, CB_DRG_TR_SOURCE, .dx = "k1", .px = "01.01"));

    /* no procedures: px = [""], and "" is not in the map */
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_SS_NOT_MAPPING, 0, "", .dx = "A01",
             .px = "");
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_SS_NOT_MAPPING, 1, "",
             .dx = "A01", .px = "01.01|");
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_SS_NOT_MAPPING, 1, "98.01",
             .dx = "A01", .px = "01.01|98.01");
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_ZD_NOT_MAPPING, 0, "Q1",
             .dx = "Q1|A01", .px = "01.01");
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_ZD_NOT_MAPPING, 1, "Q1",
             .dx = "A01|Q1", .px = "01.01");
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_ZD_NOT_MAPPING, 0, "", .dx = "",
             .px = "01.01");
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_ZD_NOT_MAPPING, 0, " A01",
             .dx = " A01", .px = "01.01");
    /* diagnoses first, and translation comes before the checks */
    UNMAPPED(x, CB_DRG_TR_SOURCE, CB_DRG_ZD_NOT_MAPPING, 1, "Q1",
             .dx = "A01|Q1", .px = "", .sex = "");
    check_failed_at(&pdx, REC(.dx = "a01", .px = "p1", .sex = ""),
                    CB_DRG_TR_SOURCE, 0, __LINE__);

    /* the first-position chain rule: [X1, X2] -> [X2, X2] -> [A01, X2] */
    assert_true(HOLDS_TR(&pdx, CB_DRG_TR_SOURCE, .dx = "X1|X2",
                         .px = "01.01"));
    assert_false(HOLDS_TR(&sdx, CB_DRG_TR_SOURCE, .dx = "X1|X2",
                          .px = "01.01"));
    /* [X2, X1] -> [A01, X1] -> [A01, X2]: no oddity */
    assert_true(HOLDS_TR(&pdx, CB_DRG_TR_SOURCE, .dx = "X2|X1",
                         .px = "01.01"));
    assert_false(HOLDS_TR(&sdx, CB_DRG_TR_SOURCE, .dx = "X2|X1",
                          .px = "01.01"));
    /* procedures: [q1, q2] -> [q2, q2] -> [01.01, q2] */
    assert_true(HOLDS_TR(&ppx, CB_DRG_TR_SOURCE, .dx = "A01",
                         .px = "q1|q2"));
    assert_false(HOLDS_TR(&ppx, CB_DRG_TR_SOURCE, .dx = "A01",
                          .px = "q1|q1"));
    pred_free(&pdx);
    pred_free(&sdx);
    pred_free(&ppx);
}

static void
test_translate_codes(void **state)
{
    struct pred_opts o = { NULL, NULL, true };
    struct pred pdx, sdx, ppx, pxa;
    struct cb_drg_input in;
    struct cb_drg_result res;
    struct sch *x;
    (void)state;

    pred_load(&pdx, "{'op':'pdx_in','list':'L1'}", &o);
    pred_load(&sdx, "{'op':'sdx_any_in','list':'L1'}", &o);
    pred_load(&ppx, "{'op':'ppx_in','list':'P1'}", &o);
    pred_load(&pxa, "{'op':'px_any_in','list':'P1'}", &o);
    x = &pdx.v[0];

    /* empty codes pass; otherwise §11 as written (spec c.5.2) */
    assert_true(HOLDS_TR(&pdx, CB_DRG_TR_CODES, .dx = "a01", .px = ""));
    assert_true(HOLDS_TR(&pdx, CB_DRG_TR_CODES, .dx = "a01||", .px = "|"));
    assert_true(HOLDS_TR(&sdx, CB_DRG_TR_CODES, .dx = "B01||a01"));
    assert_false(HOLDS_TR(&pdx, CB_DRG_TR_CODES, .dx = "", .px = ""));
    assert_false(HOLDS_TR(&pdx, CB_DRG_TR_CODES, .dx = "k1"));
    /* the first-position chain rule, as §11: [X1, X2] -> [X2, X2] -> [A01, X2] */
    assert_true(HOLDS_TR(&pdx, CB_DRG_TR_CODES, .dx = "X1|X2"));
    assert_false(HOLDS_TR(&sdx, CB_DRG_TR_CODES, .dx = "X1|X2"));
    /* [q1, q2] -> [q2, q2] -> [01.01, q2] */
    assert_true(HOLDS_TR(&ppx, CB_DRG_TR_CODES, .px = "q1|q2"));
    assert_true(HOLDS_TR(&pxa, CB_DRG_TR_CODES, .px = "q1|q2"));
    /* the chain only reaches earlier positions through non-empty codes */
    assert_true(HOLDS_TR(&sdx, CB_DRG_TR_CODES, .dx = "|X2|X1"));
    assert_true(HOLDS_TR(&ppx, CB_DRG_TR_CODES, .px = "p1|"));

    UNMAPPED(x, CB_DRG_TR_CODES, CB_DRG_ZD_NOT_MAPPING, 1, "Q1",
             .dx = "A01|Q1", .px = "");
    UNMAPPED(x, CB_DRG_TR_CODES, CB_DRG_ZD_NOT_MAPPING, 2, "Q1",
             .dx = "A01||Q1", .px = "98.01");
    UNMAPPED(x, CB_DRG_TR_CODES, CB_DRG_SS_NOT_MAPPING, 1, "98.01",
             .dx = "A01", .px = "01.01|98.01");
    UNMAPPED(x, CB_DRG_TR_CODES, CB_DRG_SS_NOT_MAPPING, 0, "p1 ",
             .dx = "A01", .px = "p1 ");

    /* the input views are borrowed, not rewritten */
    sch_group(x, REC(.dx = "X1|X2", .px = "q1"), CB_DRG_TR_CODES, &in, &res);
    assert_true(cb_str_eqz(in.dx[0], "X1"));
    assert_true(cb_str_eqz(in.dx[1], "X2"));
    assert_true(cb_str_eqz(in.px[0], "q1"));
    assert_int_equal(res.unmapped_pos, -1);
    assert_int_equal(res.unmapped_code.len, 0);
    pred_free(&pdx);
    pred_free(&sdx);
    pred_free(&ppx);
    pred_free(&pxa);
}

static void
test_translate_off(void **state)
{
    struct pred_opts o = { NULL, NULL, true };
    struct pred pdx;
    struct cb_drg_input in;
    struct cb_drg_result res;
    (void)state;

    pred_load(&pdx, "{'op':'pdx_in','list':'L1'}", &o);
    assert_false(HOLDS(&pdx, .dx = "a01", .px = "p1"));
    assert_true(HOLDS(&pdx, .dx = "A01", .px = ""));
    assert_false(HOLDS(&pdx, .dx = "X1|X2"));
    /* unmapped codes are no error when translation is off */
    sch_group(&pdx.v[0], REC(.dx = "Q1", .px = "98.01"), CB_DRG_TR_OFF, &in,
              &res);
    EXPECT_RES(&res, CB_DRG_SUCCESS, "MDCB", "BB1", "BB19");
    assert_int_equal(res.unmapped_pos, -1);
    pred_free(&pdx);
}

/* ---- trace and explanation ----------------------------------------------- */

static const char TRACE_MDCS[] =
    "[{'mdc':'MDCC','when':{'op':'pdx_in','list':'L2'},'rules':["
    "   {'id':'CC1','adrg':'CC1','when':" T ",'drgs':['CC19']}]},"
    " {'mdc':'MDCA','when':{'op':'pdx_in','list':'L1'},'rules':["
    "   {'id':'AA1','adrg':'AA1','when':{'op':'ppx_in','list':'P1'},"
    "    'drgs':['AA19']}]},"
    " {'mdc':'MDCB','when':{'op':'dx_any_in','list':'L1'},'rules':["
    "   {'id':'BA1','adrg':'BA1','when':{'op':'str_eq','field':'sex',"
    "    'value':'2'},'drgs':['BA19']},"
    "   {'id':'BB1_2','adrg':'BB1','when':" T ","
    "    'drgs':['BB11','BB13','BB15']}]},"
    " {'mdc':'MDCD','when':" T ",'rules':["
    "   {'id':'DD1','adrg':'DD1','when':" T ",'drgs':['DD19']}]}]";

static const char TRACE_DRGS[] =
    "{'CC19':{'when':" T "},'AA19':{'when':" T "},'BA19':{'when':" T "},"
    " 'BB11':{'when':{'op':'all','args':[{'op':'mcc'},"
    "   {'op':'num','field':'age','cmp':'>','value':60}]}},"
    " 'BB13':{'when':{'op':'any','args':[{'op':'mcc'},{'op':'cc'}]}},"
    " 'BB15':{'when':" T "},'DD19':{'when':" T "}}";

static void
expect_text(const char *what, const char *text, const char *const *needles)
{
    int bad = 0;

    for (; *needles; needles++)
        if (!strstr(text, *needles)) {
            print_error("%s explanation lacks \"%s\"\n", what, *needles);
            bad++;
        }
    if (bad)
        fail_msg("%s explanation:\n%s", what, text);
}

/* The line of text that first names what must also name also. */
static void
expect_on_line(const char *lang, const char *text, const char *what,
               const char *also)
{
    const char *at = strstr(text, what), *bol, *eol;

    if (!at)
        fail_msg("%s explanation lacks \"%s\"", lang, what);
    for (bol = at; bol > text && bol[-1] != '\n'; bol--)
        ;
    eol = at + strcspn(at, "\n");
    for (; bol + strlen(also) <= eol; bol++)
        if (strncmp(bol, also, strlen(also)) == 0)
            return;
    fail_msg("%s explanation: the line naming %s does not name %s:\n%s",
             lang, what, also, text);
}

static void
test_trace(void **state)
{
    static const char *const needles[] = {
        "MDCC", "MDCA", "MDCB", "BB1_2", "BB13", "J96.000", "I50.000", "417",
        NULL
    };
    struct cb_buf en = CB_BUF_INIT, zh = CB_BUF_INIT, js = CB_BUF_INIT;
    const struct rec *r = REC(.dx = "I21.000|I50.000|J96.000", .px = "",
                              .age = "40");
    struct cb_drg_input in;
    struct cb_drg_result off, on;
    struct cb_drg_trace *t;
    struct sch x;
    json_error_t jerr;
    json_t *doc;
    (void)state;

    sch_load(&x, NULL, NULL, TRACE_MDCS, TRACE_DRGS, false);
    t = &x.w.trace;
    sch_group(&x, r, CB_DRG_TR_OFF, &in, &off);
    EXPECT_RES(&off, CB_DRG_SUCCESS, "MDCB", "BB1", "BB13");
    assert_true(off.mcc);

    cb_drg_work_trace(&x.w, true);
    sch_group(&x, r, CB_DRG_TR_OFF, &in, &on);
    EXPECT_RES(&on, CB_DRG_SUCCESS, "MDCB", "BB1", "BB13");
    assert_int_equal(on.mcc, off.mcc);
    assert_int_equal(on.cc, off.cc);
    assert_int_equal(on.unmapped_pos, off.unmapped_pos);

    assert_int_equal(t->check, -1);
    assert_int_equal(t->nmdc, 3);
    assert_string_equal(cb_drg_mdc_code(x.s, t->mdc[0].mdc), "MDCC");
    assert_false(t->mdc[0].entered);
    assert_int_equal(t->mdc[0].rule, -1);
    assert_int_equal(t->mdc[0].rules_tried, 0);
    assert_string_equal(cb_drg_mdc_code(x.s, t->mdc[1].mdc), "MDCA");
    assert_true(t->mdc[1].entered);
    assert_int_equal(t->mdc[1].rule, -1);          /* fell through */
    assert_int_equal(t->mdc[1].rules_tried, 1);
    assert_string_equal(cb_drg_mdc_code(x.s, t->mdc[2].mdc), "MDCB");
    assert_true(t->mdc[2].entered);
    assert_int_equal(t->mdc[2].rules_tried, 2);
    assert_true(t->mdc[2].rule >= 0);
    assert_string_equal(cb_drg_rule_id(x.s, t->mdc[2].rule), "BB1_2");
    assert_string_equal(cb_drg_rule_adrg(x.s, t->mdc[2].rule), "BB1");

    assert_int_equal(t->nsplit, 2);
    assert_string_equal(cb_drg_drg_code(x.s, t->split[0].drg), "BB11");
    assert_false(t->split[0].held);
    assert_string_equal(cb_drg_drg_code(x.s, t->split[1].drg), "BB13");
    assert_true(t->split[1].held);

    assert_string_equal(cb_drg_table_name(x.s, t->principal_table), "417");
    assert_int_equal(t->ncc, 2);
    assert_int_equal(t->cc[0].pos, 1);
    assert_int_equal(t->cc[0].level, 2);
    assert_true(t->cc[0].excluded);
    assert_string_equal(cb_drg_table_name(x.s, t->cc[0].table), "417");
    assert_int_equal(t->cc[1].pos, 2);
    assert_int_equal(t->cc[1].level, 2);
    assert_false(t->cc[1].excluded);
    assert_string_equal(cb_drg_table_name(x.s, t->cc[1].table), "523");

    assert_int_equal(cb_drg_explain(x.s, &in, &x.w, &on, "en", &en), CB_OK);
    assert_int_equal(cb_drg_explain(x.s, &in, &x.w, &on, "zh", &zh), CB_OK);
    if (getenv("CB_TEST_VERBOSE")) {
        print_message("%s\n", cb_buf_cstr(&en));
        print_message("%s\n", cb_buf_cstr(&zh));
    }
    expect_text("en", cb_buf_cstr(&en), needles);
    expect_text("zh", cb_buf_cstr(&zh), needles);
    /* each CC/MCC secondary is named on a line with its own table */
    expect_on_line("en", cb_buf_cstr(&en), "I50.000", "417");
    expect_on_line("zh", cb_buf_cstr(&zh), "I50.000", "417");
    expect_on_line("en", cb_buf_cstr(&en), "J96.000", "523");
    expect_on_line("zh", cb_buf_cstr(&zh), "J96.000", "523");
    assert_string_not_equal(cb_buf_cstr(&en), cb_buf_cstr(&zh));
    assert_int_equal(cb_drg_explain_json(x.s, &in, &x.w, &on, &js), CB_OK);
    doc = json_loads(cb_buf_cstr(&js), 0, &jerr);
    if (!doc)
        fail_msg("explain_json is not JSON (%s): %s", jerr.text,
                 cb_buf_cstr(&js));
    assert_true(json_is_object(doc));
    json_decref(doc);
    assert_non_null(strstr(cb_buf_cstr(&js), "BB13"));

    /* the next record resets the trace */
    sch_group(&x, REC(.dx = "B01|C1"), CB_DRG_TR_OFF, &in, &on);
    EXPECT_RES(&on, CB_DRG_SUCCESS, "MDCC", "CC1", "CC19");
    assert_int_equal(t->nmdc, 1);
    assert_true(t->mdc[0].entered);
    assert_string_equal(cb_drg_rule_id(x.s, t->mdc[0].rule), "CC1");
    assert_int_equal(t->nsplit, 1);
    assert_true(t->split[0].held);
    assert_int_equal(t->principal_table, -1);
    assert_true(on.cc);

    cb_buf_release(&en);
    cb_buf_release(&zh);
    cb_buf_release(&js);
    sch_free(&x);
}

/* Results with the trace on equal those with it off, for many records. */
static void
test_trace_same_result(void **state)
{
    static const char *const dx[] = {
        "I21.000|I50.000|J96.000", "B01", "A01", "A01|M2|C1", "Z99", "",
        "I21.000|C2", "A02|I50.000", "|A01", "D01|A01",
    };
    static const char *const age[] = { "40", "70", "", "abc" };
    struct cb_drg_input in;
    struct cb_drg_result a, b;
    struct sch x;
    size_t i, j;
    (void)state;

    sch_load(&x, NULL, NULL, TRACE_MDCS, TRACE_DRGS, false);
    for (i = 0; i < sizeof(dx) / sizeof(dx[0]); i++) {
        for (j = 0; j < sizeof(age) / sizeof(age[0]); j++) {
            const struct rec *r = REC(.dx = dx[i], .age = age[j],
                                      .sex = j == 3 ? "2" : "1",
                                      .px = j == 2 ? "01.01" : "");
            cb_drg_work_trace(&x.w, false);
            sch_group(&x, r, CB_DRG_TR_OFF, &in, &a);
            cb_drg_work_trace(&x.w, true);
            sch_group(&x, r, CB_DRG_TR_OFF, &in, &b);
            if (a.status != b.status || strcmp(a.mdc, b.mdc) != 0 ||
                strcmp(a.adrg, b.adrg) != 0 || strcmp(a.drg, b.drg) != 0 ||
                a.mcc != b.mcc || a.cc != b.cc)
                fail_msg("dx \"%s\" age \"%s\": off %s/%s/%s, on %s/%s/%s",
                         dx[i], age[j], a.mdc, a.adrg, a.drg, b.mdc, b.adrg,
                         b.drg);
        }
    }
    sch_free(&x);
}

/* ---- no allocation per record -------------------------------------------- */

struct own_input {
    struct cb_drg_input in;
    struct cb_str dx[8], px[8];
};

/* An input whose code arrays live outside the work. */
static void
own_input(struct own_input *o, const struct rec *r)
{
    const char *f[2] = { or_(r->dx, ""), or_(r->px, "") };
    int k;

    memset(o, 0, sizeof(*o));
    o->in.index = cb_str_c("R1");
    o->in.sex = cb_str_c(or_(r->sex, "1"));
    o->in.age = cb_str_c(or_(r->age, "40"));
    o->in.age_days = o->in.weight = o->in.dept = o->in.los =
        o->in.leaving_type = cb_str_c("");
    for (k = 0; k < 2; k++) {
        struct cb_str *v = k ? o->px : o->dx;
        const char *p = f[k];
        int n = 0;

        for (;;) {
            size_t len = strcspn(p, "|");
            assert_true(n < 8);
            v[n++] = cb_str_make(p, len);
            if (!p[len])
                break;
            p += len + 1;
        }
        if (k) {
            o->in.px = o->px;
            o->in.npx = n;
        } else {
            o->in.dx = o->dx;
            o->in.ndx = n;
        }
    }
}

static void
test_no_alloc_per_record(void **state)
{
#ifdef HAVE_MALLOC_HOOKS
    static const struct rec recs[] = {
        { .dx = "I21.000|I50.000|J96.000" }, { .dx = "B01|C1" },
        { .dx = "A01|M2|C1|C2|M1", .px = "01.01|01.02" }, { .dx = "" },
        { .dx = "Z99|Z98|Z97|Z96|Z95|Z94|A01" }, { .dx = "A01", .age = "x" },
    };
    enum { NREC = sizeof(recs) / sizeof(recs[0]) };
    struct own_input o[NREC];
    struct cb_drg_result res;
    struct cb_drg_input in;
    struct pred_opts po = { CHS_CHECKS, NULL, true };
    struct pred tr;
    struct sch x;
    unsigned long before;
    int i, k;
    (void)state;

    sch_load(&x, CHS_CHECKS, NULL, TRACE_MDCS, TRACE_DRGS, false);
    pred_load(&tr, "{'op':'pdx_in','list':'L1'}", &po);
    for (i = 0; i < NREC; i++)
        own_input(&o[i], &recs[i]);
    hooks_on();
    for (k = 0; k < 2; k++) {
        cb_drg_work_trace(&x.w, k == 1);
        for (i = 0; i < NREC; i++)     /* warm-up */
            assert_int_equal(cb_drg_group(x.s, &o[i].in, CB_DRG_TR_OFF,
                                          &x.w, &res), CB_OK);
        before = g_mallocs;
        for (i = 0; i < 10000; i++)
            assert_int_equal(cb_drg_group(x.s, &o[i % NREC].in,
                                          CB_DRG_TR_OFF, &x.w, &res), CB_OK);
        if (g_mallocs != before)
            fail_msg("%lu allocations in 10,000 groupings (trace %s)",
                     g_mallocs - before, k ? "on" : "off");
    }
    /* with translation, and with the work's own split arrays */
    for (k = 0; k < 2; k++) {
        enum cb_drg_translate t = k ? CB_DRG_TR_CODES : CB_DRG_TR_SOURCE;
        for (i = 0; i < NREC; i++)
            assert_int_equal(cb_drg_group(tr.v[0].s, &o[i].in, t,
                                          &tr.v[0].w, &res), CB_OK);
        before = g_mallocs;
        for (i = 0; i < 10000; i++)
            assert_int_equal(cb_drg_group(tr.v[0].s, &o[i % NREC].in, t,
                                          &tr.v[0].w, &res), CB_OK);
        if (g_mallocs != before)
            fail_msg("%lu allocations in 10,000 translated groupings",
                     g_mallocs - before);
    }
    for (i = 0; i < NREC; i++) {       /* the split arrays grow once */
        rec_input(&x.w, &recs[i], &in);
        assert_int_equal(cb_drg_group(x.s, &in, CB_DRG_TR_OFF, &x.w, &res),
                         CB_OK);
    }
    before = g_mallocs;
    for (i = 0; i < 10000; i++) {
        rec_input(&x.w, &recs[i % NREC], &in);
        assert_int_equal(cb_drg_group(x.s, &in, CB_DRG_TR_OFF, &x.w, &res),
                         CB_OK);
    }
    if (g_mallocs != before)
        fail_msg("%lu allocations in 10,000 split+group calls",
                 g_mallocs - before);
    pred_free(&tr);
    sch_free(&x);
#else
    /* Without the sanitizer hooks: only net heap growth is visible. */
    struct own_input o;
    struct cb_drg_result res;
    struct mallinfo2 a, b;
    struct sch x;
    int i;
    (void)state;

    sch_load(&x, CHS_CHECKS, NULL, TRACE_MDCS, TRACE_DRGS, false);
    own_input(&o, REC(.dx = "I21.000|I50.000|J96.000"));
    assert_int_equal(cb_drg_group(x.s, &o.in, CB_DRG_TR_OFF, &x.w, &res),
                     CB_OK);
    a = mallinfo2();
    for (i = 0; i < 10000; i++)
        assert_int_equal(cb_drg_group(x.s, &o.in, CB_DRG_TR_OFF, &x.w, &res),
                         CB_OK);
    b = mallinfo2();
    assert_int_equal(a.uordblks, b.uordblks);
    assert_int_equal(a.hblkhd, b.hblkhd);
    sch_free(&x);
#endif
}

/*
 * A numeric field longer than any sensible literal (§4 puts no limit on it)
 * is still parsed without allocating.
 */
static void
test_no_alloc_long_number(void **state)
{
#ifdef HAVE_MALLOC_HOOKS
    struct cb_buf age = CB_BUF_INIT;
    struct own_input o;
    struct cb_drg_result res;
    struct sch x;
    unsigned long before;
    int i;
    (void)state;

    for (i = 0; i < 200; i++)
        addf(&age, "0");
    addf(&age, "7");
    sch_load(&x, NULL, NULL,
             "[{'mdc':'MDCA','when':" T ",'rules':[{'id':'AA1','adrg':'AA1',"
             "'when':{'op':'num','field':'age','cmp':'==','value':7},"
             "'drgs':['AA11']}]}]", "{'AA11':{'when':" T "}}", false);
    own_input(&o, REC(.dx = "A01", .age = cb_buf_cstr(&age)));
    hooks_on();
    assert_int_equal(cb_drg_group(x.s, &o.in, CB_DRG_TR_OFF, &x.w, &res),
                     CB_OK);
    assert_string_equal(res.drg, "AA11");
    before = g_mallocs;
    for (i = 0; i < 100; i++)
        assert_int_equal(cb_drg_group(x.s, &o.in, CB_DRG_TR_OFF, &x.w, &res),
                         CB_OK);
    if (g_mallocs != before)
        fail_msg("%lu allocations in 100 groupings of a %zu-byte age",
                 g_mallocs - before, age.len);
    sch_free(&x);
    cb_buf_release(&age);
#else
    (void)state;
    skip();
#endif
}

/* ---- setup ---------------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int
setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    snprintf(g_root, sizeof(g_root), "/tmp/cb-drg-rules.XXXXXX");
    return mkdtemp(g_root) ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    if (getenv("KEEP_TMP")) {
        print_message("kept %s\n", g_root);
        return 0;
    }
    return nftw(g_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int
main(void)
{
    static const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_true_false),
        cmocka_unit_test(test_all),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_nested_all_any_not),
        cmocka_unit_test(test_not),
        cmocka_unit_test(test_pdx_in),
        cmocka_unit_test(test_codes_exact),
        cmocka_unit_test(test_dx_any_in),
        cmocka_unit_test(test_sdx_any_in),
        cmocka_unit_test(test_ppx_in),
        cmocka_unit_test(test_px_any_in),
        cmocka_unit_test(test_split_codes),
        cmocka_unit_test(test_num_cmp),
        cmocka_unit_test(test_num_fields),
        cmocka_unit_test(test_num_parse),
        cmocka_unit_test(test_str_eq),
        cmocka_unit_test(test_str_in),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_normalize_map),
        cmocka_unit_test(test_normalize_truncate),
        cmocka_unit_test(test_normalize_truncate_else_map),
        cmocka_unit_test(test_normalize_order),
        cmocka_unit_test(test_mcc),
        cmocka_unit_test(test_cc),
        cmocka_unit_test(test_lists_hit),
        cmocka_unit_test(test_count_in),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_checks_before_normalize),
        cmocka_unit_test(test_mdc_fallthrough),
        cmocka_unit_test(test_rule_order),
        cmocka_unit_test(test_drg_split_order),
        cmocka_unit_test(test_no_split_gives_adrg),
        cmocka_unit_test(test_to_result),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_translate_source),
        cmocka_unit_test(test_translate_codes),
        cmocka_unit_test(test_translate_off),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_trace_same_result),
        cmocka_unit_test(test_no_alloc_per_record),
        cmocka_unit_test(test_no_alloc_long_number),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
