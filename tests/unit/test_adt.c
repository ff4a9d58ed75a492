/*
 * test_adt.c - HL7 ADT messages to ADT events (src/live/adt_event.c).
 *
 * All messages are synthetic: made-up identifiers, no real patients.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/adt.h"
#include "carebase/date.h"
#include "carebase/hl7.h"
#include "testutil.h"

/* Local wall-clock ms of a civil date-time. */
static int64_t
T(int y, int mo, int d, int h, int mi, int s)
{
    return (cb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s)
           * 1000;
}

struct parsed {
    struct cb_hl7_msg    m;
    struct cb_adt_event  ev;
    struct cb_adt_reject why;
    struct cb_buf        err;
    enum cb_err          rc;
};

static void
run(struct parsed *p, const char *text)
{
    struct cb_buf perr = CB_BUF_INIT;

    memset(p, 0, sizeof(*p));
    cb_buf_init(&p->err, CB_BUF_MAX_DEFAULT);
    if (cb_hl7_parse(&p->m, cb_str_c(text), &perr) != CB_OK)
        fail_msg("parse failed: %s", cb_buf_cstr(&perr));
    cb_buf_release(&perr);
    p->rc = cb_adt_from_hl7(&p->m, &p->ev, &p->why, &p->err);
}

static void
done(struct parsed *p)
{
    cb_hl7_release(&p->m);
    cb_buf_release(&p->err);
}

static void
ok(struct parsed *p, const char *text)
{
    run(p, text);
    if (p->rc != CB_OK)
        fail_msg("refused: %s", cb_buf_cstr(&p->err));
}

#define EQ(s, z) do {                                                      \
        struct cb_str s_ = (s);                                            \
        if (!cb_str_eqz(s_, (z)))                                          \
            fail_msg("%s: got '%.*s', want '%s'", #s, (int)s_.len,         \
                     s_.ptr ? s_.ptr : "", (z));                           \
    } while (0)

/* A refusal with every part checked. */
static void
refused(const char *text, const char *ack, int code, const char *seg,
        unsigned seq, unsigned field, const char *text_part)
{
    struct parsed p;

    run(&p, text);
    if (p.rc == CB_OK)
        fail_msg("accepted, want %s %d %s^%u^%u", ack, code, seg, seq, field);
    assert_int_equal(p.rc, CB_ERR_PROTO);
    assert_string_equal(p.why.ack, ack);
    assert_int_equal(p.why.code, code);
    assert_string_equal(p.why.seg, seg);
    assert_int_equal(p.why.seq, seq);
    assert_int_equal(p.why.field, field);
    if (!strstr(p.why.text, text_part))
        fail_msg("text '%s' lacks '%s'", p.why.text, text_part);
    assert_non_null(strstr(cb_buf_cstr(&p.err), p.why.text));
    /* no patient identifier in the refusal text */
    assert_null(strstr(p.why.text, "P1001"));
    done(&p);
}

/* ------------------------------------------------------------ messages */

#define MSH(trig, ver) \
    "MSH|^~\\&|HIS|H001|CAREBASE|CB|20261122083000||ADT^" trig "|CTL1|P|" ver "\r"

#define A01_25 \
    MSH("A01^ADT_A01", "2.5") \
    "EVN|A01|20261122082900|||OP1|20261122082500\r" \
    "PID|1||P1001^^^H001^MR~ID77^^^NATION^NI||TEST^ALPHA||19800101|M\r" \
    "PV1|1|I|W3^301^2^H001|||ED^^1||||MED|||||||||V9001^^^H001^VN" \
    "|||||||||||||||||||||||||20261122082000\r" \
    "PV2||||||||20261122|20261130\r"

