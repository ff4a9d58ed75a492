/*
 * web_live.c - the command centre's live state inside the server: created
 * from the settings (thresholds, the wards file) and given the local time
 * the feeds are in. The HL7 feed applies events to it; the routes read it
 * (web_api.c).
 */
#include <time.h>

#include "web_int.h"

int64_t
cb__web_live_now(const struct cb_web_server *s)
{
    struct timespec t;

    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000 +
           (int64_t)s->cfg.utc_offset_min * 60000;
}

enum cb_err
cb__web_live_open(struct cb_web_server *s, struct cb_buf *err)
{
    struct cb_live_config lc;
    enum cb_err rc;

    cb_live_config_default(&lc);
    lc.occupancy_threshold = (double)s->cfg.alert_occupancy_pct / 100.0;
    lc.boarders_threshold = s->cfg.alert_boarders;
    lc.feed_silence_min = s->cfg.alert_feed_silent_min;
    lc.los_outlier_days = s->cfg.los_outlier_days;
    if ((rc = cb_live_new(&lc, &s->live))) {
        cb_errf(err, "out of memory for the live state");
        return rc;
    }
    if (s->cfg.wards && (rc = cb_live_load_wards(s->live, s->cfg.wards, err)))
        return rc;
    return CB_OK;
}
