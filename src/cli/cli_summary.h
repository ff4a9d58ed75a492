/*
 * cli_summary.h - printing import/check summaries (text for people, JSON
 * for scripts) and the terminal progress line.
 */
#ifndef CB_CLI_SUMMARY_H
#define CB_CLI_SUMMARY_H

#include <stdio.h>
#include <time.h>

#include "carebase/import.h"
#include "carebase/json.h"

void cli_summary_text(FILE *f, const struct cb_import_summary *s,
                      const struct cb_qc *qc, double seconds, int stored);
/* Appends one file's summary as a JSON object to b. */
enum cb_err cli_summary_json(struct cb_buf *b, const struct cb_import_summary *s,
                             const struct cb_qc *qc, double seconds,
                             const char *error);

/* Progress line on a terminal: rows, rate, percentage and ETA. */
struct cli_progress {
    const char     *label;
    struct timespec start;
    int             active;   /* stderr is a terminal and not --quiet */
};

void cli_progress_init(struct cli_progress *p, const char *label, int quiet);
void cli_progress_cb(void *ctx, uint64_t rows, uint64_t done, uint64_t total,
                     int finished);
double cli_elapsed(const struct timespec *start);

#endif
