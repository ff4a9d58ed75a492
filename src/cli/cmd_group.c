/*
 * cmd_group.c - `carebase group [FILE|-]`: DRG grouping of a golden-set CSV
 * (FORMAT.md §13) or of any front-page file the importer reads, to CSV or
 * NDJSON, optionally with the trace of each record.
 *
 * The work moves in batches of up to BATCH_RECORDS records. The main thread
 * reads and copies each record's bytes into its batch's own buffer. With
 * --threads N > 1, N workers (each with its own struct cb_drg_work) group
 * whole batches, and the main thread writes the finished batches in
 * sequence order, so the output keeps the input's order. With N = 1 the
 * main thread groups each batch itself. Batches are recycled: their
 * buffers grow to the largest batch seen, so nothing is allocated per
 * record. The scheme is immutable and shared by every thread.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/drg.h"
#include "carebase/import.h"
#include "carebase/json.h"
#include "cli.h"
#include "cli_env.h"
#include "cli_summary.h"

const char cmd_group_usage[] =
    "usage: carebase group [OPTIONS] [FILE|-]\n"
    "\n"
    "Groups records into DRGs with a scheme package and writes one result per\n"
    "record, in input order. FILE (or '-', or nothing: standard input) is\n"
    "either\n"
    "  - a golden-set CSV (FORMAT.md §13), recognised by its header\n"
    "    index,sex,age,age_days,weight,dept,los,leaving_type,dx,px\n"
    "    (no quoting; every line must have exactly 10 fields), or\n"
    "  - any front-page file 'carebase import' reads (CSV, TSV or xlsx, UTF-8\n"
    "    or GB18030, any known dialect). Its rows go through the import checks;\n"
    "    rejected rows are not grouped ('carebase check' says why) and the\n"
    "    index of a result is the record's BAH.\n"
    "\n"
    "Options:\n"
    "  --scheme DIR        scheme package (default: the global --scheme)\n"
    "  --format FMT        csv (default) or json\n"
    "  --wide              csv: add the columns mcc,cc,unmapped\n"
    "  --explain           add each record's trace: why it got its MDC, ADRG\n"
    "                      and DRG (csv: indented text after the line; json:\n"
    "                      a \"trace\" object)\n"
    "  --lang LANG         language of the --explain text: zh, en or both\n"
    "                      (default both)\n"
    "  --translate MODE    clinical -> insurance code translation (FORMAT.md\n"
    "                      §11): off, source (exactly §11) or codes (§11 on\n"
    "                      the non-empty codes, spec c.5.2: a record without\n"
    "                      procedures is grouped). Default: codes for\n"
    "                      front pages (hospitals record clinical 2.0 codes),\n"
    "                      off for golden CSV (the golden set was made so)\n"
    "  --threads N         group on N threads (default 1; 0 = one per core)\n"
    "  --quiet             no summary on stderr (as the global --quiet)\n"
    "  --profile, --aliases, --encoding, --hospital, --hospital-name\n"
    "                      front pages: as for 'carebase import'\n"
    "  --input-format FMT  front pages: auto, csv, tsv or xlsx (what 'carebase\n"
    "                      import' calls --format)\n"
    "\n"
    "csv:  index,status,mdc,adrg,drg (the golden expected.csv format, so\n"
    "      'carebase group golden/records.csv | diff - golden/expected.csv'\n"
    "      is empty); --wide adds mcc,cc (1 or 0) and unmapped (the code that\n"
    "      stopped translation, if any).\n"
    "json: one object per line: line, index, status, status_zh, mdc, adrg,\n"
    "      drg, drg_name (null when unknown), mcc, cc, unmapped (null or the\n"
    "      code), and with --explain trace.\n"
    "\n"
    "A summary (records, per-status counts, time, records/s) goes to stderr.\n"
    "\n"
    "Exit status: 0 when every record was grouped (whatever its status), 1\n"
    "when the scheme or the input is broken (a golden line without 10 fields\n"
    "stops the run: FILE:LINE is named), 2 on usage.\n";

#define BATCH_RECORDS 4096
#define BATCH_BYTES   ((size_t)8 << 20)  /* fewer records when lines are long */
#define READ_BLOCK    ((size_t)1 << 20)
#define MAX_THREADS   256
#define NSTATUS       6
#define GOLDEN_FIELDS 10
#define NSCALARS      8                  /* index, sex, ..., leaving_type */

static const char golden_header[] =
    "index,sex,age,age_days,weight,dept,los,leaving_type,dx,px";

enum out_fmt { OUT_CSV, OUT_JSON };
enum { LANG_ZH = 1, LANG_EN = 2 };

/* What every batch is grouped with; read-only once the run starts. */
struct group_opts {
    const struct cb_drg_scheme *scheme;
    enum out_fmt          fmt;
    int                   wide, explain, langs;
    int                   golden;   /* input: 1 golden CSV, 0 front pages */
    enum cb_drg_translate tr;
};

/* Bytes of a batch's buffer: offsets, since the buffer may move. */
struct span {
    size_t off, len;
};

/*
 * A record of a batch. Golden CSV: one span, the line (split by the
 * worker). Front page: NSCALARS spans, then ndx dx codes, then npx px codes.
 */
struct rec {
    uint64_t line;
    size_t   span;
    int      ndx, npx;
};

enum batch_state { B_FREE, B_FILLING, B_QUEUED, B_RUNNING, B_DONE };

