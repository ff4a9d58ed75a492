/*
 * gen_org.c - the synthetic consortium (医联体): one tertiary hub, district
 * hospitals and primary-care members in an invented city, with RC023
 * departments, wards and staff; plus the name and identifier helpers shared
 * with gen_person.c.
 *
 * Names of places, hospitals and people are random combinations of common
 * characters; any resemblance to a real one is accidental. Organisation
 * codes carry valid GB 11714 / GB 32100 check characters.
 */
#include <string.h>

#include "carebase/alloc.h"
#include "gen/gen_int.h"

/* Mainland provinces: RC036 code, GB 2260 prefix, name, postcode prefix. */
const struct gen_province gen__provinces[] = {
    { 1, "11", "北京市", "10" },   { 2, "12", "天津市", "30" },
    { 3, "13", "河北省", "05" },   { 4, "14", "山西省", "03" },
    { 5, "15", "内蒙古自治区", "01" }, { 6, "21", "辽宁省", "11" },
    { 7, "22", "吉林省", "13" },   { 8, "23", "黑龙江省", "15" },
    { 9, "31", "上海市", "20" },   { 10, "32", "江苏省", "21" },
    { 11, "33", "浙江省", "31" },  { 12, "34", "安徽省", "23" },
    { 13, "35", "福建省", "35" },  { 14, "36", "江西省", "33" },
    { 15, "37", "山东省", "25" },  { 16, "41", "河南省", "45" },
    { 17, "42", "湖北省", "43" },  { 18, "43", "湖南省", "41" },
    { 19, "44", "广东省", "51" },  { 20, "45", "广西壮族自治区", "53" },
    { 21, "46", "海南省", "57" },  { 22, "51", "四川省", "61" },
    { 23, "50", "重庆市", "40" },  { 24, "52", "贵州省", "55" },
    { 25, "53", "云南省", "65" },  { 26, "54", "西藏自治区", "85" },
    { 27, "61", "陕西省", "71" },  { 28, "62", "甘肃省", "73" },
    { 29, "63", "青海省", "81" },  { 30, "64", "宁夏回族自治区", "75" },
    { 31, "65", "新疆维吾尔自治区", "83" },
};
const size_t gen__nprovinces =
    sizeof(gen__provinces) / sizeof(gen__provinces[0]);

/* Provinces that host the consortium: populous, with prefecture cities. */
static const int home_provinces[] = { 3, 10, 11, 12, 14, 15, 16, 17, 18, 19,
                                      22, 24, 25, 27 };

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
    "马", "朱", "胡", "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋",
    "唐", "许", "韩", "邓", "冯", "曹", "彭", "曾", "肖", "田", "董", "潘",
    "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁",
    "任", "卢", "姚", "沈", "钟", "姜", "崔", "谭", "陆", "范", "汪", "廖",
    "石", "金", "韦", "贾", "夏", "付", "方", "邹", "熊", "白", "孟", "秦",
    "邱", "侯", "江", "尹", "薛", "闫", "段", "雷", "龙", "黎", "史", "陶",
    "贺", "毛", "郝", "顾", "龚", "邵", "万", "覃", "武", "钱", "戴", "严",
    "欧阳", "上官", "司马",
};
/* Frequency weights: the first surnames are far more common. */
static const uint16_t surname_w[] = {
    72, 72, 70, 54, 46, 32, 24, 20, 20, 18, 14, 14, 12, 12, 11, 11, 10, 10,
    9, 9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 5, 5, 5, 5,
    4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 1, 1, 1,
};

