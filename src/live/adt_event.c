/*
 * adt_event.c - an HL7 v2 ADT message to one struct cb_adt_event.
 *
 * Where each value comes from (HL7 v2.5.1 chapter 3; the same positions in
 * 2.3 and 2.4):
 *   MSH-3.1/MSH-4.1  sender (the feed); MSH-4.1 is also the default hospital
 *   MSH-7            message time, the last fallback for the event time
 *   MSH-9            ADT ^ trigger [^ structure, absent in some 2.3 feeds]
 *   MSH-10           control id
 *   EVN-1            trigger, when MSH-9.2 is empty (2.3)
 *   EVN-2 / EVN-6    recorded / occurred time (EVN-6 preferred)
 *   PID-3            patient identifier list: first repetition, CX.1
 *   PV1-2            patient class (table 0004)
 *   PV1-3 / PV1-6    assigned / prior location (PL: ward^room^bed^facility)
 *   PV1-19           visit number, CX.1
 *   PV1-44 / PV1-45  admit / discharge time
 *   PV2-8 / PV2-9    expected admit / expected discharge time
 *   MRG-1 / MRG-5    prior patient id (CX.1) / prior visit number (CX.1)
 *   NPU-1 / NPU-2    bed location (PL) / bed status (table 0116)
 * Time stamps are the TS (or DTM) type; only its first component is read.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "carebase/adt.h"
#include "carebase/date.h"

static const char *const kind_names[CB_ADT_KIND_COUNT] = {
    "A01", "A02", "A03", "A04", "A05", "A06", "A07",
    "A08", "A11", "A12", "A13", "A17", "A20", "A40"
};

const char *
cb_adt_kind_name(enum cb_adt_kind k)
{
    return (unsigned)k < CB_ADT_KIND_COUNT ? kind_names[k] : "?";
}

/* ------------------------------------------------------------ timestamps */