static void
test_a01_fields(void **state)
{
    struct parsed p;

    (void)state;
    ok(&p, A01_25);
    assert_int_equal(p.ev.kind, CB_ADT_A01);
    EQ(p.ev.control_id, "CTL1");
    EQ(p.ev.sender, "HIS/H001");
    EQ(p.ev.hospital, "H001");
    EQ(p.ev.p.patient_id, "P1001");
    EQ(p.ev.p.visit_id, "V9001");
    assert_int_equal(p.ev.p.pclass, 'I');
    EQ(p.ev.p.loc.ward, "W3");
    EQ(p.ev.p.loc.room, "301");
    EQ(p.ev.p.loc.bed, "2");
    EQ(p.ev.p.loc.facility, "H001");
    EQ(p.ev.prior_loc.ward, "ED");
    EQ(p.ev.prior_loc.bed, "1");
    /* EVN-6 wins over EVN-2 and MSH-7 */
    assert_int_equal(p.ev.event_ms, T(2026, 11, 22, 8, 25, 0));
    assert_int_equal(p.ev.admit_ms, T(2026, 11, 22, 8, 20, 0));
    assert_int_equal(p.ev.discharge_ms, 0);
    assert_int_equal(p.ev.expected_admit_ms, T(2026, 11, 22, 0, 0, 0));
    assert_int_equal(p.ev.expected_discharge_ms, T(2026, 11, 30, 0, 0, 0));
    assert_string_equal(cb_adt_kind_name(p.ev.kind), "A01");
    done(&p);
}

/* One message per trigger, across 2.3, 2.4 and 2.5.1. */
static void
test_every_kind(void **state)
{
    static const struct {
        const char      *text;
        enum cb_adt_kind kind;
    } cases[] = {
        { MSH("A01", "2.3") "EVN|A01|20261122082900\r"
          "PID|1||P1^^^H001||X\rPV1|1|I|W1^1^1\r", CB_ADT_A01 },
        { MSH("A02^ADT_A02", "2.4") "EVN|A02|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W2^1^1|||W1^1^1\r", CB_ADT_A02 },
        { MSH("A03^ADT_A03", "2.5.1") "EVN|A03|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W2^1^1\r", CB_ADT_A03 },
        { MSH("A04^ADT_A01", "2.5.1") "EVN|A04|20261122082900\r"
          "PID|1||P1\rPV1|1|E|ED^^3\r", CB_ADT_A04 },
        { MSH("A05^ADT_A05", "2.4") "EVN|A05|20261122082900\r"
          "PID|1||P1\rPV1|1|P|W1\r", CB_ADT_A05 },
        { MSH("A06^ADT_A06", "2.5") "EVN|A06|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W1^1^1\r", CB_ADT_A06 },
        { MSH("A07^ADT_A06", "2.5") "EVN|A07|20261122082900\r"
          "PID|1||P1\rPV1|1|O|W1\r", CB_ADT_A07 },
        { MSH("A08^ADT_A01", "2.3") "EVN|A08|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W1^1^1\r", CB_ADT_A08 },
        { MSH("A11^ADT_A09", "2.4") "EVN|A11|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W1^1^1\r", CB_ADT_A11 },
        { MSH("A12^ADT_A12", "2.5.1") "EVN|A12|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W1^1^1\r", CB_ADT_A12 },
        { MSH("A13^ADT_A01", "2.5.1") "EVN|A13|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W1^1^1\r", CB_ADT_A13 },
        { MSH("A17^ADT_A17", "2.4") "EVN|A17|20261122082900\r"
          "PID|1||P1\rPV1|1|I|W1^1^1\rPID|2||P2\rPV1|1|I|W1^1^2\r",
          CB_ADT_A17 },
        { MSH("A20^ADT_A20", "2.5") "EVN|A20|20261122082900\r"
          "NPU|W1^1^1|H\r", CB_ADT_A20 },
        { MSH("A40^ADT_A39", "2.3") "EVN|A40|20261122082900\r"
          "PID|1||P1\rMRG|P0\r", CB_ADT_A40 },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct parsed p;

        ok(&p, cases[i].text);
        assert_int_equal(p.ev.kind, cases[i].kind);
        EQ(p.ev.hospital, "H001");
        assert_int_equal(p.ev.event_ms, T(2026, 11, 22, 8, 29, 0));
        if (cases[i].kind != CB_ADT_A20) {
            EQ(p.ev.p.patient_id, "P1");
            EQ(p.ev.p.visit_id, "P1");   /* no PV1-19: the patient id */
        }
        done(&p);
    }
}

/* A 2.3 message without MSH-9.2 takes the trigger from EVN-1; no EVN at
 * all takes the time from MSH-7. */
