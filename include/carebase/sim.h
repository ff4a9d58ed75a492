/*
 * sim.h - a realistic HL7 v2 ADT stream for a consortium, and its ground
 * truth (`carebase simulate`, issue 6). Pure: no sockets, no clock, no
 * files; deterministic for a given seed, start time and hospital list.
 * All patients, names and identifiers are synthetic.
 *
 * The model (docs/architecture.md, "The simulator"):
 * - Each hospital gets wards sized by its level: a tertiary hub 15-25 wards
 *   (an ED, an ICU, general wards; 600-1500 beds), a district hospital 6-10
 *   wards (150-400 beds), a community centre 1-3 general wards (20-60
 *   beds). Staffed beds are the beds in use; occupancy is against them.
 * - A discrete-event simulation over simulated wall-clock time: ED arrivals
 *   by hour of day and weekday (peaks late morning and evening), A04 class
 *   E; a share admitted (A06 or A01 class I, located in the ED without a
 *   bed: a boarder) then moved to a ward bed by A02 when one is free;
 *   elective admissions (A05 a few days ahead, then A01 on weekday
 *   mornings); direct admissions from clinics; log-normal length of stay
 *   by ward (medians 3-9 days); ICU step-down and internal transfers (A02);
 *   discharges (A03) mostly late morning, then the bed's housekeeping
 *   (A20 H, then U); occasional bed closures (A20 C); A08 updates; A17 bed
 *   swaps; A40 merges of a temporary patient id; A07 when an ED
 *   admission is reversed (the patient goes home from the ED); mistakes
 *   cancelled
 *   minutes later on the same day (A01 then A11, A02 then A12, A03 then
 *   A13).
 * - Warm start: at the start the wards are about 85 % occupied; those
 *   patients' A01s come first, with their admit times (EVN-6, PV1-44) in
 *   the past.
 * - Malformed messages are extra: each one is a broken copy of the real
 *   message that follows it (truncated segment, bad escape in PID-3, PID-3
 *   missing, unknown trigger event A99, unsupported type ORU^R01), as a
 *   sending system that got AE/AR and resent a corrected message. So the
 *   state of the well-formed messages is the simulator's state.
 *
 * Times are local wall-clock seconds since 1970-01-01 (the date.h
 * convention); HL7 timestamps carry no UTC offset.
 */
#ifndef CAREBASE_SIM_H
#define CAREBASE_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

/* A member of the consortium, as `carebase org list` or the consortium
 * TSV give it. Borrowed by cb_sim_new (copied). */
struct cb_sim_hospital {
    const char *zzjgdm;  /* organisation code: MSH-4, PV1-3.4 */
    const char *name;
    const char *level;   /* 三级 tertiary, 二级 district, else community */
};

/* Kinds of malformed messages, as bits for cb_sim_opts.malformed_kinds. */
enum cb_sim_malformed {
    CB_SIM_MAL_NONE      = 0,
    CB_SIM_MAL_TRUNCATED = 1 << 0,  /* cut inside a segment id: parse error */
    CB_SIM_MAL_ESCAPE    = 1 << 1,  /* PID-3 holds a bad escape (\XZZ\) */
    CB_SIM_MAL_NO_PID3   = 1 << 2,  /* PID-3 empty */
    CB_SIM_MAL_TRIGGER   = 1 << 3,  /* ADT^A99: unknown trigger event */
    CB_SIM_MAL_TYPE      = 1 << 4,  /* ORU^R01: unsupported message type */
    CB_SIM_MAL_ALL       = 0x1f
};

struct cb_sim_opts {
    uint64_t seed;
    int64_t  start;           /* first simulated second (wall clock) */
    double   malformed;       /* share of malformed messages, 0 to 0.5 */
    unsigned malformed_kinds; /* enum cb_sim_malformed bits; 0 = all */
    double   warm_occupancy;  /* occupancy at the start; 0 = 0.85 */
};

struct cb_sim;

/*
 * A new simulation of n hospitals (1 to 99). The hospitals are copied.
 * CB_ERR_USAGE for bad options (message in err), CB_ERR_NOMEM.
 */
CB_MUST_CHECK enum cb_err cb_sim_new(struct cb_sim **out,
                                     const struct cb_sim_opts *opts,
                                     const struct cb_sim_hospital *h,
                                     size_t n, struct cb_buf *err);
void cb_sim_free(struct cb_sim *s);

/* One message of the stream. Everything points into the simulation and
 * stays valid until the next cb_sim_next or cb_sim_free. */