static bool
digits(const char *p, size_t n, int *out)
{
    size_t i;
    int v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static int
month_days(int y, int mo)
{
    static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return mo == 2 && leap ? 29 : dim[mo - 1];
}

enum cb_err
cb_adt_parse_ts(struct cb_str s, int local_offset_min, int64_t *ms)
{
    const char *p;
    size_t n = 0, i, len;
    int y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0, frac = 0, v;
    int64_t adjust_min = 0;

    s = cb_str_trim(s);
    p = s.ptr;
    len = s.len;
    while (n < len && p[n] >= '0' && p[n] <= '9')
        n++;
    if (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14)
        return CB_ERR_PROTO;
    if (!digits(p, 4, &y) || y < 1900 || y > 2999)
        return CB_ERR_PROTO;
    if (n >= 6 && (!digits(p + 4, 2, &mo) || mo < 1 || mo > 12))
        return CB_ERR_PROTO;
    if (n >= 8 && (!digits(p + 6, 2, &d) || d < 1 || d > month_days(y, mo)))
        return CB_ERR_PROTO;
    if (n >= 10 && (!digits(p + 8, 2, &h) || h > 23))
        return CB_ERR_PROTO;
    if (n >= 12 && (!digits(p + 10, 2, &mi) || mi > 59))
        return CB_ERR_PROTO;
    if (n >= 14 && (!digits(p + 12, 2, &sec) || sec > 59))
        return CB_ERR_PROTO;
    i = n;
    if (i < len && p[i] == '.') {
        size_t f0 = ++i, k;

        if (n != 14)
            return CB_ERR_PROTO;
        while (i < len && p[i] >= '0' && p[i] <= '9')
            i++;
        if (i == f0 || i - f0 > 6)
            return CB_ERR_PROTO;
        for (k = 0; k < 3; k++)   /* milliseconds; further digits dropped */
            frac = frac * 10 + (f0 + k < i ? p[f0 + k] - '0' : 0);
    }
    if (i < len && (p[i] == '+' || p[i] == '-')) {
        int oh, om;

        if (len - i != 5 || !digits(p + i + 1, 2, &oh)
            || !digits(p + i + 3, 2, &om) || oh > 14 || om > 59)
            return CB_ERR_PROTO;
        v = oh * 60 + om;
        /* wall clock at the message's offset -> UTC -> local wall clock */
        adjust_min = (int64_t)local_offset_min - (p[i] == '+' ? v : -v);
        i = len;
    }
    if (i != len)
        return CB_ERR_PROTO;
    *ms = (cb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec
           + adjust_min * 60) * 1000 + frac;
    return CB_OK;
}

/* ------------------------------------------------------------ reading */

struct rd {
    struct cb_hl7_msg    *m;
    struct cb_adt_reject *why;
    struct cb_buf        *err;
    int                   tz;    /* local offset, minutes */
    enum cb_err           rc;    /* first failure */
};

/* Records the first refusal; later ones are ignored. */
static enum cb_err
refuse(struct rd *r, enum cb_err rc, const char *ack,
       enum cb_hl7_err_code code, const char *seg, unsigned seq,
       unsigned field, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

static enum cb_err
refuse(struct rd *r, enum cb_err rc, const char *ack,
       enum cb_hl7_err_code code, const char *seg, unsigned seq,
       unsigned field, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (r->rc != CB_OK)
        return r->rc;
    r->rc = rc;
    r->why->ack = ack;
    r->why->code = code;
    r->why->seg = seg;
    r->why->seq = seq;
    r->why->field = field;
    va_start(ap, fmt);
    n = vsnprintf(r->why->text, sizeof(r->why->text), fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof(r->why->text))
        CB_BUG("adt: refusal text too long"); /* our own short formats */
    cb_errf(r->err, "%s", r->why->text);
    return rc;
}

/* A decoded value; refusal AE 102 on a bad escape or charset. */
static struct cb_str
get(struct rd *r, long seg, const char *id, unsigned seq, unsigned field,
    unsigned comp, unsigned sub)
{
    struct cb_buf scratch = CB_BUF_INIT;
    struct cb_str v = CB_STR_NULL;
    enum cb_err rc;

    if (r->rc != CB_OK || seg < 0)
        return CB_STR_NULL;
    rc = cb_hl7_get(r->m, (size_t)seg, field, 1, comp, sub, &v, &scratch);
    cb_buf_release(&scratch);   /* its detail may quote the value */
    if (rc == CB_ERR_NOMEM)
        refuse(r, rc, "AE", CB_HL7_E_INTERNAL, id, seq, field,
               "out of memory reading %s-%u", id, field);
    else if (rc != CB_OK)
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_DATA_TYPE, id, seq, field,
               "%s-%u: invalid escape sequence or character encoding", id,
               field);
    return rc == CB_OK ? cb_str_trim(v) : CB_STR_NULL;
}

/* An identifier or location part: also capped at CB_ADT_ID_MAX bytes. */
static struct cb_str
get_id(struct rd *r, long seg, const char *id, unsigned seq, unsigned field,
       unsigned comp, unsigned sub)
{
    struct cb_str v = get(r, seg, id, seq, field, comp, sub);

    if (v.len > CB_ADT_ID_MAX) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_DATA_TYPE, id, seq, field,
               "%s-%u: value longer than %d bytes", id, field,
               CB_ADT_ID_MAX);
        return CB_STR_NULL;
    }
    return v;
}

/* A TS field (first component); 0 when empty. */
static int64_t
get_ts(struct rd *r, long seg, const char *id, unsigned seq, unsigned field)
{
    struct cb_str v = get(r, seg, id, seq, field, 1, 0);
    int64_t ms = 0;

    if (v.len && cb_adt_parse_ts(v, r->tz, &ms) != CB_OK)
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_DATA_TYPE, id, seq, field,
               "%s-%u: not a valid timestamp", id, field);
    return ms;
}

