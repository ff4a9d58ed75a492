/*
 * test_qc.c - the front-page data-quality rules (spec section b).
 *
 * All records are synthetic: invented names, a made-up hospital and ID
 * numbers built only to exercise the checksum rule.
 *
 * Most cases are data: a base record (adult surgical stay, neonate, infant,
 * mother), a list of field changes, the upload standard and the expected
 * outcome. Each case is registered as its own cmocka test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "testutil.h"

#include "carebase/qc.h"
#include "carebase/record.h"
#include "carebase/refdata.h"
#include "qc/qc_int.h"

static struct cb_refdata *g_rd;
static struct cb_qc *g_qc;
static struct cb_fp g_rec;
static struct cb_qc_result g_res;

#define F(k) CB_F_##k
#define DX(n, f) (CB_FP_DX_BASE + ((n) - 1) * CB_DX__FIELDS + CB_DX_##f)
#define PX(n, f) (CB_FP_PX_BASE + ((n) - 1) * CB_PX__FIELDS + CB_PX_##f)

/* ---- base records ---- */

struct kv {
    int         f;
    const char *v;  /* "" = empty; NULL ends a list */
};

static const struct kv adult[] = {
    { F(ZZJGDM), "12345678-9" }, { F(JGMC), "测试医院" },
    { F(BAH), "TEST000001" }, { F(ZYCS), "1" }, { F(JKKH), "-" },
    { F(YLFKFS), "1.1" }, { F(XM), "测试患者" }, { F(XB), "1" },
    { F(CSRQ), "1979-03-15" }, { F(NL), "45" }, { F(GJ), "中国" },
    { F(MZ), "1" }, { F(SFZH), "110101197903150018" }, { F(ZY), "13" },
    { F(HY), "2" }, { F(CSD), "北京市" }, { F(GG), "11" },
    { F(XZZ), "测试路1号" }, { F(DH), "010-00000000" }, { F(YB1), "100000" },
    { F(HKDZ), "测试路1号" }, { F(YB2), "100000" },
    { F(GZDWJDZ), "测试单位" }, { F(DWDH), "010-00000001" },
    { F(YB3), "100000" }, { F(LXRXM), "测试联系人" }, { F(GX), "1" },
    { F(DZ), "测试路1号" }, { F(DH1), "010-00000002" },
    { F(RYTJ), "2" }, { F(RYSJ), "2024-06-12 09:30:00" },
    { F(RYKB), "0401" }, { F(RYBF), "外科一病区" },
    { F(CYSJ), "2024-06-18 10:00:00" }, { F(CYKB), "0401" },
    { F(CYBF), "外科一病区" }, { F(SJZYTS), "6" }, { F(LYFS), "1" },
    { F(SFZZYJH), "1" },
    { F(MZZD_JBBM), "K80.100" }, { F(MZZD), "胆囊结石伴有其他胆囊炎" },
    { F(JBDM), "K80.100" }, { F(ZYZD), "胆囊结石伴有其他胆囊炎" },
    { F(RYBQ), "1" },
    { DX(1, CODE), "I10.x00" }, { DX(1, NAME), "特发性(原发性)高血压" },
    { DX(1, POA), "1" },
    { DX(2, CODE), "E11.900" }, { DX(2, NAME), "2型糖尿病" },
    { DX(2, POA), "1" },
    { F(YWGM), "1" }, { F(XX), "1" }, { F(RH), "2" },
    { F(KZR), "医师甲" }, { F(ZRYS), "医师乙" }, { F(ZZYS), "医师丙" },
    { F(ZYYS), "医师丁" }, { F(ZRHS), "护士甲" }, { F(BMY), "编码员甲" },
    { PX(1, CODE), "51.2300" }, { PX(1, NAME), "腹腔镜下胆囊切除术" },
    { PX(1, DATE), "2024-06-13 10:00:00" }, { PX(1, LEVEL), "3" },
    { PX(1, SZ), "术者甲" }, { PX(1, YZ), "助手乙" }, { PX(1, EZ), "助手丙" },
    { PX(1, QKDJ), "1" }, { PX(1, QKYHLB), "1" }, { PX(1, MZFS), "01" },
    { PX(1, MZYS), "麻醉甲" },
    { PX(2, CODE), "88.0100" }, { PX(2, NAME), "腹部计算机轴向断层照相术" },
    { PX(2, DATE), "2024-06-12 15:00:00" },
    { F(ZFY), "20000.00" }, { F(ZFJE), "2000.00" }, { F(YLFUF), "300.00" },
    { F(HLF), "200.00" }, { F(SYSZDF), "1500.00" }, { F(YXXZDF), "800.00" },
    { F(SSZLF), "5000.00" }, { F(MAF), "1200.00" }, { F(SSF), "3500.00" },
    { F(XYF), "4000.00" }, { F(KJYWF), "500.00" },
    { F(YCXYYCLF), "6000.00" }, { F(HCYYCLF), "200.00" },
    { F(QTF), "2000.00" },
    { 0, NULL }
};

/* Neonate: 10 days old at admission. */
static const struct kv neonate[] = {
    { F(CSRQ), "2024-06-02" }, { F(NL), "0" }, { F(BZYZS_NL), "10" },
    { F(SFZH), "110101240602001" }, { F(XSERYTZ), "3200" },
    { F(XSECSTZ), "3150" }, { F(HY), "1" }, { F(ZY), "90" },
    { 0, NULL }
};

/* Infant: 103 days old at admission. */
static const struct kv infant[] = {
    { F(CSRQ), "2024-03-01" }, { F(NL), "0" }, { F(BZYZS_NL), "103" },
    { F(SFZH), "110101240301001" }, { F(HY), "1" }, { F(ZY), "90" },
    { 0, NULL }
};

/* Mother after a single live birth. */
static const struct kv mother[] = {
    { F(XB), "2" }, { F(CSRQ), "1994-01-10" }, { F(NL), "30" },
    { F(SFZH), "110101940110002" },
    { F(JBDM), "O80.000" }, { F(ZYZD), "头位顺产" },
    { F(MZZD_JBBM), "O80.000" }, { F(MZZD), "头位顺产" },
    { DX(3, CODE), "Z37.000" }, { DX(3, NAME), "单一活产" },
    { DX(3, POA), "1" }, { F(XSECSTZ), "3200" },
    { 0, NULL }
};

/* Head injury with external cause and coma items. */
static const struct kv head[] = {
    { F(JBDM), "S06.000" }, { F(ZYZD), "脑震荡" },
    { F(MZZD_JBBM), "S06.000" }, { F(MZZD), "脑震荡" },
    { F(H23), "W19.x00" }, { F(WBYY), "跌倒" },
    { F(RYQ_T), "0" }, { F(RYQ_XS), "0" }, { F(RYQ_F), "0" },
    { F(RYH_T), "0" }, { F(RYH_XS), "0" }, { F(RYH_F), "0" },
    { 0, NULL }
};

/* Malignant neoplasm with pathology. */
static const struct kv neoplasm[] = {
    { F(JBDM), "C34.100" }, { F(ZYZD), "上叶，支气管或肺的恶性肿瘤" },
    { F(JBMM), "M81400/3" }, { F(BLZD), "腺癌" }, { F(BLH), "BL0001" },
    { 0, NULL }
};

enum base { ADULT, NEONATE, INFANT, MOTHER, HEAD, NEOPLASM };

static void
apply(const struct kv *l)
{
    for (; l->v; l++)
        g_rec.v[l->f] = cb_str_c(l->v);
}

static void
build(enum base b, const struct kv *changes)
{
    cb_fp_clear(&g_rec);
    apply(adult);
    switch (b) {
    case ADULT:    break;
    case NEONATE:  apply(neonate); break;
    case INFANT:   apply(infant); break;
    case MOTHER:   apply(mother); break;
    case HEAD:     apply(head); break;
    case NEOPLASM: apply(neoplasm); break;
    }
    if (changes)
        apply(changes);
    cb_fp_parse(&g_rec);
}

/* ---- assertions ---- */

static void
dump(const struct cb_qc_result *res)
{
    char k[32];
    int i;

    for (i = 0; i < res->n; i++)
        print_message("  issue %s %s field %s: %s\n",
                      cb_qc_rule_id(g_qc, res->issue[i].rule),
                      cb_qc_sev_name(res->issue[i].sev),
                      res->issue[i].field >= 0
                          ? cb_fp_key(res->issue[i].field, k, sizeof(k)) : "-",
                      res->issue[i].detail);
}

static const struct cb_qc_issue *
find_issue(const struct cb_qc_result *res, const char *rule, int field)
{
    int i;

    for (i = 0; i < res->n; i++)
        if (strcmp(cb_qc_rule_id(g_qc, res->issue[i].rule), rule) == 0 &&
            res->issue[i].field == field)
            return &res->issue[i];
    return NULL;
}

enum mode {
    PASS,    /* no issue at all */
    ONLY,    /* exactly one issue: rule on field */
    HAS,     /* among others: rule on field */
};