static void
test_trigger_and_time_fallbacks(void **state)
{
    struct parsed p;

    (void)state;
    ok(&p, "MSH|^~\\&|HIS|H001|CB|CB|20261122083000||ADT|C1|P|2.3\r"
           "EVN|A03|20261122082900\r"
           "PID|1||P1\rPV1|1|I|W1^1^1||||||||||||||||V1\r");
    assert_int_equal(p.ev.kind, CB_ADT_A03);
    assert_int_equal(p.ev.event_ms, T(2026, 11, 22, 8, 29, 0));
    done(&p);

    ok(&p, "MSH|^~\\&|HIS|H001|CB|CB|20261122083000||ADT^A02|C1|P|2.4\r"
           "PID|1||P1\rPV1|1|I|W1^1^1\r");
    assert_int_equal(p.ev.event_ms, T(2026, 11, 22, 8, 30, 0));
    done(&p);
}

static void
test_a17_a40_a20(void **state)
{
    struct parsed p;

    (void)state;
    ok(&p, MSH("A17^ADT_A17", "2.5")
           "EVN|A17|20261122082900\r"
           "PID|1||PA\rPV1|1|I|W5^502^1||||||||||||||||VA\r"
           "PID|2||PB\rPV1|1|I|W5^503^2||||||||||||||||VB\r");
    EQ(p.ev.p.patient_id, "PA");
    EQ(p.ev.p.visit_id, "VA");
    EQ(p.ev.p.loc.room, "502");
    EQ(p.ev.p2.patient_id, "PB");
    EQ(p.ev.p2.visit_id, "VB");
    EQ(p.ev.p2.loc.room, "503");
    EQ(p.ev.p2.loc.bed, "2");
    assert_int_equal(p.ev.p2.pclass, 'I');
    done(&p);

    ok(&p, MSH("A40^ADT_A39", "2.5")
           "EVN|A40|20261122082900\r"
           "PID|1||PNEW^^^H001^MR\rMRG|POLD^^^H001^MR||||VOLD\r");
    EQ(p.ev.p.patient_id, "PNEW");
    EQ(p.ev.prior_patient_id, "POLD");
    EQ(p.ev.prior_visit_id, "VOLD");
    done(&p);

    ok(&p, MSH("A20^ADT_A20", "2.5.1")
           "EVN|A20|20261122082900\r"
           "NPU|W7^701^3^H009|K\r");
    EQ(p.ev.bed_loc.ward, "W7");
    EQ(p.ev.bed_loc.room, "701");
    EQ(p.ev.bed_loc.bed, "3");
    assert_int_equal(p.ev.bed_status, 'K');
    EQ(p.ev.hospital, "H009");   /* NPU-1.4 wins over MSH-4 */
    done(&p);
}

/* GB18030 message: the ward name 内科 arrives as UTF-8. */
#define GB_WARD "\xc4\xda\xbf\xc6"
#define U8_WARD "\xe5\x86\x85\xe7\xa7\x91"

static void
test_gb18030_ward(void **state)
{
    struct parsed p;

    (void)state;
    ok(&p, "MSH|^~\\&|HIS|H002|CB|CB|20261122083000||ADT^A01^ADT_A01|GB1|P"
           "|2.5|||AL|NE||GB 18030\r"
           "EVN|A01|20261122082900\r"
           "PID|1||G1^^^H002^MR\r"
           "PV1|1|I|" GB_WARD "^12^3\r");
    EQ(p.ev.p.loc.ward, U8_WARD);
    EQ(p.ev.p.loc.room, "12");
    EQ(p.ev.hospital, "H002");
    done(&p);
}

