/*
 * test_drg_loader.c - loading and verifying DRG rule packages
 * (../shared/data/chs-drg-1.1/FORMAT.md §1, §2, §5-§8).
 *
 * A small, valid synthetic package is written into a mkdtemp() directory
 * under /tmp (removed by the group teardown; KEEP_TMP=1 keeps it) with a
 * manifest holding the real SHA-256 and size of every file. Each error case
 * changes one thing in it: a text replaced in one file, a file removed, the
 * manifest altered or a byte corrupted. The case names the error code and
 * the substrings its message must contain (the file, the offending entry,
 * and for line-oriented files the line number). Each case is registered as
 * its own cmocka test. In rules.json text the character ' stands for ".
 *
 * The real packages are then loaded with full verification and their counts
 * compared with their README.md.
 */
#define _XOPEN_SOURCE 700

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "testutil.h"

#include "carebase/buf.h"
#include "carebase/drg.h"

/* ---- the base package ----------------------------------------------------- */

static const char BASE_RULES[] =
    "{\n"                                                             /* 1 */
    " 'format': 'drg-rules', 'format_version': 1, 'scheme': 't-load',\n"
    " 'checks': [{'status':'CHECK_FAILED','message':'性别为空',"       /* 3 */
    "'when':{'op':'empty','field':'sex'}}],\n"
    " 'normalize': [{'field':'sex','op':'map','map':{'男':'1','女':'2'}}],\n"
    " 'mdcs': [\n"
    "  {'mdc':'MDCA','when':{'op':'pdx_in','list':'MDCA.dx'},'rules':[\n"
    "    {'id':'AA1','adrg':'AA1','when':{'op':'ppx_in','list':'AA1.px'},"
    "'drgs':['AA11','AA15']},\n"
    "    {'id':'AB1','adrg':'AB1','when':{'op':'num','field':'age',"
    "'cmp':'<','value':18},'drgs':['AB19']}]},\n"
    "  {'mdc':'MDCB','when':{'op':'pdx_in','list':'MDCB.dx'},'rules':[\n"
    "    {'id':'BB1','adrg':'BB1','when':{'op':'str_eq','field':'sex',"
    "'value':'1'},'drgs':['BB13','BB15']}]}\n"
    " ],\n"
    " 'drgs': {\n"
    "  'AA11': {'when': {'op':'mcc'}},\n"
    "  'AA15': {'when': {'op':'true'}},\n"
    "  'AB19': {'when': {'op':'true'}},\n"
    "  'BB13': {'when': {'op':'any','args':[{'op':'mcc'},{'op':'cc'}]}},\n"
    "  'BB15': {'when': {'op':'empty','field':'dept'}}\n"
    " }\n"
    "}\n";

static const char BASE_LISTS[] =   /* rows start at line 2 */
    "MDCA.dx\tA01\n"
    "MDCA.dx\tA02\n"
    "AA1.px\t01.01\n"
    "MDCB.dx\tB01\n"
    "MDCB.dx\tB02\n"
    "MDCB.dx\tB03\n";

static const char BASE_INDEX[] =
    "MDCA.dx\t2\tMDCA principal diagnoses\n"
    "AA1.px\t1\tAA1 procedures\n"
    "MDCB.dx\t3\tMDCB principal diagnoses\n";

static const char BASE_CC_MCC[] =
    "M1\tMCC\t1\n"
    "C1\tCC\t2\n"
    "C2\tCC\t2\n";

static const char BASE_EXCL[] =
    "A01\t1\n"
    "B01\t2\n";

static const char BASE_DX_NAMES[] = "A01\t测试诊断甲\nB01\t测试诊断乙\n";
static const char BASE_PX_NAMES[] = "01.01\t测试手术\n";
static const char BASE_DRG_NAMES[] =
    "AA11\t测试组AA11\nAA15\t测试组AA15\nAB19\t测试组AB19\n"
    "BB13\t测试组BB13\nBB15\t测试组BB15\n";
static const char BASE_ADRGS[] = "AA1\tMDCA\nAB1\tMDCA\nBB1\tMDCB\n";
static const char BASE_DX_MAP[] = "A01\tA01\na01\tA01\nB01\tB01\n";
static const char BASE_PX_MAP[] = "01.01\t01.01\n";

