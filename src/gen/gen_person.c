/*
 * gen_person.c - synthetic patients: name, resident ID number, addresses,
 * phones, social items and payment method.
 *
 * A patient is a seed plus sex, birth date and home place. Every item below
 * is recomputed from the seed through separate sub-streams, so a readmitted
 * patient keeps the same name, ID number and address while age-dependent
 * items (occupation, marital status) may move on.
 */
#include "gen/gen_int.h"

enum { S_NAME = 1, S_ID, S_ADDR, S_SOCIAL, S_CONTACT, S_PAY, S_ORIGIN };

static void
sub(struct cb_rng *r, const struct gen_patient *pt, int k)
{
    cb_rng_seed(r, cb_rng_mix(pt->seed, (uint64_t)k));
}

static const char *const pay_codes[] = {
    "1.1", "1.2", "2.1", "2.2", "3.1", "3.2", "4", "5", "6", "7", "8", "9",
};
/* Weights by residence: urban local, rural local, out of province. */
static const uint16_t pay_w[3][12] = {
    { 450, 0, 300, 0, 50, 0, 10, 20, 20, 100, 20, 30 },
    { 120, 0, 530, 0, 150, 0, 30, 10, 5, 100, 5, 50 },
    { 0, 350, 0, 250, 0, 100, 0, 50, 0, 250, 0, 0 },
};

static int
residence(const struct cb_gen *g, const struct gen_patient *pt)
{
    if (pt->place < 0)
        return 2;
    return g->org.place[pt->place].county ? 1 : 0;
}

int
gen__pay_index(const struct cb_gen *g, const struct gen_patient *pt, int age)
{
    struct cb_rng r;
    size_t i;

    sub(&r, pt, S_PAY);
    i = cb_rng_pick_w(&r, pay_w[residence(g, pt)], 12);
    if (age < 18 && (i == 0 || i == 1)) /* children: resident insurance */
        i += 2;
    return (int)i;
}

const char *
gen__pay_code(int i)
{
    return pay_codes[i >= 0 && i < 12 ? i : 11];
}

static const char *const mobile_prefix[] = {
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
    "151", "152", "153", "155", "157", "158", "159", "166", "173", "177",
    "180", "181", "182", "183", "185", "186", "187", "188", "189", "191",
    "198", "199",
};

static size_t
mobile(struct cb_rng *r, char *o)
{
    size_t n = gen_putz(o, 0, mobile_prefix[cb_rng_below(r, 32)]);

    return gen_putn(o, n, cb_rng_below(r, 100000000), 8);
}

static size_t
landline(const struct cb_gen *g, struct cb_rng *r, char *o)
{
    size_t n = gen_putz(o, 0, g->org.area);

    o[n++] = '-';
    return gen_putn(o, n, 2000000 + cb_rng_below(r, 7000000), 7);
}

/* Street address within the consortium's city, or elsewhere. */
static size_t
address(const struct cb_gen *g, const struct gen_patient *pt,
        struct cb_rng *r, char *o)
{
    static const char *const road[] = { "路", "街", "大道", "巷" };
    char w[16];
    size_t n = 0;

    if (pt->place < 0) {
        const struct gen_province *pv = &gen__provinces[pt->prov - 1];
        n = gen_putz(o, n, pv->name);
        w[gen__place_word(r, w)] = '\0';
        n = gen_putz(o, n, w);
        n = gen_putz(o, n, "市");
        w[gen__place_word(r, w)] = '\0';
        n = gen_putz(o, n, w);
        n = gen_putz(o, n, "区");
    } else {
        const struct gen_place *pl = &g->org.place[pt->place];
        n = gen_puts(o, n, g->org.prov_name);
        n = gen_puts(o, n, g->org.city);
        n = gen_puts(o, n, pl->name);
        if (pl->county && cb_rng_chance(r, 0.7)) {
            w[gen__place_word(r, w)] = '\0';
            n = gen_putz(o, n, w);
            n = gen_putz(o, n, "镇");
            w[gen__place_word(r, w)] = '\0';
            n = gen_putz(o, n, w);
            n = gen_putz(o, n, "村");
            n = gen_putn(o, n, 1 + cb_rng_below(r, 12), 1);
            n = gen_putz(o, n, "组");
            n = gen_putn(o, n, 1 + cb_rng_below(r, 80), 1);
            return gen_putz(o, n, "号");
        }
    }
    w[gen__place_word(r, w)] = '\0';
    n = gen_putz(o, n, w);
    n = gen_putz(o, n, road[cb_rng_below(r, 4)]);
    n = gen_putn(o, n, 1 + cb_rng_below(r, 398), 1);
    n = gen_putz(o, n, "号");
    if (cb_rng_chance(r, 0.75)) {
        n = gen_putn(o, n, 1 + cb_rng_below(r, 24), 1);
        n = gen_putz(o, n, "栋");
        n = gen_putn(o, n, 1 + cb_rng_below(r, 30), 1);
        n = gen_putn(o, n, 1 + cb_rng_below(r, 4), 2);
        n = gen_putz(o, n, "室");
    }
    return n;
}

