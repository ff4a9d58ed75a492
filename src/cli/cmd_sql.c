/*
 * cmd_sql.c - `carebase sql QUERY`: read-only SQL on the database, with
 * Carebase's own SQL functions (fp_data) available.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_sql_usage[] =
    "usage: carebase sql [--format table|csv|json] QUERY\n"
    "\n"
    "Runs one read-only SQL statement on the database and prints the rows.\n"
    "Besides SQLite's functions, fp_data(record.data) returns a record's\n"
    "items as JSON (the column is stored in a binary layout), so for example:\n"
    "\n"
    "  carebase sql \"SELECT bah, json_extract(fp_data(data), '$.ZFY')\n"
    "                FROM record LIMIT 5\"\n"
    "  carebase sql \"SELECT code, count(*) FROM record_dx WHERE seq = 0\n"
    "                GROUP BY code ORDER BY 2 DESC LIMIT 10\"\n"
    "\n"
    "Tables and views are described in docs/architecture.md. Statements that\n"
    "would change the database are refused.\n";

int
cmd_sql(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    enum cli_fmt fmt = CLI_FMT_TABLE;
    struct cli_rows rows;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    int c, status = CB_EXIT_OK;
    enum cb_err rc;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (cli_parse_fmt(optarg, &fmt)) {
                cli_error("sql", "unknown format '%s' (table, csv, json)", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'h': fputs(cmd_sql_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_sql_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        cli_error("sql", "give exactly one QUERY");
        return CB_EXIT_USAGE;
    }
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("sql", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    cli_rows_init(&rows, fmt);
    rc = cb_store_query(st, argv[optind], cli_rows_add, &rows, &err);
    if (rc) {
        cli_error("sql", "%s", cb_buf_cstr(&err));
        status = rc == CB_ERR_USAGE ? CB_EXIT_USAGE : CB_EXIT_FAIL;
    } else {
        cli_rows_finish(&rows, stdout);
        if (fmt == CLI_FMT_JSON)
            putchar('\n');
    }
    cli_rows_release(&rows);
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}
