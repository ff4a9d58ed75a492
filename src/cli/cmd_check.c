/*
 * cmd_check.c - `carebase check FILE...`: the import checks, storing nothing.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "carebase/import.h"
#include "carebase/json.h"
#include "cli.h"
#include "cli_env.h"
#include "cli_summary.h"

const char cmd_check_usage[] =
    "usage: carebase check [OPTIONS] FILE...\n"
    "\n"
    "Runs the same reading and data-quality checks as 'carebase import' and\n"
    "reports the result, storing nothing.\n"
    "\n"
    "Options:\n"
    "  --report FMT        text (default), csv or json\n"
    "  --rules-only        only the per-rule summary, not every record\n"
    "  --profile, --aliases, --encoding, --format, --hospital, --hospital-name\n"
    "                      as for 'carebase import'\n"
    "\n"
    "text: one line per issue, then the per-rule summary.\n"
    "csv:  file,line,zzjgdm,bah,zycs,rule,severity,field,value,detail\n"
    "json: {\"files\":[{\"records\":[{line, issues}], \"summary\":{counts,\n"
    "      \"rules\":[...]}}]}\n"
    "\n"
    "Exit status: 0 when every file was readable (whatever the issues), 1 when\n"
    "a file is malformed, 2 on usage.\n";

enum report { REP_TEXT, REP_CSV, REP_JSON };

struct check_ctx {
    enum report      fmt;
    int              rules_only;
    const char      *file;
    const struct cb_qc *qc;
    struct cb_buf   *json;
    int              first_record;
    FILE            *out;
};

static enum cb_err
on_row(void *ctx, uint64_t line, struct cb_str raw, const struct cb_fp *r,
       const struct cb_qc_result *res)
{
    struct check_ctx *cc = ctx;
    char key[32];
    int i;
    enum cb_err rc = CB_OK;

    (void)raw;
    if (cc->rules_only || res->n == 0)
        return CB_OK;
    for (i = 0; i < res->n; i++) {
        const struct cb_qc_issue *is = &res->issue[i];
        const char *field = is->field >= 0 ? cb_fp_key(is->field, key, sizeof(key)) : "";
        struct cb_buf vb = CB_BUF_INIT;
        const char *value;

        if (cb_buf_add(&vb, is->value.ptr ? is->value.ptr : "", is->value.len) != CB_OK)
            return CB_ERR_NOMEM;
        value = cb_buf_cstr(&vb);
        if (cc->fmt == REP_TEXT) {
            fprintf(cc->out, "%s:%" PRIu64 ": %s %s %s='%s' %s\n", cc->file, line,
                    cb_qc_sev_name(is->sev), cb_qc_rule_id(cc->qc, is->rule), field,
                    value, is->detail);
        } else if (cc->fmt == REP_CSV) {
            static const int keyf[3] = { CB_F_ZZJGDM, CB_F_BAH, CB_F_ZYCS };
            struct cb_buf kb[3] = { CB_BUF_INIT, CB_BUF_INIT, CB_BUF_INIT };
            const char *cells[10];
            char ln[24];
            int k;

            snprintf(ln, sizeof(ln), "%" PRIu64, line);
            for (k = 0; k < 3; k++) /* whole values, never truncated */
                if (cb_buf_add(&kb[k], r->v[keyf[k]].ptr ? r->v[keyf[k]].ptr : "",
                               r->v[keyf[k]].len) != CB_OK) {
                    while (k >= 0)
                        cb_buf_release(&kb[k--]);
                    cb_buf_release(&vb);
                    return CB_ERR_NOMEM;
                }
            cells[0] = cc->file; cells[1] = ln; cells[2] = cb_buf_cstr(&kb[0]);
            cells[3] = cb_buf_cstr(&kb[1]); cells[4] = cb_buf_cstr(&kb[2]);
            cells[5] = cb_qc_rule_id(cc->qc, is->rule);
            cells[6] = cb_qc_sev_name(is->sev); cells[7] = field; cells[8] = value;
            cells[9] = is->detail;
            for (k = 0; k < 10; k++) {
                if (k)
                    fputc(',', cc->out);
                cli_csv_field(cc->out, cells[k]);
            }
            fputc('\n', cc->out);
            for (k = 0; k < 3; k++)
                cb_buf_release(&kb[k]);
        }
        cb_buf_release(&vb);
    }
    if (cc->fmt != REP_JSON)
        return CB_OK;
    if ((!cc->first_record && (rc = cb_buf_addc(cc->json, ','))) ||
        (rc = cb_buf_addf(cc->json, "{\"line\":%" PRIu64 ",\"issues\":[", line)))
        return rc;
    cc->first_record = 0;
    for (i = 0; i < res->n; i++) {
        const struct cb_qc_issue *is = &res->issue[i];
        if ((i && (rc = cb_buf_addc(cc->json, ','))) ||
            (rc = cb_buf_adds(cc->json, "{\"rule\":")) ||
            (rc = cb_json_strz(cc->json, cb_qc_rule_id(cc->qc, is->rule))) ||
            (rc = cb_buf_addf(cc->json, ",\"severity\":\"%s\",\"field\":",
                              cb_qc_sev_name(is->sev))) ||
            (rc = cb_json_strz(cc->json, is->field >= 0 ? cb_fp_key(is->field, key, sizeof(key)) : "")) ||
            (rc = cb_buf_adds(cc->json, ",\"value\":")) ||
            (rc = cb_json_str(cc->json, is->value)) ||
            (rc = cb_buf_adds(cc->json, ",\"detail\":")) ||
            (rc = cb_json_strz(cc->json, is->detail)) ||
            (rc = cb_buf_addc(cc->json, '}')))
            return rc;
    }
    return cb_buf_adds(cc->json, "]}");
}

