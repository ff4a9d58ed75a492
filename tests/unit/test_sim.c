/*
 * test_sim.c - the ADT simulator: determinism, every message readable by
 * the project's HL7 parser (except the intended malformed ones), the event
 * mix, beds within capacity, the hour-of-day profile of arrivals, and the
 * ground truth equal to the state rebuilt from the parsed messages alone.
 *
 * All hospitals, patients and identifiers are synthetic.
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "carebase/date.h"
#include "carebase/hl7.h"
#include "carebase/sim.h"
#include "sim/sim_int.h"
#include "testutil.h"

static const struct cb_sim_hospital consortium[] = {
    { "12510902442702122A", "平林市第一人民医院", "三级" },
    { "48723682-3", "平林市宜桥区人民医院", "二级" },
    { "12510904463179721R", "平林市瑞平区人民医院", "二级" },
    { "12510924865069373W", "宁兴县竹原镇卫生院", "基层" },
    { "62169054-2", "宜桥区柳水街道社区卫生服务中心", "基层" },
};
#define NHOSP (sizeof(consortium) / sizeof(consortium[0]))

static int64_t
start_time(void)
{
    return cb_days_from_civil(2026, 3, 2) * 86400 + 8 * 3600;  /* a Monday */
}

static struct cb_sim *
new_sim(uint64_t seed, double malformed)
{
    struct cb_sim_opts o = { seed, start_time(), malformed, 0, 0 };
    struct cb_buf err = CB_BUF_INIT;
    struct cb_sim *s = NULL;

    assert_int_equal(cb_sim_new(&s, &o, consortium, NHOSP, &err), CB_OK);
    cb_buf_release(&err);
    return s;
}

/* ------------------------------------------------------------ helpers */

/* MSH-style timestamp yyyyMMddHHmmss to wall-clock seconds. */
static int64_t
ts_secs(struct cb_str ts)
{
    int v[6] = { 0 }, widths[6] = { 4, 2, 2, 2, 2, 2 }, i, j;
    size_t at = 0;

    assert_true(ts.len >= 14);
    for (i = 0; i < 6; i++)
        for (j = 0; j < widths[i]; j++)
            v[i] = v[i] * 10 + (ts.ptr[at++] - '0');
    return cb_days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
}

static struct cb_str
raw(struct cb_hl7_msg *m, const char *seg, unsigned occ, unsigned f, unsigned c)
{
    long i = cb_hl7_find(m, seg, 0, occ);

    return i < 0 ? CB_STR_NULL : cb_hl7_raw(m, (size_t)i, f, 0, c, 0);
}

static struct sim_loc
loc(const struct sim_hosp *h, struct cb_hl7_msg *m, const char *seg,
    unsigned occ, unsigned field)
{
    struct sim_loc l = { -1, -1 };
    struct cb_str ward = raw(m, seg, occ, field, 1), bed = raw(m, seg, occ, field, 3);

    if (ward.len) {
        l.ward = (int16_t)sim__ward_find(h, ward);
        assert_true(l.ward >= 0);
        assert_true(cb_str_eqz(raw(m, seg, occ, field, 4), h->zzjgdm));
        if (bed.len) {
            l.bed = (int16_t)sim__bed_find(&h->ward[l.ward], bed);
            assert_true(l.bed >= 0);
        }
    }
    return l;
}

/* Serial of an id spelled by sim__patient_id / sim__visit_id. */
static uint32_t
serial(struct cb_str id)
{
    int64_t n;

    assert_true(id.len == 11);
    assert_int_equal(cb_parse_i64(cb_str_make(id.ptr + 3, 8), &n), CB_OK);
    return (uint32_t)n;
}

/*
 * The event a receiver reads from a well-formed message, using nothing but
 * the message text and the ward layout.
 */
static void
event_from_message(const struct sim_hosp *hosp, size_t nhosp,
                   struct cb_hl7_msg *m, struct sim_ev *ev)
{
    struct cb_str trigger = raw(m, "MSH", 1, 9, 2), occ = raw(m, "EVN", 1, 6, 0);
    const struct sim_hosp *h = NULL;
    size_t i;
    int k;

