/*
 * test_live.c - the live hospital state (src/live): a scripted stream with
 * the exact figures after each step, alerts, anomalies, expiry, the wards
 * file, replay equality and the forecast on a periodic stream.
 *
 * Messages go the server's way: HL7 text -> cb_hl7_parse ->
 * cb_adt_from_hl7 -> cb_live_apply. All data is synthetic.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "carebase/adt.h"
#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/hl7.h"
#include "carebase/live.h"
#include "testutil.h"

/* ------------------------------------------------------------ helpers */

#define DAY0 2026, 11, 22   /* "today" of the scripted stream */

static int64_t
T(int y, int mo, int d, int h, int mi)
{
    return (cb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60)
           * 1000;
}

/* "yyyyMMddHHmm" of local ms (after 1970). */
static void
ts(int64_t ms, char out[13])
{
    uint64_t secs = (uint64_t)ms / 1000, rem = secs % 86400;
    int y, mo, d;
    char buf[64];

    cb_civil_from_days((int64_t)(secs / 86400), &y, &mo, &d);
    snprintf(buf, sizeof(buf), "%04u%02u%02u%02u%02u", (unsigned)y,
             (unsigned)mo, (unsigned)d, (unsigned)(rem / 3600),
             (unsigned)(rem / 60 % 60));
    memcpy(out, buf, 12);
    out[12] = '\0';
}

static long msg_no;

/* Parses and applies one message; the message must be accepted. */
static void
apply_text(struct cb_live *l, const char *text, int64_t received)
{
    struct cb_hl7_msg m;
    struct cb_adt_event ev;
    struct cb_adt_reject why;
    struct cb_buf err = CB_BUF_INIT;

    if (cb_hl7_parse(&m, cb_str_c(text), &err) != CB_OK)
        fail_msg("parse: %s", cb_buf_cstr(&err));
    if (cb_adt_from_hl7(&m, &ev, &why, &err) != CB_OK)
        fail_msg("refused: %s in %s", cb_buf_cstr(&err), text);
    assert_int_equal(cb_live_apply(l, &ev, ++msg_no, received), CB_OK);
    cb_hl7_release(&m);
    cb_buf_release(&err);
}

/*
 * One ADT message of hospital H1 at time t: body is the segments after
 * EVN, received at `received` (adt: one second after the event).
 */
static void
adt_received(struct cb_live *l, int64_t t, int64_t received, const char *trig,
             const char *body)
{
    char stamp[13], text[2048];
    int n;

    ts(t, stamp);
    n = snprintf(text, sizeof(text),
                 "MSH|^~\\&|HIS|H1|CB|CB|%s||ADT^%s|C%ld|P|2.5\r"
                 "EVN|%s|%s\r%s", stamp, trig, msg_no + 1, trig, stamp, body);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    apply_text(l, text, received);
}

static void
adt(struct cb_live *l, int64_t t, const char *trig, const char *body)
{
    adt_received(l, t, t + 1000, trig, body);
}

/* PID + PV1 for a visit: PV1-2 class, PV1-3 location, PV1-19 visit. */
static const char *
pv(char *buf, size_t cap, const char *pid, const char *vid, const char *cls,
   const char *loc)
{
    int n = snprintf(buf, cap, "PID|1||%s\rPV1|1|%s|%s||||||||||||||||%s\r",
                     pid, cls, loc, vid);

    assert_true(n > 0 && (size_t)n < cap);
    return buf;
}

#define PV(pid, vid, cls, loc) pv(body, sizeof(body), pid, vid, cls, loc)

static struct cb_live *
new_live(unsigned boarders_threshold)
{
    struct cb_live *l;
    struct cb_live_config c;
    static const struct {
        const char *ward, *name, *level;
        unsigned    beds, staffed;
    } wards[] = {
        { "ICU", "Intensive care", "ICU", 2, 2 },
        { "GEN", "General medicine", "general", 6, 4 },
        { "ED", "Emergency", "ED", 3, 3 },
    };
    size_t i;

    cb_live_config_default(&c);
    c.boarders_threshold = boarders_threshold;
    assert_int_equal(cb_live_new(&c, &l), CB_OK);
    for (i = 0; i < sizeof(wards) / sizeof(wards[0]); i++) {
        struct cb_live_ward_def d = {
            cb_str_c("H1"), cb_str_c(wards[i].ward), cb_str_c(wards[i].name),
            cb_str_c(wards[i].level), wards[i].beds, wards[i].staffed
        };

        assert_int_equal(cb_live_set_ward(l, &d), CB_OK);
    }
    msg_no = 0;
    return l;
}

struct want {
    int census, boarders, ed_waiting, adm, dis, xfer, ed_arr;
};

static void
expect(struct cb_live *l, int64_t now, const char *step, struct want w)
{
    struct cb_live_stats st;

    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), now, &st), CB_OK);
    if (st.census != w.census || st.boarders != w.boarders
        || st.ed_waiting != w.ed_waiting
        || st.today[CB_LIVE_FLOW_ADMISSIONS] != w.adm
        || st.today[CB_LIVE_FLOW_DISCHARGES] != w.dis
        || st.today[CB_LIVE_FLOW_TRANSFERS] != w.xfer
        || st.today[CB_LIVE_FLOW_ED_ARRIVALS] != w.ed_arr)
        fail_msg("%s: census %d boarders %d ed %d adm %d dis %d xfer %d "
                 "arr %d; want %d %d %d %d %d %d %d", step, st.census,
                 st.boarders, st.ed_waiting,
                 st.today[CB_LIVE_FLOW_ADMISSIONS],
                 st.today[CB_LIVE_FLOW_DISCHARGES],
                 st.today[CB_LIVE_FLOW_TRANSFERS],
                 st.today[CB_LIVE_FLOW_ED_ARRIVALS], w.census, w.boarders,
                 w.ed_waiting, w.adm, w.dis, w.xfer, w.ed_arr);
}

static void
ward_is(struct cb_live *l, const char *ward, int occupied, int blocked,
        int census)
{
    struct cb_live_ward_stats ws;

    assert_int_equal(cb_live_ward_stats(l, cb_str_c("H1"), cb_str_c(ward),
                                        &ws), CB_OK);
    if (ws.occupied != occupied || ws.blocked != blocked
        || ws.census != census)
        fail_msg("ward %s: occupied %d blocked %d census %d; want %d %d %d",
                 ward, ws.occupied, ws.blocked, ws.census, occupied, blocked,
                 census);
}

