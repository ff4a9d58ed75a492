/*
 * cmd_cases.c - `carebase cases`: the lineage of an indicator value (issue
 * 4, section 5). For one indicator, one side (numerator or denominator)
 * and a scope, it lists the cases (stored records) that the side's counter
 * counts, each with its DRG and, on request, the grouping trace.
 *
 * A case is listed when its own fact gives the counter a value > 0, as
 * cb_engine_fact_counters() computes it: that is the code the aggregation
 * runs, so the number of cases listed is the numerator or denominator that
 * `carebase indicators` prints for the same scope, by construction (and
 * the e2e test t_cases.sh checks it). For sums (days, costs, weights) the
 * listing gives each case's share.
 *
 * The selection, the details and the traces are the library's (lineage.h),
 * shared with the server's /api/cases and /api/case; this file parses the
 * options and writes the listing.
 *
 * The listing never carries patient names or ID numbers (XM, SFZH and the
 * like): BAH and ZYCS identify the case within its hospital.
 * --show-identifiers adds XM and SFZH on the screen only (a table on a
 * terminal); exports (csv, json, xlsx, --output, a redirected standard
 * output) always leave them out.
 */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/date.h"
#include "carebase/json.h"
#include "carebase/lineage.h"
#include "cli_engine.h"
#include "cli_env.h"
#include "cli_xlsx.h"

const char cmd_cases_usage[] =
    "usage: carebase cases --indicator ID (--numerator | --denominator)\n"
    "                      [--hospital ZZJGDM] [--group CODE]\n"
    "                      [--in PERIOD | --from DATE --to DATE]\n"
    "                      [--department CODE] [--doctor NAME]\n"
    "                      [--reference NAME] [--explain]\n"
    "                      [--format table|csv|json|xlsx] [--output FILE]\n"
    "                      [--show-identifiers]\n"
    "\n"
    "Lists the cases behind an indicator value: the discharges in its\n"
    "numerator or its denominator for a scope, each with hospital, BAH, ZYCS,\n"
    "discharge date, discharging department, attending doctor, LYFS, its DRG\n"
    "(code, status, scheme) and what it adds to the counter. The number of\n"
    "cases listed is the numerator (denominator) that 'carebase indicators'\n"
    "gives for the same scope; for sums (days, costs, weights) each case's\n"
    "share is listed, and they add up to it.\n"
    "\n"
    "Options:\n"
    "  --indicator ID   a catalogue id (fp.14, drg.cmi) or a national number\n"
    "                   (14: the first indicator of the 三级 list with that number)\n"
    "  --numerator      the cases of the numerator\n"
    "  --denominator    the cases of the denominator (a count has none)\n"
    "  --hospital Z     only this hospital (ZZJGDM)\n"
    "  --group CODE     only the hospitals of this consortium or region\n"
    "  --in PERIOD      discharged (CYSJ) in 2025, 2025Q1, 2025-03 or 2025-03-01\n"
    "                   (--period PERIOD is the same)\n"
    "  --from, --to     discharge dates YYYY-MM-DD, inclusive\n"
    "  --department C   only this discharging department (CYKB code)\n"
    "  --doctor NAME    only this attending doctor (ZZYS)\n"
    "  --reference N    the DRG reference (default: the newest; see carebase\n"
    "                   reference), for the indicators that need one\n"
    "  --explain        add each case's grouping trace (zh and en): the stored\n"
    "                   record is grouped again with the scheme its result was\n"
    "                   made with, code translation on; a different result\n"
    "                   than the stored one is pointed out\n"
    "  --format F       table (default), csv, json or xlsx (needs --output)\n"
    "  --output FILE    write to FILE instead of standard output\n"
    "  --show-identifiers  add the patient's name and ID number (XM, SFZH),\n"
    "                   on the screen only (table format, standard output a\n"
    "                   terminal)\n"
    "\n"
    "Patient identifiers: exports (csv, json, xlsx, anything written with\n"
    "--output or to a file or pipe) never carry names or ID numbers (XM, SFZH,\n"
    "JKKH); a case is identified by hospital, BAH and ZYCS.\n"
    "\n"
    "Money is in yuan, stays in days. For drg.count the cases grouped into a\n"
    "DRG are listed (the indicator counts their distinct DRGs).\n"
    "\n"
    "Exit status: 0 when listed (also when\n"
    "no case matches), 1 when the indicator is not computable for the\n"
    "scope's data (a catalogue or the DRG reference is missing) or the\n"
    "database fails, 2 on usage.\n";

