/*
 * cmd_status.c - `carebase status`: what the database holds.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_status_usage[] =
    "usage: carebase status\n"
    "\n"
    "Shows the database file, its schema version, what it holds (hospitals,\n"
    "records by hospital and year, open rejects by rule) and the latest\n"
    "imports with their counts. An import shown as 'running' that is not\n"
    "running any more was interrupted: import the file again to complete it.\n";

static enum cb_err
add_row(void *ctx, int ncols, const char *const *names, const char *const *values)
{
    (void)ncols;
    (void)names;
    cli_table_add(*(struct cli_table **)ctx, values);
    return CB_OK;
}

static int
section(struct cb_store *st, const char *title, int ncols,
        const char *const *headers, const char *sql, struct cb_buf *err)
{
    struct cli_table *t = cli_table_new(ncols, headers);
    enum cb_err rc = cb_store_query(st, sql, add_row, &t, err);

    printf("%s\n", title);
    cli_table_print(t, stdout);
    putchar('\n');
    cli_table_free(t);
    return rc ? -1 : 0;
}

int
cmd_status(int argc, char **argv, const struct cb_cli *cli)
{
    static const char *const h1[] = { "zzjgdm", "name", "level", "year", "records", "with warnings" };
    static const char *const h2[] = { "rule", "severity", "open rejects" };
    static const char *const h3[] = { "id", "file", "profile", "encoding", "status", "read", "accepted", "rejected", "new", "replaced", "unchanged", "finished" };
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    int status = CB_EXIT_OK;

    if (argc > 1) {
        if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
            fputs(cmd_status_usage, stdout);
            return CB_EXIT_OK;
        }
        fputs(cmd_status_usage, stderr);
        return CB_EXIT_USAGE;
    }
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("status", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    printf("database %s (schema version %d)\n\n", cli->db_path, cb_store_schema_version(st));
    if (section(st, "Records by hospital and discharge year:", 6, h1,
                "SELECT h.zzjgdm, h.name, h.level,"
                " strftime('%Y', r.cy_day * 86400, 'unixepoch') AS year,"
                " count(*), sum(r.n_warnings > 0)"
                " FROM record r JOIN hospital h ON h.id = r.hospital_id"
                " GROUP BY h.id, year ORDER BY h.zzjgdm, year", &err) ||
        section(st, "Open rejects by rule:", 3, h2,
                "SELECT i.rule, i.severity, count(DISTINCT j.id) FROM reject j"
                " JOIN reject_issue i ON i.reject_id = j.id WHERE j.status = 'open'"
                " GROUP BY i.rule, i.severity ORDER BY 3 DESC", &err) ||
        section(st, "Latest imports:", 12, h3,
                "SELECT id, name, profile, encoding, status, rows_read, accepted,"
                " rejected, inserted, replaced, unchanged, finished_at"
                " FROM import_file ORDER BY id DESC LIMIT 10", &err)) {
        cli_error("status", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
    }
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}