static void
get_loc(struct rd *r, long seg, const char *id, unsigned seq,
        unsigned field, struct cb_adt_loc *loc)
{
    loc->ward = get_id(r, seg, id, seq, field, 1, 0);
    loc->room = get_id(r, seg, id, seq, field, 2, 0);
    loc->bed = get_id(r, seg, id, seq, field, 3, 0);
    loc->facility = get_id(r, seg, id, seq, field, 4, 1);
}

/* Index of segment `id` that belongs to the group starting at `from` and
 * ending before `until` (-1 for the end of the message). */
static long
find_in(const struct cb_hl7_msg *m, const char *id, long from, long until)
{
    long i = cb_hl7_find(m, id, (size_t)from, 1);

    return (i >= 0 && (until < 0 || i < until)) ? i : -1;
}

/* PID (occurrence seq) and its PV1 (required unless pv1_optional). */
static void
read_party(struct rd *r, unsigned seq, bool pv1_optional,
           struct cb_adt_party *p, long *pv1_out)
{
    long pid = cb_hl7_find(r->m, "PID", 0, seq), next, pv1;

    *pv1_out = -1;
    if (pid < 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_SEGMENT_SEQ, "PID", seq, 0,
               "missing PID segment (occurrence %u)", seq);
        return;
    }
    p->patient_id = get_id(r, pid, "PID", seq, 3, 1, 0);
    if (r->rc == CB_OK && p->patient_id.len == 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_REQUIRED, "PID", seq, 3,
               "PID-3: patient identifier missing");
        return;
    }
    next = cb_hl7_find(r->m, "PID", (size_t)pid + 1, 1);
    pv1 = find_in(r->m, "PV1", pid + 1, next);
    if (pv1 < 0) {
        if (!pv1_optional)
            refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_SEGMENT_SEQ, "PV1", seq, 0,
                   "missing PV1 segment (occurrence %u)", seq);
        p->visit_id = p->patient_id;
        return;
    }
    *pv1_out = pv1;
    {
        struct cb_str cls = get(r, pv1, "PV1", seq, 2, 1, 0);

        p->pclass = cls.len ? cls.ptr[0] : 0;
    }
    get_loc(r, pv1, "PV1", seq, 3, &p->loc);
    p->visit_id = get_id(r, pv1, "PV1", seq, 19, 1, 0);
    if (p->visit_id.len == 0)
        p->visit_id = p->patient_id;
}

static const struct {
    const char       *code;
    enum cb_adt_kind  kind;
} triggers[] = {
    { "A01", CB_ADT_A01 }, { "A02", CB_ADT_A02 }, { "A03", CB_ADT_A03 },
    { "A04", CB_ADT_A04 }, { "A05", CB_ADT_A05 }, { "A06", CB_ADT_A06 },
    { "A07", CB_ADT_A07 }, { "A08", CB_ADT_A08 }, { "A11", CB_ADT_A11 },
    { "A12", CB_ADT_A12 }, { "A13", CB_ADT_A13 }, { "A17", CB_ADT_A17 },
    { "A20", CB_ADT_A20 }, { "A40", CB_ADT_A40 },
};

/* A printable rendering of a short code for messages ("A99"). */
static bool
printable_code(struct cb_str s)
{
    size_t i;

    if (s.len == 0 || s.len > 8)
        return false;
    for (i = 0; i < s.len; i++)
        if (!((s.ptr[i] >= 'A' && s.ptr[i] <= 'Z')
              || (s.ptr[i] >= 'a' && s.ptr[i] <= 'z')
              || (s.ptr[i] >= '0' && s.ptr[i] <= '9') || s.ptr[i] == '_'))
            return false;
    return true;
}

