/*
 * sim_int.h - shared by the files of src/sim only (and its unit test).
 *
 *   sim_org.c    wards and beds of each hospital, by level
 *   sim_flow.c   the discrete-event model: actions in a heap, patients,
 *                beds; each step emits ADT events (struct sim_ev)
 *   sim_msg.c    an event as HL7 v2 text, the malformed variants, charsets
 *   sim_truth.c  the ground truth: applies well-formed events, JSON
 *   sim.c        the public API (carebase/sim.h)
 */
#ifndef CB_SIM_INT_H
#define CB_SIM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/rng.h"
#include "carebase/sim.h"

/* ------------------------------------------------------------ random */

/* carebase/rng.h; the simulator's stays clip the normal at 3 sigma. */
static inline double
sim__lognormal(struct cb_rng *r, double median, double sigma)
{
    return cb_rng_lognormal(r, median, sigma, 3.0);
}

/* ------------------------------------------------------------ wards */

enum sim_care { SIM_CARE_GENERAL, SIM_CARE_ICU, SIM_CARE_ED };
enum sim_level { SIM_TERTIARY, SIM_DISTRICT, SIM_COMMUNITY };

enum sim_bed_state {
    SIM_BED_FREE,      /* staffed, clean, nobody */
    SIM_BED_RESERVED,  /* promised to a patient on the way */
    SIM_BED_OCCUPIED,
    SIM_BED_CLEANING,  /* housekeeping after a discharge (A20 H) */
    SIM_BED_CLOSED     /* closed for a while (A20 C) */
};

struct sim_bed {
    int32_t visit;     /* occupant or reserving visit, -1 */
    uint8_t state;     /* enum sim_bed_state */
};

struct sim_ward {
    char            code[12];    /* CARD1, ICU, ED ... */
    char            name[64];    /* UTF-8 */
    enum sim_care   care;
    int             beds;        /* physical beds */
    int             staffed;     /* beds in use: the first `staffed` */
    double          los_median;  /* days */
    double          los_sigma;
    double          weight;      /* share of the hospital's admissions */
    struct sim_bed *bed;         /* [beds] */
    int32_t        *queue;       /* boarders waiting for this ward (visits) */
    size_t          nqueue, capqueue;
};

#define SIM_MAX_WARDS 32

struct sim_hosp {
    char            *zzjgdm, *name, *level_text;
    enum sim_level   level;
    const char      *version;   /* MSH-12 */
    bool             gb18030;   /* MSH-18 GB 18030, else UNICODE UTF-8 */
    struct sim_ward  ward[SIM_MAX_WARDS];
    int              nwards;
    int              ed, icu;   /* ward index, -1 */
    double           ed_per_day, elective_per_day, direct_per_day;
    double           p_admit;   /* share of ED visits admitted */
    double           p_icu;     /* share of ED admissions going to ICU */
    uint32_t         next_patient;
};

/* Builds h->ward[] from h->level (rates too). */
CB_MUST_CHECK enum cb_err sim__org_build(struct sim_hosp *h, struct cb_rng *r);
void sim__org_release(struct sim_hosp *h);
const char *sim__care_name(enum sim_care c);
/* Ward index by code, -1. */
int sim__ward_find(const struct sim_hosp *h, struct cb_str code);
/* Room and bed labels of bed b (0-based) of a ward: "03", "09". */
void sim__bed_labels(const struct sim_ward *w, int b, char room[8], char bed[8]);
/* Bed index from its bed label, -1 when it is not one of the ward's. */
int sim__bed_find(const struct sim_ward *w, struct cb_str bed);

/* ------------------------------------------------------------ events */

enum sim_kind {
    SIM_A01, SIM_A02, SIM_A03, SIM_A04, SIM_A05, SIM_A06, SIM_A07, SIM_A08,
    SIM_A11, SIM_A12, SIM_A13, SIM_A17, SIM_A20, SIM_A40,
    SIM_NKINDS
};

struct sim_loc {
    int16_t ward;   /* -1: none */
    int16_t bed;    /* -1: no bed */
};

/*
 * One ADT event as the receiver should understand it. Visit numbers and
 * patient ids are serials; sim_msg.c spells them (V..., P..., T...).
 */
struct sim_ev {
    enum sim_kind  kind;
    uint32_t       hosp;
    int64_t        time;       /* MSH-7 and EVN-2 */
    int64_t        occurred;   /* EVN-6 */
    uint32_t       visit;
    uint32_t       patient;
    bool           temp_id;    /* patient id is a temporary one (T...) */
    char           pclass;     /* PV1-2: E I P */
    char           adm_type;   /* PV1-4: E (emergency), R (elective), 0 */
    struct sim_loc loc, prior; /* PV1-3, PV1-6 */
    int64_t        admit, discharge, expected; /* PV1-44, PV1-45, PV2-9|8; 0 */
    /* A17: the second patient; A40: the merged (prior) patient id */
    uint32_t       visit2, patient2;
    bool           temp2;
    struct sim_loc loc2;
    char           bed_status; /* A20 NPU-2: C H U ... */
};

