/*
 * gen.h - a synthetic, realistic consortium of front-page records
 * (`carebase generate`), for the demo, the tests and the benchmarks.
 *
 * Deterministic for a given seed and options. All data is synthetic.
 */
#ifndef CAREBASE_GEN_H
#define CAREBASE_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/profile.h"
#include "carebase/reader.h"
#include "carebase/refdata.h"

struct cb_gen_opts {
    uint64_t    seed;
    int         hospitals;      /* members incl. the hub (>= 1), default 5 */
    int         years;          /* 1..3, default 2 */
    int         end_year;       /* last discharge year, default 2025 */
    uint64_t    records;        /* total records; 0 = derive from hospital sizes */
    double      error_rate;     /* share of records given one realistic QC error */
    const struct cb_profile *profile;  /* output dialect */
    enum cb_encoding encoding;  /* CB_ENC_UTF8 (default) or CB_ENC_GB18030 */
    char        delimiter;      /* ',' (default) or '\t' */
    const char *scheme_dir;     /* CHS-DRG package, to prefer groupable codes (may be NULL) */
};

struct cb_gen;

CB_MUST_CHECK enum cb_err cb_gen_new(struct cb_gen **out,
                                     const struct cb_gen_opts *opts,
                                     const struct cb_refdata *rd,
                                     struct cb_buf *err);
void cb_gen_free(struct cb_gen *g);

/*
 * Writes the records of every hospital (split = 0) to one stream, header
 * first. manifest (may be NULL) receives one TSV line per injected error:
 * "line<TAB>rule_id<TAB>field" (line = the physical line in out, the header
 * being line 1).
 */
CB_MUST_CHECK enum cb_err cb_gen_write(struct cb_gen *g, FILE *out,
                                       FILE *manifest, struct cb_buf *err);

/*
 * The consortium directory as TSV: "zzjgdm<TAB>name<TAB>level<TAB>consortium"
 * (level 三级 / 二级 / 基层), one line per hospital, header first.
 */
CB_MUST_CHECK enum cb_err cb_gen_write_orgs(struct cb_gen *g, FILE *out,
                                            struct cb_buf *err);

#endif