struct batch {
    enum batch_state state;
    uint64_t         seq;
    struct cb_buf    bytes;
    struct span     *span;
    size_t           nspan, span_cap;
    struct rec      *rec;
    size_t           n;
    /* written by the worker that groups the batch */
    struct cb_buf    out;
    uint64_t         counts[NSTATUS];
    enum cb_err      rc;          /* CB_OK, or why grouping stopped at err_line */
    uint64_t         err_line;
    size_t           err_fields;  /* golden: fields found on err_line */
};

struct group_run;

struct worker {
    struct group_run  *run;
    int                id;
    struct cb_drg_work w;
    int                w_ok;
    struct cb_buf      text;      /* one explanation */
    struct cb_str     *codes;     /* front page: dx then px of a record */
    size_t             codes_cap;
    char               pad[64];   /* keeps workers' hot fields apart */
};

struct group_run {
    struct group_opts go;
    const char       *name;       /* the input, for messages */
    FILE             *out;
    int               nthreads;
    struct worker   **wk;         /* nthreads workers */
    struct batch     *b;
    int               nb;
    struct batch     *cur;        /* being filled by the main thread */
    pthread_t        *th;
    int               nstarted;
    pthread_mutex_t   mu;
    pthread_cond_t    work_cv;    /* workers wait for queued batches */
    pthread_cond_t    done_cv;    /* the main thread waits for done ones */
    int               shutdown;
    uint64_t          next_seq, next_write;
    /* totals of the batches written (main thread only) */
    uint64_t          records, counts[NSTATUS];
    int               failed;     /* output stopped: an error was reported */
    struct cb_drg_work conv;      /* front page -> input, main thread */
    int               conv_ok;
};

/* ---- output of one record ------------------------------------------------ */

static int
csv_needs_quotes(struct cb_str s)
{
    size_t i;

    for (i = 0; i < s.len; i++)
        if (s.ptr[i] == ',' || s.ptr[i] == '"' || s.ptr[i] == '\n' || s.ptr[i] == '\r')
            return 1;
    return 0;
}

/* Writes s as a CSV field at p (room for 2 * len + 2 bytes); returns the end. */
static char *
put_field(char *p, struct cb_str s)
{
    size_t i;

    if (!csv_needs_quotes(s)) {
        if (s.len)
            memcpy(p, s.ptr, s.len);
        return p + s.len;
    }
    *p++ = '"';
    for (i = 0; i < s.len; i++) {
        if (s.ptr[i] == '"')
            *p++ = '"';
        *p++ = s.ptr[i];
    }
    *p++ = '"';
    return p;
}

static char *
put_code(char *p, const char *code)
{
    size_t n = strnlen(code, CB_DRG_CODE_MAX);

    memcpy(p, code, n);
    return p + n;
}

static enum cb_err
put_csv(struct cb_buf *out, const struct group_opts *go,
        const struct cb_drg_input *in, const struct cb_drg_result *res)
{
    const char *st = cb_drg_status_name(res->status);
    size_t stlen = strlen(st);
    size_t need = 2 * in->index.len + 2 + stlen + 3 * (CB_DRG_CODE_MAX + 1) + 2;
    char *p;
    enum cb_err rc;

    if (go->wide)
        need += 5 + 2 * res->unmapped_code.len + 2;
    if ((rc = cb_buf_reserve(out, need)))
        return rc;
    p = out->ptr + out->len;
    p = put_field(p, in->index);
    *p++ = ',';
    memcpy(p, st, stlen);
    p += stlen;
    *p++ = ',';
    p = put_code(p, res->mdc);
    *p++ = ',';
    p = put_code(p, res->adrg);
    *p++ = ',';
    p = put_code(p, res->drg);
    if (go->wide) {
        *p++ = ',';
        *p++ = res->mcc ? '1' : '0';
        *p++ = ',';
        *p++ = res->cc ? '1' : '0';
        *p++ = ',';
        if (res->unmapped_pos >= 0)
            p = put_field(p, res->unmapped_code);
    }
    *p++ = '\n';
    *p = '\0';
    out->len = (size_t)(p - out->ptr);
    return CB_OK;
}

/* Appends text with every line indented, each ending in a newline. */
static enum cb_err
put_indented(struct cb_buf *out, struct cb_str text)
{
    const char *p = text.ptr, *end = text.ptr + text.len;
    enum cb_err rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;

        if ((rc = cb_buf_add(out, "    ", 4)) ||
            (rc = cb_buf_add(out, p, (size_t)(e - p))) ||
            (rc = cb_buf_addc(out, '\n')))
            return rc;
        p = nl ? nl + 1 : end;
    }
    return CB_OK;
}

static enum cb_err
put_explain(struct cb_buf *out, struct worker *wk, const struct group_opts *go,
            const struct cb_drg_input *in, const struct cb_drg_result *res)
{
    static const char *const lang[2] = { "zh", "en" };
    enum cb_err rc;
    int k;

    for (k = 0; k < 2; k++) {
        if (!(go->langs & (1 << k)))
            continue;
        cb_buf_reset(&wk->text);
        if ((rc = cb_drg_explain(go->scheme, in, &wk->w, res, lang[k], &wk->text)) ||
            (rc = put_indented(out, cb_buf_str(&wk->text))))
            return rc;
    }
    return CB_OK;
}

