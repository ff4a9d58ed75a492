/*
 * live_apply.c - one ADT event applied to the live state (semantics in
 * carebase/live.h).
 *
 * Every change to a visit follows one pattern: detach (take its share out
 * of the hospital and ward figures), change it, attach (put the share back
 * and start or stop its boarding clock). Bed occupancy goes through
 * bed_set, which keeps the ward's occupied and blocked counts. Wards whose
 * figures changed are collected and their alerts evaluated once, after the
 * whole event, so a move inside one event never flickers an alert.
 */
#include <string.h>

#include "live_int.h"

#define LV_TOUCH_MAX 8

struct apply {
    struct cb_live            *l;
    const struct cb_adt_event *ev;
    int32_t                    h;
    int64_t                    t;             /* event time */
    int32_t                    touched[LV_TOUCH_MAX];
    unsigned                   ntouched;
    bool                       touched_all;   /* overflow: check them all */
    enum cb_err                rc;            /* first failure */
};

static void
fail(struct apply *a, enum cb_err rc)
{
    if (a->rc == CB_OK)
        a->rc = rc;
}

static void
anomaly(struct apply *a, enum cb_live_anomaly k)
{
    a->l->hosps[a->h].anomalies[k]++;
}

static void
touch(struct apply *a, int32_t w)
{
    unsigned i;

    for (i = 0; i < a->ntouched; i++)
        if (a->touched[i] == w)
            return;
    if (a->ntouched < LV_TOUCH_MAX)
        a->touched[a->ntouched++] = w;
    else
        a->touched_all = true;
}

static struct lv_visit *
V(struct apply *a, int32_t vi)
{
    return &a->l->visits[vi];
}

static bool
is_boarder(const struct cb_live *l, const struct lv_visit *v)
{
    return v->state == LV_INPATIENT
           && (v->bed < 0 || l->wards[l->beds[v->bed].ward].is_ed);
}

/* Adds (sign 1) or removes (-1) a visit's share of the figures. */
static void
account(struct apply *a, int32_t vi, int sign)
{
    struct cb_live *l = a->l;
    struct lv_visit *v = V(a, vi);
    struct lv_hosp *h = &l->hosps[v->hosp];

    switch ((enum lv_state)v->state) {
    case LV_PREADMIT:
        h->preadmits += sign;
        break;
    case LV_ED:
        h->ed_waiting += sign;
        break;
    case LV_INPATIENT:
        h->census += sign;
        if (is_boarder(l, v))
            h->boarders += sign;
        break;
    case LV_FREE:
    case LV_DISCHARGED:
        return;
    }
    if (v->bed >= 0) {
        l->wards[l->beds[v->bed].ward].census += sign;
        touch(a, l->beds[v->bed].ward);
    }
}

static void
detach(struct apply *a, int32_t vi)
{
    account(a, vi, -1);
}

static void
attach(struct apply *a, int32_t vi)
{
    struct lv_visit *v = V(a, vi);

    account(a, vi, 1);
    if (is_boarder(a->l, v)) {
        if (v->boarding_since_ms == 0)
            v->boarding_since_ms = a->t;
    } else {
        v->boarding_since_ms = 0;
    }
}

/* Sets a bed's occupant and status, keeping the ward's counts. */
static void
bed_set(struct apply *a, int32_t bi, int32_t occupant, char status)
{
    struct lv_bed *b = &a->l->beds[bi];
    struct lv_ward *w = &a->l->wards[b->ward];

    w->occupied -= lv_bed_occupied(b);
    w->blocked -= lv_bed_blocked(b);
    b->occupant = occupant;
    b->status = status;
    b->since_ms = a->t;
    w->occupied += lv_bed_occupied(b);
    w->blocked += lv_bed_blocked(b);
    touch(a, b->ward);
}

/* Takes a (detached) visit out of its bed; it keeps its ward. */
static void
vacate(struct apply *a, int32_t vi)
{
    struct lv_visit *v = V(a, vi);
    struct lv_bed *b;

    if (v->bed < 0)
        return;
    b = &a->l->beds[v->bed];
    if (b->occupant == vi)   /* leaving clears the bed system's O marker */
        bed_set(a, v->bed, -1, b->status == 'O' ? 0 : b->status);
    v->bed = -1;
}