static void
test_timestamps(void **state)
{
    int64_t ms = 0;

    (void)state;
    assert_int_equal(cb_adt_parse_ts(cb_str_c("2026"), 480, &ms), CB_OK);
    assert_int_equal(ms, T(2026, 1, 1, 0, 0, 0));
    assert_int_equal(cb_adt_parse_ts(cb_str_c("202611"), 480, &ms), CB_OK);
    assert_int_equal(ms, T(2026, 11, 1, 0, 0, 0));
    assert_int_equal(cb_adt_parse_ts(cb_str_c("2026112208"), 480, &ms),
                     CB_OK);
    assert_int_equal(ms, T(2026, 11, 22, 8, 0, 0));
    assert_int_equal(cb_adt_parse_ts(cb_str_c("20261122083015.1234"), 480,
                                     &ms), CB_OK);
    assert_int_equal(ms, T(2026, 11, 22, 8, 30, 15) + 123);
    /* offsets convert to the local offset (+0800) */
    assert_int_equal(cb_adt_parse_ts(cb_str_c("202611220830+0800"), 480,
                                     &ms), CB_OK);
    assert_int_equal(ms, T(2026, 11, 22, 8, 30, 0));
    assert_int_equal(cb_adt_parse_ts(cb_str_c("202611220030+0000"), 480,
                                     &ms), CB_OK);
    assert_int_equal(ms, T(2026, 11, 22, 8, 30, 0));
    assert_int_equal(cb_adt_parse_ts(cb_str_c("202611212330-0100"), 480,
                                     &ms), CB_OK);
    assert_int_equal(ms, T(2026, 11, 22, 8, 30, 0));
    /* another local offset */
    assert_int_equal(cb_adt_parse_ts(cb_str_c("202611220830+0800"), 0,
                                     &ms), CB_OK);
    assert_int_equal(ms, T(2026, 11, 22, 0, 30, 0));
    /* refused */
    static const char *const bad[] = {
        "", "202", "20261", "20261322", "20260230", "2026112225",
        "202611220860", "20261122083060", "2026112208x0", "2026-11-22",
        "20261122083000.", "202611220830.5", "20261122+08", "20261122+0860",
        "20261122083000+0800x", "18000101",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (cb_adt_parse_ts(cb_str_c(bad[i]), 480, &ms) != CB_ERR_PROTO)
            fail_msg("accepted bad timestamp '%s'", bad[i]);
    /* leap day */
    assert_int_equal(cb_adt_parse_ts(cb_str_c("20280229"), 480, &ms), CB_OK);
}

/* ------------------------------------------------------------ refusals */

static void
test_refusals(void **state)
{
    (void)state;
    refused("MSH|^~\\&|HIS|H001|CB|CB|20261122083000||ORU^R01|X|P|2.5\r"
            "PID|1||P1001\r", "AR", 200, "MSH", 1, 9, "'ORU'");
    refused("MSH|^~\\&|HIS|H001|CB|CB|20261122083000||ADT^A99|X|P|2.5\r"
            "PID|1||P1001\rPV1|1|I\r", "AR", 201, "MSH", 1, 9, "'A99'");
    refused("MSH|^~\\&|HIS|H001|CB|CB|20261122083000||ADT|X|P|2.3\r"
            "PID|1||P1001\rPV1|1|I\r", "AR", 201, "MSH", 1, 9,
            "missing or unsupported");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PV1|1|I|W1\r", "AE", 100, "PID", 1, 0, "missing PID");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||^^^H001^MR\rPV1|1|I|W1\r", "AE", 101, "PID", 1, 3,
            "PID-3");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||P1001\r", "AE", 100, "PV1", 1, 0, "missing PV1");
    refused(MSH("A17", "2.5") "EVN|A17|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1^1^1\r", "AE", 100, "PID", 2, 0,
            "missing PID");
    refused(MSH("A17", "2.5") "EVN|A17|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1^1^1\rPID|2||P2\r", "AE", 100, "PV1",
            2, 0, "missing PV1");
    refused(MSH("A17", "2.5") "EVN|A17|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1^1^1\rPID|2\rPV1|1|I\r", "AE", 101,
            "PID", 2, 3, "PID-3");
    refused(MSH("A40", "2.5") "EVN|A40|20261122082900\r"
            "PID|1||P1001\r", "AE", 100, "MRG", 1, 0, "missing MRG");
    refused(MSH("A40", "2.5") "EVN|A40|20261122082900\r"
            "PID|1||P1001\rMRG|^^^H001||||V1\r", "AE", 101, "MRG", 1, 1,
            "MRG-1");
    refused(MSH("A20", "2.5") "EVN|A20|20261122082900\r", "AE", 100, "NPU",
            1, 0, "missing NPU");
    refused(MSH("A20", "2.5") "EVN|A20|20261122082900\r"
            "NPU||C\r", "AE", 101, "NPU", 1, 1, "NPU-1");
    refused(MSH("A20", "2.5") "EVN|A20|20261122082900\r"
            "NPU|W1^1^1\r", "AE", 101, "NPU", 1, 2, "NPU-2");
    refused(MSH("A20", "2.5") "EVN|A20|20261122082900\r"
            "NPU|W1^1^1|X\r", "AE", 103, "NPU", 1, 2, "table 0116");
    /* unparseable timestamps, each naming its field */
    refused(MSH("A01", "2.5") "EVN|A01|2026112208290\r"
            "PID|1||P1001\rPV1|1|I|W1\r", "AE", 102, "EVN", 1, 2, "EVN-2");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900||||2026-11-22\r"
            "PID|1||P1001\rPV1|1|I|W1\r", "AE", 102, "EVN", 1, 6, "EVN-6");
    refused("MSH|^~\\&|HIS|H001|CB|CB|yesterday||ADT^A01|X|P|2.5\r"
            "PID|1||P1001\rPV1|1|I|W1\r", "AE", 102, "MSH", 1, 7, "MSH-7");
    refused("MSH|^~\\&|HIS|H001|CB|CB|||ADT^A01|X|P|2.5\r"
            "PID|1||P1001\rPV1|1|I|W1\r", "AE", 101, "MSH", 1, 7, "MSH-7");
    refused(MSH("A03", "2.5") "EVN|A03|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1" "||||||||||||||||||||||||||||||||||||||||"
            "|20261122|20261199\r", "AE", 102, "PV1", 1, 45, "PV1-45");
    refused(MSH("A03", "2.5") "EVN|A03|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1" "||||||||||||||||||||||||||||||||||||||||"
            "|2026112\r", "AE", 102, "PV1", 1, 44, "PV1-44");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1\rPV2|||||||||tomorrow\r", "AE", 102,
            "PV2", 1, 9, "PV2-9");
    /* bad escapes or bytes in needed fields */
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||P1\\X4\\001\rPV1|1|I|W1\r", "AE", 102, "PID", 1, 3,
            "PID-3: invalid escape");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W\\Zunclosed\r", "AE", 102, "PV1", 1, 3,
            "PV1-3");
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W\xff\xfe" "1\r", "AE", 102, "PV1", 1, 3,
            "character encoding");
    /* an identifier longer than CB_ADT_ID_MAX */
    refused(MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||P1001\rPV1|1|I|W1||||||||||||||||"
            "V123456789012345678901234567890123456789012345678901234567890"
            "12345\r", "AE", 102, "PV1", 1, 19, "longer than 64");
    /* no hospital anywhere */
    refused("MSH|^~\\&|HIS||CB|CB|20261122083000||ADT^A01|X|P|2.5\r"
            "PID|1||P1001\rPV1|1|I|W1\r", "AE", 101, "MSH", 1, 4, "MSH-4");
}