static enum cb_err
put_json(struct cb_buf *out, struct worker *wk, const struct group_opts *go,
         uint64_t line, const struct cb_drg_input *in,
         const struct cb_drg_result *res)
{
    const char *name = cb_drg_drg_name(go->scheme, cb_str_make(res->drg,
                                       strnlen(res->drg, CB_DRG_CODE_MAX)));
    enum cb_err rc;

    if ((rc = cb_buf_addf(out, "{\"line\":%" PRIu64 ",\"index\":", line)) ||
        (rc = cb_json_str(out, in->index)) ||
        (rc = cb_buf_adds(out, ",\"status\":")) ||
        (rc = cb_json_strz(out, cb_drg_status_name(res->status))) ||
        (rc = cb_buf_adds(out, ",\"status_zh\":")) ||
        (rc = cb_json_strz(out, cb_drg_status_zh(res->status))) ||
        (rc = cb_buf_adds(out, ",\"mdc\":")) ||
        (rc = cb_json_strz(out, res->mdc)) ||
        (rc = cb_buf_adds(out, ",\"adrg\":")) ||
        (rc = cb_json_strz(out, res->adrg)) ||
        (rc = cb_buf_adds(out, ",\"drg\":")) ||
        (rc = cb_json_strz(out, res->drg)) ||
        (rc = cb_buf_adds(out, ",\"drg_name\":")) ||
        (rc = name ? cb_json_strz(out, name) : cb_buf_adds(out, "null")) ||
        (rc = cb_buf_adds(out, res->mcc ? ",\"mcc\":true" : ",\"mcc\":false")) ||
        (rc = cb_buf_adds(out, res->cc ? ",\"cc\":true" : ",\"cc\":false")) ||
        (rc = cb_buf_adds(out, ",\"unmapped\":")) ||
        (rc = res->unmapped_pos >= 0 ? cb_json_str(out, res->unmapped_code)
                                     : cb_buf_adds(out, "null")))
        return rc;
    if (go->explain) {
        cb_buf_reset(&wk->text);
        if ((rc = cb_drg_explain_json(go->scheme, in, &wk->w, res, &wk->text)) ||
            (rc = cb_buf_adds(out, ",\"trace\":")) ||
            (rc = cb_buf_add(out, cb_buf_cstr(&wk->text), wk->text.len)))
            return rc;
    }
    return cb_buf_adds(out, "}\n");
}

/* ---- grouping a batch (any thread) ---------------------------------------- */

/* Splits a golden line into in; *nfields is the number of fields found. */
static enum cb_err
golden_input(struct worker *wk, struct cb_str line, struct cb_drg_input *in,
             size_t *nfields)
{
    struct cb_str f[GOLDEN_FIELDS];
    const char *p = line.ptr, *end = line.ptr + line.len;
    size_t n = 0;
    enum cb_err rc;

    for (;;) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *e = c ? c : end;

        if (n < GOLDEN_FIELDS)
            f[n] = cb_str_make(p, (size_t)(e - p));
        n++;
        if (!c)
            break;
        p = c + 1;
    }
    *nfields = n;
    if (n != GOLDEN_FIELDS)
        return CB_ERR_PROTO;
    in->index = f[0];
    in->sex = f[1];
    in->age = f[2];
    in->age_days = f[3];
    in->weight = f[4];
    in->dept = f[5];
    in->los = f[6];
    in->leaving_type = f[7];
    if ((rc = cb_drg_split_codes(&wk->w, 0, f[8], &in->dx, &in->ndx)) ||
        (rc = cb_drg_split_codes(&wk->w, 1, f[9], &in->px, &in->npx)))
        return rc;
    return CB_OK;
}

static enum cb_err
fp_input(struct worker *wk, const char *base, const struct span *sp, int ndx,
         int npx, struct cb_drg_input *in)
{
    struct cb_str *s[NSCALARS] = { &in->index, &in->sex, &in->age, &in->age_days,
                                   &in->weight, &in->dept, &in->los,
                                   &in->leaving_type };
    size_t ncodes = (size_t)ndx + (size_t)npx, i;

    if (ncodes > wk->codes_cap) {
        size_t cap = ncodes < 64 ? 64 : ncodes * 2;
        struct cb_str *c = cb_reallocarray(wk->codes, cap, sizeof(*c));

        if (!c)
            return CB_ERR_NOMEM;
        wk->codes = c;
        wk->codes_cap = cap;
    }
    for (i = 0; i < NSCALARS; i++)
        *s[i] = cb_str_make(base + sp[i].off, sp[i].len);
    for (i = 0; i < ncodes; i++)
        wk->codes[i] = cb_str_make(base + sp[NSCALARS + i].off, sp[NSCALARS + i].len);
    in->dx = wk->codes;
    in->ndx = ndx;
    in->px = wk->codes + ndx;
    in->npx = npx;
    return CB_OK;
}

/*
 * Groups every record of b into b->out and b->counts. Stops at the first
 * record that cannot be grouped (a golden line without 10 fields, or no
 * memory), leaving the output of the records before it and the reason.
 */
static void
group_batch(const struct group_opts *go, struct worker *wk, struct batch *b)
{
    const char *base = cb_buf_cstr(&b->bytes);
    struct cb_drg_input in;
    struct cb_drg_result res;
    size_t i;

    cb_buf_reset(&b->out);
    memset(b->counts, 0, sizeof(b->counts));
    b->rc = CB_OK;
    for (i = 0; i < b->n; i++) {
        const struct rec *r = &b->rec[i];
        const struct span *sp = &b->span[r->span];
        size_t nfields = GOLDEN_FIELDS;
        enum cb_err rc;

        if (go->golden)
            rc = golden_input(wk, cb_str_make(base + sp->off, sp->len), &in, &nfields);
        else
            rc = fp_input(wk, base, sp, r->ndx, r->npx, &in);
        if (!rc)
            rc = cb_drg_group(go->scheme, &in, go->tr, &wk->w, &res);
        if (!rc)
            rc = go->fmt == OUT_CSV ? put_csv(&b->out, go, &in, &res)
                                    : put_json(&b->out, wk, go, r->line, &in, &res);
        if (!rc && go->explain && go->fmt == OUT_CSV)
            rc = put_explain(&b->out, wk, go, &in, &res);
        if (rc) {
            b->rc = rc;
            b->err_line = r->line;
            b->err_fields = nfields;
            return;
        }
        if ((unsigned)res.status >= NSTATUS)
            CB_BUG("grouper returned an unknown status");
        b->counts[res.status]++;
    }
}

