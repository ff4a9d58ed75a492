/*
 * qc_int.h - internals of the data-quality module, shared by src/qc/ only.
 *
 * Layout of the module:
 *   qc.c        loading (rules.tsv, value sets, code lists), the rule table,
 *               issue reporting, cb_qc_check()
 *   qc_codes.c  ICD-10 code normalisation, code ranges and code sets
 *   qc_lists.c  loading the user-editable lists (invalid principal
 *               diagnoses, sex- and age-specific codes)
 *   qc_rec.c    rules on the record as a whole: presence, format, identity,
 *               dates, age, discharge, coma, department, staff, blood,
 *               allergy, costs
 *   qc_clin.c   newborn, diagnosis and procedure rules
 *
 * Every rule id used by the code is listed once in QC_RULES below; the
 * position in that list is the rule index reported in cb_qc_issue.rule.
 * data/qc/rules.tsv must list exactly the same ids (cb_qc_load checks it).
 */
#ifndef CAREBASE_QC_INT_H
#define CAREBASE_QC_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/qc.h"
#include "carebase/strmap.h"

/* X(enum suffix, id as written in rules.tsv) */
#define QC_RULES(X)                                                        \
    X(ROW_01, "QC-ROW-01")                                                 \
    X(REQ_01, "QC-REQ-01") X(REQ_02, "QC-REQ-02")                          \
    X(FMT_01, "QC-FMT-01") X(FMT_02, "QC-FMT-02") X(FMT_03, "QC-FMT-03")   \
    X(FMT_04, "QC-FMT-04")                                                 \
    X(ID_01, "QC-ID-01") X(ID_02, "QC-ID-02") X(ID_03, "QC-ID-03")         \
    X(DATE_01, "QC-DATE-01") X(DATE_02, "QC-DATE-02")                      \
    X(DATE_03, "QC-DATE-03") X(DATE_04, "QC-DATE-04")                      \
    X(DEM_01, "QC-DEM-01") X(DEM_02, "QC-DEM-02") X(DEM_02B, "QC-DEM-02b") \
    X(DEM_03, "QC-DEM-03")                                                 \
    X(NB_01, "QC-NB-01") X(NB_02, "QC-NB-02") X(NB_03, "QC-NB-03")         \
    X(NB_04, "QC-NB-04") X(NB_05, "QC-NB-05") X(NB_06, "QC-NB-06")         \
    X(NB_07, "QC-NB-07")                                                   \
    X(DIS_01, "QC-DIS-01") X(DIS_02, "QC-DIS-02") X(DIS_02B, "QC-DIS-02b") \
    X(DIS_03, "QC-DIS-03") X(DIS_04, "QC-DIS-04")                          \
    X(COMA_01, "QC-COMA-01") X(COMA_02, "QC-COMA-02")                      \
    X(DEPT_01, "QC-DEPT-01")                                               \
    X(DX_01, "QC-DX-01") X(DX_01B, "QC-DX-01b") X(DX_02, "QC-DX-02")       \
    X(DX_03, "QC-DX-03") X(DX_04, "QC-DX-04") X(DX_04B, "QC-DX-04b")       \
    X(DX_05, "QC-DX-05") X(DX_06, "QC-DX-06") X(DX_06B, "QC-DX-06b")       \
    X(DX_07, "QC-DX-07") X(DX_08, "QC-DX-08") X(DX_09, "QC-DX-09")         \
    X(PX_01, "QC-PX-01") X(PX_02, "QC-PX-02") X(PX_03, "QC-PX-03")         \
    X(PX_03B, "QC-PX-03b") X(PX_04, "QC-PX-04") X(PX_04B, "QC-PX-04b")     \
    X(PX_05, "QC-PX-05") X(PX_05B, "QC-PX-05b") X(PX_06, "QC-PX-06")       \
    X(PX_07, "QC-PX-07")                                                   \
    X(BLD_01, "QC-BLD-01") X(ALG_01, "QC-ALG-01") X(DOC_01, "QC-DOC-01")   \
    X(COST_01, "QC-COST-01") X(COST_02, "QC-COST-02")                      \
    X(COST_03, "QC-COST-03") X(COST_04, "QC-COST-04")                      \
    X(COST_05, "QC-COST-05") X(COST_06, "QC-COST-06")                      \
    X(COST_07, "QC-COST-07")

