/*
 * qc.h - the front-page data-quality rules of spec section b (QC-...).
 *
 * A rule set is loaded once from the data directory (severities and code
 * lists are data: data/qc/rules.tsv and the lists beside it) and is then read-only;
 * cb_qc_check() is pure and thread-safe. It checks one normalised, parsed
 * record (struct cb_fp after cb_fp_parse) and reports every failed rule with
 * the field and value concerned.
 *
 * Rules that need more than one record (QC-ID-02 duplicates within a file,
 * QC-ID-03 overlapping stays) are applied by the importer, which reports
 * them through cb_qc_add_issue() with the rule ids below.
 */
#ifndef CAREBASE_QC_H
#define CAREBASE_QC_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/record.h"
#include "carebase/refdata.h"

/* Which upload standard a record came in; decides profile-specific rules. */
enum cb_std { CB_STD_WESTERN, CB_STD_TCM, CB_STD_N041 };

enum cb_qc_sev { CB_SEV_OFF = 0, CB_SEV_W, CB_SEV_E };

#define CB_QC_MAX_ISSUES 64
#define CB_QC_DETAIL_MAX 200

struct cb_qc_issue {
    int            rule;    /* index into the rule table (cb_qc_rule_*) */
    enum cb_qc_sev sev;     /* severity in force for this issue */
    int            field;   /* canonical field id, or -1 */
    struct cb_str  value;   /* the offending value (borrowed from the record) */
    char           detail[CB_QC_DETAIL_MAX]; /* English, no patient data */
};

struct cb_qc_result {
    int                n;          /* issues stored (<= CB_QC_MAX_ISSUES) */
    int                nerrors;    /* issues with severity E (all, even past the cap) */
    int                nwarnings;
    int                ndropped;   /* issues beyond the cap, counted only */
    struct cb_qc_issue issue[CB_QC_MAX_ISSUES];
};

struct cb_qc;

/*
 * Loads the rule set. datadir is the Carebase data directory (default
 * data/ of the source tree); rd supplies dictionaries and value sets and
 * must outlive the rule set.
 */
CB_MUST_CHECK enum cb_err cb_qc_load(struct cb_qc **out, const char *datadir,
                                     const struct cb_refdata *rd,
                                     struct cb_buf *err);
void cb_qc_free(struct cb_qc *qc);

/* Checks r (normalised and parsed) and fills res (cleared first). */
void cb_qc_check(const struct cb_qc *qc, const struct cb_fp *r,
                 enum cb_std std, struct cb_qc_result *res);

/* Adds an issue found outside cb_qc_check (rule looked up by id). */
void cb_qc_add_issue(const struct cb_qc *qc, struct cb_qc_result *res,
                     const char *rule_id, int field, struct cb_str value,
                     const char *detail);

/* The rule table. */
int            cb_qc_rule_count(const struct cb_qc *qc);
const char    *cb_qc_rule_id(const struct cb_qc *qc, int rule);      /* "QC-DATE-02" */
const char    *cb_qc_rule_name_zh(const struct cb_qc *qc, int rule);
const char    *cb_qc_rule_name_en(const struct cb_qc *qc, int rule);
enum cb_qc_sev cb_qc_rule_sev(const struct cb_qc *qc, int rule);     /* configured default */
int            cb_qc_rule_find(const struct cb_qc *qc, const char *id); /* -1 if unknown */
const char    *cb_qc_sev_name(enum cb_qc_sev s);                      /* "E", "W", "off" */

#endif
