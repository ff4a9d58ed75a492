/*
 * live_flow.c - flows by hour, the census at each hour start, and the
 * census forecast built on them (model in carebase/live.h).
 */
#include <math.h>
#include <string.h>

#include "live_int.h"

static int64_t
floor_div(int64_t a, int64_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

struct lv_day *
lv_day_slot(struct lv_hosp *h, int64_t day, bool create)
{
    struct lv_day *d = &h->days[((day % LV_DAYS) + LV_DAYS) % LV_DAYS];

    if (d->day == day)
        return d;
    if (!create || d->day > day)
        return NULL;
    memset(d, 0, sizeof(*d));
    d->day = day;
    memset(d->census, 0xff, sizeof(d->census));
    return d;
}

void
lv_flow_add(struct lv_hosp *h, enum cb_live_flow f, int64_t ms,
            int32_t delta)
{
    int64_t day = floor_div(ms, LV_DAY_MS);
    struct lv_day *d = lv_day_slot(h, day, delta > 0);

    if (d)
        d->n[f][(ms - day * LV_DAY_MS) / LV_HOUR_MS] += delta;
}

static void
census_set(struct lv_hosp *h, int64_t hour, int32_t census)
{
    int64_t day = floor_div(hour, 24);
    struct lv_day *d = lv_day_slot(h, day, true);

    if (d)
        d->census[hour - day * 24] = census;
}

void
lv_census_clock(struct lv_hosp *h, int64_t event_ms)
{
    int64_t hour = floor_div(event_ms, LV_HOUR_MS), from;

    if (h->last_hour != INT64_MIN && hour <= h->last_hour)
        return;
    from = h->last_hour == INT64_MIN ? hour : h->last_hour + 1;
    if (hour - from >= (int64_t)LV_DAYS * 24)   /* only what the ring keeps */
        from = hour - (int64_t)LV_DAYS * 24 + 1;
    for (; from <= hour; from++)
        census_set(h, from, h->census);
    h->last_hour = hour;
}

/* ------------------------------------------------------------ forecast */

/* Flow f in absolute hour `hour`, when kept: true and *n set. */
static bool
flow_at(struct lv_hosp *h, enum cb_live_flow f, int64_t hour, int32_t *n)
{
    int64_t day = floor_div(hour, 24);
    struct lv_day *d = lv_day_slot(h, day, false);

    if (!d)
        return false;
    *n = d->n[f][hour - day * 24];
    return true;
}

struct model {
    double hod_adm[24];      /* mean admissions by hour of day */
    bool   hod_ok[24];
    double hazard[24];       /* discharges / census by hour of day */
};

static void
fit(struct lv_hosp *h, int64_t h0, struct model *m)
{
    double sum_adm[24] = { 0 }, sum_dis[24] = { 0 }, sum_cen[24] = { 0 };
    int ndays[24] = { 0 };
    int64_t hour;
    int k;

    memset(m, 0, sizeof(*m));
    for (hour = h0 - (int64_t)LV_DAYS * 24; hour < h0; hour++) {
        int64_t day = floor_div(hour, 24);
        struct lv_day *d = lv_day_slot(h, day, false);
        int hod = (int)(hour - day * 24);

        if (!d)
            continue;
        sum_adm[hod] += d->n[CB_LIVE_FLOW_ADMISSIONS][hod];
        ndays[hod]++;
        if (d->census[hod] >= 0) {
            sum_dis[hod] += d->n[CB_LIVE_FLOW_DISCHARGES][hod];
            sum_cen[hod] += d->census[hod];
        }
    }
    for (k = 0; k < 24; k++) {
        m->hod_ok[k] = ndays[k] > 0;
        m->hod_adm[k] = ndays[k] ? sum_adm[k] / ndays[k] : 0;
        m->hazard[k] = sum_cen[k] > 0 ? sum_dis[k] / sum_cen[k] : 0;
    }
}

/* A(h): same hour of the week over the last four weeks, else hour of day. */
static double
arrivals(struct lv_hosp *h, const struct model *m, int64_t h0, int64_t hour)
{
    double sum = 0;
    int n = 0, w;
    int32_t v;

    for (w = 1; w <= 4; w++) {
        int64_t s = hour - 168 * (int64_t)w;

        if (s < h0 && flow_at(h, CB_LIVE_FLOW_ADMISSIONS, s, &v)) {
            sum += v;
            n++;
        }
    }
    if (n >= 2)
        return sum / n;
    return m->hod_adm[hour - floor_div(hour, 24) * 24];
}

static bool census_at(struct lv_hosp *h, int64_t hour, int32_t *census);

/*
 * The daily profile for the census at the start of hour h0 + k + 1: the
 * census now plus the mean change from hour h0 to that hour of day over
 * the last seven days where both are recorded.
 */
static double
profile_at(struct lv_hosp *h, int64_t h0, unsigned k, double now)
{
    double sum = 0;
    int n = 0;

    for (int64_t d = k / 24 + 1; d <= (int64_t)(k / 24) + 7; d++) {
        int32_t to, from;

        if (census_at(h, h0 + (int64_t)k + 1 - 24 * d, &to) &&
            census_at(h, h0 - 24 * d, &from)) {
            sum += to - from;
            n++;
        }
    }
    return now + (n ? sum / n : 0);
}

void
lv_forecast(struct lv_hosp *h, int64_t now_ms, unsigned hours, double *out)
{
    struct model m;
    int64_t h0 = floor_div(now_ms, LV_HOUR_MS);
    double c = h->census;
    unsigned k;

    fit(h, h0, &m);
    for (k = 0; k < hours; k++) {
        int64_t hour = h0 + k;
        int hod = (int)(hour - floor_div(hour, 24) * 24);
        /* the current hour counts for the part of it still ahead */
        double part = k ? 1.0
                        : (double)((h0 + 1) * LV_HOUR_MS - now_ms)
                              / LV_HOUR_MS;

        c = c + part * (arrivals(h, &m, h0, hour) - c * m.hazard[hod]);
        if (c < 0)
            c = 0;
        /* the flow model and the daily profile, in equal parts */
        out[k] = 0.5 * c + 0.5 * profile_at(h, h0, k, h->census);
        if (out[k] < 0)
            out[k] = 0;
    }
}

enum cb_err
cb_live_forecast(struct cb_live *l, struct cb_str hospital, int64_t now_ms,
                 unsigned hours, double *out)
{
    int32_t hi;
    enum cb_err rc = CB_ERR_NOT_FOUND;

    if (hours == 0 || hours > CB_LIVE_FORECAST_MAX)
        return CB_ERR_USAGE;
    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    if (hi >= 0) {
        lv_forecast(&l->hosps[hi], now_ms, hours, out);
        rc = CB_OK;
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

static bool
census_at(struct lv_hosp *h, int64_t hour, int32_t *census)
{
    int64_t day = floor_div(hour, 24);
    struct lv_day *d = lv_day_slot(h, day, false);

    if (!d || d->census[hour - day * 24] < 0)
        return false;
    *census = d->census[hour - day * 24];
    return true;
}

enum cb_err
cb_live_census_at(struct cb_live *l, struct cb_str hospital, int64_t hour_ms,
                  int32_t *census)
{
    int32_t hi;
    enum cb_err rc = CB_ERR_NOT_FOUND;

    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    if (hi >= 0 && census_at(&l->hosps[hi], floor_div(hour_ms, LV_HOUR_MS),
                             census))
        rc = CB_OK;
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

enum cb_err
cb_live_forecast_error(struct cb_live *l, struct cb_str hospital,
                       int64_t origin_ms, unsigned hours,
                       const double *forecast, double *mae, unsigned *n)
{
    int32_t hi, c;
    int64_t h0 = floor_div(origin_ms, LV_HOUR_MS);
    double sum = 0;
    unsigned k;

    *mae = 0;
    *n = 0;
    if (hours > CB_LIVE_FORECAST_MAX)
        return CB_ERR_USAGE;
    pthread_rwlock_rdlock(&l->lock);
    hi = lv_hosp_find(l, hospital);
    for (k = 0; hi >= 0 && k < hours; k++)
        if (census_at(&l->hosps[hi], h0 + k + 1, &c)) {
            sum += fabs(forecast[k] - c);
            (*n)++;
        }
    pthread_rwlock_unlock(&l->lock);
    if (*n == 0)
        return CB_ERR_NOT_FOUND;
    *mae = sum / *n;
    return CB_OK;
}
