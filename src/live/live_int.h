/*
 * live_int.h - the insides of struct cb_live, shared by src/live/live*.c.
 *
 * Entities live in growable arrays and refer to each other by index
 * (int32_t, -1 for none), so growing an array never invalidates a link.
 * Hash maps (lv_map) index them by (parent index, string key).
 */
#ifndef CB_LIVE_INT_H
#define CB_LIVE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "carebase/adt.h"
#include "carebase/live.h"

#define LV_DAYS       36          /* today and the 35 days before */
#define LV_HOUR_MS    3600000LL
#define LV_DAY_MS     86400000LL

/* ------------------------------------------------------------ hash map */

/*
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones: deletions are frequent as visits expire). carebase/strmap.h
 * has no deletion, hence this one. The map holds (hash, index) pairs only;
 * the caller compares keys through eq.
 */
struct lv_slot {
    uint64_t hash;   /* 0 = empty */
    uint32_t idx;
};

struct lv_map {
    struct lv_slot *slots;
    size_t          mask;   /* nslots - 1; nslots a power of two */
    size_t          count;
};

typedef bool (*lv_eq_fn)(const void *ctx, uint32_t idx);

uint64_t lv_hash(uint64_t seed, struct cb_str key);
/* The index of the entry with this hash for which eq is true, or -1. */
int32_t  lv_map_get(const struct lv_map *m, uint64_t h, lv_eq_fn eq,
                    const void *ctx);
CB_MUST_CHECK enum cb_err lv_map_put(struct lv_map *m, uint64_t h,
                                     uint32_t idx);
/* Removes the entry (h, idx); false if absent. */
bool     lv_map_del(struct lv_map *m, uint64_t h, uint32_t idx);
void     lv_map_release(struct lv_map *m);

/* ------------------------------------------------------------ entities */

/* An owned, NUL-terminated copy of a short string. */
struct lv_name {
    char    *ptr;
    uint32_t len;
};

struct lv_day {
    int64_t day;                             /* local day number; -1 unused */
    int32_t n[CB_LIVE_FLOW_COUNT][24];       /* flows by hour */
    int32_t census[24];                      /* at the hour's start; -1 */
};

struct lv_hosp {
    struct lv_name code;
    int32_t       *wards;        /* ward indexes */
    uint32_t       nwards, cwards;
    int32_t       *feeds;        /* feed indexes */
    uint32_t       nfeeds, cfeeds;
    int32_t        census;       /* inpatients in house */
    int32_t        boarders;
    int32_t        ed_waiting;
    int32_t        preadmits;
    int64_t        anomalies[CB_LIVE_ANOM_COUNT];
    struct lv_day *days;         /* LV_DAYS, ring by day number */
    int64_t        last_hour;    /* highest event hour seen; INT64_MIN */
    int32_t        boarder_alert;/* active alert slot, or -1 */
};

struct lv_ward {
    int32_t        hosp;
    struct lv_name code, name, level;
    bool           is_ed;        /* level "ED" */
    int32_t        beds_declared, staffed;
    int32_t       *beds;         /* bed indexes */
    uint32_t       nbeds, cbeds;
    int32_t        occupied, blocked, census;
    int32_t        alert;        /* active occupancy alert slot, or -1 */
};

struct lv_bed {
    int32_t        ward;
    struct lv_name label;        /* "room-bed" or "bed" */
    struct lv_name room;
    int32_t        occupant;     /* visit index, or -1 */
    char           status;       /* A20 status: 0, C H K I O (U clears) */
    int64_t        since_ms;     /* last change */
};

enum lv_state {
    LV_FREE = 0,                 /* unused slot */
    LV_PREADMIT,
    LV_ED,
    LV_INPATIENT,
    LV_DISCHARGED
};

struct lv_visit {
    int32_t  hosp;
    uint8_t  state;              /* enum lv_state */
    uint8_t  prev_state;         /* before the discharge (A13) */
    char     pclass;
    bool     counted_adm;        /* an admission was counted (A11) */
    bool     counted_ed;         /* an ED arrival was counted (A11) */
    bool     counted_dis;        /* a discharge was counted (A13) */
    uint8_t  vid_len, pid_len;
    char     vid[CB_ADT_ID_MAX + 1];
    char     pid[CB_ADT_ID_MAX + 1];
    int32_t  ward, bed;          /* assigned ward (even without bed), bed */
    int32_t  pnext, pprev;       /* visits of the same patient */
    uint32_t gen;                /* bumped when the slot is freed */
    int64_t  admit_ms;           /* PV1-44, else the admitting event */
    int64_t  counted_ms;         /* event time of the counted admission
                                    or ED arrival */
    int64_t  boarding_since_ms;  /* 0 when not a boarder */
    int64_t  expected_admit_ms, expected_discharge_ms;
    int64_t  xfer_ms;            /* last A02's event time (0: none) */
    int32_t  xfer_from_ward, xfer_from_bed;
    int64_t  discharge_ms;       /* event time of the discharge */
    int32_t  last_ward, last_bed;/* before the discharge */
};

struct lv_feed {
    int32_t        hosp;
    struct lv_name sender;
    int64_t        last_received_ms, last_event_ms;
    int64_t        messages;
    int32_t        alert;        /* active silence alert slot, or -1 */
};

enum lv_alert_kind { LV_AL_OCCUPANCY, LV_AL_BOARDERS, LV_AL_FEED };

