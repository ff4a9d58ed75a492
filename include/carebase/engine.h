/*
 * engine.h - the indicator engine: facts as columns in memory, aggregated
 * in one pass into additive counters per (unit, period), and indicator
 * values as ratios of counters named by the indicator catalogue (data).
 *
 * Memory: the engine keeps each discharge's struct cb_fact (40 bytes) and
 * an index from record id to position (about 8-13 bytes per discharge); a
 * query builds a day -> period table and prepares the reference once, and
 * allocates nothing per record.
 *
 * Counters are sums, so partial aggregates (per hospital, department,
 * month and DRG) merge by addition; the DRG count is a union of bitsets.
 * The same aggregation is a GROUP BY over the fact table in SQL.
 *
 * The cube: the engine also keeps those partial aggregates, per (hospital,
 * department, month) cell the counters that do not depend on the DRG
 * reference and per DRG a tally (cases, deaths, cost and LOS sums) from
 * which the reference's counters are derived at query time; put and remove
 * keep them in step (a few bytes per discharge: cells are tens of
 * thousands). A query by consortium, hospital or department over whole
 * months (or all days) reads the cells instead of the facts, with the same
 * results (integers equal; the real sums tw/cei/tei may differ in the last
 * bits: they are summed per DRG). A query by doctor or over a range that
 * is not whole months is a pass over the facts. Department ids must be
 * interned per hospital (the store does), so a department has one hospital.
 */
#ifndef CAREBASE_ENGINE_H
#define CAREBASE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/indicator.h"

/* ---- counters --------------------------------------------------------- */

#define CB_COUNTERS(X) \
    X(n)                 /* discharges D(P) */                          \
    X(surgical)          /* surgical(r) */                              \
    X(elective_surgical) /* surgical and elective (#3 denominator) */   \
    X(s8_den)            /* surgical, elective, not obstetric/neonatal */ \
    X(s8_num)            /* ... with a complication (C, RYBQ = 4) */    \
    X(day24)             /* #3 numerator */                             \
    X(day48)                                                            \
    X(mis)               /* #5 numerator */                             \
    X(level4)            /* #6 numerator (catalogue) */                 \
    X(level4_proxy)      /* #6 local proxy (SSJB = 4) */                \
    X(level3)                                                           \
    X(level3_proxy)                                                     \
    X(incision_i)        /* #9 denominator */                           \
    X(ssi_i)             /* #9 numerator */                             \
    X(deaths)                                                           \
    X(los)               /* sum of SJZYTS */                            \
    X(zfy)               /* sum of ZFY, fen */                          \
    X(drug)              /* fen */                                      \
    X(material)          /* fen */                                      \
    X(down_referral)     /* LYFS = 3 */                                 \
    X(down_transfer)     /* LYFS = 2 to a lower-level consortium member */ \
    X(down_referrals)    /* #2 inpatient part: either of the two */     \
    X(grouped)           /* DRG status SUCCESS */                       \
    X(drg_cases)         /* grouped, DRG has reference cases */         \
    X(drg_skipped)       /* grouped, DRG absent from the reference */   \
    X(weighted)          /* grouped with a weight */                    \
    X(zfy_weighted)      /* ZFY of those, fen */                        \
    X(risk1_n) X(risk1_deaths) X(risk2_n) X(risk2_deaths)               \
    X(risk3_n) X(risk3_deaths) X(risk4_n) X(risk4_deaths)               \
    X(risk0_n) X(risk0_deaths) X(ungraded)

enum cb_counter {
#define X(name) CB_C_##name,
    CB_COUNTERS(X)
#undef X
    CB_C__INT
};

/* Per cohort k (0..9): n, los, zfy, deaths at CB_C_COHORT + 4k + {0..3}. */
#define CB_C_COHORT CB_C__INT
#define CB_C__N (CB_C__INT + 4 * CB_COHORTS)

/* Real-valued sums (need the reference): total weight, CEI and TEI sums. */
enum cb_rcounter { CB_R_TW, CB_R_CEI, CB_R_TEI, CB_R__N };

