/*
 * cmd_indicators.c - `carebase indicators`: the national assessment and
 * DRG evaluation indicators by consortium, hospital, department or doctor
 * and period, with the previous period, the same period last year, and
 * the rank and quartile among hospitals of the same level.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "carebase/alloc.h"
#include "carebase/json.h"
#include "carebase/report.h"
#include "cli_engine.h"
#include "cli_env.h"
#include "cli_xlsx.h"

const char cmd_indicators_usage[] =
    "usage: carebase indicators [--by consortium|hospital|department|doctor]\n"
    "                           [--period all|month|quarter|year] [--in PERIOD]\n"
    "                           [--from DATE] [--to DATE] [--hospital ZZJGDM]\n"
    "                           [--group CODE] [--ids ID,...] [--list LIST]\n"
    "                           [--reference NAME] [--lang zh|en]\n"
    "                           [--format table|csv|json|xlsx] [--output FILE]\n"
    "                           [--threads N]\n"
    "\n"
    "Computes the indicators of the catalogue (data/indicators/catalogue-2019.tsv:\n"
    "国考 front-page indicators, the 二级 list, supporting measures and the DRG\n"
    "evaluation) from the facts of the accepted records, by unit and period of\n"
    "discharge (CYSJ). Each value comes with its numerator and denominator, or\n"
    "'not computable' and the reason (a missing catalogue, an empty\n"
    "denominator), never a silent 0. Each row also gives the value of the\n"
    "previous period and of the same period last year, and, by hospital, the\n"
    "rank and quartile among hospitals of the same level (三级/二级/基层).\n"
    "\n"
    "Options:\n"
    "  --by UNIT        consortium (all hospitals together), hospital (default),\n"
    "                   department (discharging, CYKB) or doctor (attending, ZZYS)\n"
    "  --period P       all, month, quarter or year (default: year)\n"
    "  --in PERIOD      only this period: 2025, 2025Q1 or 2025-03 (sets --period)\n"
    "  --from, --to     discharge dates YYYY-MM-DD, inclusive\n"
    "  --hospital Z     only this hospital (ZZJGDM)\n"
    "  --group CODE     only the hospitals of this consortium or region\n"
    "  --ids LIST       only these indicator ids (comma-separated), e.g. fp.04,drg.cmi\n"
    "  --list L         only one list of the catalogue: 三级, 二级, support, drg\n"
    "  --reference N    the DRG reference (default: the newest; see carebase\n"
    "                   reference); without one, DRG indicators are not computable\n"
    "  --lang L         names in zh or en (table; csv and json carry both)\n"
    "  --format F       table (default), csv, json or xlsx (one sheet for people:\n"
    "                   zh/en headers, numbers as numbers; needs --output)\n"
    "  --output FILE    write to FILE instead of standard output\n"
    "  --threads N      aggregate on N threads (default 2)\n"
    "\n"
    "Non-public catalogues (#5 minimally invasive, #6 level 4, 二级 #3 level 3)\n"
    "are read from $CAREBASE_CATALOGUE_MIS, _LEVEL4 and _LEVEL3 when records are\n"
    "imported; without them those indicators say 'catalogue missing'.\n";

enum { UNIT_CONSORTIUM = 100 };

static const char *
unit_label(enum cb_unit u)
{
    return u == CB_UNIT_HOSPITAL ? "hospital" : u == CB_UNIT_DEPT ? "department"
         : u == CB_UNIT_DOCTOR ? "doctor" : "consortium";
}

static void
fmt_value(char *buf, size_t n, const struct cb_indicator *ind, const struct cb_ind_value *v)
{
    if (!v->computable) {
        snprintf(buf, n, "-");
        return;
    }
    if (!strcmp(ind->unit, "%") || !strcmp(ind->unit, "元") || !strcmp(ind->unit, "天"))
        snprintf(buf, n, "%.2f", v->value);
    else if (!ind->unit[0])
        snprintf(buf, n, "%.4f", v->value);
    else
        snprintf(buf, n, "%.0f", v->value);
}

static void
fmt_num(char *buf, size_t n, double x)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, n, "%.0f", x);
    else
        snprintf(buf, n, "%.6f", x);
}

/* Money counters are kept in fen; shown in yuan like the value. */
static double
shown(const struct cb_indicator *ind, double counter)
{
    return !strcmp(ind->unit, "元") ? counter / 100.0 : counter;
}

