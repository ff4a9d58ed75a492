/*
 * cmd_reference.c - `carebase reference create|list|show`: DRG reference
 * populations (spec c.4, c.5.8-11) computed once and stored, so that
 * indicator results do not move when a hospital adds data.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"
#include "cli_engine.h"
#include "cli_env.h"

const char cmd_reference_usage[] =
    "usage: carebase reference create [--name NAME] [--scheme ID] [--group CODE]\n"
    "                                 [--from DATE] [--to DATE] [--weights FILE]\n"
    "                                 [--trim iqr|percentile|logsd|none]\n"
    "                                 [--min-risk-cases N] [--min-kept N]\n"
    "       carebase reference list [--format table|csv|json]\n"
    "       carebase reference show [NAME] [--format table|csv|json]\n"
    "\n"
    "A reference is the population that DRG weights, mortality risk grades and\n"
    "the per-DRG means of the cost and time efficiency indices come from (spec\n"
    "c.4). It is computed once from the grouped cases in the database and\n"
    "stored; indicators use the newest reference unless --reference names one.\n"
    "\n"
    "create options:\n"
    "  --name NAME         reference name (default: SCHEME-all-YYYYMMDD)\n"
    "  --scheme ID         the DRG scheme (default: the one most cases use)\n"
    "  --group CODE        only hospitals of this consortium or region\n"
    "  --from, --to DATE   discharge dates, YYYY-MM-DD, inclusive\n"
    "  --weights FILE      relative weights to use instead of computed ones:\n"
    "                      CSV or TSV with columns drg and weight\n"
    "  --trim METHOD       outlier trimming within each DRG (default iqr:\n"
    "                      inclusive fences Q1 - 1.5 IQR, Q3 + 1.5 IQR)\n"
    "  --min-kept N        fewer kept cases: the ADRG's weight (default 5)\n"
    "  --min-risk-cases N  fewer reference cases: no risk grade (default 30)\n";

static int
load_weights(const char *path, struct cli_engine *ce, const int *local, int nlocal,
             double *w)
{
    (void)local;
    FILE *f = fopen(path, "r");
    if (!f) {
        cli_error("reference", "%s: cannot open", path);
        return -1;
    }
    char line[512];
    int lineno = 0, used = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *sep = strpbrk(line, ",\t");
        if (!sep)
            continue;
        *sep = '\0';
        char *end;
        double v = strtod(sep + 1, &end);
        if (end == sep + 1) {
            if (lineno == 1)
                continue;  /* header */
            cli_error("reference", "%s:%d: weight is not a number", path, lineno);
            fclose(f);
            return -1;
        }
        for (int i = 0; i < nlocal; i++)
            if (!strcmp(ce->names.drg_code[local[i]], line)) {
                w[i] = v;
                used++;
            }
    }
    fclose(f);
    if (!used) {
        cli_error("reference", "%s: no weight matches a DRG of the scheme", path);
        return -1;
    }
    return 0;
}