struct cb_agg {
    int64_t  c[CB_C__N];
    double   r[CB_R__N];
    uint64_t *drgs;      /* bitset of DRG ids seen (the engine's ndrg_words) */
};

/* Counter by name ("surgical", "cohort3_deaths", "tw", "drg_count"):
 * returns an index >= 0 into c[], or -(1 + k) for r[k], or
 * CB_COUNTER_DRG_COUNT, or CB_COUNTER_UNKNOWN. */
#define CB_COUNTER_DRG_COUNT (-100)
#define CB_COUNTER_UNKNOWN   (-101)
int cb_counter_by_name(struct cb_str name);
double cb_agg_value(const struct cb_agg *a, int counter, int ndrg_words);

/* ---- the reference (per DRG id of the engine's dictionary) ----------- */

struct cb_engine_ref {
    int      ndrg;           /* entries: index = fact.drg id */
    double  *weight;         /* RW, NAN = none */
    double  *mean_cost;      /* Ē_g (fen), NAN = no reference cases */
    double  *mean_los;       /* L̄_g */
    int8_t  *risk;           /* 0..4, -1 ungraded */
};

/* Frees the arrays of a reference (cb_store_reference_map) and zeroes it. */
void cb_engine_ref_release(struct cb_engine_ref *r);

/* ---- the engine ------------------------------------------------------- */

struct cb_engine;

CB_MUST_CHECK enum cb_err cb_engine_new(struct cb_engine **out);
void cb_engine_free(struct cb_engine *e);

/* Adds or replaces (by record_id) facts. */
CB_MUST_CHECK enum cb_err cb_engine_put(struct cb_engine *e, const struct cb_fact *f,
                                        size_t n);
/* Removes a record's fact (no-op when absent). */
void   cb_engine_remove(struct cb_engine *e, int64_t record_id);
/* Makes room for n more facts (a bulk load that knows its size). */
CB_MUST_CHECK enum cb_err cb_engine_reserve(struct cb_engine *e, size_t n);
/* Gives back unused capacity after a bulk load (facts array to its size). */
void   cb_engine_shrink(struct cb_engine *e);
size_t cb_engine_count(const struct cb_engine *e);
size_t cb_engine_memory(const struct cb_engine *e);
/* Highest DRG id + 1 seen. */
int    cb_engine_ndrg(const struct cb_engine *e);
const struct cb_fact *cb_engine_facts(const struct cb_engine *e, size_t *n);

enum cb_unit { CB_UNIT_ALL = 0, CB_UNIT_HOSPITAL, CB_UNIT_DEPT, CB_UNIT_DOCTOR };
enum cb_period { CB_PERIOD_ALL = 0, CB_PERIOD_MONTH, CB_PERIOD_QUARTER, CB_PERIOD_YEAR };

struct cb_engine_query {
    enum cb_unit   unit;
    enum cb_period period;
    uint16_t       day_from, day_to;   /* inclusive, fact.day units; 0/0xFFFF = all */
    const uint8_t *hospitals;          /* NULL = all; else allowed[hospital] != 0 */
    size_t         nhospitals;
    const struct cb_engine_ref *ref;   /* NULL: DRG counters stay 0 */
    int            threads;            /* 0/1 = one */
    bool           no_cube;            /* internal (tests, benchmarks): force the full
                                          pass; so does the environment variable
                                          CB_ENGINE_NO_CUBE=1 */
};

/* One aggregated row: a unit (hospital id; hospital + dept; hospital +
 * doctor) in a period (period key: yyyymm, yyyyq (20251..20254), yyyy or 0). */
struct cb_engine_row {
    uint16_t hospital;
    uint16_t dept;
    uint32_t doctor;
    int32_t  period;
    struct cb_agg agg;
};

struct cb_engine_result {
    size_t  nrows;
    struct cb_engine_row *rows;    /* sorted by hospital, dept, doctor, period */
    int     ndrg_words;
    uint64_t *bits;                /* storage of the rows' drgs bitsets */
};

CB_MUST_CHECK enum cb_err cb_engine_query(const struct cb_engine *e,
                                          const struct cb_engine_query *q,
                                          struct cb_engine_result *out);