/* ---- batches ---------------------------------------------------------------- */

static enum cb_err
batch_init(struct batch *b)
{
    memset(b, 0, sizeof(*b));
    cb_buf_init(&b->bytes, CB_BUF_MAX_DEFAULT);
    cb_buf_init(&b->out, CB_BUF_MAX_DEFAULT);
    b->rec = cb_reallocarray(NULL, BATCH_RECORDS, sizeof(*b->rec));
    return b->rec ? CB_OK : CB_ERR_NOMEM;
}

static void
batch_release(struct batch *b)
{
    cb_buf_release(&b->bytes);
    cb_buf_release(&b->out);
    cb_free(b->span);
    cb_free(b->rec);
    memset(b, 0, sizeof(*b));
}

/* Empties b for refilling, keeping its memory. */
static void
batch_clear(struct batch *b)
{
    cb_buf_reset(&b->bytes);
    cb_buf_reset(&b->out);
    b->nspan = 0;
    b->n = 0;
    b->rc = CB_OK;
}

static int
batch_full(const struct batch *b)
{
    return b->n == BATCH_RECORDS || b->bytes.len >= BATCH_BYTES;
}

/* Copies s into the batch as its next span. */
static enum cb_err
batch_add_span(struct batch *b, struct cb_str s)
{
    if (b->nspan == b->span_cap) {
        size_t cap = b->span_cap ? b->span_cap * 2 : 4 * BATCH_RECORDS;
        struct span *sp = cb_reallocarray(b->span, cap, sizeof(*sp));

        if (!sp)
            return CB_ERR_NOMEM;
        b->span = sp;
        b->span_cap = cap;
    }
    b->span[b->nspan].off = b->bytes.len;
    b->span[b->nspan].len = s.len;
    b->nspan++;
    return s.len ? cb_buf_add(&b->bytes, s.ptr, s.len) : CB_OK;
}

/* Starts a record; its spans follow. The caller checks batch_full first. */
static void
batch_add_rec(struct batch *b, uint64_t line, int ndx, int npx)
{
    struct rec *r = &b->rec[b->n++];

    r->line = line;
    r->span = b->nspan;
    r->ndx = ndx;
    r->npx = npx;
}

/* ---- the pipeline (main thread unless noted) ---------------------------------- */

static void
report_batch_error(struct group_run *run, const struct batch *b)
{
    if (b->rc == CB_ERR_PROTO && run->go.golden)
        cli_error("group", "%s:%" PRIu64 ": expected %d fields, got %zu", run->name,
                  b->err_line, GOLDEN_FIELDS, b->err_fields);
    else
        cli_error("group", "%s:%" PRIu64 ": %s", run->name, b->err_line,
                  cb_strerror(b->rc));
}

/* Writes a grouped batch and counts it, then frees it for refilling. */
static void
emit(struct group_run *run, struct batch *b)
{
    int s;

    if (!run->failed) {
        if (b->out.len && fwrite(b->out.ptr, 1, b->out.len, run->out) != b->out.len) {
            cli_error("group", "cannot write the output: %s", strerror(errno));
            run->failed = 1;
        }
        for (s = 0; s < NSTATUS; s++) {
            run->counts[s] += b->counts[s];
            run->records += b->counts[s];
        }
        if (b->rc && !run->failed) {
            report_batch_error(run, b);
            run->failed = 1;
        }
    }
    batch_clear(b);
}

/* The batch of sequence number seq still in flight, or NULL (under mu). */
static struct batch *
find_seq(struct group_run *run, uint64_t seq)
{
    int i;

    for (i = 0; i < run->nb; i++) {
        struct batch *b = &run->b[i];
        if ((b->state == B_QUEUED || b->state == B_RUNNING || b->state == B_DONE) &&
            b->seq == seq)
            return b;
    }
    return NULL;
}

/*
 * Writes the finished batches that are next in sequence. With wait, first
 * blocks until the next one in sequence is finished (if one is in flight).
 */
static void
emit_ready(struct group_run *run, int wait)
{
    for (;;) {
        struct batch *b;

        pthread_mutex_lock(&run->mu);
        for (;;) {
            b = find_seq(run, run->next_write);
            if (b && b->state == B_DONE)
                break;
            if (!wait || !b) {
                b = NULL;
                break;
            }
            pthread_cond_wait(&run->done_cv, &run->mu);
        }
        pthread_mutex_unlock(&run->mu);
        if (!b)
            return;
        emit(run, b);
        pthread_mutex_lock(&run->mu);
        b->state = B_FREE;
        pthread_mutex_unlock(&run->mu);
        run->next_write++;
        wait = 0;
    }
}

/* A batch to fill: a free one, or the oldest in flight once it is written. */
static struct batch *
acquire(struct group_run *run)
{
    if (run->nthreads == 1)
        return &run->b[0];
    for (;;) {
        struct batch *b = NULL;
        int i;

        pthread_mutex_lock(&run->mu);
        for (i = 0; i < run->nb && !b; i++)
            if (run->b[i].state == B_FREE)
                b = &run->b[i];
        if (b)
            b->state = B_FILLING;
        pthread_mutex_unlock(&run->mu);
        if (b)
            return b;
        emit_ready(run, 1);
    }
}

