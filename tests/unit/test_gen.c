/*
 * test_gen.c - `carebase generate` (src/gen): determinism, the shape of the
 * output in each dialect, the internal consistency of every clean record
 * (codes, costs, dates, ages, identity numbers), plausible case mix by
 * hospital level, the error manifest, and GB18030 output.
 *
 * Files are generated into the test's temporary directory and read back
 * with a small local CSV splitter; the integration test also runs them
 * through the importer's own reader, profile mapping and QC rules.
 */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/gen.h"
#include "carebase/profile.h"
#include "carebase/qc.h"
#include "carebase/reader.h"
#include "carebase/refdata.h"
#include "carebase/str.h"
#include "gen/gen_int.h"
#include "testutil.h"

static struct cb_refdata *g_rd;
static struct cb_profiles *g_ps;
static struct cb_qc *g_qc;

static int
setup(void **state)
{
    struct cb_buf err = CB_BUF_INIT;

    (void)state;
    if (cb_refdata_load(&g_rd, tu_shared("data/nhc-2019"), &err) != CB_OK ||
        cb_profiles_load(&g_ps, tu_source("data/profiles"), &err) != CB_OK ||
        cb_qc_load(&g_qc, tu_source("data"), g_rd, &err) != CB_OK) {
        fprintf(stderr, "setup: %s\n", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return -1;
    }
    cb_buf_release(&err);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cb_qc_free(g_qc);
    cb_profiles_free(g_ps);
    cb_refdata_free(g_rd);
    return 0;
}

/* ---- helpers ---- */

static struct cb_gen_opts
opts_for(const char *profile, uint64_t seed, uint64_t records, double errors)
{
    struct cb_gen_opts o;

    memset(&o, 0, sizeof(o));
    o.seed = seed;
    o.hospitals = 5;
    o.years = 2;
    o.end_year = 2025;
    o.records = records;
    o.error_rate = errors;
    o.profile = cb_profiles_find(g_ps, profile);
    o.encoding = CB_ENC_UTF8;
    o.delimiter = ',';
    o.scheme_dir = tu_shared("data/chs-drg-1.1");
    return o;
}

static const char *
tmp_path(const char *name)
{
    static char buf[8][512];
    static int k;

    k = (k + 1) % 8;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", tu_tmpdir(), name);
    return buf[k];
}

/* Generates into path (manifest and orgs may be NULL). */
static void
generate(const struct cb_gen_opts *o, const char *path, const char *manifest,
         const char *orgs)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_gen *g = NULL;
    FILE *f, *m = NULL, *og = NULL;
    enum cb_err rc;

    assert_non_null(o->profile);
    rc = cb_gen_new(&g, o, g_rd, &err);
    if (rc)
        fprintf(stderr, "cb_gen_new: %s\n", cb_buf_cstr(&err));
    assert_int_equal(rc, CB_OK);
    f = fopen(path, "wb");
    assert_non_null(f);
    if (manifest)
        assert_non_null(m = fopen(manifest, "wb"));
    if (orgs) {
        assert_non_null(og = fopen(orgs, "wb"));
        assert_int_equal(cb_gen_write_orgs(g, og, &err), CB_OK);
        fclose(og);
    }
    rc = cb_gen_write(g, f, m, &err);
    if (rc)
        fprintf(stderr, "cb_gen_write: %s\n", cb_buf_cstr(&err));
    assert_int_equal(rc, CB_OK);
    assert_int_equal(fclose(f), 0);
    if (m)
        assert_int_equal(fclose(m), 0);
    cb_gen_free(g);
    cb_buf_release(&err);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

#define MAXF 1024

/* A parsed file: lines, fields of the current line (CSV with quotes). */
struct table {
    char   *data;
    size_t  len, pos;
    char    delim;
    struct cb_str f[MAXF];
    size_t  nf;
    char    unq[65536];   /* unquoted copies of quoted fields */
    size_t  unq_len;
    unsigned long line;
};

static void
table_open(struct table *t, const char *path, char delim)
{
    memset(t, 0, sizeof(*t));
    t->data = slurp(path, &t->len);
    t->delim = delim;
}

/* Splits the next line into t->f; false at the end. */
static bool
table_next(struct table *t)
{
    size_t i = t->pos;

    if (i >= t->len)
        return false;
    t->nf = 0;
    t->unq_len = 0;
    t->line++;
    for (;;) {
        assert_true(t->nf < MAXF);
        if (t->data[i] == '"') {
            char *o = t->unq + t->unq_len;
            size_t n = 0;
            i++;
            for (;;) {
                assert_true(i < t->len);
                if (t->data[i] == '"') {
                    if (i + 1 < t->len && t->data[i + 1] == '"') {
                        o[n++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                o[n++] = t->data[i++];
            }
            t->f[t->nf++] = cb_str_make(o, n);
            t->unq_len += n;
        } else {
            size_t s = i;
            while (i < t->len && t->data[i] != t->delim && t->data[i] != '\n')
                i++;
            t->f[t->nf++] = cb_str_make(t->data + s, i - s);
        }
        assert_true(i < t->len);   /* every line ends with LF */
        if (t->data[i] == '\n') {
            t->pos = i + 1;
            return true;
        }
        assert_int_equal(t->data[i], t->delim);
        i++;
    }
}

static void
table_close(struct table *t)
{
    free(t->data);
}

/* Column index of each canonical field for a profile (-1 when none). */
static void
field_columns(const struct cb_profile *p, int *col)
{
    size_t i, n = cb_profile_ncolumns(p);

    for (i = 0; i < CB_FP_NFIELDS; i++)
        col[i] = -1;
    for (i = 0; i < n; i++) {
        int f = -1;
        cb_profile_column(p, i, &f);
        if (f >= 0 && f < CB_FP_NFIELDS && col[f] < 0)
            col[f] = (int)i;
    }
}

static struct cb_str
val(const struct table *t, const int *col, int f)
{
    return col[f] >= 0 && (size_t)col[f] < t->nf ? t->f[col[f]] : CB_STR_NULL;
}

static int64_t
num(struct cb_str s)
{
    int64_t v = -1;

    assert_int_equal(cb_parse_i64(s, &v), CB_OK);
    return v;
}

static int64_t
money(struct cb_str s)
{
    int64_t v = 0;

    if (s.len == 0)
        return 0;
    assert_int_equal(cb_parse_money(s, &v), CB_OK);
    return v;
}

static int64_t
when(struct cb_str s)
{
    int64_t v;
    bool has_time;

    assert_int_equal(cb_parse_datetime(s, &v, &has_time), CB_OK);
    return v;
}

static bool
files_equal(const char *a, const char *b)
{
    size_t na, nb;
    char *pa = slurp(a, &na), *pb = slurp(b, &nb);
    bool eq = na == nb && memcmp(pa, pb, na) == 0;

    free(pa);
    free(pb);
    return eq;
}

/* ---- tests ---- */

/* Every archetype pattern resolves to codes of the dictionaries and maps. */
static void
test_pools_resolve(void **state)
{
    struct cb_gen_opts o = opts_for("western", 1, 100, 0);
    struct cb_buf err = CB_BUF_INIT, rep = CB_BUF_INIT;
    struct cb_gen *g;
    size_t bad;

    (void)state;
    assert_int_equal(cb_gen_new(&g, &o, g_rd, &err), CB_OK);
    bad = gen__casemix_report(g, &rep);
    if (bad)
        fprintf(stderr, "%s\n", cb_buf_cstr(&rep));
    assert_int_equal(bad, 0);
    cb_gen_free(g);
    cb_buf_release(&err);
    cb_buf_release(&rep);
}

static void
test_deterministic(void **state)
{
    struct cb_gen_opts o = opts_for("western", 42, 1500, 0.03);
    const char *a = tmp_path("det_a.csv"), *b = tmp_path("det_b.csv");
    const char *c = tmp_path("det_c.csv");
    const char *ma = tmp_path("det_a.man"), *mb = tmp_path("det_b.man");

    (void)state;
    generate(&o, a, ma, NULL);
    generate(&o, b, mb, NULL);
    assert_true(files_equal(a, b));
    assert_true(files_equal(ma, mb));
    o.seed = 43;
    generate(&o, c, NULL, NULL);
    assert_false(files_equal(a, c));

    /* one generator written twice gives the same file */
    {
        struct cb_buf err = CB_BUF_INIT;
        struct cb_gen *g;
        FILE *f;

        assert_int_equal(cb_gen_new(&g, &o, g_rd, &err), CB_OK);
        assert_non_null(f = fopen(a, "wb"));
        assert_int_equal(cb_gen_write(g, f, NULL, &err), CB_OK);
        fclose(f);
        assert_non_null(f = fopen(b, "wb"));
        assert_int_equal(cb_gen_write(g, f, NULL, &err), CB_OK);
        fclose(f);
        assert_true(files_equal(a, b));
        assert_true(files_equal(a, c));
        cb_gen_free(g);
        cb_buf_release(&err);
    }
}

/* Header = the dialect's columns; one line per record; same field count. */
static void
test_dialect_headers(void **state)
{
    static const char *const names[] = { "western", "tcm", "n041" };
    char first[3][64];
    int k;

    (void)state;
    for (k = 0; k < 3; k++) {
        struct cb_gen_opts o = opts_for(names[k], 5, 700, 0.02);
        const struct cb_profile *p = o.profile;
        const char *path = tmp_path("dialect.csv");
        struct table t;
        size_t i, rows = 0;

        generate(&o, path, NULL, NULL);
        table_open(&t, path, ',');
        assert_true(table_next(&t));
        assert_int_equal(t.nf, cb_profile_ncolumns(p));
        for (i = 0; i < t.nf; i++)
            assert_true(cb_str_eqz(t.f[i], cb_profile_column(p, i, NULL)));
        snprintf(first[k], sizeof(first[k]), "%.*s", (int)t.f[0].len, t.f[0].ptr);
        while (table_next(&t)) {
            assert_int_equal(t.nf, cb_profile_ncolumns(p));
            rows++;
        }
        assert_int_equal(rows, 700);
        table_close(&t);
    }
    /* each dialect has its own names (Western A01 ...) */
    assert_string_equal(first[0], "A01");
    assert_true(strcmp(first[0], first[1]) != 0 || strcmp(first[1], first[2]) != 0);
}

static bool
sfzh_ok(struct cb_str s, struct cb_str csrq)
{
    char b[18];
    size_t i;

    if (s.len != 18 || csrq.len != 10)
        return false;
    memcpy(b, s.ptr, 18);
    for (i = 0; i < 17; i++)
        if (b[i] < '0' || b[i] > '9')
            return false;
    if (gen__id_check(b) != b[17])
        return false;
    /* embedded birth date yyyyMMdd = CSRQ yyyy-MM-dd */
    return memcmp(b + 6, csrq.ptr, 4) == 0 && memcmp(b + 10, csrq.ptr + 5, 2) == 0 &&
           memcmp(b + 12, csrq.ptr + 8, 2) == 0;
}

/* Clean records: valid codes, exact costs, consistent dates and ages. */
static void
test_clean_records(void **state)
{
    struct cb_gen_opts o = opts_for("n041", 7, 3000, 0);
    const char *path = tmp_path("clean.csv");
    static int col[CB_FP_NFIELDS];
    struct table t;
    size_t rows = 0, neonates = 0, deliveries = 0, ops = 0;

    (void)state;
    generate(&o, path, NULL, NULL);
    field_columns(o.profile, col);
    table_open(&t, path, ',');
    assert_true(table_next(&t));
    while (table_next(&t)) {
        int64_t adm = when(val(&t, col, CB_F_RYSJ));
        int64_t dis = when(val(&t, col, CB_F_CYSJ));
        int64_t birth, items = 0, zfy;
        int64_t los = cb_day_of(dis) - cb_day_of(adm);
        int n, i, nl;
        enum cb_px_category cat;

        rows++;
        /* dates, length of stay, age */
        assert_true(adm <= dis);
        assert_int_equal(num(val(&t, col, CB_F_SJZYTS)), los < 1 ? 1 : los);
        birth = cb_day_of(when(val(&t, col, CB_F_CSRQ)));
        assert_true(birth <= cb_day_of(adm));
        nl = (int)num(val(&t, col, CB_F_NL));
        assert_int_equal(nl, cb_completed_years(birth, cb_day_of(adm)));
        if (nl == 0) {
            int64_t d = num(val(&t, col, CB_F_BZYZS_NL));
            assert_int_equal(d, cb_day_of(adm) - birth);
            if (d <= 28) {
                assert_true(val(&t, col, CB_F_XSERYTZ).len > 0);
                neonates++;
            }
        } else {
            assert_int_equal(val(&t, col, CB_F_BZYZS_NL).len, 0);
        }
        assert_true(sfzh_ok(val(&t, col, CB_F_SFZH), val(&t, col, CB_F_CSRQ)));
        assert_true(val(&t, col, CB_F_XB).len == 1);
        assert_true(cb_refdata_in_set(g_rd, CB_VS_WESTERN, "RC023",
                                      val(&t, col, CB_F_CYKB)));

        /* codes */
        assert_true(cb_refdata_dx(g_rd, val(&t, col, CB_F_JBDM), NULL));
        assert_true(cb_refdata_dx(g_rd, val(&t, col, CB_F_MZZD_JBBM), NULL));
        for (n = 1; n <= CB_FP_MAX_DX; n++) {
            struct cb_str c = val(&t, col, cb_fp_dx(n, CB_DX_CODE));
            if (!c.len)
                break;
            assert_true(cb_refdata_dx(g_rd, c, NULL));
            assert_true(val(&t, col, cb_fp_dx(n, CB_DX_POA)).len == 1);
            if (cb_str_starts(c, "Z37.0"))
                deliveries++, assert_true(val(&t, col, CB_F_XSECSTZ).len > 0);
        }
        if (val(&t, col, CB_F_H23).len)
            assert_true(cb_refdata_dx(g_rd, val(&t, col, CB_F_H23), NULL));
        for (n = 1; n <= CB_FP_MAX_PX; n++) {
            struct cb_str c = val(&t, col, cb_fp_px(n, CB_PX_CODE));
            int64_t at;
            if (!c.len)
                break;
            assert_true(cb_refdata_px(g_rd, c, &cat, NULL));
            at = when(val(&t, col, cb_fp_px(n, CB_PX_DATE)));
            assert_true(cb_day_of(at) >= cb_day_of(adm) && at <= dis);
            if (cat == CB_PXCAT_SURGERY || cat == CB_PXCAT_INTERVENTION) {
                int64_t lv = num(val(&t, col, cb_fp_px(n, CB_PX_LEVEL)));
                assert_true(lv >= 1 && lv <= 4);
                assert_true(val(&t, col, cb_fp_px(n, CB_PX_SZ)).len > 0);
            } else {
                assert_int_equal(val(&t, col, cb_fp_px(n, CB_PX_LEVEL)).len, 0);
            }
            if (cat == CB_PXCAT_SURGERY) {
                ops++;
                assert_true(val(&t, col, cb_fp_px(n, CB_PX_QKDJ)).len == 1);
                assert_true(cb_refdata_in_set(g_rd, CB_VS_WESTERN, "RC013",
                            val(&t, col, cb_fp_px(n, CB_PX_MZFS))));
            }
        }

        /* costs: the 24 items add up exactly; sub-items within parents */
        for (i = 0; i < 24; i++)
            items += money(val(&t, col, cb_fp_cost_items[i]));
        zfy = money(val(&t, col, CB_F_ZFY));
        assert_true(zfy > 0);
        assert_int_equal(items, zfy);
        assert_true(money(val(&t, col, CB_F_ZFJE)) <= zfy);
        assert_true(money(val(&t, col, CB_F_WLZLF)) <=
                    money(val(&t, col, CB_F_FSSZLXMF)));
        assert_true(money(val(&t, col, CB_F_MAF)) + money(val(&t, col, CB_F_SSF)) <=
                    money(val(&t, col, CB_F_SSZLF)));
        assert_true(money(val(&t, col, CB_F_KJYWF)) <= money(val(&t, col, CB_F_XYF)));
    }
    table_close(&t);
    assert_int_equal(rows, 3000);
    assert_true(neonates > 0);
    assert_true(deliveries > 0);
    assert_true(ops > 300);
}

/* Share of surgical stays and deaths by hospital level (c.1 #4, deaths). */
static void
test_level_shares(void **state)
{
    struct cb_gen_opts o = opts_for("western", 3, 20000, 0);
    const char *path = tmp_path("levels.csv"), *orgs = tmp_path("levels.tsv");
    static int col[CB_FP_NFIELDS];
    struct table t;
    char code[5][32];
    int level[5], nh = 0, h, n;
    double cnt[3] = { 0 }, surg[3] = { 0 }, dead[3] = { 0 };

    (void)state;
    generate(&o, path, NULL, orgs);
    table_open(&t, orgs, '\t');
    assert_true(table_next(&t));
    while (table_next(&t)) {
        assert_int_equal(t.nf, 4);
        assert_true(nh < 5);
        snprintf(code[nh], sizeof(code[nh]), "%.*s", (int)t.f[0].len, t.f[0].ptr);
        level[nh] = cb_str_eqz(t.f[2], "三级") ? 0 : cb_str_eqz(t.f[2], "二级") ? 1 : 2;
        assert_true(level[nh] == 2 ? cb_str_eqz(t.f[2], "基层") : true);
        nh++;
    }
    table_close(&t);
    assert_int_equal(nh, 5);
    assert_int_equal(level[0], 0);

    field_columns(o.profile, col);
    table_open(&t, path, ',');
    assert_true(table_next(&t));
    while (table_next(&t)) {
        struct cb_str z = val(&t, col, CB_F_ZZJGDM);
        bool s = false;
        for (h = 0; h < nh && !cb_str_eqz(z, code[h]); h++)
            ;
        assert_true(h < nh);
        for (n = 1; n <= CB_FP_MAX_PX; n++) {
            enum cb_px_category cat;
            struct cb_str c = val(&t, col, cb_fp_px(n, CB_PX_CODE));
            if (!c.len)
                break;
            assert_true(cb_refdata_px(g_rd, c, &cat, NULL));
            s = s || cat == CB_PXCAT_SURGERY || cat == CB_PXCAT_INTERVENTION;
        }
        cnt[level[h]]++;
        surg[level[h]] += s;
        dead[level[h]] += cb_str_eqz(val(&t, col, CB_F_LYFS), "5");
    }
    table_close(&t);
    for (h = 0; h < 3; h++)
        assert_true(cnt[h] > 500);
    /* hub 25-45 %, district 15-35 %, primary care below 15 % */
    assert_true(surg[0] / cnt[0] > 0.25 && surg[0] / cnt[0] < 0.45);
    assert_true(surg[1] / cnt[1] > 0.15 && surg[1] / cnt[1] < 0.35);
    assert_true(surg[2] / cnt[2] > 0.01 && surg[2] / cnt[2] < 0.15);
    assert_true(surg[0] / cnt[0] > surg[1] / cnt[1]);
    assert_true(surg[1] / cnt[1] > surg[2] / cnt[2]);
    /* in-hospital mortality: well under 2 %, highest at the hub */
    assert_true(dead[0] / cnt[0] > 0.003 && dead[0] / cnt[0] < 0.02);
    assert_true(dead[1] / cnt[1] > 0.001 && dead[1] / cnt[1] < 0.02);
    assert_true(dead[2] / cnt[2] < 0.02);
}

/* Readmissions: same BAH, next ZYCS, stays that do not overlap. */
static void
test_readmissions(void **state)
{
    struct cb_gen_opts o = opts_for("western", 21, 6000, 0);
    const char *path = tmp_path("readmit.csv");
    static int col[CB_FP_NFIELDS];
    struct stay { char key[64]; int zycs; int64_t adm, dis; } *s;
    struct table t;
    size_t n = 0, i, j, pairs = 0;

    (void)state;
    generate(&o, path, NULL, NULL);
    field_columns(o.profile, col);
    s = calloc(6000, sizeof(*s));
    assert_non_null(s);
    table_open(&t, path, ',');
    assert_true(table_next(&t));
    while (table_next(&t)) {
        struct cb_str z = val(&t, col, CB_F_ZZJGDM), b = val(&t, col, CB_F_BAH);
        snprintf(s[n].key, sizeof(s[n].key), "%.*s/%.*s", (int)z.len, z.ptr,
                 (int)b.len, b.ptr);
        s[n].zycs = (int)num(val(&t, col, CB_F_ZYCS));
        s[n].adm = when(val(&t, col, CB_F_RYSJ));
        s[n].dis = when(val(&t, col, CB_F_CYSJ));
        if (cb_str_eqz(val(&t, col, CB_F_SFZZYJH), "2"))
            assert_true(val(&t, col, CB_F_MD).len > 0);
        n++;
    }
    table_close(&t);
    for (i = 0; i < n; i++)
        for (j = i + 1; j < n; j++) {
            if (strcmp(s[i].key, s[j].key) != 0)
                continue;
            /* keys are unique; the later stay follows the earlier one */
            assert_int_not_equal(s[i].zycs, s[j].zycs);
            if (s[j].zycs == s[i].zycs + 1) {
                assert_true(s[j].adm > s[i].dis);
                pairs++;
            }
        }
    assert_true(pairs > 20);
    free(s);
}

/* The manifest: about error_rate x records lines, each on a real line. */
static void
test_manifest(void **state)
{
    struct cb_gen_opts o = opts_for("western", 11, 4000, 0.05);
    const char *path = tmp_path("man.csv"), *man = tmp_path("man.tsv");
    struct table t;
    size_t lines = 0, nman = 0;
    unsigned long prev = 0;

    (void)state;
    generate(&o, path, man, NULL);
    table_open(&t, path, ',');
    while (table_next(&t))
        lines++;
    table_close(&t);
    assert_int_equal(lines, 4001);

    table_open(&t, man, '\t');
    while (table_next(&t)) {
        int rule;
        int64_t line;
        char id[32];

        assert_int_equal(t.nf, 3);
        line = num(t.f[0]);
        assert_true(line >= 2 && (size_t)line <= lines);
        assert_true((unsigned long)line > prev);  /* one error per record */
        prev = (unsigned long)line;
        snprintf(id, sizeof(id), "%.*s", (int)t.f[1].len, t.f[1].ptr);
        rule = cb_qc_rule_find(g_qc, id);
        assert_true(rule >= 0);
        assert_true(cb_qc_rule_sev(g_qc, rule) != CB_SEV_OFF);
        assert_true(cb_fp_field_by_key(t.f[2]) >= 0);
        nman++;
    }
    table_close(&t);
    /* binomial(4000, 0.05): mean 200, sd 14 */
    assert_true(nman > 140 && nman < 260);
}

/*
 * Through the importer's own reader, dialect mapping and rules: clean lines
 * raise nothing, each injected error raises its rule on its line.
 */
static void
check_with_qc(const char *profile, uint64_t seed)
{
    struct cb_gen_opts o = opts_for(profile, seed, 2500, 0.06);
    const char *path = tmp_path("qc.csv"), *man = tmp_path("qc.man");
    struct cb_reader_opts ro = { CB_ENC_AUTO, CB_FMT_AUTO };
    struct cb_buf err = CB_BUF_INIT;
    struct cb_reader *rdr;
    struct cb_row row;
    struct cb_header_map m;
    struct cb_arena a;
    struct cb_fp *rec = calloc(1, sizeof(*rec));
    struct cb_qc_result *res = malloc(sizeof(*res));
    struct table mt;
    int64_t next_line = -1;
    char next_rule[32] = "";
    size_t checked = 0;

    assert_non_null(rec);
    assert_non_null(res);
    generate(&o, path, man, NULL);
    table_open(&mt, man, '\t');
    if (table_next(&mt)) {
        next_line = num(mt.f[0]);
        snprintf(next_rule, sizeof(next_rule), "%.*s", (int)mt.f[1].len,
                 mt.f[1].ptr);
    }
    cb_arena_init(&a, 1 << 16);
    assert_int_equal(cb_reader_open(&rdr, path, &ro, &err), CB_OK);
    assert_int_equal(cb_reader_next(rdr, &row, &err), CB_OK);
    assert_int_equal(cb_header_map_build(&m, o.profile, &row, NULL, &err), CB_OK);
    while (cb_reader_next(rdr, &row, &err) == CB_OK) {
        int i;
        bool found = false;

        cb_arena_reset(&a);
        assert_int_equal(cb_profile_fill(&m, &row, rec, &a), CB_OK);
        cb_qc_check(g_qc, rec, cb_profile_std(o.profile), res);
        if ((int64_t)row.line == next_line) {
            for (i = 0; i < res->n; i++)
                found = found ||
                        strcmp(cb_qc_rule_id(g_qc, res->issue[i].rule), next_rule) == 0;
            /* duplicates within a file are the importer's rule */
            if (strcmp(next_rule, "QC-ID-02") == 0)
                found = true;
            if (!found)
                fprintf(stderr, "line %llu: %s not reported\n",
                        (unsigned long long)row.line, next_rule);
            assert_true(found);
            checked++;
            next_line = -1;
            if (table_next(&mt)) {
                next_line = num(mt.f[0]);
                snprintf(next_rule, sizeof(next_rule), "%.*s", (int)mt.f[1].len,
                         mt.f[1].ptr);
            }
        } else {
            for (i = 0; i < res->n; i++)
                fprintf(stderr, "line %llu: unexpected %s on %d\n",
                        (unsigned long long)row.line,
                        cb_qc_rule_id(g_qc, res->issue[i].rule), res->issue[i].field);
            assert_int_equal(res->nerrors + res->nwarnings, 0);
        }
    }
    assert_int_equal(next_line, -1);
    assert_true(checked > 50);
    table_close(&mt);
    cb_header_map_release(&m);
    cb_reader_free(rdr);
    cb_arena_release(&a);
    cb_buf_release(&err);
    free(rec);
    free(res);
}

static void
test_qc_western(void **state)
{
    (void)state;
    check_with_qc("western", 31);
}

static void
test_qc_tcm(void **state)
{
    (void)state;
    check_with_qc("tcm", 32);
}

static void
test_qc_n041(void **state)
{
    (void)state;
    check_with_qc("n041", 33);
}

/* GB18030 output decodes to exactly the UTF-8 output of the same seed. */
static void
test_gb18030(void **state)
{
    struct cb_gen_opts o = opts_for("tcm", 8, 800, 0.02);
    const char *u = tmp_path("u8.csv"), *g = tmp_path("gb.csv");
    size_t nu, ng, outleft;
    char *pu, *pg, *conv, *in, *out;
    iconv_t cd;

    (void)state;
    generate(&o, u, NULL, NULL);
    o.encoding = CB_ENC_GB18030;
    generate(&o, g, NULL, NULL);
    pu = slurp(u, &nu);
    pg = slurp(g, &ng);
    assert_true(ng < nu);   /* Chinese text is shorter in GB18030 */
    conv = malloc(nu + 16);
    assert_non_null(conv);
    cd = iconv_open("UTF-8", "GB18030");
    assert_true(cd != (iconv_t)-1);
    in = pg;
    out = conv;
    outleft = nu + 16;
    assert_true(iconv(cd, &in, &ng, &out, &outleft) != (size_t)-1);
    assert_int_equal(ng, 0);
    assert_int_equal((size_t)(out - conv), nu);
    assert_memory_equal(conv, pu, nu);
    iconv_close(cd);
    free(conv);
    free(pu);
    free(pg);
}

/* TSV: no quoting at all, one field per column. */
static void
test_tsv(void **state)
{
    struct cb_gen_opts o = opts_for("western", 4, 500, 0.02);
    const char *path = tmp_path("out.tsv");
    size_t len, i, lines = 0;
    char *p;

    (void)state;
    o.delimiter = '\t';
    generate(&o, path, NULL, NULL);
    p = slurp(path, &len);
    for (i = 0; i < len; i++) {
        assert_true(p[i] != '"' && p[i] != '\r');
        lines += p[i] == '\n';
    }
    assert_int_equal(lines, 501);
    free(p);
}

/* Organisation codes carry valid check characters. */
static bool
org_code_ok(struct cb_str z)
{
    static const int w8[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w17[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13,
                                 8, 24, 10, 30, 28 };
    int i, s = 0, c;

    if (z.len == 10) {
        for (i = 0; i < 8; i++)
            s += (z.ptr[i] - '0') * w8[i];
        c = 11 - s % 11;
        return z.ptr[8] == '-' &&
               z.ptr[9] == (c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c));
    }
    if (z.len != 18)
        return false;
    for (i = 0; i < 17; i++) {
        const char *q = memchr(cs, z.ptr[i], 31);
        if (!q)
            return false;
        s += (int)(q - cs) * w17[i];
    }
    c = 31 - s % 31;
    return z.ptr[17] == cs[c == 31 ? 0 : c];
}

static void
test_orgs(void **state)
{
    struct cb_gen_opts o = opts_for("western", 6, 100, 0);
    const char *path = tmp_path("orgs.csv"), *orgs = tmp_path("orgs.tsv");
    struct table t;
    int n = 0;

    (void)state;
    o.hospitals = 9;
    generate(&o, path, NULL, orgs);
    table_open(&t, orgs, '\t');
    assert_true(table_next(&t));
    assert_true(cb_str_eqz(t.f[0], "zzjgdm"));
    while (table_next(&t)) {
        assert_int_equal(t.nf, 4);
        assert_true(org_code_ok(t.f[0]));
        assert_true(t.f[1].len > 0 && t.f[3].len > 0);
        n++;
    }
    table_close(&t);
    assert_int_equal(n, 9);
}

static void
test_bad_options(void **state)
{
    struct cb_gen_opts o = opts_for("western", 1, 10, 0);
    struct cb_buf err = CB_BUF_INIT;
    struct cb_gen *g = NULL;

    (void)state;
    o.years = 4;
    assert_int_equal(cb_gen_new(&g, &o, g_rd, &err), CB_ERR_USAGE);
    assert_null(g);
    o.years = 1;
    o.hospitals = 0;
    assert_int_equal(cb_gen_new(&g, &o, g_rd, &err), CB_ERR_USAGE);
    o.hospitals = 1;
    o.error_rate = 1.5;
    assert_int_equal(cb_gen_new(&g, &o, g_rd, &err), CB_ERR_USAGE);
    o.error_rate = 0;
    o.scheme_dir = NULL;  /* without a scheme: dictionaries only */
    assert_int_equal(cb_gen_new(&g, &o, g_rd, &err), CB_OK);
    cb_gen_free(g);
    cb_gen_free(NULL);
    cb_buf_release(&err);
}

/* One hospital, one year: the calendar covers exactly that year. */
static void
test_calendar(void **state)
{
    struct cb_gen_opts o = opts_for("western", 12, 3000, 0);
    const char *path = tmp_path("cal.csv");
    static int col[CB_FP_NFIELDS];
    struct table t;
    int64_t lo = cb_days_from_civil(2024, 1, 1), hi = cb_days_from_civil(2024, 12, 31);
    size_t month[12] = { 0 }, sunday = 0, tuesday = 0;

    (void)state;
    o.hospitals = 1;
    o.years = 1;
    o.end_year = 2024;
    generate(&o, path, NULL, NULL);
    field_columns(o.profile, col);
    table_open(&t, path, ',');
    assert_true(table_next(&t));
    while (table_next(&t)) {
        int64_t d = cb_day_of(when(val(&t, col, CB_F_CYSJ)));
        int y, m, dd;
        assert_true(d >= lo && d <= hi);
        cb_civil_from_days(d, &y, &m, &dd);
        month[m - 1]++;
        sunday += (d + 3) % 7 == 6;
        tuesday += (d + 3) % 7 == 1;
    }
    table_close(&t);
    assert_true(tuesday > sunday);   /* fewer discharges on Sundays */
    assert_true(month[0] > 0 && month[11] > 0);
}

/* Every allocation failure is reported, leaks nothing and crashes nothing. */
static void
test_out_of_memory(void **state)
{
    struct cb_gen_opts o = opts_for("western", 3, 60, 0.1);
    const char *path = tmp_path("oom.csv");
    bool ok = false;
    long n;

    (void)state;
    for (n = 0; n < 20000 && !ok; n += n < 120 ? 1 : 7) {
        struct cb_buf err = CB_BUF_INIT;
        struct cb_gen *g = NULL;
        FILE *f = fopen(path, "wb");
        enum cb_err rc;

        assert_non_null(f);
        cb_alloc_fail_after(n);
        rc = cb_gen_new(&g, &o, g_rd, &err);
        if (rc == CB_OK)
            rc = cb_gen_write(g, f, NULL, &err);
        cb_alloc_fail_after(-1);
        if (rc == CB_OK)
            ok = true;
        else
            assert_int_equal(rc, CB_ERR_NOMEM);
        cb_gen_free(g);
        fclose(f);
        cb_buf_release(&err);
    }
    assert_true(ok);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pools_resolve),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_dialect_headers),
        cmocka_unit_test(test_clean_records),
        cmocka_unit_test(test_level_shares),
        cmocka_unit_test(test_readmissions),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_qc_western),
        cmocka_unit_test(test_qc_tcm),
        cmocka_unit_test(test_qc_n041),
        cmocka_unit_test(test_gb18030),
        cmocka_unit_test(test_tsv),
        cmocka_unit_test(test_orgs),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_out_of_memory),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