static void
bed_is(struct cb_live *l, const char *ward, const char *bed,
       const char *state, const char *visit)
{
    const char *st;
    struct cb_str v;

    assert_int_equal(cb_live_bed_state(l, cb_str_c("H1"), cb_str_c(ward),
                                       cb_str_c(bed), &st, &v), CB_OK);
    if (strcmp(st, state) != 0 || !cb_str_eqz(v, visit))
        fail_msg("bed %s %s: %s '%.*s'; want %s '%s'", ward, bed, st,
                 (int)v.len, v.ptr ? v.ptr : "", state, visit);
}

static void
anomalies_are(struct cb_live *l, const int64_t want[CB_LIVE_ANOM_COUNT])
{
    struct cb_live_stats st;
    int k;

    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), 0, &st), CB_OK);
    for (k = 0; k < CB_LIVE_ANOM_COUNT; k++)
        if (st.anomalies[k] != want[k])
            fail_msg("anomaly %s: %lld, want %lld",
                     cb_live_anomaly_name((enum cb_live_anomaly)k),
                     (long long)st.anomalies[k], (long long)want[k]);
}

static json_t *
alerts(struct cb_live *l, bool active_only)
{
    struct cb_buf out = CB_BUF_INIT;
    json_error_t je;
    json_t *j;

    assert_int_equal(cb_live_alerts_json(l, NULL, NULL, active_only, &out),
                     CB_OK);
    j = json_loads(cb_buf_cstr(&out), 0, &je);
    if (!j)
        fail_msg("alerts JSON: %s: %s", je.text, cb_buf_cstr(&out));
    cb_buf_release(&out);
    return j;
}

/* The alert with this id: its start and end ("" for null). */
static void
alert_is(json_t *all, const char *id, const char *kind, const char *ward,
         const char *start, const char *end)
{
    size_t i;
    json_t *a;

    json_array_foreach(json_object_get(all, "alerts"), i, a) {
        json_t *e = json_object_get(a, "end"), *w = json_object_get(a, "ward");

        if (strcmp(json_string_value(json_object_get(a, "id")), id) != 0)
            continue;
        assert_string_equal(json_string_value(json_object_get(a, "kind")),
                            kind);
        assert_string_equal(json_is_null(w) ? "" : json_string_value(w),
                            ward);
        assert_string_equal(json_string_value(json_object_get(a, "start")),
                            start);
        assert_string_equal(json_is_null(e) ? "" : json_string_value(e), end);
        assert_true(json_is_true(json_object_get(a, "active")) == !*end);
        return;
    }
    fail_msg("no alert %s", id);
}

/* ------------------------------------------------------------ the script */

