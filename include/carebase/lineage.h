/*
 * lineage.h - the cases behind an indicator value: which stored records a
 * numerator's or a denominator's counter counts for a scope and period
 * (with what each adds to it), their details from the store, and each
 * one's DRG grouping trace. `carebase cases` and the server's /api/cases
 * and /api/case are thin front ends over this module.
 *
 *   selection  cb_lineage_select (src/ind/lineage.c): pure, over an
 *              engine's facts. A case is in the counter when its own fact
 *              gives the counter a value > 0, as cb_engine_fact_counters()
 *              computes it: the code the aggregation runs, so the count
 *              (and for sums, the sum of the contributions) is the value
 *              the indicator engine gives for the same scope.
 *   details    cb_case_fetch / cb_case_find (src/store/store_case.c): the
 *              key, dates, department, doctor, LYFS and DRG result of
 *              stored records; on request their diagnosis and procedure
 *              codes, patient identifiers, and the grouping trace.
 *   trace      struct cb_case_tracer (src/store/store_trace.c): the stored
 *              record decoded and grouped again with the trace on, with the
 *              scheme its stored result was made with (checked against the
 *              digest it was installed with), code translation on where the
 *              scheme has maps, as the import groups.
 *
 * Patient identifiers (names, ID numbers, addresses, phone numbers) are
 * fetched only when CB_CASE_IDS is asked for; deciding who may see them is
 * the front end's job.
 */
#ifndef CAREBASE_LINEAGE_H
#define CAREBASE_LINEAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/engine.h"
#include "carebase/err.h"
#include "carebase/store.h"

/* ---- counters, for display ---------------------------------------------- */

/* What a counter sums. */
enum cb_counter_kind { CB_CK_COUNT, CB_CK_MONEY, CB_CK_DAYS, CB_CK_REAL };

struct cb_counter_info {
    int                  id;        /* cb_counter_by_name() value */
    char                 name[32];  /* "surgical", "cohort3_los", "tw", "drg_count" */
    enum cb_counter_kind kind;
};

/* Describes counter id (an indicator's num or den). Cannot fail. */
void cb_counter_describe(int id, struct cb_counter_info *out);
/* A contribution as shown: money (kept in fen) in yuan, the rest as is. */
double cb_counter_shown(const struct cb_counter_info *c, double v);
/* The same as text into buf: "12.50" yuan, "3" cases or days, "%.12g" reals. */
void cb_counter_format(const struct cb_counter_info *c, double v, char *buf, size_t n);
/* The unit of a contribution: 元/yuan, 天/days, 例/cases, 权重/weight, 比值/ratio. */
const char *cb_counter_unit(const struct cb_counter_info *c, bool zh);

/* ---- selection ------------------------------------------------------------- */

/* Which facts are in scope. Masks are indexed by the facts' ids; an id at
 * or past a mask's length is out of scope; a NULL mask admits every id. */
struct cb_lineage_scope {
    uint16_t       day_from, day_to;   /* discharge days (fact.day), inclusive */
    const uint8_t *hospitals;          /* allowed[fact.hospital] */
    size_t         nhospitals;
    const uint8_t *depts;              /* allowed[fact.dept] */
    size_t         ndepts;
    const uint8_t *doctors;            /* allowed[fact.doctor] */
    size_t         ndoctors;
    /* Paging (cb_lineage.hits): keep only the cases at ranks [offset,
       offset + limit) in record-id order; limit 0 keeps them all. Counting
       and summing always cover every case. Memory: offset + limit cases. */
    size_t         offset, limit;
};

/* A case in the selection. */
struct cb_lineage_hit {
    int64_t record_id;
    double  contrib;       /* the counter's value for this case alone (money in fen) */
};

struct cb_lineage {
    struct cb_lineage_hit *hits;   /* the kept cases, sorted by record id */
    size_t                 nhits;
    size_t                 count;  /* every case with a contribution > 0 */
    double                 sum;    /* of every case's contribution */
    struct cb_agg          total;  /* every fact in scope, added up: for
                                      cb_indicator_eval (the indicator's value) */
    int                    words;  /* of total.drgs: its ndrg_words */
};

/*
 * Selects the facts of e in scope s whose counter (cb_counter_by_name
 * value) is > 0 with reference ref (NULL: the DRG counters stay 0), into
 * out (owned: cb_lineage_release, also after a failure). Reads e only:
 * callers that share e with writers hold their read lock. CB_ERR_NOMEM.
 */
CB_MUST_CHECK enum cb_err cb_lineage_select(const struct cb_engine *e,
                                            const struct cb_lineage_scope *s,
                                            const struct cb_engine_ref *ref, int counter,
                                            struct cb_lineage *out);