static const char *const given_m[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平",
    "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆",
    "旭", "宁", "龙", "林", "洋", "阳", "晨", "博", "文", "亮", "成", "建",
    "国", "峰", "志", "海", "东", "兵", "德", "永", "庆", "春", "生", "福",
    "荣", "顺", "振", "忠", "立", "新", "学", "光", "金", "长", "昊", "轩",
    "子", "睿", "泽", "然", "铭", "嘉", "豪", "天", "航",
};
static const char *const given_f[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "燕",
    "红", "梅", "琳", "萍", "雪", "倩", "婷", "慧", "莉", "洁", "颖", "琴",
    "云", "兰", "凤", "珍", "佳", "欣", "怡", "悦", "晶", "蓉", "薇", "丹",
    "璐", "瑶", "娇", "琪", "桂", "春", "月", "华", "淑", "翠", "玉", "美",
    "雨", "涵", "诗", "梓", "思", "可", "萱", "紫", "晓",
};
static const char *const place_a[] = {
    "云", "临", "安", "泽", "清", "宁", "丰", "兴", "永", "长", "平", "和",
    "新", "青", "桐", "柳", "枫", "松", "梅", "鹤", "凤", "金", "玉", "石",
    "白", "江", "湖", "溪", "宜", "嘉", "瑞", "泰", "华", "崇", "德", "靖",
    "鸣", "望", "南", "北", "东", "西", "高", "双", "三", "杨", "桃", "竹",
};
static const char *const place_b[] = {
    "州", "川", "阳", "平", "宁", "源", "溪", "河", "山", "城", "江", "桥",
    "陵", "原", "安", "水", "丘", "湾", "塘", "林", "坪", "口", "洲", "岭",
    "湖", "乡", "桂", "丰", "兴", "和",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static size_t
put(char *out, size_t at, const char *z)
{
    size_t n = strlen(z);

    memcpy(out + at, z, n);
    return at + n;
}

static size_t
gen_surname(struct cb_rng *r, char *out)
{
    size_t i = cb_rng_pick_w(r, surname_w, NELEM(surname_w));

    return put(out, 0, surnames[i < NELEM(surnames) ? i : 0]);
}

static size_t
gen_given_name(struct cb_rng *r, int sex, char *out)
{
    const char *const *pool = sex == 1 ? given_m : given_f;
    size_t n = sex == 1 ? NELEM(given_m) : NELEM(given_f);
    size_t len = put(out, 0, pool[cb_rng_below(r, (uint32_t)n)]);

    if (cb_rng_chance(r, 0.72))  /* most names have two given characters */
        len = put(out, len, pool[cb_rng_below(r, (uint32_t)n)]);
    return len;
}

size_t
gen__person_name(struct cb_rng *r, int sex, char *out)
{
    size_t n = gen_surname(r, out);

    return n + gen_given_name(r, sex, out + n);
}

size_t
gen__place_word(struct cb_rng *r, char *out)
{
    size_t n = put(out, 0, place_a[cb_rng_below(r, NELEM(place_a))]);

    return put(out, n, place_b[cb_rng_below(r, NELEM(place_b))]);
}

/* GB 11714 organisation code: 8 digits, '-', check character. */
static char
org_check(const char *d8)
{
    static const int w[8] = { 3, 7, 9, 10, 5, 8, 4, 2 };
    int i, s = 0, c;

    for (i = 0; i < 8; i++)
        s += (d8[i] - '0') * w[i];
    c = 11 - s % 11;
    return c == 10 ? 'X' : c == 11 ? '0' : (char)('0' + c);
}

void
gen__zzjgdm(struct cb_rng *r, char out[11])
{
    int i;

    for (i = 0; i < 8; i++)
        out[i] = (char)('0' + (i == 0 ? 4 + cb_rng_below(r, 5)
                                      : cb_rng_below(r, 10)));
    out[8] = '-';
    out[9] = org_check(out);
    out[10] = '\0';
}

/* GB 32100 unified social credit code of a public institution (12...). */
void
gen__uscc(struct cb_rng *r, const char *region6, char out[19])
{
    static const char cs[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    static const int w[17] = { 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13,
                               8, 24, 10, 30, 28 };
    char org[11];
    int i, s = 0, c;

    gen__zzjgdm(r, org);
    out[0] = '1';
    out[1] = '2';
    memcpy(out + 2, region6, 6);
    memcpy(out + 8, org, 8);
    out[16] = org[9];
    for (i = 0; i < 17; i++) {
        const char *p = strchr(cs, out[i]);
        s += (int)(p ? p - cs : 0) * w[i];
    }
    c = 31 - s % 31;
    out[17] = cs[c == 31 ? 0 : c];
    out[18] = '\0';
}

/* ISO 7064 MOD 11-2 check character of an 18-character resident ID. */
char
gen__id_check(const char *first17)
{
    static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5,
                               8, 4, 2 };
    static const char map[] = "10X98765432";
    int i, s = 0;

    for (i = 0; i < 17; i++)
        s += (first17[i] - '0') * w[i];
    return map[s % 11];
}

/* ---- departments ---- */

struct dept_tpl {
    const char *code, *name;
    uint8_t role;
    uint8_t wards;  /* wards at the hub */
};

static const struct dept_tpl hub_depts[] = {
    { "0301", "呼吸内科", R_RESP, 2 },     { "0302", "消化内科", R_GI, 2 },
    { "0303", "神经内科", R_NEURO, 2 },    { "0304", "心血管内科", R_CARDIO, 3 },
    { "0305", "血液内科", R_HEMAT, 1 },    { "0306", "肾内科", R_NEPHRO, 1 },
    { "0307", "内分泌科", R_ENDO, 1 },     { "0310", "老年病科", R_GERI, 1 },
    { "0401", "普通外科", R_GSURG, 3 },    { "0402", "神经外科", R_NSURG, 2 },
    { "0403", "骨科", R_ORTHO, 2 },        { "0404", "泌尿外科", R_URO, 1 },
    { "0405", "胸外科", R_THOR, 1 },       { "0406", "心脏大血管外科", R_CSURG, 1 },
    { "0501", "妇科", R_GYN, 1 },          { "0502", "产科", R_OBST, 2 },
    { "07", "儿科", R_PAED, 2 },           { "0701", "新生儿科", R_NEO, 1 },
    { "10", "眼科", R_EYE, 1 },            { "11", "耳鼻咽喉科", R_ENT, 1 },
    { "19", "肿瘤科", R_ONCO, 2 },         { "28", "重症医学科", R_ICU, 1 },
    { "21", "康复医学科", R_REHAB, 1 },    { "50", "中医科", R_TCM, 1 },
};
static const struct dept_tpl district_depts[] = {
    { "0301", "呼吸内科", R_RESP, 1 },     { "0302", "消化内科", R_GI, 1 },
    { "0303", "神经内科", R_NEURO, 1 },    { "0304", "心血管内科", R_CARDIO, 1 },
    { "0307", "内分泌科", R_ENDO, 1 },     { "0401", "普通外科", R_GSURG, 1 },
    { "0402", "神经外科", R_NSURG, 1 },    { "0403", "骨科", R_ORTHO, 1 },
    { "0404", "泌尿外科", R_URO, 1 },      { "0501", "妇科", R_GYN, 1 },
    { "0502", "产科", R_OBST, 1 },         { "07", "儿科", R_PAED, 1 },
    { "10", "眼科", R_EYE, 1 },            { "11", "耳鼻咽喉科", R_ENT, 1 },
    { "19", "肿瘤科", R_ONCO, 1 },         { "28", "重症医学科", R_ICU, 1 },
    { "21", "康复医学科", R_REHAB, 1 },    { "50", "中医科", R_TCM, 1 },
};
static const struct dept_tpl township_depts[] = {
    { "03", "内科", R_GERI, 1 },  { "04", "外科", R_GSURG, 1 },
    { "05", "妇产科", R_OBST, 1 }, { "50", "中医科", R_TCM, 1 },
    { "21", "康复医学科", R_REHAB, 1 },
};
static const struct dept_tpl community_depts[] = {
    { "02", "全科医疗科", R_GERI, 1 }, { "04", "外科", R_GSURG, 1 },
    { "05", "妇产科", R_OBST, 1 },      { "50", "中医科", R_TCM, 1 },
    { "21", "康复医学科", R_REHAB, 1 },
};

static bool
role_surgical(int role)
{
    return role == R_GSURG || role == R_NSURG || role == R_ORTHO ||
           role == R_URO || role == R_THOR || role == R_CSURG ||
           role == R_EYE || role == R_ENT;
}

/* Department serving a role when the hospital has no dedicated one. */
static int
fallback_dept(const struct gen_hosp *h, int role)
{
    int i;
    const char *want;

    if (role == R_GYN || role == R_OBST)
        want = "05";
    else if (role == R_NEO)
        want = "07";
    else if (role_surgical(role))
        want = "04";
    else if (role == R_REHAB)
        want = "21";
    else
        want = "03";
    for (i = 0; i < h->ndept; i++)
        if (strncmp(h->dept[i].code, want, 2) == 0)
            return i;
    if (role == R_NEO)              /* neonates: paediatrics or obstetrics */
        return fallback_dept(h, R_OBST);
    for (i = 0; i < h->ndept; i++)  /* internal / general medicine */
        if (strncmp(h->dept[i].code, "03", 2) == 0 ||
            strncmp(h->dept[i].code, "02", 2) == 0)
            return i;
    return 0;
}


struct cb_str
gen__staff(const struct gen_hosp *h, uint32_t first, uint32_t n,
          struct cb_rng *r)
{
    if (n == 0)
        return h->staff[0];
    /* Earlier staff of a range see more patients (skewed choice). */
    return h->staff[first + (uint32_t)(cb_rng_unif(r) * cb_rng_unif(r) * n)];
}

/* Adds count unique names to the staff table; returns the first index. */
static enum cb_err
add_staff(struct cb_gen *g, struct gen_hosp *h, struct cb_strmap *seen,
          struct cb_rng *r, uint32_t count, uint32_t cap, uint32_t *first)
{
    char name[32];
    uint32_t i;
    enum cb_err rc;

    *first = h->nstaff;
    for (i = 0; i < count && h->nstaff < cap; i++) {
        size_t n;
        int tries = 0;
        do {
            n = gen__person_name(r, cb_rng_chance(r, 0.5) ? 1 : 2, name);
        } while (cb_strmap_has(seen, cb_str_make(name, n)) && ++tries < 50);
        rc = cb_strmap_put(seen, cb_str_make(name, n), h->nstaff);
        if (rc)
            return rc;
        h->staff[h->nstaff] = cb_arena_dup(&g->arena, name, n);
        if (!h->staff[h->nstaff].ptr)
            return CB_ERR_NOMEM;
        h->nstaff++;
    }
    return CB_OK;
}

static enum cb_err
dupf(struct cb_gen *g, struct cb_str *out, const char *a, const char *b,
     const char *c)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "%s%s%s", a, b ? b : "", c ? c : "");

    if (n < 0 || (size_t)n >= sizeof(buf))
        return CB_ERR_TOO_LARGE;
    *out = cb_arena_dup(&g->arena, buf, (size_t)n);
    return out->ptr ? CB_OK : CB_ERR_NOMEM;
}