static void
test_scripted_stream(void **state)
{
    struct cb_live *l = new_live(1);
    char body[1024];
    int64_t now = T(DAY0, 23, 0);
    int64_t anom[CB_LIVE_ANOM_COUNT] = { 0 };
    json_t *j;

    (void)state;
    /* 1. ED arrival in an ED bed */
    adt(l, T(DAY0, 8, 0), "A04", PV("P1", "V1", "E", "ED^^E1"));
    expect(l, now, "ED arrival", (struct want){ 0, 0, 1, 0, 0, 0, 1 });
    ward_is(l, "ED", 1, 0, 1);
    bed_is(l, "ED", "E1", "occupied", "V1");

    /* 2-3. two admissions fill the ICU: occupancy alert O1 */
    adt(l, T(DAY0, 8, 10), "A01", PV("P2", "V2", "I", "ICU^1^1"));
    adt(l, T(DAY0, 8, 20), "A01", PV("P3", "V3", "I", "ICU^1^2"));
    expect(l, now, "ICU full", (struct want){ 2, 0, 1, 2, 0, 0, 1 });
    ward_is(l, "ICU", 2, 0, 2);
    bed_is(l, "ICU", "1-2", "occupied", "V3");
    j = alerts(l, true);
    alert_is(j, "O1", "ward_occupancy", "ICU", "2026-11-22 08:20:00", "");
    json_decref(j);

    /* 4. the ED patient is admitted, still in its ED bed: a boarder */
    adt(l, T(DAY0, 8, 30), "A06", PV("P1", "V1", "I", "ED^^E1"));
    expect(l, now, "A06", (struct want){ 3, 1, 0, 3, 0, 0, 1 });
    ward_is(l, "ED", 1, 0, 1);

    /* 5. an admission with a ward and no bed: a second boarder, alert B1 */
    adt(l, T(DAY0, 8, 40), "A01", PV("P4", "V4", "I", "GEN"));
    expect(l, now, "bedless admit", (struct want){ 4, 2, 0, 4, 0, 0, 1 });
    j = alerts(l, true);
    alert_is(j, "B1", "ed_boarders", "", "2026-11-22 08:40:00", "");
    json_decref(j);

    /* 6. transfer out of the ICU ends O1 */
    adt(l, T(DAY0, 9, 0), "A02", PV("P3", "V3", "I", "GEN^2^1"));
    expect(l, now, "A02", (struct want){ 4, 2, 0, 4, 0, 1, 1 });
    ward_is(l, "ICU", 1, 0, 1);
    ward_is(l, "GEN", 1, 0, 1);
    bed_is(l, "ICU", "1-2", "free", "");
    j = alerts(l, false);
    alert_is(j, "O1", "ward_occupancy", "ICU", "2026-11-22 08:20:00",
             "2026-11-22 09:00:00");
    json_decref(j);

    /* 7. the ED boarder gets a bed: B1 ends */
    adt(l, T(DAY0, 9, 10), "A02", PV("P1", "V1", "I", "GEN^2^2"));
    expect(l, now, "boarder bedded", (struct want){ 4, 1, 0, 4, 0, 2, 1 });
    ward_is(l, "ED", 0, 0, 0);
    ward_is(l, "GEN", 2, 0, 2);
    j = alerts(l, false);
    alert_is(j, "B1", "ed_boarders", "", "2026-11-22 08:40:00",
             "2026-11-22 09:10:00");
    json_decref(j);

    /* 8. that transfer is cancelled: back to the ED bed, B2 starts */
    adt(l, T(DAY0, 9, 20), "A12", PV("P1", "V1", "I", "ED^^E1"));
    expect(l, now, "A12", (struct want){ 4, 2, 0, 4, 0, 1, 1 });
    ward_is(l, "ED", 1, 0, 1);
    bed_is(l, "GEN", "2-2", "free", "");
    bed_is(l, "ED", "E1", "occupied", "V1");
    j = alerts(l, true);
    alert_is(j, "B2", "ed_boarders", "", "2026-11-22 09:20:00", "");
    json_decref(j);

    /* 9. bed swap between the ICU and GEN */
    adt(l, T(DAY0, 9, 30), "A17",
        "PID|1||P2\rPV1|1|I|ICU^1^1||||||||||||||||V2\r"
        "PID|2||P3\rPV1|1|I|GEN^2^1||||||||||||||||V3\r");
    bed_is(l, "ICU", "1-1", "occupied", "V3");
    bed_is(l, "GEN", "2-1", "occupied", "V2");
    ward_is(l, "ICU", 1, 0, 1);
    ward_is(l, "GEN", 1, 0, 1);
    expect(l, now, "A17", (struct want){ 4, 2, 0, 4, 0, 1, 1 });

    /* 10-11. A20 blocks a bed never seen before, then frees it */
    adt(l, T(DAY0, 9, 40), "A20", "NPU|GEN^3^1|C\r");
    bed_is(l, "GEN", "3-1", "blocked", "");
    ward_is(l, "GEN", 1, 1, 1);
    adt(l, T(DAY0, 9, 50), "A20", "NPU|GEN^3^1|U\r");
    bed_is(l, "GEN", "3-1", "free", "");
    ward_is(l, "GEN", 1, 0, 1);

    /* 12-13. discharge, then its cancel puts the visit back in its bed */
    adt(l, T(DAY0, 10, 0), "A03", PV("P2", "V2", "I", "GEN^2^1"));
    expect(l, now, "A03", (struct want){ 3, 2, 0, 4, 1, 1, 1 });
    bed_is(l, "GEN", "2-1", "free", "");
    adt(l, T(DAY0, 10, 10), "A13", PV("P2", "V2", "I", ""));
    expect(l, now, "A13", (struct want){ 4, 2, 0, 4, 0, 1, 1 });
    bed_is(l, "GEN", "2-1", "occupied", "V2");

    /* 14. cancel admit of the bedless boarder: B2 ends */
    adt(l, T(DAY0, 10, 20), "A11", PV("P4", "V4", "I", "GEN"));
    expect(l, now, "A11", (struct want){ 3, 1, 0, 3, 0, 1, 1 });
    j = alerts(l, false);
    alert_is(j, "B2", "ed_boarders", "", "2026-11-22 09:20:00",
             "2026-11-22 10:20:00");
    json_decref(j);

    /* 15. merge: V3 now belongs to patient PNEW */
    adt(l, T(DAY0, 10, 30), "A40", "PID|1||PNEW\rMRG|P3\r");
    {
        struct cb_buf out = CB_BUF_INIT;

        assert_int_equal(cb_live_wards_json(l, cb_str_c("H1"), now, true, &out),
                         CB_OK);
        assert_non_null(strstr(cb_buf_cstr(&out),
                               "\"visit\":\"V3\",\"patient\":\"PNEW\""));
        assert_null(strstr(cb_buf_cstr(&out), "\"P3\""));
        /* without the permission: visits, never patient ids */
        cb_buf_reset(&out);
        assert_int_equal(cb_live_wards_json(l, cb_str_c("H1"), now, false, &out),
                         CB_OK);
        assert_non_null(strstr(cb_buf_cstr(&out), "\"visit\":\"V3\""));
        assert_null(strstr(cb_buf_cstr(&out), "\"patient\""));
        assert_null(strstr(cb_buf_cstr(&out), "PNEW"));
        cb_buf_release(&out);
    }
    /* merging an unknown patient */
    adt(l, T(DAY0, 10, 31), "A40", "PID|1||PX\rMRG|PNONE\r");
    anom[CB_LIVE_ANOM_UNKNOWN_PATIENT]++;
    anomalies_are(l, anom);

    /* 16-17. unknown visits: a transfer creates it, a discharge does not */
    adt(l, T(DAY0, 10, 40), "A02", PV("P9", "V9", "I", "GEN^4^1"));
    anom[CB_LIVE_ANOM_UNKNOWN_VISIT]++;
    expect(l, now, "unknown A02", (struct want){ 4, 1, 0, 3, 0, 2, 1 });
    adt(l, T(DAY0, 10, 50), "A03", PV("P8", "V8", "I", "GEN^4^2"));
    anom[CB_LIVE_ANOM_UNKNOWN_VISIT]++;
    expect(l, now, "unknown A03", (struct want){ 4, 1, 0, 3, 0, 2, 1 });
    anomalies_are(l, anom);

    /* 18. expected discharge today: pending */
    adt(l, T(DAY0, 11, 0), "A08",
        "PID|1||PNEW\rPV1|1|I|ICU^1^1||||||||||||||||V3\r"
        "PV2|||||||||20261122\r");
    {
        struct cb_live_stats st;

        assert_int_equal(cb_live_stats(l, cb_str_c("H1"), now, &st), CB_OK);
        assert_int_equal(st.pending_discharges, 1);
        assert_int_equal(st.capacity, 2 + 4);   /* ED not counted */
    }

    /* 19. an admission into a taken bed displaces its occupant */
    adt(l, T(DAY0, 11, 10), "A01", PV("P5", "V5", "I", "ICU^1^1"));
    anom[CB_LIVE_ANOM_BED_CONFLICT]++;
    anomalies_are(l, anom);
    bed_is(l, "ICU", "1-1", "occupied", "V5");
    expect(l, now, "displaced", (struct want){ 5, 2, 0, 4, 0, 2, 1 });
    j = alerts(l, true);
    alert_is(j, "B3", "ed_boarders", "", "2026-11-22 11:10:00", "");
    json_decref(j);

    /* 20. cancel of a transfer that never happened; discharge twice */
    adt(l, T(DAY0, 11, 20), "A12", PV("P5", "V5", "I", ""));
    anom[CB_LIVE_ANOM_STATE_MISMATCH]++;
    anom[CB_LIVE_ANOM_NO_LOCATION]++;
    adt(l, T(DAY0, 11, 30), "A03", PV("P5", "V5", "I", ""));
    adt(l, T(DAY0, 11, 31), "A03", PV("P5", "V5", "I", ""));
    anom[CB_LIVE_ANOM_STATE_MISMATCH]++;
    anomalies_are(l, anom);
    expect(l, now, "discharged", (struct want){ 4, 2, 0, 4, 1, 2, 1 });
    bed_is(l, "ICU", "1-1", "free", "");

    /* the day before has nothing; tomorrow's "today" is empty */
    expect(l, T(2026, 11, 23, 1, 0), "tomorrow",
           (struct want){ 4, 2, 0, 0, 0, 0, 0 });
    cb_live_free(l);
}