void cb_lineage_release(struct cb_lineage *l);

/*
 * A mask for cb_lineage_scope over the ids 0..n-1 of a dimension whose
 * names are names[] (the engine's departments or doctors): 1 where the name
 * is want, *matches of them. n + 1 bytes, the caller's (cb_free); NULL only
 * when out of memory.
 */
uint8_t *cb_lineage_name_mask(char *const *names, int n, const char *want, int *matches);

/* ---- the trace ----------------------------------------------------------- */

struct cb_case_tracer;

/*
 * Reads the installed DRG schemes of st; each is loaded when a record
 * first needs it (and the list read again when a record names a scheme
 * installed since). The tracer is not bound to st: it may serve several
 * stores of one database, one call at a time (callers that share it hold
 * a lock). CB_ERR_NOMEM, CB_ERR_DB.
 */
CB_MUST_CHECK enum cb_err cb_case_tracer_new(struct cb_case_tracer **out, struct cb_store *st,
                                             struct cb_buf *err);
void cb_case_tracer_free(struct cb_case_tracer *t);

/* ---- details ----------------------------------------------------------------- */

/* The text fields of a case, in this order (docs and exports follow it). */
enum cb_case_field {
    CB_CASE_HOSPITAL,      /* ZZJGDM */
    CB_CASE_BAH,
    CB_CASE_ZYCS,
    CB_CASE_CYSJ,          /* discharge date, YYYY-MM-DD */
    CB_CASE_DEPT,          /* CYKB code */
    CB_CASE_DEPT_NAME,     /* the department's stored name */
    CB_CASE_DOCTOR,        /* ZZYS */
    CB_CASE_LYFS,
    CB_CASE_DRG,           /* the stored DRG result: code, status, scheme */
    CB_CASE_DRG_STATUS,
    CB_CASE_DRG_SCHEME,
    CB_CASE__N
};

/* The patient identifiers of a record (CB_CASE_IDS), in this order: name,
 * ID number, health card, addresses, phone numbers, contact. XM and SFZH
 * come first: lists show those two. */
#define CB_CASE_NIDS 11
extern const char *const cb_case_id_keys[CB_CASE_NIDS];

enum cb_case_flags {
    CB_CASE_TRACE      = 1u << 0,  /* trace_zh, trace_en (needs a tracer) */
    CB_CASE_TRACE_JSON = 1u << 1,  /* trace_json (needs a tracer) */
    CB_CASE_CODES      = 1u << 2,  /* dx, px */
    CB_CASE_IDS        = 1u << 3,  /* ids[] */
};

/* A case's details; every string lives in the arena given to the fetch,
 * NULL when the store has none. */
struct cb_case {
    int64_t     record_id;
    bool        found;                 /* false: no such record (any more) */
    const char *v[CB_CASE__N];
    const char *trace_zh, *trace_en;   /* CB_CASE_TRACE: text, or the reason
                                          there is none */
    const char *trace_json;            /* CB_CASE_TRACE_JSON: an object, or
                                          NULL when there is no trace */
    const char *dx, *px;               /* CB_CASE_CODES: the record's JSON
                                          texts (docs/architecture.md) */
    const char *ids[CB_CASE_NIDS];     /* CB_CASE_IDS, by cb_case_id_keys */
};

/* At most this many records per cb_case_fetch call. */
#define CB_CASE_FETCH_MAX 1000

/*
 * The details of hits[0..n) (n <= CB_CASE_FETCH_MAX) into out[0..n), in
 * one query; flags: enum cb_case_flags; tracer may be NULL without the
 * trace flags. Strings go to a. A record that was removed since the
 * selection gets found = false. CB_ERR_NOMEM, CB_ERR_DB, CB_ERR_USAGE (n
 * too large).
 */
CB_MUST_CHECK enum cb_err cb_case_fetch(struct cb_store *st, struct cb_case_tracer *tracer,
                                        const struct cb_lineage_hit *hits, size_t n,
                                        unsigned flags, struct cb_case *out,
                                        struct cb_arena *a, struct cb_buf *err);

/*
 * One case by its key (hospital ZZJGDM, BAH, ZYCS) into out, as
 * cb_case_fetch. CB_ERR_NOT_FOUND when there is none.
 */
CB_MUST_CHECK enum cb_err cb_case_find(struct cb_store *st, struct cb_case_tracer *tracer,
                                       const char *zzjgdm, const char *bah, int64_t zycs,
                                       unsigned flags, struct cb_case *out,
                                       struct cb_arena *a, struct cb_buf *err);

#endif
