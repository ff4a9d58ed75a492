/*
 * sim_flow.c - the patient-flow model: a discrete-event simulation over
 * simulated wall-clock time. Pending actions sit in a binary heap ordered
 * by (time, sequence); each action changes the hospital (visits, beds,
 * queues of boarders) and emits the ADT events a HIS would send for it.
 *
 * Rates come from sim_org.c (each ward admits about occ * staffed / mean
 * stay a day). ED arrivals follow an hour-of-day and weekday profile;
 * electives are planned each midnight for two days later (A05 on a working
 * day before, A01 on the morning); direct admissions come in clinic
 * hours. Admitted ED patients board in the ED until a bed of their target
 * ward is free (after 6 h any general ward will do), beds go through
 * housekeeping after a discharge, and the mistakes of a busy ward clerk
 * are cancelled minutes later on the same day.
 */
#include <math.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "sim/sim_int.h"

#define HOUR   3600
#define DAY    86400
#define NO_VISIT UINT32_MAX

enum act_kind {
    ACT_HOUR,         /* arrivals of the coming hour; at midnight, planning */
    ACT_WARM,         /* the A01s of the initial census (a = hospital) */
    ACT_ED_ARRIVE,
    ACT_ED_DECIDE,    /* admit (boarder) or send home */
    ACT_ED_REVERSE,   /* an admitted boarder goes home after all: A07 */
    ACT_ED_DEPART,    /* A03 of an ED visit */
    ACT_MERGE,        /* A40: temporary id into the real one */
    ACT_TO_BED,       /* A02: boarder to the reserved bed */
    ACT_PREADMIT,     /* A05 */
    ACT_ELECTIVE,     /* A01 of a pre-admitted patient */
    ACT_CANCEL_ADMIT, /* A11 after a wrong A01 */
    ACT_READMIT,      /* the right A01 after the A11 */
    ACT_STEPDOWN,     /* A02 ICU -> general ward */
    ACT_TRANSFER,     /* A02 between general wards */
    ACT_DISCHARGE,    /* A03 */
    ACT_UPDATE,       /* A08 */
    ACT_SWAP,         /* A17 */
    ACT_WRONG_A03, ACT_CANCEL_A03,
    ACT_WRONG_A02, ACT_CANCEL_A02,
    ACT_BED_H,        /* A20 H after a discharge (a = ward, b = bed) */
    ACT_BED_CLEAN,    /* A20 U: housekeeping done */
    ACT_BED_CLOSE,    /* A20 C */
    ACT_BED_OPEN      /* A20 U after a closure */
};

struct sim_action {
    int64_t  t;
    uint64_t seq;
    uint32_t visit;
    uint32_t gen;
    uint16_t hosp;
    uint8_t  kind;
    int16_t  a, b;
};

enum visit_state {
    V_PLANNED,      /* elective, A05 not sent yet */
    V_PREADMIT,
    V_ED,           /* class E in the ED */
    V_BOARD_WAIT,   /* class I in the ED, queued for a bed */
    V_BOARD_BED,    /* class I in the ED, a bed reserved */
    V_INPATIENT,
    V_GONE
};

struct sim_visit {
    uint32_t gen;
    uint32_t hosp, patient;
    bool     temp_id;
    bool     busy;        /* a mistake is being corrected */
    uint8_t  state;       /* enum visit_state */
    uint8_t  tries;
    char     adm_type;
    int16_t  ward, bed;   /* current location; bed -1: none */
    int16_t  target;      /* ward wanted */
    int16_t  wbed;        /* bed of a wrong A02, or reserved bed */
    int64_t  admit, expected, since;
};

/* ---------------------------------------------------------- profiles */

static const double ed_hour[24] = {
    2.2, 1.8, 1.5, 1.3, 1.2, 1.3, 1.8, 2.8, 4.2, 5.4, 6.0, 6.0,
    5.0, 4.6, 4.8, 4.8, 4.8, 5.0, 5.4, 5.8, 5.9, 5.2, 4.0, 3.0,
};
static const double ed_weekday[7] = { 1.12, 1.02, 1.0, 1.0, 1.02, 0.94, 0.90 };
static const double elective_hour[24] = {
    0, 0, 0, 0, 0, 0, 0, 0, 3.0, 3.5, 2.5, 1.5, 0, 0.5, 1.5, 1.5, 0.5, 0,
    0, 0, 0, 0, 0, 0,
};
static const double elective_weekday[7] = { 1.25, 1.25, 1.2, 1.2, 1.1, 0.5, 0.5 };
static const double direct_hour[24] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0.5, 0.5, 1, 1, 1, 0.5,
    0, 0, 0, 0, 0, 0,
};
static const double direct_weekday[7] = { 1.15, 1.15, 1.15, 1.15, 1.15, 0.6, 0.65 };
static const double discharge_hour[24] = {
    0, 0, 0, 0, 0, 0, 0, 0.1, 0.4, 1.0, 2.4, 3.0, 1.8, 0.8, 0.9, 0.8, 0.6,
    0.4, 0.2, 0.1, 0.1, 0, 0, 0,
};

static double
sum24(const double *w)
{
    double s = 0;
    int i;

    for (i = 0; i < 24; i++)
        s += w[i];
    return s;
}

/* Monday 0 .. Sunday 6 (1970-01-01 was a Thursday). */
static int
weekday(int64_t t)
{
    int64_t d = cb_day_of(t);
    int w = (int)((d + 3) % 7);

    return w < 0 ? w + 7 : w;
}

static int
hour_of(int64_t t)
{
    return (int)((t - cb_day_of(t) * DAY) / HOUR);
}