/* Each data file with its header line and base rows. */
static const struct pkgfile {
    const char *path, *header, *rows;
} PKG_FILES[] = {
    { "rules.json", NULL, BASE_RULES },
    { "lists.tsv", "list\tcode", BASE_LISTS },
    { "lists_index.tsv", "list\tcount\tdescription", BASE_INDEX },
    { "cc_mcc.tsv", "code\tlevel\ttable", BASE_CC_MCC },
    { "cc_exclusion.tsv", "principal\ttable", BASE_EXCL },
    { "dict/diagnoses.tsv", "code\tname", BASE_DX_NAMES },
    { "dict/procedures.tsv", "code\tname", BASE_PX_NAMES },
    { "dict/drgs.tsv", "drg\tname", BASE_DRG_NAMES },
    { "dict/adrgs.tsv", "adrg\tmdc", BASE_ADRGS },
    { "maps/dx_map.tsv", "from\tto", BASE_DX_MAP },
    { "maps/px_map.tsv", "from\tto", BASE_PX_MAP },
};
enum { NFILES = sizeof(PKG_FILES) / sizeof(PKG_FILES[0]) };

/* ---- helpers ------------------------------------------------------------- */

static char g_root[64];
static int  g_seq;

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

static unsigned char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    unsigned char *p;
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
sha256_file(const char *path, char hex[65], size_t *len)
{
    unsigned char h[crypto_hash_sha256_BYTES];
    unsigned char *data = slurp(path, len);

    assert_non_null(data);
    crypto_hash_sha256(h, data, *len);
    sodium_bin2hex(hex, 65, h, sizeof(h));
    free(data);
}

/* text with the first `from` replaced by `to` (malloc'd); from must occur. */
static char *
replace(const char *text, const char *from, const char *to)
{
    struct cb_buf b = CB_BUF_INIT;
    const char *at = strstr(text, from);

    if (!at)
        fail_msg("test bug: \"%s\" not in the base text", from);
    addf(&b, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return cb_buf_detach(&b, NULL);
}

/* ---- writing packages ----------------------------------------------------- */

enum mf_tweak {
    MF_NONE,
    MF_OMIT,     /* leave file arg out of manifest.files */
    MF_SIZE,     /* bytes of arg one too many */
    MF_FORMAT,   /* "format": "drg-pkg" */
    MF_BADJSON,  /* manifest.json is not JSON */
    MF_ABSENT,   /* no manifest.json */
    MF_CORRUPT,  /* after the manifest: flip one byte of file arg */
    MF_REMOVE,   /* after the manifest: delete file arg */
};

struct variant {
    const char   *file;       /* file whose text is changed, or NULL */
    const char   *from, *to;  /* replace the first from by to */
    enum mf_tweak mf;
    const char   *mf_arg;
    bool          no_maps;    /* write no maps/ directory */
};

static void
write_manifest(const char *dir, const struct variant *v)
{
    json_t *m = json_object(), *files = json_object();
    char *text;
    int i;

    json_object_set_new(m, "format", json_string(v->mf == MF_FORMAT
                                                 ? "drg-pkg"
                                                 : "drg-package"));
    json_object_set_new(m, "format_version", json_integer(1));
    json_object_set_new(m, "scheme", json_string("t-load"));
    json_object_set_new(m, "scheme_name", json_string("Test Load 1.0"));
    json_object_set_new(m, "counts",
                        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i}",
                                  "mdcs", 2, "adrg_rules", 3, "adrgs", 3,
                                  "drgs", 5, "lists", 3, "list_entries", 6,
                                  "cc", 2, "mcc", 1));
    for (i = 0; i < NFILES; i++) {
        char path[512], hex[65];
        size_t len;
        struct stat st;

        path_of(path, sizeof(path), dir, PKG_FILES[i].path);
        if (stat(path, &st) != 0)
            continue;
        if (v->mf == MF_OMIT && strcmp(v->mf_arg, PKG_FILES[i].path) == 0)
            continue;
        sha256_file(path, hex, &len);
        if (v->mf == MF_SIZE && strcmp(v->mf_arg, PKG_FILES[i].path) == 0)
            len++;
        json_object_set_new(files, PKG_FILES[i].path,
                            json_pack("{s:s, s:I}", "sha256", hex, "bytes",
                                      (json_int_t)len));
    }
    json_object_set_new(m, "files", files);
    text = json_dumps(m, JSON_INDENT(1));
    assert_non_null(text);
    if (v->mf == MF_BADJSON)
        text[strlen(text) - 1] = ',';   /* the closing brace */
    if (v->mf != MF_ABSENT)
        write_file(dir, "manifest.json", text);
    free(text);
    json_decref(m);
}

