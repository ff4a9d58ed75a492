/*
 * gen_int.h - internals of `carebase generate` (src/gen only).
 *
 * The generator is split by concern:
 *   gen_casemix.c  the condition archetypes (data only)
 *   gen_pool.c     code pools resolved from the dictionaries and maps
 *   gen_clinical.c diagnoses, procedures, staff, the course of a stay
 *   gen_org.c      the consortium: hospitals, departments, staff, places
 *   gen_person.c   patients: names, identity numbers, addresses
 *   gen_cost.c     length of stay and the cost breakdown
 *   gen_error.c    injected data-quality errors: choice, dates, identity,
 *                  formats, costs
 *   gen_error_clin.c  injected errors in diagnoses, procedures, newborns
 *   gen_out.c      the record row, CSV/TSV lines, GB18030, buffered writes
 *   gen.c          the driver: set-up, calendar, readmissions, the loop
 *
 * Everything derived from the seed; no global mutable state. One record is
 * built in a struct gen_row (text per canonical field, all in a scratch
 * buffer reused for every record), then written through the profile.
 */
#ifndef CB_GEN_INT_H
#define CB_GEN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "carebase/arena.h"
#include "carebase/date.h"
#include "carebase/gen.h"
#include "carebase/record.h"
#include "carebase/refdata.h"
#include "carebase/rng.h"
#include "carebase/strmap.h"

/* ---- RNG (carebase/rng.h) ---- */

/* The generator's stays clip the normal at 3.5 sigma. */
static inline double
gen__lognormal(struct cb_rng *r, double median, double sigma)
{
    return cb_rng_lognormal(r, median, sigma, 3.5);
}

/* ---- case-mix definitions (gen_casemix.c) ---- */

enum gen_level { GEN_HUB, GEN_DISTRICT, GEN_COMMUNITY, GEN_NLEVELS };

enum gen_role {
    R_RESP, R_GI, R_NEURO, R_CARDIO, R_HEMAT, R_NEPHRO, R_ENDO, R_GERI,
    R_GSURG, R_NSURG, R_ORTHO, R_URO, R_THOR, R_CSURG, R_GYN, R_OBST,
    R_PAED, R_NEO, R_EYE, R_ENT, R_ONCO, R_ICU, R_REHAB, R_TCM,
    GEN_NROLES
};

enum gen_agemodel {
    AGE_ADULT,    /* normal around age_mean, clipped to [lo, hi] */
    AGE_CHILD,    /* skewed to the young end of [lo, hi] (incl. infants) */
    AGE_NEONATE,  /* 0..28 days */
    AGE_OBST      /* women of child-bearing age */
};

/* What kind of stay: drives costs, staffing and special items. */
enum gen_kind {
    K_MED, K_SURG, K_ONCO_SURG, K_CHEMO, K_VAGINAL, K_CSECTION, K_NEONATE,
    K_TRAUMA, K_HEAD, K_ICU, K_INTERV, K_REHAB, K_DAY
};

/* Anaesthesia families, resolved to RC013 codes in gen_clinical.c. */
enum gen_anaes {
    AN_NONE, AN_GA, AN_SPINAL, AN_CSE, AN_NERVE, AN_LOCAL, AN_TOPICAL,
    AN_GA_OR_SPINAL
};

#define GEN_PAT_MAX 8   /* alternatives of a principal-diagnosis pool */
#define GEN_SEC_MAX 8   /* archetype-specific secondary diagnoses */
#define GEN_PX_MAX  6   /* procedure steps of an archetype */

/*
 * A code pattern: space-separated alternatives, each a prefix of dotted
 * codes ("J18", "43.5x") or an exact code ("=J18.900").
 */
struct gen_pat {
    const char *p;   /* pattern, NULL ends a list */
    uint16_t    w;   /* relative weight */
};

struct gen_sec {
    const char *p;    /* pattern, NULL ends the list */
    uint16_t    pm;   /* probability per mille */
    uint8_t     poa;  /* RYBQ: 1 present on admission, 4 arose in hospital */
};

