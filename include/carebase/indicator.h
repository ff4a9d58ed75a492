/*
 * indicator.h - the national assessment indicators and the DRG evaluation
 * (spec c.0, c.1, c.4, c.5, d).
 *
 * Three layers:
 *
 *   catalogues  the code lists the definitions need (complication list C,
 *               day-surgery catalogue, single-disease cohorts, and the
 *               non-public minimally-invasive, level-4 and level-3 lists,
 *               loadable by the user). Each is data with a version; a
 *               missing one makes its indicators "not computable".
 *
 *   facts       one compact row per discharge (struct cb_fact, 40 bytes),
 *               derived once from the front page and its DRG result: the
 *               dimensions, the amounts and a bit per definition of c.0/c.1.
 *               Derivation is pure; the store keeps the facts.
 *
 *   engine      the facts of a database as columns in memory; one pass
 *               adds each fact into additive partial aggregates (counters)
 *               per (unit, period); indicator values are ratios of those
 *               counters as the indicator catalogue (data) says. Partial
 *               aggregates per (hospital, department, month, DRG) merge, so
 *               the same aggregation can run as SQL on a server database.
 */
#ifndef CAREBASE_INDICATOR_H
#define CAREBASE_INDICATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/drg.h"
#include "carebase/err.h"
#include "carebase/record.h"
#include "carebase/refdata.h"
#include "carebase/str.h"

/* ---- catalogues ------------------------------------------------------ */

/* A list of code prefixes (spec c.5.4: a code matches when it starts with
 * a prefix, on the dotted code). */
struct cb_prefix_list;

enum cb_catalogue_id {
    CB_CAT_COMPLICATION = 0,  /* #8 C: surgical-complication diagnoses */
    CB_CAT_DAY_SURGERY,       /* #3: day-surgery procedures */
    CB_CAT_MIS,               /* #5: minimally invasive surgery (not public) */
    CB_CAT_LEVEL4,            /* #6: level-4 surgery (not public) */
    CB_CAT_LEVEL3,            /* 二级 #3: level-3 surgery (not public) */
    CB_CAT__N
};

struct cb_catalogue {
    bool   loaded;
    char   path[1024];
    char   version[80];     /* e.g. the file's SHA-256 prefix or a version line */
    char   source[160];
    struct cb_prefix_list *codes;
};

/* Single-disease cohorts of #10 (spec c.1 table; shared single-disease-2019.tsv). */
#define CB_COHORTS 10
struct cb_cohort {
    char  name_zh[64];
    char  name_en[64];
    bool  by_procedure;      /* principal procedure SSJCZBM1, else principal diagnosis */
    int   age_min, age_max;  /* inclusive NL bounds; -1 = none (pneumonia adult/child) */
    struct cb_prefix_list *include, *exclude;
};

struct cb_catalogues {
    struct cb_catalogue cat[CB_CAT__N];
    struct cb_cohort    cohort[CB_COHORTS];
    char   cohort_version[80];
    int    child_age;        /* pneumonia: age < child_age is a child (18) */
    int    day_surgery_hours;/* 24 */
};

/*
 * Loads the catalogues: the single-disease table and the day-surgery
 * catalogue from refdata_dir (../shared/data/nhc-2019), the complication
 * starter list from datadir/catalogues/complications.tsv, and the MIS,
 * level-4 and level-3 lists from user paths (NULL: not loaded, which makes
 * #5/#6 "not computable: catalogue missing").
 */
struct cb_catalogue_paths {
    const char *refdata_dir;
    const char *datadir;
    const char *complications;   /* NULL: datadir default */
    const char *mis, *level4, *level3;
};
CB_MUST_CHECK enum cb_err cb_catalogues_load(struct cb_catalogues *c,
                                             const struct cb_catalogue_paths *p,
                                             struct cb_buf *err);
void cb_catalogues_release(struct cb_catalogues *c);
bool cb_prefix_match(const struct cb_prefix_list *l, struct cb_str code);