struct tcase {
    const char *name;
    enum base   base;
    enum cb_std std;
    struct kv   set[24];
    enum mode   mode;
    const char *rule;
    int         field;
};

static void
expect(enum mode mode, const char *rule, int field)
{
    const struct cb_qc_issue *is;

    if (mode == PASS) {
        if (g_res.n)
            dump(&g_res);
        assert_int_equal(g_res.n, 0);
        assert_int_equal(g_res.nerrors, 0);
        return;
    }
    is = find_issue(&g_res, rule, field);
    if (!is || (mode == ONLY && g_res.n != 1)) {
        print_message("  expected %s on field %d\n", rule, field);
        dump(&g_res);
    }
    assert_non_null(is);
    if (mode == ONLY)
        assert_int_equal(g_res.n, 1);
    /* The reported severity is the configured one. */
    assert_int_equal(is->sev, cb_qc_rule_sev(g_qc, is->rule));
    assert_true(cb_str_eq(is->value, g_rec.v[field]));
    assert_true(is->detail[0] != '\0');
}

static void
run_case(void **state)
{
    const struct tcase *t = *state;

    build(t->base, t->set);
    cb_qc_check(g_qc, &g_rec, t->std, &g_res);
    expect(t->mode, t->rule, t->field);
}

#define W CB_STD_WESTERN
#define T CB_STD_TCM
#define N CB_STD_N041

#define SAME_DAY                                                          \
    { F(RYSJ), "2024-06-12 08:00:00" }, { F(CYSJ), "2024-06-12 18:00:00" }, \
    { F(SJZYTS), "1" }, { PX(1, DATE), "2024-06-12 10:00:00" },           \
    { PX(2, DATE), "2024-06-12 09:00:00" }