struct gen_pxdef {
    const char *p;      /* pattern, NULL ends the list */
    uint8_t     pct;    /* probability in percent */
    char        cat;    /* keep codes of this category: S, I, T or D */
    uint8_t     level;  /* SSJB for 手术 / 介入治疗 */
    uint8_t     inc;    /* incision class 0..3 for 手术 */
    uint8_t     an;     /* enum gen_anaes */
    uint8_t     only;   /* 0 every level, 1 hub only, 2 hub and district */
    uint8_t     alt;    /* 1: only when the previous step did not happen */
    uint32_t    extra;  /* yuan added to the stay's cost */
};

struct gen_archdef {
    const char *id;             /* short name, for tests and debugging */
    uint8_t     role;           /* enum gen_role */
    uint8_t     kind;           /* enum gen_kind */
    uint16_t    w[GEN_NLEVELS]; /* per mille at hub, district, community */
    int8_t      season;         /* amplitude %: + winter peak, - summer peak */
    uint8_t     age;            /* enum gen_agemodel */
    uint8_t     age_lo, age_hi, age_mean, age_sd;
    uint8_t     male_pct;
    uint8_t     emerg_pct;      /* RYTJ = 1 */
    uint8_t     xin_pct;        /* RYTJ = 3 at district/community */
    float       los;            /* median length of stay (days) at the hub */
    float       los_sd;         /* log-normal sigma */
    uint32_t    cost;           /* median total cost (yuan) at the hub */
    uint16_t    death;          /* base deaths per 10,000 (scaled by
                                   severity, age and level) */
    uint8_t     sev_pct;        /* share of severe cases */
    uint8_t     day_pct;        /* elective cases done as day surgery (%) */
    uint8_t     readmit_pct;    /* readmissions scheduled */
    uint8_t     planned_pct;    /* of which planned (SFZZYJH = 2) */
    uint8_t     up_pct;         /* LYFS = 2 to the hub from lower levels */
    uint8_t     down_pct;       /* LYFS = 3 to primary care */
    const char *morph;          /* JBMM morphology pattern, or NULL */
    const char *ext;            /* external-cause pattern (trauma), or NULL */
    const char *readmit;        /* archetype id of a planned readmission */
    struct gen_pat   dx[GEN_PAT_MAX + 1];
    struct gen_sec   sec[GEN_SEC_MAX + 1];
    struct gen_pxdef px[GEN_PX_MAX + 1];
};

extern const struct gen_archdef gen__archdefs[];
extern const size_t gen__narchdefs;

/* Comorbidities by age, complications by kind (gen_casemix.c). */
extern const struct gen_sec gen__comorb[];
extern const struct gen_sec gen__comorb_female[];
extern const struct gen_sec gen__comorb_male[];
extern const struct gen_sec gen__comp_surg[];
extern const struct gen_sec gen__comp_med[];

/* ---- resolved code pools (gen_pool.c) ---- */

struct gen_code {
    struct cb_str code;           /* borrowed from the refdata */
    struct cb_str name;
    enum cb_px_category cat;      /* procedures only */
};

struct gen_pool {
    struct gen_code *c;   /* codes */
    uint32_t        *cum; /* cumulative weights (NULL = uniform) */
    uint32_t         n;
};

struct gen_pxstep {
    struct gen_pool pool;
    struct gen_pool day;     /* codes of pool in the day-surgery catalogue */
    const struct gen_pxdef *def;
};

struct gen_arch {
    const struct gen_archdef *def;
    struct gen_pool dx;                   /* principal */
    struct gen_pool sec[GEN_SEC_MAX];     /* per specific secondary */
    struct gen_pxstep px[GEN_PX_MAX];
    struct gen_pool morph;                /* JBMM */
    struct gen_pool ext;                  /* H23 */
    int  nsec, npx;
    int  readmit;                         /* archetype index or -1 */
    bool usable;                          /* principal pool not empty */
};

struct gen_seclist {            /* a resolved gen_sec list */
    struct gen_pool *pool;
    const struct gen_sec *def;
    int n;
};

/* ---- the consortium (gen_org.c) ---- */

