/*
 * live.h - the live hospital state fed by ADT events (issue 6).
 *
 * Pure: no I/O except cb_live_load_wards reading its TSV file, and no
 * clock: every function that needs "now" takes it. The state is a
 * function of the wards and of the sequence of events applied (the
 * journal's order): replaying the same events into a fresh cb_live gives
 * the same state, alerts included, except feed-silence alerts, which
 * depend on the times cb_live_tick is called with.
 *
 * Times. All times are local wall-clock milliseconds since 1970-01-01
 * 00:00 of the hospital's wall clock (the convention of carebase/adt.h):
 * event times, received_ms and every now_ms. A caller holding a UTC clock
 * adds the local offset (+8 h for China Standard Time) before calling.
 * The local date of a time is floor(ms / 86400000).
 *
 * Threads. One writer (the feed's committer thread: apply and tick), any
 * number of readers (the *_json, stats and forecast functions): a
 * pthread rwlock inside cb_live serialises them. Wards are loaded before
 * the writer starts, but loading is locked too.
 *
 * ------------------------------------------------------------ the model
 *
 * Per hospital (the event's hospital code, adt.h):
 *   wards    code, name, level of care, declared beds, staffed beds (from
 *            the wards file); a ward seen only in the feed is created with
 *            level "general" and no staffed figure;
 *   beds     each bed of a ward, identified by its label "room-bed" (or
 *            "bed" when PV1-3.2 is empty); a bed seen in the feed (PV1-3,
 *            NPU-1) is added to its ward. A bed is occupied when a visit
 *            is in it, or when the bed system said O (A20) and no visit
 *            left it since; blocked when not occupied and its A20 status
 *            is C, H, K or I; free otherwise;
 *   visits   keyed by visit number (PV1-19, else the patient id), with
 *            patient id, class, ward, bed, admit time, expected discharge.
 *            States: pre-admitted, ED (class E, in the emergency
 *            department, not admitted), inpatient (admitted), discharged
 *            (kept discharged_keep_hours after the event time of the
 *            discharge so an A13 can restore it, then forgotten).
 *
 * Derived figures:
 *   census (hospital)  inpatient visits in house, in a bed or not;
 *   boarder            an inpatient with no bed, or whose bed is in a ward
 *                      whose level of care is "ED"; waiting since the event
 *                      that made it one;
 *   ED waiting         visits in the ED state;
 *   census (ward)      visits in the ward's beds (any state);
 *   capacity (ward)    staffed beds when known (> 0), else the number of
 *                      beds known; hospital capacity, occupied, free and
 *                      blocked add up the wards whose level is not "ED";
 *   free (ward)        max(0, capacity - occupied - blocked);
 *   LOS outlier        an inpatient in house longer than los_outlier_days
 *                      (from PV1-44, else the admitting event's time);
 *   pending discharge  an inpatient whose expected discharge (PV2-9) falls
 *                      on or before the end of today (the date of now).
 *
 * Event semantics (cb_live_apply). "Counts X" adds one to flow X in the
 * hour of the event time; the cancel events subtract one in the hour of
 * the event they cancel (when that hour is still kept). Placing a visit in
 * a bed held by another visit displaces the other (it keeps its ward, loses
 * its bed) and counts anomaly bed_conflict. Leaving a bed clears an A20 O
 * marker on it.
 *   A01  class E: as A04 class E. Class O or R: counts a registration.
 *        Other classes: admission. Unknown, pre-admitted or ED visit (or
 *        a discharged one, readmitted): becomes an inpatient placed at
 *        PV1-3, counts an admission. Already an inpatient: moved to PV1-3
 *        if it names a ward, anomaly state_mismatch, nothing counted.
 *   A04  class E: a new ED visit at PV1-3 (in its bed if one is named),
 *        counts an ED arrival; an ED visit already known: moved, anomaly
 *        state_mismatch. Other classes: counts a registration only (no
 *        outpatient visit is kept).
 *   A05  a pre-admission (expected arrival PV2-8), kept until admitted,
 *        cancelled or preadmit_keep_days after its expected arrival (or
 *        its event time). A known visit: anomaly state_mismatch.
 *   A02  moves an ED or inpatient visit to PV1-3 (the old bed is freed),
 *        counts a transfer and remembers the move for A12. An unknown
 *        visit is created there (class E: an ED visit, else an inpatient;
 *        no admission counted, the transfer is), anomaly unknown_visit.
 *        PV1-3 without a ward: anomaly no_location (unknown_visit for an
 *        unknown visit, which is then not created). A pre-admitted or
 *        discharged visit: anomaly state_mismatch.
 *   A03  frees the bed; an inpatient counts a discharge, an ED visit
 *        leaves without one; the visit is kept as discharged. Unknown:
 *        anomaly unknown_visit. Pre-admitted: removed, state_mismatch.
 *   A06  an ED, pre-admitted or unknown visit becomes an inpatient (at
 *        PV1-3 when it names a ward, else where it is), counts an
 *        admission; unknown is normal here (outpatients are not kept).
 *   A07  an inpatient leaves the census: with class E it goes back to the
 *        ED state (at PV1-3 or where it is), otherwise it is removed. No
 *        flow is counted. Not an inpatient: state_mismatch.
 *   A08  updates admit time, expected admission and discharge, class (E
 *        and I switch between the ED and inpatient states) and location
 *        (when PV1-3 names a ward and differs) without counting anything.
 *        A discharged visit: ignored. Unknown: anomaly unknown_visit.
 *   A17  swaps the beds of the two visits (a visit without a bed gives
 *        the other none). Either visit unknown: nothing, unknown_visit.
 *   A40  every visit of the prior patient (MRG-1) gets the patient id of
 *        PID-3; a visit keyed by the prior patient id is re-keyed to the
 *        new one (when the new key is taken: kept, anomaly merge_conflict).
 *        No visit of the prior patient: anomaly unknown_patient.
 *   A11  removes an ED, inpatient or pre-admitted visit, frees its bed and
 *        takes back the admission (or ED arrival) it counted. Discharged:
 *        state_mismatch. Unknown: unknown_visit.
 *   A12  moves the visit back to PV1-3 (the pre-transfer location), or to
 *        where the last A02 took it from when PV1-3 names no ward, and
 *        takes back that transfer. No transfer to cancel: moved all the
 *        same, anomaly state_mismatch. Unknown: unknown_visit.
 *   A13  a discharged visit returns to its state before the discharge, in
 *        PV1-3's bed or else its old bed (if that bed was taken since: no
 *        bed, anomaly bed_conflict), and the discharge is taken back.
 *        Unknown (or forgotten): created as an inpatient at PV1-3, anomaly
 *        unknown_visit. In house: state_mismatch.
 *   A20  sets the status of the bed NPU-1 (created if unknown): C H K I
 *        block it, U clears the status, O marks it occupied.
 * Nothing is ever refused here: what cannot be applied is counted as an
 * anomaly of its hospital. Anomaly kinds: unknown_visit, state_mismatch,
 * bed_conflict, no_location, unknown_patient, merge_conflict.
 *
 * Flows: admissions, discharges, transfers, ED arrivals, registrations,
 * per hour of the event time's local date, kept for today and the 35 days
 * before (older hours are dropped, and so are cancels of them). The census
 * at the start of each hour is recorded as the event-time clock passes it
 * (an event in a later hour than any before records the census, as it was
 * before that event, for every hour in between), for the forecast.
 *
 * Event times: an event stamped more than CB_LIVE_CLOCK_AHEAD_MS after
 * its message was received (received_ms > 0) counts as of received_ms +
 * CB_LIVE_CLOCK_AHEAD_MS, everywhere, so that one message stamped years
 * ahead cannot expire every visit, move the census clock or take over a
 * day's flows (the rings below are keyed by day).
 *
 * Bounds: discharged visits and pre-admissions expire as the largest
 * event time seen moves on (not the wall clock: replay stays exact); flows
 * and census history are rings of 36 days; ended alerts are a ring of
 * alert_history; identifiers are at most CB_ADT_ID_MAX bytes.
 *
 * ------------------------------------------------------------ alerts
 *
 * ward_occupancy  a ward with a staffed figure: occupied / staffed >=
 *                 occupancy_threshold; starts and ends at the event time
 *                 of the event that crosses the threshold.
 * ed_boarders     a hospital: boarders > boarders_threshold; same timing.
 * feed_silent     a feed (hospital + sender): nothing received for more
 *                 than feed_silence_min minutes at a cb_live_tick; starts
 *                 at that tick's now, ends at the received_ms of the
 *                 feed's next message.
 * Each alert: id ("O1", "B1", "F1": kind letter and a per-kind sequence),
 * kind, hospital, ward (occupancy only), sender (feed only), start, end (0
 * while active), value (at the start; peak: the highest while active) and
 * threshold.
 *
 * ------------------------------------------------------------ forecast
 *
 * Hourly inpatient census for the next hours (cb_live_forecast): the mean
 * of two forecasts. The flow model:
 * census(h+1) = census(h) + A(h) - census(h) * d(h), starting from the
 * current census at now (the current hour counts for the part of it still
 * ahead: A and d scaled by that fraction), where
 *   A(h)  mean admissions in the same hour of the week over the last four
 *         weeks (the weeks whose hour is kept and in the past); with fewer
 *         than two such weeks, the mean over every kept past day of the
 *         same hour of the day; no history: 0;
 *   d(h)  discharge hazard of that hour of the day: discharges in that
 *         hour / census at the start of that hour, summed over every kept
 *         past hour (0 when the census sum is 0).
 * The daily profile: the current census plus the mean change, over the
 * last seven days where both are recorded, from the census at the start of
 * the current hour of day to the census at the start of the target hour
 * of day (no such day: the current census). The flow model follows the
 * week's admissions; the profile carries what the model lacks, such as
 * beds that run full (bench/forecast_eval.c: the mean is 20 % closer than
 * the model alone and closer than either naive baseline on average).
 * cb_live_forecast_error measures it against the census history recorded
 * afterwards (see there).
 */
