/*
 * adt.h - an HL7 v2 ADT message turned into one ADT event (issue 6).
 *
 * Pure: no I/O, no clock. cb_adt_from_hl7 reads a parsed message
 * (carebase/hl7.h) and either fills a struct cb_adt_event or says why the
 * message is refused, in the terms of an ACK (AR/AE, HL7 table 0357 code,
 * segment, occurrence and field, English text without patient data).
 *
 * Supported triggers (versions 2.3 to 2.5.1; MSH-9.3 may be absent):
 *   A01 admit, A04 register, A05 pre-admit, A02 transfer, A03 discharge,
 *   A06 outpatient -> inpatient, A07 inpatient -> outpatient, A08 update,
 *   A17 bed swap (two PID/PV1 pairs), A40 merge patient (PID + MRG),
 *   A11 cancel admit, A12 cancel transfer, A13 cancel discharge,
 *   A20 bed status (NPU).
 * MSH-9.1 must be ADT. The trigger is MSH-9.2, or EVN-1 when MSH-9.2 is
 * empty (some 2.3 senders).
 *
 * Time convention: every time in an event (and in cb_live) is "local
 * wall-clock milliseconds since 1970-01-01 00:00:00 of the hospital's wall
 * clock", the same convention as the front-page dates (carebase/date.h).
 * An HL7 TS without an offset is taken as that local time as is. A TS with
 * an offset (+/-ZZZZ) is converted to the configured local offset
 * (cb_adt_from_hl7: +0800, China Standard Time; cb_adt_from_hl7_tz: any).
 * So the local date of an event is simply floor(ms / 86400000).
 */
#ifndef CAREBASE_ADT_H
#define CAREBASE_ADT_H

#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/hl7.h"
#include "carebase/str.h"

/* Longest identifier or location component accepted (bytes, UTF-8):
 * patient and visit ids, ward, room and bed. Longer values are refused
 * (AE 102), never truncated. */
#define CB_ADT_ID_MAX 64

/* The default local offset: China Standard Time, +0800, in minutes. */
#define CB_ADT_LOCAL_OFFSET_DEFAULT 480

enum cb_adt_kind {
    CB_ADT_A01,  /* admit / visit notification */
    CB_ADT_A02,  /* transfer */
    CB_ADT_A03,  /* discharge / end visit */
    CB_ADT_A04,  /* register (outpatient, ED) */
    CB_ADT_A05,  /* pre-admit */
    CB_ADT_A06,  /* outpatient (or ED) becomes inpatient */
    CB_ADT_A07,  /* inpatient becomes outpatient */
    CB_ADT_A08,  /* update patient information */
    CB_ADT_A11,  /* cancel admit / visit notification */
    CB_ADT_A12,  /* cancel transfer */
    CB_ADT_A13,  /* cancel discharge */
    CB_ADT_A17,  /* swap patients (beds) */
    CB_ADT_A20,  /* bed status update (NPU) */
    CB_ADT_A40,  /* merge patient, patient identifier list */
    CB_ADT_KIND_COUNT
};

/* "A01" ... for a kind; "?" when out of range. */
const char *cb_adt_kind_name(enum cb_adt_kind k);

/* A person location (PL): PV1-3, PV1-6, NPU-1. Empty parts are empty. */
struct cb_adt_loc {
    struct cb_str ward;      /* .1 point of care (ward code or name) */
    struct cb_str room;      /* .2 */
    struct cb_str bed;       /* .3 */
    struct cb_str facility;  /* .4 (HD.1) */
};

/* One patient and visit of the message (A17 carries two). */
struct cb_adt_party {
    struct cb_str     patient_id; /* PID-3, first repetition, component 1 */
    struct cb_str     visit_id;   /* PV1-19.1, or patient_id when empty */
    char              pclass;     /* PV1-2 first byte (E I O P R B ...), 0 */
    struct cb_adt_loc loc;        /* PV1-3, assigned location */
};

/*
 * An ADT event. Strings point into the message's text or its arena: they
 * are valid until cb_hl7_release() of the message they came from. The
 * event is meant to be consumed at once (cb_live_apply copies what it
 * keeps). Times are local wall-clock ms (see above); 0 when absent.
 */