int
cmd_check(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        CLI_READ_OPTIONS,
        { "report", required_argument, NULL, 'r' },
        { "rules-only", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cb_import_opts io;
    struct cli_env env;
    struct check_ctx cc;
    struct cb_buf err = CB_BUF_INIT, json = CB_BUF_INIT;
    const char *aliases = NULL;
    int c, i, status = CB_EXIT_OK, v;

    memset(&io, 0, sizeof(io));
    memset(&cc, 0, sizeof(cc));
    cc.out = stdout;
    cc.json = &json;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((v = cli_read_option("check", c, optarg, &io, &aliases)) != 0) {
            if (v < 0)
                return CB_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 'r':
            if (!strcmp(optarg, "text"))
                cc.fmt = REP_TEXT;
            else if (!strcmp(optarg, "csv"))
                cc.fmt = REP_CSV;
            else if (!strcmp(optarg, "json"))
                cc.fmt = REP_JSON;
            else {
                cli_error("check", "unknown report format '%s' (text, csv, json)", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'R': cc.rules_only = 1; break;
        case 'h': fputs(cmd_check_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_check_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("check", "no files given");
        return CB_EXIT_USAGE;
    }
    if (cli_env_load(&env, cli, "check", aliases))
        return CB_EXIT_FAIL;
    io.profiles = env.profiles;
    io.on_row = on_row;
    io.row_ctx = &cc;
    cc.qc = env.qc;
    if (cc.fmt == REP_CSV)
        fputs("file,line,zzjgdm,bah,zycs,rule,severity,field,value,detail\n", stdout);
    if (cc.fmt == REP_JSON && cb_buf_adds(&json, "{\"files\":[") != CB_OK)
        status = CB_EXIT_FAIL;
    for (i = optind; i < argc; i++) {
        struct cb_import_summary sum;
        struct cli_progress prog;
        size_t mark = 0;
        enum cb_err rc;

        cb_import_summary_init(&sum);
        cli_progress_init(&prog, argv[i], cli->quiet || cc.fmt == REP_TEXT);
        io.progress = cli_progress_cb;
        io.progress_ctx = &prog;
        cc.file = argv[i];
        cc.first_record = 1;
        cb_buf_reset(&err);
        if (cc.fmt == REP_JSON) {
            if (i > optind && cb_buf_addc(&json, ',') != CB_OK)
                status = CB_EXIT_FAIL;
            if (cb_buf_adds(&json, "{\"records\":[") != CB_OK)
                status = CB_EXIT_FAIL;
            mark = json.len;
        }
        (void)mark;
        rc = cb_import_file(&io, NULL, env.qc, env.rd, argv[i], &sum, &err);
        if (rc) {
            cli_error("check", "%s", cb_buf_cstr(&err));
            status = CB_EXIT_FAIL;
        }
        if (cc.fmt == REP_JSON) {
            if (cb_buf_adds(&json, "],\"summary\":") != CB_OK ||
                cli_summary_json(&json, &sum, env.qc, cli_elapsed(&prog.start),
                                 rc ? cb_buf_cstr(&err) : NULL) != CB_OK ||
                cb_buf_addc(&json, '}') != CB_OK)
                status = CB_EXIT_FAIL;
        } else if (cc.fmt == REP_TEXT && !rc) {
            cli_summary_text(stdout, &sum, env.qc, 0, 0);
        }
        cb_import_summary_release(&sum);
    }
    if (cc.fmt == REP_JSON && cb_buf_adds(&json, "]}") == CB_OK)
        puts(cb_buf_cstr(&json));
    cli_env_release(&env);
    cb_buf_release(&err);
    cb_buf_release(&json);
    return status;
}