/* Record ids per detail query. */
#define CHUNK 500
_Static_assert(CHUNK <= CB_CASE_FETCH_MAX, "a chunk is one cb_case_fetch");

enum side { SIDE_NONE = 0, SIDE_NUM, SIDE_DEN };
enum cformat { CF_TABLE, CF_CSV, CF_JSON, CF_XLSX };

struct opts {
    const char  *indicator, *hospital, *group, *department, *doctor;
    const char  *refname, *output;
    uint16_t     from, to;       /* fact days, inclusive */
    bool         has_from, has_to;
    enum side    side;
    enum cformat fmt;
    bool         explain, show_ids;
};

/* The two identifiers a listing shows (cb_case_id_keys starts with them). */
enum { ID_XM = 0, ID_SFZH = 1 };

/* The indicator by id, or by national number in the 三级 list. */
static const struct cb_indicator *
find_indicator(const struct cb_indicator_set *set, const char *id)
{
    const struct cb_indicator *ind = cb_indicator_find(set, cb_str_c(id));

    if (ind || !*id || strspn(id, "0123456789") != strlen(id))
        return ind;
    for (int i = 0; i < set->n; i++)
        if (!strcmp(set->ind[i].no, id) && !strcmp(set->ind[i].list, "三级"))
            return &set->ind[i];
    return NULL;
}

/* ---- options ------------------------------------------------------------ */

