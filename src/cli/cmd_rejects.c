/*
 * cmd_rejects.c - `carebase rejects`: rejected rows and the rules they failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "carebase/json.h"
#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_rejects_usage[] =
    "usage: carebase rejects [--rule ID] [--file NAME] [--all] [--raw]\n"
    "                        [--format text|csv|json]\n"
    "\n"
    "Lists rejected rows, one line per failed rule: file, line, record key,\n"
    "rule, severity, field, value and why. By default only open rejects are\n"
    "shown: a reject is resolved when a later import accepts the same record,\n"
    "and superseded when a later import rejects it again.\n"
    "\n"
    "  --rule ID     only this rule (e.g. QC-DATE-02)\n"
    "  --file NAME   only this file (base name or path as imported)\n"
    "  --all         include resolved and superseded rejects\n"
    "  --raw         also print the raw line (text format)\n";

enum fmt { F_TEXT, F_CSV, F_JSON };

struct rej_ctx {
    enum fmt      fmt;
    int           raw;
    unsigned long n;
    struct cb_buf json;
};

static enum cb_err
row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct rej_ctx *rc = ctx;
    int i;
    enum cb_err e = CB_OK;

#define V(i) (v[i] ? v[i] : "")
    rc->n++;
    switch (rc->fmt) {
    case F_TEXT:
        printf("%s:%s: %s/%s/%s %s %s %s='%s' %s\n", V(0), V(1), V(2), V(3), V(4),
               V(7), V(6), V(8), V(9), V(10));
        if (rc->raw)
            printf("    %s\n", V(11));
        break;
    case F_CSV:
        for (i = 0; i < ncols; i++) {
            if (i)
                putchar(',');
            cli_csv_field(stdout, v[i]);
        }
        putchar('\n');
        break;
    case F_JSON:
        if ((rc->n > 1 && (e = cb_buf_addc(&rc->json, ','))) ||
            (e = cb_buf_addc(&rc->json, '{')))
            return e;
        for (i = 0; i < ncols; i++) {
            if ((i && (e = cb_buf_addc(&rc->json, ','))) ||
                (e = cb_json_strz(&rc->json, names[i])) ||
                (e = cb_buf_addc(&rc->json, ':')) ||
                (e = v[i] ? cb_json_strz(&rc->json, v[i]) : cb_buf_adds(&rc->json, "null")))
                return e;
        }
        e = cb_buf_addc(&rc->json, '}');
        break;
    }
#undef V
    return e;
}

int
cmd_rejects(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "rule", required_argument, NULL, 'r' },
        { "file", required_argument, NULL, 'f' },
        { "all", no_argument, NULL, 'a' },
        { "raw", no_argument, NULL, 'R' },
        { "format", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct rej_ctx rc;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    const char *rule = NULL, *file = NULL;
    int c, all = 0, status = CB_EXIT_OK;

    memset(&rc, 0, sizeof(rc));
    cb_buf_init(&rc.json, CB_BUF_MAX_DEFAULT);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rule = optarg; break;
        case 'f': file = optarg; break;
        case 'a': all = 1; break;
        case 'R': rc.raw = 1; break;
        case 'F':
            if (!strcmp(optarg, "text"))
                rc.fmt = F_TEXT;
            else if (!strcmp(optarg, "csv"))
                rc.fmt = F_CSV;
            else if (!strcmp(optarg, "json"))
                rc.fmt = F_JSON;
            else {
                cli_error("rejects", "unknown format '%s' (text, csv, json)", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'h': fputs(cmd_rejects_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_rejects_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("rejects", "unexpected argument '%s'", argv[optind]);
        return CB_EXIT_USAGE;
    }
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("rejects", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    if (rc.fmt == F_CSV)
        puts("file,line,zzjgdm,bah,zycs,status,rule,severity,field,value,detail,raw");
    if (rc.fmt == F_JSON && cb_buf_adds(&rc.json, "{\"rejects\":[") != CB_OK)
        status = CB_EXIT_FAIL;
    if (cb_store_list_rejects(st, rule, file, all, row, &rc, &err) != CB_OK) {
        cli_error("rejects", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
    }
    if (rc.fmt == F_JSON && status == CB_EXIT_OK &&
        cb_buf_adds(&rc.json, "]}") == CB_OK)
        puts(cb_buf_cstr(&rc.json));
    if (rc.fmt == F_TEXT && !cli->quiet)
        fprintf(stderr, "%lu issue%s\n", rc.n, rc.n == 1 ? "" : "s");
    cb_store_close(st);
    cb_buf_release(&err);
    cb_buf_release(&rc.json);
    return status;
}