/* A visit kept by patient id (no PV1-19) is re-keyed by a merge. */
static void
test_merge_rekeys(void **state)
{
    struct cb_live *l = new_live(5);
    int64_t anom[CB_LIVE_ANOM_COUNT] = { 0 };

    (void)state;
    adt(l, T(DAY0, 8, 0), "A01", "PID|1||OLD\rPV1|1|I|GEN^1^1\r");
    adt(l, T(DAY0, 8, 5), "A40", "PID|1||NEW\rMRG|OLD\r");
    bed_is(l, "GEN", "1-1", "occupied", "NEW");
    /* later events use the new id */
    adt(l, T(DAY0, 9, 0), "A02", "PID|1||NEW\rPV1|1|I|GEN^1^2\r");
    bed_is(l, "GEN", "1-2", "occupied", "NEW");
    anomalies_are(l, anom);
    /* a merge onto an id already used by another visit keeps the key */
    adt(l, T(DAY0, 9, 10), "A01", "PID|1||OTHER\rPV1|1|I|GEN^1^3\r");
    adt(l, T(DAY0, 9, 20), "A40", "PID|1||NEW\rMRG|OTHER\r");
    anom[CB_LIVE_ANOM_MERGE_CONFLICT]++;
    anomalies_are(l, anom);
    bed_is(l, "GEN", "1-3", "occupied", "OTHER");
    cb_live_free(l);
}

/* Discharged visits are kept 72 h (event time), then forgotten. */
static void
test_discharged_expire(void **state)
{
    struct cb_live *l = new_live(5);
    char body[512];
    int64_t anom[CB_LIVE_ANOM_COUNT] = { 0 };

    (void)state;
    adt(l, T(DAY0, 8, 0), "A01", PV("P1", "V1", "I", "GEN^1^1"));
    adt(l, T(DAY0, 9, 0), "A03", PV("P1", "V1", "I", "GEN^1^1"));
    adt(l, T(DAY0, 9, 5), "A01", PV("P2", "V2", "I", "GEN^1^2"));
    adt(l, T(DAY0, 9, 10), "A03", PV("P2", "V2", "I", "GEN^1^2"));
    /* 71 h later: V1 can still be restored */
    adt(l, T(DAY0, 9, 0) + 71 * 3600000LL, "A13", PV("P1", "V1", "I", ""));
    bed_is(l, "GEN", "1-1", "occupied", "V1");
    anomalies_are(l, anom);
    /* 73 h after V2's discharge: forgotten, the A13 creates it anew */
    adt(l, T(DAY0, 9, 10) + 73 * 3600000LL, "A08",
        PV("P1", "V1", "I", "GEN^1^1"));
    adt(l, T(DAY0, 9, 10) + 73 * 3600000LL, "A13",
        PV("P2", "V2", "I", "GEN^1^4"));
    anom[CB_LIVE_ANOM_UNKNOWN_VISIT]++;
    anomalies_are(l, anom);
    bed_is(l, "GEN", "1-4", "occupied", "V2");
    bed_is(l, "GEN", "1-2", "free", "");
    cb_live_free(l);
}

/*
 * One message stamped ten years ahead (received now) counts as of an hour
 * after its receipt: the visits discharged today are still kept, so an A13
 * restores one into its bed, and today's flows stay today's.
 */
static void
test_future_stamp(void **state)
{
    struct cb_live *l = new_live(5);
    char body[512];
    int64_t anom[CB_LIVE_ANOM_COUNT] = { 0 };

    (void)state;
    adt(l, T(DAY0, 8, 0), "A01", PV("P1", "V1", "I", "GEN^1^1"));
    adt(l, T(DAY0, 9, 0), "A03", PV("P1", "V1", "I", "GEN^1^1"));
    adt_received(l, T(2036, 11, 22, 9, 30), T(DAY0, 9, 30), "A01",
                 PV("P3", "V3", "I", "GEN^1^3"));
    adt(l, T(DAY0, 10, 0), "A13", PV("P1", "V1", "I", ""));
    bed_is(l, "GEN", "1-1", "occupied", "V1");
    bed_is(l, "GEN", "1-3", "occupied", "V3");
    anomalies_are(l, anom);
    /* V3's admission counts today (at 10:30), not in 2036 */
    struct cb_live_stats st;
    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), T(DAY0, 11, 0), &st), CB_OK);
    assert_int_equal(st.today[CB_LIVE_FLOW_ADMISSIONS], 2);
    cb_live_free(l);
}