static enum cb_err
hosp_init(struct cb_gen *g, struct gen_hosp *h, struct cb_rng *r)
{
    static const char *const ward_no[] = { "一", "二", "三" };
    static const uint8_t per_dept[GEN_NLEVELS][4] = {
        /* chief, attending, resident, nurse */
        { 4, 6, 8, 12 }, { 2, 4, 5, 8 }, { 1, 2, 2, 4 },
    };
    const struct dept_tpl *tpl;
    size_t ntpl, i;
    struct cb_strmap seen;
    uint32_t cap;
    enum cb_err rc = CB_OK;
    const uint8_t *pd = per_dept[h->level];
    char word[16];
    size_t wn;

    if (h->level == GEN_HUB) {
        tpl = hub_depts;
        ntpl = NELEM(hub_depts);
    } else if (h->level == GEN_DISTRICT) {
        tpl = district_depts;
        ntpl = NELEM(district_depts);
    } else if (g->org.place[h->district].county) {
        tpl = township_depts;
        ntpl = NELEM(township_depts);
    } else {
        tpl = community_depts;
        ntpl = NELEM(community_depts);
    }
    cap = (uint32_t)(ntpl * (1u + pd[0] + pd[1] + pd[2] + pd[3] + 2) + 64);
    h->staff = cb_arena_alloc(&g->arena, cap * sizeof(*h->staff));
    if (!h->staff)
        return CB_ERR_NOMEM;
    h->nstaff = 0;
    cb_strmap_init(&seen);

    for (i = 0; i < GEN_NROLES; i++)
        h->role_dept[i] = -1;
    h->ndept = 0;
    for (i = 0; i < ntpl && h->ndept < GEN_MAX_DEPTS && !rc; i++) {
        struct gen_dept *d = &h->dept[h->ndept];
        uint32_t first;
        int w, nw = h->level == GEN_HUB ? tpl[i].wards : 1;

        memset(d, 0, sizeof(*d));
        memcpy(d->code, tpl[i].code, strlen(tpl[i].code) + 1);
        d->name = tpl[i].name;
        d->role = tpl[i].role;
        rc = add_staff(g, h, &seen, r, 1, cap, &first);
        if (rc)
            break;
        d->kzr = h->staff[first];
        d->nzrys = (uint32_t)cb_rng_range(r, (pd[0] + 1) / 2, pd[0] + 1);
        d->nzzys = (uint32_t)cb_rng_range(r, (pd[1] + 1) / 2, pd[1] + 1);
        d->nzyys = (uint32_t)cb_rng_range(r, (pd[2] + 1) / 2, pd[2] + 1);
        d->nhs = (uint32_t)cb_rng_range(r, (pd[3] + 1) / 2, pd[3] + 1);
        if ((rc = add_staff(g, h, &seen, r, d->nzrys, cap, &d->zrys)) ||
            (rc = add_staff(g, h, &seen, r, d->nzzys, cap, &d->zzys)) ||
            (rc = add_staff(g, h, &seen, r, d->nzyys, cap, &d->zyys)))
            break;
        /* nurses are mostly women */
        d->hs = h->nstaff;
        for (w = 0; w < (int)d->nhs && !rc; w++) {
            char name[32];
            size_t n = gen__person_name(r, cb_rng_chance(r, 0.95) ? 2 : 1, name);
            if (h->nstaff >= cap)
                break;
            h->staff[h->nstaff] = cb_arena_dup(&g->arena, name, n);
            rc = h->staff[h->nstaff].ptr ? CB_OK : CB_ERR_NOMEM;
            h->nstaff++;
        }
        d->nhs = h->nstaff - d->hs;
        for (w = 0; w < nw && !rc; w++)
            rc = dupf(g, &d->ward[w], d->name, nw > 1 ? ward_no[w] : "",
                      "病区");
        d->nward = nw;
        if (h->role_dept[d->role] < 0)
            h->role_dept[d->role] = h->ndept;
        h->ndept++;
    }
    for (i = 0; i < GEN_NROLES && !rc; i++)
        if (h->role_dept[i] < 0)
            h->role_dept[i] = fallback_dept(h, (int)i);
    if (!rc) {
        static const uint8_t n_an[] = { 14, 6, 2 }, n_bmy[] = { 6, 3, 1 };
        rc = add_staff(g, h, &seen, r, n_an[h->level], cap, &h->anaes);
        h->nanaes = h->nstaff - h->anaes;
        if (!rc)
            rc = add_staff(g, h, &seen, r, n_bmy[h->level], cap, &h->bmy);
        h->nbmy = h->nstaff - h->bmy;
        if (!rc)
            rc = add_staff(g, h, &seen, r, 2, cap, &h->zk);
        h->nzk = h->nstaff - h->zk;
        if (!rc)
            rc = add_staff(g, h, &seen, r, 2, cap, &h->zkhs);
        h->nzkhs = h->nstaff - h->zkhs;
        if (!rc)
            rc = add_staff(g, h, &seen, r, h->level == GEN_HUB ? 10 : 3, cap,
                           &h->jx);
        h->njx = h->nstaff - h->jx;
        if (!rc)
            rc = add_staff(g, h, &seen, r, h->level == GEN_HUB ? 16 : 4, cap,
                           &h->sx);
        h->nsx = h->nstaff - h->sx;
    }
    cb_strmap_release(&seen);
    if (rc)
        return rc;

    /* Name and organisation code. */
    {
        const struct gen_place *pl = &g->org.place[h->district];
        char code[24];

        if (h->level == GEN_HUB) {
            static const char *const hubname[] = { "第一人民医院", "中心医院",
                                                   "人民医院" };
            rc = dupf(g, &h->name, g->org.city.ptr,
                      hubname[cb_rng_below(r, NELEM(hubname))], NULL);
        } else if (h->level == GEN_DISTRICT) {
            rc = dupf(g, &h->name, g->org.city.ptr, pl->name.ptr, "人民医院");
        } else {
            wn = gen__place_word(r, word);
            word[wn] = '\0';
            if (pl->county)
                rc = dupf(g, &h->name, pl->name.ptr, word, "镇卫生院");
            else
                rc = dupf(g, &h->name, pl->name.ptr, word,
                          "街道社区卫生服务中心");
        }
        if (rc)
            return rc;
        if (h->level == GEN_HUB || cb_rng_chance(r, 0.5)) {
            gen__uscc(r, pl->region, code);
            h->zzjgdm = cb_arena_dup(&g->arena, code, 18);
        } else {
            gen__zzjgdm(r, code);
            h->zzjgdm = cb_arena_dup(&g->arena, code, 10);
        }
        if (!h->zzjgdm.ptr)
            return CB_ERR_NOMEM;
        snprintf(code, sizeof(code), "basy%02d", h->index + 1);
        h->username = cb_arena_dup(&g->arena, code, strlen(code));
        if (!h->username.ptr)
            return CB_ERR_NOMEM;
    }
    return CB_OK;
}