struct gen_province {
    int         rc036;   /* RC036 code */
    const char *gb;      /* GB/T 2260 two-digit prefix */
    const char *name;
    const char *post;    /* postcode prefix */
};

extern const struct gen_province gen__provinces[];
extern const size_t gen__nprovinces;

struct gen_dept {
    char          code[8];      /* RC023 */
    const char   *name;         /* display name */
    uint8_t       role;         /* main role served */
    struct cb_str kzr;          /* department head */
    uint32_t      zrys, nzrys;  /* staff index ranges: chief physicians */
    uint32_t      zzys, nzzys;  /* attendings */
    uint32_t      zyys, nzyys;  /* residents */
    uint32_t      hs, nhs;      /* nurses */
    struct cb_str ward[3];      /* ward names */
    int           nward;
};

#define GEN_MAX_DEPTS 28

struct gen_hosp {
    int            index;
    int            level;          /* enum gen_level */
    struct cb_str  zzjgdm;
    struct cb_str  name;
    struct cb_str  username;       /* TCM upload account */
    int            district;       /* index into the consortium's districts */
    uint64_t       nrec;           /* records to write */
    struct gen_dept dept[GEN_MAX_DEPTS];
    int            ndept;
    int            role_dept[GEN_NROLES]; /* dept index per role, -1 none */
    struct cb_str *staff;          /* all staff names */
    uint32_t       nstaff;
    uint32_t       anaes, nanaes;  /* anaesthetists */
    uint32_t       bmy, nbmy;      /* coders */
    uint32_t       zk, nzk;        /* QC physicians */
    uint32_t       zkhs, nzkhs;    /* QC nurses */
    uint32_t       jx, njx;        /* trainees (进修) */
    uint32_t       sx, nsx;        /* interns (实习) */
    uint32_t       bah_base;       /* first medical record number */
    uint32_t      *cum;            /* [12][narch] cumulative case-mix weights */
};

struct gen_place {
    struct cb_str name;            /* district or county name */
    char          region[7];       /* 6-digit administrative code (synthetic) */
    char          post[7];         /* postcode */
    bool          county;          /* rural county (县) rather than urban 区 */
};

#define GEN_MAX_PLACES 8

struct gen_org {
    int            prov;           /* RC036 code of the province */
    struct cb_str  prov_name;      /* "某某省" */
    struct cb_str  city;           /* "某某市" */
    struct cb_str  consortium;     /* consortium name */
    char           area[6];        /* telephone area code "0xxx" */
    struct gen_place place[GEN_MAX_PLACES];
    int            nplace;
};

/* ---- the generator ---- */

struct gen_row {
    struct cb_str v[CB_FP_NFIELDS]; /* canonical text; len 0 = empty */
    uint16_t      touched[CB_FP_NFIELDS * 2]; /* fields set since clear */
    size_t        ntouched;
    char         *sp;               /* scratch for formatted values */
    size_t        slen, scap;
};

struct cb_gen {
    struct cb_gen_opts        opts;
    const struct cb_refdata  *rd;
    const struct cb_profile  *profile;
    enum cb_std               std;
    struct cb_arena           arena;      /* lives as long as the generator */
    uint8_t                   want[CB_FP_NFIELDS]; /* dialect has a column */
    int                      *colfield;   /* field per output column */
    size_t                    ncols;

    /* case mix */
    struct gen_arch          *arch;
    size_t                    narch;
    struct gen_seclist        comorb, comorb_f, comorb_m, comp_surg, comp_med;
    struct cb_strmap          daysurg;    /* day-surgery procedure prefixes */
    struct gen_pool           ssi;        /* surgical-site infection codes */
    struct gen_pool           morph_all;  /* morphology codes by site */
    struct gen_pool           misc;       /* Z37 outcomes, cardiac arrest */

    /* consortium */
    struct gen_org            org;
    struct gen_hosp          *hosp;
    int                       nhosp;
    struct cb_str             outside_tertiary; /* receiver outside */
    struct cb_str             outside_primary;