/* Writes the base package with variant v into a fresh directory. */
static void
make_pkg(char *dir, size_t dirsz, const struct variant *v)
{
    char sub[512];
    int i;

    assert_true((size_t)snprintf(dir, dirsz, "%s/p%03d", g_root, ++g_seq) <
                dirsz);
    assert_int_equal(mkdir(dir, 0700), 0);
    path_of(sub, sizeof(sub), dir, "dict");
    assert_int_equal(mkdir(sub, 0700), 0);
    if (!v->no_maps) {
        path_of(sub, sizeof(sub), dir, "maps");
        assert_int_equal(mkdir(sub, 0700), 0);
    }
    for (i = 0; i < NFILES; i++) {
        const struct pkgfile *f = &PKG_FILES[i];
        struct cb_buf b = CB_BUF_INIT;
        char *rows = NULL;
        char *p;

        if (v->no_maps && strncmp(f->path, "maps/", 5) == 0)
            continue;
        if (v->file && strcmp(v->file, f->path) == 0)
            rows = replace(f->rows, v->from, v->to);
        if (f->header)
            addf(&b, "%s\n", f->header);
        addf(&b, "%s", rows ? rows : f->rows);
        if (strcmp(f->path, "rules.json") == 0)
            for (p = b.ptr; *p; p++)
                if (*p == '\'')
                    *p = '"';
        write_file(dir, f->path, cb_buf_cstr(&b));
        cb_buf_release(&b);
        free(rows);
    }
    write_manifest(dir, v);
    if (v->mf == MF_CORRUPT) {
        char path[512];
        unsigned char *data;
        size_t len;
        FILE *f;

        path_of(path, sizeof(path), dir, v->mf_arg);
        data = slurp(path, &len);
        assert_non_null(data);
        assert_true(len > 20);
        if (strcmp(v->mf_arg, "rules.json") == 0) {
            /* a space becomes a TAB: still valid JSON, same size */
            unsigned char *sp = memchr(data + len / 2, ' ', len - len / 2);
            assert_non_null(sp);
            *sp = '\t';
        } else {
            data[len / 2] ^= 0x01;      /* same size, different bytes */
        }
        f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        assert_int_equal(fclose(f), 0);
        free(data);
    } else if (v->mf == MF_REMOVE) {
        char path[512];

        path_of(path, sizeof(path), dir, v->mf_arg);
        assert_int_equal(unlink(path), 0);
    }
}

static struct cb_drg_scheme *
load_ok(const char *dir, const struct cb_drg_load_opts *opts)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_drg_scheme *s = NULL;
    char msg[1024];

    if (cb_drg_scheme_load(dir, opts, &s, &err) != CB_OK) {
        snprintf(msg, sizeof(msg), "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        fail_msg("cannot load %s: %s", dir, msg);
    }
    cb_buf_release(&err);
    assert_non_null(s);
    return s;
}

/* ---- loader error cases ----------------------------------------------------- */

struct lcase {
    const char    *name;
    struct variant v;
    bool           skip_checksums;
    enum cb_err    rc;
    const char    *needle[3];   /* all must occur in the message */
    const char    *where[2];    /* at least one must occur (if set) */
    int            line;        /* "line N" or ":N" must occur (if set) */
};

#define RULES "rules.json"
#define LISTS "lists.tsv"
#define INDEX "lists_index.tsv"
#define CCMCC "cc_mcc.tsv"
#define EXCL "cc_exclusion.tsv"

/* A variant that replaces text in one file. */
#define EDIT(f, a, b) { (f), (a), (b), MF_NONE, NULL, false }