struct lv_alert {
    bool     used;               /* slot in use (active pool) */
    uint8_t  kind;
    uint32_t seq;                /* per-kind number: the id */
    int32_t  hosp, ward, feed;
    int64_t  start_ms, end_ms;
    double   value, peak, threshold;
};

/* A FIFO of visits waiting to expire. */
struct lv_expiry {
    struct { int32_t idx; uint32_t gen; } *q;
    size_t head, len, cap;       /* ring */
};

struct cb_live {
    pthread_rwlock_t       lock;
    struct cb_live_config  cfg;
    uint64_t               version;
    int64_t                last_seq;
    int64_t                watermark_ms;  /* largest event time seen */

    struct lv_hosp  *hosps;   uint32_t nhosps, chosps;
    struct lv_ward  *wards;   uint32_t nwards, cwards;
    struct lv_bed   *beds;    uint32_t nbeds, cbeds;
    struct lv_visit *visits;  uint32_t nvisits, cvisits;
    int32_t          free_visit;          /* free list through pnext */
    struct lv_feed  *feeds;   uint32_t nfeeds, cfeeds;

    struct lv_map    hosp_map, ward_map, bed_map, visit_map, patient_map,
                     feed_map;
    struct lv_expiry discharged, preadmitted;

    struct lv_alert *active;  uint32_t nactive, cactive;
    struct lv_alert *history; uint32_t hist_head, hist_len;
    uint32_t         alert_seq[3];
};

/* ------------------------------------------------------------ live_state.c */

bool    lv_name_eq(const struct lv_name *n, struct cb_str s);
struct cb_str lv_str(const struct lv_name *n);
CB_MUST_CHECK enum cb_err lv_name_set(struct lv_name *n, struct cb_str s);

int32_t lv_hosp_find(const struct cb_live *l, struct cb_str code);
CB_MUST_CHECK enum cb_err lv_hosp_get(struct cb_live *l, struct cb_str code,
                                      int32_t *out);
int32_t lv_ward_find(const struct cb_live *l, int32_t h, struct cb_str code);
CB_MUST_CHECK enum cb_err lv_ward_get(struct cb_live *l, int32_t h,
                                      struct cb_str code, int32_t *out);
int32_t lv_bed_find(const struct cb_live *l, int32_t w, struct cb_str label);
CB_MUST_CHECK enum cb_err lv_bed_get(struct cb_live *l, int32_t w,
                                     struct cb_str room, struct cb_str bed,
                                     int32_t *out);
int32_t lv_visit_find(const struct cb_live *l, int32_t h, struct cb_str vid);
CB_MUST_CHECK enum cb_err lv_visit_new(struct cb_live *l, int32_t h,
                                       struct cb_str vid, struct cb_str pid,
                                       int32_t *out);
void    lv_visit_free(struct cb_live *l, int32_t v);
int32_t lv_patient_head(const struct cb_live *l, int32_t h,
                        struct cb_str pid);
/* Moves visit v to patient pid (patient list and pid). */
CB_MUST_CHECK enum cb_err lv_visit_set_patient(struct cb_live *l, int32_t v,
                                               struct cb_str pid);
/* Changes the visit key; CB_ERR_USAGE when taken. */
CB_MUST_CHECK enum cb_err lv_visit_rekey(struct cb_live *l, int32_t v,
                                         struct cb_str vid);
CB_MUST_CHECK enum cb_err lv_feed_get(struct cb_live *l, int32_t h,
                                      struct cb_str sender, int32_t *out);
CB_MUST_CHECK enum cb_err lv_expiry_push(struct lv_expiry *e, int32_t idx,
                                         uint32_t gen);

/* Bed figures. */
bool lv_bed_occupied(const struct lv_bed *b);
bool lv_bed_blocked(const struct lv_bed *b);
int32_t lv_ward_capacity(const struct lv_ward *w);
int32_t lv_ward_free(const struct lv_ward *w);

/* ------------------------------------------------------------ live_flow.c */

/* The ring slot for a day, reset when it held an older day; NULL when the
 * day is older than what the slot holds (too old to keep). */
struct lv_day *lv_day_slot(struct lv_hosp *h, int64_t day, bool create);
void lv_flow_add(struct lv_hosp *h, enum cb_live_flow f, int64_t ms,
                 int32_t delta);
/* Records the census at every hour start passed before the event hour. */
void lv_census_clock(struct lv_hosp *h, int64_t event_ms);
/* cb_live_forecast with the lock held. */
void lv_forecast(struct lv_hosp *h, int64_t now_ms, unsigned hours,
                 double *out);

/* ------------------------------------------------------------ live_alert.c */

/* Occupancy of a ward crossing the threshold, at time ms. */
CB_MUST_CHECK enum cb_err lv_alert_ward(struct cb_live *l, int32_t w,
                                        int64_t ms);
CB_MUST_CHECK enum cb_err lv_alert_boarders(struct cb_live *l, int32_t h,
                                            int64_t ms);
/* A message from the feed: ends its silence alert at ms. */
void lv_alert_feed_heard(struct cb_live *l, int32_t f, int64_t ms);
void lv_alert_release(struct cb_live *l);
const char *lv_alert_kind_name(unsigned kind);
char lv_alert_letter(unsigned kind);

/* ------------------------------------------------------------ JSON helpers */

CB_MUST_CHECK enum cb_err lv_json_time(struct cb_buf *b, int64_t ms);

#endif
