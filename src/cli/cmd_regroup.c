/*
 * cmd_regroup.c - `carebase regroup`: groups the stored records again, with
 * the scheme now chosen for each (after installing a scheme or a new
 * version of one, or changing where and when schemes apply).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "carebase/drg.h"
#include "carebase/import.h"
#include "carebase/json.h"
#include "carebase/store.h"
#include "cli.h"
#include "cli_env.h"
#include "cli_summary.h"

const char cmd_regroup_usage[] =
    "usage: carebase regroup [--scheme DIR] [--hospital ZZJGDM] [--no-translate] [--facts]\n"
    "                        [--batch N] [--json]\n"
    "\n"
    "Groups the stored records into DRGs again, each with the scheme chosen\n"
    "for its discharge date and its hospital's region ('carebase scheme'),\n"
    "and replaces their stored results.\n"
    "\n"
    "  --scheme DIR     first installs the package in DIR: a new version of an\n"
    "                   installed scheme takes the place of the old one where\n"
    "                   it applied; another scheme applies everywhere. Only\n"
    "                   the records whose choice falls on it are regrouped\n"
    "  --hospital Z     only the records of this hospital (ZZJGDM)\n"
    "  --no-translate   group the codes as recorded (no code translation)\n"
    "  --facts          also re-derive each record's indicator fact, e.g. after\n"
    "                   loading a catalogue ($CAREBASE_CATALOGUE_MIS, ...); the\n"
    "                   day-surgery flag SFRJSS is not kept in the store, so\n"
    "                   re-import files that carry it instead\n"
    "  --batch N        records per transaction (default 20000)\n"
    "  --json           print the summary as JSON on stdout\n"
    "\n"
    "Without any installed scheme, the package of the global --scheme (or\n"
    "$CAREBASE_SCHEME) is installed for everywhere first, as by 'import'.\n"
    "\n"
    "Exit status: 0 when done, 1 when the package or the database fails (the\n"
    "batches committed before stay), 2 on usage.\n";


static void
progress(void *ctx, uint64_t done)
{
    struct cli_progress *p = ctx;
    double t = cli_elapsed(&p->start);

    if (!p->active)
        return;
    fprintf(stderr, "\r\033[Kregroup: %" PRIu64 " records  %.0f records/s", done,
            t > 0 ? (double)done / t : 0.0);
    fflush(stderr);
}

/*
 * Installs dir for regrouping: the uses of another version of the same
 * scheme move to it; a scheme not installed before applies everywhere.
 */
static int
install(struct cb_store *st, const char *dir, struct cb_drg_scheme **s,
        int64_t *scheme_id, int quiet)
{
    struct cb_buf err = CB_BUF_INIT;
    int64_t nuses = 0;
    enum cb_err rc;

    if ((rc = cb_drg_scheme_load(dir, NULL, s, &err))) {
        cli_error("regroup", "cannot install '%s': %s", dir, cb_buf_cstr(&err));
        cb_buf_release(&err);
        return -1;
    }
    if ((rc = cb_store_begin(st, &err)))
        goto fail;
    if ((rc = cb_store_drg_scheme_put(st, *s, scheme_id, NULL, &err)) ||
        (rc = cb_store_drg_use_replace(st, *scheme_id, &nuses, &err)) ||
        (!nuses && (rc = cb_store_drg_use_add(st, *scheme_id, NULL, NULL, NULL,
                                              NULL, &err))) ||
        (rc = cb_store_commit(st, &err))) {
        cb_store_rollback(st);
        goto fail;
    }
    if (!quiet)
        fprintf(stderr, "regroup: %s (version %.12s) is scheme #%lld, %s\n",
                cb_drg_scheme_id(*s), cb_drg_scheme_digest(*s), (long long)*scheme_id,
                nuses ? "in place of its earlier version" : "for everywhere");
    cb_buf_release(&err);
    return 0;

fail:
    cli_error("regroup", "%s", cb_buf_cstr(&err));
    cb_buf_release(&err);
    return -1;
}

static void
summary_text(const struct cb_store_regroup_counts *n, double secs)
{
    int i;

    fprintf(stderr, "regroup: %" PRIu64 " records, %" PRIu64 " grouped", n->records,
            n->grouped);
    if (n->skipped)
        fprintf(stderr, ", %" PRIu64 " left as they were (another scheme)", n->skipped);
    if (n->no_scheme)
        fprintf(stderr, ", %" PRIu64 " without a result (no scheme applies)",
                n->no_scheme);
    fprintf(stderr, "\n  ");
    for (i = 0; i <= CB_DRG_SS_NOT_MAPPING; i++)
        if (n->status[i] || i == CB_DRG_SUCCESS)
            fprintf(stderr, "%s%s %" PRIu64, i ? ", " : "",
                    cb_drg_status_name((enum cb_drg_status)i), n->status[i]);
    fprintf(stderr, "\n  %.2f s, %.0f records/s\n", secs,
            secs > 0 ? (double)n->records / secs : 0.0);
}

