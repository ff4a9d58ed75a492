/*
 * sim.c - the public simulator (carebase/sim.h): hospitals and wards, the
 * flow model's events written as HL7 messages, malformed copies, and the
 * ground truth kept in step with what was returned.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "sim/sim_int.h"

struct cb_sim {
    struct sim_hosp     *hosp;
    size_t               nhosp;
    struct sim_flow      flow;
    struct sim_truth     truth;
    struct sim_writer    writer;
    struct cb_rng       mal_rng;   /* malformed draws: their own stream */
    double               malformed;
    unsigned             kinds;
    uint64_t             seed;
    int64_t              start, last;
    struct cb_buf        text;
    const struct sim_ev *pending;   /* the real event after a broken copy */
    struct cb_sim_counts counts;
};

static const char *const event_names[CB_SIM_NEVENTS] = {
    "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08",
    "A11", "A12", "A13", "A17", "A20", "A40", "A99", "R01",
};

const char *
cb_sim_event_name(int i)
{
    return i >= 0 && i < CB_SIM_NEVENTS ? event_names[i] : "?";
}

int
cb_sim_event_index(const char *trigger)
{
    int i;

    for (i = 0; i < CB_SIM_NEVENTS; i++)
        if (!strcmp(event_names[i], trigger))
            return i;
    return -1;
}

static enum sim_level
parse_level(const char *z)
{
    if (!z)
        return SIM_COMMUNITY;
    if (!strncmp(z, "三级", strlen("三级")) || !strcmp(z, "tertiary"))
        return SIM_TERTIARY;
    if (!strncmp(z, "二级", strlen("二级")) || !strcmp(z, "district") ||
        !strcmp(z, "secondary"))
        return SIM_DISTRICT;
    return SIM_COMMUNITY;
}

enum cb_err
cb_sim_new(struct cb_sim **out, const struct cb_sim_opts *opts,
           const struct cb_sim_hospital *h, size_t n, struct cb_buf *err)
{
    struct cb_sim *s;
    size_t i, gb = SIZE_MAX;
    enum cb_err rc = CB_OK;

    *out = NULL;
    if (n < 1 || n > 99) {
        cb_errf(err, "a simulation needs 1 to 99 hospitals, not %zu", n);
        return CB_ERR_USAGE;
    }
    if (opts->malformed < 0 || opts->malformed > 0.5) {
        cb_errf(err, "the share of malformed messages must be within 0 and 0.5");
        return CB_ERR_USAGE;
    }
    for (i = 0; i < n; i++)
        if (!h[i].zzjgdm || !*h[i].zzjgdm || strpbrk(h[i].zzjgdm, "|^~\\&\r\n")) {
            cb_errf(err, "hospital %zu has no usable organisation code", i + 1);
            return CB_ERR_USAGE;
        }
    if (!(s = cb_calloc(1, sizeof(*s))))
        return CB_ERR_NOMEM;
    s->nhosp = n;
    s->seed = opts->seed;
    s->start = s->last = opts->start;
    s->malformed = opts->malformed;
    s->kinds = opts->malformed_kinds ? opts->malformed_kinds & CB_SIM_MAL_ALL
                                     : CB_SIM_MAL_ALL;
    cb_buf_init(&s->text, (size_t)1 << 20);
    cb_rng_seed(&s->mal_rng, cb_rng_mix(opts->seed, 0xbad));
    sim__writer_init(&s->writer, opts->seed, opts->start);
    if (!(s->hosp = cb_calloc(n, sizeof(*s->hosp)))) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    for (i = 0; i < n && !rc; i++) {
        struct sim_hosp *hp = &s->hosp[i];
        struct cb_rng r;

        hp->zzjgdm = cb_strdup(h[i].zzjgdm);
        hp->name = cb_strdup(h[i].name ? h[i].name : h[i].zzjgdm);
        hp->level_text = cb_strdup(h[i].level ? h[i].level : "");
        if (!hp->zzjgdm || !hp->name || !hp->level_text) {
            rc = CB_ERR_NOMEM;
            break;
        }
        hp->level = parse_level(h[i].level);
        hp->version = i % 2 ? "2.4" : "2.5.1";
        if (gb == SIZE_MAX && hp->level == SIM_DISTRICT)
            gb = i;
        /* The wards depend on the hospital alone, not on the seed: a wards
         * file written once fits every stream. */
        cb_rng_seed(&r, cb_hash64(h[i].zzjgdm, strlen(h[i].zzjgdm), 0x3a3d));
        rc = sim__org_build(hp, &r);
    }
    if (rc)
        goto out;
    if (gb == SIZE_MAX && n > 1)
        gb = n - 1;
    if (gb != SIZE_MAX)
        s->hosp[gb].gb18030 = true;   /* one hospital's HIS speaks GB 18030 */
    rc = sim__truth_init(&s->truth, s->hosp, n);
    if (!rc)
        rc = sim__flow_init(&s->flow, s->hosp, n, opts->seed, opts->start,
                            opts->warm_occupancy > 0 ? opts->warm_occupancy : 0.85);
out:
    if (rc) {
        cb_sim_free(s);
        return rc;
    }
    *out = s;
    return CB_OK;
}

void
cb_sim_free(struct cb_sim *s)
{
    size_t i;

    if (!s)
        return;
    sim__flow_release(&s->flow);
    sim__truth_release(&s->truth);
    sim__writer_release(&s->writer);
    cb_buf_release(&s->text);
    for (i = 0; s->hosp && i < s->nhosp; i++) {
        sim__org_release(&s->hosp[i]);
        cb_free(s->hosp[i].zzjgdm);
        cb_free(s->hosp[i].name);
        cb_free(s->hosp[i].level_text);
    }
    cb_free(s->hosp);
    cb_free(s);
}