enum qc_rule {
#define X(e, id) QC_##e,
    QC_RULES(X)
#undef X
    QC__NRULES
};

extern const char *const qc__rule_ids[QC__NRULES];

/* ---- ICD-10 codes, ranges and code sets (qc_codes.c) ---- */

#define QC_NCAT 2600  /* 3-character categories A00..Z99 */
#define QC_BOUND_MAX 12

/* One list entry: a range of codes lo..hi (lo == hi for a single prefix). */
struct qc_range {
    char    lo[QC_BOUND_MAX];   /* "V01", "D07.4" (letter upper-cased) */
    char    hi[QC_BOUND_MAX];
    uint8_t lolen, hilen;
    char    text[2 * QC_BOUND_MAX + 2]; /* as written, for issue details */
};

/*
 * A set of codes given as ranges. Whole 3-character categories are
 * resolved by table lookup; ranges with decimals at an end (D07.4-D07.6)
 * mark their end categories "partial" and are then compared on the dotted
 * code. Built at load, read-only afterwards.
 */
struct qc_codeset {
    uint16_t         whole[QC_NCAT]; /* entry index + 1 covering the category */
    uint8_t          part[QC_NCAT];  /* 1: some partial range touches it */
    struct qc_range *e;
    size_t           n, cap;
};

/* A diagnosis code normalised once per record. */
struct qc_code {
    struct cb_str s;        /* trimmed, marks stripped (view into record) */
    char          up[16];   /* first bytes of s, ICD letter upper-cased */
    uint8_t       uplen;
    bool          asterisk; /* had a '*' mark */
    int           cat;      /* category index, or -1 when not ICD-shaped */
};

void qc__code_norm(struct cb_str raw, struct qc_code *c);
int  qc__cat_index(const char *p, size_t n);
bool qc__codes_equal(const struct qc_code *a, const struct qc_code *b);
/* M then 4 or 5 digits, '/', one digit (national 2.0: M81400/3). */
bool qc__is_morphology(struct cb_str s);

/* Parses "V01-Y98", "R65", "D07.4-D07.6" (also with an en dash). */
bool qc__range_parse(struct cb_str text, struct qc_range *out);
/* True when the normalised code lies in the range (see qc_codes.c). */
bool qc__range_match(const struct qc_range *rg, const struct qc_code *c);

void qc__codeset_init(struct qc_codeset *s);
void qc__codeset_release(struct qc_codeset *s);
CB_MUST_CHECK enum cb_err qc__codeset_add(struct qc_codeset *s,
                                          const struct qc_range *rg);
/* Index of a matching entry, or -1. */
int qc__codeset_match(const struct qc_codeset *s, const struct qc_code *c);

/* ---- the loaded rule set ---- */

/* Per-field facts used by the format rules, precomputed at load. */
struct qc_field {
    uint16_t max_len;  /* characters; 0 = no length check */
    uint16_t len_lim;  /* bytes beyond which QC-FMT-01 looks closer:
                          max_len, or UINT16_MAX without a check */
    uint8_t  type;     /* enum cb_fp_type */
    int8_t   vset;     /* index into cb_qc.vs for the generic FMT-02, or -1 */
    uint16_t pad;      /* 8 bytes: indexing is a shift */
};

enum qc_vs {
    QC_VS_RC013, QC_VS_RC016, QC_VS_RC023, QC_VS_RC023_TCM, QC_VS_RC027,
    QC_VS_RC029,
    QC_VS__FIXED  /* the generic FMT-02 tables follow */
};

#define QC_MAX_VS 32
#define QC_MAX_LIST 128  /* fields in the QC-REQ-01 / generic FMT-02 lists */

/* An age plausibility rule of age-specific.tsv (QC-DX-08). */
struct qc_agerule {
    struct qc_codeset set;
    bool     days;      /* bounds in days of age, else completed years */
    int64_t  min, max;  /* inclusive */
};

struct cb_qc {
    const struct cb_refdata *rd;
    enum cb_qc_sev sev[QC__NRULES];
    char          *name_zh[QC__NRULES];
    char          *name_en[QC__NRULES];
    struct cb_strmap rule_index;           /* id -> rule index */

