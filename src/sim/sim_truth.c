/*
 * sim_truth.c - the ground truth of a simulated stream: the state a
 * receiver reaches by applying the well-formed messages in order, kept by
 * applying each event as it is sent. It knows nothing of the flow model
 * that produced the events, so it also checks it: a bed taken twice or an
 * event for a visit that is not in the house counts as an anomaly.
 *
 * Semantics (sim.h states the JSON): visits are keyed by visit number.
 * A04 puts a visit in the ED (class E); A05 pre-admits (class P); A01 and
 * A06 admit (class I) into PV1-3, a boarder when there is no bed or the
 * ward is the ED; A07 makes an inpatient an ED patient again; A02 moves;
 * A03 ends the visit; A11 ends it too (the admission never happened); A12
 * moves back to PV1-3; A13 brings a discharged visit back to PV1-3; A17
 * swaps two visits' beds; A40 changes no location; A20 blocks (C H K I)
 * or unblocks (U) a bed.
 */
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "sim/sim_int.h"

enum cb_err
sim__truth_init(struct sim_truth *t, const struct sim_hosp *hosp, size_t n)
{
    size_t i;
    int k, b;

    memset(t, 0, sizeof(*t));
    t->hosp = hosp;
    t->nhosp = n;
    if (!(t->h = cb_calloc(n, sizeof(*t->h))))
        return CB_ERR_NOMEM;
    for (i = 0; i < n; i++) {
        for (k = 0; k < hosp[i].nwards; k++) {
            int nb = hosp[i].ward[k].beds;

            t->h[i].bed_visit[k] = cb_calloc((size_t)nb, sizeof(int32_t));
            t->h[i].bed_blocked[k] = cb_calloc((size_t)nb, 1);
            if (!t->h[i].bed_visit[k] || !t->h[i].bed_blocked[k])
                return CB_ERR_NOMEM;   /* the caller releases */
            for (b = 0; b < nb; b++)
                t->h[i].bed_visit[k][b] = -1;
        }
    }
    return CB_OK;
}

void
sim__truth_release(struct sim_truth *t)
{
    size_t i;
    int k;

    if (!t->h)
        return;
    for (i = 0; i < t->nhosp; i++) {
        for (k = 0; k < SIM_MAX_WARDS; k++) {
            cb_free(t->h[i].bed_visit[k]);
            cb_free(t->h[i].bed_blocked[k]);
        }
        cb_free(t->h[i].visit);
        cb_free(t->h[i].days);
    }
    cb_free(t->h);
    t->h = NULL;
}

static struct sim_tvisit *
visit(struct sim_thosp *th, uint32_t v)
{
    if (v >= th->nvisit) {
        size_t n = th->nvisit ? th->nvisit : 1024, i;
        struct sim_tvisit *p;

        while (n <= v)
            n *= 2;
        if (!(p = cb_reallocarray(th->visit, n, sizeof(*p))))
            return NULL;
        for (i = th->nvisit; i < n; i++) {
            p[i].ward = p[i].bed = -1;
            p[i].pclass = 0;
            p[i].active = false;
        }
        th->visit = p;
        th->nvisit = n;
    }
    return &th->visit[v];
}

static struct sim_tday *
day(struct sim_thosp *th, int64_t d)
{
    size_t lo = 0, hi = th->ndays;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (th->days[mid].day < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < th->ndays && th->days[lo].day == d)
        return &th->days[lo];
    if (th->ndays == th->capdays) {
        size_t n = th->capdays ? th->capdays * 2 : 64;
        struct sim_tday *p = cb_reallocarray(th->days, n, sizeof(*p));

        if (!p)
            return NULL;
        th->days = p;
        th->capdays = n;
    }
    memmove(&th->days[lo + 1], &th->days[lo], (th->ndays - lo) * sizeof(*th->days));
    memset(&th->days[lo], 0, sizeof(*th->days));
    th->days[lo].day = d;
    th->ndays++;
    return &th->days[lo];
}

static bool
valid_bed(const struct sim_truth *t, uint32_t h, struct sim_loc l)
{
    return l.ward >= 0 && l.ward < t->hosp[h].nwards && l.bed >= 0 &&
           l.bed < t->hosp[h].ward[l.ward].beds;
}

static void
unbed(struct sim_truth *t, uint32_t h, struct sim_tvisit *v, uint32_t id)
{
    struct sim_loc l = { v->ward, v->bed };

    if (valid_bed(t, h, l) && t->h[h].bed_visit[l.ward][l.bed] == (int32_t)id)
        t->h[h].bed_visit[l.ward][l.bed] = -1;
}

