/*
 * forecast_eval.c - the error of the live state's 48-hour census forecast
 * (issue 6, section 4), measured on a simulated consortium.
 *
 * The simulator (src/sim) generates HISTORY + EVAL days of ADT messages for
 * a consortium of five hospitals (a tertiary hub, two district hospitals,
 * two community centres); every message goes through the HL7 parser and
 * cb_adt_from_hl7 into a cb_live, as the server does. At 08:00 of each
 * evaluation day (the origins), before the messages after it are applied,
 * each hospital's forecast (cb_live_forecast, 48 hours) is taken, with
 * three baselines: persistence (the census at the origin, unchanged),
 * yesterday (the census a whole number of days before each hour) and the
 * daily profile (the census at the origin plus the mean change from the
 * origin's hour to each hour over the last seven days). After the stream has
 * run past every origin + 48 h, cb_live_forecast_error compares each with
 * the census recorded at the start of each hour.
 *
 * Prints, per hospital and overall, the mean absolute error (patients) and
 * the error relative to the mean census, averaged over the origins.
 *
 *   forecast_eval [SEED] [HISTORY_DAYS] [EVAL_DAYS]   (default 7 28 10)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/adt.h"
#include "carebase/hl7.h"
#include "carebase/live.h"
#include "carebase/sim.h"

#define HOURS   48
#define MAX_ORIGINS 64
#define NHOSP   5
#define DAY_S   86400LL

/* 2026-01-05 00:00 (a Monday) as wall-clock seconds, the simulator's clock. */
#define START_S 1767571200LL

static int
fail(const char *what, const struct cb_buf *err)
{
    fprintf(stderr, "forecast_eval: %s%s%s\n", what, err && err->len ? ": " : "",
            err && err->len ? cb_buf_cstr(err) : "");
    return 1;
}

struct series {
    double model[HOURS], persist[HOURS], yesterday[HOURS], profile[HOURS];
    bool   have;
};