static const struct lcase cases[] = {
    /* missing files */
    { "missing_rules_json", { .mf = MF_REMOVE, .mf_arg = RULES }, true,
      CB_ERR_IO, { RULES }, { NULL }, 0 },
    { "missing_lists_tsv", { .mf = MF_REMOVE, .mf_arg = LISTS }, true,
      CB_ERR_IO, { LISTS }, { NULL }, 0 },
    { "missing_lists_index_tsv", { .mf = MF_REMOVE, .mf_arg = INDEX }, true,
      CB_ERR_IO, { INDEX }, { NULL }, 0 },
    { "missing_cc_mcc_tsv", { .mf = MF_REMOVE, .mf_arg = CCMCC }, true,
      CB_ERR_IO, { CCMCC }, { NULL }, 0 },
    { "missing_cc_exclusion_tsv", { .mf = MF_REMOVE, .mf_arg = EXCL }, true,
      CB_ERR_IO, { EXCL }, { NULL }, 0 },
    { "missing_manifest_json", { .mf = MF_ABSENT }, false,
      CB_ERR_IO, { "manifest.json" }, { NULL }, 0 },

    /* rules.json: JSON and header */
    { "rules_invalid_json", EDIT(RULES, "'checks': [", "'checks' ["), false,
      CB_ERR_PROTO, { RULES }, { NULL }, 3 },
    { "rules_truncated", EDIT(RULES, " }\n}\n", " }\n"), false,
      CB_ERR_PROTO, { RULES }, { NULL }, 0 },
    { "rules_not_object", EDIT(RULES, "{\n 'format'", "[\n 'format'"), false,
      CB_ERR_PROTO, { RULES }, { NULL }, 0 },
    { "rules_wrong_format", EDIT(RULES, "'drg-rules'", "'drg-rulez'"), false,
      CB_ERR_PROTO, { RULES, "format" }, { NULL }, 0 },
    { "rules_wrong_version", EDIT(RULES, "'format_version': 1",
                               "'format_version': 2"), false,
      CB_ERR_PROTO, { RULES, "format_version" }, { NULL }, 0 },
    { "rules_no_mdcs", EDIT(RULES, "'mdcs'", "'mdcz'"), false,
      CB_ERR_PROTO, { RULES, "mdcs" }, { NULL }, 0 },

    /* conditions */
    { "unknown_op", EDIT(RULES, "'op':'ppx_in'", "'op':'ppx_within'"), false,
      CB_ERR_PROTO, { RULES, "ppx_within" }, { "AA1", "mdcs[0]" }, 0 },
    { "unknown_op_in_split", EDIT(RULES, "'op':'empty','field':'dept'",
                               "'op':'emptyish','field':'dept'"), false,
      CB_ERR_PROTO, { RULES, "emptyish", "BB15" }, { NULL }, 0 },
    { "unknown_op_in_check", EDIT(RULES, "'op':'empty','field':'sex'",
                               "'op':'blank','field':'sex'"), false,
      CB_ERR_PROTO, { RULES, "blank" }, { "check", "checks" }, 0 },
    { "missing_op", EDIT(RULES, "{'op':'mcc'}},", "{'op2':'mcc'}},"), false,
      CB_ERR_PROTO, { RULES, "op" }, { "AA11", "drgs" }, 0 },
    { "num_unknown_field", EDIT(RULES, "'field':'age'", "'field':'height'"),
      false, CB_ERR_PROTO, { RULES, "height" }, { "AB1", "mdcs[0]" }, 0 },
    { "num_unknown_cmp", EDIT(RULES, "'cmp':'<'", "'cmp':'!='"), false,
      CB_ERR_PROTO, { RULES, "!=" }, { "AB1", "mdcs[0]" }, 0 },
    { "num_no_value", EDIT(RULES, ",'value':18}", "}"), false,
      CB_ERR_PROTO, { RULES, "value" }, { "AB1", "mdcs[0]" }, 0 },
    { "num_string_value", EDIT(RULES, "'value':18", "'value':'18'"), false,
      CB_ERR_PROTO, { RULES, "value" }, { "AB1", "mdcs[0]" }, 0 },
    { "str_eq_unknown_field", EDIT(RULES, "'field':'sex','value':'1'",
                                "'field':'colour','value':'1'"), false,
      CB_ERR_PROTO, { RULES, "colour" }, { "BB1", "mdcs[1]" }, 0 },
    { "empty_unknown_field", EDIT(RULES, "'field':'dept'", "'field':'ward'"),
      false, CB_ERR_PROTO, { RULES, "ward" }, { "BB15", "drgs" }, 0 },
    { "unknown_list", EDIT(RULES, "'list':'AA1.px'", "'list':'AA9.px'"),
      false, CB_ERR_PROTO, { "AA9.px" }, { "AA1", "mdcs[0]" }, 0 },
    { "unknown_list_in_mdc", EDIT(RULES, "'list':'MDCB.dx'",
                               "'list':'MDCQ.dx'"), false,
      CB_ERR_PROTO, { "MDCQ.dx" }, { "MDCB", "mdcs[1]" }, 0 },
    { "unknown_check_status", EDIT(RULES, "'CHECK_FAILED'", "'CHECK_FAILD'"),
      false, CB_ERR_PROTO, { RULES, "CHECK_FAILD" }, { NULL }, 0 },
    { "unknown_normalize_op", EDIT(RULES, "'op':'map'", "'op':'lowercase'"),
      false, CB_ERR_PROTO, { RULES, "lowercase" }, { NULL }, 0 },

    /* structure */
    { "duplicate_rule_id", EDIT(RULES, "'id':'BB1'", "'id':'AB1'"), false,
      CB_ERR_PROTO, { RULES, "AB1" }, { NULL }, 0 },
    { "duplicate_mdc", EDIT(RULES, "'mdc':'MDCB'", "'mdc':'MDCA'"), false,
      CB_ERR_PROTO, { RULES, "MDCA" }, { NULL }, 0 },
    { "drg_without_split", EDIT(RULES,
                             ",\n  'BB15': {'when': {'op':'empty',"
                             "'field':'dept'}}", ""), false,
      CB_ERR_PROTO, { RULES, "BB15" }, { NULL }, 0 },
    { "drg_split_twice", EDIT(RULES, "  'AA15': {'when': {'op':'true'}},\n",
                              "  'AA15': {'when': {'op':'true'}},\n"
                              "  'AA15': {'when': {'op':'mcc'}},\n"), false,
      CB_ERR_PROTO, { RULES, "AA15" }, { NULL }, 0 },
    { "rule_without_id", EDIT(RULES, "'id':'AB1',", ""), false,
      CB_ERR_PROTO, { RULES, "id" }, { NULL }, 0 },

    /* lists.tsv and lists_index.tsv */
    { "index_count_mismatch", EDIT(INDEX, "MDCB.dx\t3", "MDCB.dx\t4"), false,
      CB_ERR_PROTO, { INDEX, "MDCB.dx" }, { NULL }, 0 },
    { "index_count_not_number", EDIT(INDEX, "MDCB.dx\t3", "MDCB.dx\tthree"),
      false, CB_ERR_PROTO, { INDEX, "three" }, { NULL }, 4 },
    { "list_not_in_index", EDIT(LISTS, "AA1.px\t01.01\n",
                             "AA1.px\t01.01\nEXTRA.dx\tZ01\n"), false,
      CB_ERR_PROTO, { "EXTRA.dx" }, { LISTS, INDEX }, 0 },
    { "index_list_not_in_lists", EDIT(INDEX, "AA1.px\t1\tAA1 procedures\n",
                                   "AA1.px\t1\tAA1 procedures\n"
                                   "GHOST.dx\t1\tghost\n"), false,
      CB_ERR_PROTO, { "GHOST.dx" }, { LISTS, INDEX }, 0 },
    { "lists_extra_field", EDIT(LISTS, "MDCA.dx\tA02\n",
                             "MDCA.dx\tA02\textra\n"), false,
      CB_ERR_PROTO, { LISTS }, { NULL }, 3 },
    { "lists_missing_field", EDIT(LISTS, "MDCA.dx\tA02\n", "MDCA.dx\n"),
      false, CB_ERR_PROTO, { LISTS }, { NULL }, 3 },
    { "lists_empty_code", EDIT(LISTS, "MDCB.dx\tB03\n", "MDCB.dx\t\n"), false,
      CB_ERR_PROTO, { LISTS }, { NULL }, 7 },

    /* cc_mcc.tsv and cc_exclusion.tsv */
    { "cc_bad_level", EDIT(CCMCC, "C1\tCC\t2", "C1\tXCC\t2"), false,
      CB_ERR_PROTO, { CCMCC, "XCC" }, { NULL }, 3 },
    { "cc_lower_level", EDIT(CCMCC, "C1\tCC\t2", "C1\tcc\t2"), false,
      CB_ERR_PROTO, { CCMCC }, { NULL }, 3 },
    { "cc_both_levels", EDIT(CCMCC, "C2\tCC\t2\n", "C2\tCC\t2\nM1\tCC\t1\n"),
      false, CB_ERR_PROTO, { CCMCC, "M1" }, { NULL }, 0 },
    { "cc_empty_table", EDIT(CCMCC, "C2\tCC\t2", "C2\tCC\t"), false,
      CB_ERR_PROTO, { CCMCC }, { NULL }, 4 },
    { "cc_missing_table", EDIT(CCMCC, "C2\tCC\t2", "C2\tCC"), false,
      CB_ERR_PROTO, { CCMCC }, { NULL }, 4 },
    { "excl_missing_field", EDIT(EXCL, "B01\t2", "B01 2"), false,
      CB_ERR_PROTO, { EXCL }, { NULL }, 3 },
    { "excl_empty_table", EDIT(EXCL, "B01\t2", "B01\t"), false,
      CB_ERR_PROTO, { EXCL }, { NULL }, 3 },

    /* manifest.json */
    { "checksum_mismatch", { .mf = MF_CORRUPT, .mf_arg = LISTS }, false,
      CB_ERR_PROTO, { LISTS }, { NULL }, 0 },
    { "checksum_mismatch_rules", { .mf = MF_CORRUPT, .mf_arg = RULES },
      false, CB_ERR_PROTO, { RULES }, { NULL }, 0 },
    { "checksum_mismatch_dict", { .mf = MF_CORRUPT,
                                  .mf_arg = "dict/drgs.tsv" }, false,
      CB_ERR_PROTO, { "drgs.tsv" }, { NULL }, 0 },
    { "checksum_mismatch_map", { .mf = MF_CORRUPT,
                                 .mf_arg = "maps/dx_map.tsv" }, false,
      CB_ERR_PROTO, { "dx_map.tsv" }, { NULL }, 0 },
    { "size_mismatch", { .mf = MF_SIZE, .mf_arg = CCMCC }, false,
      CB_ERR_PROTO, { CCMCC }, { NULL }, 0 },
    { "manifest_missing_entry", { .mf = MF_OMIT, .mf_arg = EXCL }, false,
      CB_ERR_PROTO, { EXCL }, { NULL }, 0 },
    { "manifest_wrong_format", { .mf = MF_FORMAT }, false,
      CB_ERR_PROTO, { "manifest.json" }, { NULL }, 0 },
    { "manifest_invalid_json", { .mf = MF_BADJSON }, false,
      CB_ERR_PROTO, { "manifest.json" }, { NULL }, 0 },
};

