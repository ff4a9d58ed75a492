/*
 * drg.h - a data-driven DRG grouper for rule packages in the format of
 * ../shared/data/chs-drg-1.1/FORMAT.md (CHS-DRG 1.1, BJ-DRG 2022, or any
 * region's package in that format).
 *
 * A scheme is loaded once from a package directory, verified (manifest
 * checksums and sizes, list counts, unknown lists, ops and fields,
 * duplicate ids, DRGs without a split condition) and compiled: every code
 * is interned to an integer, every condition becomes a node of a flat
 * program, and list membership becomes bit tests. A loaded scheme is
 * immutable and may be shared by any number of threads.
 *
 * Grouping is a pure function of (record, scheme) that writes into a
 * caller-owned struct cb_drg_work, which holds every scratch buffer: after
 * cb_drg_work_init, grouping allocates nothing (the work grows only when a
 * record has more codes than any before it). One work per thread.
 *
 * The trace (which MDCs were tried and why, the ADRG rule that matched, the
 * DRG splits tried, the secondary diagnosis that made the case MCC/CC and
 * the ones an exclusion table removed) is recorded only when asked for, in
 * a separate copy of the grouping loop, so it costs nothing otherwise.
 */
#ifndef CAREBASE_DRG_H
#define CAREBASE_DRG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

struct cb_drg_scheme;  /* opaque, immutable after load */
struct cb_drg_work;
struct cb_fp;

/* ---- loading ------------------------------------------------------------ */

struct cb_drg_load_opts {
    bool skip_checksums;  /* do not verify manifest SHA-256 (tests of broken packages) */
    bool skip_dicts;      /* do not load dict/ names (grouping never needs them) */
    bool skip_maps;       /* do not load maps/ (code translation then unavailable) */
};

/*
 * Loads and compiles the package in dir. opts may be NULL (verify all, load
 * all). On failure returns CB_ERR_PROTO/CB_ERR_IO/CB_ERR_NOMEM and writes a
 * message naming the file, the line or JSON path, and the entry into err.
 */
CB_MUST_CHECK enum cb_err cb_drg_scheme_load(const char *dir,
                                             const struct cb_drg_load_opts *opts,
                                             struct cb_drg_scheme **out,
                                             struct cb_buf *err);
void cb_drg_scheme_free(struct cb_drg_scheme *s);

const char *cb_drg_scheme_id(const struct cb_drg_scheme *s);     /* "chs-drg-1.1" */
const char *cb_drg_scheme_name(const struct cb_drg_scheme *s);   /* "CHS-DRG 1.1" */
/* The package version: hex SHA-256 of manifest.json (which pins every data file). */
const char *cb_drg_scheme_digest(const struct cb_drg_scheme *s);
const char *cb_drg_scheme_dir(const struct cb_drg_scheme *s);
bool        cb_drg_scheme_has_maps(const struct cb_drg_scheme *s);
/* Bytes held by the loaded scheme (all its tables). */
size_t      cb_drg_scheme_memory(const struct cb_drg_scheme *s);

struct cb_drg_counts {
    int mdcs, rules, drgs, lists, list_entries, codes, cc, mcc, excl_principals;
};
void cb_drg_scheme_counts(const struct cb_drg_scheme *s, struct cb_drg_counts *c);

/* Names for display (dict/); NULL when unknown or dicts were skipped. */
const char *cb_drg_drg_name(const struct cb_drg_scheme *s, struct cb_str drg);
const char *cb_drg_dx_name(const struct cb_drg_scheme *s, struct cb_str code);
const char *cb_drg_px_name(const struct cb_drg_scheme *s, struct cb_str code);

/* ---- records ------------------------------------------------------------ */

/*
 * A record to group, as FORMAT.md §3: every scalar is text (may be empty).
 * dx[0] is the principal diagnosis, px[0] the main procedure; ndx and npx
 * are >= 1 (a record without procedures has npx = 1 and px[0] empty). The
 * views are borrowed for the duration of the call.
 */
struct cb_drg_input {
    struct cb_str index;
    struct cb_str sex, age, age_days, weight, dept, los, leaving_type;
    const struct cb_str *dx;
    const struct cb_str *px;
    int ndx, npx;
};