struct cb_sim_msg {
    size_t        hospital;   /* index in the list given to cb_sim_new */
    int64_t       time;       /* when it is sent: MSH-7 */
    struct cb_str text;       /* segments ending in CR, in the hospital's
                                 MSH-18 charset (UTF-8 or GB 18030) */
    struct cb_str control_id; /* MSH-10, unique in the stream */
    const char   *event;      /* trigger: "A01" ... "A40"; "A99", "R01" */
    unsigned      malformed;  /* 0, or one enum cb_sim_malformed bit */
};

/*
 * The next message in time order, if its time is <= until; CB_EOF when
 * there is none yet (the simulation has no end: call again with a later
 * until). The ground truth is updated with each well-formed message
 * returned. CB_ERR_NOMEM, or CB_ERR_PROTO if a name cannot be converted to
 * the hospital's charset (a bug).
 */
CB_MUST_CHECK enum cb_err cb_sim_next(struct cb_sim *s, int64_t until,
                                      struct cb_sim_msg *m,
                                      struct cb_buf *err);

/* Time of the next message (so a live sender knows how long to wait). */
int64_t cb_sim_next_time(const struct cb_sim *s);

size_t      cb_sim_nhospitals(const struct cb_sim *s);
const char *cb_sim_hospital_code(const struct cb_sim *s, size_t i);

/*
 * Appends the wards as TSV, the live state's ward configuration: header
 * "hospital\tward\tname\tcare_level\tbeds\tstaffed", then one line per
 * ward; care_level is ED, ICU or general.
 */
CB_MUST_CHECK enum cb_err cb_sim_wards_tsv(const struct cb_sim *s,
                                           struct cb_buf *out);

/*
 * Appends the ground truth after the messages returned so far, as JSON,
 * computed from the well-formed messages only (malformed ones are not
 * applied). Shape:
 *
 * { "generator": "carebase simulate", "seed": 7,
 *   "start": "2026-03-02 08:00:00", "end": "...",   (last message time)
 *   "messages": { "total": N, "well_formed": N, "malformed": N,
 *                 "by_event": { "A01": N, ... } },
 *   "hospitals": [ {
 *     "zzjgdm": "...", "name": "...", "level": "三级",
 *     "beds": N, "staffed": N,
 *     "census": N,       inpatients in the house, in a bed or not
 *                        (= occupied + boarders), as the live state counts
 *     "occupied": N,     inpatients in a ward bed (beds occupied)
 *     "boarders": N,     admitted (class I), in the ED or without a bed
 *     "ed_waiting": N,   class E visits in the house (not admitted)
 *     "preadmits": N,    A05 visits not yet admitted or cancelled
 *     "blocked": N,      beds closed or in housekeeping (A20), not occupied
 *     "wards": [ { "ward": "CARD1", "name": "心内科一病区",
 *                  "care_level": "general", "beds": N, "staffed": N,
 *                  "census": N, "occupied": N, "blocked": N,
 *                  "occupied_beds": ["CARD1-03-09", ...] } ],
 *     "days": [ { "date": "2026-03-02", "admissions": N, "discharges": N,
 *                 "transfers": N, "ed_arrivals": N, "ed_departures": N } ]
 *   } ] }
 *
 * Day counts use the local date of the event time (EVN-6, else EVN-2):
 * admissions = A01 + A06 - A11 (A07 does not undo one), discharges =
 * inpatient A03 - A13,
 * transfers = A02 - A12 (the A02 of a boarder to a bed counts),
 * ed_arrivals = A04 class E, ed_departures = A03 of an ED visit. A bed id
 * is ward-room-bed.
 */
CB_MUST_CHECK enum cb_err cb_sim_expect_json(const struct cb_sim *s,
                                             struct cb_buf *out);

/* Counters of the messages returned so far. */
struct cb_sim_counts {
    uint64_t total, malformed;
    uint64_t by_event[16];  /* indexed by cb_sim_event_index */
};
void cb_sim_counts(const struct cb_sim *s, struct cb_sim_counts *c);

/* The 14 ADT events the simulator sends, in a fixed order (index 0..13):
 * A01 A02 A03 A04 A05 A06 A07 A08 A11 A12 A13 A17 A20 A40; then "A99"
 * and "R01" of the malformed ones (14, 15). -1 for anything else. */
#define CB_SIM_NEVENTS 16
const char *cb_sim_event_name(int i);
int         cb_sim_event_index(const char *trigger);

#endif