static int
parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option lopts[] = {
        { "indicator", required_argument, NULL, 'I' },
        { "numerator", no_argument, NULL, 'n' },
        { "denominator", no_argument, NULL, 'd' },
        { "hospital", required_argument, NULL, 'H' },
        { "group", required_argument, NULL, 'g' },
        { "in", required_argument, NULL, 'i' },
        { "period", required_argument, NULL, 'i' },
        { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' },
        { "department", required_argument, NULL, 'D' },
        { "doctor", required_argument, NULL, 'Z' },
        { "reference", required_argument, NULL, 'r' },
        { "explain", no_argument, NULL, 'x' },
        { "format", required_argument, NULL, 'f' },
        { "output", required_argument, NULL, 'o' },
        { "show-identifiers", no_argument, NULL, 'S' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum cb_period kind;
    int c;

    memset(o, 0, sizeof *o);
    o->to = UINT16_MAX;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'I': o->indicator = optarg; break;
        case 'n':
        case 'd':
            if (o->side && o->side != (c == 'n' ? SIDE_NUM : SIDE_DEN)) {
                cli_error("cases", "give --numerator or --denominator, not both");
                return CB_EXIT_USAGE;
            }
            o->side = c == 'n' ? SIDE_NUM : SIDE_DEN;
            break;
        case 'H': o->hospital = optarg; break;
        case 'g': o->group = optarg; break;
        case 'i':
            if (cli_parse_period(optarg, &kind, &o->from, &o->to) &&
                cli_parse_day(optarg, &o->from)) {
                cli_error("cases", "--in wants 2025, 2025Q1, 2025-03 or 2025-03-01: %s",
                          optarg);
                return CB_EXIT_USAGE;
            }
            if (strlen(optarg) == 10)   /* a single day */
                o->to = o->from;
            o->has_from = o->has_to = true;
            break;
        case 'F':
        case 'T':
            if (cli_parse_day(optarg, c == 'F' ? &o->from : &o->to)) {
                cli_error("cases", "dates are YYYY-MM-DD: %s", optarg);
                return CB_EXIT_USAGE;
            }
            if (c == 'F')
                o->has_from = true;
            else
                o->has_to = true;
            break;
        case 'D': o->department = optarg; break;
        case 'Z': o->doctor = optarg; break;
        case 'r': o->refname = optarg; break;
        case 'x': o->explain = true; break;
        case 'f':
            if (!strcmp(optarg, "table")) o->fmt = CF_TABLE;
            else if (!strcmp(optarg, "csv")) o->fmt = CF_CSV;
            else if (!strcmp(optarg, "json")) o->fmt = CF_JSON;
            else if (!strcmp(optarg, "xlsx")) o->fmt = CF_XLSX;
            else {
                cli_error("cases", "--format wants table, csv, json or xlsx");
                return CB_EXIT_USAGE;
            }
            break;
        case 'o': o->output = optarg; break;
        case 'S': o->show_ids = true; break;
        case 'h': fputs(cmd_cases_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_cases_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("cases", "unexpected argument '%s'", argv[optind]);
        return CB_EXIT_USAGE;
    }
    if (!o->indicator || !o->side) {
        cli_error("cases", "give --indicator ID and --numerator or --denominator");
        return CB_EXIT_USAGE;
    }
    if (o->fmt == CF_XLSX && !o->output) {
        cli_error("cases", "--format xlsx needs --output FILE");
        return CB_EXIT_USAGE;
    }
    /* Identifiers may be read on a screen; a file or a pipe is an export. */
    if (o->show_ids && (o->fmt != CF_TABLE || o->output || !isatty(STDOUT_FILENO))) {
        cli_error("cases", "--show-identifiers is for the screen only (table format "
                  "on a terminal): exports never carry patient identifiers");
        return CB_EXIT_USAGE;
    }
    if (o->from > o->to) {
        cli_error("cases", "the date range is empty");
        return CB_EXIT_USAGE;
    }
    return -1;
}

/* ---- selecting the cases ------------------------------------------------- */

/*
 * *mask over the ids of a dimension (by-id names) whose name is want; a
 * message and -1 when there is none (what) or no memory.
 */
static int
name_mask(char **names, int n, const char *want, const char *what, uint8_t **mask)
{
    int matches;

    if (!(*mask = cb_lineage_name_mask(names, n, want, &matches))) {
        cli_error("cases", "out of memory");
        return -1;
    }
    if (!matches) {
        cli_error("cases", "no %s '%s' among the records", what, want);
        return -1;
    }
    return 0;
}

/* ---- output -------------------------------------------------------------- */

static const char *const col_key[] = {
    "record_id", "hospital", "bah", "zycs", "cysj", "department", "department_name",
    "doctor", "lyfs", "drg", "drg_status", "drg_scheme", "contribution",
    "trace_zh", "trace_en", "xm", "sfzh",
};
static const char *const col_zh[] = {
    "记录号", "机构代码", "病案号", "住院次数", "出院日期", "出院科室", "科室名称",
    "主治医师", "离院方式", "DRG", "分组状态", "DRG 方案", "贡献",
    "分组过程（中文）", "分组过程（英文）", "姓名", "身份证号",
};
static const char *const col_en[] = {
    "Record id", "Hospital (ZZJGDM)", "Case no. (BAH)", "Admission no. (ZYCS)",
    "Discharge date (CYSJ)", "Discharging dept (CYKB)", "Department name",
    "Attending doctor (ZZYS)", "Discharge type (LYFS)", "DRG", "Grouping status",
    "DRG scheme", "Contribution", "Grouping trace (zh)", "Grouping trace (en)",
    "Name (XM)", "ID number (SFZH)",
};
enum { C_CONTRIB = 12, C_TRACE = 13, C_XM = 15, C_ALL = 17 };

struct out {
    const struct opts    *o;
    const struct cb_counter_info *ctr;
    FILE                 *f;
    int                   ncols;       /* columns in use */
    struct cli_table     *table;
    struct cli_xlsx      *x;
    struct cli_xcol       xcols[C_ALL];
    char                  xcontrib[2][64];
    struct cb_buf         json;
    unsigned long         n;
};

static int
out_begin(struct out *w, const struct opts *o, const struct cb_counter_info *ctr,
          const struct cb_indicator *ind, struct cb_buf *err)
{
    w->o = o;
    w->ctr = ctr;
    w->ncols = o->explain ? C_TRACE + 2 : C_TRACE;
    cb_buf_init(&w->json, CB_BUF_MAX_DEFAULT);
    if (o->fmt == CF_XLSX) {
        static const double width[C_ALL] = { 10, 22, 14, 10, 12, 12, 18, 12, 10, 8, 12,
                                             13, 14, 60, 60, 0, 0 };
        for (int i = 0; i < C_TRACE + 2; i++) {
            w->xcols[i].zh = col_zh[i];
            w->xcols[i].en = col_en[i];
            w->xcols[i].width = width[i];
        }
        w->xcols[0].numfmt = "0";
        w->xcols[3].numfmt = "0";
        snprintf(w->xcontrib[0], sizeof w->xcontrib[0], "%s（%s）", col_zh[C_CONTRIB],
                 cb_counter_unit(ctr, true));
        snprintf(w->xcontrib[1], sizeof w->xcontrib[1], "%s (%s)", col_en[C_CONTRIB],
                 cb_counter_unit(ctr, false));
        w->xcols[C_CONTRIB].zh = w->xcontrib[0];
        w->xcols[C_CONTRIB].en = w->xcontrib[1];
        w->xcols[C_CONTRIB].numfmt = ctr->kind == CB_CK_MONEY ? "#,##0.00"
                                   : ctr->kind == CB_CK_REAL ? "0.0000" : "#,##0";
        w->x = cli_xlsx_new(o->output, "cases", w->xcols, w->ncols, err);
        if (!w->x)
            return -1;
        char title[300];
        snprintf(title, sizeof title, "%s %s — %s", ind->id, ind->name_zh,
                 o->side == SIDE_NUM ? "分子 numerator" : "分母 denominator");
        cli_xlsx_describe(w->x, title, "patient identifiers (XM, SFZH) are not exported");
        return 0;
    }
    if (o->fmt == CF_TABLE && !o->explain) {
        const char *h[C_ALL];
        int n = 0;
        for (int i = 0; i < C_TRACE; i++)
            h[n++] = col_zh[i];
        if (o->show_ids) {
            h[n++] = col_zh[C_XM];
            h[n++] = col_zh[C_XM + 1];
        }
        w->table = cli_table_new(n, h);
        return w->table ? 0 : -1;
    }
    if (o->fmt == CF_CSV) {
        for (int i = 0; i < w->ncols; i++) {
            if (i)
                fputc(',', w->f);
            fputs(col_key[i], w->f);
        }
        fputc('\n', w->f);
    }
    return 0;
}

/* The JSON head: what was asked, before the cases. */
static enum cb_err
json_head(struct out *w, const struct cb_indicator *ind, const struct cli_ref *ref,
          bool have_ref)
{
    const struct opts *o = w->o;
    struct cb_buf *b = &w->json;
    char day[11];
    enum cb_err rc;

    if ((rc = cb_buf_adds(b, "{\"indicator\":{\"id\":")) || (rc = cb_json_strz(b, ind->id)) ||
        (rc = cb_buf_adds(b, ",\"no\":")) || (rc = cb_json_strz(b, ind->no)) ||
        (rc = cb_buf_adds(b, ",\"list\":")) || (rc = cb_json_strz(b, ind->list)) ||
        (rc = cb_buf_adds(b, ",\"name_zh\":")) || (rc = cb_json_strz(b, ind->name_zh)) ||
        (rc = cb_buf_adds(b, ",\"name_en\":")) || (rc = cb_json_strz(b, ind->name_en)) ||
        (rc = cb_buf_adds(b, ",\"unit_of_measure\":")) || (rc = cb_json_strz(b, ind->unit)) ||
        (rc = cb_buf_addf(b, "},\"side\":\"%s\",\"counter\":\"%s\",\"contribution_unit\":\"%s\"",
                          o->side == SIDE_NUM ? "numerator" : "denominator", w->ctr->name,
                          cb_counter_unit(w->ctr, false))) ||
        (rc = cb_buf_adds(b, ",\"identifiers\":\"omitted\",\"scope\":{\"hospital\":")) ||
        (rc = o->hospital ? cb_json_strz(b, o->hospital) : cb_buf_adds(b, "null")) ||
        (rc = cb_buf_adds(b, ",\"group\":")) ||
        (rc = o->group ? cb_json_strz(b, o->group) : cb_buf_adds(b, "null")))
        return rc;
    cb_format_date((int64_t)o->from + CB_FACT_EPOCH_DAY, day);
    if ((rc = cb_buf_addf(b, ",\"from\":%s%s%s", o->has_from ? "\"" : "",
                          o->has_from ? day : "null", o->has_from ? "\"" : "")))
        return rc;
    cb_format_date((int64_t)o->to + CB_FACT_EPOCH_DAY, day);
    if ((rc = cb_buf_addf(b, ",\"to\":%s%s%s", o->has_to ? "\"" : "",
                          o->has_to ? day : "null", o->has_to ? "\"" : "")) ||
        (rc = cb_buf_adds(b, ",\"department\":")) ||
        (rc = o->department ? cb_json_strz(b, o->department) : cb_buf_adds(b, "null")) ||
        (rc = cb_buf_adds(b, ",\"doctor\":")) ||
        (rc = o->doctor ? cb_json_strz(b, o->doctor) : cb_buf_adds(b, "null")) ||
        (rc = cb_buf_adds(b, "},\"reference\":")))
        return rc;
    if (have_ref) {
        if ((rc = cb_buf_adds(b, "{\"name\":")) || (rc = cb_json_strz(b, ref->info.name)) ||
            (rc = cb_buf_adds(b, ",\"scheme\":")) || (rc = cb_json_strz(b, ref->info.scheme)) ||
            (rc = cb_buf_adds(b, ",\"created_at\":")) ||
            (rc = cb_json_strz(b, ref->info.created_at)) || (rc = cb_buf_adds(b, "}")))
            return rc;
    } else if ((rc = cb_buf_adds(b, "null"))) {
        return rc;
    }
    return cb_buf_adds(b, ",\"cases\":[");
}

/* One case, in the output's format. */
static enum cb_err
out_case(struct out *w, const struct cb_lineage_hit *h, const struct cb_case *d)
{
    const struct opts *o = w->o;
    char id[24], contrib[40];
    const char *cells[C_ALL];
    enum cb_err rc = CB_OK;

    snprintf(id, sizeof id, "%" PRId64, h->record_id);
    cb_counter_format(w->ctr, h->contrib, contrib, sizeof contrib);
    cells[0] = id;
    for (int k = 0; k < CB_CASE__N; k++)
        cells[1 + k] = d->v[k] ? d->v[k] : "";
    cells[C_CONTRIB] = contrib;
    cells[C_TRACE] = d->trace_zh ? d->trace_zh : "";
    cells[C_TRACE + 1] = d->trace_en ? d->trace_en : "";
    cells[C_XM] = d->ids[ID_XM] ? d->ids[ID_XM] : "";
    cells[C_XM + 1] = d->ids[ID_SFZH] ? d->ids[ID_SFZH] : "";
    w->n++;

    switch (o->fmt) {
    case CF_TABLE:
        if (w->table) {
            const char *row[C_ALL];
            int n = 0;
            for (int i = 0; i < C_TRACE; i++)
                row[n++] = cells[i];
            if (o->show_ids) {
                row[n++] = cells[C_XM];
                row[n++] = cells[C_XM + 1];
            }
            cli_table_add(w->table, row);
            break;
        }
        /* --explain: a line per case, then its traces indented. */
        fprintf(w->f, "%s%s  %s  BAH %s/%s  %s  %s %s  %s  LYFS %s  DRG %s %s (%s)  %s %s",
                w->n > 1 ? "\n" : "", id, cells[1], cells[2], cells[3], cells[4], cells[5],
                cells[6], cells[7], cells[8], cells[9][0] ? cells[9] : "-",
                cells[10], cells[11], contrib, cb_counter_unit(w->ctr, true));
        if (o->show_ids)
            fprintf(w->f, "  %s %s", cells[C_XM], cells[C_XM + 1]);
        fputc('\n', w->f);
        for (int k = 0; k < 2; k++) {
            const char *p = cells[C_TRACE + k];
            while (*p) {
                size_t len = strcspn(p, "\n");
                fprintf(w->f, "    %.*s\n", (int)len, p);
                p += len + (p[len] == '\n');
            }
        }
        break;
    case CF_CSV:
        for (int i = 0; i < w->ncols; i++) {
            if (i)
                fputc(',', w->f);
            cli_csv_field(w->f, cells[i]);
        }
        fputc('\n', w->f);
        break;
    case CF_JSON:
        cb_buf_reset(&w->json);
        if ((rc = cb_buf_addf(&w->json, "%s{\"record_id\":%s", w->n > 1 ? "," : "", id)))
            return rc;
        for (int i = 1; i < w->ncols; i++) {
            if ((rc = cb_buf_addf(&w->json, ",\"%s\":", col_key[i])))
                return rc;
            if (i == C_CONTRIB)
                rc = cb_buf_adds(&w->json, contrib);
            else if (i == 3 && cells[i][0] && strspn(cells[i], "0123456789") == strlen(cells[i]))
                rc = cb_buf_adds(&w->json, cells[i]);        /* ZYCS, a number */
            else if ((i < C_TRACE && d->v[i - 1]) || i >= C_TRACE)
                rc = cb_json_strz(&w->json, cells[i]);
            else
                rc = cb_buf_adds(&w->json, "null");
            if (rc)
                return rc;
        }
        if ((rc = cb_buf_adds(&w->json, "}")))
            return rc;
        fputs(cb_buf_cstr(&w->json), w->f);
        break;
    case CF_XLSX:
        cli_xlsx_num(w->x, 0, (double)h->record_id, NULL);
        for (int i = 1; i < w->ncols; i++) {
            if (i == 3)
                cli_xlsx_num(w->x, i, cells[i][0] ? strtod(cells[i], NULL) : NAN, NULL);
            else if (i == 4)
                cli_xlsx_date(w->x, i, cells[i]);
            else if (i == C_CONTRIB)
                cli_xlsx_num(w->x, i, cb_counter_shown(w->ctr, h->contrib), NULL);
            else
                cli_xlsx_text(w->x, i, cells[i]);
        }
        cli_xlsx_row_end(w->x);
        break;
    }
    return rc;
}

/* The summary: the count, the sum and the indicator's value. */
static void
summary_text(char *buf, size_t n, const struct cb_indicator *ind, const struct opts *o,
             const struct cb_counter_info *ctr, size_t count, double total,
             const struct cb_ind_value *v)
{
    char t[40], val[160];

    cb_counter_format(ctr, total, t, sizeof t);
    if (v->computable)
        snprintf(val, sizeof val, "%s = %.6g %s", ind->id, v->value, ind->unit);
    else
        snprintf(val, sizeof val, "%s %s", ind->id, v->reason);
    snprintf(buf, n, "%zu cases in the %s (%s)%s%s%s%s; %s", count,
             o->side == SIDE_NUM ? "numerator" : "denominator", ctr->name,
             ctr->kind != CB_CK_COUNT ? ", total " : "", ctr->kind != CB_CK_COUNT ? t : "",
             ctr->kind != CB_CK_COUNT ? " " : "",
             ctr->kind != CB_CK_COUNT ? cb_counter_unit(ctr, false) : "", val);
}

static enum cb_err
out_end(struct out *w, const struct cb_indicator *ind, const struct cb_lineage *sel,
        double total, const struct cb_ind_value *v, struct cb_buf *err)
{
    const struct opts *o = w->o;
    char t[40];
    enum cb_err rc = CB_OK;

    switch (o->fmt) {
    case CF_TABLE:
        if (w->table)
            cli_table_print(w->table, w->f);
        break;
    case CF_CSV:
        break;
    case CF_JSON:
        /* Numerator as 'indicators' prints it: money in yuan for 元 values. */
        cb_counter_format(w->ctr, total, t, sizeof t);
        cb_buf_reset(&w->json);
        if ((rc = cb_buf_addf(&w->json, "],\"count\":%zu,\"total\":%s", sel->count, t)))
            break;
        if (v->computable) {
            double num = !strcmp(ind->unit, "元") ? v->num / 100.0 : v->num;
            rc = cb_buf_addf(&w->json, ",\"value\":%.17g,\"numerator\":%.17g,"
                             "\"denominator\":%.17g,\"status\":\"ok\"}",
                             v->value, num, v->den);
        } else {
            rc = cb_buf_adds(&w->json, ",\"value\":null,\"numerator\":null,"
                                       "\"denominator\":null,\"status\":");
            if (!rc)
                rc = cb_json_strz(&w->json, v->reason);
            if (!rc)
                rc = cb_buf_adds(&w->json, "}");
        }
        if (!rc)
            fprintf(w->f, "%s\n", cb_buf_cstr(&w->json));
        break;
    case CF_XLSX: {
        struct cli_xlsx *x = w->x;
        w->x = NULL;
        if (cli_xlsx_close(x, err))
            rc = CB_ERR_IO;
        break;
    }
    }
    return rc;
}

static void
out_release(struct out *w)
{
    struct cb_buf ignore = CB_BUF_INIT;

    cli_table_free(w->table);
    w->table = NULL;
    if (w->x)
        (void)cli_xlsx_close(w->x, &ignore);
    w->x = NULL;
    cb_buf_release(&ignore);
    cb_buf_release(&w->json);
}

/* ---- the command ---------------------------------------------------------- */

/* Removes a failed output, if it is a file (not /dev/stdout, a pipe, ...). */
static void
remove_regular(const char *path)
{
    struct stat sb;

    if (!stat(path, &sb) && S_ISREG(sb.st_mode))
        unlink(path);
}

struct run {
    struct cb_indicator_set set;
    struct cb_catalogues    cat;
    bool                    have_cat;
    struct cb_store        *st;
    struct cli_engine       ce;
    bool                    have_ce;
    struct cli_ref          ref;
    bool                    have_ref;
    uint8_t                *hosp, *dept, *doctor;
    struct cb_lineage       sel;
    struct cb_case_tracer  *tr;
    struct cb_case         *details;
    struct cb_arena         a;
    struct out              w;
    struct cb_buf           err;
};

/* What is available to compute indicators: as `carebase indicators`. */
static uint32_t
available(const struct run *r)
{
    uint32_t have = CB_NEED_COHORTS;
    if (r->cat.cat[CB_CAT_DAY_SURGERY].loaded) have |= CB_NEED_DAY_SURGERY;
    if (r->cat.cat[CB_CAT_COMPLICATION].loaded) have |= CB_NEED_COMPLICATION;
    if (r->cat.cat[CB_CAT_MIS].loaded) have |= CB_NEED_MIS;
    if (r->cat.cat[CB_CAT_LEVEL4].loaded) have |= CB_NEED_LEVEL4;
    if (r->cat.cat[CB_CAT_LEVEL3].loaded) have |= CB_NEED_LEVEL3;
    if (r->have_ref) have |= CB_NEED_REFERENCE;
    return have;
}

/* Opens what the listing needs; CB_EXIT_* on failure (message printed),
 * -1 when ready. */
static int
run_open(struct run *r, const struct opts *o, const struct cb_cli *cli,
         const struct cb_indicator **ind)
{
    char path[1100];
    const char *cat_path = getenv("CAREBASE_INDICATORS");

    snprintf(path, sizeof path, "%s/indicators/catalogue-2019.tsv", cli->datadir);
    if (cb_indicators_load(&r->set, cat_path ? cat_path : path, &r->err)) {
        cli_error("cases", "%s", cb_buf_cstr(&r->err));
        return CB_EXIT_FAIL;
    }
    *ind = find_indicator(&r->set, o->indicator);
    if (!*ind) {
        cli_error("cases", "no indicator '%s' in the catalogue (see carebase "
                  "indicators --format csv for the ids)", o->indicator);
        return CB_EXIT_USAGE;
    }
    if (o->side == SIDE_DEN && (*ind)->den == CB_COUNTER_NONE) {
        cli_error("cases", "%s is a count: it has no denominator", (*ind)->id);
        return CB_EXIT_USAGE;
    }
    if (cli_catalogues_load(&r->cat, cli, "cases"))
        return CB_EXIT_FAIL;
    r->have_cat = true;
    if (cb_store_open(&r->st, cli->db_path, &r->err) != CB_OK) {
        cli_error("cases", "%s", cb_buf_cstr(&r->err));
        return CB_EXIT_FAIL;
    }
    if (cli_engine_load(&r->ce, r->st, "cases"))
        return CB_EXIT_FAIL;
    r->have_ce = true;
    if (cli_hospital_mask(&r->ce, r->st, o->hospital, o->group, &r->hosp, "cases"))
        return CB_EXIT_FAIL;
    if ((o->department && name_mask(r->ce.names.dept, r->ce.names.ndept, o->department,
                                    "department", &r->dept)) ||
        (o->doctor && name_mask(r->ce.names.doctor, r->ce.names.ndoctor, o->doctor,
                                "attending doctor", &r->doctor)))
        return CB_EXIT_FAIL;
    int rr = cli_ref_load(&r->ref, &r->ce, r->st, o->refname, &r->err);
    if (rr < 0 || (rr > 0 && o->refname)) {
        cli_error("cases", "%s", cb_buf_cstr(&r->err));
        return CB_EXIT_FAIL;
    }
    r->have_ref = rr == 0;
    cb_buf_reset(&r->err);
    /* Never a silent empty list: what 'indicators' calls not computable. */
    uint32_t lack = (*ind)->needs & ~available(r);
    if (lack) {
        struct cb_agg none;
        struct cb_ind_value v;
        memset(&none, 0, sizeof none);
        cb_indicator_eval(*ind, &none, 0, available(r), &v);
        cli_error("cases", "%s is %s%s", (*ind)->id, v.reason,
                  lack & CB_NEED_REFERENCE ? " (see carebase reference create)" : "");
        return CB_EXIT_FAIL;
    }
    return -1;
}

static void
run_close(struct run *r)
{
    out_release(&r->w);
    cb_free(r->details);
    cb_arena_release(&r->a);
    cb_case_tracer_free(r->tr);
    cb_lineage_release(&r->sel);
    cb_free(r->hosp);
    cb_free(r->dept);
    cb_free(r->doctor);
    if (r->have_ref)
        cli_ref_release(&r->ref);
    if (r->have_ce)
        cli_engine_release(&r->ce);
    cb_store_close(r->st);
    if (r->have_cat)
        cb_catalogues_release(&r->cat);
    cb_indicators_release(&r->set);
    cb_buf_release(&r->err);
}

int
cmd_cases(int argc, char **argv, const struct cb_cli *cli)
{
    struct opts o;
    struct run r;
    const struct cb_indicator *ind = NULL;
    struct cb_counter_info ctr;
    struct cb_ind_value v;
    FILE *f = stdout;
    double total = 0;
    enum cb_err rc = CB_OK;
    int status;
    bool opened = false;    /* o.output is ours to remove on failure */
    char line[512];

    if ((status = parse_opts(argc, argv, &o)) >= 0)
        return status;
    memset(&r, 0, sizeof r);
    cb_buf_init(&r.err, CB_BUF_MAX_DEFAULT);
    cb_arena_init(&r.a, 1 << 16);
    if ((status = run_open(&r, &o, cli, &ind)) >= 0)
        goto out;
    status = CB_EXIT_FAIL;
    cb_counter_describe(o.side == SIDE_NUM ? ind->num : ind->den, &ctr);

    struct cb_lineage_scope scope = {
        .day_from = o.from, .day_to = o.to,
        .hospitals = r.hosp, .nhospitals = (size_t)r.ce.names.nhosp,
        .depts = r.dept, .ndepts = (size_t)r.ce.names.ndept,
        .doctors = r.doctor, .ndoctors = (size_t)r.ce.names.ndoctor,
    };
    if ((rc = cb_lineage_select(r.ce.e, &scope, r.have_ref ? &r.ref.ref : NULL, ctr.id,
                                &r.sel)))
        goto out;
    /* Every case is kept (no paging): the total in listing order. */
    for (size_t i = 0; i < r.sel.nhits; i++)
        total += r.sel.hits[i].contrib;
    cb_indicator_eval(ind, &r.sel.total, r.sel.words, available(&r), &v);

    if (o.explain) {
        if ((rc = cb_case_tracer_new(&r.tr, r.st, &r.err)))
            goto out;
    }
    r.details = cb_calloc(CHUNK, sizeof *r.details);
    if (!r.details) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    if (o.output && o.fmt != CF_XLSX && !(f = fopen(o.output, "w"))) {
        cli_error("cases", "cannot write '%s'", o.output);
        f = stdout;
        goto out;
    }
    opened = o.output != NULL && o.fmt != CF_XLSX;
    r.w.f = f;
    if (out_begin(&r.w, &o, &ctr, ind, &r.err)) {
        if (r.err.len)
            cli_error("cases", "%s", cb_buf_cstr(&r.err));
        goto out_file;
    }
    opened = opened || r.w.x;
    if (o.fmt == CF_JSON) {
        if ((rc = json_head(&r.w, ind, &r.ref, r.have_ref)))
            goto out_file;
        fputs(cb_buf_cstr(&r.w.json), f);
    }
    for (size_t i = 0; i < r.sel.nhits; i += CHUNK) {
        size_t n = r.sel.nhits - i < CHUNK ? r.sel.nhits - i : CHUNK;
        cb_arena_reset(&r.a);
        if ((rc = cb_case_fetch(r.st, r.tr, r.sel.hits + i, n,
                                (o.explain ? CB_CASE_TRACE : 0u) |
                                (o.show_ids ? CB_CASE_IDS : 0u),
                                r.details, &r.a, &r.err)))
            goto out_file;
        for (size_t k = 0; k < n; k++)
            if ((rc = out_case(&r.w, &r.sel.hits[i + k], &r.details[k])))
                goto out_file;
    }
    if ((rc = out_end(&r.w, ind, &r.sel, total, &v, &r.err)))
        goto out_file;
    if (fflush(f) || ferror(f)) {
        cli_error("cases", "cannot write '%s'", o.output ? o.output : "standard output");
        goto out_file;
    }
    summary_text(line, sizeof line, ind, &o, &ctr, r.sel.count, total, &v);
    if (!cli->quiet)
        fprintf(stderr, "%s\n", line);
    status = CB_EXIT_OK;

out_file:
    if (f != stdout && fclose(f) && status == CB_EXIT_OK) {
        cli_error("cases", "cannot write '%s'", o.output);
        status = CB_EXIT_FAIL;
    }
    if (status != CB_EXIT_OK && opened) {
        out_release(&r.w);      /* an unfinished workbook is written here, */
        remove_regular(o.output); /* and removed: no half listing is left */
    }
out:
    if (rc)
        cli_error("cases", "%s", r.err.len ? cb_buf_cstr(&r.err) : cb_strerror(rc));
    run_close(&r);
    return status;
}
