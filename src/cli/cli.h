/*
 * cli.h - what every `carebase` subcommand shares.
 *
 * Each subcommand lives in its own cmd_NAME.c, exposes
 *   int cmd_NAME(int argc, char **argv, const struct cb_cli *cli);
 * and is listed once in the table in main.c. argv[0] is the subcommand name;
 * options follow (getopt_long, with `optind` reset by main). A subcommand
 * returns CB_EXIT_OK, CB_EXIT_FAIL or CB_EXIT_USAGE.
 */
#ifndef CB_CLI_H
#define CB_CLI_H

#include <stdio.h>

enum { CB_EXIT_OK = 0, CB_EXIT_FAIL = 1, CB_EXIT_USAGE = 2 };

/* Settings resolved from global options and the environment. */
struct cb_cli {
    const char *db_path;    /* --db, $CAREBASE_DB, default ./carebase.db */
    const char *refdata;    /* --refdata, $CAREBASE_REFDATA, default ../shared/data/nhc-2019 */
    const char *datadir;    /* --datadir, $CAREBASE_DATADIR, default <source>/data */
    const char *scheme_dir; /* --scheme, $CAREBASE_SCHEME, default ../shared/data/chs-drg-1.1 */
    int         quiet;      /* --quiet */
};

struct cb_cmd {
    const char *name;
    int (*fn)(int argc, char **argv, const struct cb_cli *cli);
    const char *summary;  /* one line, for `carebase help` */
    const char *usage;    /* full help text, for `carebase help NAME` */
};

/* Prints "carebase NAME: message" to stderr. */
void cli_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints the usage of a command to f. */
void cli_usage(FILE *f, const char *cmd);

int cmd_import(int argc, char **argv, const struct cb_cli *cli);
int cmd_check(int argc, char **argv, const struct cb_cli *cli);
int cmd_generate(int argc, char **argv, const struct cb_cli *cli);
int cmd_org(int argc, char **argv, const struct cb_cli *cli);
int cmd_rejects(int argc, char **argv, const struct cb_cli *cli);
int cmd_status(int argc, char **argv, const struct cb_cli *cli);
int cmd_sql(int argc, char **argv, const struct cb_cli *cli);
int cmd_group(int argc, char **argv, const struct cb_cli *cli);
int cmd_regroup(int argc, char **argv, const struct cb_cli *cli);
int cmd_scheme(int argc, char **argv, const struct cb_cli *cli);
int cmd_indicators(int argc, char **argv, const struct cb_cli *cli);
int cmd_reference(int argc, char **argv, const struct cb_cli *cli);
int cmd_cases(int argc, char **argv, const struct cb_cli *cli);
int cmd_serve(int argc, char **argv, const struct cb_cli *cli);
int cmd_user(int argc, char **argv, const struct cb_cli *cli);
int cmd_simulate(int argc, char **argv, const struct cb_cli *cli);

extern const char cmd_import_usage[], cmd_check_usage[], cmd_generate_usage[],
    cmd_org_usage[], cmd_rejects_usage[], cmd_status_usage[], cmd_sql_usage[],
    cmd_group_usage[], cmd_regroup_usage[], cmd_scheme_usage[],
    cmd_indicators_usage[], cmd_reference_usage[], cmd_cases_usage[],
    cmd_serve_usage[], cmd_user_usage[], cmd_simulate_usage[];

#endif
