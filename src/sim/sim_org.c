/*
 * sim_org.c - the wards and beds of each simulated hospital, sized by its
 * level, and the admission rates that keep them realistically full.
 *
 * A tertiary hub has an ED, an ICU and 15-23 general wards of 40-60 beds;
 * a district hospital an ED, 5-8 general wards of 25-45 beds and, when it
 * is large, an ICU; a community centre 1-3 wards of 15-25 beds and no ED.
 * Ward codes are short English abbreviations, names the Chinese ones.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "sim/sim_int.h"

struct spec {
    const char *code, *name;
    double      los_median, los_sigma;  /* days */
};

static const struct spec tertiary_general[] = {
    { "CARD1", "心内科一病区", 5, 0.55 },   { "CARD2", "心内科二病区", 5, 0.55 },
    { "RESP", "呼吸内科病区", 7, 0.6 },     { "GI", "消化内科病区", 6, 0.55 },
    { "NEURO", "神经内科病区", 8, 0.6 },    { "GS1", "普外科一病区", 6, 0.6 },
    { "ORTH1", "骨科一病区", 9, 0.6 },      { "ENDO", "内分泌科病区", 7, 0.5 },
    { "NEPH", "肾内科病区", 8, 0.6 },       { "ONC", "肿瘤科病区", 7, 0.6 },
    { "GS2", "普外科二病区", 6, 0.6 },      { "URO", "泌尿外科病区", 5, 0.5 },
    { "OBS", "产科病区", 3, 0.4 },          { "PED", "儿科病区", 4, 0.5 },
    { "GYN", "妇科病区", 4, 0.5 },          { "NSURG", "神经外科病区", 9, 0.7 },
    { "ORTH2", "骨科二病区", 9, 0.6 },      { "THOR", "胸外科病区", 7, 0.6 },
    { "HEMA", "血液科病区", 9, 0.7 },       { "GER", "老年医学科病区", 9, 0.6 },
    { "INF", "感染科病区", 7, 0.6 },        { "ENT", "耳鼻喉科病区", 4, 0.5 },
    { "OPH", "眼科病区", 3, 0.4 },
};
static const struct spec district_general[] = {
    { "IM1", "内科一病区", 6, 0.6 },  { "SUR", "外科病区", 6, 0.6 },
    { "IM2", "内科二病区", 6, 0.6 },  { "ORTH", "骨科病区", 8, 0.6 },
    { "OBGYN", "妇产科病区", 4, 0.5 }, { "PED", "儿科病区", 4, 0.5 },
    { "NEURO", "神经内科病区", 8, 0.6 }, { "GER", "老年病科病区", 9, 0.6 },
};
static const struct spec community_general[] = {
    { "GP", "全科病房", 7, 0.6 },
    { "REHAB", "康复病房", 9, 0.5 },
    { "TCM", "中医病房", 8, 0.6 },
};
static const struct spec icu_spec = { "ICU", "重症医学科(ICU)", 3, 0.6 };
static const struct spec ed_spec = { "ED", "急诊科", 0.1, 0.5 };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *
sim__care_name(enum sim_care c)
{
    switch (c) {
    case SIM_CARE_GENERAL: return "general";
    case SIM_CARE_ICU:     return "ICU";
    case SIM_CARE_ED:      return "ED";
    }
    return "general";
}

static enum cb_err
add_ward(struct sim_hosp *h, struct cb_rng *r, const struct spec *sp,
         enum sim_care care, int lo, int hi)
{
    struct sim_ward *w;
    int i;

    if (h->nwards >= SIM_MAX_WARDS)
        CB_BUG("too many wards");
    w = &h->ward[h->nwards];
    memset(w, 0, sizeof(*w));
    snprintf(w->code, sizeof(w->code), "%s", sp->code);
    snprintf(w->name, sizeof(w->name), "%s", sp->name);
    w->care = care;
    w->beds = lo + (int)cb_rng_below(r, (uint32_t)(hi - lo + 1));
    /* A few beds are not staffed (no nurses for them). */
    w->staffed = w->beds - (int)cb_rng_below(r, (uint32_t)(w->beds / 12 + 1));
    w->los_median = sp->los_median;
    w->los_sigma = sp->los_sigma;
    w->bed = cb_calloc((size_t)w->beds, sizeof(*w->bed));
    if (!w->bed)
        return CB_ERR_NOMEM;
    for (i = 0; i < w->beds; i++)
        w->bed[i].visit = -1;
    if (care == SIM_CARE_ED)
        h->ed = h->nwards;
    else if (care == SIM_CARE_ICU)
        h->icu = h->nwards;
    h->nwards++;
    return CB_OK;
}