static void
json_num(struct cb_buf *b, const char *key, double v, bool ok)
{
    if (cb_buf_addf(b, ",\"%s\":", key))
        return;
    if (!ok || !isfinite(v)) {
        if (cb_buf_adds(b, "null")) {}
    } else if (cb_buf_addf(b, "%.17g", v)) {
    }
}

static void
json_kv(struct cb_buf *b, const char *key, const char *v)
{
    if (cb_buf_addf(b, ",\"%s\":", key) || cb_json_strz(b, v ? v : "")) {
    }
}

/* ---- --format xlsx (cli_xlsx.h) ---- */

static const struct cli_xcol xlsx_cols[] = {
    { "机构代码", "Hospital (ZZJGDM)", 22, NULL },
    { "机构名称", "Hospital name", 28, NULL },
    { "级别", "Level", 6, NULL },
    { "科室", "Department", 10, NULL },
    { "医生", "Doctor", 10, NULL },
    { "期间", "Period", 9, NULL },
    { "指标编号", "Indicator id", 14, NULL },
    { "国考序号", "National no.", 8, NULL },
    { "指标名称", "Indicator", 36, NULL },
    { "指标名称（英文）", "Indicator (English)", 40, NULL },
    { "单位", "Unit", 6, NULL },
    { "值", "Value", 12, NULL },
    { "分子", "Numerator", 14, NULL },
    { "分母", "Denominator", 14, NULL },
    { "上期", "Previous period", 12, NULL },
    { "去年同期", "Same period last year", 12, NULL },
    { "同级排名", "Rank among peers", 9, "0" },
    { "同级机构数", "Peers", 9, "0" },
    { "四分位", "Quartile", 8, NULL },
    { "说明", "Note", 40, NULL },
};

/* The number format of a value: as fmt_value shows it. */
static const char *
xlsx_value_format(const struct cb_indicator *ind)
{
    if (!strcmp(ind->unit, "%") || !strcmp(ind->unit, "天"))
        return "0.00";
    if (!strcmp(ind->unit, "元"))
        return "#,##0.00";
    return ind->unit[0] ? "#,##0" : "0.0000";
}

static const char *
xlsx_count_format(const struct cb_indicator *ind, double x)
{
    if (x == floor(x))
        return "#,##0";
    return !strcmp(ind->unit, "元") ? "#,##0.00" : "0.0000";
}

/* One sheet: a row per (unit, period, indicator); a value that is not
 * computable leaves its cells empty and says why in the note. */
