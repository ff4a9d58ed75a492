/*
 * sim_msg.c - one simulated ADT event as an HL7 v2 message.
 *
 * Layout (segments end in CR; no value needs escaping: codes, ids and
 * times are ASCII and names have no delimiters):
 *   MSH|^~\&|HIS|<ZZJGDM>|CAREBASE|CB|<ts>||ADT^A01^ADT_A01|<ctl>|P|<ver>|||||CHN|<charset>
 *   EVN|A01|<ts>||||<occurred>
 *   PID|1||<id>^^^<ZZJGDM>^MR||<family>^<given>||<birth>|<M/F>
 *   PV1|1|<class>|<ward>^<room>^<bed>^<ZZJGDM>|<type>||<prior>|...|<visit>(19)|...|<admit>(44)|<discharge>(45)
 *   PV2||||||||<expected admit>(8)|<expected discharge>(9)
 * A17 repeats PID and PV1 for the second patient; A40 has PID and MRG;
 * A20 has NPU|<bed location>|<status>. The text is built in UTF-8 and
 * converted whole to GB 18030 for a hospital that uses it (the delimiters
 * are ASCII in both).
 */
#include <iconv.h>
#include <stdio.h>
#include <string.h>

#include "carebase/date.h"
#include "sim/sim_int.h"

static const char *const kind_names[SIM_NKINDS] = {
    "A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08",
    "A11", "A12", "A13", "A17", "A20", "A40",
};
static const char *const structures[SIM_NKINDS] = {
    "ADT_A01", "ADT_A02", "ADT_A03", "ADT_A01", "ADT_A05", "ADT_A06",
    "ADT_A06", "ADT_A01", "ADT_A09", "ADT_A12", "ADT_A01", "ADT_A17",
    "ADT_A20", "ADT_A39",
};

const char *
sim__kind_name(enum sim_kind k)
{
    return (unsigned)k < SIM_NKINDS ? kind_names[k] : "A??";
}

void
sim__ts(char out[16], int64_t t)
{
    int64_t day = cb_day_of(t), sec = t - day * 86400;
    int y, m, d;

    char buf[48];

    cb_civil_from_days(day, &y, &m, &d);
    snprintf(buf, sizeof(buf), "%04d%02d%02d%02d%02d%02d", y % 10000, m, d,
             (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60));
    memcpy(out, buf, 15);
    out[15] = '\0';
}

void
sim__patient_id(char out[24], uint32_t hosp, uint32_t patient, bool temp)
{
    snprintf(out, 24, "%c%02u%08u", temp ? 'T' : 'P', hosp % 100, patient);
}

void
sim__visit_id(char out[24], uint32_t hosp, uint32_t visit)
{
    snprintf(out, 24, "V%02u%08u", hosp % 100, visit);
}