static void
read_header(struct rd *r, struct cb_adt_event *ev)
{
    struct cb_hl7_msg *m = r->m;
    struct cb_str type, trig, app, fac;
    long evn;
    size_t i;
    bool found = false;

    type = get(r, 0, "MSH", 1, 9, 1, 0);
    if (r->rc == CB_OK && !cb_str_eqz(type, "ADT")) {
        if (printable_code(type))
            refuse(r, CB_ERR_PROTO, "AR", CB_HL7_E_MSG_TYPE, "MSH", 1, 9,
                   "unsupported message type '%.*s': only ADT",
                   (int)type.len, type.ptr);
        else
            refuse(r, CB_ERR_PROTO, "AR", CB_HL7_E_MSG_TYPE, "MSH", 1, 9,
                   "unsupported message type: only ADT");
        return;
    }
    evn = cb_hl7_find(m, "EVN", 0, 1);
    trig = get(r, 0, "MSH", 1, 9, 2, 0);
    if (trig.len == 0)
        trig = get(r, evn, "EVN", 1, 1, 1, 0);
    for (i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++)
        if (cb_str_eqz(trig, triggers[i].code)) {
            ev->kind = triggers[i].kind;
            found = true;
        }
    if (r->rc != CB_OK)
        return;
    if (!found) {
        if (printable_code(trig))
            refuse(r, CB_ERR_PROTO, "AR", CB_HL7_E_EVENT_CODE, "MSH", 1, 9,
                   "unsupported trigger event '%.*s'", (int)trig.len,
                   trig.ptr);
        else
            refuse(r, CB_ERR_PROTO, "AR", CB_HL7_E_EVENT_CODE, "MSH", 1, 9,
                   "missing or unsupported trigger event");
        return;
    }
    ev->control_id = get(r, 0, "MSH", 1, 10, 0, 0);

    /* the feed key: "<MSH-3.1>/<MSH-4.1>", in the message's arena */
    app = get(r, 0, "MSH", 1, 3, 1, 0);
    fac = get(r, 0, "MSH", 1, 4, 1, 0);
    if (r->rc != CB_OK)
        return;
    {
        char *p = cb_arena_alloc(&m->arena, app.len + fac.len + 1);

        if (!p) {
            refuse(r, CB_ERR_NOMEM, "AE", CB_HL7_E_INTERNAL, "MSH", 1, 3,
                   "out of memory");
            return;
        }
        if (app.len)
            memcpy(p, app.ptr, app.len);
        p[app.len] = '/';
        if (fac.len)
            memcpy(p + app.len + 1, fac.ptr, fac.len);
        ev->sender = cb_str_make(p, app.len + fac.len + 1);
    }
    ev->hospital = fac;

    /* event time: EVN-6, else EVN-2, else MSH-7 */
    if (evn >= 0) {
        ev->event_ms = get_ts(r, evn, "EVN", 1, 6);
        if (ev->event_ms == 0)
            ev->event_ms = get_ts(r, evn, "EVN", 1, 2);
    }
    if (ev->event_ms == 0)
        ev->event_ms = get_ts(r, 0, "MSH", 1, 7);
    if (r->rc == CB_OK && ev->event_ms == 0)
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_REQUIRED, "MSH", 1, 7,
               "MSH-7: message time missing");
}

static void
read_a20(struct rd *r, struct cb_adt_event *ev)
{
    long npu = cb_hl7_find(r->m, "NPU", 0, 1);
    struct cb_str st;

    if (npu < 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_SEGMENT_SEQ, "NPU", 1, 0,
               "missing NPU segment");
        return;
    }
    get_loc(r, npu, "NPU", 1, 1, &ev->bed_loc);
    if (r->rc == CB_OK && ev->bed_loc.ward.len == 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_REQUIRED, "NPU", 1, 1,
               "NPU-1: bed location missing");
        return;
    }
    st = get(r, npu, "NPU", 1, 2, 1, 0);
    if (r->rc != CB_OK)
        return;
    if (st.len == 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_REQUIRED, "NPU", 1, 2,
               "NPU-2: bed status missing");
        return;
    }
    if (st.len != 1 || !strchr("CHOUKI", st.ptr[0])) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_TABLE_VALUE, "NPU", 1, 2,
               "NPU-2: bed status not in table 0116 (C H O U K I)");
        return;
    }
    ev->bed_status = st.ptr[0];
    if (ev->bed_loc.facility.len)
        ev->hospital = ev->bed_loc.facility;
}