static void
summary_json(const struct cb_store_regroup_counts *n, double secs, int64_t scheme,
             const char *error)
{
    struct cb_buf b = CB_BUF_INIT;
    enum cb_err rc;
    int i;

    rc = cb_buf_addf(&b, "{\"records\":%" PRIu64 ",\"grouped\":%" PRIu64
                     ",\"skipped\":%" PRIu64 ",\"no_scheme\":%" PRIu64
                     ",\"status\":{", n->records, n->grouped, n->skipped, n->no_scheme);
    for (i = 0; !rc && i <= CB_DRG_SS_NOT_MAPPING; i++)
        rc = cb_buf_addf(&b, "%s\"%s\":%" PRIu64, i ? "," : "",
                         cb_drg_status_name((enum cb_drg_status)i), n->status[i]);
    if (!rc)
        rc = cb_buf_addf(&b, "},\"seconds\":%.3f,\"records_per_second\":%.0f", secs,
                         secs > 0 ? (double)n->records / secs : 0.0);
    if (!rc && scheme)
        rc = cb_buf_addf(&b, ",\"scheme_id\":%lld", (long long)scheme);
    if (!rc && error && !(rc = cb_buf_adds(&b, ",\"error\":")))
        rc = cb_json_strz(&b, error);
    if (!rc && !(rc = cb_buf_addc(&b, '}')))
        puts(cb_buf_cstr(&b));
    cb_buf_release(&b);
}

int
cmd_regroup(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "scheme", required_argument, NULL, 's' },
        { "hospital", required_argument, NULL, 'H' },
        { "no-translate", no_argument, NULL, 'T' },
        { "facts", no_argument, NULL, 'F' },
        { "batch", required_argument, NULL, 'b' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cb_store_regroup_opts ro;
    struct cb_store_regroup_counts n;
    struct cb_store_drg_chooser *ch = NULL;
    struct cb_drg_scheme *s = NULL;
    struct cb_store *st = NULL;
    struct cb_buf err = CB_BUF_INIT;
    struct cli_progress prog;
    const char *dir = NULL;
    int c, json = 0, status = CB_EXIT_FAIL, facts = 0;
    struct cb_catalogues cat;
    struct cli_env env;
    memset(&cat, 0, sizeof cat);
    memset(&env, 0, sizeof env);
    int64_t batch;
    enum cb_err rc;
    double secs;

    memset(&ro, 0, sizeof(ro));
    memset(&n, 0, sizeof(n));
    ro.translate = CB_DRG_TR_CODES;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 's': dir = optarg; break;
        case 'H': ro.hospital = optarg; break;
        case 'T': ro.translate = CB_DRG_TR_OFF; break;
        case 'F': facts = 1; break;
        case 'b':
            if (cb_parse_i64(cb_str_c(optarg), &batch) != CB_OK || batch < 1 ||
                batch > 10000000) {
                cli_error("regroup", "--batch wants a number from 1 to 10000000");
                return CB_EXIT_USAGE;
            }
            ro.batch_rows = (uint32_t)batch;
            break;
        case 'j': json = 1; break;
        case 'h': fputs(cmd_regroup_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_regroup_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        cli_error("regroup", "unexpected argument '%s'", argv[optind]);
        return CB_EXIT_USAGE;
    }
    if (facts && (cli_env_load(&env, cli, "regroup", NULL) ||
                  cli_catalogues_load(&cat, cli, "regroup"))) {
        cli_env_release(&env);
        return CB_EXIT_FAIL;
    }
    if (facts) {
        ro.facts = &cat;
        ro.rd = env.rd;
    }
    if (cb_store_open(&st, cli->db_path, &err) != CB_OK) {
        cli_error("regroup", "%s", cb_buf_cstr(&err));
        cb_buf_release(&err);
        cb_catalogues_release(&cat);
        cli_env_release(&env);
        return CB_EXIT_FAIL;
    }
    cli_progress_init(&prog, "regroup", cli->quiet);
    if (dir) {
        if (install(st, dir, &s, &ro.only_scheme, cli->quiet || json))
            goto out;
        rc = cb_store_drg_chooser_new(st, &ch, &err);
    } else {
        rc = cb_import_drg_prepare(st, cli->scheme_dir, &ch, &err);
    }
    if (rc) {
        cli_error("regroup", "%s", cb_buf_cstr(&err));
        goto out;
    }
    if (s) {
        cb_store_drg_chooser_take_scheme(ch, s);
        s = NULL;
    }
    ro.progress = progress;
    ro.progress_ctx = &prog;
    rc = cb_store_fact_begin(st, &err);  /* facts follow the new results */
    if (!rc)
        rc = cb_store_drg_regroup(st, ch, &ro, &n, &err);
    secs = cli_elapsed(&prog.start);
    if (prog.active)
        fputs("\r\033[K", stderr);
    if (rc)
        cli_error("regroup", "%s (the %" PRIu64 " records of committed batches keep "
                  "their new results)", cb_buf_cstr(&err), n.records);
    if (json)
        summary_json(&n, secs, ro.only_scheme, rc ? cb_buf_cstr(&err) : NULL);
    else if (!cli->quiet && !rc)
        summary_text(&n, secs);
    status = rc ? CB_EXIT_FAIL : CB_EXIT_OK;

out:
    cb_drg_scheme_free(s);
    cb_store_drg_chooser_free(ch);
    cb_store_close(st);
    cb_catalogues_release(&cat);
    cli_env_release(&env);
    cb_buf_release(&err);
    return status;
}