#ifndef CAREBASE_LIVE_H
#define CAREBASE_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/adt.h"
#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

struct cb_live;

struct cb_live_config {
    double   occupancy_threshold;   /* ward alert at >= this; 0.95 */
    unsigned boarders_threshold;    /* hospital alert at > this; 5 */
    unsigned feed_silence_min;      /* feed alert after this silence; 10 */
    unsigned los_outlier_days;      /* LOS outliers: longer stays; 30 */
    unsigned discharged_keep_hours; /* A13 can restore within; 72 */
    unsigned preadmit_keep_days;    /* after the expected arrival; 7 */
    unsigned alert_history;         /* ended alerts kept; 1000 */
};

void cb_live_config_default(struct cb_live_config *c);

/* cfg NULL: the defaults. *out is owned by the caller (cb_live_free). */
CB_MUST_CHECK enum cb_err cb_live_new(const struct cb_live_config *cfg,
                                      struct cb_live **out);
void cb_live_free(struct cb_live *l);   /* NULL is a no-op */

/* ------------------------------------------------------------ wards */

struct cb_live_ward_def {
    struct cb_str hospital;    /* organisation code, as events carry it */
    struct cb_str ward;        /* ward code, as PV1-3.1 carries it */
    struct cb_str name;        /* display name (UTF-8) */
    struct cb_str care_level;  /* "ICU", "general", "ED", ... */
    unsigned      beds;        /* declared beds */
    unsigned      staffed;     /* staffed beds: the capacity */
};