enum cb_err
gen__org_init(struct cb_gen *g, struct cb_buf *err)
{
    struct gen_org *o = &g->org;
    struct cb_rng r;
    const struct gen_province *pv;
    char word[16], buf[64];
    size_t wn;
    int i, ndistrict, nplace, city2;
    enum cb_err rc = CB_OK;

    cb_rng_seed(&r, cb_rng_mix(g->opts.seed, 0x6f7267));  /* "org" */
    o->prov = home_provinces[cb_rng_below(&r, NELEM(home_provinces))];
    pv = &gen__provinces[o->prov - 1];
    o->prov_name = cb_str_c(pv->name);
    wn = gen__place_word(&r, word);
    word[wn] = '\0';
    if ((rc = dupf(g, &o->city, word, "市", NULL)) ||
        (rc = dupf(g, &o->consortium, o->city.ptr, "医疗联合体", NULL)))
        goto out;
    snprintf(o->area, sizeof(o->area), "0%03u", 310 + cb_rng_below(&r, 600));
    city2 = 1 + (int)cb_rng_below(&r, 14);

    ndistrict = g->opts.hospitals / 2;
    nplace = 2 + ndistrict;
    if (nplace > GEN_MAX_PLACES)
        nplace = GEN_MAX_PLACES;
    o->nplace = nplace;
    for (i = 0; i < nplace; i++) {
        struct gen_place *pl = &o->place[i];
        int j, clash;

        pl->county = i >= 2 && cb_rng_chance(&r, 0.6);
        do {        /* distinct district names */
            wn = gen__place_word(&r, word);
            word[wn] = '\0';
            clash = 0;
            for (j = 0; j < i; j++)
                if (strncmp(o->place[j].name.ptr, word, wn) == 0)
                    clash = 1;
        } while (clash);
        if ((rc = dupf(g, &pl->name, word, pl->county ? "县" : "区", NULL)))
            goto out;
        memcpy(pl->region, pv->gb, 2);
        gen_putn(pl->region, 2, (uint64_t)city2, 2);
        gen_putn(pl->region, 4, (uint64_t)(pl->county ? 21 + i : 2 + i), 2);
        pl->region[6] = '\0';
        snprintf(pl->post, sizeof(pl->post), "%s%02u%02u", pv->post,
                 cb_rng_below(&r, 100), cb_rng_below(&r, 10) * 10);
    }

    g->nhosp = g->opts.hospitals;
    g->hosp = cb_arena_alloc(&g->arena, (size_t)g->nhosp * sizeof(*g->hosp));
    if (!g->hosp) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    memset(g->hosp, 0, (size_t)g->nhosp * sizeof(*g->hosp));
    for (i = 0; i < g->nhosp && !rc; i++) {
        struct gen_hosp *h = &g->hosp[i];
        struct cb_rng hr;

        cb_rng_seed(&hr, cb_rng_mix(g->opts.seed, 0x686f7370ULL + (uint64_t)i));
        h->index = i;
        h->level = i == 0 ? GEN_HUB : i <= ndistrict ? GEN_DISTRICT
                                                      : GEN_COMMUNITY;
        if (h->level == GEN_HUB)
            h->district = 0;
        else if (h->level == GEN_DISTRICT)
            h->district = 1 + (i - 1) % (nplace - 1);
        else
            h->district = (int)cb_rng_below(&hr, (uint32_t)nplace);
        /* medical record numbers: 8 digits at the hub, fewer below */
        if (h->level == GEN_HUB)
            h->bah_base = 10000000u + cb_rng_below(&hr, 4000000);
        else if (h->level == GEN_DISTRICT)
            h->bah_base = 1000000u + cb_rng_below(&hr, 400000);
        else
            h->bah_base = 100000u + cb_rng_below(&hr, 50000);
        rc = hosp_init(g, h, &hr);
    }
    if (!rc) {
        snprintf(buf, sizeof(buf), "%s人民医院", pv->name);
        rc = dupf(g, &g->outside_tertiary, buf, NULL, NULL);
    }
    if (!rc) {
        wn = gen__place_word(&r, word);
        word[wn] = '\0';
        rc = dupf(g, &g->outside_primary, o->place[0].name.ptr, word,
                  "街道社区卫生服务中心");
    }
out:
    if (rc)
        cb_errf(err, "cannot build the consortium: %s", cb_strerror(rc));
    return rc;
}

void
gen__org_free(struct cb_gen *g)
{
    (void)g;  /* everything lives in g->arena */
}
