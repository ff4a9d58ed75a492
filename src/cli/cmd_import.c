/*
 * cmd_import.c - `carebase import FILE...`
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "carebase/import.h"
#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"
#include "cli_summary.h"

const char cmd_import_usage[] =
    "usage: carebase import [OPTIONS] FILE...\n"
    "\n"
    "Imports inpatient front-page files (住院病案首页) into the database. Each\n"
    "row is checked against the data-quality rules: rows with errors (E) are\n"
    "rejected and kept with their raw line and failed rules ('carebase\n"
    "rejects'); rows with only warnings (W) are stored with their warnings.\n"
    "Importing a record again replaces the earlier version, which is kept in\n"
    "history; an identical record is left unchanged.\n"
    "\n"
    "Each accepted record is grouped into a DRG with the scheme chosen for its\n"
    "discharge date and region ('carebase scheme'); when none is installed,\n"
    "the package of --scheme (or $CAREBASE_SCHEME) is installed for all. The\n"
    "national clinical 2.0 codes hospitals record are translated to the\n"
    "scheme's insurance edition; a code that cannot be is reported with the\n"
    "record (status ZD_NOT_MAPPING / SS_NOT_MAPPING).\n"
    "\n"
    "Options:\n"
    "  --profile NAME      column dialect: western, tcm, n041 (default: detect)\n"
    "  --aliases FILE      extra profile file with a hospital's own column names\n"
    "  --encoding ENC      auto (default), utf-8 or gb18030\n"
    "  --format FMT        auto (default), csv, tsv or xlsx\n"
    "  --hospital CODE     organisation code (ZZJGDM) for files without one\n"
    "  --hospital-name N   institution name to go with --hospital\n"
    "  --batch N           rows per transaction (default 20000)\n"
    "  --workers N         threads that check and encode rows while one reads\n"
    "                      and one writes (default: one per processor, at most 8)\n"
    "  --no-translate      group the codes as recorded (no code translation)\n"
    "  --no-group          store the records without grouping them\n"
    "  --json              print the summary as JSON on stdout\n"
    "\n"
    "Exit status: 0 when every file was read to its end (rejected rows are not\n"
    "failures), 1 when a file is malformed or the database fails, 2 on usage.\n";

int
cmd_import(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        CLI_READ_OPTIONS,
        { "batch", required_argument, NULL, 'b' },
        { "workers", required_argument, NULL, 'w' },
        { "json", no_argument, NULL, 'j' },
        { "no-translate", no_argument, NULL, 'T' },
        { "no-group", no_argument, NULL, 'G' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cb_import_opts io;
    struct cli_env env;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT, json = CB_BUF_INIT;
    const char *aliases = NULL;
    struct cb_store_drg_chooser *drg = NULL;
    struct cb_catalogues cat;
    int c, i, json_out = 0, status = CB_EXIT_OK, v, group = 1;
    long batch;

    memset(&io, 0, sizeof(io));
    io.drg_translate = CB_DRG_TR_CODES;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((v = cli_read_option("import", c, optarg, &io, &aliases)) != 0) {
            if (v < 0)
                return CB_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 'b': {
            char *end;
            batch = strtol(optarg, &end, 10);
            if (*end || batch < 1 || batch > 10000000) {
                cli_error("import", "--batch wants a number from 1 to 10000000");
                return CB_EXIT_USAGE;
            }
            io.batch_rows = (uint32_t)batch;
            break;
        }
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > 8) {
                cli_error("import", "--workers wants a number from 1 to 8");
                return CB_EXIT_USAGE;
            }
            io.workers = (unsigned)n;
            break;
        }
        case 'j': json_out = 1; break;
        case 'T': io.drg_translate = CB_DRG_TR_OFF; break;
        case 'G': group = 0; break;
        case 'h': fputs(cmd_import_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_import_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        cli_error("import", "no files given");
        fputs(cmd_import_usage, stderr);
        return CB_EXIT_USAGE;
    }
    if (cli_env_load(&env, cli, "import", aliases))
        return CB_EXIT_FAIL;
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("import", "%s", cb_buf_cstr(&err));
        cli_env_release(&env);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    if (group && cb_import_drg_prepare(st, cli->scheme_dir, &drg, &err) != CB_OK) {
        cli_error("import", "%s", cb_buf_cstr(&err));
        cb_store_close(st);
        cli_env_release(&env);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    io.drg = drg;
    io.profiles = env.profiles;
    if (cli_catalogues_load(&cat, cli, "import") ||
        cb_store_fact_begin(st, &err) != CB_OK) {
        if (err.len)
            cli_error("import", "%s", cb_buf_cstr(&err));
        cb_store_drg_chooser_free(drg);
        cb_store_close(st);
        cli_env_release(&env);
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    io.facts = &cat;
    if (json_out && cb_buf_adds(&json, "{\"files\":[") != CB_OK)
        status = CB_EXIT_FAIL;
    for (i = optind; i < argc; i++) {
        struct cb_import_summary sum;
        struct cli_progress prog;
        enum cb_err rc;
        double secs;

        cb_import_summary_init(&sum);
        cli_progress_init(&prog, argv[i], cli->quiet);
        io.progress = cli_progress_cb;
        io.progress_ctx = &prog;
        cb_buf_reset(&err);
        rc = cb_import_file(&io, st, env.qc, env.rd, argv[i], &sum, &err);
        secs = cli_elapsed(&prog.start);
        if (prog.active)
            fputs("\r\033[K", stderr);
        if (rc) {
            cli_error("import", "%s", cb_buf_cstr(&err));
            if (sum.failed && sum.counts.read)
                fprintf(stderr, "carebase import: %llu rows were read before the "
                        "problem; the batches committed before it are kept, the "
                        "batch in progress was rolled back. Fix the file and "
                        "import it again to complete it\n",
                        (unsigned long long)sum.counts.read);
            status = CB_EXIT_FAIL;
        }
        if (json_out) {
            if ((i > optind && cb_buf_addc(&json, ',') != CB_OK) ||
                cli_summary_json(&json, &sum, env.qc, secs,
                                 rc ? cb_buf_cstr(&err) : NULL) != CB_OK)
                status = CB_EXIT_FAIL;
        } else if (!cli->quiet && !rc) {
            cli_summary_text(stderr, &sum, env.qc, secs, 1);
        }
        cb_import_summary_release(&sum);
        if (rc && rc != CB_ERR_PROTO && rc != CB_ERR_NOT_FOUND && rc != CB_ERR_IO)
            break; /* database or memory failure: stop */
        if (rc)
            status = CB_EXIT_FAIL;
    }
    if (json_out && cb_buf_adds(&json, "]}") == CB_OK)
        puts(cb_buf_cstr(&json));
    cb_store_drg_chooser_free(drg);
    cb_store_close(st);
    cb_catalogues_release(&cat);
    cli_env_release(&env);
    cb_buf_release(&err);
    cb_buf_release(&json);
    return status;
}