enum { NCASES = sizeof(cases) / sizeof(cases[0]) };

static bool
has_line(const char *msg, int line)
{
    char a[32], b[32];

    snprintf(a, sizeof(a), "line %d", line);
    snprintf(b, sizeof(b), ":%d", line);
    return strstr(msg, a) || strstr(msg, b);
}

static void
run_case(void **state)
{
    const struct lcase *c = *state;
    struct cb_drg_load_opts opts = { .skip_checksums = c->skip_checksums };
    struct cb_buf err = CB_BUF_INIT;
    struct cb_drg_scheme *s = NULL;
    char dir[512], msg[2048];
    enum cb_err rc;
    int i, bad = 0;

    make_pkg(dir, sizeof(dir), &c->v);
    rc = cb_drg_scheme_load(dir, &opts, &s, &err);
    snprintf(msg, sizeof(msg), "%s", cb_buf_cstr(&err));
    cb_buf_release(&err);
    if (getenv("CB_TEST_VERBOSE"))
        print_message("%s: rc %d: %s\n", c->name, (int)rc, msg);
    if (rc == CB_OK) {
        cb_drg_scheme_free(s);
        fail_msg("%s: the package loaded", c->name);
    }
    if (rc != c->rc) {
        print_error("%s: rc %d (%s), want %d (%s)\n", c->name, (int)rc,
                    cb_strerror(rc), (int)c->rc, cb_strerror(c->rc));
        bad++;
    }
    for (i = 0; i < 3 && c->needle[i]; i++)
        if (!strstr(msg, c->needle[i])) {
            print_error("%s: message lacks \"%s\"\n", c->name, c->needle[i]);
            bad++;
        }
    if (c->where[0] && !strstr(msg, c->where[0]) &&
        !(c->where[1] && strstr(msg, c->where[1]))) {
        print_error("%s: message names neither \"%s\" nor \"%s\"\n", c->name,
                    c->where[0], c->where[1] ? c->where[1] : "");
        bad++;
    }
    if (c->line && !has_line(msg, c->line)) {
        print_error("%s: message lacks line %d\n", c->name, c->line);
        bad++;
    }
    if (bad)
        fail_msg("%s: message was: %s", c->name, msg);
}

