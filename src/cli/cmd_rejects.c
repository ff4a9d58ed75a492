/*
 * cmd_rejects.c - `carebase rejects`: rejected rows and the rules they failed.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

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

struct rej_ctx {
    int             text;   /* the text format: one line per issue */
    int             raw;
    unsigned long   n;
    struct cli_rows rows;   /* csv and json */
};

static enum cb_err
row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct rej_ctx *rc = ctx;

    rc->n++;
    if (!rc->text)
        return cli_rows_add(&rc->rows, ncols, names, v);
#define V(i) (v[i] ? v[i] : "")
    printf("%s:%s: %s/%s/%s %s %s %s='%s' %s\n", V(0), V(1), V(2), V(3), V(4),
           V(7), V(6), V(8), V(9), V(10));
    if (rc->raw)
        printf("    %s\n", V(11));
#undef V
    return CB_OK;
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

    enum cli_fmt fmt = CLI_FMT_CSV;
    static const char *const header[] = { "file", "line", "zzjgdm", "bah", "zycs",
        "status", "rule", "severity", "field", "value", "detail", "raw" };

    memset(&rc, 0, sizeof(rc));
    rc.text = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': rule = optarg; break;
        case 'f': file = optarg; break;
        case 'a': all = 1; break;
        case 'R': rc.raw = 1; break;
        case 'F':
            rc.text = !strcmp(optarg, "text");
            if (!rc.text && (cli_parse_fmt(optarg, &fmt) || fmt == CLI_FMT_TABLE)) {
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
    cli_rows_init(&rc.rows, fmt);
    if (!rc.text)
        cli_rows_header(&rc.rows, 12, header);
    if (cb_store_list_rejects(st, rule, file, all, row, &rc, &err) != CB_OK) {
        cli_error("rejects", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
    }
    if (!rc.text && fmt == CLI_FMT_JSON && status == CB_EXIT_OK) {
        fputs("{\"rejects\":", stdout);
        cli_rows_finish(&rc.rows, stdout);
        puts("}");
    }
    if (rc.text && !cli->quiet)
        fprintf(stderr, "%lu issue%s\n", rc.n, rc.n == 1 ? "" : "s");
    cb_store_close(st);
    cb_buf_release(&err);
    cli_rows_release(&rc.rows);
    return status;
}