const struct sim_hosp *
sim__hospitals(const struct cb_sim *s, size_t *n)
{
    *n = s->nhosp;
    return s->hosp;
}

size_t
cb_sim_nhospitals(const struct cb_sim *s)
{
    return s->nhosp;
}

const char *
cb_sim_hospital_code(const struct cb_sim *s, size_t i)
{
    return i < s->nhosp ? s->hosp[i].zzjgdm : "";
}

int64_t
cb_sim_next_time(const struct cb_sim *s)
{
    if (s->pending)
        return s->pending->time;
    return sim__flow_next_time(&s->flow);
}

/* A malformed kind that fits the event (A20 has no PID), or 0. */
static unsigned
pick_malformed(struct cb_sim *s, const struct sim_ev *ev)
{
    unsigned ok[5], n = 0, k;

    for (k = 0; k < 5; k++) {
        unsigned bit = 1u << k;

        if (!(s->kinds & bit))
            continue;
        if (ev->kind == SIM_A20 && (bit == CB_SIM_MAL_ESCAPE || bit == CB_SIM_MAL_NO_PID3))
            continue;
        ok[n++] = bit;
    }
    return n ? ok[cb_rng_below(&s->mal_rng, n)] : 0;
}

static void
count(struct cb_sim *s, const char *event, unsigned malformed)
{
    int i = cb_sim_event_index(event);

    s->counts.total++;
    if (malformed)
        s->counts.malformed++;
    if (i >= 0)
        s->counts.by_event[i]++;
}

enum cb_err
cb_sim_next(struct cb_sim *s, int64_t until, struct cb_sim_msg *m,
            struct cb_buf *err)
{
    const struct sim_ev *ev;
    unsigned mal = 0;
    enum cb_err rc;

    if (s->pending) {
        ev = s->pending;
        if (ev->time > until)
            return CB_EOF;
        s->pending = NULL;
    } else {
        if ((rc = sim__flow_next(&s->flow, until, &ev)) != CB_OK)
            return rc;
        if (s->malformed > 0 && cb_rng_chance(&s->mal_rng, s->malformed) &&
            (mal = pick_malformed(s, ev)) != 0)
            s->pending = ev;   /* the corrected message comes next */
    }
    if ((rc = sim__write(&s->writer, &s->hosp[ev->hosp], ev, mal, &s->text,
                         &m->control_id, err)) != CB_OK)
        return rc;
    if (!mal && (rc = sim__truth_apply(&s->truth, ev)) != CB_OK)
        return rc;
    m->hospital = ev->hosp;
    m->time = ev->time;
    m->text = cb_buf_str(&s->text);
    m->malformed = mal;
    m->event = mal == CB_SIM_MAL_TRIGGER ? "A99" : mal == CB_SIM_MAL_TYPE ? "R01" :
               sim__kind_name(ev->kind);
    s->last = ev->time;
    count(s, m->event, mal);
    return CB_OK;
}

enum cb_err
cb_sim_wards_tsv(const struct cb_sim *s, struct cb_buf *out)
{
    enum cb_err rc = cb_buf_adds(out, "hospital\tward\tname\tcare_level\tbeds\tstaffed\n");
    size_t i;
    int k;

    for (i = 0; i < s->nhosp && !rc; i++)
        for (k = 0; k < s->hosp[i].nwards && !rc; k++) {
            const struct sim_ward *w = &s->hosp[i].ward[k];

            rc = cb_buf_addf(out, "%s\t%s\t%s\t%s\t%d\t%d\n", s->hosp[i].zzjgdm,
                             w->code, w->name, sim__care_name(w->care), w->beds,
                             w->staffed);
        }
    return rc;
}

void
cb_sim_counts(const struct cb_sim *s, struct cb_sim_counts *c)
{
    *c = s->counts;
}

enum cb_err
cb_sim_expect_json(const struct cb_sim *s, struct cb_buf *out)
{
    char start[20], end[20];
    enum cb_err rc;
    int i;
    bool first = true;

    cb_format_datetime(s->start, start);
    cb_format_datetime(s->last, end);
    rc = cb_buf_addf(out, "{\"generator\":\"carebase simulate\",\"seed\":%llu,"
                     "\"start\":\"%s\",\"end\":\"%s\",\"anomalies\":%llu,"
                     "\"messages\":{\"total\":%llu,\"well_formed\":%llu,"
                     "\"malformed\":%llu,\"by_event\":{",
                     (unsigned long long)s->seed, start, end,
                     (unsigned long long)s->truth.anomalies,
                     (unsigned long long)s->counts.total,
                     (unsigned long long)(s->counts.total - s->counts.malformed),
                     (unsigned long long)s->counts.malformed);
    for (i = 0; i < CB_SIM_NEVENTS && !rc; i++) {
        if (!s->counts.by_event[i])
            continue;
        rc = cb_buf_addf(out, "%s\"%s\":%llu", first ? "" : ",", event_names[i],
                         (unsigned long long)s->counts.by_event[i]);
        first = false;
    }
    if (!rc) rc = cb_buf_adds(out, "}},\"hospitals\":");
    if (!rc) rc = sim__truth_json(&s->truth, out);
    if (!rc) rc = cb_buf_adds(out, "}\n");
    return rc;
}