    struct cb_strmap vs[QC_MAX_VS];        /* value sets, see enum qc_vs */
    uint64_t         vs_one[QC_MAX_VS][4]; /* their one-byte codes, as bits */
    /*
     * Their codes of 2..7 bytes packed into integers (bytes, length in the
     * top byte; 0 = free slot), open addressing: a membership test without
     * hashing the text. Longer codes are only in vs[].
     */
    uint64_t        *vs_short[QC_MAX_VS];
    uint32_t         vs_short_mask[QC_MAX_VS];
    const char      *vs_table[QC_MAX_VS];  /* "RC019" */
    int              nvs;
    struct qc_field  field[CB_FP_NFIELDS];
    int              req[QC_MAX_LIST];      /* QC-REQ-01 fields */
    int              nreq;
    int              generic[QC_MAX_LIST];  /* generic QC-FMT-02 fields */
    int              ngeneric;

    /* invalid-principal.tsv */
    struct qc_codeset inv_core, inv_ext;
    bool              inv_core_asterisk, inv_core_morph;
    bool              inv_ext_asterisk, inv_ext_morph;
    struct cb_strmap  asterisk_codes;      /* dictionary codes of kind asterisk */
    /* sex-specific.tsv */
    struct qc_codeset female, male;
    /* age-specific.tsv */
    struct qc_agerule *age;
    size_t             nage;
    /* fixed ranges of the rule definitions */
    struct qc_codeset  neoplasm_d;  /* D00-D48 (QC-DX-06) */
    struct qc_codeset  head_injury; /* S00-S09 (QC-COMA-02) */
    struct qc_codeset  ext_cause;   /* V01-Y98 (QC-DX-05) */
    struct qc_codeset  symptom;     /* R00-R99 (QC-DX-09) */
};

CB_MUST_CHECK enum cb_err qc__load_lists(struct cb_qc *qc, const char *datadir,
                                         struct cb_buf *err);
void qc__free_lists(struct cb_qc *qc);

/* ---- checking ---- */

/* Everything the rule functions share while checking one record. */
struct qc_ctx {
    const struct cb_qc  *qc;
    const struct cb_fp  *r;
    enum cb_std          std;
    struct cb_qc_result *res;
    bool     has_rysj, has_cysj;
    int64_t  rysj_day, cysj_day;          /* valid when has_* */
    bool     has_csrq;
    int64_t  csrq;
    int      ndx, npx;                    /* clamped slot counts */
    struct qc_code jbdm;                  /* principal diagnosis */
    struct qc_code dx[CB_FP_MAX_DX + 1];  /* other diagnoses, 1-based */
    enum cb_px_category cat[CB_FP_MAX_PX + 1]; /* per filled slot */
    bool     px_known[CB_FP_MAX_PX + 1];  /* code found in the dictionary */
    bool     any_surgery;
};

static inline bool
qc_on(const struct qc_ctx *c, enum qc_rule rule)
{
    return c->qc->sev[rule] != CB_SEV_OFF;
}

static inline bool
qc_empty(const struct qc_ctx *c, int id)
{
    return c->r->state[id] == CB_FS_EMPTY;
}

/* True and *v set when the field parsed (N, M, D, DT). */
static inline bool
qc_val(const struct qc_ctx *c, int id, int64_t *v)
{
    if (c->r->state[id] != CB_FS_OK)
        return false;
    *v = c->r->val[id];
    return true;
}

/*
 * Trimmed text of a field equals z (inline: with a literal z the compare
 * folds into a length test and a byte compare).
 */
static inline bool
qc__is(const struct qc_ctx *c, int id, const char *z)
{
    return cb_str_eqz(cb_str_trim(c->r->v[id]), z);
}

/* Reports an issue of rule on field (-1 for none); detail is printf-like. */
void qc__report(struct qc_ctx *c, enum qc_rule rule, int field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Canonical key of a field for details ("JBDM3"). */
const char *qc__key(int id, char *buf, size_t n);

bool qc__in_vs(const struct cb_qc *qc, int vs, struct cb_str code);

void qc__check_record(struct qc_ctx *c);    /* qc_rec.c */
void qc__check_costs(struct qc_ctx *c);     /* qc_rec.c */
void qc__check_dx(struct qc_ctx *c);        /* qc_clin.c */
void qc__check_px(struct qc_ctx *c);        /* qc_clin.c */
void qc__check_newborn(struct qc_ctx *c);   /* qc_clin.c */

#endif