int
main(int argc, char **argv)
{
    static const struct cb_sim_hospital hosp[NHOSP] = {
        { "HUB000001", "平林市第一人民医院", "三级" },
        { "DIS000002", "平林市宜桥区人民医院", "二级" },
        { "DIS000003", "平林市瑞平区人民医院", "二级" },
        { "CHC000004", "宜桥区柳水街道社区卫生服务中心", "基层" },
        { "CHC000005", "宁兴县原镇卫生院", "基层" },
    };
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 10) : 7;
    int history = argc > 2 ? atoi(argv[2]) : 28, eval = argc > 3 ? atoi(argv[3]) : 10;
    struct cb_sim_opts so = { .seed = seed, .start = START_S, .malformed = 0 };
    struct cb_buf err = CB_BUF_INIT, wards = CB_BUF_INIT;
    static struct series ser[MAX_ORIGINS][NHOSP];
    int64_t origin[MAX_ORIGINS];
    struct cb_sim *sim = NULL;
    struct cb_live *live = NULL;
    int norigins = 0, next_origin = 0;
    uint64_t applied = 0, refused = 0;
    char path[] = "/tmp/cb-forecast-wards-XXXXXX";

    if (history < 14 || eval < 1 || eval + 2 > MAX_ORIGINS) {
        fprintf(stderr, "usage: forecast_eval [SEED] [HISTORY_DAYS >= 14] [EVAL_DAYS]\n");
        return 2;
    }
    for (int d = 0; d < eval; d++)
        origin[norigins++] = (START_S + (int64_t)(history + d) * DAY_S + 8 * 3600) * 1000;
    if (cb_sim_new(&sim, &so, hosp, NHOSP, &err) || cb_live_new(NULL, &live))
        return fail("cannot start", &err);
    {
        int fd = mkstemp(path);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f || cb_sim_wards_tsv(sim, &wards) || fwrite(wards.ptr, 1, wards.len, f) != wards.len)
            return fail("cannot write the wards", NULL);
        fclose(f);
        if (cb_live_load_wards(live, path, &err))
            return fail("wards", &err);
        remove(path);
    }

    int64_t end_s = START_S + (int64_t)(history + eval + 2) * DAY_S + 12 * 3600;
    for (;;) {
        struct cb_sim_msg m;
        enum cb_err rc = cb_sim_next(sim, end_s, &m, &err);
        if (rc == CB_EOF)
            break;
        if (rc)
            return fail("simulation", &err);
        /* Forecasts due before this message's time. */
        while (next_origin < norigins && m.time * 1000 > origin[next_origin]) {
            int64_t o = origin[next_origin];
            for (int h = 0; h < NHOSP; h++) {
                struct series *s = &ser[next_origin][h];
                struct cb_str code = cb_str_c(hosp[h].zzjgdm);
                int32_t c0 = 0, cy;
                struct cb_live_stats now;
                /* the census now (the hour's own record is made by its first event) */
                if (cb_live_forecast(live, code, o, HOURS, s->model) ||
                    cb_live_stats(live, code, o, &now))
                    continue;
                c0 = now.census;
                for (int i = 0; i < HOURS; i++) {
                    /* value i is the census at the start of hour h0 + i + 1
                       (cb_live_forecast_error); yesterday's is the last one
                       known a whole number of days before it */
                    int64_t h0 = o / 3600000, back = h0 + i + 1 - 24 * (i / 24 + 1);
                    s->persist[i] = c0;
                    s->yesterday[i] = cb_live_census_at(live, code, back * 3600000, &cy) ? c0 : cy;
                    /* the daily profile: c0 + the mean change from the origin's hour
                       to this hour on the 7 last days where both are known */
                    double sum = 0;
                    int nd = 0;
                    for (int d = i / 24 + 1; d <= i / 24 + 7; d++) {
                        int32_t ca, cb0;
                        if (!cb_live_census_at(live, code, (h0 + i + 1 - 24 * d) * 3600000, &ca) &&
                            !cb_live_census_at(live, code, (h0 - 24 * d) * 3600000, &cb0)) {
                            sum += ca - cb0;
                            nd++;
                        }
                    }
                    s->profile[i] = c0 + (nd ? sum / nd : 0);
                }
                s->have = true;
            }
            next_origin++;
        }
        struct cb_hl7_msg hm;
        struct cb_adt_event ev;
        struct cb_adt_reject why;
        memset(&hm, 0, sizeof hm);
        cb_buf_reset(&err);
        if (cb_hl7_parse(&hm, m.text, &err) || cb_adt_from_hl7(&hm, &ev, &why, &err)) {
            refused++;
        } else {
            if (cb_live_apply(live, &ev, (int64_t)applied + 1, m.time * 1000))
                return fail("out of memory", NULL);
            applied++;
        }
        cb_hl7_release(&hm);
    }

    printf("forecast_eval: seed %" PRIu64 ", %d days of history, %d origins (08:00 of each "
           "evaluation day), %d-hour forecasts; %" PRIu64 " messages applied, %" PRIu64
           " refused\n", seed, history, norigins, HOURS, applied, refused);
    printf("%-10s %-6s %10s %12s %12s %12s %12s %10s\n", "hospital", "level", "mean census",
           "MAE model", "MAE persist", "MAE yesterday", "MAE profile", "model %");
    double tot[4] = { 0 }, totc = 0;
    int totn = 0;
    for (int h = 0; h < NHOSP; h++) {
        double sum[4] = { 0 }, census = 0;
        int n = 0;
        for (int o = 0; o < norigins; o++) {
            struct series *s = &ser[o][h];
            double mae[4];
            unsigned k[4];
            struct cb_str code = cb_str_c(hosp[h].zzjgdm);
            if (!s->have ||
                cb_live_forecast_error(live, code, origin[o], HOURS, s->model, &mae[0], &k[0]) ||
                cb_live_forecast_error(live, code, origin[o], HOURS, s->persist, &mae[1], &k[1]) ||
                cb_live_forecast_error(live, code, origin[o], HOURS, s->yesterday, &mae[2], &k[2]) ||
                cb_live_forecast_error(live, code, origin[o], HOURS, s->profile, &mae[3], &k[3]))
                continue;
            for (int j = 0; j < 4; j++)
                sum[j] += mae[j];
            census += s->persist[0];
            n++;
        }
        if (!n)
            continue;
        printf("%-10s %-6s %10.1f %12.2f %12.2f %12.2f %12.2f %9.1f%%\n", hosp[h].zzjgdm,
               hosp[h].level, census / n, sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n,
               census > 0 ? 100.0 * sum[0] / census : 0.0);
        for (int j = 0; j < 4; j++)
            tot[j] += sum[j];
        totc += census;
        totn += n;
    }
    if (totn)
        printf("%-10s %-6s %10.1f %12.2f %12.2f %12.2f %12.2f %9.1f%%\n", "all", "", totc / totn,
               tot[0] / totn, tot[1] / totn, tot[2] / totn, tot[3] / totn, 100.0 * tot[0] / totc);
    cb_live_free(live);
    cb_sim_free(sim);
    cb_buf_release(&err);
    cb_buf_release(&wards);
    return 0;
}