    memset(ev, 0, sizeof(*ev));
    for (i = 0; i < nhosp; i++)
        if (cb_str_eqz(raw(m, "MSH", 1, 4, 0), hosp[i].zzjgdm))
            h = &hosp[i], ev->hosp = (uint32_t)i;
    assert_non_null(h);
    for (k = 0; k < SIM_NKINDS; k++)
        if (cb_str_eqz(trigger, sim__kind_name((enum sim_kind)k)))
            ev->kind = (enum sim_kind)k;
    assert_true(cb_str_eqz(trigger, sim__kind_name(ev->kind)));
    ev->time = ts_secs(raw(m, "MSH", 1, 7, 0));
    ev->occurred = occ.len ? ts_secs(occ) : ev->time;
    ev->loc.ward = ev->loc.bed = ev->prior.ward = ev->prior.bed = -1;
    ev->loc2 = ev->loc;
    if (ev->kind == SIM_A20) {
        ev->loc = loc(h, m, "NPU", 1, 1);
        ev->bed_status = raw(m, "NPU", 1, 2, 0).ptr[0];
        return;
    }
    if (ev->kind == SIM_A40)
        return;
    ev->visit = serial(raw(m, "PV1", 1, 19, 1));
    ev->pclass = raw(m, "PV1", 1, 2, 0).ptr[0];
    ev->loc = loc(h, m, "PV1", 1, 3);
    ev->prior = loc(h, m, "PV1", 1, 6);
    if (ev->kind == SIM_A17) {
        ev->visit2 = serial(raw(m, "PV1", 2, 19, 1));
        ev->loc2 = loc(h, m, "PV1", 2, 3);
    }
}

/* ------------------------------------------------------------ tests */

static uint64_t
stream_hash(uint64_t seed, int64_t until, uint64_t *n)
{
    struct cb_sim *s = new_sim(seed, 0.02);
    struct cb_buf err = CB_BUF_INIT;
    struct cb_sim_msg m;
    uint64_t h = 0;
    enum cb_err rc;

    *n = 0;
    while ((rc = cb_sim_next(s, until, &m, &err)) == CB_OK) {
        h = cb_hash64(m.text.ptr, m.text.len, h);
        (*n)++;
    }
    assert_int_equal(rc, CB_EOF);
    cb_sim_free(s);
    cb_buf_release(&err);
    return h;
}

static void
test_determinism(void **state)
{
    uint64_t n1, n2, n3;
    int64_t until = start_time() + 2 * 86400;
    uint64_t a = stream_hash(7, until, &n1), b = stream_hash(7, until, &n2),
             c = stream_hash(8, until, &n3);

    (void)state;
    assert_true(n1 > 3000);
    assert_int_equal(n1, n2);
    assert_true(a == b);
    assert_true(a != c);
}

struct mix {
    uint64_t events[CB_SIM_NEVENTS];
    uint64_t malformed[32];
    uint64_t ed_by_hour[24];
    uint64_t elective_by_hour[24];     /* planned arrivals (A05 PV2-8) */
    uint64_t elective_by_weekday[7];
    uint64_t elective_a01_by_hour[24]; /* elective A01s, when a bed is free */
    uint64_t messages;
};

/* Parses every message of `days` days, checks it, applies the well-formed
 * ones to an oracle of its own and returns the expect JSON of the sim. */