/* ---- fixed tests ------------------------------------------------------------- */

static const struct variant BASE = { NULL, NULL, NULL, MF_NONE, NULL, false };

static void
group_one(const struct cb_drg_scheme *s, const char *dx, const char *px,
          const char *want_drg)
{
    struct cb_drg_work w;
    struct cb_drg_input in;
    struct cb_drg_result r;

    memset(&w, 0, sizeof(w));
    memset(&in, 0, sizeof(in));
    assert_int_equal(cb_drg_work_init(&w, s), CB_OK);
    in.index = cb_str_c("1");
    in.sex = cb_str_c("男");
    in.age = cb_str_c("40");
    in.age_days = in.weight = in.dept = in.los = in.leaving_type =
        cb_str_c("");
    assert_int_equal(cb_drg_split_codes(&w, 0, cb_str_c(dx), &in.dx,
                                        &in.ndx), CB_OK);
    assert_int_equal(cb_drg_split_codes(&w, 1, cb_str_c(px), &in.px,
                                        &in.npx), CB_OK);
    assert_int_equal(cb_drg_group(s, &in, CB_DRG_TR_OFF, &w, &r), CB_OK);
    assert_string_equal(r.drg, want_drg);
    cb_drg_work_release(&w);
}

static void
test_load_base(void **state)
{
    struct cb_drg_counts c;
    struct cb_drg_scheme *s;
    char dir[512], path[512], hex[65];
    size_t len;
    (void)state;

    make_pkg(dir, sizeof(dir), &BASE);
    s = load_ok(dir, NULL);                   /* full verification */
    memset(&c, 0xff, sizeof(c));
    cb_drg_scheme_counts(s, &c);
    assert_int_equal(c.mdcs, 2);
    assert_int_equal(c.rules, 3);
    assert_int_equal(c.drgs, 5);
    assert_int_equal(c.lists, 3);
    assert_int_equal(c.list_entries, 6);
    assert_int_equal(c.cc, 2);
    assert_int_equal(c.mcc, 1);
    assert_int_equal(c.excl_principals, 2);
    assert_true(c.codes > 0);
    assert_string_equal(cb_drg_scheme_id(s), "t-load");
    assert_string_equal(cb_drg_scheme_name(s), "Test Load 1.0");
    assert_string_equal(cb_drg_scheme_dir(s), dir);
    assert_true(cb_drg_scheme_has_maps(s));
    assert_true(cb_drg_scheme_memory(s) > 0);
    /* the digest is the SHA-256 of manifest.json */
    path_of(path, sizeof(path), dir, "manifest.json");
    sha256_file(path, hex, &len);
    assert_string_equal(cb_drg_scheme_digest(s), hex);
    /* names from dict/ */
    assert_string_equal(cb_drg_drg_name(s, cb_str_c("BB13")), "测试组BB13");
    assert_string_equal(cb_drg_dx_name(s, cb_str_c("A01")), "测试诊断甲");
    assert_string_equal(cb_drg_px_name(s, cb_str_c("01.01")), "测试手术");
    assert_null(cb_drg_drg_name(s, cb_str_c("ZZ99")));
    assert_null(cb_drg_dx_name(s, cb_str_c("A02")));
    assert_null(cb_drg_dx_name(s, cb_str_c("a01")));
    /* and it groups */
    group_one(s, "A02|M1", "01.01", "AA11");
    group_one(s, "A01|M1", "01.01", "AA15");  /* M1 excluded by table 1 */
    group_one(s, "A02", "", "0000");   /* MDCA falls through, no MDCB */
    group_one(s, "A02", "01.01", "AA15");
    group_one(s, "B02|C1", "", "BB13");
    group_one(s, "B01|C1", "", "BB15");  /* C1 excluded by table 2 */
    cb_drg_scheme_free(s);
}

