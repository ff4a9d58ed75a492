/*
 * live_bench.c - cost of the live state (issue 6: src/live).
 *
 *   live_bench [N] [HOSPITALS]
 *
 * Builds in memory a stream of N ADT messages (HL7 text, default 1,000,000)
 * for HOSPITALS hospitals (default 20) of 20 wards x 40 beds: admissions,
 * transfers, discharges and updates of a steady census (about 70% of the
 * beds), in time order, two seconds apart. Then times, each over the whole
 * stream:
 *   parse   cb_hl7_parse + cb_adt_from_hl7 + cb_hl7_release (the feed's
 *           check step);
 *   apply   cb_live_apply of the pre-parsed events (the committer's step);
 *   replay  parse + apply into a fresh state (what a restart does);
 *   summary cb_live_summary_json of every hospital, and
 *   board   cb_live_wards_json of one hospital (median of 50 each).
 * Output: one JSON object, ns per message and ms per query.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carebase/adt.h"
#include "carebase/date.h"
#include "carebase/hl7.h"
#include "carebase/live.h"

static double
now_s(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static uint64_t rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

struct inhouse {
    unsigned hosp, visit, ward, bed;
};

static int
cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    unsigned nh = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 20;
    unsigned wards = 20, beds = 40, target = nh * wards * beds * 7 / 10;
    struct inhouse *in = calloc(nh * wards * beds, sizeof(*in));
    unsigned char *taken = calloc(nh * wards * beds, 1);
    char **text = calloc(n, sizeof(*text));
    struct cb_hl7_msg *msgs = calloc(n, sizeof(*msgs));
    struct cb_adt_event *evs = calloc(n, sizeof(*evs));
    struct cb_live *l, *r;
    struct cb_buf out = CB_BUF_INIT, err = CB_BUF_INIT;
    unsigned nin = 0, next_visit = 1;
    int64_t t = (cb_days_from_civil(2026, 11, 1) * 86400) * 1000;
    double t0, t_parse, t_apply, t_replay, q[50], q2[50];
    size_t i, k;

    if (!in || !taken || !text || !msgs || !evs)
        return 1;
    /* the stream */
    for (i = 0; i < n; i++) {
        char stamp[32], body[512], buf[1024];
        int64_t secs = t / 1000;
        int y, mo, d;
        unsigned op = rnd(100);

        cb_civil_from_days(secs / 86400, &y, &mo, &d);
        snprintf(stamp, sizeof(stamp), "%04d%02d%02d%02d%02d%02d", y, mo, d,
                 (int)(secs % 86400 / 3600), (int)(secs % 3600 / 60),
                 (int)(secs % 60));
        if (nin < target / 2 || (op < 40 && nin < target)) {
            struct inhouse v;
            unsigned slot;

            do {
                slot = rnd(nh * wards * beds);
            } while (taken[slot]);
            taken[slot] = 1;
            v.hosp = slot / (wards * beds);
            v.ward = slot / beds % wards;
            v.bed = slot % beds;
            v.visit = next_visit++;
            in[nin++] = v;
            snprintf(body, sizeof(body),
                     "ADT^A01^ADT_A01|M%zu|P|2.5\rEVN|A01|%s\r"
                     "PID|1||P%u^^^H%u^MR||TEST^PATIENT\r"
                     "PV1|1|I|W%02u^%u^%u^H%03u||||||||||||||||V%u\r",
                     i, stamp, v.visit, v.hosp, v.ward, v.bed / 2, v.bed % 2,
                     v.hosp, v.visit);
        } else if (op < 55) {
            struct inhouse *v = &in[rnd(nin)];
            unsigned slot;

            do {
                slot = v->hosp * wards * beds + rnd(wards * beds);
            } while (taken[slot]);
            taken[v->hosp * wards * beds + v->ward * beds + v->bed] = 0;
            taken[slot] = 1;
            v->ward = slot / beds % wards;
            v->bed = slot % beds;
            snprintf(body, sizeof(body),
                     "ADT^A02^ADT_A02|M%zu|P|2.5\rEVN|A02|%s\r"
                     "PID|1||P%u^^^H%u^MR\r"
                     "PV1|1|I|W%02u^%u^%u^H%03u||||||||||||||||V%u\r",
                     i, stamp, v->visit, v->hosp, v->ward, v->bed / 2,
                     v->bed % 2, v->hosp, v->visit);
        } else if (op < 90) {
            unsigned j = rnd(nin);
            struct inhouse v = in[j];

            in[j] = in[--nin];
            taken[v.hosp * wards * beds + v.ward * beds + v.bed] = 0;
            snprintf(body, sizeof(body),
                     "ADT^A03^ADT_A03|M%zu|P|2.5\rEVN|A03|%s\r"
                     "PID|1||P%u^^^H%u^MR\r"
                     "PV1|1|I|W%02u^%u^%u^H%03u||||||||||||||||V%u\r",
                     i, stamp, v.visit, v.hosp, v.ward, v.bed / 2, v.bed % 2,
                     v.hosp, v.visit);
        } else {
            struct inhouse *v = &in[rnd(nin)];

            snprintf(body, sizeof(body),
                     "ADT^A08^ADT_A01|M%zu|P|2.5\rEVN|A08|%s\r"
                     "PID|1||P%u^^^H%u^MR\r"
                     "PV1|1|I|W%02u^%u^%u^H%03u||||||||||||||||V%u\r"
                     "PV2|||||||||20261130\r",
                     i, stamp, v->visit, v->hosp, v->ward, v->bed / 2,
                     v->bed % 2, v->hosp, v->visit);
        }
        snprintf(buf, sizeof(buf), "MSH|^~\\&|HIS|H%03u|CB|CB|%s||%s", 0u,
                 stamp, body);
        text[i] = strdup(buf);
        t += 2000;
    }

    /* parse (each message released at once, as the feed does) */
    t0 = now_s();
    for (i = 0; i < n; i++) {
        struct cb_hl7_msg m;
        struct cb_adt_event ev;
        struct cb_adt_reject why;

        if (cb_hl7_parse(&m, cb_str_c(text[i]), &err) != CB_OK
            || cb_adt_from_hl7(&m, &ev, &why, &err) != CB_OK) {
            fprintf(stderr, "message %zu: %s\n", i, cb_buf_cstr(&err));
            return 1;
        }
        cb_hl7_release(&m);
    }
    t_parse = now_s() - t0;
    /* the events to apply, parsed beforehand (not timed) */
    for (i = 0; i < n; i++) {
        struct cb_adt_reject why;

        if (cb_hl7_parse(&msgs[i], cb_str_c(text[i]), &err) != CB_OK
            || cb_adt_from_hl7(&msgs[i], &evs[i], &why, &err) != CB_OK)
            return 1;
    }

    /* apply */
    if (cb_live_new(NULL, &l) != CB_OK)
        return 1;
    t0 = now_s();
    for (i = 0; i < n; i++)
        if (cb_live_apply(l, &evs[i], (int64_t)i + 1, evs[i].event_ms) != CB_OK)
            return 1;
    t_apply = now_s() - t0;
    for (i = 0; i < n; i++)
        cb_hl7_release(&msgs[i]);

    /* replay: parse + apply into a fresh state */
    if (cb_live_new(NULL, &r) != CB_OK)
        return 1;
    t0 = now_s();
    for (i = 0; i < n; i++) {
        struct cb_hl7_msg m;
        struct cb_adt_event ev;
        struct cb_adt_reject why;

        if (cb_hl7_parse(&m, cb_str_c(text[i]), &err) != CB_OK
            || cb_adt_from_hl7(&m, &ev, &why, &err) != CB_OK
            || cb_live_apply(r, &ev, (int64_t)i + 1, ev.event_ms) != CB_OK)
            return 1;
        cb_hl7_release(&m);
    }
    t_replay = now_s() - t0;

    for (k = 0; k < 50; k++) {
        cb_buf_reset(&out);
        t0 = now_s();
        if (cb_live_summary_json(l, NULL, NULL, t, &out) != CB_OK)
            return 1;
        q[k] = (now_s() - t0) * 1e3;
        cb_buf_reset(&out);
        t0 = now_s();
        if (cb_live_wards_json(l, cb_str_c("H000"), t, true, &out) != CB_OK)
            return 1;
        q2[k] = (now_s() - t0) * 1e3;
    }
    qsort(q, 50, sizeof(q[0]), cmp_dbl);
    qsort(q2, 50, sizeof(q2[0]), cmp_dbl);
    {
        struct cb_live_stats st;

        if (cb_live_stats(l, cb_str_c("H000"), t, &st) != CB_OK)
            return 1;
        printf("{\"messages\":%zu,\"hospitals\":%u,\"beds\":%u,"
               "\"census_h000\":%d,\"parse_ns\":%.0f,\"apply_ns\":%.0f,"
               "\"replay_ns\":%.0f,\"summary_ms\":%.2f,\"board_ms\":%.2f}\n",
               n, nh, nh * wards * beds, st.census, t_parse / n * 1e9,
               t_apply / n * 1e9, t_replay / n * 1e9, q[25], q2[25]);
    }
    for (i = 0; i < n; i++)
        free(text[i]);
    free(text);
    free(msgs);
    free(evs);
    free(in);
    free(taken);
    cb_buf_release(&out);
    cb_buf_release(&err);
    cb_live_free(l);
    cb_live_free(r);
    return 0;
}