struct cb_adt_event {
    enum cb_adt_kind    kind;
    struct cb_str       control_id;    /* MSH-10 */
    struct cb_str       sender;        /* "<MSH-3.1>/<MSH-4.1>": the feed key;
                                          a caller may replace it */
    struct cb_str       hospital;      /* PV1-3.4 if present, else MSH-4.1
                                          (the organisation code ZZJGDM) */
    struct cb_adt_party p;             /* the (first) patient and visit */
    struct cb_adt_loc   prior_loc;     /* PV1-6 */
    int64_t             admit_ms;      /* PV1-44 */
    int64_t             discharge_ms;  /* PV1-45 */
    int64_t             expected_admit_ms;     /* PV2-8 (A05) */
    int64_t             expected_discharge_ms; /* PV2-9 */
    int64_t             event_ms;      /* EVN-6, else EVN-2, else MSH-7 */
    struct cb_adt_party p2;            /* A17: the second patient */
    struct cb_str       prior_patient_id; /* A40: MRG-1.1 */
    struct cb_str       prior_visit_id;   /* A40: MRG-5.1 (may be empty) */
    struct cb_adt_loc   bed_loc;       /* A20: NPU-1 */
    char                bed_status;    /* A20: NPU-2, table 0116: C H O U K I */
};

/* Why a message is refused: everything an ACK's MSA/ERR needs. */
struct cb_adt_reject {
    const char          *ack;       /* "AR" (type/trigger) or "AE" */
    enum cb_hl7_err_code code;      /* 100 101 102 103 200 201 207 */
    const char          *seg;       /* "MSH", "PID", ... */
    unsigned             seq;       /* segment occurrence, 1-based */
    unsigned             field;     /* field number, 0 for a whole segment */
    char                 text[160]; /* English, no patient data */
};

/*
 * Reads an ADT message. m must have been parsed with cb_hl7_parse. Returns
 *   CB_OK         *ev filled (why untouched);
 *   CB_ERR_PROTO  refused: *why filled, and err gets the same text;
 *   CB_ERR_NOMEM  out of memory: *why is AE 207 (internal error).
 * Refusals:
 *   MSH-9.1 not ADT                             AR 200 MSH^1^9
 *   unsupported or missing trigger              AR 201 MSH^1^9
 *   missing PID segment (all but A20)           AE 100 PID^n
 *   missing PID-3                               AE 101 PID^n^3
 *   missing PV1 segment (all but A20 and A40)   AE 100 PV1^n
 *   A17 without its second PID/PV1 pair         AE 100 PID^2 / PV1^2
 *   A40 without MRG or MRG-1                    AE 100 MRG^1 / AE 101 MRG^1^1
 *   A20 without NPU or NPU-1                    AE 100 NPU^1 / AE 101 NPU^1^1
 *   A20 without NPU-2                           AE 101 NPU^1^2
 *   A20 NPU-2 not in table 0116                 AE 103 NPU^1^2
 *   an unparseable timestamp                    AE 102 naming the field
 *   a bad escape or charset in a needed field   AE 102 naming the field
 *   an id or location part over CB_ADT_ID_MAX   AE 102 naming the field
 *   no event time at all (MSH-7 empty too)      AE 101 MSH^1^7
 */
CB_MUST_CHECK enum cb_err cb_adt_from_hl7(struct cb_hl7_msg *m,
                                          struct cb_adt_event *ev,
                                          struct cb_adt_reject *why,
                                          struct cb_buf *err);

/* The same with an explicit local offset in minutes east of UTC. */
CB_MUST_CHECK enum cb_err cb_adt_from_hl7_tz(struct cb_hl7_msg *m,
                                             int local_offset_min,
                                             struct cb_adt_event *ev,
                                             struct cb_adt_reject *why,
                                             struct cb_buf *err);

/*
 * Parses an HL7 TS value, YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ] (a
 * trailing ^precision component must already be cut off), into local
 * wall-clock ms: missing parts are the start of the period; fraction digits
 * past milliseconds are dropped; an offset converts to local_offset_min.
 * CB_ERR_PROTO on anything else or an impossible date or time.
 */
CB_MUST_CHECK enum cb_err cb_adt_parse_ts(struct cb_str s,
                                          int local_offset_min, int64_t *ms);

#endif