static void
test_load_skip_dicts_maps(void **state)
{
    struct cb_drg_load_opts opts = { .skip_dicts = true, .skip_maps = true };
    struct cb_drg_scheme *s;
    char dir[512];
    (void)state;

    make_pkg(dir, sizeof(dir), &BASE);
    s = load_ok(dir, &opts);
    assert_false(cb_drg_scheme_has_maps(s));
    assert_null(cb_drg_drg_name(s, cb_str_c("BB13")));
    assert_null(cb_drg_dx_name(s, cb_str_c("A01")));
    assert_string_equal(cb_drg_scheme_id(s), "t-load");
    cb_drg_scheme_free(s);
}

/* maps/ is optional (§1): a package without it loads, without maps. */
static void
test_load_without_maps(void **state)
{
    struct variant v = BASE;
    struct cb_drg_scheme *s;
    char dir[512];
    (void)state;

    v.no_maps = true;
    make_pkg(dir, sizeof(dir), &v);
    s = load_ok(dir, NULL);
    assert_false(cb_drg_scheme_has_maps(s));
    cb_drg_scheme_free(s);
}

/* Correct checksums pass; one flipped byte fails unless checks are skipped. */
static void
test_checksums(void **state)
{
    struct cb_drg_load_opts skip = { .skip_checksums = true };
    struct cb_buf err = CB_BUF_INIT;
    struct cb_drg_scheme *s = NULL;
    char dir[512], path[512];
    unsigned char *data;
    size_t len;
    FILE *f;
    (void)state;

    make_pkg(dir, sizeof(dir), &BASE);
    s = load_ok(dir, NULL);
    cb_drg_scheme_free(s);

    /* flip one byte of a code in cc_exclusion.tsv: "B01" -> "C01" */
    path_of(path, sizeof(path), dir, "cc_exclusion.tsv");
    data = slurp(path, &len);
    assert_non_null(data);
    assert_non_null(strstr((char *)data, "B01\t2"));
    data[strstr((char *)data, "B01\t2") - (char *)data] ^= 0x01;
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(data);

    s = NULL;
    assert_int_equal(cb_drg_scheme_load(dir, NULL, &s, &err), CB_ERR_PROTO);
    if (!strstr(cb_buf_cstr(&err), "cc_exclusion.tsv"))
        fail_msg("message lacks the file: %s", cb_buf_cstr(&err));
    cb_buf_release(&err);

    s = load_ok(dir, &skip);
    cb_drg_scheme_free(s);
}