/*
 * Adds a ward or updates one (name, level, beds, staffed); beds already
 * seen stay. CB_ERR_USAGE when hospital or ward is empty or longer than
 * CB_ADT_ID_MAX; CB_ERR_NOMEM.
 */
CB_MUST_CHECK enum cb_err cb_live_set_ward(struct cb_live *l,
                                           const struct cb_live_ward_def *w);

/*
 * Reads a wards TSV (tsvfile.h format): a header line naming the columns
 * hospital, ward, name, care_level, beds, staffed (in any order, others
 * ignored), then one ward per line. Errors name the file and line:
 * CB_ERR_NOT_FOUND/CB_ERR_IO (file), CB_ERR_PROTO (a missing column, an
 * empty hospital or ward, a bad number), CB_ERR_NOMEM. Wards before the
 * bad line stay loaded.
 */
CB_MUST_CHECK enum cb_err cb_live_load_wards(struct cb_live *l,
                                             const char *path,
                                             struct cb_buf *err);

/* ------------------------------------------------------------ events */

/*
 * Applies one event (semantics above). seq is the journal position
 * (kept, see cb_live_last_seq); received_ms when the message was
 * received (local wall clock), for feed freshness; ev->sender names the
 * feed. Only CB_ERR_NOMEM can fail, and then the state is consistent
 * but the event may be partly applied.
 */
CB_MUST_CHECK enum cb_err cb_live_apply(struct cb_live *l,
                                        const struct cb_adt_event *ev,
                                        int64_t seq, int64_t received_ms);