static const uint8_t minorities[] = { 8, 3, 11, 5, 6, 7, 15, 4, 2, 12, 9,
                                      13, 14, 10, 16, 22 };

/* Occupation (RC003) by age and residence. */
static const char *
occupation(struct cb_rng *r, int age, int res)
{
    static const char *const work[] = { "11", "13", "17", "21", "24", "27",
                                        "37", "51", "54", "70", "90" };
    static const uint16_t work_w[2][11] = {
        { 20, 120, 150, 40, 150, 60, 5, 70, 90, 60, 80 },
        { 10, 50, 60, 20, 140, 400, 3, 60, 80, 60, 60 },
    };

    if (age < 6)
        return "90";
    if (age < 19)
        return "31";
    if (age < 23)
        return cb_rng_chance(r, 0.6) ? "31"
                                   : work[cb_rng_pick_w(r, work_w[res == 1], 11)];
    if (age >= 60) {
        double retired = res == 1 ? 0.35 : 0.75;
        if (cb_rng_chance(r, retired))
            return "80";
        return res == 1 ? (cb_rng_chance(r, 0.8) ? "27" : "90")
                        : (cb_rng_chance(r, 0.5) ? "70" : "90");
    }
    return work[cb_rng_pick_w(r, work_w[res == 1], 11)];
}

static const char *
marital(struct cb_rng *r, int age, int sex)
{
    double u = cb_rng_unif(r);

    if (age < 20)
        return "1";
    if (age < 25)
        return u < 0.75 ? "1" : "2";
    if (age < 30)
        return u < 0.4 ? "1" : u < 0.98 ? "2" : "9";
    if (age < 60)
        return u < 0.05 ? "1" : u < 0.90 ? "2" : u < 0.95 ? "4"
             : u < 0.97 ? "3" : "9";
    if (age < 75)
        return u < 0.83 ? "2" : u < 0.95 ? "3" : u < 0.98 ? "4" : "9";
    return u < (sex == 1 ? 0.70 : 0.45) ? "2" : u < 0.97 ? "3" : "9";
}

