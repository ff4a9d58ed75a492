/*
 * cli_env.h - what the import-side commands load before they start: the
 * reference tables, the QC rule set and the dialect profiles.
 */
#ifndef CB_CLI_ENV_H
#define CB_CLI_ENV_H

#include "carebase/buf.h"
#include "carebase/profile.h"
#include "carebase/qc.h"
#include "carebase/refdata.h"
#include "carebase/indicator.h"
#include "cli.h"

struct cli_env {
    struct cb_refdata  *rd;
    struct cb_qc       *qc;
    struct cb_profiles *profiles;
};

/* Loads all three; extra_profile (may be NULL) adds a user's alias file. */
int  cli_env_load(struct cli_env *env, const struct cb_cli *cli,
                  const char *cmd, const char *extra_profile);
void cli_env_release(struct cli_env *env);

/*
 * Loads the indicator catalogues (spec d): the shared tables from the
 * refdata directory, the complication list from the datadir, and the
 * non-public lists from $CAREBASE_CATALOGUE_MIS, _LEVEL4, _LEVEL3 (and
 * _COMPLICATIONS to replace the starter list). Prints and returns -1 on error.
 */
int  cli_catalogues_load(struct cb_catalogues *cat, const struct cb_cli *cli,
                         const char *cmd);

/* Parses --encoding / --format values; -1 when unknown. */
int cli_parse_encoding(const char *s);
int cli_parse_format(const char *s);

/*
 * The reading options shared by import and check, as getopt_long entries
 * (spliced into each command's table) and their handler: returns 1 when c
 * was one of them, 0 when not, -1 on a bad value (message printed).
 */
#define CLI_READ_OPTIONS \
    { "profile", required_argument, NULL, 'p' }, \
    { "aliases", required_argument, NULL, 'a' }, \
    { "encoding", required_argument, NULL, 'e' }, \
    { "format", required_argument, NULL, 'f' }, \
    { "hospital", required_argument, NULL, 'H' }, \
    { "hospital-name", required_argument, NULL, 'N' }
struct cb_import_opts;
int cli_read_option(const char *cmd, int c, const char *arg,
                    struct cb_import_opts *io, const char **aliases);

/* Column-aligned text tables (CJK characters count as two columns). */
struct cli_table;
struct cli_table *cli_table_new(int ncols, const char *const *headers);
void cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table *t);

/* Writes s as one CSV field (quoted when needed). */
void cli_csv_field(FILE *f, const char *s);

/*
 * Printing query rows as a table, CSV or a JSON array of objects (text
 * values, null for NULL): cli_rows_add is a cb_store_row_fn.
 */
enum cli_fmt { CLI_FMT_TABLE, CLI_FMT_CSV, CLI_FMT_JSON };

struct cli_rows {
    enum cli_fmt      fmt;
    struct cli_table *table;
    unsigned long     n;
    struct cb_buf     json;
    int               header_done;
};

/* "table", "csv", "json" -> fmt; -1 when unknown. */
int  cli_parse_fmt(const char *s, enum cli_fmt *fmt);
void cli_rows_init(struct cli_rows *r, enum cli_fmt fmt);
/* For CSV: prints the header now (so it appears even with no rows). */
void cli_rows_header(struct cli_rows *r, int ncols, const char *const *names);
enum cb_err cli_rows_add(void *ctx, int ncols, const char *const *names,
                         const char *const *values);
/* Prints what is buffered (the table, or the JSON array) to f. */
void cli_rows_finish(struct cli_rows *r, FILE *f);
void cli_rows_release(struct cli_rows *r);

#endif