/* Puts visit id at loc, leaving its bed (if any) first. */
static void
place(struct sim_truth *t, uint32_t h, struct sim_tvisit *v, uint32_t id,
      struct sim_loc loc)
{
    unbed(t, h, v, id);
    v->ward = loc.ward;
    v->bed = loc.bed;
    if (loc.bed < 0)
        return;
    if (!valid_bed(t, h, loc)) {
        t->anomalies++;
        v->bed = -1;
        return;
    }
    if (t->h[h].bed_visit[loc.ward][loc.bed] >= 0 &&
        t->h[h].bed_visit[loc.ward][loc.bed] != (int32_t)id)
        t->anomalies++;   /* two patients in one bed */
    t->h[h].bed_visit[loc.ward][loc.bed] = (int32_t)id;
}

enum cb_err
sim__truth_apply(struct sim_truth *t, const struct sim_ev *ev)
{
    struct sim_thosp *th;
    struct sim_tvisit *v, *v2;
    struct sim_tday *d;
    uint32_t h = ev->hosp;

    if (h >= t->nhosp) {
        t->anomalies++;
        return CB_OK;
    }
    th = &t->h[h];
    if (ev->kind == SIM_A20) {
        if (valid_bed(t, h, ev->loc))
            th->bed_blocked[ev->loc.ward][ev->loc.bed] =
                ev->bed_status == 'U' ? 0 : ev->bed_status == 'O' ?
                th->bed_blocked[ev->loc.ward][ev->loc.bed] : 1;
        else
            t->anomalies++;
        return CB_OK;
    }
    if (ev->kind == SIM_A40)
        return CB_OK;
    if (!(v = visit(th, ev->visit)))
        return CB_ERR_NOMEM;
    if (!(d = day(th, cb_day_of(ev->occurred ? ev->occurred : ev->time))))
        return CB_ERR_NOMEM;
    switch (ev->kind) {
    case SIM_A04:
    case SIM_A05:
    case SIM_A01:
    case SIM_A06:
        if (v->active && ev->kind != SIM_A01 && ev->kind != SIM_A06)
            t->anomalies++;
        v->active = true;
        v->pclass = ev->kind == SIM_A05 ? 'P' : ev->kind == SIM_A04 ?
                    ev->pclass : 'I';
        place(t, h, v, ev->visit, ev->loc);
        if (ev->kind == SIM_A04 && ev->pclass == 'E')
            d->ed_arrivals++;
        else if (ev->kind == SIM_A01 || ev->kind == SIM_A06)
            d->admissions++;
        break;
    case SIM_A07:
    case SIM_A08:
    case SIM_A02:
    case SIM_A12:
        if (!v->active)
            t->anomalies++;
        if (ev->kind == SIM_A07)
            v->pclass = 'E';
        place(t, h, v, ev->visit, ev->loc);
        if (ev->kind == SIM_A02)
            d->transfers++;
        else if (ev->kind == SIM_A12)
            d->transfers--;
        break;
    case SIM_A03:
    case SIM_A11:
        if (!v->active)
            t->anomalies++;
        unbed(t, h, v, ev->visit);
        v->active = false;
        if (ev->kind == SIM_A11)
            d->admissions--;
        else if (v->pclass == 'I')
            d->discharges++;
        else if (v->pclass == 'E')
            d->ed_departures++;
        break;
    case SIM_A13:
        if (v->active)
            t->anomalies++;
        v->active = true;
        v->pclass = 'I';
        place(t, h, v, ev->visit, ev->loc);
        d->discharges--;
        break;
    case SIM_A17:
        if (!(v2 = visit(th, ev->visit2)))
            return CB_ERR_NOMEM;
        v = &th->visit[ev->visit];   /* visit() may have moved the array */
        if (!v->active || !v2->active)
            t->anomalies++;
        unbed(t, h, v, ev->visit);
        unbed(t, h, v2, ev->visit2);
        place(t, h, v, ev->visit, ev->loc);
        place(t, h, v2, ev->visit2, ev->loc2);
        break;
    default:
        t->anomalies++;
        break;
    }
    return CB_OK;
}

/* ---------------------------------------------------------- JSON */