/* Re-evaluates the time-based alerts (feed silence) at now_ms. */
CB_MUST_CHECK enum cb_err cb_live_tick(struct cb_live *l, int64_t now_ms);

/* How far an event time may run ahead of its message's receipt. */
#define CB_LIVE_CLOCK_AHEAD_MS (3600 * 1000LL)

/* A counter that increases on every change (for server-sent events). */
uint64_t cb_live_version(struct cb_live *l);
/* The seq of the last event applied (0 before any). */
int64_t cb_live_last_seq(struct cb_live *l);

/* ------------------------------------------------------------ queries */

enum cb_live_anomaly {
    CB_LIVE_ANOM_UNKNOWN_VISIT,
    CB_LIVE_ANOM_STATE_MISMATCH,
    CB_LIVE_ANOM_BED_CONFLICT,
    CB_LIVE_ANOM_NO_LOCATION,
    CB_LIVE_ANOM_UNKNOWN_PATIENT,
    CB_LIVE_ANOM_MERGE_CONFLICT,
    CB_LIVE_ANOM_COUNT
};
const char *cb_live_anomaly_name(enum cb_live_anomaly a);

enum cb_live_flow {
    CB_LIVE_FLOW_ADMISSIONS,
    CB_LIVE_FLOW_DISCHARGES,
    CB_LIVE_FLOW_TRANSFERS,
    CB_LIVE_FLOW_ED_ARRIVALS,
    CB_LIVE_FLOW_REGISTRATIONS,
    CB_LIVE_FLOW_COUNT
};
const char *cb_live_flow_name(enum cb_live_flow f);

/* One hospital's figures at now_ms (today = the date of now_ms). */
struct cb_live_stats {
    int32_t census;            /* inpatients in house */
    int32_t capacity;          /* non-ED wards */
    int32_t occupied;
    int32_t free;
    int32_t blocked;
    int32_t today[CB_LIVE_FLOW_COUNT];  /* flows of today */
    int32_t ed_waiting;
    int32_t boarders;
    int64_t longest_boarding_min;
    int32_t los_outliers;
    int32_t pending_discharges;
    int32_t preadmits;
    int32_t active_alerts;
    int64_t anomalies[CB_LIVE_ANOM_COUNT];
};

/* CB_ERR_NOT_FOUND when the hospital has never been seen. */
CB_MUST_CHECK enum cb_err cb_live_stats(struct cb_live *l,
                                        struct cb_str hospital,
                                        int64_t now_ms,
                                        struct cb_live_stats *out);

/* Occupied, free and blocked bed counts, and census, of one ward. */
struct cb_live_ward_stats {
    int32_t capacity, occupied, free, blocked, census, beds_known;
};
CB_MUST_CHECK enum cb_err cb_live_ward_stats(struct cb_live *l,
                                             struct cb_str hospital,
                                             struct cb_str ward,
                                             struct cb_live_ward_stats *out);

/*
 * The state of one bed: "free", "occupied" or "blocked", and the visit in
 * it (empty when none; a view valid until the next write: tests only).
 * CB_ERR_NOT_FOUND for an unknown hospital, ward or bed.
 */
CB_MUST_CHECK enum cb_err cb_live_bed_state(struct cb_live *l,
                                            struct cb_str hospital,
                                            struct cb_str ward,
                                            struct cb_str bed_label,
                                            const char **state,
                                            struct cb_str *visit);

#define CB_LIVE_FORECAST_MAX 168

/*
 * out[k], k < hours (at most CB_LIVE_FORECAST_MAX): the expected inpatient
 * census at the start of hour h0 + k + 1, h0 being the hour of now_ms.
 * CB_ERR_NOT_FOUND for an unknown hospital; CB_ERR_USAGE for hours.
 */
CB_MUST_CHECK enum cb_err cb_live_forecast(struct cb_live *l,
                                           struct cb_str hospital,
                                           int64_t now_ms, unsigned hours,
                                           double *out);

/*
 * The census recorded at the start of the hour containing hour_ms.
 * CB_ERR_NOT_FOUND when that hour is not (or no longer, or not yet) kept.
 */
CB_MUST_CHECK enum cb_err cb_live_census_at(struct cb_live *l,
                                            struct cb_str hospital,
                                            int64_t hour_ms,
                                            int32_t *census);