/* Hands the current batch over: grouped and written inline, or queued. */
static void
queue_batch(struct group_run *run)
{
    struct batch *b = run->cur;

    if (run->failed || !b->n) {
        batch_clear(b);
        return;
    }
    if (run->nthreads == 1) {
        group_batch(&run->go, run->wk[0], b);
        emit(run, b);
        return;
    }
    pthread_mutex_lock(&run->mu);
    b->seq = run->next_seq++;
    b->state = B_QUEUED;
    pthread_cond_signal(&run->work_cv);
    pthread_mutex_unlock(&run->mu);
    emit_ready(run, 0);
    run->cur = acquire(run);
}

/* Oldest queued batch, or NULL (under mu). */
static struct batch *
next_queued(struct group_run *run)
{
    struct batch *best = NULL;
    int i;

    for (i = 0; i < run->nb; i++)
        if (run->b[i].state == B_QUEUED && (!best || run->b[i].seq < best->seq))
            best = &run->b[i];
    return best;
}

/* Worker thread: groups queued batches until shut down. */
static void *
worker_main(void *arg)
{
    struct worker *wk = arg;
    struct group_run *run = wk->run;
    char name[16];

    snprintf(name, sizeof(name), "cb-group-%d", wk->id);
    (void)prctl(PR_SET_NAME, name, 0, 0, 0);
    pthread_mutex_lock(&run->mu);
    for (;;) {
        struct batch *b = next_queued(run);

        if (!b) {
            if (run->shutdown)
                break;
            pthread_cond_wait(&run->work_cv, &run->mu);
            continue;
        }
        b->state = B_RUNNING;
        pthread_mutex_unlock(&run->mu);
        group_batch(&run->go, wk, b);
        pthread_mutex_lock(&run->mu);
        b->state = B_DONE;
        pthread_cond_signal(&run->done_cv);
    }
    pthread_mutex_unlock(&run->mu);
    return NULL;
}

static void
worker_free(struct worker *wk)
{
    if (!wk)
        return;
    if (wk->w_ok)
        cb_drg_work_release(&wk->w);
    cb_buf_release(&wk->text);
    cb_free(wk->codes);
    cb_free(wk);
}

/* Stops the workers (after the queued batches) and frees everything. */
static void
run_release(struct group_run *run)
{
    int i;

    if (run->nstarted) {
        pthread_mutex_lock(&run->mu);
        run->shutdown = 1;
        pthread_cond_broadcast(&run->work_cv);
        pthread_mutex_unlock(&run->mu);
        for (i = 0; i < run->nstarted; i++)
            pthread_join(run->th[i], NULL);
    }
    pthread_cond_destroy(&run->work_cv);
    pthread_cond_destroy(&run->done_cv);
    pthread_mutex_destroy(&run->mu);
    for (i = 0; run->wk && i < run->nthreads; i++)
        worker_free(run->wk[i]);
    for (i = 0; run->b && i < run->nb; i++)
        batch_release(&run->b[i]);
    if (run->conv_ok)
        cb_drg_work_release(&run->conv);
    cb_free(run->wk);
    cb_free(run->b);
    cb_free(run->th);
}

/* Sets up batches and workers, and starts the threads when nthreads > 1. */
static enum cb_err
run_start(struct group_run *run)
{
    enum cb_err rc;
    int i;

    run->nb = run->nthreads == 1 ? 1 : 2 * run->nthreads + 2;
    run->b = cb_calloc((size_t)run->nb, sizeof(*run->b));
    run->wk = cb_calloc((size_t)run->nthreads, sizeof(*run->wk));
    if (!run->b || !run->wk)
        return CB_ERR_NOMEM;
    for (i = 0; i < run->nb; i++)
        if ((rc = batch_init(&run->b[i])))
            return rc;
    for (i = 0; i < run->nthreads; i++) {
        struct worker *wk = cb_calloc(1, sizeof(*wk));

        if (!(run->wk[i] = wk))
            return CB_ERR_NOMEM;
        wk->run = run;
        wk->id = i;
        cb_buf_init(&wk->text, CB_BUF_MAX_DEFAULT);
        if ((rc = cb_drg_work_init(&wk->w, run->go.scheme)))
            return rc;
        wk->w_ok = 1;
        cb_drg_work_trace(&wk->w, run->go.explain);
    }
    if (!run->go.golden) {
        if ((rc = cb_drg_work_init(&run->conv, run->go.scheme)))
            return rc;
        run->conv_ok = 1;
    }
    if (run->nthreads > 1) {
        run->th = cb_calloc((size_t)run->nthreads, sizeof(*run->th));
        if (!run->th)
            return CB_ERR_NOMEM;
        for (i = 0; i < run->nthreads; i++) {
            if (pthread_create(&run->th[i], NULL, worker_main, run->wk[i]))
                return CB_ERR_NOMEM;
            run->nstarted++;
        }
    }
    run->cur = acquire(run);
    return CB_OK;
}

/* Groups what is left and writes every batch in flight. */
static void
run_finish(struct group_run *run)
{
    queue_batch(run);
    while (run->next_write < run->next_seq)
        emit_ready(run, 1);
}

/* ---- input ------------------------------------------------------------------ */

struct input {
    const char *name;   /* for messages */
    FILE       *f;
    char       *blk;    /* bytes read, blk[pos..len) not yet consumed */
    size_t      cap, len, pos;
    int         eof;
    int         regular; /* a regular file (the importer can reopen it) */
    uint64_t    line;   /* of the last line returned */
};

static void
input_close(struct input *in)
{
    if (in->f && in->f != stdin)
        fclose(in->f);
    in->f = NULL;
    cb_free(in->blk);
    in->blk = NULL;
}