/* Puts a (detached) visit in a bed, displacing another occupant. */
static void
occupy(struct apply *a, int32_t vi, int32_t bi)
{
    int32_t other = a->l->beds[bi].occupant;

    if (other >= 0 && other != vi) {
        detach(a, other);
        V(a, other)->bed = -1;
        attach(a, other);
        anomaly(a, CB_LIVE_ANOM_BED_CONFLICT);
    }
    bed_set(a, bi, vi, a->l->beds[bi].status);
    V(a, vi)->bed = bi;
    V(a, vi)->ward = a->l->beds[bi].ward;
}

/* Moves a (detached) visit to ward w, bed b (-1: no bed). */
static void
move_to(struct apply *a, int32_t vi, int32_t w, int32_t b)
{
    if (V(a, vi)->bed == b && b >= 0)
        return;
    vacate(a, vi);
    V(a, vi)->ward = w;
    if (b >= 0)
        occupy(a, vi, b);
}

/* Ward and bed of a location; false when it names no ward (or on OOM). */
static bool
resolve(struct apply *a, const struct cb_adt_loc *loc, int32_t *w,
        int32_t *b)
{
    enum cb_err rc;

    *w = *b = -1;
    if (loc->ward.len == 0)
        return false;
    if ((rc = lv_ward_get(a->l, a->h, loc->ward, w)) != CB_OK) {
        fail(a, rc);
        return false;
    }
    if (loc->bed.len
        && (rc = lv_bed_get(a->l, *w, loc->room, loc->bed, b)) != CB_OK) {
        fail(a, rc);
        *b = -1;
    }
    return true;
}

/* Moves a detached visit to the event's PV1-3 when it names a ward. */
static void
relocate(struct apply *a, int32_t vi, const struct cb_adt_loc *loc)
{
    int32_t w, b;

    if (resolve(a, loc, &w, &b))
        move_to(a, vi, w, b);
}

static int32_t
find(struct apply *a, const struct cb_adt_party *p)
{
    return lv_visit_find(a->l, a->h, p->visit_id);
}

/* A new visit in no state yet (contributes nothing until given one). */
static int32_t
create(struct apply *a, const struct cb_adt_party *p)
{
    int32_t vi;
    enum cb_err rc = lv_visit_new(a->l, a->h, p->visit_id, p->patient_id,
                                  &vi);

    if (rc != CB_OK) {
        fail(a, rc);
        return -1;
    }
    V(a, vi)->state = LV_DISCHARGED;   /* no share until attached */
    V(a, vi)->prev_state = LV_DISCHARGED;
    V(a, vi)->pclass = p->pclass;
    return vi;
}

/* A discharged visit reused for a new stay (same visit number). */
static void
reset_stay(struct apply *a, int32_t vi)
{
    struct lv_visit *v = V(a, vi);

    v->counted_adm = v->counted_ed = v->counted_dis = false;
    v->xfer_ms = v->discharge_ms = v->boarding_since_ms = 0;
    v->expected_admit_ms = v->expected_discharge_ms = 0;
    v->xfer_from_ward = v->xfer_from_bed = -1;
    v->last_ward = v->last_bed = -1;
}

static void
take_times(struct apply *a, int32_t vi)
{
    const struct cb_adt_event *ev = a->ev;
    struct lv_visit *v = V(a, vi);

    if (ev->admit_ms)
        v->admit_ms = ev->admit_ms;
    if (ev->expected_discharge_ms)
        v->expected_discharge_ms = ev->expected_discharge_ms;
    if (ev->expected_admit_ms)
        v->expected_admit_ms = ev->expected_admit_ms;
}

/* ------------------------------------------------------------ events */

static void
flow(struct apply *a, enum cb_live_flow f, int64_t ms, int32_t delta)
{
    lv_flow_add(&a->l->hosps[a->h], f, ms, delta);
}

