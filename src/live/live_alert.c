/*
 * live_alert.c - alerts: ward occupancy, ED boarders, feed silence.
 *
 * Active alerts sit in a pool of slots (entities keep their slot index);
 * an ended alert is copied into the history ring and its slot reused.
 */
#include <string.h>

#include "carebase/alloc.h"
#include "live_int.h"

static const char *const kind_names[] = {
    "ward_occupancy", "ed_boarders", "feed_silent"
};

const char *
lv_alert_kind_name(unsigned kind)
{
    return kind < 3 ? kind_names[kind] : "?";
}

char
lv_alert_letter(unsigned kind)
{
    return "OBF"[kind < 3 ? kind : 0];
}

static enum cb_err
start(struct cb_live *l, unsigned kind, int32_t h, int32_t w, int32_t f,
      int64_t ms, double value, double threshold, int32_t *slot)
{
    uint32_t i;
    struct lv_alert *a;

    for (i = 0; i < l->nactive && l->active[i].used; i++)
        ;
    if (i == l->nactive) {
        if (l->nactive == l->cactive) {
            uint32_t n = l->cactive ? l->cactive * 2 : 16;
            void *p = cb_reallocarray(l->active, n, sizeof(*l->active));

            if (!p)
                return CB_ERR_NOMEM;
            l->active = p;
            l->cactive = n;
        }
        l->nactive++;
    }
    a = &l->active[i];
    memset(a, 0, sizeof(*a));
    a->used = true;
    a->kind = (uint8_t)kind;
    a->seq = ++l->alert_seq[kind];
    a->hosp = h;
    a->ward = w;
    a->feed = f;
    a->start_ms = ms;
    a->value = a->peak = value;
    a->threshold = threshold;
    *slot = (int32_t)i;
    return CB_OK;
}

static void
end(struct cb_live *l, int32_t *slot, int64_t ms)
{
    struct lv_alert *a = &l->active[*slot];
    uint32_t cap = l->cfg.alert_history;

    /* events can arrive out of time order: an alert never ends before it
     * started */
    a->end_ms = ms > a->start_ms ? ms : a->start_ms;
    a->used = false;
    if (l->hist_len < cap) {
        l->history[(l->hist_head + l->hist_len) % cap] = *a;
        l->hist_len++;
    } else {
        l->history[l->hist_head] = *a;
        l->hist_head = (l->hist_head + 1) % cap;
    }
    *slot = -1;
    l->version++;
}

enum cb_err
lv_alert_ward(struct cb_live *l, int32_t wi, int64_t ms)
{
    struct lv_ward *w = &l->wards[wi];
    double v = w->staffed > 0 ? (double)w->occupied / w->staffed : 0;
    bool over = w->staffed > 0 && v >= l->cfg.occupancy_threshold;

    if (over && w->alert < 0)
        return start(l, LV_AL_OCCUPANCY, w->hosp, wi, -1, ms, v,
                     l->cfg.occupancy_threshold, &w->alert);
    if (over && v > l->active[w->alert].peak)
        l->active[w->alert].peak = v;
    if (!over && w->alert >= 0)
        end(l, &w->alert, ms);
    return CB_OK;
}

enum cb_err
lv_alert_boarders(struct cb_live *l, int32_t hi, int64_t ms)
{
    struct lv_hosp *h = &l->hosps[hi];
    bool over = h->boarders > (int32_t)l->cfg.boarders_threshold;

    if (over && h->boarder_alert < 0)
        return start(l, LV_AL_BOARDERS, hi, -1, -1, ms, h->boarders,
                     l->cfg.boarders_threshold, &h->boarder_alert);
    if (over && h->boarders > l->active[h->boarder_alert].peak)
        l->active[h->boarder_alert].peak = h->boarders;
    if (!over && h->boarder_alert >= 0)
        end(l, &h->boarder_alert, ms);
    return CB_OK;
}

void
lv_alert_feed_heard(struct cb_live *l, int32_t fi, int64_t ms)
{
    if (l->feeds[fi].alert >= 0)
        end(l, &l->feeds[fi].alert, ms);
}

enum cb_err
cb_live_tick(struct cb_live *l, int64_t now_ms)
{
    uint32_t i;
    enum cb_err rc = CB_OK;
    int64_t limit = (int64_t)l->cfg.feed_silence_min * 60000;

    pthread_rwlock_wrlock(&l->lock);
    for (i = 0; i < l->nfeeds && rc == CB_OK; i++) {
        struct lv_feed *f = &l->feeds[i];
        int64_t silent = now_ms - f->last_received_ms;
        double minutes = (double)(silent / 60000);

        if (silent <= limit)
            continue;
        if (f->alert < 0) {
            rc = start(l, LV_AL_FEED, f->hosp, -1, (int32_t)i, now_ms,
                       minutes, l->cfg.feed_silence_min, &f->alert);
            l->version++;
        } else if (minutes > l->active[f->alert].peak) {
            l->active[f->alert].peak = minutes;
            l->version++;
        }
    }
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

void
lv_alert_release(struct cb_live *l)
{
    cb_free(l->active);
    cb_free(l->history);
    l->active = l->history = NULL;
}