static const struct tcase cases[] = {
    /* base records */
    { "base_adult_western_passes", ADULT, W, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_adult_tcm_passes", ADULT, T, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_adult_n041_passes", ADULT, N, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_neonate_passes", NEONATE, W, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_infant_passes", INFANT, W, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_mother_passes", MOTHER, W, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_head_injury_passes", HEAD, W, { { 0, NULL } }, PASS, NULL, 0 },
    { "base_neoplasm_passes", NEOPLASM, W, { { 0, NULL } }, PASS, NULL, 0 },

    /* QC-REQ-01 */
    { "req01_empty_fails", ADULT, W, { { F(JGMC), "" }, { 0, NULL } },
      ONLY, "QC-REQ-01", F(JGMC) },
    { "req01_dash_is_empty", ADULT, W, { { F(BAH), "-" }, { 0, NULL } },
      ONLY, "QC-REQ-01", F(BAH) },
    { "req01_spaces_are_empty", ADULT, W, { { F(ZZJGDM), "   " }, { 0, NULL } },
      ONLY, "QC-REQ-01", F(ZZJGDM) },
    { "req01_principal_poa_empty", ADULT, W, { { F(RYBQ), "" }, { 0, NULL } },
      ONLY, "QC-REQ-01", F(RYBQ) },
    { "req01_optional_empty_passes", ADULT, W,
      { { F(JXYS), "" }, { F(ZKYS), "-" }, { 0, NULL } }, PASS, NULL, 0 },
    { "req01_rstd_items_empty_pass", ADULT, W,
      { { F(ZKKB), "" }, { F(RYQ_T), "-" }, { 0, NULL } }, PASS, NULL, 0 },

    /* QC-REQ-02 */
    { "req02_procedure_name_fails", ADULT, W, { { PX(1, NAME), "" }, { 0, NULL } },
      ONLY, "QC-REQ-02", PX(1, NAME) },
    { "req02_procedure_slot_without_code", ADULT, W,
      { { PX(3, DATE), "2024-06-13 11:00:00" }, { 0, NULL } },
      ONLY, "QC-REQ-02", PX(3, CODE) },
    { "req02_dx_slot_without_code", ADULT, W,
      { { DX(3, NAME), "测试诊断" }, { 0, NULL } },
      ONLY, "QC-REQ-02", DX(3, CODE) },
    { "req02_external_cause_name_fails", HEAD, W, { { F(WBYY), "" }, { 0, NULL } },
      ONLY, "QC-REQ-02", F(WBYY) },
    { "req02_pathology_name_fails", NEOPLASM, W, { { F(BLZD), "-" }, { 0, NULL } },
      ONLY, "QC-REQ-02", F(BLZD) },

    /* QC-FMT-01 */
    { "fmt01_bad_integer", ADULT, W, { { F(ZYCS), "1a" }, { 0, NULL } },
      ONLY, "QC-FMT-01", F(ZYCS) },
    { "fmt01_bad_date", ADULT, W, { { F(CSRQ), "1979-02-30" }, { 0, NULL } },
      ONLY, "QC-FMT-01", F(CSRQ) },
    { "fmt01_bad_datetime", ADULT, W,
      { { PX(1, DATE), "2024-06-13 25:00" }, { 0, NULL } },
      ONLY, "QC-FMT-01", PX(1, DATE) },
    { "fmt01_money_three_decimals", ADULT, W,
      { { F(YLFUF), "300.001" }, { 0, NULL } }, ONLY, "QC-FMT-01", F(YLFUF) },
    { "fmt01_negative_money", ADULT, W, { { F(ZFJE), "-1.00" }, { 0, NULL } },
      ONLY, "QC-FMT-01", F(ZFJE) },
    { "fmt01_text_too_long", ADULT, W,
      { { F(JGMC), "0123456789012345678901234567890123456789"
                   "01234567890123456789012345678901234567890" }, { 0, NULL } },
      ONLY, "QC-FMT-01", F(JGMC) },
    { "fmt01_length_counts_characters", ADULT, W,
      { { F(XM), "测试测试测试测试测试测试测试测试测试测试"
                 "测试测试测试测试测试测试测试测试测试测试" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "fmt01_cjk_too_long", ADULT, W,
      { { F(XM), "测试测试测试测试测试测试测试测试测试测试"
                 "测试测试测试测试测试测试测试测试测试测试测" }, { 0, NULL } },
      ONLY, "QC-FMT-01", F(XM) },

    /* QC-FMT-02 */
    { "fmt02_sex_fails", ADULT, W, { { F(XB), "3" }, { 0, NULL } },
      ONLY, "QC-FMT-02", F(XB) },
    { "fmt02_payment_fails", ADULT, W, { { F(YLFKFS), "1.3" }, { 0, NULL } },
      ONLY, "QC-FMT-02", F(YLFKFS) },
    { "fmt02_old_payment_digit_passes", ADULT, W,
      { { F(YLFKFS), "1" }, { 0, NULL } }, PASS, NULL, 0 },
    { "fmt02_padded_province_passes", ADULT, W,
      { { F(GG), "01" }, { 0, NULL } }, PASS, NULL, 0 },
    { "fmt02_unpadded_province_passes", ADULT, W,
      { { F(GG), "1" }, { 0, NULL } }, PASS, NULL, 0 },
    { "fmt02_province_fails", ADULT, W, { { F(GG), "35" }, { 0, NULL } },
      ONLY, "QC-FMT-02", F(GG) },
    { "fmt02_readmission_plan_fails", ADULT, W,
      { { F(SFZZYJH), "3" }, { 0, NULL } }, ONLY, "QC-FMT-02", F(SFZZYJH) },
    { "fmt02_anaesthesia_non_surgical_fails", ADULT, W,
      { { PX(2, MZFS), "77" }, { 0, NULL } }, ONLY, "QC-FMT-02", PX(2, MZFS) },
    { "fmt02_level_non_surgical_fails", ADULT, W,
      { { PX(2, LEVEL), "7" }, { 0, NULL } }, HAS, "QC-FMT-02", PX(2, LEVEL) },
    { "fmt02_autopsy_value_fails", ADULT, W,
      { { F(SWHZSJ), "3" }, { 0, NULL } }, HAS, "QC-FMT-02", F(SWHZSJ) },

    /* QC-FMT-03 */
    { "fmt03_short_postcode", ADULT, W, { { F(YB2), "10000" }, { 0, NULL } },
      ONLY, "QC-FMT-03", F(YB2) },
    { "fmt03_letter_in_postcode", ADULT, W, { { F(YB3), "10000A" }, { 0, NULL } },
      ONLY, "QC-FMT-03", F(YB3) },
    { "fmt03_long_postcode", ADULT, W, { { F(YB1), "1000000" }, { 0, NULL } },
      ONLY, "QC-FMT-03", F(YB1) },

    /* QC-FMT-04 */
    { "fmt04_check_character_fails", ADULT, W,
      { { F(SFZH), "110101197903150019" }, { 0, NULL } },
      ONLY, "QC-FMT-04", F(SFZH) },
    { "fmt04_length_fails", ADULT, W,
      { { F(SFZH), "11010119790315001" }, { 0, NULL } },
      ONLY, "QC-FMT-04", F(SFZH) },
    { "fmt04_birth_date_fails", ADULT, W,
      { { F(SFZH), "110101197903160013" }, { 0, NULL } },
      ONLY, "QC-FMT-04", F(SFZH) },
    { "fmt04_lowercase_x_passes", ADULT, W,
      { { F(SFZH), "11010119790315107x" }, { 0, NULL } }, PASS, NULL, 0 },
    { "fmt04_15_digits_passes", ADULT, W,
      { { F(SFZH), "110101790315001" }, { 0, NULL } }, PASS, NULL, 0 },
    { "fmt04_dash_warns", ADULT, W, { { F(SFZH), "-" }, { 0, NULL } },
      ONLY, "QC-FMT-04", F(SFZH) },

    /* QC-ID-01 */
    { "id01_zero_fails", ADULT, W, { { F(ZYCS), "0" }, { 0, NULL } },
      ONLY, "QC-ID-01", F(ZYCS) },
    { "id01_positive_passes", ADULT, W, { { F(ZYCS), "3" }, { 0, NULL } },
      PASS, NULL, 0 },

    /* QC-DATE-01 */
    { "date01_birth_after_admission", ADULT, W,
      { { F(CSRQ), "2024-06-13" }, { F(SFZH), "110101240613001" }, { 0, NULL } },
      ONLY, "QC-DATE-01", F(CSRQ) },
    { "date01_discharge_before_admission", ADULT, W,
      { { F(CYSJ), "2024-06-11 10:00:00" }, { 0, NULL } },
      ONLY, "QC-DATE-01", F(CYSJ) },
    { "date01_date_only_discharge_same_day_passes", ADULT, W,
      { { F(CYSJ), "2024-06-12" }, { F(SJZYTS), "1" },
        { PX(1, DATE), "2024-06-12" }, { PX(2, DATE), "2024-06-12" },
        { 0, NULL } }, PASS, NULL, 0 },

    /* QC-DATE-02 */
    { "date02_wrong_los_fails", ADULT, W, { { F(SJZYTS), "7" }, { 0, NULL } },
      ONLY, "QC-DATE-02", F(SJZYTS) },
    { "date02_same_day_is_one_day", ADULT, W, { SAME_DAY, { 0, NULL } },
      PASS, NULL, 0 },
    { "date02_same_day_zero_fails", ADULT, W,
      { SAME_DAY, { F(SJZYTS), "0" }, { 0, NULL } },
      ONLY, "QC-DATE-02", F(SJZYTS) },
    { "date02_calendar_days_not_hours", ADULT, W,
      { { F(RYSJ), "2024-06-12 23:00:00" }, { F(CYSJ), "2024-06-13 01:00:00" },
        { F(SJZYTS), "1" }, { PX(1, DATE), "2024-06-13 00:10:00" },
        { PX(2, DATE), "2024-06-12 23:30:00" }, { 0, NULL } }, PASS, NULL, 0 },

    /* QC-DATE-03 */
    { "date03_before_admission", ADULT, W,
      { { PX(1, DATE), "2024-06-11 10:00:00" }, { 0, NULL } },
      ONLY, "QC-DATE-03", PX(1, DATE) },
    { "date03_after_discharge", ADULT, W,
      { { PX(2, DATE), "2024-06-18 11:00:00" }, { 0, NULL } },
      ONLY, "QC-DATE-03", PX(2, DATE) },
    { "date03_admission_day_earlier_hour_passes", ADULT, W,
      { { PX(2, DATE), "2024-06-12 08:00:00" }, { 0, NULL } }, PASS, NULL, 0 },

    /* QC-DATE-04 */
    { "date04_qc_before_discharge", ADULT, W,
      { { F(ZKRQ), "2024-06-17" }, { 0, NULL } }, ONLY, "QC-DATE-04", F(ZKRQ) },
    { "date04_qc_on_discharge_day_passes", ADULT, W,
      { { F(ZKRQ), "2024-06-18" }, { 0, NULL } }, PASS, NULL, 0 },

    /* QC-DEM-01 */
    { "dem01_wrong_age", ADULT, W, { { F(NL), "46" }, { 0, NULL } },
      ONLY, "QC-DEM-01", F(NL) },
    { "dem01_birthday_not_reached_fails", ADULT, W,
      { { F(CSRQ), "1979-06-13" }, { F(SFZH), "110101790613001" }, { 0, NULL } },
      ONLY, "QC-DEM-01", F(NL) },
    { "dem01_birthday_not_reached_passes", ADULT, W,
      { { F(CSRQ), "1979-06-13" }, { F(SFZH), "110101790613001" },
        { F(NL), "44" }, { 0, NULL } }, PASS, NULL, 0 },
    { "dem01_birthday_on_admission_day_passes", ADULT, W,
      { { F(CSRQ), "1979-06-12" }, { F(SFZH), "110101790612001" },
        { 0, NULL } }, PASS, NULL, 0 },

    /* QC-DEM-02 */
    { "dem02_days_missing", INFANT, W, { { F(BZYZS_NL), "" }, { 0, NULL } },
      ONLY, "QC-DEM-02", F(BZYZS_NL) },
    { "dem02_days_dash_is_missing", INFANT, W,
      { { F(BZYZS_NL), "-" }, { 0, NULL } }, ONLY, "QC-DEM-02", F(BZYZS_NL) },
    { "dem02_days_mismatch", INFANT, W, { { F(BZYZS_NL), "100" }, { 0, NULL } },
      ONLY, "QC-DEM-02", F(BZYZS_NL) },
    { "dem02_days_out_of_range", INFANT, W,
      { { F(BZYZS_NL), "365" }, { 0, NULL } }, ONLY, "QC-DEM-02", F(BZYZS_NL) },
    { "dem02b_days_filled_for_adult", ADULT, W,
      { { F(BZYZS_NL), "10" }, { 0, NULL } }, ONLY, "QC-DEM-02b", F(BZYZS_NL) },

    /* QC-DEM-03 */
    { "dem03_over_120", ADULT, W,
      { { F(CSRQ), "1903-01-01" }, { F(NL), "121" },
        { F(SFZH), "110101030101001" }, { 0, NULL } },
      ONLY, "QC-DEM-03", F(NL) },
    { "dem03_120_passes", ADULT, W,
      { { F(CSRQ), "1904-01-01" }, { F(NL), "120" },
        { F(SFZH), "110101040101001" }, { 0, NULL } }, PASS, NULL, 0 },

    /* QC-NB-01..07 */
    { "nb01_neonate_without_admission_weight", NEONATE, W,
      { { F(XSERYTZ), "" }, { 0, NULL } }, ONLY, "QC-NB-01", F(XSERYTZ) },
    { "nb02_adult_with_admission_weight", ADULT, W,
      { { F(XSERYTZ), "3000" }, { 0, NULL } }, ONLY, "QC-NB-02", F(XSERYTZ) },
    { "nb02_29_days_fails", NEONATE, W,
      { { F(CSRQ), "2024-05-14" }, { F(BZYZS_NL), "29" }, { 0, NULL } },
      ONLY, "QC-NB-02", F(XSERYTZ) },
    { "nb02_28_days_passes", NEONATE, W,
      { { F(CSRQ), "2024-05-15" }, { F(BZYZS_NL), "28" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "nb03_live_birth_without_weight", MOTHER, W,
      { { F(XSECSTZ), "" }, { 0, NULL } }, ONLY, "QC-NB-03", F(XSECSTZ) },
    { "nb03_twins_without_weight", MOTHER, W,
      { { DX(3, CODE), "Z37.200" }, { DX(3, NAME), "双胎，均为活产" },
        { F(XSECSTZ), "" }, { 0, NULL } }, ONLY, "QC-NB-03", F(XSECSTZ) },
    { "nb03_stillbirth_needs_no_weight", MOTHER, W,
      { { DX(3, CODE), "Z37.100" }, { DX(3, NAME), "单一死产" },
        { F(XSECSTZ), "" }, { 0, NULL } }, PASS, NULL, 0 },
    { "nb04_weight_too_low", MOTHER, W, { { F(XSECSTZ), "50" }, { 0, NULL } },
      ONLY, "QC-NB-04", F(XSECSTZ) },
    { "nb04_weight_too_high", NEONATE, W,
      { { F(XSERYTZ), "10000" }, { 0, NULL } }, ONLY, "QC-NB-04", F(XSERYTZ) },
    { "nb04_lower_bound_passes", MOTHER, W,
      { { F(XSECSTZ), "100" }, { 0, NULL } }, PASS, NULL, 0 },
    { "nb05_not_multiple_of_10", MOTHER, W,
      { { F(XSECSTZ), "3205" }, { 0, NULL } }, ONLY, "QC-NB-05", F(XSECSTZ) },
    { "nb06_neonate_without_birth_weight", NEONATE, W,
      { { F(XSECSTZ), "" }, { 0, NULL } }, ONLY, "QC-NB-06", F(XSECSTZ) },
    { "nb07_twins_one_weight", MOTHER, W,
      { { DX(3, CODE), "Z37.200" }, { DX(3, NAME), "双胎，均为活产" },
        { 0, NULL } }, ONLY, "QC-NB-07", F(XSECSTZ) },
    { "nb07_twins_two_weights_pass", MOTHER, W,
      { { DX(3, CODE), "Z37.200" }, { DX(3, NAME), "双胎，均为活产" },
        { F(XSECSTZ2), "2900" }, { 0, NULL } }, PASS, NULL, 0 },
    { "nb07_triplets_two_weights", MOTHER, W,
      { { DX(3, CODE), "Z37.500" }, { DX(3, NAME), "多胎产，均为活产，其他的" },
        { F(XSECSTZ2), "2900" }, { 0, NULL } }, ONLY, "QC-NB-07", F(XSECSTZ) },

    /* QC-DIS-01..04 */
    { "dis01_n041_transfer_needs_institution", ADULT, N,
      { { F(LYFS), "2" }, { 0, NULL } }, ONLY, "QC-DIS-01", F(YZZY_YLJG) },
    { "dis01_n041_transfer_passes", ADULT, N,
      { { F(LYFS), "2" }, { F(YZZY_YLJG), "测试医院二" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "dis01_n041_community_needs_wsy", ADULT, N,
      { { F(LYFS), "3" }, { F(YZZY_YLJG), "测试卫生院" }, { 0, NULL } },
      ONLY, "QC-DIS-01", F(WSY_YLJG) },
    { "dis01_western_one_field_b35_passes", ADULT, W,
      { { F(LYFS), "3" }, { F(YZZY_YLJG), "测试卫生院" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "dis01_western_fails", ADULT, W, { { F(LYFS), "3" }, { 0, NULL } },
      ONLY, "QC-DIS-01", F(WSY_YLJG) },
    { "dis02_tcm_is_error", ADULT, T, { { F(LYFS), "5" }, { 0, NULL } },
      ONLY, "QC-DIS-02", F(SWHZSJ) },
    { "dis02b_western_is_warning", ADULT, W, { { F(LYFS), "5" }, { 0, NULL } },
      ONLY, "QC-DIS-02b", F(SWHZSJ) },
    { "dis02b_n041_is_warning", ADULT, N,
      { { F(LYFS), "5" }, { F(SWHZSJ), "3" }, { 0, NULL } },
      ONLY, "QC-DIS-02b", F(SWHZSJ) },
    { "dis02_autopsy_given_passes", ADULT, T,
      { { F(LYFS), "5" }, { F(SWHZSJ), "2" }, { 0, NULL } }, PASS, NULL, 0 },
    { "dis03_autopsy_without_death", ADULT, W,
      { { F(SWHZSJ), "1" }, { 0, NULL } }, ONLY, "QC-DIS-03", F(SWHZSJ) },
    { "dis04_plan_without_purpose", ADULT, W,
      { { F(SFZZYJH), "2" }, { 0, NULL } }, ONLY, "QC-DIS-04", F(MD) },
    { "dis04_plan_with_purpose_passes", ADULT, W,
      { { F(SFZZYJH), "2" }, { F(MD), "复查" }, { 0, NULL } }, PASS, NULL, 0 },

    /* QC-COMA-01..02 */
    { "coma01_hours_24", ADULT, W, { { F(RYQ_XS), "24" }, { 0, NULL } },
      ONLY, "QC-COMA-01", F(RYQ_XS) },
    { "coma01_minutes_60", ADULT, W, { { F(RYH_F), "60" }, { 0, NULL } },
      ONLY, "QC-COMA-01", F(RYH_F) },
    { "coma01_negative_days", ADULT, W, { { F(RYQ_T), "-1" }, { 0, NULL } },
      ONLY, "QC-COMA-01", F(RYQ_T) },
    { "coma01_bounds_pass", ADULT, W,
      { { F(RYQ_XS), "23" }, { F(RYH_F), "59" }, { F(RYH_T), "12" },
        { 0, NULL } }, PASS, NULL, 0 },
    { "coma02_head_injury_without_coma", HEAD, W,
      { { F(RYQ_T), "" }, { F(RYQ_XS), "" }, { F(RYQ_F), "" }, { F(RYH_T), "" },
        { F(RYH_XS), "" }, { F(RYH_F), "-" }, { 0, NULL } },
      HAS, "QC-COMA-02", F(RYH_F) },
    { "coma02_one_item_missing", HEAD, W, { { F(RYH_XS), "" }, { 0, NULL } },
      ONLY, "QC-COMA-02", F(RYH_XS) },

    /* QC-DEPT-01 */
    { "dept01_admitting_unknown", ADULT, W, { { F(RYKB), "9999" }, { 0, NULL } },
      ONLY, "QC-DEPT-01", F(RYKB) },
    { "dept01_transfer_element_unknown", ADULT, W,
      { { F(ZKKB), "0401,9999" }, { 0, NULL } }, ONLY, "QC-DEPT-01", F(ZKKB) },
    { "dept01_transfers_pass", ADULT, W,
      { { F(ZKKB), "0304, 0401" }, { 0, NULL } }, PASS, NULL, 0 },
    { "dept01_tcm_code_on_western_fails", ADULT, W,
      { { F(CYKB), "50.01.01" }, { 0, NULL } }, ONLY, "QC-DEPT-01", F(CYKB) },
    { "dept01_tcm_union_passes", ADULT, T,
      { { F(CYKB), "50.01.01" }, { F(ZKKB), "50.01.01,0401" }, { 0, NULL } },
      PASS, NULL, 0 },

    /* QC-DX-01 */
    { "dx01_other_unknown", ADULT, W, { { DX(1, CODE), "I10.x99" }, { 0, NULL } },
      ONLY, "QC-DX-01", DX(1, CODE) },
    { "dx01_outpatient_unknown", ADULT, W,
      { { F(MZZD_JBBM), "K80.199" }, { 0, NULL } },
      ONLY, "QC-DX-01", F(MZZD_JBBM) },
    { "dx01_external_cause_unknown", HEAD, W,
      { { F(H23), "W19.x99" }, { 0, NULL } }, HAS, "QC-DX-01", F(H23) },
    { "dx01b_name_differs", ADULT, W, { { F(ZYZD), "胆结石" }, { 0, NULL } },
      ONLY, "QC-DX-01b", F(ZYZD) },
    { "dx01_lowercase_letter_passes", ADULT, W,
      { { DX(1, CODE), "i10.x00" }, { 0, NULL } }, PASS, NULL, 0 },
    { "dx01_dagger_principal_passes", ADULT, W,
      { { F(JBDM), "A01.002†" }, { F(ZYZD), "伤寒性脑膜炎" }, { 0, NULL } },
      PASS, NULL, 0 },

    /* QC-DX-02 */
    { "dx02_other_poa_missing", ADULT, W, { { DX(1, POA), "" }, { 0, NULL } },
      ONLY, "QC-DX-02", DX(1, POA) },
    { "dx02_other_poa_invalid", ADULT, W, { { DX(2, POA), "5" }, { 0, NULL } },
      ONLY, "QC-DX-02", DX(2, POA) },
    { "dx02_principal_poa_invalid", ADULT, W, { { F(RYBQ), "0" }, { 0, NULL } },
      ONLY, "QC-DX-02", F(RYBQ) },

    /* QC-DX-03 */
    { "dx03_repeats_principal", ADULT, W,
      { { DX(2, CODE), "K80.100" }, { DX(2, NAME), "胆囊结石伴有其他胆囊炎" },
        { 0, NULL } }, ONLY, "QC-DX-03", DX(2, CODE) },
    { "dx03_repeats_other", ADULT, W,
      { { DX(2, CODE), "I10.x00" }, { DX(2, NAME), "特发性(原发性)高血压" },
        { 0, NULL } }, ONLY, "QC-DX-03", DX(2, CODE) },

    /* QC-DX-04 */
    { "dx04_asterisk_marked", ADULT, W,
      { { F(JBDM), "G01*" }, { F(ZYZD), "分类于他处的细菌性疾病引起的脑膜炎" },
        { 0, NULL } }, ONLY, "QC-DX-04", F(JBDM) },
    { "dx04_asterisk_code_unmarked", ADULT, W,
      { { F(JBDM), "G01" }, { F(ZYZD), "分类于他处的细菌性疾病引起的脑膜炎" },
        { 0, NULL } }, ONLY, "QC-DX-04", F(JBDM) },
    { "dx04_external_cause", ADULT, W,
      { { F(JBDM), "W19.x00" }, { F(ZYZD), "跌倒" }, { 0, NULL } },
      ONLY, "QC-DX-04", F(JBDM) },
    { "dx04_morphology", ADULT, W,
      { { F(JBDM), "M81400/3" }, { F(ZYZD), "腺癌" }, { 0, NULL } },
      ONLY, "QC-DX-04", F(JBDM) },
    { "dx04_outcome_of_delivery", MOTHER, W,
      { { F(JBDM), "Z37.000" }, { F(ZYZD), "单一活产" }, { DX(3, CODE), "" },
        { DX(3, NAME), "" }, { DX(3, POA), "" }, { 0, NULL } },
      ONLY, "QC-DX-04", F(JBDM) },
    { "dx04b_off_by_default", ADULT, W,
      { { F(JBDM), "I25.200" }, { F(ZYZD), "陈旧性心肌梗死" }, { 0, NULL } },
      PASS, NULL, 0 },

    /* QC-DX-05 */
    { "dx05_injury_without_external_cause", HEAD, W,
      { { F(H23), "" }, { 0, NULL } }, ONLY, "QC-DX-05", F(H23) },
    { "dx05_external_cause_out_of_range", HEAD, W,
      { { F(H23), "K80.100" }, { F(WBYY), "胆囊结石伴有其他胆囊炎" },
        { 0, NULL } }, ONLY, "QC-DX-05", F(H23) },

    /* QC-DX-06 */
    { "dx06_cancer_without_morphology", NEOPLASM, W,
      { { F(JBMM), "" }, { 0, NULL } }, ONLY, "QC-DX-06", F(JBMM) },
    { "dx06_d_range_without_morphology", ADULT, W,
      { { F(JBDM), "D48.000" }, { F(ZYZD), "骨和关节软骨动态未定或动态未知的肿瘤" },
        { F(BLZD), "测试病理" }, { 0, NULL } }, ONLY, "QC-DX-06", F(JBMM) },
    { "dx06_morphology_without_number", NEOPLASM, W,
      { { F(BLH), "" }, { 0, NULL } }, ONLY, "QC-DX-06", F(BLH) },
    { "dx06b_morphology_format", NEOPLASM, W,
      { { F(JBMM), "8140/3" }, { 0, NULL } }, ONLY, "QC-DX-06b", F(JBMM) },

    /* QC-DX-07 */
    { "dx07_female_code_on_male", ADULT, W,
      { { DX(2, CODE), "N70.000" }, { DX(2, NAME), "急性输卵管炎和卵巢炎" },
        { 0, NULL } }, ONLY, "QC-DX-07", DX(2, CODE) },
    { "dx07_male_dotted_range_on_female", MOTHER, W,
      { { DX(2, CODE), "D07.500" }, { DX(2, NAME), "前列腺原位癌" },
        { 0, NULL } }, ONLY, "QC-DX-07", DX(2, CODE) },
    { "dx07_outside_dotted_range_passes", ADULT, W,
      { { DX(2, CODE), "D07.300" },
        { DX(2, NAME), "女性生殖器官其他和未特指的原位癌" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "dx07_unspecified_sex_skipped", ADULT, W,
      { { F(XB), "9" }, { DX(2, CODE), "N70.000" },
        { DX(2, NAME), "急性输卵管炎和卵巢炎" }, { 0, NULL } }, PASS, NULL, 0 },
    { "dx07_principal_on_male", MOTHER, W, { { F(XB), "1" }, { 0, NULL } },
      HAS, "QC-DX-07", F(JBDM) },

    /* QC-DX-08 */
    { "dx08_perinatal_code_on_adult", ADULT, W,
      { { DX(2, CODE), "P07.300" }, { DX(2, NAME), "早产婴儿，其他的" },
        { 0, NULL } }, ONLY, "QC-DX-08", DX(2, CODE) },
    { "dx08_obstetric_over_60", MOTHER, W,
      { { F(CSRQ), "1960-01-10" }, { F(NL), "64" }, { F(SFZH), "110101600110002" },
        { 0, NULL } }, HAS, "QC-DX-08", F(JBDM) },
    { "dx08_liveborn_older_than_28_days", INFANT, W,
      { { DX(2, CODE), "Z38.000" }, { DX(2, NAME), "单胎，在医院内出生" },
        { 0, NULL } }, ONLY, "QC-DX-08", DX(2, CODE) },
    { "dx08_liveborn_neonate_passes", NEONATE, W,
      { { DX(2, CODE), "Z38.000" }, { DX(2, NAME), "单胎，在医院内出生" },
        { 0, NULL } }, PASS, NULL, 0 },

    /* QC-DX-09 */
    { "dx09_symptom_with_operation", ADULT, W,
      { { F(JBDM), "R10.000" }, { F(ZYZD), "急腹症" }, { 0, NULL } },
      ONLY, "QC-DX-09", F(JBDM) },
    { "dx09_symptom_without_operation_passes", ADULT, W,
      { { F(JBDM), "R10.000" }, { F(ZYZD), "急腹症" },
        { PX(1, CODE), "88.0100" }, { PX(1, NAME), "腹部计算机轴向断层照相术" },
        { PX(1, LEVEL), "" }, { PX(1, SZ), "" }, { PX(1, YZ), "" },
        { PX(1, EZ), "" }, { PX(1, QKDJ), "" }, { PX(1, QKYHLB), "" },
        { PX(1, MZFS), "" }, { PX(1, MZYS), "" }, { PX(2, CODE), "" },
        { PX(2, NAME), "" }, { PX(2, DATE), "" }, { 0, NULL } },
      PASS, NULL, 0 },

    /* QC-PX-01..07 */
    { "px01_unknown_code", ADULT, W, { { PX(1, CODE), "51.9999" }, { 0, NULL } },
      ONLY, "QC-PX-01", PX(1, CODE) },
    { "px02_other_without_principal", ADULT, W,
      { { PX(1, CODE), "" }, { PX(1, NAME), "" }, { PX(1, DATE), "" },
        { PX(1, LEVEL), "" }, { PX(1, SZ), "" }, { PX(1, YZ), "" },
        { PX(1, EZ), "" }, { PX(1, QKDJ), "" }, { PX(1, QKYHLB), "" },
        { PX(1, MZFS), "" }, { PX(1, MZYS), "" }, { 0, NULL } },
      ONLY, "QC-PX-02", PX(1, CODE) },
    { "px03_principal_without_date", ADULT, W,
      { { PX(1, DATE), "" }, { 0, NULL } }, ONLY, "QC-PX-03", PX(1, DATE) },
    { "px03b_other_without_date", ADULT, W,
      { { PX(2, DATE), "-" }, { 0, NULL } }, ONLY, "QC-PX-03b", PX(2, DATE) },
    { "px04_level_missing", ADULT, W, { { PX(1, LEVEL), "" }, { 0, NULL } },
      ONLY, "QC-PX-04", PX(1, LEVEL) },
    { "px04_level_invalid", ADULT, W, { { PX(1, LEVEL), "5" }, { 0, NULL } },
      ONLY, "QC-PX-04", PX(1, LEVEL) },
    { "px04_surgeon_missing", ADULT, W, { { PX(1, SZ), "" }, { 0, NULL } },
      ONLY, "QC-PX-04", PX(1, SZ) },
    { "px04b_assistant_missing", ADULT, W, { { PX(1, EZ), "" }, { 0, NULL } },
      ONLY, "QC-PX-04b", PX(1, EZ) },
    { "px04_intervention_passes", ADULT, W,
      { { PX(3, CODE), "00.6600" },
        { PX(3, NAME), "经皮冠状动脉腔内血管成形术[PTCA]" },
        { PX(3, DATE), "2024-06-14 09:00:00" }, { PX(3, LEVEL), "3" },
        { PX(3, SZ), "术者丁" }, { PX(3, YZ), "助手戊" }, { PX(3, EZ), "助手己" },
        { 0, NULL } }, PASS, NULL, 0 },
    { "px04_intervention_without_surgeon", ADULT, W,
      { { PX(3, CODE), "00.6600" },
        { PX(3, NAME), "经皮冠状动脉腔内血管成形术[PTCA]" },
        { PX(3, DATE), "2024-06-14 09:00:00" }, { PX(3, LEVEL), "3" },
        { PX(3, YZ), "助手戊" }, { PX(3, EZ), "助手己" }, { 0, NULL } },
      ONLY, "QC-PX-04", PX(3, SZ) },
    { "px05_incision_missing", ADULT, W, { { PX(1, QKDJ), "" }, { 0, NULL } },
      ONLY, "QC-PX-05", PX(1, QKDJ) },
    { "px05_incision_invalid", ADULT, W, { { PX(1, QKDJ), "4" }, { 0, NULL } },
      ONLY, "QC-PX-05", PX(1, QKDJ) },
    { "px05_healing_invalid", ADULT, W, { { PX(1, QKYHLB), "9" }, { 0, NULL } },
      ONLY, "QC-PX-05", PX(1, QKYHLB) },
    { "px05_anaesthesia_missing", ADULT, W, { { PX(1, MZFS), "" }, { 0, NULL } },
      ONLY, "QC-PX-05", PX(1, MZFS) },
    { "px05_anaesthesia_unpadded_fails", ADULT, W,
      { { PX(1, MZFS), "1" }, { 0, NULL } }, ONLY, "QC-PX-05", PX(1, MZFS) },
    { "px05_anaesthesia_subcode_passes", ADULT, W,
      { { PX(1, MZFS), "020101" }, { 0, NULL } }, PASS, NULL, 0 },
    { "px05b_anaesthetist_missing", ADULT, W,
      { { PX(1, MZYS), "" }, { 0, NULL } }, ONLY, "QC-PX-05b", PX(1, MZYS) },
    { "px05b_local_anaesthesia_exempt", ADULT, W,
      { { PX(1, MZFS), "0302" }, { PX(1, MZYS), "" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "px06_class0_with_healing", ADULT, W, { { PX(1, QKDJ), "0" }, { 0, NULL } },
      ONLY, "QC-PX-06", PX(1, QKYHLB) },
    { "px06_class2_without_healing", ADULT, W,
      { { PX(1, QKDJ), "2" }, { PX(1, QKYHLB), "" }, { 0, NULL } },
      ONLY, "QC-PX-06", PX(1, QKYHLB) },
    { "px06_class0_without_healing_passes", ADULT, W,
      { { PX(1, QKDJ), "0" }, { PX(1, QKYHLB), "" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "px07_level_on_diagnostic", ADULT, W, { { PX(2, LEVEL), "2" }, { 0, NULL } },
      ONLY, "QC-PX-07", PX(2, LEVEL) },

    /* QC-BLD-01, QC-ALG-01, QC-DOC-01 */
    { "bld01_abo_unknown", ADULT, W,
      { { F(XF), "400.00" }, { F(ZFY), "20400.00" }, { F(XX), "5" }, { 0, NULL } },
      ONLY, "QC-BLD-01", F(XX) },
    { "bld01_rh_not_tested", ADULT, W,
      { { F(XF), "400.00" }, { F(ZFY), "20400.00" }, { F(RH), "4" }, { 0, NULL } },
      ONLY, "QC-BLD-01", F(RH) },
    { "bld01_known_group_passes", ADULT, W,
      { { F(XF), "400.00" }, { F(ZFY), "20400.00" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "bld01_no_blood_unknown_group_passes", ADULT, W,
      { { F(XX), "6" }, { F(RH), "4" }, { 0, NULL } }, PASS, NULL, 0 },
    { "alg01_allergy_without_drug", ADULT, W, { { F(YWGM), "2" }, { 0, NULL } },
      ONLY, "QC-ALG-01", F(GMYW) },
    { "alg01_allergy_with_drug_passes", ADULT, W,
      { { F(YWGM), "2" }, { F(GMYW), "青霉素" }, { 0, NULL } }, PASS, NULL, 0 },
    { "doc01_attending_missing", ADULT, W, { { F(ZZYS), "" }, { 0, NULL } },
      ONLY, "QC-DOC-01", F(ZZYS) },
    { "doc01_coder_dash", ADULT, W, { { F(BMY), "-" }, { 0, NULL } },
      ONLY, "QC-DOC-01", F(BMY) },

    /* QC-COST-01..07 */
    { "cost01_zero_total", ADULT, W, { { F(ZFY), "0" }, { 0, NULL } },
      HAS, "QC-COST-01", F(ZFY) },
    { "cost02_items_exceed_total", ADULT, W,
      { { F(ZFY), "19999.98" }, { 0, NULL } }, ONLY, "QC-COST-02", F(ZFY) },
    { "cost02_one_fen_tolerance_passes", ADULT, W,
      { { F(ZFY), "19999.99" }, { 0, NULL } }, PASS, NULL, 0 },
    { "cost02_sub_items_not_added", ADULT, W,
      { { F(KJYWF), "3000.00" }, { F(WLZLF), "" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "cost03_total_exceeds_items", ADULT, W,
      { { F(ZFY), "20000.02" }, { 0, NULL } }, ONLY, "QC-COST-03", F(ZFY) },
    { "cost03_one_fen_tolerance_passes", ADULT, W,
      { { F(ZFY), "20000.01" }, { 0, NULL } }, PASS, NULL, 0 },
    { "cost04_physio_without_parent", ADULT, W,
      { { F(WLZLF), "10.00" }, { 0, NULL } }, ONLY, "QC-COST-04", F(FSSZLXMF) },
    { "cost04_anaesthesia_plus_surgery", ADULT, W,
      { { F(MAF), "1600.00" }, { 0, NULL } }, ONLY, "QC-COST-04", F(SSZLF) },
    { "cost04_equal_parts_pass", ADULT, W,
      { { F(MAF), "1500.00" }, { 0, NULL } }, PASS, NULL, 0 },
    { "cost04_antibiotics", ADULT, W, { { F(KJYWF), "4000.01" }, { 0, NULL } },
      ONLY, "QC-COST-04", F(XYF) },
    { "cost04_tcm_preparations", ADULT, T, { { F(ZYZJF), "10.00" }, { 0, NULL } },
      ONLY, "QC-COST-04", F(ZCYF) },
    { "cost04_tcm_treatment_items", ADULT, T,
      { { F(ZYWZ), "10.00" }, { F(ZCYJF), "5.00" }, { F(ZYZL), "12.00" },
        { 0, NULL } }, ONLY, "QC-COST-04", F(ZYZL) },
    { "cost05_out_of_pocket_exceeds", ADULT, W,
      { { F(ZFJE), "20000.01" }, { 0, NULL } }, ONLY, "QC-COST-05", F(ZFJE) },
    { "cost05_equal_passes", ADULT, W, { { F(ZFJE), "20000.00" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "cost06_no_service_fee", ADULT, W,
      { { F(YLFUF), "" }, { F(ZFY), "19700.00" }, { 0, NULL } },
      ONLY, "QC-COST-06", F(YLFUF) },
    { "cost06_no_nursing_fee", ADULT, W,
      { { F(HLF), "0" }, { F(ZFY), "19800.00" }, { 0, NULL } },
      ONLY, "QC-COST-06", F(HLF) },
    { "cost06_no_material", ADULT, W,
      { { F(HCYYCLF), "" }, { F(YCXYYCLF), "" }, { F(ZFY), "13800.00" },
        { 0, NULL } }, ONLY, "QC-COST-06", F(HCYYCLF) },
    { "cost06_other_fee_is_total", ADULT, W,
      { { F(ZFY), "2000.00" }, { F(ZFJE), "0" }, { F(SYSZDF), "" },
        { F(YXXZDF), "" }, { F(SSZLF), "" }, { F(XYF), "" },
        { F(YCXYYCLF), "" }, { F(HCYYCLF), "" }, { F(YLFUF), "" },
        { F(HLF), "" }, { 0, NULL } }, HAS, "QC-COST-06", F(QTF) },
    { "cost06_same_day_without_fees_passes", ADULT, W,
      { SAME_DAY, { F(YLFUF), "" }, { F(ZFY), "19700.00" }, { 0, NULL } },
      PASS, NULL, 0 },
    { "cost07_anaesthesia_without_fee", ADULT, W,
      { { F(MAF), "" }, { 0, NULL } }, ONLY, "QC-COST-07", F(MAF) },
    { "cost07_operation_without_fee", ADULT, W,
      { { F(SSF), "0.00" }, { 0, NULL } }, ONLY, "QC-COST-07", F(SSF) },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* ---- standalone tests ---- */

static void
test_rules_table(void **state)
{
    int i, j, n = cb_qc_rule_count(g_qc);
    (void)state;

    assert_int_equal(n, QC__NRULES);
    for (i = 0; i < n; i++) {
        const char *id = cb_qc_rule_id(g_qc, i);
        assert_true(strncmp(id, "QC-", 3) == 0);
        assert_true(cb_qc_rule_name_zh(g_qc, i)[0] != '\0');
        assert_true(cb_qc_rule_name_en(g_qc, i)[0] != '\0');
        assert_int_equal(cb_qc_rule_find(g_qc, id), i);
        for (j = 0; j < i; j++)
            assert_string_not_equal(id, cb_qc_rule_id(g_qc, j));
    }
    assert_int_equal(cb_qc_rule_find(g_qc, "QC-NOPE-01"), -1);
    assert_int_equal(cb_qc_rule_find(g_qc, NULL), -1);
    assert_string_equal(cb_qc_rule_id(g_qc, -1), "");
    assert_string_equal(cb_qc_rule_id(g_qc, n), "");

    /* Severities as the spec sets them by default. */
    assert_int_equal(cb_qc_rule_sev(g_qc, cb_qc_rule_find(g_qc, "QC-DX-04b")),
                     CB_SEV_OFF);
    assert_int_equal(cb_qc_rule_sev(g_qc, cb_qc_rule_find(g_qc, "QC-DIS-02")),
                     CB_SEV_E);
    assert_int_equal(cb_qc_rule_sev(g_qc, cb_qc_rule_find(g_qc, "QC-DIS-02b")),
                     CB_SEV_W);
    assert_int_equal(cb_qc_rule_sev(g_qc, cb_qc_rule_find(g_qc, "QC-PX-03")),
                     CB_SEV_E);
    assert_int_equal(cb_qc_rule_sev(g_qc, cb_qc_rule_find(g_qc, "QC-PX-03b")),
                     CB_SEV_W);
    assert_int_equal(cb_qc_rule_sev(g_qc, cb_qc_rule_find(g_qc, "QC-ROW-01")),
                     CB_SEV_E);
    assert_string_equal(cb_qc_sev_name(CB_SEV_E), "E");
    assert_string_equal(cb_qc_sev_name(CB_SEV_W), "W");
    assert_string_equal(cb_qc_sev_name(CB_SEV_OFF), "off");
}

/* Every id the spec names (b.1-b.8) is in the table. */
static void
test_rules_cover_spec(void **state)
{
    static const char *const ids[] = {
        "QC-REQ-01", "QC-REQ-02", "QC-FMT-01", "QC-FMT-02", "QC-FMT-03",
        "QC-FMT-04", "QC-ID-01", "QC-ID-02", "QC-ID-03", "QC-DATE-01",
        "QC-DATE-02", "QC-DATE-03", "QC-DATE-04", "QC-DEM-01", "QC-DEM-02",
        "QC-DEM-03", "QC-NB-01", "QC-NB-02", "QC-NB-03", "QC-NB-04",
        "QC-NB-05", "QC-NB-06", "QC-NB-07", "QC-DIS-01", "QC-DIS-02",
        "QC-DIS-03", "QC-DIS-04", "QC-COMA-01", "QC-COMA-02", "QC-DEPT-01",
        "QC-DX-01", "QC-DX-02", "QC-DX-03", "QC-DX-04", "QC-DX-04b",
        "QC-DX-05", "QC-DX-06", "QC-DX-07", "QC-DX-08", "QC-DX-09",
        "QC-PX-01", "QC-PX-02", "QC-PX-03", "QC-PX-04", "QC-PX-05",
        "QC-PX-06", "QC-PX-07", "QC-BLD-01", "QC-ALG-01", "QC-DOC-01",
        "QC-COST-01", "QC-COST-02", "QC-COST-03", "QC-COST-04", "QC-COST-05",
        "QC-COST-06", "QC-COST-07", "QC-ROW-01",
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        if (cb_qc_rule_find(g_qc, ids[i]) < 0)
            print_message("missing %s\n", ids[i]);
        assert_true(cb_qc_rule_find(g_qc, ids[i]) >= 0);
    }
}

static void
test_add_issue(void **state)
{
    const char *detail = "second occurrence of the record key in this file";
    (void)state;

    build(ADULT, NULL);
    cb_qc_check(g_qc, &g_rec, CB_STD_WESTERN, &g_res);
    assert_int_equal(g_res.n, 0);
    cb_qc_add_issue(g_qc, &g_res, "QC-ID-02", F(BAH), g_rec.v[F(BAH)], detail);
    cb_qc_add_issue(g_qc, &g_res, "QC-ID-03", F(RYSJ), g_rec.v[F(RYSJ)],
                    "stay overlaps another stay");
    cb_qc_add_issue(g_qc, &g_res, "QC-ROW-01", -1, CB_STR_NULL, NULL);
    cb_qc_add_issue(g_qc, &g_res, "QC-NOPE-01", -1, CB_STR_NULL, "ignored");
    cb_qc_add_issue(g_qc, &g_res, "QC-DX-04b", -1, CB_STR_NULL, "off: ignored");
    assert_int_equal(g_res.n, 3);
    assert_int_equal(g_res.nerrors, 2);
    assert_int_equal(g_res.nwarnings, 1);
    assert_string_equal(cb_qc_rule_id(g_qc, g_res.issue[0].rule), "QC-ID-02");
    assert_int_equal(g_res.issue[0].sev, CB_SEV_E);
    assert_int_equal(g_res.issue[0].field, F(BAH));
    assert_string_equal(g_res.issue[0].detail, detail);
    assert_int_equal(g_res.issue[1].sev, CB_SEV_W);
    assert_int_equal(g_res.issue[2].field, -1);
    assert_string_equal(g_res.issue[2].detail, "");
}

/* The result is reset by every check, and nothing beyond the cap is lost
 * from the counts. */
static void
test_cap_and_reset(void **state)
{
    int n;
    (void)state;

    /* 40 unknown other diagnoses without POA: well over the cap. */
    build(ADULT, NULL);
    for (n = 1; n <= CB_FP_MAX_DX; n++) {
        g_rec.v[DX(n, CODE)] = cb_str_c("Q");
        g_rec.v[DX(n, POA)] = CB_STR_NULL;
    }
    cb_fp_parse(&g_rec);
    cb_qc_check(g_qc, &g_rec, CB_STD_WESTERN, &g_res);
    assert_int_equal(g_res.n, CB_QC_MAX_ISSUES);
    assert_true(g_res.ndropped > 0);
    assert_int_equal(g_res.nerrors + g_res.nwarnings, g_res.n + g_res.ndropped);
    build(ADULT, NULL);
    cb_qc_check(g_qc, &g_rec, CB_STD_WESTERN, &g_res);
    assert_int_equal(g_res.n, 0);
    assert_int_equal(g_res.nerrors, 0);
    assert_int_equal(g_res.nwarnings, 0);
    assert_int_equal(g_res.ndropped, 0);
}

/* Hostile values in every field, and out-of-range slot counts. */
static void
test_garbage_never_crashes(void **state)
{
    static const char *const junk[] = {
        "-", "†", "*", "x", "*†*", "Z37.", "S", "-1", "99999999999999999999",
        "M/", "V01-", "0", "１２", "\xff\xfe", "2024-02-30", "1.1.1", ",",
        "，，", "A0", "D07.", "测试", "9223372036854775807",
        "92233720368547758.07", "-92233720368547758.07",
        "-9223372036854775807", "1e9", "M12345/6",
    };
    size_t j;
    int i;
    (void)state;

    for (j = 0; j < sizeof(junk) / sizeof(junk[0]); j++) {
        cb_fp_clear(&g_rec);
        for (i = 0; i < CB_FP_NFIELDS; i++)
            g_rec.v[i] = cb_str_c(junk[(j + (size_t)i) %
                                       (sizeof(junk) / sizeof(junk[0]))]);
        cb_fp_parse(&g_rec);
        cb_qc_check(g_qc, &g_rec, CB_STD_TCM, &g_res);
        assert_true(g_res.n <= CB_QC_MAX_ISSUES);
        g_rec.ndx = 255;
        g_rec.npx = 255;
        cb_qc_check(g_qc, &g_rec, CB_STD_N041, &g_res);
        assert_true(g_res.n <= CB_QC_MAX_ISSUES);
    }
    cb_qc_check(NULL, &g_rec, CB_STD_WESTERN, &g_res);
    assert_int_equal(g_res.n, 0);
}

/* ---- code ranges (qc_codes.c) ---- */

static bool
in_range(const char *range, const char *code)
{
    struct qc_range rg;
    struct qc_code c;

    assert_true(qc__range_parse(cb_str_c(range), &rg));
    qc__code_norm(cb_str_c(code), &c);
    return qc__range_match(&rg, &c);
}

static void
test_code_ranges(void **state)
{
    static const char *const bad[] = {
        "", "V1", "V01-", "-Y98", "Y98-V01", "D07.-D08", "1AB", "D07.4-D07.2",
        "V01-Y98-Z99", "ABCDEFGHIJKLMNOP",
    };
    struct qc_range rg;
    size_t i;
    (void)state;

    assert_true(in_range("V01-Y98", "W19.x00"));
    assert_true(in_range("V01-Y98", "V01.x00"));
    assert_true(in_range("V01-Y98", "Y98.x00"));
    assert_true(in_range("V01-Y98", "w19.x00"));
    assert_false(in_range("V01-Y98", "Y99.000"));
    assert_false(in_range("V01-Y98", "U99.000"));
    assert_false(in_range("V01-Y98", "V0"));
    assert_true(in_range("D07.4-D07.6", "D07.500"));
    assert_true(in_range("D07.4-D07.6", "D07.600x001"));
    assert_true(in_range("D07.4–D07.6", "D07.400"));  /* en dash */
    assert_false(in_range("D07.4-D07.6", "D07.300"));
    assert_false(in_range("D07.4-D07.6", "D07"));
    assert_true(in_range("R65", "R65.000"));
    assert_false(in_range("R65", "R66.000"));
    assert_true(in_range("I25.2", "I25.200"));
    assert_false(in_range("I25.2", "I25.100"));
    assert_true(in_range("Z37", "Z37.000†"));
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (qc__range_parse(cb_str_c(bad[i]), &rg))
            fail_msg("accepted bad range number %zu", i);
    }
    assert_true(qc__is_morphology(cb_str_c("M81400/3")));
    assert_true(qc__is_morphology(cb_str_c("M8140/3")));
    assert_false(qc__is_morphology(cb_str_c("M814/3")));
    assert_false(qc__is_morphology(cb_str_c("8140/3")));
    assert_false(qc__is_morphology(cb_str_c("M81400/33")));
}

static void
test_codeset(void **state)
{
    struct qc_codeset s;
    struct qc_range rg;
    struct qc_code c;
    (void)state;

    qc__codeset_init(&s);
    assert_true(qc__range_parse(cb_str_c("N40-N51"), &rg));
    assert_int_equal(qc__codeset_add(&s, &rg), CB_OK);
    assert_true(qc__range_parse(cb_str_c("D07.4-D09.2"), &rg));
    assert_int_equal(qc__codeset_add(&s, &rg), CB_OK);
    qc__code_norm(cb_str_c("N45.900"), &c);
    assert_int_equal(qc__codeset_match(&s, &c), 0);
    qc__code_norm(cb_str_c("D08.000"), &c);  /* whole middle category */
    assert_int_equal(qc__codeset_match(&s, &c), 1);
    qc__code_norm(cb_str_c("D07.500"), &c);
    assert_int_equal(qc__codeset_match(&s, &c), 1);
    qc__code_norm(cb_str_c("D09.300"), &c);
    assert_int_equal(qc__codeset_match(&s, &c), -1);
    qc__code_norm(cb_str_c("D07.100"), &c);
    assert_int_equal(qc__codeset_match(&s, &c), -1);
    qc__code_norm(cb_str_c("-"), &c);
    assert_int_equal(qc__codeset_match(&s, &c), -1);
    assert_string_equal(s.e[1].text, "D07.4-D09.2");
    qc__codeset_release(&s);
}

/* ---- loading from a modified data directory ---- */

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *p;
    long n;

    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    return p;
}

static void
put(const char *dir, const char *name, const char *text)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof(path), "%s/qc/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
}

/*
 * Makes <tmp>/<sub>/qc/ with the source files, rules.tsv edited: the line
 * of rule `id` replaced by `line` (NULL deletes it), plus `extra` appended.
 */
static const char *
datadir(const char *sub, const char *id, const char *line, const char *extra,
        const char *list_name, const char *list_text)
{
    static const char *const lists[] = { "invalid-principal.tsv",
                                         "sex-specific.tsv",
                                         "age-specific.tsv" };
    static char dir[512];
    char path[1024], *rules, *out, *p, *q;
    size_t i;

    snprintf(dir, sizeof(dir), "%s/%s", tu_tmpdir(), sub);
    mkdir(dir, 0700);
    snprintf(path, sizeof(path), "%s/qc", dir);
    mkdir(path, 0700);
    for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        char src[1024], *text;
        snprintf(src, sizeof(src), "%s/qc/%s", tu_source("data"), lists[i]);
        text = slurp(src);
        put(dir, lists[i], list_name && strcmp(list_name, lists[i]) == 0
                               ? list_text : text);
        free(text);
    }
    snprintf(path, sizeof(path), "%s/qc/rules.tsv", tu_source("data"));
    rules = slurp(path);
    out = calloc(1, strlen(rules) + (line ? strlen(line) : 0) +
                        (extra ? strlen(extra) : 0) + 4);
    assert_non_null(out);
    for (p = rules; *p; p = q) {
        size_t n;
        q = strchr(p, '\n');
        q = q ? q + 1 : p + strlen(p);
        n = (size_t)(q - p);
        if (id && strncmp(p, id, strlen(id)) == 0 && p[strlen(id)] == '\t') {
            if (line) {
                memcpy(out + strlen(out), line, strlen(line));
                memcpy(out + strlen(out), "\n", 2);
            }
            continue;
        }
        memcpy(out + strlen(out), p, n);
    }
    if (extra)
        memcpy(out + strlen(out), extra, strlen(extra) + 1);
    put(dir, "rules.tsv", out);
    free(out);
    free(rules);
    return dir;
}

static void
expect_load_error(const char *dir, const char *needle)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_qc *qc = NULL;

    assert_int_not_equal(cb_qc_load(&qc, dir, g_rd, &err), CB_OK);
    assert_null(qc);
    if (!strstr(cb_buf_cstr(&err), needle))
        print_message("error text: %s\n", cb_buf_cstr(&err));
    assert_non_null(strstr(cb_buf_cstr(&err), needle));
    cb_buf_release(&err);
}

static void
test_load_errors(void **state)
{
    (void)state;

    expect_load_error(datadir("missing", "QC-DX-09", NULL, NULL, NULL, NULL),
                      "QC-DX-09");
    expect_load_error(datadir("unknown", NULL, NULL,
                              "QC-XX-01\tE\t测试\ttest\tD\n", NULL, NULL),
                      "QC-XX-01");
    expect_load_error(datadir("twice", NULL, NULL,
                              "QC-DX-09\tW\t测试\ttest\tD\n", NULL, NULL),
                      "QC-DX-09");
    expect_load_error(datadir("badsev", "QC-DX-09",
                              "QC-DX-09\tX\t测试\ttest\tD", NULL, NULL, NULL),
                      "QC-DX-09");
    expect_load_error(datadir("noname", "QC-DX-09",
                              "QC-DX-09\tW\t\ttest\tD", NULL, NULL, NULL),
                      "QC-DX-09");
    expect_load_error(datadir("badrange", NULL, NULL, NULL, "sex-specific.tsv",
                              "sex\trange\tnote\nF\tO00-\tbroken\n"),
                      "O00-");
    expect_load_error(datadir("badsex", NULL, NULL, NULL, "sex-specific.tsv",
                              "sex\trange\tnote\nX\tO00-O99\tbroken\n"),
                      "sex");
    expect_load_error(datadir("badlist", NULL, NULL, NULL,
                              "invalid-principal.tsv",
                              "list\tprefix_or_range\tnote\nmain\tR65\t\n"),
                      "core");
    expect_load_error(datadir("badunit", NULL, NULL, NULL, "age-specific.tsv",
                              "range\tunit\tmin\tmax\tnote\nZ38\tweeks\t0\t4\t\n"),
                      "unit");
    expect_load_error("/nonexistent-carebase-dir", "rules.tsv");
}

/* QC-DX-04b is off by default; switched on in rules.tsv it warns. */
static void
test_dx04b_enabled(void **state)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_qc *qc = NULL, *saved = g_qc;
    const char *dir = datadir("dx04b", "QC-DX-04b",
                              "QC-DX-04b\tW\t扩展\textended list\tI", NULL,
                              NULL, NULL);
    static const struct kv old_mi[] = {
        { F(JBDM), "I25.200" }, { F(ZYZD), "陈旧性心肌梗死" }, { 0, NULL }
    };
    (void)state;

    if (cb_qc_load(&qc, dir, g_rd, &err) != CB_OK)
        print_message("%s\n", cb_buf_cstr(&err));
    assert_non_null(qc);
    g_qc = qc;
    build(ADULT, old_mi);
    cb_qc_check(qc, &g_rec, CB_STD_WESTERN, &g_res);
    expect(ONLY, "QC-DX-04b", F(JBDM));
    assert_int_equal(g_res.issue[0].sev, CB_SEV_W);
    assert_int_equal(g_res.nerrors, 0);
    build(ADULT, NULL);
    cb_qc_check(qc, &g_rec, CB_STD_WESTERN, &g_res);
    expect(PASS, NULL, 0);
    g_qc = saved;
    cb_qc_free(qc);
    cb_buf_release(&err);
}

/* A rule switched off is never reported, even by cb_qc_check. */
static void
test_rule_off(void **state)
{
    struct cb_buf err = CB_BUF_INIT;
    struct cb_qc *qc = NULL, *saved = g_qc;
    const char *dir = datadir("off", "QC-DATE-02",
                              "QC-DATE-02\toff\t天数\tlength of stay\tS", NULL,
                              NULL, NULL);
    static const struct kv los[] = { { F(SJZYTS), "9" }, { 0, NULL } };
    (void)state;

    assert_int_equal(cb_qc_load(&qc, dir, g_rd, &err), CB_OK);
    g_qc = qc;
    build(ADULT, los);
    cb_qc_check(qc, &g_rec, CB_STD_WESTERN, &g_res);
    expect(PASS, NULL, 0);
    g_qc = saved;
    cb_qc_free(qc);
    cb_buf_release(&err);
}

/* ---- setup ---- */

static int
setup(void **state)
{
    struct cb_buf err = CB_BUF_INIT;
    (void)state;

    if (cb_refdata_load(&g_rd, tu_shared("data/nhc-2019"), &err) != CB_OK ||
        cb_qc_load(&g_qc, tu_source("data"), g_rd, &err) != CB_OK) {
        print_error("setup: %s\n", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return -1;
    }
    cb_buf_release(&err);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    cb_qc_free(g_qc);
    cb_refdata_free(g_rd);
    return 0;
}

int
main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(test_rules_table),
        cmocka_unit_test(test_rules_cover_spec),
        cmocka_unit_test(test_add_issue),
        cmocka_unit_test(test_cap_and_reset),
        cmocka_unit_test(test_garbage_never_crashes),
        cmocka_unit_test(test_code_ranges),
        cmocka_unit_test(test_codeset),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_dx04b_enabled),
        cmocka_unit_test(test_rule_off),
    };
    enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]) };
    static struct CMUnitTest tests[NFIXED + NCASES];
    size_t i;

    for (i = 0; i < NFIXED; i++)
        tests[i] = fixed[i];
    for (i = 0; i < NCASES; i++) {
        tests[NFIXED + i].name = cases[i].name;
        tests[NFIXED + i].test_func = run_case;
        tests[NFIXED + i].setup_func = NULL;
        tests[NFIXED + i].teardown_func = NULL;
        tests[NFIXED + i].initial_state = (void *)&cases[i];
    }
    return _cmocka_run_group_tests("test_qc", tests, NFIXED + NCASES, setup,
                                   teardown);
}