static int
create(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "name", required_argument, NULL, 'n' },
        { "scheme", required_argument, NULL, 's' },
        { "group", required_argument, NULL, 'g' },
        { "from", required_argument, NULL, 'F' },
        { "to", required_argument, NULL, 'T' },
        { "weights", required_argument, NULL, 'w' },
        { "trim", required_argument, NULL, 't' },
        { "min-kept", required_argument, NULL, 'k' },
        { "min-risk-cases", required_argument, NULL, 'r' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *name = NULL, *scheme = NULL, *group = NULL, *weights = NULL;
    uint16_t from = 0, to = UINT16_MAX;
    int has_from = 0, has_to = 0, c;
    struct cb_ref_settings set;
    cb_ref_settings_default(&set);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'n': name = optarg; break;
        case 's': scheme = optarg; break;
        case 'g': group = optarg; break;
        case 'w': weights = optarg; break;
        case 'F':
        case 'T':
            if (cli_parse_day(optarg, c == 'F' ? &from : &to)) {
                cli_error("reference", "dates are YYYY-MM-DD: %s", optarg);
                return CB_EXIT_USAGE;
            }
            *(c == 'F' ? &has_from : &has_to) = 1;
            break;
        case 't':
            if (!strcmp(optarg, "iqr")) set.trim = CB_TRIM_IQR;
            else if (!strcmp(optarg, "percentile")) set.trim = CB_TRIM_PERCENTILE;
            else if (!strcmp(optarg, "logsd")) set.trim = CB_TRIM_LOGSD;
            else if (!strcmp(optarg, "none")) set.trim = CB_TRIM_NONE;
            else {
                cli_error("reference", "--trim wants iqr, percentile, logsd or none");
                return CB_EXIT_USAGE;
            }
            break;
        case 'k':
        case 'r': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > 1000000) {
                cli_error("reference", "--%s wants a positive number",
                          c == 'k' ? "min-kept" : "min-risk-cases");
                return CB_EXIT_USAGE;
            }
            *(c == 'k' ? &set.min_kept : &set.min_risk_cases) = (int)v;
            break;
        }
        case 'h': fputs(cmd_reference_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_reference_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("reference", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    struct cli_engine ce;
    int status = CB_EXIT_FAIL;
    uint8_t *mask = NULL;
    int *local = NULL, *adrg = NULL, *map = NULL;
    double *fw = NULL;
    const char **codes = NULL;
    struct cb_ref_case *cases = NULL;
    struct cb_ref_result res = { 0 };
    if (cli_engine_load(&ce, st, "reference")) {
        cb_store_close(st);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    if (cli_hospital_mask(&ce, st, NULL, group, &mask, "reference"))
        goto out;

    size_t nf;
    const struct cb_fact *f = cb_engine_facts(ce.e, &nf);
    /* The scheme: given, or the one with the most grouped cases. */
    if (!scheme) {
        int64_t *per = cb_calloc((size_t)ce.names.ndrg + 1, sizeof *per);
        if (!per)
            goto out;
        for (size_t i = 0; i < nf; i++)
            if ((f[i].flags & CB_FACT_GROUPED) && f[i].drg < ce.names.ndrg)
                per[f[i].drg]++;
        int64_t best = 0;
        for (int i = 0; i < ce.names.ndrg; i++) {
            if (!ce.names.drg_scheme[i])
                continue;
            int64_t tot = 0;
            for (int j = 0; j < ce.names.ndrg; j++)
                if (ce.names.drg_scheme[j] && !strcmp(ce.names.drg_scheme[j], ce.names.drg_scheme[i]))
                    tot += per[j];
            if (tot > best) {
                best = tot;
                scheme = ce.names.drg_scheme[i];
            }
        }
        cb_free(per);
        if (!scheme) {
            cli_error("reference", "no grouped cases in the database: import and "
                      "group records first");
            goto out;
        }
    }
    /* Local DRG indices of the scheme, and their ADRG (first 3 characters). */
    local = cb_calloc((size_t)ce.names.ndrg + 1, sizeof *local);
    map = cb_calloc((size_t)ce.names.ndrg + 1, sizeof *map);
    adrg = cb_calloc((size_t)ce.names.ndrg + 1, sizeof *adrg);
    codes = cb_calloc((size_t)ce.names.ndrg + 1, sizeof *codes);
    fw = cb_calloc((size_t)ce.names.ndrg + 1, sizeof *fw);
    if (!local || !map || !adrg || !codes || !fw)
        goto out;
    int nlocal = 0;
    for (int i = 0; i < ce.names.ndrg; i++) {
        map[i] = -1;
        if (ce.names.drg_scheme[i] && !strcmp(ce.names.drg_scheme[i], scheme)) {
            map[i] = nlocal;
            codes[nlocal] = ce.names.drg_code[i];
            fw[nlocal] = NAN;
            local[nlocal++] = i;
        }
    }
    if (!nlocal) {
        cli_error("reference", "no case is grouped with scheme %s", scheme);
        goto out;
    }
    for (int i = 0; i < nlocal; i++) {
        adrg[i] = i;
        for (int j = 0; j < i; j++)
            if (!strncmp(codes[i], codes[j], 3)) {
                adrg[i] = adrg[j];
                break;
            }
    }
    if (weights && load_weights(weights, &ce, local, nlocal, fw))
        goto out;
    size_t n = 0;
    cases = cb_malloc((nf + 1) * sizeof *cases);
    if (!cases)
        goto out;
    for (size_t i = 0; i < nf; i++) {
        const struct cb_fact *x = &f[i];
        if (!(x->flags & CB_FACT_GROUPED) || x->drg >= ce.names.ndrg || map[x->drg] < 0)
            continue;
        if (x->day < from || x->day > to || (mask && !mask[x->hospital]))
            continue;
        cases[n++] = (struct cb_ref_case){ .cost = x->zfy, .los = x->los,
                                           .drg = (uint16_t)map[x->drg],
                                           .death = !!(x->flags & CB_FACT_DEATH) };
    }
    if (!n) {
        cli_error("reference", "no grouped case of scheme %s in the chosen population",
                  scheme);
        goto out;
    }
    if (cb_ref_compute(cases, n, nlocal, adrg, weights ? fw : NULL, &set, &res, &err)) {
        cli_error("reference", "%s", cb_buf_cstr(&err));
        goto out;
    }
    struct cb_store_ref_info info;
    memset(&info, 0, sizeof info);
    if (name)
        snprintf(info.name, sizeof info.name, "%s", name);
    else {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        snprintf(info.name, sizeof info.name, "%s-%s-%04d%02d%02d", scheme,
                 group ? group : "all", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    }
    snprintf(info.scheme, sizeof info.scheme, "%s", scheme);
    snprintf(info.region, sizeof info.region, "%s", group ? group : "");
    info.day_from = has_from ? from : -1;
    info.day_to = has_to ? to : -1;
    static const char *const trims[] = { "iqr", "percentile", "logsd", "none" };
    snprintf(info.settings, sizeof info.settings,
             "{\"trim\":\"%s\",\"iqr_k\":%g,\"min_kept\":%d,\"min_risk_cases\":%d,"
             "\"risk_transform\":\"%s\",\"sd\":\"%s\",\"cost\":\"ZFY\"}",
             trims[set.trim & 3], set.iqr_k, set.min_kept, set.min_risk_cases,
             set.risk_ln ? "ln" : "none", set.risk_sample_sd ? "sample" : "population");
    if (weights)
        snprintf(info.weights_file, sizeof info.weights_file, "%s", weights);
    if (cb_store_reference_save(st, &info, &res, codes, &err)) {
        cli_error("reference", "%s", cb_buf_cstr(&err));
        goto out;
    }
    int graded[5] = { 0 }, weighted = 0;
    for (int i = 0; i < res.ndrgs; i++) {
        if (res.drg[i].risk >= 0 && res.drg[i].risk <= 4)
            graded[res.drg[i].risk]++;
        weighted += res.drg[i].source != CB_RW_NONE;
    }
    if (!cli->quiet)
        fprintf(stderr,
                "reference '%s': scheme %s, %zu grouped cases, %d DRGs (%d with a "
                "weight); risk grades 0/1/2/3/4: %d/%d/%d/%d/%d\n",
                info.name, scheme, n, nlocal, weighted, graded[0], graded[1],
                graded[2], graded[3], graded[4]);
    status = CB_EXIT_OK;
out:
    cb_ref_result_release(&res);
    cb_free(cases);
    cb_free(local);
    cb_free(map);
    cb_free(adrg);
    cb_free(codes);
    cb_free(fw);
    cb_free(mask);
    cli_engine_release(&ce);
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}

static int
list_or_show(int argc, char **argv, const struct cb_cli *cli, int show)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum cli_fmt fmt = CLI_FMT_TABLE;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (cli_parse_fmt(optarg, &fmt)) {
                cli_error("reference", "--format wants table, csv or json");
                return CB_EXIT_USAGE;
            }
            break;
        case 'h': fputs(cmd_reference_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_reference_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    const char *name = show && optind < argc ? argv[optind] : NULL;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("reference", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    int status = CB_EXIT_OK;
    char sql[1024];
    if (!show) {
        snprintf(sql, sizeof sql,
                 "SELECT id, name, scheme, coalesce(region,'') AS \"group\","
                 " coalesce(date(day_from + 10957, 'unixepoch'),'') AS \"from\","
                 " coalesce(date(day_to + 10957, 'unixepoch'),'') AS \"to\","
                 " cases, kept, graded, printf('%%.2f', pooled_mean / 100.0) AS"
                 " mean_cost_yuan, created_at FROM reference ORDER BY id");
    } else {
        struct cb_store_ref_info info;
        if (cb_store_reference_load(st, name, &info, NULL, NULL, &err)) {
            cli_error("reference", "%s", cb_buf_cstr(&err));
            cb_store_close(st);
            cb_buf_release(&err);
            return CB_EXIT_FAIL;
        }
        snprintf(sql, sizeof sql,
                 "SELECT drg, cases, kept, deaths, printf('%%.2f', mean_cost / 100.0)"
                 " AS mean_cost_yuan, printf('%%.2f', mean_los) AS mean_los,"
                 " printf('%%.4f', weight) AS weight, weight_source,"
                 " printf('%%.4f', mortality) AS mortality, risk"
                 " FROM reference_drg WHERE reference_id = %lld ORDER BY drg",
                 (long long)info.id);
    }
    struct cli_rows rows;
    cli_rows_init(&rows, fmt);
    if (cb_store_query(st, sql, cli_rows_add, &rows, &err) != CB_OK) {
        cli_error("reference", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
    } else {
        cli_rows_finish(&rows, stdout);
    }
    cli_rows_release(&rows);
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}

int
cmd_reference(int argc, char **argv, const struct cb_cli *cli)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(cmd_reference_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CB_EXIT_USAGE : CB_EXIT_OK;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "create"))
        return create(argc - 1, argv + 1, cli);
    if (!strcmp(sub, "list"))
        return list_or_show(argc - 1, argv + 1, cli, 0);
    if (!strcmp(sub, "show"))
        return list_or_show(argc - 1, argv + 1, cli, 1);
    cli_error("reference", "unknown subcommand '%s' (create, list, show)", sub);
    return CB_EXIT_USAGE;
}