/*
 * Fills in from a canonical front-page record (spec c.5.1): XB, NL,
 * BZYZS_NL (only when NL = 0), XSECSTZ,
 * CYKB, SJZYTS, LYFS, JBDM + JBDM1..n, SSJCZBM1..n (empty slots skipped; no
 * procedures gives px = [""]). index is BAH. The dx/px arrays live in the
 * work. Returns CB_ERR_NOMEM only if the work could not grow.
 */
CB_MUST_CHECK enum cb_err cb_drg_input_from_fp(struct cb_drg_input *in,
                                               const struct cb_fp *fp,
                                               struct cb_drg_work *w);

/*
 * Splits a FORMAT.md §13 list field ("A|B", empty pieces kept, "" -> [""])
 * into the work's dx (which = 0) or px (which = 1) array.
 */
CB_MUST_CHECK enum cb_err cb_drg_split_codes(struct cb_drg_work *w, int which,
                                             struct cb_str field,
                                             const struct cb_str **codes, int *n);

/* ---- grouping ----------------------------------------------------------- */

enum cb_drg_status {
    CB_DRG_SUCCESS = 0,
    CB_DRG_FAIL,
    CB_DRG_QY,
    CB_DRG_CHECK_FAILED,
    CB_DRG_ZD_NOT_MAPPING,
    CB_DRG_SS_NOT_MAPPING
};
const char *cb_drg_status_name(enum cb_drg_status st);  /* "SUCCESS" */
const char *cb_drg_status_zh(enum cb_drg_status st);    /* "分组成功" */
/* Parses "SUCCESS" etc.; false when unknown. */
bool cb_drg_status_parse(struct cb_str s, enum cb_drg_status *st);

/* Optional code translation, clinical edition -> insurance edition (§11). */
enum cb_drg_translate {
    CB_DRG_TR_OFF = 0,  /* the source's default */
    CB_DRG_TR_SOURCE,   /* exactly §11, oddities included (empty px fails) */
    CB_DRG_TR_CODES     /* Carebase (spec c.5.2): §11 applied to the non-empty
                           codes; empty codes pass (a record without procedures
                           is grouped); an unmapped code stops grouping */
};

#define CB_DRG_CODE_MAX 16

struct cb_drg_result {
    enum cb_drg_status status;
    char mdc[CB_DRG_CODE_MAX];   /* "MDCB", or "0000" */
    char adrg[CB_DRG_CODE_MAX];  /* "BU2", or "00" / "QY" */
    char drg[CB_DRG_CODE_MAX];   /* "BU25", or "0000", or the ADRG */
    bool mcc, cc;                /* some secondary counts as MCC / CC (§6),
                                    computed when the search ran */
    /* For ZD_/SS_NOT_MAPPING: position of the unmapped code in dx or px
       and the code itself (a view into the input). -1 / empty otherwise. */
    int           unmapped_pos;
    struct cb_str unmapped_code;
};

/* ---- trace -------------------------------------------------------------- */

/* One MDC of the search, in order. */
struct cb_drg_trace_mdc {
    int16_t mdc;        /* index into the scheme's MDCs */
    bool    entered;    /* its entry condition held */
    int16_t rule;       /* scheme rule index that matched, or -1 (fell through) */
    int16_t rules_tried;
};

struct cb_drg_trace_split {
    int16_t drg;        /* scheme DRG index */
    bool    held;
};

struct cb_drg_trace_cc {
    int16_t pos;        /* position in dx (>= 1) */
    int8_t  level;      /* 1 CC, 2 MCC */
    bool    excluded;   /* removed by the principal's exclusion table */
    int32_t table;      /* the secondary's exclusion table (interned) */
};

struct cb_drg_trace {
    bool enabled;
    int  check;                 /* index of the check that fired, or -1 */
    int  nnormalized;           /* normalise steps that changed a field */
    int  ntranslated;           /* codes changed by translation */
    int  nmdc;
    struct cb_drg_trace_mdc *mdc;      /* capacity = scheme MDC count */
    int  nsplit;
    struct cb_drg_trace_split *split;  /* capacity = longest drgs list */
    int  ncc;
    struct cb_drg_trace_cc *cc;        /* secondaries that are CC/MCC */
    int  ncc_cap;
    int32_t principal_table;    /* exclusion table of the principal, -1 none */
};