/* A05 pre-admission, A07 back to outpatient, ED A03, A20 O marker. */
static void
test_other_events(void **state)
{
    struct cb_live *l = new_live(5);
    char body[512];
    struct cb_live_stats st;

    (void)state;
    adt(l, T(DAY0, 7, 0), "A05",
        "PID|1||P1\rPV1|1|P|GEN||||||||||||||||V1\r"
        "PV2||||||||20261123\r");
    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), T(DAY0, 12, 0), &st),
                     CB_OK);
    assert_int_equal(st.preadmits, 1);
    adt(l, T(DAY0, 8, 0), "A01", PV("P1", "V1", "I", "GEN^1^1"));
    expect(l, T(DAY0, 12, 0), "preadmit admitted",
           (struct want){ 1, 0, 0, 1, 0, 0, 0 });
    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), T(DAY0, 12, 0), &st),
                     CB_OK);
    assert_int_equal(st.preadmits, 0);
    /* A07 to class O leaves the census without a discharge */
    adt(l, T(DAY0, 9, 0), "A07", PV("P1", "V1", "O", ""));
    expect(l, T(DAY0, 12, 0), "A07", (struct want){ 0, 0, 0, 1, 0, 0, 0 });
    bed_is(l, "GEN", "1-1", "free", "");
    /* ED visit discharged from the ED: no inpatient discharge */
    adt(l, T(DAY0, 9, 10), "A04", PV("P2", "V2", "E", "ED"));
    expect(l, T(DAY0, 12, 0), "ED", (struct want){ 0, 0, 1, 1, 0, 0, 1 });
    adt(l, T(DAY0, 9, 20), "A03", PV("P2", "V2", "E", "ED"));
    expect(l, T(DAY0, 12, 0), "ED out", (struct want){ 0, 0, 0, 1, 0, 0, 1 });
    /* outpatient registration counts only */
    adt(l, T(DAY0, 9, 30), "A04", PV("P3", "V3", "O", "CLINIC"));
    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), T(DAY0, 12, 0), &st),
                     CB_OK);
    assert_int_equal(st.today[CB_LIVE_FLOW_REGISTRATIONS], 1);
    assert_int_equal(st.ed_waiting, 0);
    /* the bed system's O marker occupies a bed until a visit leaves it */
    adt(l, T(DAY0, 9, 40), "A20", "NPU|GEN^1^2|O\r");
    bed_is(l, "GEN", "1-2", "occupied", "");
    adt(l, T(DAY0, 9, 50), "A01", PV("P4", "V4", "I", "GEN^1^2"));
    adt(l, T(DAY0, 10, 0), "A03", PV("P4", "V4", "I", "GEN^1^2"));
    bed_is(l, "GEN", "1-2", "free", "");
    /* A06 of an unknown visit: admitted, no anomaly */
    adt(l, T(DAY0, 10, 10), "A06", PV("P5", "V5", "I", "GEN^1^3"));
    expect(l, T(DAY0, 12, 0), "A06 new",
           (struct want){ 1, 0, 0, 3, 1, 0, 1 });
    {
        int64_t anom[CB_LIVE_ANOM_COUNT] = { 0 };

        anomalies_are(l, anom);
    }
    cb_live_free(l);
}

/* LOS outliers and the longest boarding time. */
static void
test_los_and_boarding(void **state)
{
    struct cb_live *l = new_live(5);
    struct cb_live_stats st;
    struct cb_buf out = CB_BUF_INIT;
    char body[512];

    (void)state;
    adt(l, T(2026, 10, 1, 8, 0), "A01", PV("P1", "V1", "I", "GEN^1^1"));
    adt(l, T(DAY0, 8, 0), "A01", PV("P2", "V2", "I", "GEN"));
    assert_int_equal(cb_live_stats(l, cb_str_c("H1"), T(DAY0, 10, 30), &st),
                     CB_OK);
    assert_int_equal(st.los_outliers, 1);
    assert_int_equal(st.boarders, 1);
    assert_int_equal(st.longest_boarding_min, 150);
    assert_int_equal(cb_live_summary_json(l, NULL, NULL, T(DAY0, 10, 30),
                                          &out), CB_OK);
    assert_non_null(strstr(cb_buf_cstr(&out),
                           "\"visits\":[{\"visit\":\"V1\",\"ward\":\"GEN\","
                           "\"bed\":\"1-1\",\"days\":52}]"));
    cb_buf_release(&out);
    cb_live_free(l);
}

/* Feed silence alerts: start at the tick's now, end at the next message. */
static void
test_feed_silence(void **state)
{
    struct cb_live *l = new_live(5);
    char body[512];
    json_t *j;

    (void)state;
    adt(l, T(DAY0, 8, 0), "A01", PV("P1", "V1", "I", "GEN^1^1"));
    /* received 08:00:01; 10 minutes is not more than 10 */
    assert_int_equal(cb_live_tick(l, T(DAY0, 8, 10) + 1000), CB_OK);
    j = alerts(l, true);
    assert_int_equal(json_array_size(json_object_get(j, "alerts")), 0);
    json_decref(j);
    assert_int_equal(cb_live_tick(l, T(DAY0, 8, 11) + 1000), CB_OK);
    j = alerts(l, true);
    alert_is(j, "F1", "feed_silent", "", "2026-11-22 08:11:01", "");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(j, "alerts"), 0),
                            "sender")), "HIS/H1");
    json_decref(j);
    adt(l, T(DAY0, 8, 30), "A08", PV("P1", "V1", "I", "GEN^1^1"));
    j = alerts(l, false);
    alert_is(j, "F1", "feed_silent", "", "2026-11-22 08:11:01",
             "2026-11-22 08:30:01");
    json_decref(j);
    cb_live_free(l);
}

/* ------------------------------------------------------------ wards file */

static void
test_wards_file(void **state)
{
    struct cb_live *l;
    struct cb_buf err = CB_BUF_INIT;
    struct cb_live_ward_stats ws;
    const char *p;
    static const char good[] =
        "hospital\tward\tname\tcare_level\tbeds\tstaffed\n"
        "# a comment\n"
        "H1\tICU\tIntensive care\tICU\t10\t8\n"
        "H1\tED\tEmergency\tED\t20\t20\n";
    static const char bad[] =
        "hospital\tward\tname\tcare_level\tbeds\tstaffed\n"
        "H1\tICU\tIntensive care\tICU\t10\t8\n"
        "H1\tGEN\tGeneral\tgeneral\tmany\t8\n";
    static const char nocol[] =
        "hospital\tward\tname\tbeds\tstaffed\n";

    (void)state;
    assert_int_equal(cb_live_new(NULL, &l), CB_OK);
    p = tu_write_file("wards.tsv", good, sizeof(good) - 1);
    assert_int_equal(cb_live_load_wards(l, p, &err), CB_OK);
    assert_int_equal(cb_live_ward_stats(l, cb_str_c("H1"), cb_str_c("ICU"),
                                        &ws), CB_OK);
    assert_int_equal(ws.capacity, 8);
    assert_int_equal(ws.free, 8);

    p = tu_write_file("bad.tsv", bad, sizeof(bad) - 1);
    assert_int_equal(cb_live_load_wards(l, p, &err), CB_ERR_PROTO);
    assert_non_null(strstr(cb_buf_cstr(&err), "bad.tsv:3:"));
    assert_non_null(strstr(cb_buf_cstr(&err), "beds"));
    cb_buf_reset(&err);

    p = tu_write_file("nocol.tsv", nocol, sizeof(nocol) - 1);
    assert_int_equal(cb_live_load_wards(l, p, &err), CB_ERR_PROTO);
    assert_non_null(strstr(cb_buf_cstr(&err), "nocol.tsv:1: missing column "
                                              "'care_level'"));
    cb_buf_reset(&err);

    assert_int_equal(cb_live_load_wards(l, "/nonexistent/wards.tsv", &err),
                     CB_ERR_NOT_FOUND);
    assert_non_null(strstr(cb_buf_cstr(&err), "/nonexistent/wards.tsv"));
    cb_buf_release(&err);
    cb_live_free(l);
}

