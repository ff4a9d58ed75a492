/*
 * cmd_sql.c - `carebase sql QUERY`: read-only SQL on the database, with
 * Carebase's own SQL functions (fp_data) available.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "carebase/json.h"
#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_sql_usage[] =
    "usage: carebase sql [--format table|csv|json] QUERY\n"
    "\n"
    "Runs one read-only SQL statement on the database and prints the rows.\n"
    "Besides SQLite's functions, fp_data(record.data) returns a record's\n"
    "items as JSON (the column is stored compressed), so for example:\n"
    "\n"
    "  carebase sql \"SELECT bah, json_extract(fp_data(data), '$.ZFY')\n"
    "                FROM record LIMIT 5\"\n"
    "  carebase sql \"SELECT code, count(*) FROM record_dx WHERE seq = 0\n"
    "                GROUP BY code ORDER BY 2 DESC LIMIT 10\"\n"
    "\n"
    "Tables and views are described in docs/architecture.md. Statements that\n"
    "would change the database are refused.\n";

enum fmt { F_TABLE, F_CSV, F_JSON };

struct sql_ctx {
    enum fmt          fmt;
    struct cli_table *table;
    unsigned long     n;
    struct cb_buf     json;
};

static enum cb_err
row(void *ctx, int ncols, const char *const *names, const char *const *v)
{
    struct sql_ctx *sc = ctx;
    enum cb_err e = CB_OK;
    int i;

    if (sc->n++ == 0 && sc->fmt == F_TABLE)
        sc->table = cli_table_new(ncols, names);
    if (sc->n == 1 && sc->fmt == F_CSV) {
        for (i = 0; i < ncols; i++) {
            if (i)
                putchar(',');
            cli_csv_field(stdout, names[i]);
        }
        putchar('\n');
    }
    switch (sc->fmt) {
    case F_TABLE:
        cli_table_add(sc->table, v);
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
        if ((sc->n > 1 && (e = cb_buf_addc(&sc->json, ','))) ||
            (e = cb_buf_addc(&sc->json, '{')))
            return e;
        for (i = 0; i < ncols; i++)
            if ((i && (e = cb_buf_addc(&sc->json, ','))) ||
                (e = cb_json_strz(&sc->json, names[i])) ||
                (e = cb_buf_addc(&sc->json, ':')) ||
                (e = v[i] ? cb_json_strz(&sc->json, v[i]) : cb_buf_adds(&sc->json, "null")))
                return e;
        e = cb_buf_addc(&sc->json, '}');
        break;
    }
    return e;
}

int
cmd_sql(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "format", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct sql_ctx sc;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    int c, status = CB_EXIT_OK;
    enum cb_err rc;

    memset(&sc, 0, sizeof(sc));
    cb_buf_init(&sc.json, CB_BUF_MAX_DEFAULT);
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'F':
            if (!strcmp(optarg, "table"))
                sc.fmt = F_TABLE;
            else if (!strcmp(optarg, "csv"))
                sc.fmt = F_CSV;
            else if (!strcmp(optarg, "json"))
                sc.fmt = F_JSON;
            else {
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
    if (sc.fmt == F_JSON && cb_buf_addc(&sc.json, '[') != CB_OK)
        status = CB_EXIT_FAIL;
    rc = cb_store_query(st, argv[optind], row, &sc, &err);
    if (rc) {
        cli_error("sql", "%s", cb_buf_cstr(&err));
        status = rc == CB_ERR_USAGE ? CB_EXIT_USAGE : CB_EXIT_FAIL;
    } else if (sc.fmt == F_TABLE) {
        cli_table_print(sc.table, stdout);
    } else if (sc.fmt == F_JSON && cb_buf_addc(&sc.json, ']') == CB_OK) {
        puts(cb_buf_cstr(&sc.json));
    }
    cli_table_free(sc.table);
    cb_store_close(st);
    cb_buf_release(&err);
    cb_buf_release(&sc.json);
    return status;
}