/* ---- work --------------------------------------------------------------- */

/*
 * Per-thread scratch. Fields are private to the grouper except through the
 * functions here.
 */
struct cb_drg_work {
    const struct cb_drg_scheme *scheme;
    /* interned codes of the current record */
    int32_t *dx_id, *px_id;
    int      id_cap;
    /* list-hit bitsets: principal, all dx, secondaries, main px, all px */
    uint64_t *bits;
    int       nwords;
    int       ndx, npx;
    /* numeric fields as parsed (§4); scalar text fields after normalisation */
    double    num[4];
    struct cb_str str[8];
    bool      mcc, cc;
    int32_t   principal_table;
    /* input code arrays built by cb_drg_input_from_fp / cb_drg_split_codes */
    struct cb_str *codes[2];
    int            codes_cap[2];
    struct cb_drg_trace trace;
};

/* Binds a work to a scheme (zero the work before its first init; call
 * again to re-bind it to another scheme). */
CB_MUST_CHECK enum cb_err cb_drg_work_init(struct cb_drg_work *w,
                                           const struct cb_drg_scheme *s);
void cb_drg_work_release(struct cb_drg_work *w);

/* Switches the trace on or off for subsequent cb_drg_group calls. */
static inline void
cb_drg_work_trace(struct cb_drg_work *w, bool on)
{
    w->trace.enabled = on;
}

/*
 * Groups one record. The work must be bound to s. Never fails on bad data
 * (bad data is a status); returns CB_ERR_NOMEM only when the work could not
 * grow to a record with more codes than any before, and CB_ERR_USAGE when
 * translation is asked of a scheme loaded with skip_maps. An empty dx or px
 * (n = 0) is read as [""].
 */
CB_MUST_CHECK enum cb_err cb_drg_group(const struct cb_drg_scheme *s,
                                       const struct cb_drg_input *in,
                                       enum cb_drg_translate tr,
                                       struct cb_drg_work *w,
                                       struct cb_drg_result *out);

/*
 * Groups n records into out[0..n-1], as cb_drg_group on each, with the
 * memory of record i + 1 (its code arrays and code bytes) fetched while
 * record i is grouped: for throughput on large batches. The trace, if on,
 * is that of the last record.
 */
CB_MUST_CHECK enum cb_err cb_drg_group_batch(const struct cb_drg_scheme *s,
                                             const struct cb_drg_input *in, size_t n,
                                             enum cb_drg_translate tr,
                                             struct cb_drg_work *w,
                                             struct cb_drg_result *out);

/*
 * Writes the trace of the last cb_drg_group call on w (trace switched on) as
 * text: lang "zh" or "en". Each MDC tried with the condition that decided it
 * (each test and its value), the rule that matched, the DRG splits, the
 * MCC/CC secondaries and the exclusions. The input must be the same one.
 */
CB_MUST_CHECK enum cb_err cb_drg_explain(const struct cb_drg_scheme *s,
                                         const struct cb_drg_input *in,
                                         const struct cb_drg_work *w,
                                         const struct cb_drg_result *r,
                                         const char *lang, struct cb_buf *out);
/* The same, as a JSON object. */
CB_MUST_CHECK enum cb_err cb_drg_explain_json(const struct cb_drg_scheme *s,
                                              const struct cb_drg_input *in,
                                              const struct cb_drg_work *w,
                                              const struct cb_drg_result *r,
                                              struct cb_buf *out);

/* Scheme metadata for trace readers. */
const char *cb_drg_mdc_code(const struct cb_drg_scheme *s, int mdc);    /* "MDCA" */
const char *cb_drg_rule_id(const struct cb_drg_scheme *s, int rule);    /* "AH1_1" */
const char *cb_drg_rule_adrg(const struct cb_drg_scheme *s, int rule);  /* "AH1" */
const char *cb_drg_drg_code(const struct cb_drg_scheme *s, int drg);    /* "AH11" */
const char *cb_drg_table_name(const struct cb_drg_scheme *s, int32_t table);

#endif