/* A01 (class E) and A04 (class E). */
static void
ed_arrival(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p);

    if (vi >= 0 && V(a, vi)->state == LV_ED) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        detach(a, vi);
        relocate(a, vi, &p->loc);
        attach(a, vi);
        return;
    }
    if (vi >= 0 && V(a, vi)->state != LV_DISCHARGED) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    if (vi < 0 && (vi = create(a, p)) < 0)
        return;
    reset_stay(a, vi);
    V(a, vi)->state = LV_ED;
    V(a, vi)->pclass = 'E';
    V(a, vi)->counted_ed = true;
    V(a, vi)->counted_ms = a->t;
    V(a, vi)->admit_ms = a->t;
    take_times(a, vi);
    relocate(a, vi, &p->loc);
    attach(a, vi);
    flow(a, CB_LIVE_FLOW_ED_ARRIVALS, a->t, 1);
}

/* A01 (inpatient classes) and A06. */
static void
admit(struct apply *a, bool readmit_discharged)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p);
    struct lv_visit *v;

    if (vi >= 0 && (V(a, vi)->state == LV_INPATIENT
                    || (V(a, vi)->state == LV_DISCHARGED
                        && !readmit_discharged))) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        if (V(a, vi)->state == LV_INPATIENT) {
            detach(a, vi);
            relocate(a, vi, &p->loc);
            take_times(a, vi);
            attach(a, vi);
        }
        return;
    }
    if (vi < 0 && (vi = create(a, p)) < 0)
        return;
    if (V(a, vi)->state == LV_DISCHARGED)
        reset_stay(a, vi);
    detach(a, vi);
    v = V(a, vi);
    v->state = LV_INPATIENT;
    v->pclass = p->pclass && p->pclass != 'E' && p->pclass != 'O'
                    ? p->pclass : 'I';
    v->counted_adm = true;
    v->counted_ms = a->t;
    v->admit_ms = a->t;
    take_times(a, vi);
    relocate(a, vi, &p->loc);
    attach(a, vi);
    flow(a, CB_LIVE_FLOW_ADMISSIONS, a->t, 1);
}

static void
ev_a01_a04(struct apply *a, bool a01)
{
    char c = a->ev->p.pclass;

    if (c == 'E')
        ed_arrival(a);
    else if (!a01 || c == 'O' || c == 'R')
        flow(a, CB_LIVE_FLOW_REGISTRATIONS, a->t, 1);
    else
        admit(a, true);
}

static void
ev_a05(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p), w, b;
    enum cb_err rc;

    if (vi >= 0 && V(a, vi)->state != LV_DISCHARGED) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    if (vi < 0 && (vi = create(a, p)) < 0)
        return;
    reset_stay(a, vi);
    V(a, vi)->state = LV_PREADMIT;
    V(a, vi)->counted_ms = a->t;
    take_times(a, vi);
    if (resolve(a, &p->loc, &w, &b))
        V(a, vi)->ward = w;   /* a pre-admission holds no bed */
    attach(a, vi);
    rc = lv_expiry_push(&a->l->preadmitted, vi, V(a, vi)->gen);
    if (rc != CB_OK)
        fail(a, rc);
}

static bool
in_house(const struct lv_visit *v)
{
    return v->state == LV_ED || v->state == LV_INPATIENT;
}

static void
ev_a02(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p), w, b;
    struct lv_visit *v;

    if (vi >= 0 && !in_house(V(a, vi))) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    if (!resolve(a, &p->loc, &w, &b)) {
        anomaly(a, vi < 0 ? CB_LIVE_ANOM_UNKNOWN_VISIT
                          : CB_LIVE_ANOM_NO_LOCATION);
        return;
    }
    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        if ((vi = create(a, p)) < 0)
            return;
        detach(a, vi);   /* no share yet: nothing to take out */
        V(a, vi)->state = p->pclass == 'E' ? LV_ED : LV_INPATIENT;
        V(a, vi)->admit_ms = a->t;
    } else {
        detach(a, vi);
    }
    v = V(a, vi);
    v->xfer_from_ward = v->ward;
    v->xfer_from_bed = v->bed;
    v->xfer_ms = a->t;
    move_to(a, vi, w, b);
    take_times(a, vi);
    attach(a, vi);
    flow(a, CB_LIVE_FLOW_TRANSFERS, a->t, 1);
}