static void
run_and_check(uint64_t seed, double malformed, int days, struct mix *mx,
              char **expect, char **mine_json, uint64_t *anomalies)
{
    struct sim_truth truth, *mine = &truth;
    struct cb_sim *s = new_sim(seed, malformed);
    struct cb_buf err = CB_BUF_INIT, out = CB_BUF_INIT, val = CB_BUF_INIT;
    const struct sim_hosp *hosp;
    struct cb_sim_msg m;
    size_t nhosp;
    enum cb_err rc;

    hosp = sim__hospitals(s, &nhosp);
    assert_int_equal(sim__truth_init(mine, hosp, nhosp), CB_OK);
    memset(mx, 0, sizeof(*mx));
    while ((rc = cb_sim_next(s, start_time() + days * 86400LL, &m, &err)) == CB_OK) {
        struct cb_hl7_msg h;
        struct cb_str v;
        int i = cb_sim_event_index(m.event);

        mx->messages++;
        assert_true(i >= 0);
        mx->events[i]++;
        cb_buf_reset(&err);
        rc = cb_hl7_parse(&h, m.text, &err);
        if (m.malformed == CB_SIM_MAL_TRUNCATED) {
            assert_int_equal(rc, CB_ERR_PROTO);
            mx->malformed[0]++;
            cb_hl7_release(&h);
            continue;
        }
        if (rc != CB_OK)
            fail_msg("message %.*s does not parse: %s", (int)m.control_id.len,
                     m.control_id.ptr, cb_buf_cstr(&err));
        assert_true(cb_str_eq(raw(&h, "MSH", 1, 10, 0), m.control_id));
        assert_true(cb_str_eqz(raw(&h, "MSH", 1, 4, 0), cb_sim_hospital_code(s, m.hospital)));
        assert_true(cb_str_eqz(raw(&h, "MSH", 1, 9, 2), m.event));
        assert_int_equal(ts_secs(raw(&h, "MSH", 1, 7, 0)), m.time);
        if (m.malformed) {
            long pid = cb_hl7_find(&h, "PID", 0, 1);

            switch (m.malformed) {
            case CB_SIM_MAL_ESCAPE:
                cb_buf_reset(&val);
                assert_int_equal(cb_hl7_get(&h, (size_t)pid, 3, 1, 1, 0, &v, &err),
                                 CB_ERR_PROTO);
                mx->malformed[1]++;
                break;
            case CB_SIM_MAL_NO_PID3:
                assert_int_equal(raw(&h, "PID", 1, 3, 0).len, 0);
                mx->malformed[2]++;
                break;
            case CB_SIM_MAL_TRIGGER:
                assert_true(cb_str_eqz(raw(&h, "MSH", 1, 9, 2), "A99"));
                mx->malformed[3]++;
                break;
            case CB_SIM_MAL_TYPE:
                assert_true(cb_str_eqz(raw(&h, "MSH", 1, 9, 1), "ORU"));
                mx->malformed[4]++;
                break;
            default:
                fail_msg("unknown malformed kind %u", m.malformed);
            }
            cb_hl7_release(&h);
            continue;
        }
        assert_true(cb_str_eqz(raw(&h, "MSH", 1, 9, 1), "ADT"));
        if (strcmp(m.event, "A20")) {
            long pid = cb_hl7_find(&h, "PID", 0, 1);

            assert_true(pid >= 0);
            assert_int_equal(cb_hl7_get(&h, (size_t)pid, 3, 1, 1, 0, &v, &err), CB_OK);
            assert_true(v.len > 0);
            /* The name decodes (GB 18030 for one hospital) to UTF-8. */
            assert_int_equal(cb_hl7_get(&h, (size_t)pid, 5, 1, 1, 0, &v, &err), CB_OK);
            assert_true(v.len >= 3);
        }
        {
            struct sim_ev ev;

            event_from_message(hosp, nhosp, &h, &ev);
            assert_int_equal(sim__truth_apply(mine, &ev), CB_OK);
            if (!strcmp(m.event, "A04") && ev.pclass == 'E')
                mx->ed_by_hour[(ev.time % 86400) / 3600]++;
            if (!strcmp(m.event, "A01") && raw(&h, "PV1", 1, 4, 0).len &&
                raw(&h, "PV1", 1, 4, 0).ptr[0] == 'R' && ev.occurred == ev.time)
                mx->elective_a01_by_hour[(ev.time % 86400) / 3600]++;
            if (!strcmp(m.event, "A05")) {   /* planned arrival: PV2-8 */
                int64_t t = ts_secs(raw(&h, "PV2", 1, 8, 0)), d = cb_day_of(t);

                mx->elective_by_hour[(t - d * 86400) / 3600]++;
                mx->elective_by_weekday[(d + 3) % 7]++;
            }
        }
        cb_hl7_release(&h);
    }
    assert_int_equal(rc, CB_EOF);
    assert_int_equal(cb_sim_expect_json(s, &out), CB_OK);
    *expect = cb_buf_detach(&out, NULL);
    assert_int_equal(sim__truth_json(mine, &out), CB_OK);
    *mine_json = cb_buf_detach(&out, NULL);
    *anomalies = mine->anomalies;
    sim__truth_release(mine);
    cb_sim_free(s);
    cb_buf_release(&err);
    cb_buf_release(&val);
}