/* ---- facts ----------------------------------------------------------- */

enum cb_fact_flag {
    CB_FACT_SURGICAL       = 1u << 0,  /* c.0 surgical(r) */
    CB_FACT_ELECTIVE       = 1u << 1,  /* RYTJ != 1 */
    CB_FACT_OBST_NEONATAL  = 1u << 2,  /* c.0 exclusion of #8 */
    CB_FACT_DEATH          = 1u << 3,  /* LYFS = 5 */
    CB_FACT_DAY_SURGERY    = 1u << 4,  /* #3 numerator condition (24 h) */
    CB_FACT_DAY_SURGERY_48 = 1u << 5,  /* the 48 h variant */
    CB_FACT_MIS            = 1u << 6,  /* some slot in the MIS catalogue */
    CB_FACT_LEVEL4         = 1u << 7,  /* some slot in the level-4 catalogue */
    CB_FACT_LEVEL4_PROXY   = 1u << 8,  /* some operation with SSJB = 4 (local proxy) */
    CB_FACT_LEVEL3         = 1u << 9,  /* some operation in the level-3 catalogue */
    CB_FACT_LEVEL3_PROXY   = 1u << 10, /* some operation with SSJB = 3 */
    CB_FACT_COMPLICATION   = 1u << 11, /* a diagnosis in C with RYBQ = 4 */
    CB_FACT_INCISION_I     = 1u << 12, /* some slot with incision class I */
    CB_FACT_SSI_I          = 1u << 13, /* some slot with class I and healing 丙 */
    CB_FACT_DOWN_REFERRAL  = 1u << 14, /* LYFS = 3 */
    CB_FACT_GROUPED        = 1u << 15, /* DRG status SUCCESS */
    CB_FACT_DAY_FLAG       = 1u << 16, /* the source's day-surgery flag was present (yes or no) */
    CB_FACT_TRANSFER       = 1u << 17, /* LYFS = 2 */
    CB_FACT_COST_OK        = 1u << 18, /* ZFY parsed (state OK) */
    CB_FACT_DOWN_TRANSFER  = 1u << 19, /* LYFS = 2 to a lower-level member of a
                                          consortium of the hospital (set by the
                                          store from YZZY_YLJG, spec c.5.6) */
};

/* 40 bytes per discharge. */
struct cb_fact {
    int64_t  record_id;   /* the store's record id: lineage back to the case */
    uint32_t doctor;      /* attending doctor (ZZYS), interned per database */
    uint32_t flags;       /* enum cb_fact_flag */
    uint32_t zfy;         /* total cost, yuan fen (capped at UINT32_MAX) */
    uint32_t drug;        /* drug cost: XYF + ZCYF + ZCYF1 (spec a.10), fen */
    uint32_t material;    /* consumables: HCYYCLF + YYCLF + YCXYYCLF, fen */
    uint16_t hospital;    /* the store's hospital id */
    uint16_t dept;        /* discharging department (CYKB), interned */
    uint16_t day;         /* CYSJ, days since 2000-01-01 */
    uint16_t los;         /* SJZYTS, days (capped) */
    uint16_t cohorts;     /* bit k-1: in single-disease cohort k (#10) */
    uint16_t drg;         /* interned (scheme, DRG) id; 0 = not grouped */
};

#define CB_FACT_EPOCH_DAY 10957  /* 2000-01-01 in days since 1970-01-01 */

/*
 * Derives the fact of a checked front page (spec c.0/c.1 definitions) and
 * its DRG status (grouped = SUCCESS). Pure. The dimension ids (record_id,
 * hospital, dept, doctor, drg) are left 0 for the caller, which interns
 * them.
 */
void cb_fact_derive(const struct cb_fp *fp, const struct cb_refdata *rd,
                    const struct cb_catalogues *cat, bool grouped,
                    struct cb_fact *out);

#endif