static void
ev_a03(struct apply *a)
{
    int32_t vi = find(a, &a->ev->p);
    struct lv_visit *v;
    enum cb_err rc;

    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        return;
    }
    v = V(a, vi);
    if (v->state == LV_PREADMIT) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        detach(a, vi);
        lv_visit_free(a->l, vi);
        return;
    }
    if (v->state != LV_ED && v->state != LV_INPATIENT) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    detach(a, vi);
    v->last_ward = v->ward;
    v->last_bed = v->bed;
    vacate(a, vi);
    v = V(a, vi);
    v->prev_state = v->state;
    v->state = LV_DISCHARGED;
    v->discharge_ms = a->t;
    v->counted_dis = v->prev_state == LV_INPATIENT;
    v->boarding_since_ms = 0;
    if (v->counted_dis)
        flow(a, CB_LIVE_FLOW_DISCHARGES, a->t, 1);
    rc = lv_expiry_push(&a->l->discharged, vi, v->gen);
    if (rc != CB_OK)
        fail(a, rc);
}

static void
ev_a07(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p);

    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        return;
    }
    if (V(a, vi)->state != LV_INPATIENT) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    detach(a, vi);
    if (p->pclass == 'E') {
        V(a, vi)->state = LV_ED;
        V(a, vi)->pclass = 'E';
        relocate(a, vi, &p->loc);
        attach(a, vi);
    } else {
        vacate(a, vi);
        lv_visit_free(a->l, vi);
    }
}

static void
ev_a08(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p), w, b;
    struct lv_visit *v;

    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        return;
    }
    if (V(a, vi)->state == LV_DISCHARGED)
        return;
    detach(a, vi);
    v = V(a, vi);
    take_times(a, vi);
    if (p->pclass == 'E' && v->state == LV_INPATIENT)
        v->state = LV_ED;
    else if (p->pclass == 'I' && v->state == LV_ED)
        v->state = LV_INPATIENT;
    if (p->pclass)
        v->pclass = p->pclass;
    if (resolve(a, &p->loc, &w, &b)) {
        if (v->state == LV_PREADMIT)
            v->ward = w;
        else if (b >= 0 ? b != v->bed : w != v->ward)
            move_to(a, vi, w, b);
    }
    attach(a, vi);
}

static void
ev_a17(struct apply *a)
{
    int32_t v1 = find(a, &a->ev->p), v2 = find(a, &a->ev->p2), b1, b2, w1,
            w2;

    if (v1 < 0 || v2 < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        return;
    }
    if (v1 == v2 || !in_house(V(a, v1)) || !in_house(V(a, v2))) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    detach(a, v1);
    detach(a, v2);
    b1 = V(a, v1)->bed;
    b2 = V(a, v2)->bed;
    w1 = V(a, v1)->ward;
    w2 = V(a, v2)->ward;
    /* v1 takes b2 and v2 takes b1; a missing bed passes as none */
    if (b1 >= 0)
        bed_set(a, b1, v2, a->l->beds[b1].status);
    if (b2 >= 0)
        bed_set(a, b2, v1, a->l->beds[b2].status);
    V(a, v1)->bed = b2;
    V(a, v1)->ward = w2;
    V(a, v2)->bed = b1;
    V(a, v2)->ward = w1;
    attach(a, v1);
    attach(a, v2);
}

static void
ev_a40(struct apply *a)
{
    struct cb_str now_pid = a->ev->p.patient_id,
                  old_pid = a->ev->prior_patient_id;
    int32_t vi;
    enum cb_err rc;

    if (cb_str_eq(now_pid, old_pid))
        return;
    if (lv_patient_head(a->l, a->h, old_pid) < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_PATIENT);
        return;
    }
    /* each pass moves the head visit to the new patient */
    while ((vi = lv_patient_head(a->l, a->h, old_pid)) >= 0) {
        bool keyed = cb_str_eq(cb_str_make(V(a, vi)->vid,
                                           V(a, vi)->vid_len), old_pid);

        if ((rc = lv_visit_set_patient(a->l, vi, now_pid)) != CB_OK) {
            fail(a, rc);
            return;
        }
        if (!keyed)
            continue;
        rc = lv_visit_rekey(a->l, vi, now_pid);
        if (rc == CB_ERR_USAGE)
            anomaly(a, CB_LIVE_ANOM_MERGE_CONFLICT);
        else if (rc != CB_OK)
            fail(a, rc);
    }
}