/* ------------------------------------------------------------ replay */

/* A small deterministic generator. */
static uint64_t rng_state;

static unsigned
rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

/* A random-ish stream of every kind, as HL7 texts with received times. */
struct stream {
    char    **text;
    int64_t  *received;
    size_t    n;
};

static void
make_stream(struct stream *s, size_t n)
{
    static const char *const wards[] = { "ICU", "GEN", "ED", "SURG" };
    static const char *const kinds[] = {
        "A01", "A01", "A01", "A02", "A02", "A03", "A03", "A04", "A05",
        "A06", "A07", "A08", "A11", "A12", "A13", "A17", "A20", "A40"
    };
    int64_t t = T(2026, 10, 1, 0, 0);
    size_t i;

    s->text = calloc(n, sizeof(*s->text));
    s->received = calloc(n, sizeof(*s->received));
    s->n = n;
    rng_state = 42;
    for (i = 0; i < n; i++) {
        const char *k = kinds[rnd(sizeof(kinds) / sizeof(kinds[0]))];
        char stamp[13], body[512], loc[64], text[1024];
        unsigned v = rnd(60), v2 = rnd(60);
        static const char cls[] = "IIIIEO";

        t += rnd(40) * 60000LL;             /* up to 40 min apart */
        if (rnd(20) == 0)
            t -= 30 * 60000LL;              /* a little out of order */
        ts(t, stamp);
        if (rnd(4))
            snprintf(loc, sizeof(loc), "%s^%u^%u", wards[rnd(4)], rnd(5),
                     rnd(4));
        else
            snprintf(loc, sizeof(loc), "%s", wards[rnd(4)]);
        if (strcmp(k, "A20") == 0)
            snprintf(body, sizeof(body), "NPU|%s^%u^%u|%c\r", wards[rnd(4)],
                     rnd(5), rnd(4), "CHOUKI"[rnd(6)]);
        else if (strcmp(k, "A40") == 0)
            snprintf(body, sizeof(body), "PID|1||P%u\rMRG|P%u\r", v, v2);
        else if (strcmp(k, "A17") == 0)
            snprintf(body, sizeof(body),
                     "PID|1||P%u\rPV1|1|I|%s||||||||||||||||V%u\r"
                     "PID|2||P%u\rPV1|1|I|%s||||||||||||||||V%u\r",
                     v, loc, v, v2, loc, v2);
        else
            snprintf(body, sizeof(body),
                     "PID|1||P%u\rPV1|1|%c|%s||||||||||||||||V%u\r"
                     "PV2|||||||||2026%02u%02u\r",
                     v, cls[rnd(6)], loc, v, 10 + rnd(3), 1 + rnd(28));
        snprintf(text, sizeof(text),
                 "MSH|^~\\&|HIS%u|H%u|CB|CB|%s||ADT^%s|R%zu|P|2.4\r"
                 "EVN|%s|%s\r%s", rnd(2), 1 + rnd(2), stamp, k, i, k, stamp,
                 body);
        s->text[i] = strdup(text);
        s->received[i] = t + rnd(5000);
    }
}

static void
free_stream(struct stream *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        free(s->text[i]);
    free(s->text);
    free(s->received);
}

static void
render_all(struct cb_live *l, int64_t now, struct cb_buf *out)
{
    static const char *const hosps[] = { "H1", "H2" };
    size_t i;

    assert_int_equal(cb_live_summary_json(l, NULL, NULL, now, out), CB_OK);
    for (i = 0; i < 2; i++)
        assert_int_equal(cb_live_wards_json(l, cb_str_c(hosps[i]), now, true, out),
                         CB_OK);
    assert_int_equal(cb_live_alerts_json(l, NULL, NULL, false, out), CB_OK);
}

/* The wards of the random streams, in both hospitals. */
static void
set_wards(struct cb_live *l)
{
    static const char *const h[] = { "H1", "H2" };
    static const struct {
        const char *ward, *level;
        unsigned    staffed;
    } w[] = { { "ICU", "ICU", 4 }, { "GEN", "general", 12 },
              { "SURG", "general", 8 }, { "ED", "ED", 5 } };
    size_t i, j;

    for (i = 0; i < 2; i++)
        for (j = 0; j < 4; j++) {
            struct cb_live_ward_def d = {
                cb_str_c(h[i]), cb_str_c(w[j].ward), cb_str_c(w[j].ward),
                cb_str_c(w[j].level), w[j].staffed, w[j].staffed
            };

            assert_int_equal(cb_live_set_ward(l, &d), CB_OK);
        }
}