static void
read_a40(struct rd *r, struct cb_adt_event *ev)
{
    long mrg = cb_hl7_find(r->m, "MRG", 0, 1);

    if (mrg < 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_SEGMENT_SEQ, "MRG", 1, 0,
               "missing MRG segment");
        return;
    }
    ev->prior_patient_id = get_id(r, mrg, "MRG", 1, 1, 1, 0);
    if (r->rc == CB_OK && ev->prior_patient_id.len == 0) {
        refuse(r, CB_ERR_PROTO, "AE", CB_HL7_E_REQUIRED, "MRG", 1, 1,
               "MRG-1: prior patient identifier missing");
        return;
    }
    ev->prior_visit_id = get_id(r, mrg, "MRG", 1, 5, 1, 0);
}

enum cb_err
cb_adt_from_hl7_tz(struct cb_hl7_msg *m, int local_offset_min,
                   struct cb_adt_event *ev, struct cb_adt_reject *why,
                   struct cb_buf *err)
{
    struct rd r = { m, why, err, local_offset_min, CB_OK };
    long pv1 = -1, pv1b = -1, pv2;

    memset(ev, 0, sizeof(*ev));
    memset(why, 0, sizeof(*why));
    if (!m->has_msh)
        return refuse(&r, CB_ERR_PROTO, "AR", CB_HL7_E_SEGMENT_SEQ, "MSH", 1,
                      0, "missing MSH segment");
    read_header(&r, ev);
    if (r.rc != CB_OK)
        return r.rc;
    if (ev->kind == CB_ADT_A20) {
        read_a20(&r, ev);
        goto hospital;
    }
    read_party(&r, 1, ev->kind == CB_ADT_A40, &ev->p, &pv1);
    if (ev->kind == CB_ADT_A17)
        read_party(&r, 2, false, &ev->p2, &pv1b);
    if (ev->kind == CB_ADT_A40)
        read_a40(&r, ev);
    if (pv1 >= 0) {
        get_loc(&r, pv1, "PV1", 1, 6, &ev->prior_loc);
        ev->admit_ms = get_ts(&r, pv1, "PV1", 1, 44);
        ev->discharge_ms = get_ts(&r, pv1, "PV1", 1, 45);
        pv2 = find_in(m, "PV2", pv1 + 1, cb_hl7_find(m, "PID", 0, 2));
        if (pv2 >= 0) {
            ev->expected_admit_ms = get_ts(&r, pv2, "PV2", 1, 8);
            ev->expected_discharge_ms = get_ts(&r, pv2, "PV2", 1, 9);
        }
    }
    if (ev->p.loc.facility.len)
        ev->hospital = ev->p.loc.facility;
hospital:
    if (r.rc == CB_OK && ev->hospital.len > CB_ADT_ID_MAX)
        refuse(&r, CB_ERR_PROTO, "AE", CB_HL7_E_DATA_TYPE, "MSH", 1, 4,
               "MSH-4: value longer than %d bytes", CB_ADT_ID_MAX);
    if (r.rc == CB_OK && ev->hospital.len == 0)
        refuse(&r, CB_ERR_PROTO, "AE", CB_HL7_E_REQUIRED, "MSH", 1, 4,
               "MSH-4: sending facility (hospital) missing");
    return r.rc;
}

enum cb_err
cb_adt_from_hl7(struct cb_hl7_msg *m, struct cb_adt_event *ev,
                struct cb_adt_reject *why, struct cb_buf *err)
{
    return cb_adt_from_hl7_tz(m, CB_ADT_LOCAL_OFFSET_DEFAULT, ev, why, err);
}