static void
ev_a11(struct apply *a)
{
    int32_t vi = find(a, &a->ev->p);
    struct lv_visit *v;

    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        return;
    }
    v = V(a, vi);
    if (v->state == LV_DISCHARGED) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    if (v->counted_adm)
        flow(a, CB_LIVE_FLOW_ADMISSIONS, v->counted_ms, -1);
    else if (v->counted_ed)
        flow(a, CB_LIVE_FLOW_ED_ARRIVALS, v->counted_ms, -1);
    detach(a, vi);
    vacate(a, vi);
    lv_visit_free(a->l, vi);
}

static void
ev_a12(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p), w, b;
    struct lv_visit *v;

    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        return;
    }
    v = V(a, vi);
    if (!in_house(v)) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    if (!resolve(a, &p->loc, &w, &b)) {
        w = v->xfer_ms ? v->xfer_from_ward : -1;
        b = v->xfer_ms ? v->xfer_from_bed : -1;
    }
    if (v->xfer_ms) {
        flow(a, CB_LIVE_FLOW_TRANSFERS, v->xfer_ms, -1);
        v->xfer_ms = 0;
    } else {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
    }
    if (w < 0) {
        anomaly(a, CB_LIVE_ANOM_NO_LOCATION);
        return;
    }
    detach(a, vi);
    move_to(a, vi, w, b);
    attach(a, vi);
}

static void
ev_a13(struct apply *a)
{
    const struct cb_adt_party *p = &a->ev->p;
    int32_t vi = find(a, p), w, b;
    struct lv_visit *v;

    if (vi >= 0 && V(a, vi)->state != LV_DISCHARGED) {
        anomaly(a, CB_LIVE_ANOM_STATE_MISMATCH);
        return;
    }
    if (vi < 0) {
        anomaly(a, CB_LIVE_ANOM_UNKNOWN_VISIT);
        if ((vi = create(a, p)) < 0)
            return;
        V(a, vi)->state = p->pclass == 'E' ? LV_ED : LV_INPATIENT;
        V(a, vi)->admit_ms = a->t;
        take_times(a, vi);
        relocate(a, vi, &p->loc);
        attach(a, vi);
        return;
    }
    v = V(a, vi);
    if (!resolve(a, &p->loc, &w, &b)) {
        w = v->last_ward;
        b = v->last_bed;
    }
    if (v->counted_dis)
        flow(a, CB_LIVE_FLOW_DISCHARGES, v->discharge_ms, -1);
    v->counted_dis = false;
    v->state = v->prev_state == LV_ED ? LV_ED : LV_INPATIENT;
    v->discharge_ms = 0;
    v->ward = w;
    if (b >= 0 && a->l->beds[b].occupant >= 0) {
        anomaly(a, CB_LIVE_ANOM_BED_CONFLICT);   /* taken since: no bed */
    } else if (b >= 0) {
        bed_set(a, b, vi, a->l->beds[b].status);
        v->bed = b;
    }
    attach(a, vi);
}

static void
ev_a20(struct apply *a)
{
    const struct cb_adt_loc *loc = &a->ev->bed_loc;
    int32_t w, b;
    char st = a->ev->bed_status;

    if (!resolve(a, loc, &w, &b) || b < 0) {
        if (a->rc == CB_OK)
            anomaly(a, CB_LIVE_ANOM_NO_LOCATION);
        return;
    }
    bed_set(a, b, a->l->beds[b].occupant, st == 'U' ? 0 : st);
    /* a visit in the bed stays a boarder or not: the ward did not change */
}

/* ------------------------------------------------------------ expiry */