static void
test_replay_equal(void **state)
{
    struct stream s;
    struct cb_live *a, *b;
    struct cb_buf ja = CB_BUF_INIT, jb = CB_BUF_INIT;
    struct cb_live_config c;
    size_t i;
    int64_t now;

    (void)state;
    make_stream(&s, 4000);
    cb_live_config_default(&c);
    c.boarders_threshold = 2;
    c.occupancy_threshold = 0.5;
    c.alert_history = 50;          /* the ring wraps */
    assert_int_equal(cb_live_new(&c, &a), CB_OK);
    set_wards(a);
    for (i = 0; i < s.n; i++)
        apply_text(a, s.text[i], s.received[i]);
    now = s.received[s.n - 1] + 60000;
    render_all(a, now, &ja);

    /* a restart: a fresh state, the same journal in order */
    assert_int_equal(cb_live_new(&c, &b), CB_OK);
    set_wards(b);
    for (i = 0; i < s.n; i++)
        apply_text(b, s.text[i], s.received[i]);
    render_all(b, now, &jb);
    assert_string_equal(cb_buf_cstr(&ja), cb_buf_cstr(&jb));

    /* the stream did exercise the state: alerts, anomalies, census */
    {
        json_error_t je;
        json_t *sum;
        struct cb_live_stats st;

        assert_int_equal(cb_live_stats(a, cb_str_c("H1"), now, &st), CB_OK);
        assert_true(st.census > 0);
        assert_true(st.anomalies[CB_LIVE_ANOM_UNKNOWN_VISIT] > 0);
        assert_true(st.anomalies[CB_LIVE_ANOM_BED_CONFLICT] > 0);
        assert_true(st.anomalies[CB_LIVE_ANOM_STATE_MISMATCH] > 0);
        cb_buf_reset(&ja);
        assert_int_equal(cb_live_alerts_json(a, NULL, NULL, false, &ja),
                         CB_OK);
        sum = json_loads(cb_buf_cstr(&ja), 0, &je);
        assert_non_null(sum);
        /* the history ring is full (50) and active ones come first */
        assert_true(json_array_size(json_object_get(sum, "alerts"))
                    >= 50 + (size_t)st.active_alerts);
        json_decref(sum);
        cb_buf_reset(&ja);
        assert_int_equal(cb_live_summary_json(a, NULL, NULL, now, &ja),
                         CB_OK);
        sum = json_loads(cb_buf_cstr(&ja), 0, &je);
        if (!sum)
            fail_msg("summary JSON invalid: %s", je.text);
        assert_int_equal(json_array_size(json_object_get(sum, "hospitals")),
                         2);
        json_decref(sum);
    }
    cb_buf_release(&ja);
    cb_buf_release(&jb);
    cb_live_free(a);
    cb_live_free(b);
    free_stream(&s);
}

/* The figures agree with the beds and visits behind them. */
static void
check_board(struct cb_live *l, const char *hosp, int64_t now)
{
    struct cb_buf out = CB_BUF_INIT;
    json_error_t je;
    json_t *board, *wards, *w, *bed;
    size_t k, m;
    struct cb_live_stats st;
    int occupied = 0, boarders_ed = 0;

    if (cb_live_wards_json(l, cb_str_c(hosp), now, true, &out) == CB_ERR_NOT_FOUND)
        return;
    board = json_loads(cb_buf_cstr(&out), 0, &je);
    assert_non_null(board);
    wards = json_object_get(board, "wards");
    json_array_foreach(wards, k, w) {
        int occ = 0, blk = 0, cen = 0;

        json_array_foreach(json_object_get(w, "beds"), m, bed) {
            const char *stt = json_string_value(json_object_get(bed, "state"));

            occ += strcmp(stt, "occupied") == 0;
            blk += strcmp(stt, "blocked") == 0;
            cen += json_object_get(bed, "visit") != NULL;
            boarders_ed += json_is_true(json_object_get(bed, "boarder"));
        }
        assert_int_equal(occ, json_integer_value(json_object_get(w,
                                                                 "occupied")));
        assert_int_equal(blk, json_integer_value(json_object_get(w,
                                                                 "blocked")));
        assert_int_equal(cen, json_integer_value(json_object_get(w,
                                                                 "census")));
        if (strcmp(json_string_value(json_object_get(w, "care_level")), "ED"))
            occupied += occ;
    }
    assert_int_equal(cb_live_stats(l, cb_str_c(hosp), now, &st), CB_OK);
    assert_int_equal(st.occupied, occupied);
    assert_int_equal(st.boarders,
                     (int)json_array_size(json_object_get(board, "boarders")));
    assert_true(boarders_ed <= st.boarders);
    assert_true(st.census >= st.boarders && st.ed_waiting >= 0
                && st.preadmits >= 0);
    json_decref(board);
    cb_buf_release(&out);
}

static void
test_invariants_random(void **state)
{
    struct stream s;
    struct cb_live *l;
    size_t i;

    (void)state;
    make_stream(&s, 3000);
    assert_int_equal(cb_live_new(NULL, &l), CB_OK);
    set_wards(l);
    for (i = 0; i < s.n; i++) {
        apply_text(l, s.text[i], s.received[i]);
        if (i % 100 == 0) {
            check_board(l, "H1", s.received[i]);
            check_board(l, "H2", s.received[i]);
        }
    }
    cb_live_free(l);
    free_stream(&s);
}

/*
 * Out of memory at every allocation in turn: apply says so, nothing leaks
 * or crashes, and the figures still agree with the beds afterwards.
 */
static void
test_out_of_memory(void **state)
{
    struct stream s;
    struct cb_hl7_msg *m;
    struct cb_adt_event *ev;
    struct cb_buf err = CB_BUF_INIT, out = CB_BUF_INIT;
    size_t i;
    long n;
    bool clean = false;

    (void)state;
    make_stream(&s, 400);
    m = calloc(s.n, sizeof(*m));
    ev = calloc(s.n, sizeof(*ev));
    assert_non_null(m);
    assert_non_null(ev);
    for (i = 0; i < s.n; i++) {
        struct cb_adt_reject why;

        assert_int_equal(cb_hl7_parse(&m[i], cb_str_c(s.text[i]), &err),
                         CB_OK);
        assert_int_equal(cb_adt_from_hl7(&m[i], &ev[i], &why, &err), CB_OK);
    }
    for (n = 0; !clean && n < 5000; n++) {
        struct cb_live *l;
        enum cb_err rc;

        assert_int_equal(cb_live_new(NULL, &l), CB_OK);
        set_wards(l);
        clean = true;
        cb_alloc_fail_after(n);
        for (i = 0; i < s.n; i++) {
            rc = cb_live_apply(l, &ev[i], (int64_t)i + 1, s.received[i]);
            assert_true(rc == CB_OK || rc == CB_ERR_NOMEM);
            clean = clean && rc == CB_OK;
        }
        rc = cb_live_summary_json(l, NULL, NULL, s.received[s.n - 1], &out);
        assert_true(rc == CB_OK || rc == CB_ERR_NOMEM);
        cb_buf_release(&out);
        cb_alloc_fail_after(-1);
        check_board(l, "H1", s.received[s.n - 1]);
        check_board(l, "H2", s.received[s.n - 1]);
        cb_live_free(l);
    }
    assert_true(clean);   /* the loop reached a run with no failure */
    for (i = 0; i < s.n; i++)
        cb_hl7_release(&m[i]);
    free(m);
    free(ev);
    cb_buf_release(&err);
    free_stream(&s);
}