static int
write_xlsx(const char *path, const struct cb_report_row *rows, size_t nout,
           const struct cli_engine *ce, int unit, enum cb_period period,
           const struct cb_indicator_set *set, const char *refname, struct cb_buf *err)
{
    int ncols = (int)(sizeof xlsx_cols / sizeof xlsx_cols[0]);
    struct cli_xlsx *x = cli_xlsx_new(path, "indicators", xlsx_cols, ncols, err);
    char title[160], about[200];

    if (!x)
        return -1;
    snprintf(title, sizeof title, "Carebase 指标 indicators (catalogue %s)", set->version);
    snprintf(about, sizeof about, "DRG reference: %s", refname ? refname : "none");
    cli_xlsx_describe(x, title, about);
    for (size_t i = 0; i < nout; i++) {
        const struct cb_report_row *o = &rows[i];
        const struct cb_engine_row *r = o->row;
        const struct cb_store_hosp *h = unit != UNIT_CONSORTIUM && r->hospital < ce->names.nhosp
                                       ? &ce->names.hosp[r->hospital] : NULL;
        const char *vf = xlsx_value_format(o->ind);
        char per[16], q[16];
        double num = shown(o->ind, o->v.num);

        cli_period_text(period, r->period, per, sizeof per);
        cli_xlsx_text(x, 0, h ? h->zzjgdm : "");
        cli_xlsx_text(x, 1, h ? h->name : unit == UNIT_CONSORTIUM ? "全部 all" : "");
        cli_xlsx_text(x, 2, h ? h->level : "");
        if (unit == CB_UNIT_DEPT && r->dept < ce->names.ndept)
            cli_xlsx_text(x, 3, ce->names.dept[r->dept]);
        if (unit == CB_UNIT_DOCTOR && r->doctor < (uint32_t)ce->names.ndoctor)
            cli_xlsx_text(x, 4, ce->names.doctor[r->doctor]);
        cli_xlsx_text(x, 5, per);
        cli_xlsx_text(x, 6, o->ind->id);
        cli_xlsx_text(x, 7, o->ind->no);
        cli_xlsx_text(x, 8, o->ind->name_zh);
        cli_xlsx_text(x, 9, o->ind->name_en);
        cli_xlsx_text(x, 10, o->ind->unit);
        if (o->v.computable) {
            cli_xlsx_num(x, 11, o->v.value, vf);
            cli_xlsx_num(x, 12, num, xlsx_count_format(o->ind, num));
            cli_xlsx_num(x, 13, o->v.den, xlsx_count_format(o->ind, o->v.den));
        } else {
            cli_xlsx_text(x, 19, o->v.reason);
        }
        if (o->has_prev && o->prev.computable)
            cli_xlsx_num(x, 14, o->prev.value, vf);
        if (o->has_yoy && o->yoy.computable)
            cli_xlsx_num(x, 15, o->yoy.value, vf);
        if (o->rank) {
            cli_xlsx_num(x, 16, o->rank, NULL);
            cli_xlsx_num(x, 17, o->peers, NULL);
            snprintf(q, sizeof q, "Q%d", 4 * (o->rank - 1) / o->peers + 1); /* as the table */
            cli_xlsx_text(x, 18, q);
        }
        cli_xlsx_row_end(x);
    }
    return cli_xlsx_close(x, err);
}