    /* per-record state */
    struct gen_row            row;
    struct cb_buf             line;       /* one output line (UTF-8) */
    struct cb_buf             tmp;        /* denormalised value */
    struct cb_buf             out;        /* pending output bytes */
    void                     *iconv;      /* iconv_t, (void *)-1 = UTF-8 */
};

/* gen_pool.c */
CB_MUST_CHECK enum cb_err gen__casemix_init(struct cb_gen *g,
                                            struct cb_buf *err);
void gen__casemix_free(struct cb_gen *g);
int  gen__arch_find(const struct cb_gen *g, const char *id);
const struct gen_code *gen__pool_pick(const struct gen_pool *p,
                                     struct cb_rng *r);
const struct gen_code *gen__pool_find(const struct gen_pool *p,
                                     const char *code);
bool gen__is_day_surgery_code(const struct cb_gen *g, struct cb_str code);
/* Appends a line per empty pool to out; returns their number (tests). */
size_t gen__casemix_report(const struct cb_gen *g, struct cb_buf *out);

/* gen_clinical.c */
const char *gen__anaes_code(enum gen_anaes an, struct cb_rng *r);
/* 0 any sex, 1 male only, 2 female only (spec QC-DX-07 starter lists). */
int  gen__code_sex(struct cb_str code);

/* gen_org.c */
CB_MUST_CHECK enum cb_err gen__org_init(struct cb_gen *g, struct cb_buf *err);
void gen__org_free(struct cb_gen *g);
struct cb_str gen__staff(const struct gen_hosp *h, uint32_t first,
                        uint32_t n, struct cb_rng *r);
/* Writes a person's name (2-3 characters) into out (>= 16 bytes). */
size_t gen__person_name(struct cb_rng *r, int sex, char *out);
/* A place name of two syllables into out (>= 8 bytes). */
size_t gen__place_word(struct cb_rng *r, char *out);
void   gen__zzjgdm(struct cb_rng *r, char out[11]);
void   gen__uscc(struct cb_rng *r, const char *region6, char out[19]);
char   gen__id_check(const char *first17);

/* Text building without snprintf (hot path). */
static inline size_t
gen_putz(char *o, size_t at, const char *z)
{
    size_t n = strlen(z);

    memcpy(o + at, z, n);
    return at + n;
}

static inline size_t
gen_puts(char *o, size_t at, struct cb_str s)
{
    if (s.len)
        memcpy(o + at, s.ptr, s.len);
    return at + s.len;
}

/* Decimal, at least width digits (zero padded). */
static inline size_t
gen_putn(char *o, size_t at, uint64_t v, int width)
{
    char t[24];
    int n = 0;

    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < width)
        t[n++] = '0';
    while (n)
        o[at++] = t[--n];
    return at;
}

/* gen_out.c: the row, output lines, buffered writes */
#define GEN_SCRATCH_SIZE (256 * 1024)  /* formatted values of one record */
#define GEN_FLUSH_AT     (1024 * 1024) /* output buffered before fwrite */

CB_MUST_CHECK enum cb_err gen__write_header(struct cb_gen *g,
                                            struct cb_buf *err);
/* Writes g->row as one line through the profile (denormalised values). */
CB_MUST_CHECK enum cb_err gen__write_row(struct cb_gen *g,
                                         struct cb_buf *err);
/* Writes the pending output when over GEN_FLUSH_AT, or always if force. */
CB_MUST_CHECK enum cb_err gen__flush(struct cb_gen *g, FILE *f, bool force,
                                     struct cb_buf *err);

void gen__row_clear(struct cb_gen *g);
void gen__set(struct cb_gen *g, int f, struct cb_str s);
void gen__setz(struct cb_gen *g, int f, const char *z);
void gen__setb(struct cb_gen *g, int f, const char *p, size_t n); /* copies */
void gen__seti(struct cb_gen *g, int f, int64_t v);
void gen__setm(struct cb_gen *g, int f, int64_t fen);
void gen__setd(struct cb_gen *g, int f, int64_t day);
void gen__setdt(struct cb_gen *g, int f, int64_t secs);
void gen__unset(struct cb_gen *g, int f);
static inline bool
gen_has(const struct cb_gen *g, int f)
{
    return g->row.v[f].len > 0;
}