/* ------------------------------------------------------------ forecast */

/*
 * A periodic stream with a known answer: every day, 2 admissions at :05 of
 * each hour from 08 to 17; every patient leaves 3 days later at 10:30,
 * 11:30 or 12:30. The census at each hour start repeats daily, and the
 * model (same-hour-of-week admissions, hour-of-day hazard) reproduces it.
 */
static void
test_forecast_periodic(void **state)
{
    struct cb_live *l = new_live(1000);
    int64_t day0 = cb_days_from_civil(2026, 9, 1), origin = 0;
    double fc[48], fc_short[48], mae;
    unsigned n;
    int d, hh, k, seqno = 0;
    int32_t census;

    (void)state;
    /* admissions and discharges in time order, day by day */
    for (d = 0; d < 44; d++) {
        for (hh = 0; hh < 24; hh++) {
            /* discharges of the patients admitted three days before */
            if (d >= 3 && hh >= 10 && hh <= 12) {
                int ah, i;

                for (ah = 8; ah <= 17; ah++)
                    for (i = 0; i < 2; i++) {
                        int idx = ah * 2 + i;
                        char vid[32], body[256];

                        if (10 + idx % 3 != hh)
                            continue;
                        snprintf(vid, sizeof(vid), "D%dV%d", d - 3, idx);
                        pv(body, sizeof(body), vid, vid, "I", "GEN");
                        adt(l, (day0 + d) * 86400000LL
                                   + hh * 3600000LL + 30 * 60000LL,
                            "A03", body);
                    }
            }
            if (hh >= 8 && hh <= 17) {
                int i;

                for (i = 0; i < 2; i++) {
                    char vid[32], body[256];

                    snprintf(vid, sizeof(vid), "D%dV%d", d, hh * 2 + i);
                    pv(body, sizeof(body), vid, vid, "I", "GEN");
                    adt(l, (day0 + d) * 86400000LL + hh * 3600000LL
                               + 5 * 60000LL, "A01", body);
                    seqno++;
                }
            }
        }
        if (d == 39) {
            /* origin: day 40 00:00, before that day's events; the 35 days
             * of history (5..39) are all past the 3-day warm-up */
            origin = (day0 + 40) * 86400000LL;
            assert_int_equal(cb_live_forecast(l, cb_str_c("H1"), origin, 48,
                                              fc), CB_OK);
        }
    }
    assert_int_equal(cb_live_forecast_error(l, cb_str_c("H1"), origin, 48,
                                            fc, &mae, &n), CB_OK);
    assert_int_equal(n, 48);
    if (mae > 0.2)
        fail_msg("forecast mean absolute error %.3f", mae);
    /* the census really moves: 60 at night, 64 at 10:00, 50 at 13:00 */
    assert_int_equal(cb_live_census_at(l, cb_str_c("H1"),
                                       origin + 13 * 3600000LL, &census),
                     CB_OK);
    assert_int_equal(census, 50);
    assert_int_equal(cb_live_census_at(l, cb_str_c("H1"),
                                       origin + 10 * 3600000LL, &census),
                     CB_OK);
    assert_int_equal(census, 64);
    assert_int_equal(cb_live_census_at(l, cb_str_c("H1"),
                                       origin + 3 * 3600000LL, &census),
                     CB_OK);
    assert_int_equal(census, 60);
    assert_true(fc[12] > 49.5 && fc[12] < 50.5);   /* start of 13:00 */
    assert_true(fc[36] > 49.5 && fc[36] < 50.5);   /* the next day */
    /* a naive "census stays" forecast is far off: the test can fail */
    for (k = 0; k < 48; k++)
        fc_short[k] = 60;
    assert_int_equal(cb_live_forecast_error(l, cb_str_c("H1"), origin, 48,
                                            fc_short, &mae, &n), CB_OK);
    assert_true(mae > 1.0);
    assert_int_equal(cb_live_forecast(l, cb_str_c("NOPE"), origin, 48, fc),
                     CB_ERR_NOT_FOUND);
    assert_int_equal(cb_live_forecast(l, cb_str_c("H1"), origin, 0, fc),
                     CB_ERR_USAGE);
    (void)seqno;
    cb_live_free(l);
}

/* With a short history the hour-of-day means are used. */
static void
test_forecast_short_history(void **state)
{
    struct cb_live *l = new_live(1000);
    int64_t day0 = cb_days_from_civil(2026, 9, 1);
    double fc[24];
    int d, hh;
    char body[256], vid[32];

    (void)state;
    /* 3 days, one admission at 09:05 each day, nobody leaves */
    for (d = 0; d < 3; d++)
        for (hh = 9; hh <= 9; hh++) {
            snprintf(vid, sizeof(vid), "S%d", d);
            pv(body, sizeof(body), vid, vid, "I", "GEN");
            adt(l, (day0 + d) * 86400000LL + hh * 3600000LL + 5 * 60000LL,
                "A01", body);
        }
    /* one more event to close day 2 */
    adt(l, (day0 + 3) * 86400000LL + 60000LL, "A08", body);
    assert_int_equal(cb_live_forecast(l, cb_str_c("H1"),
                                      (day0 + 3) * 86400000LL + 3600000LL,
                                      24, fc), CB_OK);
    /* census 3 now; +1 during hour 09 (fc[8] is the start of hour 10) */
    assert_true(fc[0] > 2.99 && fc[0] < 3.01);
    assert_true(fc[7] > 2.99 && fc[7] < 3.01);
    assert_true(fc[8] > 3.99 && fc[8] < 4.01);
    cb_live_free(l);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scripted_stream),
        cmocka_unit_test(test_merge_rekeys),
        cmocka_unit_test(test_discharged_expire),
        cmocka_unit_test(test_future_stamp),
        cmocka_unit_test(test_other_events),
        cmocka_unit_test(test_los_and_boarding),
        cmocka_unit_test(test_feed_silence),
        cmocka_unit_test(test_wards_file),
        cmocka_unit_test(test_replay_equal),
        cmocka_unit_test(test_invariants_random),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_forecast_periodic),
        cmocka_unit_test(test_forecast_short_history),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