/*
 * The forecast error procedure: a forecast made at origin_ms
 * (cb_live_forecast(..., origin_ms, hours, forecast)) is compared, after
 * the stream has gone on past origin + hours, with the census recorded at
 * the start of each forecast hour. *mae: mean absolute error over the
 * *n hours that are recorded (CB_ERR_NOT_FOUND when none is).
 */
CB_MUST_CHECK enum cb_err cb_live_forecast_error(struct cb_live *l,
                                                 struct cb_str hospital,
                                                 int64_t origin_ms,
                                                 unsigned hours,
                                                 const double *forecast,
                                                 double *mae, unsigned *n);

/* Which hospitals a reader may see; NULL means all. */
typedef bool (*cb_live_filter_fn)(void *ctx, struct cb_str hospital);

/*
 * The command-centre tiles, appended to out. Times are local wall-clock
 * "yyyy-MM-dd HH:mm:ss" strings (null when unknown); hospitals sorted by
 * code:
 * {"version":N,"now":"...","hospitals":[{
 *   "hospital":"H001",
 *   "census":N,"capacity":N,"occupied":N,"occupancy":0.87 (null when no
 *     capacity),"free":N,"blocked":N,
 *   "today":{"admissions":N,"discharges":N,"transfers":N,
 *            "ed_arrivals":N,"registrations":N},
 *   "ed_waiting":N,"boarders":N,"longest_boarding_min":N,
 *   "los_outliers":{"days":30,"count":N,
 *      "visits":[{"visit":"V1","ward":"W1","bed":"301-1","days":41}]}
 *      (at most 50, longest first),
 *   "pending_discharges":N,"preadmits":N,
 *   "census_by_level":{"ICU":N,"general":N,...},
 *   "feeds":[{"sender":"HIS/H001","last_received":"...","last_event":"...",
 *             "age_s":N,"messages":N}],
 *   "alerts_active":N,
 *   "anomalies":{"unknown_visit":N,...every kind},
 *   "hourly":{"admissions":[24 N],...every flow},   (today, hour 0..23)
 *   "daily":{"from":"yyyy-MM-dd","admissions":[35 N],...every flow},
 *            (the 35 days ending today, oldest first)
 *   "forecast":{"start":"...","census":[48 numbers, 1 decimal]}
 *            (start: the hour the first value is at)
 * }]}
 */
CB_MUST_CHECK enum cb_err cb_live_summary_json(struct cb_live *l,
                                               cb_live_filter_fn filter,
                                               void *ctx, int64_t now_ms,
                                               struct cb_buf *out);

/*
 * The bed board of one hospital, wards sorted by code, beds by label
 * (numbers in labels compare as numbers):
 * {"hospital":"H001","wards":[{"ward":"W1","name":"...","care_level":"ICU",
 *   "beds_declared":N,"staffed":N,"capacity":N,"occupied":N,"free":N,
 *   "blocked":N,"census":N,"occupancy":0.9 (null when no capacity),
 *   "beds":[{"bed":"301-1","room":"301","state":"occupied",
 *            "status":"O" (the last A20 status, "" when none),
 *            "visit":"V1","patient":"P1" (when a visit is in it),
 *            "class":"I","boarder":false,
 *            "since":"..." (last change of the bed)}]}],
 *  "boarders":[{"visit":"V1","patient":"P1","ward":"W1" or null,
 *               "since":"...","minutes":N}]}  (bedless and ED boarders)
 * CB_ERR_NOT_FOUND for an unknown hospital. No names: only ids, and the
 * patient ids ("patient") only when patient_ids is true.
 */
CB_MUST_CHECK enum cb_err cb_live_wards_json(struct cb_live *l,
                                             struct cb_str hospital,
                                             int64_t now_ms, bool patient_ids,
                                             struct cb_buf *out);

/*
 * Alerts, active ones first (oldest start first), then ended ones (most
 * recently ended first) unless active_only:
 * {"alerts":[{"id":"O3","kind":"ward_occupancy","hospital":"H001",
 *   "ward":"W1" (or null),"sender":"HIS/H001" (or null),
 *   "start":"...","end":"..." (null while active),"active":true,
 *   "value":0.96,"peak":0.97,"threshold":0.95}]}
 */
CB_MUST_CHECK enum cb_err cb_live_alerts_json(struct cb_live *l,
                                              cb_live_filter_fn filter,
                                              void *ctx, bool active_only,
                                              struct cb_buf *out);

#endif