void
sim__writer_init(struct sim_writer *w, uint64_t seed, int64_t start)
{
    static const char b36[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    uint64_t x = cb_rng_mix(seed, (uint64_t)start);
    int i;

    memset(w, 0, sizeof(*w));
    w->seed = seed;
    /* The control ids of two different streams never collide (the
     * listener would take the second for duplicates); a replay of the
     * same stream gets the same ids, as a resend should. */
    for (i = 0; i < 6; i++, x /= 36)
        w->run[i] = b36[x % 36];
    w->run[6] = '\0';
    cb_buf_init(&w->utf8, (size_t)1 << 20);
}

void
sim__writer_release(struct sim_writer *w)
{
    if (w->cd_gb)
        iconv_close((iconv_t)w->cd_gb);
    w->cd_gb = NULL;
    cb_buf_release(&w->utf8);
}

/* ---------------------------------------------------------- patients */

static const char *const surnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙",
    "马", "朱", "胡", "郭", "何", "林", "罗", "高", "郑", "梁", "谢", "宋",
    "唐", "许", "韩", "邓", "冯", "曹", "彭", "曾", "肖", "田", "董", "潘",
    "袁", "蔡", "蒋", "余", "于", "杜", "叶", "程", "魏", "苏", "吕", "丁",
    "欧阳", "司马",
};
static const char *const given_m[] = {
    "伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平",
    "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩", "凯", "健", "俊", "帆",
    "国", "峰", "志", "海", "东", "德", "永", "庆", "春", "生", "福", "睿",
};
static const char *const given_f[] = {
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "英", "玲", "燕",
    "红", "梅", "琳", "萍", "雪", "倩", "婷", "慧", "莉", "洁", "颖", "琴",
    "云", "兰", "凤", "珍", "佳", "欣", "怡", "悦", "晶", "蓉", "薇", "瑶",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct person {
    char name[64];   /* family^given */
    char birth[12];  /* yyyyMMdd */
    char sex;        /* M F */
};

/* A patient's demographics, the same in every message about them. */
static void
person(const struct sim_writer *w, const struct sim_ev *ev, uint32_t patient,
       bool temp, struct person *p)
{
    struct cb_rng r;
    int64_t day;
    int y, m, d, age;
    size_t n;

    cb_rng_seed(&r, cb_rng_mix(w->seed ^ 0x5eed, ((uint64_t)ev->hosp << 32) | patient));
    p->sex = cb_rng_chance(&r, 0.5) ? 'M' : 'F';
    /* Ages of inpatients: a few children, mostly adults, many old. */
    age = cb_rng_chance(&r, 0.1) ? (int)cb_rng_below(&r, 15)
                               : 18 + (int)cb_rng_below(&r, 50) + (int)cb_rng_below(&r, 30);
    day = cb_day_of(ev->time) - age * 365 - (int64_t)cb_rng_below(&r, 365);
    cb_civil_from_days(day, &y, &m, &d);
    snprintf(p->birth, sizeof(p->birth), "%04d%02d%02d", y, m, d);
    if (temp) {  /* an unidentified patient, registered before the merge */
        snprintf(p->name, sizeof(p->name), "无名氏");
        return;
    }
    n = (size_t)snprintf(p->name, sizeof(p->name), "%s^",
                         surnames[cb_rng_below(&r, NELEM(surnames))]);
    {
        const char *const *pool = p->sex == 'M' ? given_m : given_f;
        uint32_t k = p->sex == 'M' ? NELEM(given_m) : NELEM(given_f);
        const char *a = pool[cb_rng_below(&r, k)];
        const char *b = cb_rng_chance(&r, 0.7) ? pool[cb_rng_below(&r, k)] : "";

        snprintf(p->name + n, sizeof(p->name) - n, "%s%s", a, b);
    }
}

/* ---------------------------------------------------------- segments */

static enum cb_err
add_loc(struct cb_buf *b, const struct sim_hosp *h, struct sim_loc loc)
{
    char room[8], bed[8];
    const struct sim_ward *w;

    if (loc.ward < 0)
        return CB_OK;
    w = &h->ward[loc.ward];
    if (loc.bed < 0)
        return cb_buf_addf(b, "%s^^^%s", w->code, h->zzjgdm);
    sim__bed_labels(w, loc.bed, room, bed);
    return cb_buf_addf(b, "%s^%s^%s^%s", w->code, room, bed, h->zzjgdm);
}

/* Appends n empty fields' separators. */
static enum cb_err
skip(struct cb_buf *b, int n)
{
    enum cb_err rc = CB_OK;

    while (n-- > 0 && !rc)
        rc = cb_buf_addc(b, '|');
    return rc;
}

static enum cb_err
add_ts(struct cb_buf *b, int64_t t)
{
    char ts[16];

    if (!t)
        return CB_OK;
    sim__ts(ts, t);
    return cb_buf_adds(b, ts);
}

static enum cb_err
add_pid(struct cb_buf *b, const struct sim_writer *w, const struct sim_hosp *h,
        const struct sim_ev *ev, uint32_t patient, bool temp, int set,
        unsigned mal)
{
    struct person p;
    char id[24];
    enum cb_err rc;

    person(w, ev, patient, temp, &p);
    sim__patient_id(id, ev->hosp, patient, temp);
    if (mal == CB_SIM_MAL_NO_PID3)
        rc = cb_buf_addf(b, "PID|%d|||", set);
    else if (mal == CB_SIM_MAL_ESCAPE)   /* \XZZ\ is not hexadecimal */
        rc = cb_buf_addf(b, "PID|%d||%s\\XZZ\\^^^%s^MR||", set, id, h->zzjgdm);
    else
        rc = cb_buf_addf(b, "PID|%d||%s^^^%s^MR||", set, id, h->zzjgdm);
    if (!rc)
        rc = cb_buf_addf(b, "%s||%s|%c\r", p.name, p.birth, p.sex);
    return rc;
}

static enum cb_err
add_pv1(struct cb_buf *b, const struct sim_hosp *h, const struct sim_ev *ev,
        uint32_t visit, struct sim_loc loc, bool first)
{
    char vid[24];
    enum cb_err rc;

    sim__visit_id(vid, ev->hosp, visit);
    rc = cb_buf_addf(b, "PV1|1|%c|", ev->pclass ? ev->pclass : 'I');
    if (!rc) rc = add_loc(b, h, loc);                 /* PV1-3 */
    if (!rc) rc = cb_buf_addc(b, '|');
    if (!rc && first && ev->adm_type)                 /* PV1-4 */
        rc = cb_buf_addc(b, ev->adm_type);
    if (!rc) rc = skip(b, 2);                         /* PV1-5, 6 */
    if (!rc && first) rc = add_loc(b, h, ev->prior);  /* PV1-6 */
    if (!rc) rc = skip(b, 13);                        /* to PV1-19 */
    if (!rc) rc = cb_buf_adds(b, vid);
    if (!rc && first && (ev->admit || ev->discharge)) {
        rc = skip(b, 25);                             /* to PV1-44 */
        if (!rc) rc = add_ts(b, ev->admit);
        if (!rc && ev->discharge) {
            rc = cb_buf_addc(b, '|');                 /* PV1-45 */
            if (!rc) rc = add_ts(b, ev->discharge);
        }
    }
    if (!rc) rc = cb_buf_addc(b, '\r');
    if (!rc && first && ev->expected) {
        /* PV2-8 expected admission (A05), PV2-9 expected discharge. */
        rc = cb_buf_adds(b, "PV2||||||||");
        if (!rc && ev->kind == SIM_A05) rc = add_ts(b, ev->expected);
        if (!rc) rc = cb_buf_addc(b, '|');
        if (!rc && ev->kind != SIM_A05) rc = add_ts(b, ev->expected);
        if (!rc) rc = cb_buf_addc(b, '\r');
    }
    return rc;
}

static enum cb_err
build(struct sim_writer *w, const struct sim_hosp *h, const struct sim_ev *ev,
      unsigned mal, struct cb_buf *b)
{
    const char *type = "ADT", *trigger = sim__kind_name(ev->kind);
    const char *structure = structures[ev->kind];
    char ts[16], occ[16];
    enum cb_err rc;

    if (mal == CB_SIM_MAL_TRIGGER)
        trigger = "A99";
    else if (mal == CB_SIM_MAL_TYPE)
        type = "ORU", trigger = "R01", structure = "ORU_R01";
    sim__ts(ts, ev->time);
    sim__ts(occ, ev->occurred ? ev->occurred : ev->time);
    rc = cb_buf_addf(b, "MSH|^~\\&|HIS|%s|CAREBASE|CB|%s||%s^%s^%s|%s%010llu|P|%s|||||CHN|%s\r",
                     h->zzjgdm, ts, type, trigger, structure, w->run,
                     (unsigned long long)w->next_ctl++, h->version,
                     h->gb18030 ? "GB 18030" : "UNICODE UTF-8");
    if (!rc)
        rc = cb_buf_addf(b, "EVN|%s|%s||||%s\r", trigger, ts, occ);
    if (rc)
        return rc;
    switch (ev->kind) {
    case SIM_A20:
        rc = cb_buf_adds(b, "NPU|");
        if (!rc) rc = add_loc(b, h, ev->loc);
        if (!rc) rc = cb_buf_addf(b, "|%c\r", ev->bed_status);
        break;
    case SIM_A40:
        rc = add_pid(b, w, h, ev, ev->patient, ev->temp_id, 1, mal);
        if (!rc) {
            char prior[24];

            sim__patient_id(prior, ev->hosp, ev->patient2, ev->temp2);
            rc = cb_buf_addf(b, "MRG|%s^^^%s^MR\r", prior, h->zzjgdm);
        }
        break;
    case SIM_A17:
        rc = add_pid(b, w, h, ev, ev->patient, ev->temp_id, 1, mal);
        if (!rc) rc = add_pv1(b, h, ev, ev->visit, ev->loc, false);
        if (!rc) rc = add_pid(b, w, h, ev, ev->patient2, ev->temp2, 2, mal);
        if (!rc) rc = add_pv1(b, h, ev, ev->visit2, ev->loc2, false);
        break;
    default:
        rc = add_pid(b, w, h, ev, ev->patient, ev->temp_id, 1, mal);
        if (!rc) rc = add_pv1(b, h, ev, ev->visit, ev->loc, true);
        break;
    }
    if (!rc && mal == CB_SIM_MAL_TYPE)   /* a lab result: not ADT at all */
        rc = cb_buf_adds(b, "OBR|1||L1^LAB|GLU^葡萄糖\rOBX|1|NM|GLU^葡萄糖||5.6|mmol/L\r");
    if (!rc && mal == CB_SIM_MAL_TRUNCATED) {
        /* Cut the last segment two bytes into its id: "...\rPV". */
        size_t end = b->len - 1, i = end;

        while (i > 0 && b->ptr[i - 1] != '\r')
            i--;
        b->len = i + 2;
        b->ptr[b->len] = '\0';
    }
    return rc;
}

static enum cb_err
to_gb18030(struct sim_writer *w, struct cb_str in, struct cb_buf *out,
           struct cb_buf *err)
{
    char *inp = (char *)in.ptr, *outp;
    size_t inleft = in.len, outleft, room = in.len * 2 + 8;
    enum cb_err rc;

    if (!w->cd_gb) {
        iconv_t cd = iconv_open("GB18030", "UTF-8");

        if (cd == (iconv_t)-1) {
            cb_errf(err, "no UTF-8 to GB18030 conversion (iconv)");
            return CB_ERR_USAGE;
        }
        w->cd_gb = cd;
    }
    iconv((iconv_t)w->cd_gb, NULL, NULL, NULL, NULL);
    if ((rc = cb_buf_reserve(out, room)) != CB_OK)
        return rc;
    outp = out->ptr + out->len;
    outleft = room;
    if (iconv((iconv_t)w->cd_gb, &inp, &inleft, &outp, &outleft) == (size_t)-1) {
        cb_errf(err, "a simulated message cannot be written in GB18030");
        return CB_ERR_PROTO;
    }
    out->len += room - outleft;
    out->ptr[out->len] = '\0';
    return CB_OK;
}

enum cb_err
sim__write(struct sim_writer *w, const struct sim_hosp *h,
           const struct sim_ev *ev, unsigned malformed, struct cb_buf *out,
           struct cb_str *ctl, struct cb_buf *err)
{
    const char *p, *e;
    enum cb_err rc;

    cb_buf_reset(&w->utf8);
    cb_buf_reset(out);
    if ((rc = build(w, h, ev, malformed, &w->utf8)) != CB_OK)
        return rc;
    if (h->gb18030)
        rc = to_gb18030(w, cb_buf_str(&w->utf8), out, err);
    else
        rc = cb_buf_add(out, w->utf8.ptr, w->utf8.len);
    if (rc)
        return rc;
    /* MSH-10: after the ninth '|' of the MSH segment. */
    p = out->ptr;
    e = out->ptr + out->len;
    {
        int bars = 0;

        while (p < e && bars < 9)
            if (*p++ == '|')
                bars++;
    }
    ctl->ptr = p;
    while (p < e && *p != '|')
        p++;
    ctl->len = (size_t)(p - ctl->ptr);
    return CB_OK;
}