void
gen__patient_fill(struct cb_gen *g, const struct gen_case *c)
{
    const struct gen_patient *pt = &c->pt;
    struct cb_rng r;
    char b[320], id[19], phone[16];
    size_t n, idn, pn;
    int res = residence(g, pt), age = c->age_y, y, m, d;
    const char *occ;
    bool employed;

    /* name; newborns carry their mother's name: "张丽之子" */
    sub(&r, pt, S_NAME);
    if (c->age_y == 0 && c->age_d <= 28) {
        struct cb_rng mr;
        sub(&mr, pt, S_CONTACT);
        n = gen__person_name(&mr, 2, b);
        n = gen_putz(b, n, pt->sex == 1 ? "之子" : "之女");
    } else {
        n = gen__person_name(&r, pt->sex, b);
    }
    gen__setb(g, CB_F_XM, b, n);
    gen__setz(g, CB_F_XB, pt->sex == 1 ? "1" : "2");
    gen__setd(g, CB_F_CSRQ, pt->birth);
    gen__seti(g, CB_F_NL, c->age_y);
    if (c->age_y == 0)
        gen__seti(g, CB_F_BZYZS_NL, c->age_d);
    gen__setz(g, CB_F_GJ, g->std == CB_STD_TCM ? "CHN" : "中国");

    /* resident ID: region, birth date, sequence (odd = male), check */
    sub(&r, pt, S_ID);
    if (pt->place >= 0) {
        memcpy(id, g->org.place[pt->place].region, 6);
    } else {
        memcpy(id, gen__provinces[pt->prov - 1].gb, 2);
        gen_putn(id, 2, 100 + cb_rng_below(&r, 1500), 4);
    }
    cb_civil_from_days(pt->birth, &y, &m, &d);
    idn = gen_putn(id, 6, (uint64_t)y, 4);
    idn = gen_putn(id, idn, (uint64_t)m, 2);
    idn = gen_putn(id, idn, (uint64_t)d, 2);
    idn = gen_putn(id, idn, cb_rng_below(&r, 50) * 20 + (pt->sex == 1 ? 1 : 0) +
                   2 * cb_rng_below(&r, 5), 3);
    id[17] = gen__id_check(id);
    gen__setb(g, CB_F_SFZH, id, 18);
    if (cb_rng_chance(&r, 0.45))
        gen__setb(g, CB_F_JKKH, id, 18);
    else
        gen__setz(g, CB_F_JKKH, "-");

    /* origin: ethnicity, birthplace, native province */
    sub(&r, pt, S_ORIGIN);
    if (cb_rng_chance(&r, 0.92))
        gen__setz(g, CB_F_MZ, "1");
    else
        gen__seti(g, CB_F_MZ, minorities[cb_rng_below(&r, sizeof(minorities))]);
    {
        const struct gen_province *pv = &gen__provinces[pt->prov - 1];
        char w[16];
        n = gen_putz(b, 0, pv->name);
        if (pt->place >= 0 && pt->prov == g->org.prov && cb_rng_chance(&r, 0.8)) {
            n = gen_puts(b, n, g->org.city);
        } else {
            w[gen__place_word(&r, w)] = '\0';
            n = gen_putz(b, n, w);
            n = gen_putz(b, n, "市");
        }
        gen__setb(g, CB_F_CSD, b, n);
        gen__seti(g, CB_F_GG, pv->rc036);
    }

    /* addresses and phones */
    sub(&r, pt, S_ADDR);
    n = address(g, pt, &r, b);
    gen__setb(g, CB_F_XZZ, b, n);
    pn = mobile(&r, phone);
    gen__setb(g, CB_F_DH, phone, pn);
    {
        const char *post = pt->place >= 0 ? g->org.place[pt->place].post : NULL;
        char pc[7];
        if (!post) {
            memcpy(pc, gen__provinces[pt->prov - 1].post, 2);
            gen_putn(pc, 2, cb_rng_below(&r, 100) * 100, 4);
            pc[6] = '\0';
            post = pc;
        }
        gen__setb(g, CB_F_YB1, post, 6);
        if (cb_rng_chance(&r, 0.8)) {
            gen__setb(g, CB_F_HKDZ, b, n);
            gen__setb(g, CB_F_YB2, post, 6);
        } else {
            struct gen_patient other = *pt;
            other.place = g->org.nplace > 1 ? 1 + (int)cb_rng_below(&r,
                              (uint32_t)g->org.nplace - 1) : 0;
            n = address(g, &other, &r, b);
            gen__setb(g, CB_F_HKDZ, b, n);
            gen__setb(g, CB_F_YB2, g->org.place[other.place].post, 6);
        }
        gen__setb(g, CB_F_YB3, post, 6);
    }

    /* occupation, marital status, employer */
    sub(&r, pt, S_SOCIAL);
    occ = occupation(&r, age, res);
    gen__setz(g, CB_F_ZY, occ);
    gen__setz(g, CB_F_HY, marital(&r, age, pt->sex));
    employed = strcmp(occ, "27") != 0 && strcmp(occ, "31") != 0 &&
               strcmp(occ, "70") != 0 && strcmp(occ, "80") != 0 &&
               strcmp(occ, "90") != 0;
    if (employed) {
        static const char *const kind[] = { "有限公司", "有限责任公司",
            "商贸有限公司", "建筑工程有限公司", "中学", "小学",
            "街道办事处", "供电公司", "物流有限公司" };
        char w[16];
        n = gen_puts(b, 0, g->org.city);
        w[gen__place_word(&r, w)] = '\0';
        n = gen_putz(b, n, w);
        n = gen_putz(b, n, kind[cb_rng_below(&r, 9)]);
        gen__setb(g, CB_F_GZDWJDZ, b, n);
        n = landline(g, &r, b);
        gen__setb(g, CB_F_DWDH, b, n);
    } else {
        gen__setz(g, CB_F_GZDWJDZ, strcmp(occ, "31") == 0 ? "学生" : "无");
        gen__setb(g, CB_F_DWDH, phone, pn);
    }

    /* contact person; a newborn's contact is the mother named in XM */
    sub(&r, pt, S_CONTACT);
    {
        const char *gx;
        int csex;
        bool self = false;
        if (c->age_y == 0 && c->age_d <= 28) {
            gx = "5";
            n = gen__person_name(&r, 2, b);
        } else {
            if (age < 18) {
                gx = "5";
                csex = cb_rng_chance(&r, 0.65) ? 2 : 1;
            } else if (age >= 70) {
                double u = cb_rng_unif(&r);
                gx = u < 0.35 ? "1" : u < 0.65 ? "2" : u < 0.92 ? "3" : "4";
                csex = gx[0] == '2' ? 1 : gx[0] == '3' ? 2
                     : cb_rng_chance(&r, .5) ? 1 : 2;
            } else {
                double u = cb_rng_unif(&r);
                gx = u < 0.62 ? "1" : u < 0.80 ? "5" : u < 0.90 ? "7"
                   : u < 0.94 ? "0" : u < 0.97 ? "8" : "9";
                csex = gx[0] == '1' ? 3 - pt->sex : cb_rng_chance(&r, .5) ? 1 : 2;
            }
            if (gx[0] == '1' && age >= 70 && pt->sex == 2)
                csex = 1;
            n = gen__person_name(&r, csex, b);
            self = gx[0] == '0';
        }
        if (self)
            gen__set(g, CB_F_LXRXM, g->row.v[CB_F_XM]);
        else
            gen__setb(g, CB_F_LXRXM, b, n);
        gen__setz(g, CB_F_GX, gx);
        gen__set(g, CB_F_DZ, g->row.v[CB_F_XZZ]);
        if (!self)
            pn = mobile(&r, phone);
        gen__setb(g, CB_F_DH1, phone, pn);
    }
    gen__setz(g, CB_F_YLFKFS, gen__pay_code(gen__pay_index(g, pt, age)));
}