/* ---- one stay (gen_person.c, gen_clinical.c, gen_cost.c) ---- */

#define GEN_MAX_OTHER_DX 10
#define GEN_MAX_PROCS    8

struct gen_patient {
    uint64_t seed;        /* identity: name, ID, address follow from it */
    int      sex;         /* 1 male, 2 female */
    int64_t  birth;       /* day number */
    int      place;       /* home place index, -1 = out of province */
    int      prov;        /* RC036 province of origin */
};

struct gen_proc {
    const struct gen_code  *c;
    const struct gen_pxdef *def;
    int64_t     when;     /* secs */
    int         level;    /* SSJB, 0 = none */
    int         inc;      /* incision class 0..3, -1 = none */
    int         heal;     /* healing grade 1..4, 0 = none */
    const char *mzfs;     /* RC013 code or NULL */
    bool        mzys;     /* an anaesthetist is named */
};

struct gen_dx {
    const struct gen_code *c;
    int poa;              /* RC027 */
};

struct gen_case {
    const struct gen_hosp *h;
    const struct gen_arch *a;
    int        ai;            /* archetype index */
    struct gen_patient pt;
    uint32_t   bah;
    int        zycs;
    bool       readmission;
    bool       planned_this;  /* this stay was planned at the previous one */
    bool       planned_next;  /* SFZZYJH = yes */
    int        next_arch;     /* archetype of the next stay, -1 none */
    int64_t    age_days;      /* age in days at admission */
    int        age_y, age_d;  /* NL; BZYZS_NL when NL = 0 */
    int        sev;           /* 0 mild, 1 moderate, 2 severe */
    int        rytj;
    bool       day_surgery;
    int64_t    adm, dis;      /* secs */
    int        los;           /* SJZYTS */
    int        lyfs;
    struct cb_str receiver;   /* receiving institution for LYFS 2/3 */
    int        dept, dept_in; /* CYKB, RYKB indices into h->dept */
    bool       via_icu;
    int        icu;           /* ICU department index, -1 none */
    struct gen_dx prin;
    struct gen_dx other[GEN_MAX_OTHER_DX];
    int        nother;
    struct gen_proc px[GEN_MAX_PROCS];
    int        npx;
    bool       surgical;      /* any 手术 or 介入治疗 */
    bool       has_op;        /* any 手术 */
    bool       anaesthesia;   /* any MZFS */
    bool       blood;         /* transfusion */
    bool       ssi;           /* surgical-site infection (healing 丙) */
    bool       pathology;     /* a pathology report (JBMM, excisions) */
    uint32_t   extra;         /* yuan of procedure costs */
    int        weights[5];    /* birth weights (mother's newborns, neonate) */
    int        nweights;
    int        adm_weight;    /* neonatal admissions: XSERYTZ */
    int        pay;           /* payment index (gen__pay_code) */
    int64_t    cost[CB_F__SCALARS]; /* fen per cost field (scalar ids) */
};

/* gen_person.c */
void gen__patient_fill(struct cb_gen *g, const struct gen_case *c);
int  gen__pay_index(const struct cb_gen *g, const struct gen_patient *pt,
                   int age);
const char *gen__pay_code(int i);   /* RC032 code of a payment index */
#define GEN_PAY_SELF 9             /* index of "7" 全自费 */

/* gen_clinical.c, in call order */
void gen__course(struct cb_gen *g, struct gen_case *c, struct cb_rng *r);
void gen__procedures_timed(struct cb_gen *g, struct gen_case *c,
                          struct cb_rng *r);
void gen__diagnoses(struct cb_gen *g, struct gen_case *c, struct cb_rng *r);
void gen__clinical_fill(struct cb_gen *g, const struct gen_case *c,
                       struct cb_rng *r);

/* gen_cost.c */
int  gen__los(const struct cb_gen *g, const struct gen_case *c,
             struct cb_rng *r);
void gen__costs(struct cb_gen *g, struct gen_case *c, struct cb_rng *r);
void gen__costs_fill(struct cb_gen *g, const struct gen_case *c);