const char *sim__kind_name(enum sim_kind k);  /* "A01" */

/* ------------------------------------------------------------ messages */

struct sim_writer {
    uint64_t       seed;
    char           run[8];      /* control id prefix from seed and start */
    uint64_t       next_ctl;
    void          *cd_gb;       /* iconv UTF-8 -> GB18030, opened lazily */
    struct cb_buf  utf8;        /* the message being built */
};

void sim__writer_init(struct sim_writer *w, uint64_t seed, int64_t start);
void sim__writer_release(struct sim_writer *w);

/*
 * Writes ev as one HL7 message into out (reset first), converted to the
 * hospital's charset; malformed: 0 or one enum cb_sim_malformed bit that
 * breaks it. *ctl receives MSH-10 (a view into out).
 */
CB_MUST_CHECK enum cb_err sim__write(struct sim_writer *w,
                                     const struct sim_hosp *h,
                                     const struct sim_ev *ev,
                                     unsigned malformed, struct cb_buf *out,
                                     struct cb_str *ctl, struct cb_buf *err);
/* The identifiers as written: P0100000042, T0100000042, V0100000042. */
void sim__patient_id(char out[24], uint32_t hosp, uint32_t patient, bool temp);
void sim__visit_id(char out[24], uint32_t hosp, uint32_t visit);
/* HL7 TS without offset: yyyyMMddHHmmss (15 bytes with NUL). */
void sim__ts(char out[16], int64_t t);

/* ------------------------------------------------------------ truth */

struct sim_tvisit {
    int16_t  ward, bed;  /* current location; bed -1: none */
    char     pclass;     /* E I P, 0: unknown / gone */
    bool     active;     /* in the house (or pre-admitted) */
};

struct sim_tday {
    int64_t day;         /* day number */
    int32_t admissions, discharges, transfers, ed_arrivals, ed_departures;
};

struct sim_thosp {
    int32_t          *bed_visit[SIM_MAX_WARDS]; /* occupant per bed, -1 */
    uint8_t          *bed_blocked[SIM_MAX_WARDS];
    struct sim_tvisit *visit;   /* by visit serial */
    size_t            nvisit;
    struct sim_tday  *days;     /* sorted by day */
    size_t            ndays, capdays;
};

struct sim_truth {
    const struct sim_hosp *hosp;  /* borrowed: ward layout */
    size_t                 nhosp;
    struct sim_thosp      *h;
    uint64_t               anomalies; /* events that contradict the state */
};

CB_MUST_CHECK enum cb_err sim__truth_init(struct sim_truth *t,
                                          const struct sim_hosp *hosp,
                                          size_t n);
void sim__truth_release(struct sim_truth *t);
/* Applies one well-formed event; CB_ERR_NOMEM. Contradictions (a bed
 * taken twice, an unknown visit) are counted in t->anomalies. */
CB_MUST_CHECK enum cb_err sim__truth_apply(struct sim_truth *t,
                                           const struct sim_ev *ev);
/* The "hospitals" array of cb_sim_expect_json. */
CB_MUST_CHECK enum cb_err sim__truth_json(const struct sim_truth *t,
                                          struct cb_buf *out);

/* ------------------------------------------------------------ flow */

struct sim_action;
struct sim_visit;

struct sim_flow {
    struct sim_hosp   *hosp;
    size_t             nhosp;
    struct cb_rng     rng;
    int64_t            start, now;
    double             warm;
    struct sim_action *heap;
    size_t             nheap, capheap;
    uint64_t           seq;
    struct sim_visit  *visit;
    size_t             nvisit, capvisit;
    struct sim_ev     *out;         /* events of the current step */
    size_t             nout, capout, outpos;
};

CB_MUST_CHECK enum cb_err sim__flow_init(struct sim_flow *f,
                                         struct sim_hosp *hosp, size_t n,
                                         uint64_t seed, int64_t start,
                                         double warm);
void sim__flow_release(struct sim_flow *f);
/* The next event in time order (*ev valid until the next call); CB_EOF if
 * its time is after until. */
CB_MUST_CHECK enum cb_err sim__flow_next(struct sim_flow *f, int64_t until,
                                         const struct sim_ev **ev);
int64_t sim__flow_next_time(const struct sim_flow *f);

/* ------------------------------------------------------------ sim.c */

/* The hospitals of a simulation (for the unit test's own oracle). */
const struct sim_hosp *sim__hospitals(const struct cb_sim *s, size_t *n);

#endif