/* ---------------------------------------------------------- heap */

static bool
before(const struct sim_action *a, const struct sim_action *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static enum cb_err
push(struct sim_flow *f, int64_t t, enum act_kind kind, uint32_t hosp,
     uint32_t visit, int a, int b)
{
    struct sim_action *h;
    size_t i;

    if (f->nheap == f->capheap) {
        size_t n = f->capheap ? f->capheap * 2 : 4096;

        if (!(h = cb_reallocarray(f->heap, n, sizeof(*h))))
            return CB_ERR_NOMEM;
        f->heap = h;
        f->capheap = n;
    }
    h = f->heap;
    i = f->nheap++;
    h[i].t = t < f->now ? f->now : t;
    h[i].seq = f->seq++;
    h[i].kind = (uint8_t)kind;
    h[i].hosp = (uint16_t)hosp;
    h[i].visit = visit;
    h[i].gen = visit != NO_VISIT ? f->visit[visit].gen : 0;
    h[i].a = (int16_t)a;
    h[i].b = (int16_t)b;
    while (i > 0 && before(&h[i], &h[(i - 1) / 2])) {
        struct sim_action x = h[i];
        h[i] = h[(i - 1) / 2];
        h[(i - 1) / 2] = x;
        i = (i - 1) / 2;
    }
    return CB_OK;
}

static struct sim_action
pop(struct sim_flow *f)
{
    struct sim_action *h = f->heap, top = h[0];
    size_t i = 0, n = --f->nheap;

    h[0] = h[n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        struct sim_action x;

        if (l < n && before(&h[l], &h[m]))
            m = l;
        if (r < n && before(&h[r], &h[m]))
            m = r;
        if (m == i)
            break;
        x = h[i];
        h[i] = h[m];
        h[m] = x;
        i = m;
    }
    return top;
}

/* ---------------------------------------------------------- visits, beds */

static int32_t
new_visit(struct sim_flow *f, uint32_t hosp)
{
    struct sim_visit *v;

    if (f->nvisit == f->capvisit) {
        size_t n = f->capvisit ? f->capvisit * 2 : 4096;

        if (!(v = cb_reallocarray(f->visit, n, sizeof(*v))))
            return -1;
        f->visit = v;
        f->capvisit = n;
    }
    v = &f->visit[f->nvisit];
    memset(v, 0, sizeof(*v));
    v->hosp = hosp;
    v->patient = f->hosp[hosp].next_patient++;
    v->ward = v->bed = v->target = v->wbed = -1;
    return (int32_t)f->nvisit++;
}

static struct sim_ward *
ward(struct sim_flow *f, uint32_t h, int w)
{
    return &f->hosp[h].ward[w];
}

/* A free staffed bed of ward w, from a random place on; -1 if none. */
static int
free_bed(struct sim_flow *f, uint32_t h, int w)
{
    struct sim_ward *wd = ward(f, h, w);
    int i, start;

    if (wd->staffed <= 0)
        return -1;
    start = (int)cb_rng_below(&f->rng, (uint32_t)wd->staffed);
    for (i = 0; i < wd->staffed; i++) {
        int b = (start + i) % wd->staffed;
        if (wd->bed[b].state == SIM_BED_FREE)
            return b;
    }
    return -1;
}

static int
nfree(struct sim_flow *f, uint32_t h, int w)
{
    struct sim_ward *wd = ward(f, h, w);
    int i, n = 0;

    for (i = 0; i < wd->staffed; i++)
        n += wd->bed[i].state == SIM_BED_FREE;
    return n;
}

/* A general ward drawn by admission weight. */
static int
pick_general(struct sim_flow *f, uint32_t h)
{
    struct sim_hosp *hp = &f->hosp[h];
    double w[SIM_MAX_WARDS];
    int i;

    for (i = 0; i < hp->nwards; i++)
        w[i] = hp->ward[i].care == SIM_CARE_GENERAL ? hp->ward[i].weight : 0;
    return (int)cb_rng_pick(&f->rng, w, (size_t)hp->nwards);
}

/* ---------------------------------------------------------- events */

static struct sim_ev *
emit(struct sim_flow *f, enum sim_kind kind, uint32_t h, int32_t vi)
{
    struct sim_ev *ev;

    if (f->nout == f->capout) {
        size_t n = f->capout ? f->capout * 2 : 256;

        if (!(ev = cb_reallocarray(f->out, n, sizeof(*ev))))
            return NULL;
        f->out = ev;
        f->capout = n;
    }
    ev = &f->out[f->nout++];
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->hosp = h;
    ev->time = ev->occurred = f->now;
    ev->prior.ward = ev->prior.bed = ev->loc2.ward = ev->loc2.bed = -1;
    ev->loc.ward = ev->loc.bed = -1;
    if (vi >= 0) {
        const struct sim_visit *v = &f->visit[vi];

        ev->visit = (uint32_t)vi;
        ev->patient = v->patient;
        ev->temp_id = v->temp_id;
        ev->loc.ward = v->ward;
        ev->loc.bed = v->bed;
        ev->admit = v->admit;
        ev->adm_type = v->adm_type;
        ev->pclass = v->state == V_ED ? 'E' :
                     v->state == V_PLANNED || v->state == V_PREADMIT ? 'P' : 'I';
    }
    return ev;
}

static enum cb_err
bed_event(struct sim_flow *f, uint32_t h, int w, int b, char status)
{
    struct sim_ev *ev = emit(f, SIM_A20, h, -1);

    if (!ev)
        return CB_ERR_NOMEM;
    ev->loc.ward = (int16_t)w;
    ev->loc.bed = (int16_t)b;
    ev->bed_status = status;
    return CB_OK;
}

/* The bed a patient leaves goes to housekeeping: A20 H, later A20 U. */
static enum cb_err
vacate(struct sim_flow *f, uint32_t h, int w, int b)
{
    struct sim_ward *wd = ward(f, h, w);
    int64_t t = f->now + 60 + cb_rng_below(&f->rng, 240);
    enum cb_err rc;

    wd->bed[b].state = SIM_BED_CLEANING;
    wd->bed[b].visit = -1;
    if ((rc = push(f, t, ACT_BED_H, h, NO_VISIT, w, b)))
        return rc;
    return push(f, t + 1800 + cb_rng_below(&f->rng, 5400), ACT_BED_CLEAN, h,
                NO_VISIT, w, b);
}

/* A time on the day of t (or the next if too soon) from the discharge
 * profile; a third of Sunday discharges wait for Monday. */
static int64_t
discharge_time(struct sim_flow *f, int64_t t)
{
    int64_t day = cb_day_of(t), x;
    int hr = (int)cb_rng_pick(&f->rng, discharge_hour, 24);

    if (weekday(t) == 6 && cb_rng_chance(&f->rng, 0.33))
        day++;
    x = day * DAY + hr * HOUR + cb_rng_below(&f->rng, HOUR);
    while (x < f->now + HOUR)
        x += DAY;
    return x;
}

static int64_t
expected_from(struct sim_flow *f, int64_t discharge)
{
    /* Doctors' estimates: the right day, or a day or two off. */
    int64_t d = cb_day_of(discharge) + (int)cb_rng_below(&f->rng, 4) - 1;

    return d * DAY + 10 * HOUR;
}

/* Schedules the stay of an inpatient who just got bed (w, b). */
static enum cb_err
start_stay(struct sim_flow *f, int32_t vi, double los_scale)
{
    struct sim_visit *v = &f->visit[vi];
    struct sim_ward *wd = ward(f, v->hosp, v->ward);
    uint32_t h = v->hosp;
    int64_t end, span;
    enum cb_err rc;

    if (wd->care == SIM_CARE_ICU) {
        end = f->now + (int64_t)(sim__lognormal(&f->rng, wd->los_median, wd->los_sigma) * DAY);
        return push(f, end, ACT_STEPDOWN, h, (uint32_t)vi, 0, 0);
    }
    end = discharge_time(f, f->now + (int64_t)(los_scale * DAY *
                         sim__lognormal(&f->rng, wd->los_median, wd->los_sigma)));
    v->expected = expected_from(f, end);
    if ((rc = push(f, end, ACT_DISCHARGE, h, (uint32_t)vi, 0, 0)))
        return rc;
    span = end - f->now;
#define MAYBE(p, kind) \
    if (!rc && cb_rng_chance(&f->rng, (p))) \
        rc = push(f, f->now + (int64_t)(cb_rng_unif(&f->rng) * (double)span), \
                  (kind), h, (uint32_t)vi, 0, 0)
    MAYBE(0.35, ACT_UPDATE);
    MAYBE(0.05, ACT_TRANSFER);
    MAYBE(0.03, ACT_SWAP);
    MAYBE(0.012, ACT_WRONG_A03);
    MAYBE(0.012, ACT_WRONG_A02);
#undef MAYBE
    return rc;
}

/* Gives free beds of ward w to its boarders, first come first served. */
static enum cb_err
place_boarders(struct sim_flow *f, uint32_t h, int w)
{
    struct sim_ward *wd = ward(f, h, w);
    enum cb_err rc = CB_OK;

    while (wd->nqueue > 0 && !rc) {
        int32_t vi = wd->queue[0];
        struct sim_visit *v = &f->visit[vi];
        int b;

        if (v->state != V_BOARD_WAIT || v->target != w) {   /* stale */
            memmove(wd->queue, wd->queue + 1, --wd->nqueue * sizeof(*wd->queue));
            continue;
        }
        if ((b = free_bed(f, h, w)) < 0)
            break;
        memmove(wd->queue, wd->queue + 1, --wd->nqueue * sizeof(*wd->queue));
        wd->bed[b].state = SIM_BED_RESERVED;
        wd->bed[b].visit = vi;
        v->state = V_BOARD_BED;
        v->target = (int16_t)w;
        v->wbed = (int16_t)b;
        rc = push(f, f->now + 900 + cb_rng_below(&f->rng, 1800), ACT_TO_BED, h,
                  (uint32_t)vi, 0, 0);
    }
    return rc;
}

static enum cb_err
enqueue(struct sim_flow *f, uint32_t h, int w, int32_t vi)
{
    struct sim_ward *wd = ward(f, h, w);

    if (wd->nqueue == wd->capqueue) {
        size_t n = wd->capqueue ? wd->capqueue * 2 : 16;
        int32_t *q = cb_reallocarray(wd->queue, n, sizeof(*q));

        if (!q)
            return CB_ERR_NOMEM;
        wd->queue = q;
        wd->capqueue = n;
    }
    wd->queue[wd->nqueue++] = vi;
    return place_boarders(f, h, w);
}

/* Boarders who waited more than 6 h take a free bed of any general ward. */
static enum cb_err
place_outliers(struct sim_flow *f, uint32_t h)
{
    struct sim_hosp *hp = &f->hosp[h];
    enum cb_err rc = CB_OK;
    int w, k;
    size_t i;

    for (w = 0; w < hp->nwards && !rc; w++) {
        struct sim_ward *wd = &hp->ward[w];

        if (wd->care != SIM_CARE_GENERAL)
            continue;
        for (i = 0; i < wd->nqueue && !rc; i++) {
            struct sim_visit *v = &f->visit[wd->queue[i]];

            if (v->state != V_BOARD_WAIT || f->now - v->since < 6 * HOUR)
                continue;
            for (k = 0; k < hp->nwards; k++) {
                int b;

                if (hp->ward[k].care != SIM_CARE_GENERAL || k == w ||
                    (b = free_bed(f, h, k)) < 0)
                    continue;
                hp->ward[k].bed[b].state = SIM_BED_RESERVED;
                hp->ward[k].bed[b].visit = wd->queue[i];
                v->state = V_BOARD_BED;
                v->target = (int16_t)k;
                v->wbed = (int16_t)b;
                rc = push(f, f->now + 900 + cb_rng_below(&f->rng, 1800), ACT_TO_BED,
                          h, (uint32_t)wd->queue[i], 0, 0);
                break;
            }
        }
    }
    return rc;
}

/* ---------------------------------------------------------- planning */

/* Electives admitted on day `day`: their A05 comes first. */
static enum cb_err
plan_electives(struct sim_flow *f, uint32_t h, int64_t day)
{
    struct sim_hosp *hp = &f->hosp[h];
    unsigned n = cb_rng_poisson(&f->rng, hp->elective_per_day *
                              elective_weekday[weekday(day * DAY)]);
    enum cb_err rc = CB_OK;

    while (n-- > 0 && !rc) {
        int64_t at = day * DAY + (int64_t)cb_rng_pick(&f->rng, elective_hour, 24) * HOUR +
                     cb_rng_below(&f->rng, HOUR);
        int64_t pre;
        int32_t vi;

        if (at <= f->now + HOUR)
            continue;
        if ((vi = new_visit(f, h)) < 0)
            return CB_ERR_NOMEM;
        f->visit[vi].state = V_PLANNED;
        f->visit[vi].target = (int16_t)pick_general(f, h);
        f->visit[vi].ward = f->visit[vi].target;
        f->visit[vi].adm_type = 'R';
        f->visit[vi].expected = at;
        /* A05: a working hour one or two days before, or soon if late. */
        pre = (day - 1 - (int)cb_rng_below(&f->rng, 2)) * DAY + 8 * HOUR +
              cb_rng_below(&f->rng, 9 * HOUR);
        if (pre <= f->now || pre >= at)
            pre = f->now + (int64_t)(cb_rng_unif(&f->rng) * (double)(at - f->now) / 2);
        rc = push(f, pre, ACT_PREADMIT, h, (uint32_t)vi, 0, 0);
        if (!rc)
            rc = push(f, at, ACT_ELECTIVE, h, (uint32_t)vi, 0, 0);
    }
    return rc;
}

static enum cb_err
close_beds(struct sim_flow *f, uint32_t h)
{
    struct sim_hosp *hp = &f->hosp[h];
    enum cb_err rc = CB_OK;
    int w;

    for (w = 0; w < hp->nwards && !rc; w++)
        if (hp->ward[w].care == SIM_CARE_GENERAL && cb_rng_chance(&f->rng, 0.03))
            rc = push(f, f->now + 8 * HOUR + cb_rng_below(&f->rng, 4 * HOUR),
                      ACT_BED_CLOSE, h, NO_VISIT, w, 0);
    return rc;
}

/* Arrivals of [now, end of this hour); planning at midnight. */
static enum cb_err
hour_tick(struct sim_flow *f, uint32_t h)
{
    struct sim_hosp *hp = &f->hosp[h];
    int64_t hour_start = f->now - f->now % HOUR, next = hour_start + HOUR;
    double frac = (double)(next - f->now) / HOUR;
    int hr = hour_of(f->now), wd = weekday(f->now);
    unsigned n;
    enum cb_err rc = CB_OK;

    if (hr == 0 || f->now == f->start) {
        int64_t today = cb_day_of(f->now);

        if (f->now == f->start) {    /* the first days have no midnight */
            rc = plan_electives(f, h, today);
            if (!rc)
                rc = plan_electives(f, h, today + 1);
        }
        if (!rc)
            rc = plan_electives(f, h, today + 2);
        if (!rc)
            rc = close_beds(f, h);
    }
    n = cb_rng_poisson(&f->rng, frac * hp->ed_per_day * ed_hour[hr] / sum24(ed_hour) *
                     ed_weekday[wd]);
    while (n-- > 0 && !rc)
        rc = push(f, f->now + (int64_t)(cb_rng_unif(&f->rng) * (double)(next - f->now)),
                  ACT_ED_ARRIVE, h, NO_VISIT, 0, 0);
    n = cb_rng_poisson(&f->rng, frac * hp->direct_per_day * direct_hour[hr] /
                     sum24(direct_hour) * direct_weekday[wd]);
    while (n-- > 0 && !rc)
        rc = push(f, f->now + (int64_t)(cb_rng_unif(&f->rng) * (double)(next - f->now)),
                  ACT_ELECTIVE, h, NO_VISIT, 1, 0);   /* a = 1: direct */
    if (!rc)
        rc = place_outliers(f, h);
    if (!rc)
        rc = push(f, next, ACT_HOUR, h, NO_VISIT, 0, 0);
    return rc;
}

/* ---------------------------------------------------------- warm start */

static int
cmp_admit(const void *a, const void *b, void *ctx)
{
    const struct sim_visit *v = ctx;
    int64_t x = v[*(const int32_t *)a].admit, y = v[*(const int32_t *)b].admit;

    return x < y ? -1 : x > y;
}

/* Insertion sort by admit time (a few hundred visits per hospital). */
static void
sort_by_admit(int32_t *ids, size_t n, const struct sim_visit *v)
{
    size_t i, j;

    for (i = 1; i < n; i++) {
        int32_t x = ids[i];

        for (j = i; j > 0 && cmp_admit(&ids[j - 1], &x, (void *)v) > 0; j--)
            ids[j] = ids[j - 1];
        ids[j] = x;
    }
}

static enum cb_err
warm_start(struct sim_flow *f, uint32_t h)
{
    struct sim_hosp *hp = &f->hosp[h];
    int32_t *ids = NULL;
    size_t n = 0, cap = 0, i;
    enum cb_err rc = CB_OK;
    int w, b;

    for (w = 0; w < hp->nwards && !rc; w++) {
        struct sim_ward *wd = &hp->ward[w];
        int want;

        if (wd->care == SIM_CARE_ED)
            continue;
        want = (int)(f->warm * wd->staffed + cb_rng_unif(&f->rng) * 3 - 1);
        for (b = 0; b < wd->staffed && !rc; b++) {
            struct sim_visit *v;
            double los;
            int32_t vi;

            if ((int)cb_rng_below(&f->rng, (uint32_t)(wd->staffed - b)) >= want)
                continue;      /* selection sampling: `want` beds in all */
            want--;
            if ((vi = new_visit(f, h)) < 0) {
                rc = CB_ERR_NOMEM;
                break;
            }
            if (n == cap) {
                size_t c = cap ? cap * 2 : 256;
                int32_t *p = cb_reallocarray(ids, c, sizeof(*p));

                if (!p) {
                    rc = CB_ERR_NOMEM;
                    break;
                }
                ids = p;
                cap = c;
            }
            ids[n++] = vi;
            v = &f->visit[vi];
            v->state = V_INPATIENT;
            v->ward = (int16_t)w;
            v->bed = (int16_t)b;
            v->adm_type = cb_rng_chance(&f->rng, 0.5) ? 'E' : 'R';
            wd->bed[b].state = SIM_BED_OCCUPIED;
            wd->bed[b].visit = vi;
            /* The patients in the house at a given moment are the long
             * stays more often: their stay is length-biased, log-normal
             * with the median times exp(sigma^2). */
            los = sim__lognormal(&f->rng, wd->los_median * exp(wd->los_sigma * wd->los_sigma),
                                 wd->los_sigma);
            v->admit = f->now - (int64_t)(cb_rng_unif(&f->rng) * los * DAY) - 60;
            v->admit -= v->admit % 60;
            if (wd->care == SIM_CARE_ICU) {
                rc = push(f, v->admit + (int64_t)(los * DAY) + HOUR, ACT_STEPDOWN,
                          h, (uint32_t)vi, 0, 0);
            } else {
                int64_t end = discharge_time(f, v->admit + (int64_t)(los * DAY));

                v->expected = expected_from(f, end);
                rc = push(f, end, ACT_DISCHARGE, h, (uint32_t)vi, 0, 0);
                if (!rc && cb_rng_chance(&f->rng, 0.2))
                    rc = push(f, f->now + (int64_t)(cb_rng_unif(&f->rng) * (double)(end - f->now)),
                              ACT_UPDATE, h, (uint32_t)vi, 0, 0);
            }
        }
    }
    if (!rc)
        sort_by_admit(ids, n, f->visit);
    for (i = 0; i < n && !rc; i++) {
        struct sim_visit *v = &f->visit[ids[i]];
        struct sim_ev *ev = emit(f, SIM_A01, h, ids[i]);

        if (!ev) {
            rc = CB_ERR_NOMEM;
            break;
        }
        ev->occurred = v->admit;    /* admitted in the past: EVN-6 */
        ev->expected = v->expected;
    }
    cb_free(ids);
    return rc;
}

/* ---------------------------------------------------------- actions */

static bool
sameday_room(struct sim_flow *f)
{
    /* A mistake and its cancel on the same local day. */
    return f->now - cb_day_of(f->now) * DAY < 23 * HOUR;
}

static enum cb_err
act_visit(struct sim_flow *f, const struct sim_action *a)
{
    int32_t vi = (int32_t)a->visit;
    struct sim_visit *v = &f->visit[vi];
    uint32_t h = a->hosp;
    struct sim_hosp *hp = &f->hosp[h];
    struct sim_ev *ev;
    enum cb_err rc = CB_OK;
    int w, b;

    if (a->gen != v->gen || v->state == V_GONE)
        return CB_OK;    /* the visit ended since */
    if (v->busy && a->kind != ACT_CANCEL_A03 && a->kind != ACT_CANCEL_A02 &&
        a->kind != ACT_CANCEL_ADMIT && a->kind != ACT_READMIT) {
        /* A mistake is being corrected: come back later, or skip. */
        if (a->kind == ACT_DISCHARGE || a->kind == ACT_STEPDOWN || a->kind == ACT_TO_BED)
            return push(f, f->now + 2700, (enum act_kind)a->kind, h, (uint32_t)vi, a->a, a->b);
        return CB_OK;
    }
    switch ((enum act_kind)a->kind) {
    case ACT_ED_DECIDE:
        if (v->state != V_ED)
            break;
        if (!cb_rng_chance(&f->rng, hp->p_admit)) {
            rc = push(f, f->now, ACT_ED_DEPART, h, (uint32_t)vi, 0, 0);
            break;
        }
        w = hp->icu >= 0 && cb_rng_chance(&f->rng, hp->p_icu) ? hp->icu : pick_general(f, h);
        v->state = V_BOARD_WAIT;
        v->target = (int16_t)w;
        v->since = f->now;
        v->admit = f->now;
        v->adm_type = 'E';
        if (!(ev = emit(f, cb_rng_chance(&f->rng, 0.5) ? SIM_A06 : SIM_A01, h, vi)))
            return CB_ERR_NOMEM;
        if (cb_rng_chance(&f->rng, 0.03))   /* reversed before the move */
            rc = push(f, f->now + 300 + cb_rng_below(&f->rng, 600), ACT_ED_REVERSE,
                      h, (uint32_t)vi, 0, 0);
        if (!rc)
            rc = enqueue(f, h, w, vi);
        break;
    case ACT_ED_REVERSE:
        if (v->state == V_BOARD_BED) {   /* give the reserved bed back */
            struct sim_ward *tw = ward(f, h, v->target);

            tw->bed[v->wbed].state = SIM_BED_FREE;
            tw->bed[v->wbed].visit = -1;
        } else if (v->state != V_BOARD_WAIT) {
            break;
        }
        v->state = V_ED;          /* queue entry and move go stale */
        if (!emit(f, SIM_A07, h, vi))
            return CB_ERR_NOMEM;
        rc = push(f, f->now + 1800 + cb_rng_below(&f->rng, 3600), ACT_ED_DEPART, h,
                  (uint32_t)vi, 0, 0);
        if (!rc && v->target >= 0)
            rc = place_boarders(f, h, v->target);
        break;
    case ACT_ED_DEPART:
        if (v->state != V_ED)
            break;
        if (!(ev = emit(f, SIM_A03, h, vi)))
            return CB_ERR_NOMEM;
        ev->discharge = f->now;
        v->state = V_GONE;
        v->gen++;
        break;
    case ACT_TO_BED: {
        struct sim_loc prior = { v->ward, v->bed };

        if (v->state != V_BOARD_BED)
            break;
        v->state = V_INPATIENT;
        v->ward = v->target;
        v->bed = v->wbed;
        ward(f, h, v->ward)->bed[v->bed].state = SIM_BED_OCCUPIED;
        if (!(ev = emit(f, SIM_A02, h, vi)))
            return CB_ERR_NOMEM;
        ev->prior = prior;
        rc = start_stay(f, vi, 1.0);
        ev = &f->out[f->nout - 1];
        ev->expected = v->expected;
        break;
    }
    case ACT_PREADMIT:
        if (v->state != V_PLANNED)
            break;
        v->state = V_PREADMIT;
        if (!(ev = emit(f, SIM_A05, h, vi)))
            return CB_ERR_NOMEM;
        ev->expected = v->expected;
        break;
    case ACT_ELECTIVE:
        if (v->state != V_PREADMIT && v->state != V_PLANNED)
            break;
        w = v->target;
        b = free_bed(f, h, w);
        if (b < 0 || nfree(f, h, w) <= (int)ward(f, h, w)->nqueue) {
            /* No bed to spare for an elective: try again within the day. */
            if (++v->tries < 30) {
                int64_t t = f->now + HOUR;

                if (hour_of(t) >= 17)   /* the ward takes electives by day */
                    t = (cb_day_of(t) + 1) * DAY + 8 * HOUR + cb_rng_below(&f->rng, 2 * HOUR);
                rc = push(f, t, ACT_ELECTIVE, h, (uint32_t)vi, 0, 0);
                break;
            }
            if (b < 0)
                break;   /* never came: stays a pre-admission */
        }
        if (v->state == V_PLANNED) {   /* no A05 went out: now it does */
            v->state = V_PREADMIT;
            if (!(ev = emit(f, SIM_A05, h, vi)))
                return CB_ERR_NOMEM;
            ev->expected = v->expected;
        }
        v->state = V_INPATIENT;
        v->ward = (int16_t)w;
        v->bed = (int16_t)b;
        v->admit = f->now;
        ward(f, h, w)->bed[b].state = SIM_BED_OCCUPIED;
        ward(f, h, w)->bed[b].visit = vi;
        if (cb_rng_chance(&f->rng, 0.01) && sameday_room(f)) {
            /* The wrong patient admitted: A11 in a few minutes. */
            v->busy = true;
            if (!(ev = emit(f, SIM_A01, h, vi)))
                return CB_ERR_NOMEM;
            rc = push(f, f->now + 300 + cb_rng_below(&f->rng, 900), ACT_CANCEL_ADMIT,
                      h, (uint32_t)vi, 0, 0);
            break;
        }
        if (!(ev = emit(f, SIM_A01, h, vi)))
            return CB_ERR_NOMEM;
        rc = start_stay(f, vi, 1.0);
        f->out[f->nout - 1].expected = v->expected;
        break;
    case ACT_CANCEL_ADMIT:
        if (!emit(f, SIM_A11, h, vi))
            return CB_ERR_NOMEM;
        rc = push(f, f->now + 120 + cb_rng_below(&f->rng, 480), ACT_READMIT, h,
                  (uint32_t)vi, 0, 0);
        break;
    case ACT_READMIT:
        v->busy = false;
        v->admit = f->now;
        if (!(ev = emit(f, SIM_A01, h, vi)))
            return CB_ERR_NOMEM;
        rc = start_stay(f, vi, 1.0);
        f->out[f->nout - 1].expected = v->expected;
        break;
    case ACT_STEPDOWN:
    case ACT_TRANSFER: {
        struct sim_loc prior = { v->ward, v->bed };

        if (v->state != V_INPATIENT)
            break;
        if (a->kind == ACT_TRANSFER && ward(f, h, v->ward)->care != SIM_CARE_GENERAL)
            break;
        w = pick_general(f, h);
        if (w == v->ward || (b = free_bed(f, h, w)) < 0) {
            if (a->kind == ACT_STEPDOWN)   /* ICU bed block: try later */
                rc = push(f, f->now + 2 * HOUR, ACT_STEPDOWN, h, (uint32_t)vi, 0, 0);
            break;
        }
        ward(f, h, w)->bed[b].state = SIM_BED_OCCUPIED;
        ward(f, h, w)->bed[b].visit = vi;
        v->ward = (int16_t)w;
        v->bed = (int16_t)b;
        if (!(ev = emit(f, SIM_A02, h, vi)))
            return CB_ERR_NOMEM;
        ev->prior = prior;
        rc = vacate(f, h, prior.ward, prior.bed);
        if (!rc && a->kind == ACT_STEPDOWN) {
            rc = start_stay(f, vi, 0.7);
            f->out[f->nout - 1].expected = v->expected;
        }
        break;
    }
    case ACT_DISCHARGE:
        if (v->state != V_INPATIENT)
            break;
        if (!(ev = emit(f, SIM_A03, h, vi)))
            return CB_ERR_NOMEM;
        ev->discharge = f->now;
        rc = vacate(f, h, v->ward, v->bed);
        v->state = V_GONE;
        v->gen++;
        break;
    case ACT_UPDATE:
        if (v->state != V_INPATIENT)
            break;
        if (!(ev = emit(f, SIM_A08, h, vi)))
            return CB_ERR_NOMEM;
        ev->expected = v->expected;
        break;
    case ACT_SWAP: {
        struct sim_ward *wd;
        int i, start;

        if (v->state != V_INPATIENT)
            break;
        wd = ward(f, h, v->ward);
        if (wd->care != SIM_CARE_GENERAL)
            break;
        start = (int)cb_rng_below(&f->rng, (uint32_t)wd->staffed);
        for (i = 0; i < wd->staffed; i++) {
            int o = (start + i) % wd->staffed;
            int32_t vj = wd->bed[o].visit;
            struct sim_visit *u;

            if (o == v->bed || wd->bed[o].state != SIM_BED_OCCUPIED || vj < 0)
                continue;
            u = &f->visit[vj];
            if (u->busy || u->state != V_INPATIENT)
                continue;
            if (!(ev = emit(f, SIM_A17, h, vi)))
                return CB_ERR_NOMEM;
            ev->loc.bed = (int16_t)o;               /* patient 1 moves to o */
            ev->visit2 = (uint32_t)vj;
            ev->patient2 = u->patient;
            ev->temp2 = u->temp_id;
            ev->loc2.ward = v->ward;
            ev->loc2.bed = v->bed;                  /* patient 2 to v's bed */
            wd->bed[v->bed].visit = vj;
            wd->bed[o].visit = vi;
            u->bed = v->bed;
            v->bed = (int16_t)o;
            break;
        }
        break;
    }
    case ACT_WRONG_A03:
        if (v->state != V_INPATIENT || !sameday_room(f))
            break;
        if (!(ev = emit(f, SIM_A03, h, vi)))
            return CB_ERR_NOMEM;
        ev->discharge = f->now;
        v->busy = true;
        rc = push(f, f->now + 300 + cb_rng_below(&f->rng, 1500), ACT_CANCEL_A03, h,
                  (uint32_t)vi, 0, 0);
        break;
    case ACT_CANCEL_A03:
        v->busy = false;
        if (!emit(f, SIM_A13, h, vi))
            return CB_ERR_NOMEM;
        break;
    case ACT_WRONG_A02: {
        struct sim_ward *wd;

        if (v->state != V_INPATIENT || !sameday_room(f))
            break;
        wd = ward(f, h, v->ward);
        if ((b = free_bed(f, h, v->ward)) < 0)
            break;
        wd->bed[b].state = SIM_BED_RESERVED;
        wd->bed[b].visit = vi;
        v->wbed = (int16_t)b;
        v->busy = true;
        if (!(ev = emit(f, SIM_A02, h, vi)))
            return CB_ERR_NOMEM;
        ev->prior = ev->loc;
        ev->loc.bed = (int16_t)b;
        rc = push(f, f->now + 300 + cb_rng_below(&f->rng, 900), ACT_CANCEL_A02, h,
                  (uint32_t)vi, 0, 0);
        break;
    }
    case ACT_CANCEL_A02: {
        struct sim_ward *wd = ward(f, h, v->ward);

        v->busy = false;
        if (!(ev = emit(f, SIM_A12, h, vi)))
            return CB_ERR_NOMEM;
        ev->prior.ward = v->ward;        /* the bed being cancelled */
        ev->prior.bed = v->wbed;
        wd->bed[v->wbed].state = SIM_BED_FREE;
        wd->bed[v->wbed].visit = -1;
        rc = place_boarders(f, h, v->ward);
        break;
    }
    default:
        break;
    }
    return rc;
}

static enum cb_err
act_bed(struct sim_flow *f, const struct sim_action *a)
{
    uint32_t h = a->hosp;
    struct sim_ward *wd = ward(f, h, a->a);
    int b = a->b;
    enum cb_err rc = CB_OK;

    switch ((enum act_kind)a->kind) {
    case ACT_BED_H:
        if (wd->bed[b].state == SIM_BED_CLEANING)
            rc = bed_event(f, h, a->a, b, 'H');
        break;
    case ACT_BED_CLEAN:
        if (wd->bed[b].state != SIM_BED_CLEANING)
            break;
        wd->bed[b].state = SIM_BED_FREE;
        rc = bed_event(f, h, a->a, b, 'U');
        if (!rc)
            rc = place_boarders(f, h, a->a);
        break;
    case ACT_BED_CLOSE:
        if ((b = free_bed(f, h, a->a)) < 0)
            break;
        wd->bed[b].state = SIM_BED_CLOSED;
        rc = bed_event(f, h, a->a, b, 'C');
        if (!rc)
            rc = push(f, f->now + DAY + cb_rng_below(&f->rng, 2 * DAY), ACT_BED_OPEN,
                      h, NO_VISIT, a->a, b);
        break;
    case ACT_BED_OPEN:
        if (wd->bed[b].state != SIM_BED_CLOSED)
            break;
        wd->bed[b].state = SIM_BED_FREE;
        rc = bed_event(f, h, a->a, b, 'U');
        if (!rc)
            rc = place_boarders(f, h, a->a);
        break;
    default:
        break;
    }
    return rc;
}

static enum cb_err
step(struct sim_flow *f, const struct sim_action *a)
{
    uint32_t h = a->hosp;
    int32_t vi;
    struct sim_ev *ev;
    enum cb_err rc = CB_OK;

    switch ((enum act_kind)a->kind) {
    case ACT_HOUR:
        return hour_tick(f, h);
    case ACT_WARM:
        return warm_start(f, h);
    case ACT_ED_ARRIVE:
        if ((vi = new_visit(f, h)) < 0)
            return CB_ERR_NOMEM;
        f->visit[vi].state = V_ED;
        f->visit[vi].ward = (int16_t)f->hosp[h].ed;
        f->visit[vi].adm_type = 'E';
        /* 2 %: an unidentified patient, merged once known (A40). */
        f->visit[vi].temp_id = cb_rng_chance(&f->rng, 0.02);
        if (!(ev = emit(f, SIM_A04, h, vi)))
            return CB_ERR_NOMEM;
        if (f->visit[vi].temp_id)
            rc = push(f, f->now + 1800 + cb_rng_below(&f->rng, 5400), ACT_MERGE, h,
                      (uint32_t)vi, 0, 0);
        if (!rc)
            rc = push(f, f->now + (int64_t)(sim__lognormal(&f->rng, 2.5, 0.6) * HOUR),
                      ACT_ED_DECIDE, h, (uint32_t)vi, 0, 0);
        return rc;
    case ACT_MERGE: {
        struct sim_visit *v = &f->visit[a->visit];

        /* Patient level: whatever the visit is doing now. */
        v->temp_id = false;
        if (!(ev = emit(f, SIM_A40, h, -1)))
            return CB_ERR_NOMEM;
        ev->patient = ev->patient2 = v->patient;
        ev->temp_id = false;
        ev->temp2 = true;
        ev->visit = a->visit;
        return CB_OK;
    }
    case ACT_ELECTIVE:
        if (a->visit != NO_VISIT)
            return act_visit(f, a);
        {   /* a direct admission from a clinic: a bed now, or elsewhere */
            int w = pick_general(f, h), b = free_bed(f, h, w);
            struct sim_visit *v;

            if (b < 0)
                return CB_OK;
            if ((vi = new_visit(f, h)) < 0)
                return CB_ERR_NOMEM;
            v = &f->visit[vi];
            v->state = V_INPATIENT;
            v->ward = (int16_t)w;
            v->bed = (int16_t)b;
            v->admit = f->now;
            v->adm_type = 'U';
            ward(f, h, w)->bed[b].state = SIM_BED_OCCUPIED;
            ward(f, h, w)->bed[b].visit = vi;
            if (!emit(f, SIM_A01, h, vi))
                return CB_ERR_NOMEM;
            rc = start_stay(f, vi, 1.0);
            f->out[f->nout - 1].expected = v->expected;
            return rc;
        }
    case ACT_BED_H:
    case ACT_BED_CLEAN:
    case ACT_BED_CLOSE:
    case ACT_BED_OPEN:
        return act_bed(f, a);
    default:
        return act_visit(f, a);
    }
}

/* ---------------------------------------------------------- API */

enum cb_err
sim__flow_init(struct sim_flow *f, struct sim_hosp *hosp, size_t n,
               uint64_t seed, int64_t start, double warm)
{
    enum cb_err rc = CB_OK;
    size_t i;

    memset(f, 0, sizeof(*f));
    f->hosp = hosp;
    f->nhosp = n;
    f->start = f->now = start;
    f->warm = warm;
    cb_rng_seed(&f->rng, cb_rng_mix(seed, 0xf10f));
    for (i = 0; i < n && !rc; i++) {
        rc = push(f, start, ACT_WARM, (uint32_t)i, NO_VISIT, 0, 0);
        if (!rc)
            rc = push(f, start, ACT_HOUR, (uint32_t)i, NO_VISIT, 0, 0);
    }
    return rc;
}

void
sim__flow_release(struct sim_flow *f)
{
    cb_free(f->heap);
    cb_free(f->visit);
    cb_free(f->out);
    memset(f, 0, sizeof(*f));
}

int64_t
sim__flow_next_time(const struct sim_flow *f)
{
    if (f->outpos < f->nout)
        return f->out[f->outpos].time;
    return f->nheap ? f->heap[0].t : INT64_MAX;
}

enum cb_err
sim__flow_next(struct sim_flow *f, int64_t until, const struct sim_ev **ev)
{
    enum cb_err rc;

    while (f->outpos >= f->nout) {
        struct sim_action a;

        f->nout = f->outpos = 0;
        if (!f->nheap || f->heap[0].t > until)
            return CB_EOF;
        a = pop(f);
        f->now = a.t;
        if ((rc = step(f, &a)) != CB_OK)
            return rc;
    }
    *ev = &f->out[f->outpos++];
    return CB_OK;
}