/* Mean of a log-normal stay, in days. */
static double
mean_los(const struct sim_ward *w)
{
    return w->los_median * exp(w->los_sigma * w->los_sigma / 2);
}

/*
 * Admission rates: each ward gets occ * staffed / mean stay admissions a
 * day, so that it runs near the target occupancy; they are split between
 * the ED, elective and direct admissions by level.
 */
static void
set_rates(struct sim_hosp *h)
{
    double occ, ed_share, elective_share, general = 0, icu = 0, ed_adm;
    int i;

    switch (h->level) {
    case SIM_TERTIARY:
        occ = 0.91; ed_share = 0.45; elective_share = 0.50; h->p_admit = 0.18;
        break;
    case SIM_DISTRICT:
        occ = 0.82; ed_share = 0.50; elective_share = 0.30; h->p_admit = 0.15;
        break;
    default:
        occ = 0.72; ed_share = 0; elective_share = 0.30; h->p_admit = 0;
        break;
    }
    for (i = 0; i < h->nwards; i++) {
        struct sim_ward *w = &h->ward[i];

        if (w->care == SIM_CARE_ED)
            continue;
        w->weight = occ * w->staffed / mean_los(w);
        if (w->care == SIM_CARE_ICU)
            icu += w->weight;
        else
            general += w->weight;
    }
    if (h->ed < 0)
        ed_share = 0;
    ed_adm = general * ed_share + icu;
    h->elective_per_day = general * elective_share;
    h->direct_per_day = general * (1 - ed_share - elective_share);
    h->ed_per_day = h->p_admit > 0 ? ed_adm / h->p_admit : 0;
    h->p_icu = ed_adm > 0 ? icu / ed_adm : 0;
}

enum cb_err
sim__org_build(struct sim_hosp *h, struct cb_rng *r)
{
    const struct spec *gen;
    size_t ngen, n, i;
    int lo, hi;
    enum cb_err rc = CB_OK;

    h->nwards = 0;
    h->ed = h->icu = -1;
    switch (h->level) {
    case SIM_TERTIARY:
        gen = tertiary_general; ngen = NELEM(tertiary_general);
        n = 15 + cb_rng_below(r, 9);   /* 15..23 general wards */
        lo = 40; hi = 60;
        rc = add_ward(h, r, &ed_spec, SIM_CARE_ED, 30, 50);
        if (!rc)
            rc = add_ward(h, r, &icu_spec, SIM_CARE_ICU, 20, 36);
        break;
    case SIM_DISTRICT:
        gen = district_general; ngen = NELEM(district_general);
        n = 5 + cb_rng_below(r, 4);    /* 5..8 general wards */
        lo = 25; hi = 45;
        rc = add_ward(h, r, &ed_spec, SIM_CARE_ED, 10, 20);
        if (!rc && n >= 7)
            rc = add_ward(h, r, &icu_spec, SIM_CARE_ICU, 8, 12);
        break;
    default:
        gen = community_general; ngen = NELEM(community_general);
        n = 1 + cb_rng_below(r, 3);    /* 1..3 wards */
        lo = 15; hi = 25;
        break;
    }
    for (i = 0; i < n && i < ngen && !rc; i++)
        rc = add_ward(h, r, &gen[i], SIM_CARE_GENERAL, lo, hi);
    if (!rc)
        set_rates(h);
    return rc;
}

void
sim__org_release(struct sim_hosp *h)
{
    int i;

    for (i = 0; i < h->nwards; i++) {
        cb_free(h->ward[i].bed);
        cb_free(h->ward[i].queue);
    }
    h->nwards = 0;
}

int
sim__ward_find(const struct sim_hosp *h, struct cb_str code)
{
    int i;

    for (i = 0; i < h->nwards; i++)
        if (cb_str_eqz(code, h->ward[i].code))
            return i;
    return -1;
}

void
sim__bed_labels(const struct sim_ward *w, int b, char room[8], char bed[8])
{
    int per_room = w->care == SIM_CARE_ICU ? 1 : 4;

    snprintf(room, 8, "%02u", (unsigned)(b / per_room + 1) % 1000u);
    snprintf(bed, 8, "%02u", (unsigned)(b + 1) % 1000u);
}

int
sim__bed_find(const struct sim_ward *w, struct cb_str bed)
{
    int64_t n;

    if (bed.len == 0 || cb_parse_i64(bed, &n) != CB_OK || n < 1 || n > w->beds)
        return -1;
    return (int)n - 1;
}