static enum cb_err
ward_json(const struct sim_truth *t, size_t h, int k, struct cb_buf *out,
          int *occupied, int *blocked)
{
    const struct sim_ward *w = &t->hosp[h].ward[k];
    const struct sim_thosp *th = &t->h[h];
    char room[8], bed[8];
    int b, occ = 0, blk = 0;
    bool first = true;
    enum cb_err rc;

    for (b = 0; b < w->beds; b++) {
        if (th->bed_visit[k][b] >= 0)
            occ++;
        else if (th->bed_blocked[k][b])
            blk++;
    }
    rc = cb_buf_adds(out, "{\"ward\":");
    if (!rc) rc = cb_json_strz(out, w->code);
    if (!rc) rc = cb_buf_adds(out, ",\"name\":");
    if (!rc) rc = cb_json_strz(out, w->name);
    if (!rc) rc = cb_buf_addf(out, ",\"care_level\":\"%s\",\"beds\":%d,\"staffed\":%d,"
                              "\"census\":%d,\"occupied\":%d,\"blocked\":%d,"
                              "\"occupied_beds\":[", sim__care_name(w->care),
                              w->beds, w->staffed, occ, occ, blk);
    for (b = 0; b < w->beds && !rc; b++) {
        if (th->bed_visit[k][b] < 0)
            continue;
        sim__bed_labels(w, b, room, bed);
        rc = cb_buf_addf(out, "%s\"%s-%s-%s\"", first ? "" : ",", w->code, room, bed);
        first = false;
    }
    if (!rc) rc = cb_buf_adds(out, "]}");
    *occupied += occ;
    *blocked += blk;
    return rc;
}

static enum cb_err
hosp_json(const struct sim_truth *t, size_t h, struct cb_buf *out)
{
    const struct sim_hosp *hp = &t->hosp[h];
    const struct sim_thosp *th = &t->h[h];
    int k, beds = 0, staffed = 0, occ = 0, blk = 0;
    long boarders = 0, ed = 0, pre = 0;
    size_t i;
    enum cb_err rc;

    for (i = 0; i < th->nvisit; i++) {
        const struct sim_tvisit *v = &th->visit[i];

        if (!v->active)
            continue;
        if (v->pclass == 'E')
            ed++;
        else if (v->pclass == 'P')
            pre++;
        else if (v->pclass == 'I' &&
                 (v->bed < 0 || v->ward < 0 || hp->ward[v->ward].care == SIM_CARE_ED))
            boarders++;
    }
    rc = cb_buf_adds(out, "{\"zzjgdm\":");
    if (!rc) rc = cb_json_strz(out, hp->zzjgdm);
    if (!rc) rc = cb_buf_adds(out, ",\"name\":");
    if (!rc) rc = cb_json_strz(out, hp->name);
    if (!rc) rc = cb_buf_adds(out, ",\"level\":");
    if (!rc) rc = cb_json_strz(out, hp->level_text);
    if (!rc) rc = cb_buf_adds(out, ",\"wards\":[");
    for (k = 0; k < hp->nwards && !rc; k++) {
        if (k)
            rc = cb_buf_addc(out, ',');
        if (!rc)
            rc = ward_json(t, h, k, out, &occ, &blk);
        beds += hp->ward[k].beds;
        staffed += hp->ward[k].staffed;
    }
    if (!rc) rc = cb_buf_adds(out, "],\"days\":[");
    for (i = 0; i < th->ndays && !rc; i++) {
        const struct sim_tday *d = &th->days[i];
        char date[11];

        cb_format_date(d->day, date);
        rc = cb_buf_addf(out, "%s{\"date\":\"%s\",\"admissions\":%d,\"discharges\":%d,"
                         "\"transfers\":%d,\"ed_arrivals\":%d,\"ed_departures\":%d}",
                         i ? "," : "", date, d->admissions, d->discharges,
                         d->transfers, d->ed_arrivals, d->ed_departures);
    }
    if (!rc)
        rc = cb_buf_addf(out, "],\"beds\":%d,\"staffed\":%d,\"census\":%ld,"
                         "\"occupied\":%d,\"boarders\":%ld,\"ed_waiting\":%ld,"
                         "\"preadmits\":%ld,\"blocked\":%d}",
                         beds, staffed, occ + boarders, occ, boarders, ed, pre, blk);
    return rc;
}

enum cb_err
sim__truth_json(const struct sim_truth *t, struct cb_buf *out)
{
    size_t h;
    enum cb_err rc = cb_buf_addc(out, '[');

    for (h = 0; h < t->nhosp && !rc; h++) {
        if (h)
            rc = cb_buf_addc(out, ',');
        if (!rc)
            rc = hosp_json(t, h, out);
    }
    if (!rc)
        rc = cb_buf_addc(out, ']');
    return rc;
}