static void
test_messages_parse_and_truth_matches(void **state)
{
    struct mix mx;
    char *expect = NULL, *mine = NULL, *hosp;
    uint64_t anomalies;
    json_t *root;
    json_error_t jerr;
    int k;

    (void)state;
    run_and_check(11, 0.03, 7, &mx, &expect, &mine, &anomalies);
    /* Each of the 14 ADT events, and each kind of malformed message. */
    for (k = 0; k < 14; k++)
        if (!mx.events[k])
            fail_msg("no %s in a week", cb_sim_event_name(k));
    for (k = 0; k < 5; k++)
        if (!mx.malformed[k])
            fail_msg("no malformed message of kind %d", k);
    /* The truth of the simulator is the state the messages alone give. */
    assert_int_equal(anomalies, 0);
    hosp = strstr(expect, "\"hospitals\":");
    assert_non_null(hosp);
    hosp += strlen("\"hospitals\":");
    assert_int_equal(strncmp(hosp, mine, strlen(mine)), 0);
    assert_string_equal(hosp + strlen(mine), "}\n");
    root = json_loads(expect, 0, &jerr);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_object_get(root, "anomalies")), 0);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(root, "messages"), "total")), mx.messages);
    json_decref(root);
    free(mine);
    free(expect);
}

static void
test_capacity_and_occupancy(void **state)
{
    struct mix mx;
    char *expect = NULL, *mine = NULL;
    uint64_t anomalies;
    json_t *root, *hs, *h, *w;
    json_error_t jerr;
    size_t i, k;

    (void)state;
    run_and_check(3, 0, 10, &mx, &expect, &mine, &anomalies);
    assert_int_equal(anomalies, 0);
    root = json_loads(expect, 0, &jerr);
    assert_non_null(root);
    hs = json_object_get(root, "hospitals");
    assert_int_equal(json_array_size(hs), NHOSP);
    json_array_foreach(hs, i, h) {
        json_int_t census = json_integer_value(json_object_get(h, "occupied"));
        json_int_t staffed = json_integer_value(json_object_get(h, "staffed"));

        json_array_foreach(json_object_get(h, "wards"), k, w) {
            json_int_t c = json_integer_value(json_object_get(w, "census"));

            assert_true(c >= 0);
            assert_true(c <= json_integer_value(json_object_get(w, "staffed")));
            assert_true(json_integer_value(json_object_get(w, "staffed")) <=
                        json_integer_value(json_object_get(w, "beds")));
            assert_int_equal(json_array_size(json_object_get(w, "occupied_beds")), c);
        }
        if (i == 0) {   /* the tertiary hub runs full: 85-100 % */
            double occ = (double)census / (double)staffed;

            if (occ < 0.85 || occ > 1.0)
                fail_msg("tertiary occupancy %.2f", occ);
            assert_true(staffed >= 600 && staffed <= 1500);
        }
        assert_true(json_integer_value(json_object_get(h, "boarders")) >= 0);
        assert_int_equal(json_integer_value(json_object_get(h, "census")),
                         census + json_integer_value(json_object_get(h, "boarders")));
    }
    json_decref(root);
    free(mine);
    free(expect);
}

