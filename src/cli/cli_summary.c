#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "carebase/qc.h"
#include "cli_summary.h"

double
cli_elapsed(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) +
           (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

void
cli_progress_init(struct cli_progress *p, const char *label, int quiet)
{
    p->label = label;
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    p->active = !quiet && isatty(STDERR_FILENO);
}

void
cli_progress_cb(void *ctx, uint64_t rows, uint64_t done, uint64_t total,
                int finished)
{
    struct cli_progress *p = ctx;
    double t = cli_elapsed(&p->start), rate = t > 0 ? (double)rows / t : 0;
    double frac = total ? (double)done / (double)total : 0;

    if (!p->active)
        return;
    if (finished) {
        fprintf(stderr, "\r\033[K");
        return;
    }
    fprintf(stderr, "\r\033[K%s: %" PRIu64 " rows  %3.0f%%  %.0f rows/s  ETA %.0fs",
            p->label, rows, frac * 100, rate,
            frac > 0 && frac < 1 ? t / frac - t : 0.0);
    fflush(stderr);
}

/* "  DRG: ..." lines: how many were grouped, with which scheme, by status. */
static void
drg_text(FILE *f, const struct cb_import_drg *d)
{
    int i;

    fprintf(f, "  DRG: %" PRIu64 " grouped", d->grouped);
    for (i = 0; i < d->nschemes; i++)
        fprintf(f, "%s%s #%lld (%.12s): %" PRIu64, i ? ", " : " with ",
                d->scheme[i].scheme, (long long)d->scheme[i].id, d->scheme[i].digest,
                d->scheme[i].records);
    if (d->no_scheme)
        fprintf(f, "; %" PRIu64 " not grouped (no installed scheme applies)",
                d->no_scheme);
    fputc('\n', f);
    if (!d->grouped)
        return;
    fputs("    ", f);
    for (i = 0; i <= CB_DRG_SS_NOT_MAPPING; i++)
        if (d->status[i] || i == CB_DRG_SUCCESS)
            fprintf(f, "%s%s %" PRIu64, i ? ", " : "",
                    cb_drg_status_name((enum cb_drg_status)i), d->status[i]);
    fputc('\n', f);
}

static enum cb_err
drg_json(struct cb_buf *b, const struct cb_import_drg *d)
{
    enum cb_err rc;
    int i;

    if ((rc = cb_buf_addf(b, ",\"drg\":{\"grouped\":%" PRIu64 ",\"no_scheme\":%" PRIu64
                          ",\"status\":{", d->grouped, d->no_scheme)))
        return rc;
    for (i = 0; i <= CB_DRG_SS_NOT_MAPPING; i++)
        if ((rc = cb_buf_addf(b, "%s\"%s\":%" PRIu64, i ? "," : "",
                              cb_drg_status_name((enum cb_drg_status)i), d->status[i])))
            return rc;
    if ((rc = cb_buf_adds(b, "},\"schemes\":[")))
        return rc;
    for (i = 0; i < d->nschemes; i++)
        if ((rc = cb_buf_addf(b, "%s{\"id\":%lld,\"scheme\":", i ? "," : "",
                              (long long)d->scheme[i].id)) ||
            (rc = cb_json_strz(b, d->scheme[i].scheme)) ||
            (rc = cb_buf_adds(b, ",\"digest\":")) ||
            (rc = cb_json_strz(b, d->scheme[i].digest)) ||
            (rc = cb_buf_addf(b, ",\"records\":%" PRIu64 "}", d->scheme[i].records)))
            return rc;
    return cb_buf_adds(b, "]}");
}

void
cli_summary_text(FILE *f, const struct cb_import_summary *s,
                 const struct cb_qc *qc, double seconds, int stored)
{
    const struct cb_import_counts *c = &s->counts;
    int i, any = 0;

    fprintf(f, "%s: %s, %s, %s profile, %zu columns (%zu ignored)\n", s->file,
            cb_format_name(s->format), cb_encoding_name(s->encoding), s->profile,
            s->columns, s->ignored_columns);
    fprintf(f, "  read %" PRIu64 " = accepted %" PRIu64 " + rejected %" PRIu64
            "; %" PRIu64 " accepted with warnings\n",
            c->read, c->accepted, c->rejected, c->warnings);
    if (stored)
        fprintf(f, "  stored: %" PRIu64 " new, %" PRIu64 " replaced (earlier "
                "version kept in history), %" PRIu64 " unchanged\n",
                c->inserted, c->replaced, c->unchanged);
    if (stored && s->drg.on)
        drg_text(f, &s->drg);
    if (seconds > 0)
        fprintf(f, "  %.2f s, %.0f records/s\n", seconds, (double)c->read / seconds);
    for (i = 0; i < s->nrules; i++) {
        if (!s->rule_records[i])
            continue;
        if (!any++)
            fprintf(f, "  rules failed (records / issues):\n");
        fprintf(f, "    %-11s %s %8" PRIu64 " / %-8" PRIu64 " %s / %s\n",
                cb_qc_rule_id(qc, i), cb_qc_sev_name(cb_qc_rule_sev(qc, i)),
                s->rule_records[i], s->rule_issues[i],
                cb_qc_rule_name_zh(qc, i), cb_qc_rule_name_en(qc, i));
    }
}

enum cb_err
cli_summary_json(struct cb_buf *b, const struct cb_import_summary *s,
                 const struct cb_qc *qc, double seconds, const char *error)
{
    const struct cb_import_counts *c = &s->counts;
    enum cb_err rc;
    int i, first = 1;

    if ((rc = cb_buf_adds(b, "{\"file\":")) || (rc = cb_json_strz(b, s->file)) ||
        (rc = cb_buf_addf(b, ",\"format\":\"%s\",\"encoding\":\"%s\",\"profile\":",
                          cb_format_name(s->format), cb_encoding_name(s->encoding))) ||
        (rc = cb_json_strz(b, s->profile)) ||
        (rc = cb_buf_addf(b, ",\"columns\":%zu,\"ignored_columns\":%zu"
                          ",\"read\":%" PRIu64 ",\"accepted\":%" PRIu64
                          ",\"rejected\":%" PRIu64 ",\"with_warnings\":%" PRIu64
                          ",\"inserted\":%" PRIu64 ",\"replaced\":%" PRIu64
                          ",\"unchanged\":%" PRIu64 ",\"seconds\":%.3f"
                          ",\"status\":\"%s\"",
                          s->columns, s->ignored_columns, c->read, c->accepted,
                          c->rejected, c->warnings, c->inserted, c->replaced,
                          c->unchanged, seconds, error ? "failed" : "complete")))
        return rc;
    if (error && ((rc = cb_buf_adds(b, ",\"error\":")) || (rc = cb_json_strz(b, error))))
        return rc;
    if (s->drg.on && (rc = drg_json(b, &s->drg)))
        return rc;
    if ((rc = cb_buf_adds(b, ",\"rules\":[")))
        return rc;
    for (i = 0; i < s->nrules; i++) {
        if (!s->rule_records || !s->rule_records[i])
            continue;
        if ((!first && (rc = cb_buf_addc(b, ','))) ||
            (rc = cb_buf_adds(b, "{\"id\":")) ||
            (rc = cb_json_strz(b, cb_qc_rule_id(qc, i))) ||
            (rc = cb_buf_addf(b, ",\"severity\":\"%s\",\"records\":%" PRIu64
                              ",\"issues\":%" PRIu64 ",\"name_zh\":",
                              cb_qc_sev_name(cb_qc_rule_sev(qc, i)),
                              s->rule_records[i], s->rule_issues[i])) ||
            (rc = cb_json_strz(b, cb_qc_rule_name_zh(qc, i))) ||
            (rc = cb_buf_adds(b, ",\"name_en\":")) ||
            (rc = cb_json_strz(b, cb_qc_rule_name_en(qc, i))) ||
            (rc = cb_buf_addc(b, '}')))
            return rc;
        first = 0;
    }
    return cb_buf_adds(b, "]}");
}