void cb_engine_result_release(struct cb_engine_result *r);

/*
 * Per-DRG sums of the grouped discharges (grouped, DRG id != 0) that match
 * q's day range and hospital mask (q's unit, period and reference are not
 * used), limited to the departments with depts[dept] != 0 unless depts is
 * NULL: acc[g] for g < cb_engine_ndrg(e) (the caller's array, overwritten;
 * ignored when that is 0). *total counts every matching discharge, grouped
 * or not. Served by the cube when the range is whole months (q->no_cube
 * forces the pass over the facts). Allocates nothing; cannot fail.
 */
struct cb_engine_drg_sum {
    int64_t cases, deaths;
    int64_t los, zfy;      /* sums: days, fen */
};
void cb_engine_drg_sums(const struct cb_engine *e, const struct cb_engine_query *q,
                        const uint8_t *depts, size_t ndepts,
                        struct cb_engine_drg_sum *acc, int64_t *total);

/*
 * The counters of one fact alone (a->c, a->r zeroed first; a->drgs may be
 * NULL): the same code the aggregation runs, so lineage (which cases are
 * in a numerator or a denominator) agrees with the totals by construction.
 */
void cb_engine_fact_counters(const struct cb_fact *f, const struct cb_engine_ref *ref,
                             struct cb_agg *a);

/* Period helpers: the period key of a fact day, and its first/last day. */
int32_t cb_period_key(enum cb_period p, uint16_t day);
void    cb_period_bounds(enum cb_period p, int32_t key, uint16_t *first, uint16_t *last);
/* The previous period's key, and the same period one year earlier. */
int32_t cb_period_prev(enum cb_period p, int32_t key);
int32_t cb_period_last_year(enum cb_period p, int32_t key);

/* ---- the indicator catalogue (data/indicators/catalogue-*.tsv) -------- */

enum cb_direction { CB_DIR_MONITOR = 0, CB_DIR_UP, CB_DIR_DOWN };

/* What an indicator needs besides the facts. */
enum cb_need {
    CB_NEED_DAY_SURGERY  = 1u << 0,
    CB_NEED_MIS          = 1u << 1,
    CB_NEED_LEVEL4       = 1u << 2,
    CB_NEED_LEVEL3       = 1u << 3,
    CB_NEED_COMPLICATION = 1u << 4,
    CB_NEED_COHORTS      = 1u << 5,
    CB_NEED_REFERENCE    = 1u << 6,
};

struct cb_indicator {
    char     id[32];         /* "fp.04" */
    char     no[8];          /* national number in its list, "4" */
    char     list[16];       /* 三级, 二级, support, drg */
    char     name_zh[128], name_en[128];
    char     unit[16];
    double   scale;          /* value = num / den * scale */
    enum cb_direction dir;
    bool     monitor;        /* ▲ national monitoring indicator */
    int      num, den;       /* counters (cb_counter_by_name); den = CB_COUNTER_NONE: a count */
    uint32_t needs;          /* enum cb_need */
    char     note[256];
};
#define CB_COUNTER_NONE (-102)

struct cb_indicator_set {
    int    n;
    struct cb_indicator *ind;
    char   version[64];
    char   path[1024];
};

CB_MUST_CHECK enum cb_err cb_indicators_load(struct cb_indicator_set *set,
                                             const char *path, struct cb_buf *err);
void cb_indicators_release(struct cb_indicator_set *set);
const struct cb_indicator *cb_indicator_find(const struct cb_indicator_set *set,
                                             struct cb_str id);

/* A value: computable, or not with a reason (never a silent 0). */
struct cb_ind_value {
    bool        computable;
    const char *reason;      /* "catalogue missing: mis", "empty denominator", ... */
    double      num, den;    /* den = 1 for counts */
    double      value;       /* num / den * scale */
};

/* have: the enum cb_need bits that are available (catalogues loaded, a
 * reference given). */
void cb_indicator_eval(const struct cb_indicator *ind, const struct cb_agg *a,
                       int ndrg_words, uint32_t have, struct cb_ind_value *out);

#endif