/* Reads more after the unconsumed bytes, growing the block when it is full. */
static enum cb_err
input_fill(struct input *in, struct cb_buf *err)
{
    size_t n;

    if (in->pos) {
        memmove(in->blk, in->blk + in->pos, in->len - in->pos);
        in->len -= in->pos;
        in->pos = 0;
    }
    if (in->len == in->cap) {
        size_t cap = in->cap * 2;
        char *p = cb_realloc(in->blk, cap);

        if (!p)
            return CB_ERR_NOMEM;
        in->blk = p;
        in->cap = cap;
    }
    n = fread(in->blk + in->len, 1, in->cap - in->len, in->f);
    in->len += n;
    if (n == 0) {
        if (ferror(in->f)) {
            cb_errf(err, "%s: read error: %s", in->name, strerror(errno));
            return CB_ERR_IO;
        }
        in->eof = 1;
    }
    return CB_OK;
}

static enum cb_err
input_open(struct input *in, const char *path, struct cb_buf *err)
{
    struct stat st;

    memset(in, 0, sizeof(*in));
    if (!strcmp(path, "-")) {
        in->name = "<stdin>";
        in->f = stdin;
    } else {
        in->name = path;
        if (!(in->f = fopen(path, "rb"))) {
            cb_errf(err, "cannot open '%s': %s", path, strerror(errno));
            return errno == ENOENT ? CB_ERR_NOT_FOUND : CB_ERR_IO;
        }
    }
    if (fstat(fileno(in->f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            cb_errf(err, "'%s' is a directory, not a file", path);
            return CB_ERR_USAGE;
        }
        in->regular = S_ISREG(st.st_mode);
    }
    in->cap = READ_BLOCK;
    if (!(in->blk = cb_malloc(in->cap)))
        return CB_ERR_NOMEM;
    /* The first block: enough to tell the kind from the header. */
    while (!in->eof && in->len < in->cap) {
        enum cb_err rc = input_fill(in, err);
        if (rc)
            return rc;
    }
    if (!in->len) {
        cb_errf(err, "%s: empty input", in->name);
        return CB_ERR_PROTO;
    }
    return CB_OK;
}

/* Whether the first line is the golden header; if so, consumes it. */
static int
input_is_golden(struct input *in)
{
    const char *p = in->blk;
    const char *nl = memchr(p, '\n', in->len);
    size_t n = nl ? (size_t)(nl - p) : in->len, skip = 0;

    if (!nl && !in->eof)
        return 0;
    if (n >= 3 && !memcmp(p, "\xEF\xBB\xBF", 3))
        skip = 3;
    if (n > skip && p[n - 1] == '\r')
        n--;
    if (n - skip != sizeof(golden_header) - 1 ||
        memcmp(p + skip, golden_header, n - skip))
        return 0;
    in->pos = nl ? (size_t)(nl - p) + 1 : in->len;
    in->line = 1;
    return 1;
}

/* The next line without its end (LF or CRLF): CB_OK, CB_EOF or an error. */
static enum cb_err
input_line(struct input *in, struct cb_str *line, struct cb_buf *err)
{
    for (;;) {
        const char *s = in->blk + in->pos;
        const char *nl = memchr(s, '\n', in->len - in->pos);
        size_t n;
        enum cb_err rc;

        if (nl || in->eof) {
            if (!nl && in->pos == in->len)
                return CB_EOF;
            n = nl ? (size_t)(nl - s) : in->len - in->pos;
            in->pos += nl ? n + 1 : n;
            if (n && s[n - 1] == '\r')
                n--;
            *line = cb_str_make(s, n);
            in->line++;
            return CB_OK;
        }
        if ((rc = input_fill(in, err)))
            return rc;
    }
}

/*
 * A front-page file on standard input or in a pipe: the importer opens
 * paths (and xlsx needs to seek), and the first block is already read, so
 * the bytes go to a temporary file first.
 */
static enum cb_err
spool(struct input *in, char *path, size_t cap, struct cb_buf *err)
{
    const char *dir = getenv("TMPDIR");
    enum cb_err rc = CB_OK;
    FILE *f;
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    if ((size_t)snprintf(path, cap, "%s/carebase-group-XXXXXX", dir) >= cap) {
        cb_errf(err, "TMPDIR is too long");
        return CB_ERR_USAGE;
    }
    if ((fd = mkstemp(path)) < 0 || !(f = fdopen(fd, "wb"))) {
        cb_errf(err, "cannot create a temporary file in '%s': %s", dir, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        path[0] = '\0';
        return CB_ERR_IO;
    }
    for (;;) {
        if (in->len > in->pos &&
            fwrite(in->blk + in->pos, 1, in->len - in->pos, f) != in->len - in->pos) {
            cb_errf(err, "cannot write '%s': %s", path, strerror(errno));
            rc = CB_ERR_IO;
            break;
        }
        in->pos = in->len;
        if (in->eof || (rc = input_fill(in, err)))
            break;
    }
    if (fclose(f) && !rc) {
        cb_errf(err, "cannot write '%s': %s", path, strerror(errno));
        rc = CB_ERR_IO;
    }
    return rc;
}

/* ---- the two kinds of input --------------------------------------------------- */

static enum cb_err
run_golden(struct group_run *run, struct input *in, struct cb_buf *err)
{
    struct cb_str line;
    enum cb_err rc = CB_OK;

    while (!run->failed && !(rc = input_line(in, &line, err))) {
        struct batch *b = run->cur;

        batch_add_rec(b, in->line, 0, 0);
        if ((rc = batch_add_span(b, line))) {
            cb_errf(err, "%s:%" PRIu64 ": %s", in->name, in->line, cb_strerror(rc));
            return rc;
        }
        if (batch_full(b))
            queue_batch(run);
    }
    return run->failed || rc == CB_EOF ? CB_OK : rc;
}

struct fp_ctx {
    struct group_run *run;
    const char       *name;
    struct cb_buf    *err;
};

/* cb_import_row_fn: packs every accepted front page into the current batch. */
static enum cb_err
on_fp_row(void *ctx, uint64_t line, struct cb_str raw, const struct cb_fp *r,
          const struct cb_qc_result *res)
{
    struct fp_ctx *fc = ctx;
    struct group_run *run = fc->run;
    struct cb_drg_input in;
    struct batch *b = run->cur;
    enum cb_err rc;
    int i;

    (void)raw;
    if (run->failed)
        return CB_ERR_USAGE;  /* stops the import; the error is already out */
    if (res->nerrors)
        return CB_OK;
    if ((rc = cb_drg_input_from_fp(&in, r, &run->conv)))
        goto fail;
    batch_add_rec(b, line, in.ndx, in.npx);
    if ((rc = batch_add_span(b, in.index)) || (rc = batch_add_span(b, in.sex)) ||
        (rc = batch_add_span(b, in.age)) || (rc = batch_add_span(b, in.age_days)) ||
        (rc = batch_add_span(b, in.weight)) || (rc = batch_add_span(b, in.dept)) ||
        (rc = batch_add_span(b, in.los)) || (rc = batch_add_span(b, in.leaving_type)))
        goto fail;
    for (i = 0; i < in.ndx; i++)
        if ((rc = batch_add_span(b, in.dx[i])))
            goto fail;
    for (i = 0; i < in.npx; i++)
        if ((rc = batch_add_span(b, in.px[i])))
            goto fail;
    if (batch_full(b))
        queue_batch(run);
    return CB_OK;

fail:
    cb_errf(fc->err, "%s:%" PRIu64 ": %s", fc->name, line, cb_strerror(rc));
    return rc;
}

struct fp_opts {
    struct cb_import_opts io;
    const char           *aliases;
};

static enum cb_err
run_fp(struct group_run *run, const struct cb_cli *cli, struct fp_opts *fo,
       const char *path, struct cb_import_summary *sum, struct cb_buf *err)
{
    struct cli_env env;
    struct fp_ctx fc = { run, run->name, err };
    struct cb_buf ierr = CB_BUF_INIT;
    enum cb_err rc;

    if (cli_env_load(&env, cli, "group", fo->aliases)) {
        run->failed = 1;  /* reported */
        return CB_ERR_USAGE;
    }
    fo->io.profiles = env.profiles;
    fo->io.on_row = on_fp_row;
    fo->io.row_ctx = &fc;
    rc = cb_import_file(&fo->io, NULL, env.qc, env.rd, path, sum, &ierr);
    if (rc && !run->failed && !err->len)
        cb_errf(err, "%s", cb_buf_cstr(&ierr));
    cli_env_release(&env);
    cb_buf_release(&ierr);
    return run->failed ? CB_OK : rc;
}

/* ---- the command ---------------------------------------------------------------- */

static void
print_summary(const struct group_run *run, const struct cb_drg_scheme *s,
              double load_s, double run_s, const struct cb_import_summary *sum)
{
    int i;

    fprintf(stderr, "group: %" PRIu64 " records in %.3f s (%.0f records/s), "
            "scheme %s loaded in %.3f s, %d thread%s\n",
            run->records, run_s, run_s > 0 ? (double)run->records / run_s : 0.0,
            cb_drg_scheme_id(s), load_s, run->nthreads, run->nthreads == 1 ? "" : "s");
    fputs("  ", stderr);
    for (i = 0; i < NSTATUS; i++)
        fprintf(stderr, "%s%s %" PRIu64, i ? ", " : "",
                cb_drg_status_name((enum cb_drg_status)i), run->counts[i]);
    fputc('\n', stderr);
    if (sum)
        fprintf(stderr, "  front pages: read %" PRIu64 ", rejected %" PRIu64
                " (not grouped; 'carebase check' says why)\n",
                sum->counts.read, sum->counts.rejected);
}

static int
parse_threads(const char *s, int *n)
{
    int64_t v;

    if (cb_parse_i64(cb_str_c(s), &v) != CB_OK || v < 0 || v > MAX_THREADS)
        return -1;
    if (v == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        v = cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : cpus;
    }
    *n = (int)v;
    return 0;
}

int
cmd_group(int argc, char **argv, const struct cb_cli *cli)
{
    static const struct option opts[] = {
        { "scheme", required_argument, NULL, 's' },
        { "format", required_argument, NULL, 'F' },
        { "wide", no_argument, NULL, 'w' },
        { "explain", no_argument, NULL, 'x' },
        { "lang", required_argument, NULL, 'l' },
        { "translate", required_argument, NULL, 't' },
        { "threads", required_argument, NULL, 'j' },
        { "quiet", no_argument, NULL, 'q' },
        /* CLI_READ_OPTIONS, but its --format is --input-format here */
        { "profile", required_argument, NULL, 'p' },
        { "aliases", required_argument, NULL, 'a' },
        { "encoding", required_argument, NULL, 'e' },
        { "input-format", required_argument, NULL, 'f' },
        { "hospital", required_argument, NULL, 'H' },
        { "hospital-name", required_argument, NULL, 'N' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct group_run run;
    struct fp_opts fo;
    struct input in;
    struct cb_drg_load_opts lo;
    struct cb_drg_scheme *scheme = NULL;
    struct cb_import_summary sum;
    struct cb_buf err = CB_BUF_INIT;
    struct timespec t0;
    const char *scheme_dir = cli->scheme_dir, *path;
    char spooled[4096] = "";
    int c, v, quiet = cli->quiet, tr = -1, run_ok = 0, status = CB_EXIT_FAIL;
    double load_s = 0;
    enum cb_err rc;

    memset(&run, 0, sizeof(run));
    memset(&fo, 0, sizeof(fo));
    memset(&in, 0, sizeof(in));
    run.nthreads = 1;
    run.go.langs = LANG_ZH | LANG_EN;
    run.out = stdout;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if ((v = cli_read_option("group", c, optarg, &fo.io, &fo.aliases)) != 0) {
            if (v < 0)
                return CB_EXIT_USAGE;
            continue;
        }
        switch (c) {
        case 's': scheme_dir = optarg; break;
        case 'F':
            if (!strcmp(optarg, "csv"))
                run.go.fmt = OUT_CSV;
            else if (!strcmp(optarg, "json"))
                run.go.fmt = OUT_JSON;
            else {
                cli_error("group", "unknown format '%s' (csv, json)", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'w': run.go.wide = 1; break;
        case 'x': run.go.explain = 1; break;
        case 'l':
            if (!strcmp(optarg, "zh"))
                run.go.langs = LANG_ZH;
            else if (!strcmp(optarg, "en"))
                run.go.langs = LANG_EN;
            else if (!strcmp(optarg, "both"))
                run.go.langs = LANG_ZH | LANG_EN;
            else {
                cli_error("group", "unknown language '%s' (zh, en, both)", optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 't':
            if (!strcmp(optarg, "off"))
                tr = CB_DRG_TR_OFF;
            else if (!strcmp(optarg, "source"))
                tr = CB_DRG_TR_SOURCE;
            else if (!strcmp(optarg, "codes"))
                tr = CB_DRG_TR_CODES;
            else {
                cli_error("group", "unknown translation '%s' (off, source, codes)",
                          optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'j':
            if (parse_threads(optarg, &run.nthreads)) {
                cli_error("group", "--threads wants 0..%d, not '%s'", MAX_THREADS,
                          optarg);
                return CB_EXIT_USAGE;
            }
            break;
        case 'q': quiet = 1; break;
        case 'h': fputs(cmd_group_usage, stdout); return CB_EXIT_OK;
        default: fputs(cmd_group_usage, stderr); return CB_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        cli_error("group", "give one FILE (or '-' for standard input)");
        return CB_EXIT_USAGE;
    }
    path = optind < argc ? argv[optind] : "-";

    if ((rc = input_open(&in, path, &err))) {
        cli_error("group", "%s", cb_buf_cstr(&err));
        goto out;
    }
    run.name = in.name;
    run.go.golden = input_is_golden(&in);
    run.go.tr = tr >= 0 ? (enum cb_drg_translate)tr
                        : run.go.golden ? CB_DRG_TR_OFF : CB_DRG_TR_CODES;

    memset(&lo, 0, sizeof(lo));
    lo.skip_dicts = run.go.fmt != OUT_JSON && !run.go.explain;
    lo.skip_maps = run.go.tr == CB_DRG_TR_OFF;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = cb_drg_scheme_load(scheme_dir, &lo, &scheme, &err))) {
        cli_error("group", "cannot load scheme '%s': %s", scheme_dir, cb_buf_cstr(&err));
        goto out;
    }
    load_s = cli_elapsed(&t0);
    if (run.go.tr != CB_DRG_TR_OFF && !cb_drg_scheme_has_maps(scheme)) {
        cli_error("group", "scheme '%s' has no code maps; use --translate off",
                  cb_drg_scheme_id(scheme));
        goto out;
    }
    run.go.scheme = scheme;
    if (pthread_mutex_init(&run.mu, NULL) || pthread_cond_init(&run.work_cv, NULL) ||
        pthread_cond_init(&run.done_cv, NULL)) {
        cli_error("group", "cannot set up threads");
        goto out;
    }
    run_ok = 1;
    if ((rc = run_start(&run))) {
        cli_error("group", "cannot start: %s", cb_strerror(rc));
        goto out;
    }

    if (run.go.fmt == OUT_CSV)
        fputs(run.go.wide ? "index,status,mdc,adrg,drg,mcc,cc,unmapped\n"
                          : "index,status,mdc,adrg,drg\n", run.out);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cb_import_summary_init(&sum);
    if (run.go.golden) {
        rc = run_golden(&run, &in, &err);
    } else {
        /* The importer opens the file itself: a pipe is spooled first. */
        if (in.f == stdin || !in.regular)
            rc = spool(&in, spooled, sizeof(spooled), &err);
        else
            rc = CB_OK;
        input_close(&in);
        if (!rc)
            rc = run_fp(&run, cli, &fo, spooled[0] ? spooled : path, &sum, &err);
    }
    run_finish(&run);
    if (rc && !run.failed)
        cli_error("group", "%s", err.len ? cb_buf_cstr(&err) : cb_strerror(rc));
    if (fflush(run.out) || ferror(run.out)) {
        cli_error("group", "cannot write the output: %s", strerror(errno));
        run.failed = 1;
    }
    if (!quiet)
        print_summary(&run, scheme, load_s, cli_elapsed(&t0),
                      run.go.golden ? NULL : &sum);
    cb_import_summary_release(&sum);
    if (!rc && !run.failed)
        status = CB_EXIT_OK;

out:
    if (run_ok)
        run_release(&run);
    if (spooled[0])
        unlink(spooled);
    input_close(&in);
    cb_drg_scheme_free(scheme);
    cb_buf_release(&err);
    return status;
}