/* count in lists_index.tsv is distinct codes: a repeated row is not counted. */
static void
test_duplicate_list_row(void **state)
{
    struct variant v = EDIT(LISTS, "MDCB.dx\tB02\n",
                            "MDCB.dx\tB02\nMDCB.dx\tB02\n");
    struct cb_drg_scheme *s;
    char dir[512];
    (void)state;

    make_pkg(dir, sizeof(dir), &v);
    s = load_ok(dir, NULL);
    group_one(s, "B02|C1", "", "BB13");
    cb_drg_scheme_free(s);
}

static void
check_real(const char *rel, const char *id, const struct cb_drg_counts *want)
{
    struct cb_drg_counts c;
    struct cb_drg_scheme *s;
    const char *dir = tu_shared(rel);
    char path[4096], hex[65];
    const char *d;
    size_t len, i;

    s = load_ok(dir, NULL);
    cb_drg_scheme_counts(s, &c);
    assert_string_equal(cb_drg_scheme_id(s), id);
    assert_int_equal(c.mdcs, want->mdcs);
    assert_int_equal(c.rules, want->rules);
    assert_int_equal(c.drgs, want->drgs);
    assert_int_equal(c.lists, want->lists);
    assert_int_equal(c.list_entries, want->list_entries);
    assert_int_equal(c.cc, want->cc);
    assert_int_equal(c.mcc, want->mcc);
    assert_int_equal(c.excl_principals, want->excl_principals);
    assert_true(cb_drg_scheme_has_maps(s));
    d = cb_drg_scheme_digest(s);
    assert_int_equal(strlen(d), 64);
    for (i = 0; i < 64; i++)
        assert_non_null(strchr("0123456789abcdef", d[i]));
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    sha256_file(path, hex, &len);
    assert_string_equal(d, hex);
    assert_string_equal(cb_drg_mdc_code(s, 0), "MDCA");
    cb_drg_scheme_free(s);
}

static void
test_real_chs(void **state)
{
    static const struct cb_drg_counts want = {
        .mdcs = 26, .rules = 376, .drgs = 628, .lists = 446,
        .list_entries = 99644, .cc = 16568, .mcc = 4678,
        .excl_principals = 28302,
    };
    (void)state;
    check_real("data/chs-drg-1.1", "chs-drg-1.1", &want);
}

static void
test_real_bj(void **state)
{
    static const struct cb_drg_counts want = {
        .mdcs = 26, .rules = 381, .drgs = 696, .lists = 444,
        .list_entries = 100316, .cc = 16568, .mcc = 4676,
        .excl_principals = 28302,
    };
    (void)state;
    check_real("data/bj-drg-2022", "bj-drg-2022", &want);
}

/* ---- setup ------------------------------------------------------------------- */

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
    snprintf(g_root, sizeof(g_root), "/tmp/cb-drg-loader.XXXXXX");
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
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_load_base),
        cmocka_unit_test(test_load_skip_dicts_maps),
        cmocka_unit_test(test_load_without_maps),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_duplicate_list_row),
        cmocka_unit_test(test_real_chs),
        cmocka_unit_test(test_real_bj),
    };
    enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
    static struct CMUnitTest tests[NFIXED + NCASES];
    size_t i;

    for (i = 0; i < NFIXED; i++)
        tests[i] = fixed[i];
    for (i = 0; i < NCASES; i++) {
        tests[NFIXED + i].name = cases[i].name;
        tests[NFIXED + i].test_func = run_case;
        tests[NFIXED + i].setup_func = NULL;
        tests[NFIXED + i].teardown_func = NULL;
        tests[NFIXED + i].initial_state = (void *)&cases[i];
    }
    return _cmocka_run_group_tests("test_drg_loader", tests, NFIXED + NCASES,
                                   setup, teardown);
}
