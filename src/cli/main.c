/*
 * main.c - the `carebase` command: global options, then a git-style
 * subcommand from the table below.
 *
 *   carebase [--db PATH] [--refdata DIR] [--datadir DIR] [--scheme DIR]
 *            [--quiet] COMMAND [ARGS...]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_help(int argc, char **argv, const struct cb_cli *cli);
static const char cmd_help_usage[] =
    "usage: carebase help [COMMAND]\n"
    "\n"
    "Lists the commands, or shows the full help of one command.\n";

static const struct cb_cmd commands[] = {
    { "import", cmd_import, "import front-page files (CSV, TSV, xlsx) into the database",
      cmd_import_usage },
    { "check", cmd_check, "check front-page files against the QC rules without storing",
      cmd_check_usage },
    { "rejects", cmd_rejects, "list rejected records and the rules they failed",
      cmd_rejects_usage },
    { "org", cmd_org, "define consortia, regions and hospitals (add, set, list)",
      cmd_org_usage },
    { "status", cmd_status, "show what the database holds and recent imports",
      cmd_status_usage },
    { "sql", cmd_sql, "run a read-only SQL query on the database",
      cmd_sql_usage },
    { "generate", cmd_generate, "write a synthetic, realistic consortium of front pages",
      cmd_generate_usage },
    { "group", cmd_group, "group records into DRGs (golden CSV or any front-page dialect)",
      cmd_group_usage },
    { "regroup", cmd_regroup, "re-group the stored records, e.g. after a scheme update",
      cmd_regroup_usage },
    { "scheme", cmd_scheme, "install and list DRG schemes, and choose them by date and region",
      cmd_scheme_usage },
    { "indicators", cmd_indicators, "national assessment and DRG indicators by unit and period",
      cmd_indicators_usage },
    { "reference", cmd_reference, "create and list DRG reference populations (weights, risk grades)",
      cmd_reference_usage },
    { "cases", cmd_cases, "list the cases in an indicator's numerator or denominator",
      cmd_cases_usage },
    { "serve", cmd_serve, "serve the authenticated JSON API over HTTP(S)",
      cmd_serve_usage },
    { "user", cmd_user, "manage the accounts of the web API (add, passwd, disable, list)",
      cmd_user_usage },
    { "simulate", cmd_simulate, "send a realistic simulated HL7 ADT stream over MLLP (or to a file)",
      cmd_simulate_usage },
    { "help", cmd_help, "show help for a command", cmd_help_usage },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char global_usage[] =
    "usage: carebase [--db PATH] [--refdata DIR] [--datadir DIR] [--scheme DIR]\n"
    "                [--quiet] COMMAND [ARGS...]\n"
    "\n"
    "Global options (also settable through the environment):\n"
    "  --db PATH       database file (CAREBASE_DB; default ./carebase.db)\n"
    "  --refdata DIR   national code tables (CAREBASE_REFDATA; default\n"
    "                  ../shared/data/nhc-2019)\n"
    "  --datadir DIR   Carebase data: dialect profiles, QC rules and lists\n"
    "                  (CAREBASE_DATADIR; default the source tree's data/)\n"
    "  --scheme DIR    DRG scheme package (CAREBASE_SCHEME; default\n"
    "                  ../shared/data/chs-drg-1.1)\n"
    "  --quiet         no progress or summary on stderr\n";

void
cli_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "carebase %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void
cli_usage(FILE *f, const char *cmd)
{
    size_t i;

    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, cmd) == 0) {
            fputs(commands[i].usage, f);
            return;
        }
}

static void
list_commands(FILE *f)
{
    size_t i;

    fputs(global_usage, f);
    fputs("\nCommands:\n", f);
    for (i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'carebase help COMMAND' for the options of a command.\n", f);
}

static int
cmd_help(int argc, char **argv, const struct cb_cli *cli)
{
    size_t i;

    (void)cli;
    if (argc < 2) {
        list_commands(stdout);
        return CB_EXIT_OK;
    }
    for (i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) {
            fputs(commands[i].usage, stdout);
            return CB_EXIT_OK;
        }
    cli_error("help", "unknown command '%s'", argv[1]);
    return CB_EXIT_USAGE;
}

static const char *
env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

int
main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, NULL, 'd' },
        { "refdata", required_argument, NULL, 'r' },
        { "datadir", required_argument, NULL, 'D' },
        { "scheme", required_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    struct cb_cli cli;
    size_t i;
    int c;

    cli.db_path = env_or("CAREBASE_DB", "carebase.db");
    cli.refdata = env_or("CAREBASE_REFDATA", CB_DEFAULT_REFDATA);
    cli.datadir = env_or("CAREBASE_DATADIR", CB_DEFAULT_DATADIR);
    cli.scheme_dir = env_or("CAREBASE_SCHEME", CB_DEFAULT_SCHEME);
    cli.quiet = 0;

    /* '+': stop at the first non-option, the subcommand. */
    while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
        switch (c) {
        case 'd': cli.db_path = optarg; break;
        case 'r': cli.refdata = optarg; break;
        case 'D': cli.datadir = optarg; break;
        case 's': cli.scheme_dir = optarg; break;
        case 'q': cli.quiet = 1; break;
        case 'h': list_commands(stdout); return CB_EXIT_OK;
        case 'V': puts("carebase 0.1.0"); return CB_EXIT_OK;
        default:
            fputs(global_usage, stderr);
            return CB_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        list_commands(stderr);
        return CB_EXIT_USAGE;
    }
    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, argv[optind]) == 0) {
            int sub_argc = argc - optind;
            char **sub_argv = argv + optind;
            /*
             * Subcommands parse their own options; 0 makes GNU getopt start
             * afresh (the '+' ordering above must not carry over).
             */
            optind = 0;
            return commands[i].fn(sub_argc, sub_argv, &cli);
        }
    }
    fprintf(stderr, "carebase: unknown command '%s'; see 'carebase help'\n",
            argv[optind]);
    return CB_EXIT_USAGE;
}
