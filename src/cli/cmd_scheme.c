/*
 * cmd_scheme.c - `carebase scheme`: install DRG scheme packages, say where
 * and when each applies, list and remove those uses.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "carebase/date.h"
#include "carebase/drg.h"
#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"

const char cmd_scheme_usage[] =
    "usage: carebase scheme install DIR [--region NAME] [--from DATE] [--to DATE]\n"
    "       carebase scheme list [--format table|csv|json]\n"
    "       carebase scheme remove USE\n"
    "\n"
    "Several DRG schemes can be installed at once; each record is grouped with\n"
    "the one chosen for its discharge date and its hospital's region. A use\n"
    "says where (a region, an org_group of kind region: 'carebase org add\n"
    "region CODE NAME', 'carebase org join CODE ZZJGDM'; or everywhere) and\n"
    "when (discharge dates, inclusive; open when not given) a scheme applies.\n"
    "Among the uses that cover a record's discharge date, a use for its\n"
    "hospital's region beats one for everywhere, then the latest --from wins,\n"
    "then the latest installed.\n"
    "\n"
    "  install DIR    loads and verifies the package in DIR (a broken package\n"
    "                 is refused with the reason), records it (the same\n"
    "                 scheme and version reuse their entry) and adds a use\n"
    "    --region NAME  region code or name (default: everywhere)\n"
    "    --from DATE    first discharge date, YYYY-MM-DD (default: open)\n"
    "    --to DATE      last discharge date, YYYY-MM-DD (default: open)\n"
    "  list           installed schemes and their uses, with the number of\n"
    "                 stored results of each scheme\n"
    "  remove USE     removes a use (its id from 'list')\n"
    "\n"
    "Stored records keep their results until 'carebase regroup' (or a new\n"
    "import) groups them again.\n";

static int
parse_day(const char *s, int64_t *day)
{
    int64_t secs;
    bool has_time;

    if (cb_parse_datetime(cb_str_c(s), &secs, &has_time) != CB_OK || has_time) {
        cli_error("scheme", "'%s' is not a date (YYYY-MM-DD)", s);
        return -1;
    }
    *day = cb_day_of(secs);
    return 0;
}

static int
install(struct cb_store *st, const char *dir, const char *region,
        const int64_t *from, const int64_t *to, int quiet)
{
    struct cb_drg_scheme *s = NULL;
    struct cb_buf err = CB_BUF_INIT;
    int64_t scheme_id = 0, use_id = 0;
    int created = 0, status = CB_EXIT_FAIL;
    enum cb_err rc;

    if ((rc = cb_drg_scheme_load(dir, NULL, &s, &err))) {
        cli_error("scheme", "cannot install '%s': %s", dir, cb_buf_cstr(&err));
        goto out;
    }
    if ((rc = cb_store_begin(st, &err)))
        goto fail;
    if ((rc = cb_store_drg_scheme_put(st, s, &scheme_id, &created, &err)) ||
        (rc = cb_store_drg_use_add(st, scheme_id, region, from, to, &use_id, &err)) ||
        (rc = cb_store_commit(st, &err))) {
        cb_store_rollback(st);
        goto fail;
    }
    if (!quiet) {
        char a[11] = "", b[11] = "";
        if (from)
            cb_format_date(*from, a);
        if (to)
            cb_format_date(*to, b);
        fprintf(stderr, "%s %s (%s, version %.12s) as scheme #%lld; use #%lld: %s%s",
                created ? "installed" : "already installed", cb_drg_scheme_id(s),
                cb_drg_scheme_name(s) ? cb_drg_scheme_name(s) : "",
                cb_drg_scheme_digest(s), (long long)scheme_id, (long long)use_id,
                region ? "region " : "everywhere", region ? region : "");
        if (from || to)
            fprintf(stderr, ", discharges %s..%s", a, b);
        fputs("\nrun 'carebase regroup' to group the stored records again\n", stderr);
    }
    status = CB_EXIT_OK;
    goto out;

fail:
    cli_error("scheme", "%s", cb_buf_cstr(&err));
out:
    cb_drg_scheme_free(s);
    cb_buf_release(&err);
    return status;
}

static int
list(struct cb_store *st, enum cli_fmt fmt)
{
    static const char *const header[] = { "use", "scheme_id", "scheme", "name",
        "digest", "region", "region_name", "valid_from", "valid_to", "records", "path" };
    struct cli_rows rows;
    struct cb_buf err = CB_BUF_INIT;
    int status = CB_EXIT_OK;

    cli_rows_init(&rows, fmt);
    cli_rows_header(&rows, 11, header);
    if (cb_store_drg_list(st, cli_rows_add, &rows, &err) != CB_OK) {
        cli_error("scheme", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
    } else if (fmt == CLI_FMT_JSON) {
        fputs("{\"schemes\":", stdout);
        cli_rows_finish(&rows, stdout);
        puts("}");
    } else {
        cli_rows_finish(&rows, stdout);
    }
    cli_rows_release(&rows);
    cb_buf_release(&err);
    return status;
}

int
cmd_scheme(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "region", required_argument, NULL, 'r' },
        { "from", required_argument, NULL, 'f' },
        { "to", required_argument, NULL, 't' },
        { "format", required_argument, NULL, 'F' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *region = NULL, *verb;
    int64_t from = 0, to = 0, id = 0;
    int has_from = 0, has_to = 0, c, status;
    enum cli_fmt fmt = CLI_FMT_TABLE;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': region = optarg; break;
        case 'f':
            if (parse_day(optarg, &from))
                return CB_EXIT_USAGE;
            has_from = 1;
            break;
        case 't':
            if (parse_day(optarg, &to))
                return CB_EXIT_USAGE;
            has_to = 1;
            break;
        case 'F':
            if (cli_parse_fmt(optarg, &fmt)) {
                cli_error("scheme", "unknown format '%s' (table, csv, json)", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'h': fputs(cmd_scheme_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_scheme_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(cmd_scheme_usage, stderr);
        return CB_EXIT_USAGE;
    }
    verb = argv[optind++];
    if (!strcmp(verb, "install") ? argc - optind != 1
        : !strcmp(verb, "remove") ? argc - optind != 1
        : !strcmp(verb, "list") ? argc - optind != 0 : 1) {
        cli_error("scheme", "usage: see 'carebase help scheme'");
        return CB_EXIT_USAGE;
    }
    if (strcmp(verb, "install") && (region || has_from || has_to)) {
        cli_error("scheme", "--region, --from and --to go with 'install'");
        return CB_EXIT_USAGE;
    }
    if (has_from && has_to && from > to) {
        cli_error("scheme", "--from is after --to: no discharge date is in the range");
        return CB_EXIT_USAGE;
    }
    if (!strcmp(verb, "remove") &&
        (cb_parse_i64(cb_str_c(argv[optind]), &id) != CB_OK || id <= 0)) {
        cli_error("scheme", "'%s' is not a use id (see 'carebase scheme list')",
                  argv[optind]);
        return CB_EXIT_USAGE;
    }
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("scheme", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        return CB_EXIT_FAIL;
    }
    if (!strcmp(verb, "install")) {
        status = install(st, argv[optind], region, has_from ? &from : NULL,
                         has_to ? &to : NULL, cli->quiet);
    } else if (!strcmp(verb, "list")) {
        status = list(st, fmt);
    } else if (cb_store_drg_use_remove(st, id, &err) != CB_OK) {
        cli_error("scheme", "%s", cb_buf_cstr(&err));
        status = CB_EXIT_FAIL;
    } else {
        if (!cli->quiet)
            fprintf(stderr, "removed use #%lld; run 'carebase regroup' to group "
                    "the stored records again\n", (long long)id);
        status = CB_EXIT_OK;
    }
    cb_store_close(st);
    cb_buf_release(&err);
    return status;
}
