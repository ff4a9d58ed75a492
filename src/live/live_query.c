/*
 * live_query.c - reading the live state: figures and the JSON documents
 * whose shapes carebase/live.h describes. Readers hold the read lock.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "live_int.h"

#define LV_LOS_LIST_MAX 50

static const char *const anomaly_names[CB_LIVE_ANOM_COUNT] = {
    "unknown_visit", "state_mismatch", "bed_conflict", "no_location",
    "unknown_patient", "merge_conflict"
};

static const char *const flow_names[CB_LIVE_FLOW_COUNT] = {
    "admissions", "discharges", "transfers", "ed_arrivals", "registrations"
};

const char *
cb_live_anomaly_name(enum cb_live_anomaly a)
{
    return (unsigned)a < CB_LIVE_ANOM_COUNT ? anomaly_names[a] : "?";
}

const char *
cb_live_flow_name(enum cb_live_flow f)
{
    return (unsigned)f < CB_LIVE_FLOW_COUNT ? flow_names[f] : "?";
}

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* ------------------------------------------------------------ writer */

/* Appends until the first failure, then does nothing: check w.rc once. */
struct wr {
    struct cb_buf *b;
    enum cb_err    rc;
};

static void
w_addf(struct wr *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
w_addf(struct wr *w, const char *fmt, ...)
{
    va_list ap;

    if (w->rc)
        return;
    va_start(ap, fmt);
    w->rc = cb_buf_vaddf(w->b, fmt, ap);
    va_end(ap);
}

static void
w_str(struct wr *w, struct cb_str s)
{
    if (!w->rc)
        w->rc = cb_json_str(w->b, s);
}

static void
w_name(struct wr *w, const struct lv_name *n)
{
    w_str(w, lv_str(n));
}

enum cb_err
lv_json_time(struct cb_buf *b, int64_t ms)
{
    char t[20];

    if (ms == 0)
        return cb_buf_adds(b, "null");
    cb_format_datetime(floor_div(ms, 1000), t);
    return cb_buf_addf(b, "\"%s\"", t);
}

static void
w_time(struct wr *w, int64_t ms)
{
    if (!w->rc)
        w->rc = lv_json_time(w->b, ms);
}

static void
w_ratio(struct wr *w, int32_t num, int32_t den)
{
    if (den > 0)
        w_addf(w, "%.3f", (double)num / den);
    else
        w_addf(w, "null");
}

/* ------------------------------------------------------------ ordering */

/* Digit runs compare as numbers ("2" < "10"), the rest bytewise. */
static int
natural_cmp(struct cb_str a, struct cb_str b)
{
    size_t i = 0, j = 0;

    while (i < a.len && j < b.len) {
        unsigned char x = (unsigned char)a.ptr[i], y = (unsigned char)b.ptr[j];

        if (x >= '0' && x <= '9' && y >= '0' && y <= '9') {
            size_t i0, j0, ni, nj;

            while (i < a.len && a.ptr[i] == '0')
                i++;
            while (j < b.len && b.ptr[j] == '0')
                j++;
            i0 = i;
            j0 = j;
            while (i < a.len && a.ptr[i] >= '0' && a.ptr[i] <= '9')
                i++;
            while (j < b.len && b.ptr[j] >= '0' && b.ptr[j] <= '9')
                j++;
            ni = i - i0;
            nj = j - j0;
            if (ni != nj)
                return ni < nj ? -1 : 1;
            if (ni) {
                int c = memcmp(a.ptr + i0, b.ptr + j0, ni);

                if (c)
                    return c;
            }
            continue;
        }
        if (x != y)
            return x < y ? -1 : 1;
        i++;
        j++;
    }
    if (a.len - i != b.len - j)
        return a.len - i < b.len - j ? -1 : 1;
    return 0;
}

/* qsort has no context argument: sort (key, index) pairs instead. */
struct keyed {
    struct cb_str key;
    int32_t       idx;
};

static int
keyed_cmp(const void *x, const void *y)
{
    const struct keyed *a = x, *b = y;
    int c = natural_cmp(a->key, b->key);

    return c ? c : (a->idx > b->idx) - (a->idx < b->idx);
}

static struct keyed *
sorted_hosps(const struct cb_live *l)
{
    struct keyed *k = cb_calloc(l->nhosps ? l->nhosps : 1, sizeof(*k));
    uint32_t i;

    if (!k)
        return NULL;
    for (i = 0; i < l->nhosps; i++) {
        k[i].key = lv_str(&l->hosps[i].code);
        k[i].idx = (int32_t)i;
    }
    qsort(k, l->nhosps, sizeof(*k), keyed_cmp);
    return k;
}

/* ------------------------------------------------------------ scans */

struct los {
    int32_t visit;
    int64_t days;
};

struct scan {
    int64_t    longest_boarding_ms;
    int32_t    los_count;
    int32_t    pending;
    struct los top[LV_LOS_LIST_MAX];   /* longest first */
    int32_t    ntop;
};

/* One pass over the visits for the figures that depend on now. */
static void
scan_visits(const struct cb_live *l, int64_t now_ms, struct scan *sc)
{
    int64_t today = floor_div(now_ms, LV_DAY_MS);
    int64_t los_ms = (int64_t)l->cfg.los_outlier_days * LV_DAY_MS;
    uint32_t i;

    for (i = 0; i < l->nvisits; i++) {
        const struct lv_visit *v = &l->visits[i];
        struct scan *s = &sc[v->hosp];

        if (v->state != LV_INPATIENT)
            continue;
        if (v->boarding_since_ms && now_ms - v->boarding_since_ms
                                        > s->longest_boarding_ms)
            s->longest_boarding_ms = now_ms - v->boarding_since_ms;
        if (v->expected_discharge_ms
            && floor_div(v->expected_discharge_ms, LV_DAY_MS) <= today)
            s->pending++;
        if (now_ms - v->admit_ms > los_ms) {
            int64_t days = (now_ms - v->admit_ms) / LV_DAY_MS;
            int32_t k;

            s->los_count++;
            if (s->ntop == LV_LOS_LIST_MAX
                && days <= s->top[LV_LOS_LIST_MAX - 1].days)
                continue;
            k = s->ntop < LV_LOS_LIST_MAX ? s->ntop++ : LV_LOS_LIST_MAX - 1;
            /* insertion, longest first; ties keep visit order */
            while (k > 0 && s->top[k - 1].days < days) {
                s->top[k] = s->top[k - 1];
                k--;
            }
            s->top[k].visit = (int32_t)i;
            s->top[k].days = days;
        }
    }
}

/* ------------------------------------------------------------ figures */

static int32_t
count_active(const struct cb_live *l, int32_t h)
{
    uint32_t i;
    int32_t n = 0;

    for (i = 0; i < l->nactive; i++)
        n += l->active[i].used && l->active[i].hosp == h;
    return n;
}

static void
hosp_stats(const struct cb_live *l, int32_t hi, int64_t now_ms,
           const struct scan *s, struct cb_live_stats *st)
{
    const struct lv_hosp *h = &l->hosps[hi];
    const struct lv_day *d;
    int64_t today = floor_div(now_ms, LV_DAY_MS);
    uint32_t i;
    int f, k;

    memset(st, 0, sizeof(*st));
    st->census = h->census;
    for (i = 0; i < h->nwards; i++) {
        const struct lv_ward *w = &l->wards[h->wards[i]];

        if (w->is_ed)
            continue;
        st->capacity += lv_ward_capacity(w);
        st->occupied += w->occupied;
        st->blocked += w->blocked;
        st->free += lv_ward_free(w);
    }
    d = &h->days[((today % LV_DAYS) + LV_DAYS) % LV_DAYS];
    if (d->day == today)
        for (f = 0; f < CB_LIVE_FLOW_COUNT; f++)
            for (k = 0; k < 24; k++)
                st->today[f] += d->n[f][k];
    st->ed_waiting = h->ed_waiting;
    st->boarders = h->boarders;
    st->longest_boarding_min = s->longest_boarding_ms / 60000;
    st->los_outliers = s->los_count;
    st->pending_discharges = s->pending;
    st->preadmits = h->preadmits;
    st->active_alerts = count_active(l, hi);
    memcpy(st->anomalies, h->anomalies, sizeof(st->anomalies));
}

enum cb_err
cb_live_stats(struct cb_live *l, struct cb_str hospital, int64_t now_ms,
              struct cb_live_stats *out)
{
    struct scan *sc;
    int32_t hi;
    enum cb_err rc = CB_OK;

    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    if (hi < 0) {
        rc = CB_ERR_NOT_FOUND;
        goto out;
    }
    sc = cb_calloc(l->nhosps, sizeof(*sc));
    if (!sc) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    scan_visits(l, now_ms, sc);
    hosp_stats(l, hi, now_ms, &sc[hi], out);
    cb_free(sc);
out:
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

enum cb_err
cb_live_ward_stats(struct cb_live *l, struct cb_str hospital,
                   struct cb_str ward, struct cb_live_ward_stats *out)
{
    int32_t hi, wi;
    enum cb_err rc = CB_ERR_NOT_FOUND;

    memset(out, 0, sizeof(*out));
    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    wi = hi >= 0 ? lv_ward_find(l, hi, ward) : -1;
    if (wi >= 0) {
        const struct lv_ward *w = &l->wards[wi];

        out->capacity = lv_ward_capacity(w);
        out->occupied = w->occupied;
        out->blocked = w->blocked;
        out->free = lv_ward_free(w);
        out->census = w->census;
        out->beds_known = (int32_t)w->nbeds;
        rc = CB_OK;
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

static const char *
bed_state(const struct lv_bed *b)
{
    return lv_bed_occupied(b) ? "occupied"
           : lv_bed_blocked(b) ? "blocked" : "free";
}

enum cb_err
cb_live_bed_state(struct cb_live *l, struct cb_str hospital,
                  struct cb_str ward, struct cb_str bed_label,
                  const char **state, struct cb_str *visit)
{
    int32_t hi, wi, bi = -1;
    enum cb_err rc = CB_ERR_NOT_FOUND;

    *state = NULL;
    *visit = CB_STR_NULL;
    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    wi = hi >= 0 ? lv_ward_find(l, hi, ward) : -1;
    if (wi >= 0)
        bi = lv_bed_find(l, wi, bed_label);
    if (bi >= 0) {
        const struct lv_bed *b = &l->beds[bi];

        *state = bed_state(b);
        if (b->occupant >= 0)
            *visit = cb_str_make(l->visits[b->occupant].vid,
                                 l->visits[b->occupant].vid_len);
        rc = CB_OK;
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

/* ------------------------------------------------------------ summary */

static void
w_flows_hourly(struct wr *w, const struct lv_hosp *h, int64_t today)
{
    const struct lv_day *d = &h->days[((today % LV_DAYS) + LV_DAYS) % LV_DAYS];
    int f, k;

    w_addf(w, "\"hourly\":{");
    for (f = 0; f < CB_LIVE_FLOW_COUNT; f++) {
        w_addf(w, "%s\"%s\":[", f ? "," : "", flow_names[f]);
        for (k = 0; k < 24; k++)
            w_addf(w, "%s%d", k ? "," : "", d->day == today ? d->n[f][k] : 0);
        w_addf(w, "]");
    }
    w_addf(w, "}");
}

static void
w_flows_daily(struct wr *w, const struct lv_hosp *h, int64_t today)
{
    char from[11];
    int f, k, j;

    cb_format_date(today - 34, from);
    w_addf(w, "\"daily\":{\"from\":\"%s\"", from);
    for (f = 0; f < CB_LIVE_FLOW_COUNT; f++) {
        w_addf(w, ",\"%s\":[", flow_names[f]);
        for (j = 0; j < 35; j++) {
            int64_t day = today - 34 + j;
            const struct lv_day *d =
                &h->days[((day % LV_DAYS) + LV_DAYS) % LV_DAYS];
            int32_t n = 0;

            if (d->day == day)
                for (k = 0; k < 24; k++)
                    n += d->n[f][k];
            w_addf(w, "%s%d", j ? "," : "", n);
        }
        w_addf(w, "]");
    }
    w_addf(w, "}");
}

static void
w_levels(struct wr *w, const struct cb_live *l, const struct lv_hosp *h)
{
    uint32_t i, j;
    bool first = true;

    w_addf(w, "\"census_by_level\":{");
    /* each level once, in the order its first ward was created */
    for (i = 0; i < h->nwards; i++) {
        const struct lv_ward *wi = &l->wards[h->wards[i]];
        int32_t n = 0;
        bool seen = false;

        for (j = 0; j < i && !seen; j++)
            seen = lv_name_eq(&l->wards[h->wards[j]].level, lv_str(&wi->level));
        if (seen)
            continue;
        for (j = i; j < h->nwards; j++)
            if (lv_name_eq(&l->wards[h->wards[j]].level, lv_str(&wi->level)))
                n += l->wards[h->wards[j]].census;
        w_addf(w, "%s", first ? "" : ",");
        w_name(w, &wi->level);
        w_addf(w, ":%d", n);
        first = false;
    }
    w_addf(w, "}");
}

static void
w_hospital(struct wr *w, struct cb_live *l, int32_t hi, int64_t now_ms,
           const struct scan *s)
{
    const struct lv_hosp *h = &l->hosps[hi];
    struct cb_live_stats st;
    int64_t today = floor_div(now_ms, LV_DAY_MS);
    double fc[48];
    uint32_t i;
    int k;

    hosp_stats(l, hi, now_ms, s, &st);
    w_addf(w, "{\"hospital\":");
    w_name(w, &h->code);
    w_addf(w, ",\"census\":%d,\"capacity\":%d,\"occupied\":%d,\"occupancy\":",
           st.census, st.capacity, st.occupied);
    w_ratio(w, st.occupied, st.capacity);
    w_addf(w, ",\"free\":%d,\"blocked\":%d,\"today\":{", st.free, st.blocked);
    for (k = 0; k < CB_LIVE_FLOW_COUNT; k++)
        w_addf(w, "%s\"%s\":%d", k ? "," : "", flow_names[k], st.today[k]);
    w_addf(w, "},\"ed_waiting\":%d,\"boarders\":%d,"
              "\"longest_boarding_min\":%lld,\"los_outliers\":{\"days\":%u,"
              "\"count\":%d,\"visits\":[",
           st.ed_waiting, st.boarders, (long long)st.longest_boarding_min,
           l->cfg.los_outlier_days, st.los_outliers);
    for (k = 0; k < s->ntop; k++) {
        const struct lv_visit *v = &l->visits[s->top[k].visit];

        w_addf(w, "%s{\"visit\":", k ? "," : "");
        w_str(w, cb_str_make(v->vid, v->vid_len));
        w_addf(w, ",\"ward\":");
        if (v->ward >= 0)
            w_name(w, &l->wards[v->ward].code);
        else
            w_addf(w, "null");
        w_addf(w, ",\"bed\":");
        if (v->bed >= 0)
            w_name(w, &l->beds[v->bed].label);
        else
            w_addf(w, "null");
        w_addf(w, ",\"days\":%lld}", (long long)s->top[k].days);
    }
    w_addf(w, "]},\"pending_discharges\":%d,\"preadmits\":%d,",
           st.pending_discharges, st.preadmits);
    w_levels(w, l, h);
    w_addf(w, ",\"feeds\":[");
    for (i = 0; i < h->nfeeds; i++) {
        const struct lv_feed *f = &l->feeds[h->feeds[i]];

        w_addf(w, "%s{\"sender\":", i ? "," : "");
        w_name(w, &f->sender);
        w_addf(w, ",\"last_received\":");
        w_time(w, f->last_received_ms);
        w_addf(w, ",\"last_event\":");
        w_time(w, f->last_event_ms);
        w_addf(w, ",\"age_s\":%lld,\"messages\":%lld}",
               (long long)floor_div(now_ms - f->last_received_ms, 1000),
               (long long)f->messages);
    }
    w_addf(w, "],\"alerts_active\":%d,\"anomalies\":{", st.active_alerts);
    for (k = 0; k < CB_LIVE_ANOM_COUNT; k++)
        w_addf(w, "%s\"%s\":%lld", k ? "," : "", anomaly_names[k],
               (long long)st.anomalies[k]);
    w_addf(w, "},");
    w_flows_hourly(w, h, today);
    w_addf(w, ",");
    w_flows_daily(w, h, today);
    w_addf(w, ",\"forecast\":{\"start\":");
    w_time(w, (floor_div(now_ms, LV_HOUR_MS) + 1) * LV_HOUR_MS);
    w_addf(w, ",\"census\":[");
    lv_forecast(&l->hosps[hi], now_ms, 48, fc);
    for (k = 0; k < 48; k++)
        w_addf(w, "%s%.1f", k ? "," : "", fc[k]);
    w_addf(w, "]}}");
}

enum cb_err
cb_live_summary_json(struct cb_live *l, cb_live_filter_fn filter, void *ctx,
                     int64_t now_ms, struct cb_buf *out)
{
    struct wr w = { out, CB_OK };
    struct keyed *order = NULL;
    struct scan *sc = NULL;
    uint32_t i;
    bool first = true;

    pthread_rwlock_rdlock(&l->lock);
    order = sorted_hosps(l);
    sc = cb_calloc(l->nhosps ? l->nhosps : 1, sizeof(*sc));
    if (!order || !sc) {
        w.rc = CB_ERR_NOMEM;
        goto out;
    }
    scan_visits(l, now_ms, sc);
    w_addf(&w, "{\"version\":%llu,\"now\":", (unsigned long long)l->version);
    w_time(&w, now_ms);
    w_addf(&w, ",\"hospitals\":[");
    for (i = 0; i < l->nhosps && !w.rc; i++) {
        int32_t hi = order[i].idx;

        if (filter && !filter(ctx, lv_str(&l->hosps[hi].code)))
            continue;
        w_addf(&w, "%s", first ? "" : ",");
        first = false;
        w_hospital(&w, l, hi, now_ms, &sc[hi]);
    }
    w_addf(&w, "]}");
out:
    pthread_rwlock_unlock(&l->lock);
    cb_free(order);
    cb_free(sc);
    return w.rc;
}

/* ------------------------------------------------------------ bed board */

static void
w_bed(struct wr *w, const struct cb_live *l, const struct lv_bed *b, bool patient_ids)
{
    w_addf(w, "{\"bed\":");
    w_name(w, &b->label);
    w_addf(w, ",\"room\":");
    w_name(w, &b->room);
    w_addf(w, ",\"state\":\"%s\",\"status\":\"%s\"", bed_state(b),
           b->status == 'C' ? "C" : b->status == 'H' ? "H"
           : b->status == 'K' ? "K" : b->status == 'I' ? "I"
           : b->status == 'O' ? "O" : "");
    if (b->occupant >= 0) {
        const struct lv_visit *v = &l->visits[b->occupant];

        w_addf(w, ",\"visit\":");
        w_str(w, cb_str_make(v->vid, v->vid_len));
        if (patient_ids) {
            w_addf(w, ",\"patient\":");
            w_str(w, cb_str_make(v->pid, v->pid_len));
        }
        w_addf(w, ",\"class\":\"%c\",\"boarder\":%s",
               v->pclass > ' ' && v->pclass < 127 && v->pclass != '"'
                       && v->pclass != '\\' ? v->pclass : '?',
               v->boarding_since_ms ? "true" : "false");
    }
    w_addf(w, ",\"since\":");
    w_time(w, b->since_ms);
    w_addf(w, "}");
}

static void
w_ward(struct wr *w, const struct cb_live *l, int32_t wi, bool patient_ids)
{
    const struct lv_ward *wd = &l->wards[wi];
    struct keyed *beds;
    uint32_t i;

    w_addf(w, "{\"ward\":");
    w_name(w, &wd->code);
    w_addf(w, ",\"name\":");
    w_name(w, &wd->name);
    w_addf(w, ",\"care_level\":");
    w_name(w, &wd->level);
    w_addf(w, ",\"beds_declared\":%d,\"staffed\":%d,\"capacity\":%d,"
              "\"occupied\":%d,\"free\":%d,\"blocked\":%d,\"census\":%d,"
              "\"occupancy\":",
           wd->beds_declared, wd->staffed, lv_ward_capacity(wd),
           wd->occupied, lv_ward_free(wd), wd->blocked, wd->census);
    w_ratio(w, wd->occupied, lv_ward_capacity(wd));
    w_addf(w, ",\"beds\":[");
    beds = cb_calloc(wd->nbeds ? wd->nbeds : 1, sizeof(*beds));
    if (!beds) {
        if (!w->rc)
            w->rc = CB_ERR_NOMEM;
        return;
    }
    for (i = 0; i < wd->nbeds; i++) {
        beds[i].key = lv_str(&l->beds[wd->beds[i]].label);
        beds[i].idx = wd->beds[i];
    }
    qsort(beds, wd->nbeds, sizeof(*beds), keyed_cmp);
    for (i = 0; i < wd->nbeds; i++) {
        w_addf(w, "%s", i ? "," : "");
        w_bed(w, l, &l->beds[beds[i].idx], patient_ids);
    }
    cb_free(beds);
    w_addf(w, "]}");
}

enum cb_err
cb_live_wards_json(struct cb_live *l, struct cb_str hospital, int64_t now_ms,
                   bool patient_ids, struct cb_buf *out)
{
    struct wr w = { out, CB_OK };
    struct keyed *wards = NULL;
    const struct lv_hosp *h;
    int32_t hi;
    uint32_t i;
    bool first = true;

    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    if (hi < 0) {
        w.rc = CB_ERR_NOT_FOUND;
        goto out;
    }
    h = &l->hosps[hi];
    wards = cb_calloc(h->nwards ? h->nwards : 1, sizeof(*wards));
    if (!wards) {
        w.rc = CB_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < h->nwards; i++) {
        wards[i].key = lv_str(&l->wards[h->wards[i]].code);
        wards[i].idx = h->wards[i];
    }
    qsort(wards, h->nwards, sizeof(*wards), keyed_cmp);
    w_addf(&w, "{\"hospital\":");
    w_name(&w, &h->code);
    w_addf(&w, ",\"wards\":[");
    for (i = 0; i < h->nwards; i++) {
        w_addf(&w, "%s", i ? "," : "");
        w_ward(&w, l, wards[i].idx, patient_ids);
    }
    w_addf(&w, "],\"boarders\":[");
    for (i = 0; i < l->nvisits; i++) {
        const struct lv_visit *v = &l->visits[i];

        if (v->hosp != hi || v->state != LV_INPATIENT
            || !v->boarding_since_ms)
            continue;
        w_addf(&w, "%s{\"visit\":", first ? "" : ",");
        first = false;
        w_str(&w, cb_str_make(v->vid, v->vid_len));
        if (patient_ids) {
            w_addf(&w, ",\"patient\":");
            w_str(&w, cb_str_make(v->pid, v->pid_len));
        }
        w_addf(&w, ",\"ward\":");
        if (v->ward >= 0)
            w_name(&w, &l->wards[v->ward].code);
        else
            w_addf(&w, "null");
        w_addf(&w, ",\"since\":");
        w_time(&w, v->boarding_since_ms);
        w_addf(&w, ",\"minutes\":%lld}",
               (long long)((now_ms - v->boarding_since_ms) / 60000));
    }
    w_addf(&w, "]}");
out:
    pthread_rwlock_unlock(&l->lock);
    cb_free(wards);
    return w.rc;
}

/* ------------------------------------------------------------ alerts */

static void
w_alert(struct wr *w, const struct cb_live *l, const struct lv_alert *a)
{
    w_addf(w, "{\"id\":\"%c%u\",\"kind\":\"%s\",\"hospital\":",
           lv_alert_letter(a->kind), a->seq, lv_alert_kind_name(a->kind));
    w_name(w, &l->hosps[a->hosp].code);
    w_addf(w, ",\"ward\":");
    if (a->ward >= 0)
        w_name(w, &l->wards[a->ward].code);
    else
        w_addf(w, "null");
    w_addf(w, ",\"sender\":");
    if (a->feed >= 0)
        w_name(w, &l->feeds[a->feed].sender);
    else
        w_addf(w, "null");
    w_addf(w, ",\"start\":");
    w_time(w, a->start_ms);
    w_addf(w, ",\"end\":");
    w_time(w, a->used ? 0 : a->end_ms);
    w_addf(w, ",\"active\":%s,\"value\":%.3f,\"peak\":%.3f,"
              "\"threshold\":%.3f}",
           a->used ? "true" : "false", a->value, a->peak, a->threshold);
}

static int
active_cmp(const void *x, const void *y)
{
    const struct lv_alert *a = *(const struct lv_alert *const *)x,
                          *b = *(const struct lv_alert *const *)y;

    if (a->start_ms != b->start_ms)
        return a->start_ms < b->start_ms ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    return (a->seq > b->seq) - (a->seq < b->seq);
}

enum cb_err
cb_live_alerts_json(struct cb_live *l, cb_live_filter_fn filter, void *ctx,
                    bool active_only, struct cb_buf *out)
{
    struct wr w = { out, CB_OK };
    const struct lv_alert **act = NULL;
    uint32_t i, n = 0;
    bool first = true;

    pthread_rwlock_rdlock(&l->lock);
    act = cb_calloc(l->nactive ? l->nactive : 1, sizeof(*act));
    if (!act) {
        w.rc = CB_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < l->nactive; i++)
        if (l->active[i].used)
            act[n++] = &l->active[i];
    qsort(act, n, sizeof(*act), active_cmp);
    w_addf(&w, "{\"alerts\":[");
    for (i = 0; i < n; i++) {
        if (filter && !filter(ctx, lv_str(&l->hosps[act[i]->hosp].code)))
            continue;
        w_addf(&w, "%s", first ? "" : ",");
        first = false;
        w_alert(&w, l, act[i]);
    }
    for (i = 0; !active_only && i < l->hist_len; i++) {
        /* most recently ended first: the ring's newest end */
        const struct lv_alert *a =
            &l->history[(l->hist_head + l->hist_len - 1 - i)
                        % l->cfg.alert_history];

        if (filter && !filter(ctx, lv_str(&l->hosps[a->hosp].code)))
            continue;
        w_addf(&w, "%s", first ? "" : ",");
        first = false;
        w_alert(&w, l, a);
    }
    w_addf(&w, "]}");
out:
    pthread_rwlock_unlock(&l->lock);
    cb_free(act);
    return w.rc;
}