int
cmd_indicators(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "by", required_argument, NULL, 'b' },
        { "period", required_argument, NULL, 'p' },
        { "in", required_argument, NULL, 'i' },
        { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' },
        { "hospital", required_argument, NULL, 'H' },
        { "group", required_argument, NULL, 'g' },
        { "ids", required_argument, NULL, 'I' },
        { "list", required_argument, NULL, 'l' },
        { "reference", required_argument, NULL, 'r' },
        { "lang", required_argument, NULL, 'L' },
        { "format", required_argument, NULL, 'f' },
        { "threads", required_argument, NULL, 'j' },
        { "output", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int unit = CB_UNIT_HOSPITAL, threads = 2, c;
    enum cb_period period = CB_PERIOD_YEAR;
    uint16_t from = 0, to = UINT16_MAX;
    const char *hospital = NULL, *group = NULL, *ids = NULL, *list = NULL,
               *refname = NULL, *lang = "zh";
    enum cli_fmt fmt = CLI_FMT_TABLE;
    const char *output = NULL;
    bool xlsx = false;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!strcmp(optarg, "hospital")) unit = CB_UNIT_HOSPITAL;
            else if (!strcmp(optarg, "department")) unit = CB_UNIT_DEPT;
            else if (!strcmp(optarg, "doctor")) unit = CB_UNIT_DOCTOR;
            else if (!strcmp(optarg, "consortium")) unit = UNIT_CONSORTIUM;
            else {
                cli_error("indicators", "--by wants consortium, hospital, department or doctor");
                return CB_EXIT_USAGE;
            }
            break;
        case 'p':
            if (!strcmp(optarg, "all")) period = CB_PERIOD_ALL;
            else if (!strcmp(optarg, "month")) period = CB_PERIOD_MONTH;
            else if (!strcmp(optarg, "quarter")) period = CB_PERIOD_QUARTER;
            else if (!strcmp(optarg, "year")) period = CB_PERIOD_YEAR;
            else {
                cli_error("indicators", "--period wants all, month, quarter or year");
                return CB_EXIT_USAGE;
            }
            break;
        case 'i':
            if (cli_parse_period(optarg, &period, &from, &to)) {
                cli_error("indicators", "--in wants 2025, 2025Q1 or 2025-03: %s", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'F':
        case 'T':
            if (cli_parse_day(optarg, c == 'F' ? &from : &to)) {
                cli_error("indicators", "dates are YYYY-MM-DD: %s", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'H': hospital = optarg; break;
        case 'g': group = optarg; break;
        case 'I': ids = optarg; break;
        case 'l': list = optarg; break;
        case 'r': refname = optarg; break;
        case 'L':
            if (strcmp(optarg, "zh") && strcmp(optarg, "en")) {
                cli_error("indicators", "--lang wants zh or en");
                return CB_EXIT_USAGE;
            }
            lang = optarg;
            break;
        case 'o': output = optarg; break;
        case 'f':
            xlsx = !strcmp(optarg, "xlsx");
            if (!xlsx && cli_parse_fmt(optarg, &fmt)) {
                cli_error("indicators", "--format wants table, csv, json or xlsx");
                return CB_EXIT_USAGE;
            }
            break;
        case 'j': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 8) {
                cli_error("indicators", "--threads wants 1 to 8");
                return CB_EXIT_USAGE;
            }
            threads = (int)v;
            break;
        }
        case 'h': fputs(cmd_indicators_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_indicators_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("indicators", "unexpected argument '%s'", argv[optind]);
        return CB_EXIT_USAGE;
    }
    if (xlsx && !output) {
        cli_error("indicators", "--format xlsx needs --output FILE");
        return CB_EXIT_USAGE;
    }
    if (output && !xlsx && !freopen(output, "w", stdout)) {
        cli_error("indicators", "cannot write '%s'", output);
        return CB_EXIT_FAIL;
    }

    struct cb_buf err = CB_BUF_INIT;
    struct cb_indicator_set set;
    char path[1100];
    snprintf(path, sizeof path, "%s/indicators/catalogue-2019.tsv", cli->datadir);
    const char *cat_path = getenv("CAREBASE_INDICATORS");
    if (cb_indicators_load(&set, cat_path ? cat_path : path, &err)) {
        cli_error("indicators", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    struct cb_catalogues cat;
    if (cli_catalogues_load(&cat, cli, "indicators")) {
        cb_indicators_release(&set);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    struct cb_store *st = NULL;
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("indicators", "%s", cb_buf_cstr(&err));
        cb_catalogues_release(&cat);
        cb_indicators_release(&set);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    int status = CB_EXIT_FAIL;
    struct cli_engine ce;
    struct cli_ref ref;
    bool have_ref = false;
    uint8_t *mask = NULL;
    struct cb_engine_result res = { 0 };
    struct cb_report_row *rows = NULL;
    size_t nout = 0;
    struct cb_buf json = CB_BUF_INIT;
    memset(&ref, 0, sizeof ref);
    if (cli_engine_load(&ce, st, "indicators")) {
        cb_store_close(st);
        cb_catalogues_release(&cat);
        cb_indicators_release(&set);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    if (cli_hospital_mask(&ce, st, hospital, group, &mask, "indicators"))
        goto out;
    int rr = cli_ref_load(&ref, &ce, st, refname, &err);
    if (rr < 0 || (rr > 0 && refname)) {
        cli_error("indicators", "%s", cb_buf_cstr(&err));
        goto out;
    }
    have_ref = rr == 0;

    /* What is available: the catalogues that were loaded, a reference. */
    uint32_t have = CB_NEED_COHORTS;
    if (cat.cat[CB_CAT_DAY_SURGERY].loaded) have |= CB_NEED_DAY_SURGERY;
    if (cat.cat[CB_CAT_COMPLICATION].loaded) have |= CB_NEED_COMPLICATION;
    if (cat.cat[CB_CAT_MIS].loaded) have |= CB_NEED_MIS;
    if (cat.cat[CB_CAT_LEVEL4].loaded) have |= CB_NEED_LEVEL4;
    if (cat.cat[CB_CAT_LEVEL3].loaded) have |= CB_NEED_LEVEL3;
    if (have_ref) have |= CB_NEED_REFERENCE;

    /* Aggregate over all dates (comparisons need earlier periods); the
       requested range selects the rows shown. */
    struct cb_engine_query q = {
        .unit = unit == UNIT_CONSORTIUM ? CB_UNIT_ALL : (enum cb_unit)unit,
        .period = period,
        .day_from = 0, .day_to = UINT16_MAX,
        .hospitals = mask, .nhospitals = mask ? (size_t)ce.names.nhosp : 0,
        .ref = have_ref ? &ref.ref : NULL,
        .threads = threads,
    };
    if (period == CB_PERIOD_ALL) {
        q.day_from = from;
        q.day_to = to;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (cb_engine_query(ce.e, &q, &res)) {
        cli_error("indicators", "out of memory");
        goto out;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double query_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

    /* The indicators asked for. */
    int nind = 0;
    const struct cb_indicator **sel = cb_calloc((size_t)set.n + 1, sizeof *sel);
    if (!sel)
        goto out;
    for (int i = 0; i < set.n; i++) {
        const struct cb_indicator *ind = &set.ind[i];
        if (list && strcmp(ind->list, list))
            continue;
        if (ids) {
            const char *p = ids;
            bool hit = false;
            size_t L = strlen(ind->id);
            while (*p) {
                const char *e = strchr(p, ',');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                if (n == L && !strncmp(p, ind->id, n))
                    hit = true;
                p += n + (e ? 1 : 0);
            }
            if (!hit)
                continue;
        }
        sel[nind++] = ind;
    }
    if (!nind) {
        cli_error("indicators", "no indicator matches --ids/--list");
        cb_free(sel);
        goto out;
    }

    /* Rows in range x indicators, with comparisons and ranks. */
    struct cb_report_query report = {
        .period = period, .from = from, .to = to,
        .ind = sel, .nind = nind, .have = have,
        .rank_by_level = unit == CB_UNIT_HOSPITAL ? &ce.names : NULL,
    };
    enum cb_err rrc = cb_report_rows(&res, &report, &rows, &nout);
    cb_free(sel);
    if (rrc) {
        cli_error("indicators", "out of memory");
        goto out;
    }

    /* Output. */
    if (xlsx) {
        if (write_xlsx(output, rows, nout, &ce, unit, period, &set,
                       have_ref ? ref.info.name : NULL, &err)) {
            cli_error("indicators", "%s", cb_buf_cstr(&err));
            goto out;
        }
        if (!cli->quiet)
            fprintf(stderr, "%zu rows written to %s\n", nout, output);
        status = CB_EXIT_OK;
        goto out;
    }
    bool zh = !strcmp(lang, "zh");
    static const char *const cols[] = {
        "unit", "hospital", "hospital_name", "level", "department", "doctor", "period",
        "id", "no", "name_zh", "name_en", "unit_of_measure", "value", "numerator",
        "denominator", "status", "previous", "last_year", "rank", "quartile"
    };
    struct cli_table *t = NULL;
    if (fmt == CLI_FMT_TABLE) {
        static const char *const th_zh[] = {
            "机构", "科室", "医生", "期间", "指标", "值", "单位", "分子", "分母",
            "上期", "去年同期", "排名", "说明" };
        static const char *const th_en[] = {
            "hospital", "department", "doctor", "period", "indicator", "value", "unit",
            "numerator", "denominator", "previous", "last year", "rank", "note" };
        t = cli_table_new(13, zh ? th_zh : th_en);
    } else if (fmt == CLI_FMT_CSV) {
        for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
            if (i)
                fputc(',', stdout);
            fputs(cols[i], stdout);
        }
        fputc('\n', stdout);
    } else {
        if (cb_buf_addf(&json, "{\"unit\":\"%s\",\"catalogue\":", unit_label(
                            unit == UNIT_CONSORTIUM ? CB_UNIT_ALL : (enum cb_unit)unit)) ||
            cb_json_strz(&json, set.version) ||
            cb_buf_adds(&json, ",\"reference\":"))
            goto out;
        if (have_ref) {
            if (cb_buf_adds(&json, "{\"name\":") || cb_json_strz(&json, ref.info.name) ||
                cb_buf_adds(&json, ",\"scheme\":") || cb_json_strz(&json, ref.info.scheme) ||
                cb_buf_adds(&json, ",\"weights\":") ||
                cb_json_strz(&json, ref.info.weights_file[0] ? ref.info.weights_file
                                                             : "computed") ||
                cb_buf_addf(&json, ",\"created_at\":\"%s\",\"settings\":%s}",
                            ref.info.created_at,
                            ref.info.settings[0] ? ref.info.settings : "null"))
                goto out;
        } else if (cb_buf_adds(&json, "null")) {
            goto out;
        }
        if (cb_buf_adds(&json, ",\"catalogues\":{"))
            goto out;
        static const char *const cat_names[CB_CAT__N] = {
            "complication", "day_surgery", "mis", "level4", "level3" };
        for (int k = 0; k < CB_CAT__N; k++) {
            if (cb_buf_addf(&json, "%s\"%s\":", k ? "," : "", cat_names[k]) ||
                (cat.cat[k].loaded ? cb_json_strz(&json, cat.cat[k].version)
                                   : cb_buf_adds(&json, "null")))
                goto out;
        }
        if (cb_buf_adds(&json, "},\"rows\":["))
            goto out;
    }
    for (size_t i = 0; i < nout; i++) {
        const struct cb_report_row *o = &rows[i];
        const struct cb_engine_row *r = o->row;
        const struct cb_store_hosp *h = unit != UNIT_CONSORTIUM && r->hospital < ce.names.nhosp
                                       ? &ce.names.hosp[r->hospital] : NULL;
        const char *dept = unit == CB_UNIT_DEPT && r->dept < ce.names.ndept && ce.names.dept[r->dept]
                               ? ce.names.dept[r->dept] : "";
        const char *doc = unit == CB_UNIT_DOCTOR && r->doctor < (uint32_t)ce.names.ndoctor &&
                                  ce.names.doctor[r->doctor] ? ce.names.doctor[r->doctor] : "";
        char per[16], val[32], num[32], den[32], pv[32], yv[32], rank[24], quart[16];
        cli_period_text(period, r->period, per, sizeof per);
        fmt_value(val, sizeof val, o->ind, &o->v);
        if (!strcmp(o->ind->unit, "元"))
            snprintf(num, sizeof num, "%.2f", shown(o->ind, o->v.num));
        else
            fmt_num(num, sizeof num, shown(o->ind, o->v.num));
        fmt_num(den, sizeof den, o->v.den);
        if (o->has_prev) fmt_value(pv, sizeof pv, o->ind, &o->prev); else snprintf(pv, sizeof pv, "-");
        if (o->has_yoy) fmt_value(yv, sizeof yv, o->ind, &o->yoy); else snprintf(yv, sizeof yv, "-");
        if (o->rank) {
            snprintf(rank, sizeof rank, "%d/%d", o->rank, o->peers);
            /* Q1 = the best quarter: from the share of peers ranked above */
            snprintf(quart, sizeof quart, "Q%d", 4 * (o->rank - 1) / o->peers + 1);
        } else {
            snprintf(rank, sizeof rank, "-");
            quart[0] = '\0';
        }
        const char *statusz = o->v.computable ? "ok" : o->v.reason;
        if (fmt == CLI_FMT_TABLE) {
            char hosp[200], name[300];
            snprintf(hosp, sizeof hosp, "%s", unit == UNIT_CONSORTIUM ? (zh ? "全部" : "all")
                     : h && h->name[0] ? h->name : h ? h->zzjgdm : "");
            snprintf(name, sizeof name, "%s%s%s", o->ind->no[0] ? "#" : "",
                     o->ind->no[0] ? o->ind->no : "", "");
            char label[300];
            snprintf(label, sizeof label, "%s %s", o->ind->id,
                     zh ? o->ind->name_zh : o->ind->name_en);
            char rq[40];
            snprintf(rq, sizeof rq, "%s%s%s", rank, quart[0] ? " " : "", quart);
            const char *cells[13] = { hosp, dept, doc, per, label, val, o->ind->unit,
                                      o->v.computable ? num : "-", o->v.computable ? den : "-",
                                      pv, yv, rq, o->v.computable ? "" : o->v.reason };
            cli_table_add(t, cells);
        } else if (fmt == CLI_FMT_CSV) {
            const char *cells[20] = {
                unit_label(unit == UNIT_CONSORTIUM ? CB_UNIT_ALL : (enum cb_unit)unit),
                h ? h->zzjgdm : "", h ? h->name : "", h ? h->level : "", dept, doc, per,
                o->ind->id, o->ind->no, o->ind->name_zh, o->ind->name_en, o->ind->unit,
                o->v.computable ? val : "", num, den, statusz, o->has_prev ? pv : "",
                o->has_yoy ? yv : "", o->rank ? rank : "", quart };
            for (int k = 0; k < 20; k++) {
                if (k)
                    fputc(',', stdout);
                cli_csv_field(stdout, cells[k]);
            }
            fputc('\n', stdout);
        } else {
            if (cb_buf_adds(&json, i ? ",{" : "{") ||
                cb_buf_adds(&json, "\"id\":") || cb_json_strz(&json, o->ind->id))
                goto out;
            json_kv(&json, "no", o->ind->no);
            json_kv(&json, "name_zh", o->ind->name_zh);
            json_kv(&json, "name_en", o->ind->name_en);
            json_kv(&json, "unit_of_measure", o->ind->unit);
            json_kv(&json, "hospital", h ? h->zzjgdm : "");
            json_kv(&json, "hospital_name", h ? h->name : "");
            json_kv(&json, "level", h ? h->level : "");
            json_kv(&json, "department", dept);
            json_kv(&json, "doctor", doc);
            json_kv(&json, "period", per);
            json_num(&json, "value", o->v.value, o->v.computable);
            json_num(&json, "numerator", shown(o->ind, o->v.num), o->v.computable);
            json_num(&json, "denominator", o->v.den, o->v.computable);
            json_kv(&json, "status", statusz);
            json_num(&json, "previous", o->prev.value, o->has_prev && o->prev.computable);
            json_num(&json, "last_year", o->yoy.value, o->has_yoy && o->yoy.computable);
            json_num(&json, "rank", o->rank, o->rank > 0);
            json_num(&json, "peers", o->peers, o->rank > 0);
            if (cb_buf_adds(&json, "}"))
                goto out;
        }
    }
    if (fmt == CLI_FMT_TABLE) {
        cli_table_print(t, stdout);
        cli_table_free(t);
    } else if (fmt == CLI_FMT_JSON) {
        if (cb_buf_addf(&json, "],\"records\":%zu,\"load_s\":%.3f,\"query_s\":%.4f}",
                        cb_engine_count(ce.e), ce.load_s, query_s))
            goto out;
        puts(cb_buf_cstr(&json));
    }
    if (!cli->quiet && fmt != CLI_FMT_JSON)
        fprintf(stderr, "%zu discharges; loaded in %.2f s, aggregated in %.3f s; "
                "reference: %s\n", cb_engine_count(ce.e), ce.load_s, query_s,
                have_ref ? ref.info.name : "none (DRG indicators not computable)");
    status = CB_EXIT_OK;
out:
    cb_free(rows);
    cb_buf_release(&json);
    cb_engine_result_release(&res);
    cli_ref_release(&ref);
    cb_free(mask);
    cli_engine_release(&ce);
    cb_store_close(st);
    cb_catalogues_release(&cat);
    cb_indicators_release(&set);
    cb_buf_release(&err);
    return status;
}