/* gen_error.c */
#define GEN_PENDING 32

struct gen_errstate {            /* per hospital */
    uint32_t bah[64];            /* recent (BAH, ZYCS) keys, for duplicates */
    int      zycs[64];
    int      n, next;
    uint8_t  pending[GEN_PENDING]; /* rules waiting for a fitting record */
    uint16_t tries[GEN_PENDING];
    int      npending;
};

/* gen_error.c, gen_error_clin.c internals: one injection attempt. */
struct gen_ictx {
    struct cb_gen             *g;
    struct gen_case           *c;
    struct cb_rng            *r;
    const struct gen_errstate *keys;
    int                        field;   /* out: the field carrying the error */
};

bool gen__can(const struct gen_ictx *x, int f);
bool gen__unset_to(struct gen_ictx *x, int f);
int  gen__pick_slot(const struct gen_ictx *x,
                    bool (*pred)(const struct gen_proc *));
bool gen__is_op(const struct gen_proc *p);
bool gen__surg_or_interv(const struct gen_proc *p);
bool gen__not_surgical(const struct gen_proc *p);
bool gen__any_proc(const struct gen_proc *p);
/*
 * Injectors: each checks that the record offers the occasion (and that the
 * dialect has the columns) and returns false without touching anything
 * when it does not; otherwise it spoils the row and sets x->field.
 */
bool gen__e_adm_weight_infant(struct gen_ictx *x);
bool gen__e_allergy(struct gen_ictx *x);
bool gen__e_autopsy_alive(struct gen_ictx *x);
bool gen__e_blood_type(struct gen_ictx *x);
bool gen__e_coma(struct gen_ictx *x);
bool gen__e_coma_empty(struct gen_ictx *x);
bool gen__e_doctor(struct gen_ictx *x);
bool gen__e_dx_name(struct gen_ictx *x);
bool gen__e_dx_poa(struct gen_ictx *x);
bool gen__e_dx_repeat(struct gen_ictx *x);
bool gen__e_dx_unknown(struct gen_ictx *x);
bool gen__e_incision_zero_healed(struct gen_ictx *x);
bool gen__e_invalid_principal(struct gen_ictx *x);
bool gen__e_morph_format(struct gen_ictx *x);
bool gen__e_neonate_birth_weight(struct gen_ictx *x);
bool gen__e_no_adm_weight(struct gen_ictx *x);
bool gen__e_no_autopsy(struct gen_ictx *x);
bool gen__e_no_birth_weight(struct gen_ictx *x);
bool gen__e_no_external(struct gen_ictx *x);
bool gen__e_no_morph(struct gen_ictx *x);
bool gen__e_no_purpose(struct gen_ictx *x);
bool gen__e_no_receiver(struct gen_ictx *x);
bool gen__e_px_anaes(struct gen_ictx *x);
bool gen__e_px_anaesthetist(struct gen_ictx *x);
bool gen__e_px_assistant(struct gen_ictx *x);
bool gen__e_px_date(struct gen_ictx *x);
bool gen__e_px_date_other(struct gen_ictx *x);
bool gen__e_px_level(struct gen_ictx *x);
bool gen__e_px_level_unexpected(struct gen_ictx *x);
bool gen__e_px_slot1(struct gen_ictx *x);
bool gen__e_px_unknown(struct gen_ictx *x);
bool gen__e_sex(struct gen_ictx *x);
bool gen__e_twin_weight(struct gen_ictx *x);
bool gen__e_weight_10g(struct gen_ictx *x);
bool gen__e_weight_range(struct gen_ictx *x);

/*
 * Gives the filled row one realistic error; returns the QC rule id (as in
 * data/qc/rules.tsv) it should trip and sets *field (canonical field id),
 * or NULL when no error could be placed. Rules are drawn by weight; a rule
 * drawn for a record that offers no occasion for it waits in st->pending
 * for a record that does, so rare occasions (deaths, deliveries, injuries)
 * still get their share.
 */
const char *gen__inject(struct cb_gen *g, struct gen_case *c,
                       struct cb_rng *r, struct gen_errstate *st,
                       int *field);

#endif