/* A refusal turns into an ACK with an ERR segment, in both styles. */
static void
test_refusal_ack(void **state)
{
    struct parsed p;
    struct cb_buf ack = CB_BUF_INIT, err = CB_BUF_INIT;
    struct cb_hl7_ack_opts o;

    (void)state;
    run(&p, MSH("A01", "2.5") "EVN|A01|20261122082900\r"
            "PID|1||^^^H001^MR\rPV1|1|I|W1\r");
    assert_int_equal(p.rc, CB_ERR_PROTO);
    memset(&o, 0, sizeof(o));
    o.code = p.why.ack;
    o.control_id = cb_str_c("ACK1");
    o.timestamp = cb_str_c("20261122083001");
    o.err_code = p.why.code;
    o.err_text = cb_str_c(p.why.text);
    o.err_seg = p.why.seg;
    o.err_seq = p.why.seq;
    o.err_field = p.why.field;
    assert_int_equal(cb_hl7_ack(&p.m, &o, &ack, &err), CB_OK);
    assert_non_null(strstr(cb_buf_cstr(&ack), "MSA|AE|CTL1\r"));
    assert_non_null(strstr(cb_buf_cstr(&ack),
                           "ERR||PID^1^3|101^Required field missing"));
    cb_buf_release(&ack);
    cb_buf_release(&err);
    done(&p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a01_fields),
        cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_trigger_and_time_fallbacks),
        cmocka_unit_test(test_a17_a40_a20),
        cmocka_unit_test(test_gb18030_ward),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusal_ack),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