static void
expire(struct cb_live *l)
{
    int64_t keep = (int64_t)l->cfg.discharged_keep_hours * LV_HOUR_MS;
    int64_t keep_pre = (int64_t)l->cfg.preadmit_keep_days * LV_DAY_MS;
    struct lv_expiry *e = &l->discharged;

    while (e->len) {
        int32_t vi = e->q[e->head].idx;
        struct lv_visit *v = &l->visits[vi];

        if (v->gen == e->q[e->head].gen && v->state == LV_DISCHARGED) {
            if (v->discharge_ms + keep >= l->watermark_ms)
                break;
            lv_visit_free(l, vi);
        }
        e->head = (e->head + 1) % e->cap;
        e->len--;
    }
    e = &l->preadmitted;
    while (e->len) {
        int32_t vi = e->q[e->head].idx;
        struct lv_visit *v = &l->visits[vi];

        if (v->gen == e->q[e->head].gen && v->state == LV_PREADMIT) {
            int64_t from = v->expected_admit_ms > v->counted_ms
                               ? v->expected_admit_ms : v->counted_ms;

            if (from + keep_pre >= l->watermark_ms)
                break;
            l->hosps[v->hosp].preadmits--;
            lv_visit_free(l, vi);
        }
        e->head = (e->head + 1) % e->cap;
        e->len--;
    }
}

/* ------------------------------------------------------------ apply */

static void
dispatch(struct apply *a)
{
    switch (a->ev->kind) {
    case CB_ADT_A01: ev_a01_a04(a, true); break;
    case CB_ADT_A04: ev_a01_a04(a, false); break;
    case CB_ADT_A05: ev_a05(a); break;
    case CB_ADT_A02: ev_a02(a); break;
    case CB_ADT_A03: ev_a03(a); break;
    case CB_ADT_A06: admit(a, false); break;
    case CB_ADT_A07: ev_a07(a); break;
    case CB_ADT_A08: ev_a08(a); break;
    case CB_ADT_A11: ev_a11(a); break;
    case CB_ADT_A12: ev_a12(a); break;
    case CB_ADT_A13: ev_a13(a); break;
    case CB_ADT_A17: ev_a17(a); break;
    case CB_ADT_A20: ev_a20(a); break;
    case CB_ADT_A40: ev_a40(a); break;
    case CB_ADT_KIND_COUNT: break;
    }
}

static enum cb_err
apply_locked(struct cb_live *l, const struct cb_adt_event *ev,
             int64_t received_ms)
{
    struct apply a;
    struct lv_feed *f;
    int32_t fi;
    unsigned i;
    enum cb_err rc;

    memset(&a, 0, sizeof(a));
    a.l = l;
    a.ev = ev;
    a.t = ev->event_ms;
    /* An event time is trusted only so far ahead of its receipt: a sender's
       wrong year must not expire every visit, nor take over a day's flows
       and the census clock (the rings are keyed by day and hour). */
    if (received_ms > 0 && a.t > received_ms + CB_LIVE_CLOCK_AHEAD_MS)
        a.t = received_ms + CB_LIVE_CLOCK_AHEAD_MS;
    if (ev->hospital.len == 0 || ev->hospital.len > CB_ADT_ID_MAX)
        return CB_ERR_USAGE;
    if ((rc = lv_hosp_get(l, ev->hospital, &a.h)) != CB_OK)
        return rc;
    lv_census_clock(&l->hosps[a.h], a.t);
    if (a.t > l->watermark_ms)
        l->watermark_ms = a.t;

    if ((rc = lv_feed_get(l, a.h, ev->sender, &fi)) != CB_OK)
        return rc;
    f = &l->feeds[fi];
    f->last_received_ms = received_ms;
    if (a.t > f->last_event_ms)
        f->last_event_ms = a.t;
    f->messages++;
    lv_alert_feed_heard(l, fi, received_ms);

    dispatch(&a);

    if (a.touched_all) {
        for (i = 0; i < l->hosps[a.h].nwards; i++)
            if ((rc = lv_alert_ward(l, l->hosps[a.h].wards[i], a.t)))
                fail(&a, rc);
    } else {
        for (i = 0; i < a.ntouched; i++)
            if ((rc = lv_alert_ward(l, a.touched[i], a.t)))
                fail(&a, rc);
    }
    if ((rc = lv_alert_boarders(l, a.h, a.t)))
        fail(&a, rc);
    expire(l);
    return a.rc;
}

enum cb_err
cb_live_apply(struct cb_live *l, const struct cb_adt_event *ev, int64_t seq,
              int64_t received_ms)
{
    enum cb_err rc;

    pthread_rwlock_wrlock(&l->lock);
    rc = apply_locked(l, ev, received_ms);
    l->last_seq = seq;
    l->version++;
    pthread_rwlock_unlock(&l->lock);
    return rc;
}