static void
test_arrival_profile(void **state)
{
    struct mix mx;
    char *expect = NULL, *mine = NULL;
    uint64_t anomalies, night = 0, late_morning = 0, evening = 0, morning_el = 0, all_el = 0;
    int hr;

    (void)state;
    run_and_check(5, 0, 14, &mx, &expect, &mine, &anomalies);
    for (hr = 2; hr < 6; hr++)
        night += mx.ed_by_hour[hr];
    for (hr = 10; hr < 14; hr++)
        late_morning += mx.ed_by_hour[hr];
    for (hr = 18; hr < 22; hr++)
        evening += mx.ed_by_hour[hr];
    for (hr = 0; hr < 24; hr++)
        all_el += mx.elective_by_hour[hr];
    for (hr = 8; hr < 12; hr++)
        morning_el += mx.elective_by_hour[hr];
    /* Profile: 5.3 (02-05 h) vs 21.6 (10-13 h) and 22.3 (18-21 h). */
    if (late_morning < 3 * night || evening < 3 * night)
        fail_msg("ED arrivals by hour: night %llu, late morning %llu, evening %llu",
                 (unsigned long long)night, (unsigned long long)late_morning,
                 (unsigned long long)evening);
    assert_true(night > 0);
    /* Elective and direct admissions: mostly in the morning, never at night. */
    if (morning_el * 10 < all_el * 6)
        fail_msg("elective admissions: %llu of %llu in 08-12 h; by hour %llu %llu %llu "
                 "%llu %llu %llu %llu %llu %llu %llu %llu", (unsigned long long)morning_el,
                 (unsigned long long)all_el, (unsigned long long)mx.elective_by_hour[8],
                 (unsigned long long)mx.elective_by_hour[9], (unsigned long long)mx.elective_by_hour[10],
                 (unsigned long long)mx.elective_by_hour[11], (unsigned long long)mx.elective_by_hour[12],
                 (unsigned long long)mx.elective_by_hour[13], (unsigned long long)mx.elective_by_hour[14],
                 (unsigned long long)mx.elective_by_hour[15], (unsigned long long)mx.elective_by_hour[16],
                 (unsigned long long)mx.elective_by_hour[17], (unsigned long long)mx.elective_by_hour[18]);
    for (hr = 0; hr < 7; hr++) {
        assert_int_equal(mx.elective_by_hour[hr], 0);
        assert_int_equal(mx.elective_a01_by_hour[hr], 0);
    }
    /* Weekdays (5 of them) plan far more than the weekend (2). */
    {
        uint64_t wd = 0, we = mx.elective_by_weekday[5] + mx.elective_by_weekday[6];

        for (hr = 0; hr < 5; hr++)
            wd += mx.elective_by_weekday[hr];
        if (wd * 2 < we * 5 * 2)
            fail_msg("electives: %llu on weekdays, %llu on weekends",
                     (unsigned long long)wd, (unsigned long long)we);
    }
    free(mine);
    free(expect);
}

static void
test_wards_and_bad_options(void **state)
{
    struct cb_sim *s = new_sim(1, 0), *s2 = NULL;
    struct cb_buf out = CB_BUF_INIT, err = CB_BUF_INIT;
    struct cb_sim_opts o = { 1, start_time(), 0.9, 0, 0 };
    const char *p;
    int lines = 0, eds = 0;

    (void)state;
    assert_int_equal(cb_sim_wards_tsv(s, &out), CB_OK);
    assert_true(cb_str_starts(cb_buf_str(&out),
                              "hospital\tward\tname\tcare_level\tbeds\tstaffed\n"));
    for (p = cb_buf_cstr(&out); (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    assert_true(lines > 30);
    for (p = cb_buf_cstr(&out); (p = strstr(p, "\tED\t急诊科\tED\t")) != NULL; p++)
        eds++;
    assert_int_equal(eds, 3);   /* the hub and the two district hospitals */
    assert_non_null(strstr(cb_buf_cstr(&out), "\t心内科一病区\tgeneral\t"));
    assert_int_equal(cb_sim_new(&s2, &o, consortium, NHOSP, &err), CB_ERR_USAGE);
    assert_null(s2);
    assert_int_equal(cb_sim_new(&s2, &o, consortium, 0, &err), CB_ERR_USAGE);
    cb_sim_free(s);
    cb_buf_release(&out);
    cb_buf_release(&err);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_messages_parse_and_truth_matches),
        cmocka_unit_test(test_capacity_and_occupancy),
        cmocka_unit_test(test_arrival_profile),
        cmocka_unit_test(test_wards_and_bad_options),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
