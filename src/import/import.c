/*
 * import.c - the front-page import pipeline (see import.h).
 *
 * An import runs on three kinds of thread:
 *
 *   reading thread   (cb-read) reads the file and finds its rows
 *                    (cb_reader_next_raw: encoding, line ends, quotes),
 *                    copies them into chunks of up to CB__ROWS_PER_CHUNK
 *                    rows, in file order;
 *   workers (n)      (cb-import) each takes the next chunk and, row by row,
 *                    splits it, maps and normalises it, checks it, groups
 *                    it into a DRG, derives its indicator fact, and encodes
 *                    what the store writes (struct cb_store_row);
 *   store thread     (cb-store) stores the chunks in file order
 *                    (cb_store_put), committing every batch_rows rows.
 *
 * The store thread is the critical path; the others run at a lower
 * priority (behind_store). The calling thread waits for them.
 *
 * Chunks come back to the reading thread when stored, and there are at
 * most 8n + 16 of them, so memory stays bounded whatever the file size. The
 * order of the rows in the database, the counts and the commits are those
 * of a single thread: only the work between reading and storing runs in
 * parallel. A worker that cannot take a row further (a row the splitter
 * refuses, out of memory) stops its chunk there; the store thread stores
 * the rows before it and stops the pipeline, exactly as if the reading had
 * stopped at that row.
 *
 * `carebase check` (no store) runs on the calling thread alone, row by
 * row, so its per-row callback sees the rows in order.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <string.h>
#include <unistd.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/import.h"
#include "carebase/strmap.h"
#include "import_int.h"

#define DEFAULT_BATCH 20000
#define MAX_WORKERS 8

void
cb_import_summary_init(struct cb_import_summary *s)
{
    memset(s, 0, sizeof(*s));
}

void
cb_import_summary_release(struct cb_import_summary *s)
{
    cb_free(s->rule_records);
    cb_free(s->rule_issues);
    s->rule_records = NULL;
    s->rule_issues = NULL;
}

struct store_side {
    struct cb_store          *st;
    int64_t                   file_id;
    uint32_t                  batch_rows;
    struct pipeline          *pipe;
    struct cb_import_summary *sum;       /* rule counts are added here */
    struct cb_import_counts   counts;    /* every row stored so far */
    struct cb_import_counts   committed; /* as of the last commit */
    uint64_t                  read;      /* rows taken from the chunks */
    uint64_t                  duplicates;
    struct cb_import_drg      drg, drg_committed; /* as counts, committed */
    uint64_t                 *slot, *slot_committed; /* per chooser scheme */
    int                       nslots;
    enum cb_err               rc;        /* the store failed */
    struct cb_buf             err;
    enum cb_err               file_rc;   /* a worker found the file malformed */
    struct cb_buf             ferr;
    enum cb_err               work_rc;   /* a worker failed otherwise (memory, */
    struct cb_buf             werr;      /*   a DRG scheme that does not load) */
};

struct worker;

struct run {
    const struct cb_import_opts *opts;
    struct cb_store          *st;
    const struct cb_qc       *qc;
    const struct cb_refdata  *rd;
    struct cb_import_summary *sum;
    struct cb_header_map      map;
    struct cb_splitter        splitter;
    int64_t                   file_id;
    struct cb_strmap          seen_keys;  /* check-only mode: key hashes */
    struct cb_str             hospital, hospital_name;
    int                       id02;       /* rule index of QC-ID-02 */
    int                       id03;       /* rule index of QC-ID-03 */
    struct pipeline           pipe;
    struct worker            *workers;
    int                       nworkers;
};

/* What one thread needs to take a row from text to an encoded row. */
struct worker {
    struct run              *ru;
    int                      index;      /* the DRG chooser's thread index */
    pthread_t                th;
    int                      started;
    struct cb_fp            *rec;
    struct cb_qc_result     *res;
    struct cb_arena          arena;      /* per-row normalisation */
    struct cb_store_encoder *enc;        /* items layout and dx/px JSON */
    uint8_t                 *rule_hit;   /* per rule, for the current row */
    struct cb_split_work     split;
};

/* ---- the row: map, normalise, check ---------------------------------------- */

static void
count_rules(const struct run *ru, struct worker *w, uint64_t *records, uint64_t *issues)
{
    int i, nrules = ru->sum->nrules;

    memset(w->rule_hit, 0, (size_t)nrules);
    for (i = 0; i < w->res->n; i++) {
        int k = w->res->issue[i].rule;
        if (k < 0 || k >= nrules)
            continue;
        issues[k]++;
        if (!w->rule_hit[k]) {
            w->rule_hit[k] = 1;
            records[k]++;
        }
    }
}

static void
count_row(const struct worker *w, struct cb_import_counts *c)
{
    c->read++;
    if (w->res->nerrors) {
        c->rejected++;
    } else {
        c->accepted++;
        c->warnings += w->res->nwarnings > 0;
    }
}

/* Fills w->rec from a split row and checks it into w->res. */
static enum cb_err
check_row(const struct run *ru, struct worker *w, const struct cb_row *row)
{
    struct cb_fp *r = w->rec;
    enum cb_err rc;

    cb_arena_reset(&w->arena);
    w->res->n = 0;
    w->res->nerrors = 0;
    w->res->nwarnings = 0;
    w->res->ndropped = 0;
    if (row->nfields != ru->map.ncols) {
        char detail[CB_QC_DETAIL_MAX];
        cb_fp_reset(r);
        snprintf(detail, sizeof(detail), "the row has %zu fields, the header %zu",
                 row->nfields, ru->map.ncols);
        cb_qc_add_issue(ru->qc, w->res, "QC-ROW-01", -1, CB_STR_NULL, detail);
        return CB_OK;
    }
    if ((rc = cb_profile_fill(&ru->map, row, r, &w->arena)))
        return rc;
    if (ru->hospital.len && !r->v[CB_F_ZZJGDM].len) {
        cb_fp_assign(r, CB_F_ZZJGDM, ru->hospital);
        r->state[CB_F_ZZJGDM] = CB_FS_TEXT;
        if (!r->v[CB_F_JGMC].len && ru->hospital_name.len) {
            cb_fp_assign(r, CB_F_JGMC, ru->hospital_name);
            r->state[CB_F_JGMC] = CB_FS_TEXT;
        }
    }
    cb_qc_check(ru->qc, r, cb_profile_std(ru->map.profile), w->res);
    return CB_OK;
}

/* QC-ID-02 in check-only mode: a set of key fingerprints. */
static enum cb_err
check_duplicate(struct run *ru, struct worker *w)
{
    char key[sizeof(uint64_t)];
    uint64_t h;
    struct cb_fp *r = w->rec;

    if (!r->v[CB_F_BAH].len || !r->v[CB_F_ZYCS].len)
        return CB_OK;
    h = cb_hash64(r->v[CB_F_ZZJGDM].ptr, r->v[CB_F_ZZJGDM].len, 0);
    h = cb_hash64(r->v[CB_F_BAH].ptr, r->v[CB_F_BAH].len, h);
    h = cb_hash64(r->v[CB_F_ZYCS].ptr, r->v[CB_F_ZYCS].len, h ^ 0x9e37);
    memcpy(key, &h, sizeof(h));
    if (cb_strmap_has(&ru->seen_keys, cb_str_make(key, sizeof(h)))) {
        cb_qc_add_issue(ru->qc, w->res, "QC-ID-02", CB_F_BAH, r->v[CB_F_BAH],
                        "the same (ZZJGDM, BAH, ZYCS) appears earlier in this file");
        return CB_OK;
    }
    return cb_strmap_put(&ru->seen_keys, cb_str_make(key, sizeof(h)), 1);
}

static struct cb_str
dept_name(const struct cb_refdata *rd, struct cb_str code)
{
    struct cb_str name = CB_STR_NULL;

    if (code.len && !cb_refdata_set_name(rd, CB_VS_WESTERN, "RC023", code, &name))
        (void)cb_refdata_set_name(rd, CB_VS_TCM, "RC023", code, &name);
    return name;
}

/*
 * Encodes the checked row (w->rec, w->res) into sr, with every string in
 * the arena a or the chunk: the record's columns, items (layout V2),
 * diagnoses and procedures, its DRG result and indicator fact.
 */
static enum cb_err
encode_row(const struct run *ru, struct worker *w, const struct cb_row *row,
           struct cb_store_row *sr, struct cb_arena *a, struct cb_buf *err)
{
    enum cb_err rc;

    rc = cb_store_row_encode(sr, w->rec, ru->qc, w->res, row->raw, row->line, a, w->enc);
    if (rc)
        return rc;
    sr->has_fact = 0;
    sr->transfer_to = CB_STR_NULL;
    if (sr->rejected)
        return CB_OK;
    /* Names live in the reference tables, which outlive the chunk. */
    sr->sval[CB_SC_CYKB_NAME] = dept_name(ru->rd, sr->sval[CB_SC_CYKB]);
    /* Most stays end in the department they began in: one lookup then. */
    sr->sval[CB_SC_RYKB_NAME] = cb_str_eq(sr->sval[CB_SC_RYKB], sr->sval[CB_SC_CYKB])
                                    ? sr->sval[CB_SC_CYKB_NAME]
                                    : dept_name(ru->rd, sr->sval[CB_SC_RYKB]);
    /* Grouping: no SQL, no allocation (the chooser holds the works). */
    if (ru->opts->drg &&
        (rc = cb_store_drg_chooser_group_on(ru->opts->drg, w->index, w->rec,
                                            ru->opts->drg_translate, &sr->drg, err)))
        return rc;
    /* The indicator fact; the store fills in its dimension ids. */
    if (ru->opts->facts) {
        sr->has_fact = 1;
        cb_fact_derive(w->rec, ru->rd, ru->opts->facts,
                       sr->drg.scheme_id > 0 && sr->drg.status == CB_DRG_SUCCESS,
                       &sr->fact);
        /* #2: the store decides whether a transfer went down the consortium. */
        if ((sr->fact.flags & CB_FACT_TRANSFER) && w->rec->v[CB_F_YZZY_YLJG].len) {
            struct cb_str t = w->rec->v[CB_F_YZZY_YLJG];
            sr->transfer_to = cb_arena_dup(a, t.ptr, t.len);
            if (!sr->transfer_to.ptr)
                return CB_ERR_NOMEM;
        }
    }
    return CB_OK;
}

static enum cb_err
worker_init(struct worker *w, struct run *ru, int index)
{
    memset(w, 0, sizeof(*w));
    w->ru = ru;
    w->index = index;
    w->split.sparse = 1; /* profile_fill reads only the non-empty fields */
    cb_arena_init(&w->arena, 1 << 16);
    w->rec = cb_calloc(1, sizeof(*w->rec));
    w->res = cb_malloc(sizeof(*w->res));
    w->rule_hit = cb_calloc((size_t)ru->sum->nrules, 1);
    if (!w->rec || !w->res || !w->rule_hit)
        return CB_ERR_NOMEM;
    return ru->st ? cb_store_encoder_new(&w->enc) : CB_OK;
}

static void
worker_release(struct worker *w)
{
    cb_arena_release(&w->arena);
    cb_free(w->rec);
    cb_free(w->res);
    cb_free(w->rule_hit);
    cb_store_encoder_free(w->enc);
    cb_split_work_release(&w->split);
}

/* ---- the workers' job ------------------------------------------------------ */

/* Row i of chunk c as the splitter sees it, or split already (xlsx). */
static enum cb_err
chunk_row(const struct run *ru, struct worker *w, const struct chunk *c, size_t i,
          struct cb_row *row, struct cb_buf *err)
{
    const struct rowin *in = &c->in[i];
    struct cb_raw_row raw;

    memset(&raw, 0, sizeof(raw));
    raw.text = cb_str_make(c->text.ptr + in->off, in->len);
    raw.line = in->line;
    raw.last = in->last;
    raw.quoted = in->quoted;
    if (in->presplit) {
        size_t k;
        if (in->nf > w->split.cap) {
            struct cb_str *p = cb_reallocarray(w->split.fields, in->nf, sizeof(*p));
            if (!p)
                return CB_ERR_NOMEM;
            w->split.fields = p;
            w->split.cap = in->nf;
        }
        for (k = 0; k < in->nf; k++)
            w->split.fields[k] = cb_str_make(c->text.ptr + c->fld[2 * (in->fidx + k)],
                                             c->fld[2 * (in->fidx + k) + 1]);
        raw.fields = w->split.fields;
        raw.nfields = in->nf;
    }
    return cb_row_split(&ru->splitter, &raw, &w->split, row, err);
}

/*
 * Asks for row i's text ahead of its turn. The reading thread wrote it on
 * either core, usually tens of chunks earlier: the splitter's first pass
 * over a row waited on its cache lines (the splitter took 4.7 % of a 1M
 * import's samples for 3 % of its instructions). A row's work (about 5 us)
 * leaves time for the lines to arrive. 1M rows, 12 alternating runs:
 * median 5.66 s without, 5.55 s with.
 */
static inline void
prefetch_row(const struct chunk *c, size_t i)
{
    const char *t = c->text.ptr + c->in[i].off;

    for (uint32_t k = 0; k < c->in[i].len; k += 64)
        __builtin_prefetch(t + k, 0, 3);
}

/* A worker's job: every row of the chunk, until one fails. */
static void
work_chunk(struct run *ru, struct worker *w, struct chunk *c)
{
    struct cb_row row;
    enum cb_err rc = CB_OK;

    if (c->n)
        prefetch_row(c, 0);
    for (c->nout = 0; c->nout < c->n; c->nout++) {
        if (c->nout + 1 < c->n)
            prefetch_row(c, c->nout + 1);
        if ((rc = chunk_row(ru, w, c, c->nout, &row, &c->err))) {
            c->file_error = rc != CB_ERR_NOMEM && c->err.len;
            break;
        }
        if ((rc = check_row(ru, w, &row)))
            break;
        if ((rc = encode_row(ru, w, &row, &c->rows[c->nout], &c->arena, &c->err)))
            break;
        count_row(w, &c->counts);
        count_rules(ru, w, c->rule_records, c->rule_issues);
    }
    c->rc = rc;
    if (rc && !c->err.len)
        cb_errf(&c->err, "%s", cb_strerror(rc));
}

/*
 * The store thread is the import's critical path: the workers and the
 * reading thread have time to spare (they wait for chunks the store has
 * not taken yet), and on two cores every time slice they take from it
 * makes the import longer. So they run at a lower priority (this thread
 * only; Linux's nice is per thread) and give the store thread the CPU
 * whenever it can run (1M records: about 9 % faster; nice 19 was ahead
 * of nice 10 by 2-3 %). A thread cannot
 * raise its priority again, which is why reading has a thread of its own.
 */
#define HELPER_NICE 19

static void
behind_store(void)
{
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HELPER_NICE);
}

static void *
worker_main(void *arg)
{
    struct worker *w = arg;
    struct run *ru = w->ru;
    struct pipeline *p = &ru->pipe;
    struct chunk *c;

    prctl(PR_SET_NAME, "cb-import", 0, 0, 0);
    behind_store();
    while ((c = cb__pipe_take_work(p)) != NULL) {
        work_chunk(ru, w, c);
        cb__pipe_work_done(p, c);
    }
    return NULL;
}

/* ---- the store thread -------------------------------------------------------- */

/* Counts the DRG result of a stored, accepted row. */
static void
count_drg(struct store_side *ss, const struct cb_store_drg *d)
{
    if (d->scheme_id > 0) {
        ss->drg.grouped++;
        if (d->status < sizeof(ss->drg.status) / sizeof(ss->drg.status[0]))
            ss->drg.status[d->status]++;
        if (d->slot >= 0 && d->slot < ss->nslots)
            ss->slot[d->slot]++;
    } else if (d->scheme_id < 0) {
        ss->drg.no_scheme++;
    }
}

static void
commit_drg(struct store_side *ss)
{
    ss->drg_committed = ss->drg;
    if (ss->nslots)
        memcpy(ss->slot_committed, ss->slot, (size_t)ss->nslots * sizeof(uint64_t));
}

enum { STORE_PREFETCH = 4 }; /* rows: see cb_store_prefetch */

/* Stores rows [0, c->nout) of a chunk; returns the store's error. */
static enum cb_err
store_chunk(struct store_side *ss, struct chunk *c, uint64_t *in_batch)
{
    size_t i;
    int k;
    enum cb_err rc = CB_OK;

    for (i = 0; i < c->nout; i++) {
        const struct cb_store_row *row = &c->rows[i];
        enum cb_put_result put;

        /*
         * Ahead of the store, in two stages: the row 2d ahead into the
         * cache (the hash that the second stage reads), then what storing
         * the row d ahead reads at random.
         */
        if (i + 2 * STORE_PREFETCH < c->nout)
            __builtin_prefetch(&c->rows[i + 2 * STORE_PREFETCH].patient_hash);
        if (i + STORE_PREFETCH < c->nout)
            cb_store_prefetch(ss->st, &c->rows[i + STORE_PREFETCH]);

        if ((rc = cb_store_put(ss->st, ss->file_id, row, &put, &ss->err)))
            return rc;
        ss->counts.read++;
        if (row->rejected || put == CB_PUT_DUPLICATE) {
            ss->counts.rejected++;
            ss->duplicates += !row->rejected;
        } else {
            ss->counts.accepted++;
            ss->counts.warnings += row->nissues > 0;
            ss->counts.inserted += put == CB_PUT_INSERTED;
            ss->counts.replaced += put == CB_PUT_REPLACED;
            ss->counts.unchanged += put == CB_PUT_UNCHANGED;
            count_drg(ss, &row->drg);
        }
        if (++*in_batch >= ss->batch_rows) {
            if ((rc = cb_store_commit(ss->st, &ss->err)))
                return rc;
            ss->committed = ss->counts;
            commit_drg(ss);
            if ((rc = cb_store_begin(ss->st, &ss->err)))
                return rc;
            *in_batch = 0;
        }
    }
    ss->read += c->nout;
    for (k = 0; k < ss->sum->nrules; k++) {
        ss->sum->rule_records[k] += c->rule_records[k];
        ss->sum->rule_issues[k] += c->rule_issues[k];
    }
    return CB_OK;
}

static void *
store_main(void *arg)
{
    struct store_side *ss = arg;
    struct chunk *c;
    uint64_t in_batch = 0;

    prctl(PR_SET_NAME, "cb-store", 0, 0, 0); /* visible in top and perf */
    while ((c = cb__pipe_take_done(ss->pipe)) != NULL) {
        ss->rc = store_chunk(ss, c, &in_batch);
        if (!ss->rc && c->rc) {
            /* A worker stopped at row nout: the import stops there. */
            if (c->file_error) {
                ss->file_rc = c->rc;
                cb_errf(&ss->ferr, "%s", cb_buf_cstr(&c->err));
            } else {
                ss->work_rc = c->rc;
                cb_errf(&ss->werr, "%s", cb_buf_cstr(&c->err));
            }
        }
        cb__pipe_recycle(ss->pipe, c);
        if (ss->rc || ss->file_rc || ss->work_rc) {
            cb__pipe_stop(ss->pipe);
            break;
        }
    }
    return NULL;
}

/* The DRG part of the summary: counts, and the schemes that were used. */
static void
drg_summary(struct cb_import_summary *sum, const struct cb_store_drg_chooser *c,
            const struct cb_import_drg *d, const uint64_t *slot, int nslots)
{
    int i;

    sum->drg = *d;
    sum->drg.on = 1;
    sum->drg.nschemes = 0;
    for (i = 0; i < nslots && sum->drg.nschemes < CB_IMPORT_DRG_SCHEMES; i++) {
        const char *scheme, *digest;
        int64_t id;

        if (!slot[i])
            continue;
        cb_store_drg_chooser_scheme(c, i, &id, &scheme, &digest);
        sum->drg.scheme[sum->drg.nschemes].id = id;
        sum->drg.scheme[sum->drg.nschemes].records = slot[i];
        snprintf(sum->drg.scheme[sum->drg.nschemes].scheme,
                 sizeof(sum->drg.scheme[0].scheme), "%s", scheme);
        snprintf(sum->drg.scheme[sum->drg.nschemes].digest,
                 sizeof(sum->drg.scheme[0].digest), "%.12s", digest);
        sum->drg.nschemes++;
    }
}

/* ---- the reading thread ------------------------------------------------------ */

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static enum cb_err
setup(struct run *ru, struct cb_reader *rdr, const char *path,
      struct cb_buf *err)
{
    const struct cb_import_opts *o = ru->opts;
    const struct cb_profile *p;
    struct cb_row header;
    int supplied[3] = { -1, -1, -1 };
    enum cb_err rc;

    rc = cb_reader_next(rdr, &header, err);
    if (rc == CB_EOF) {
        cb_errf(err, "%s: empty file; expected a header line", path);
        return CB_ERR_PROTO;
    }
    if (rc)
        return rc;
    if (o->profile) {
        p = cb_profiles_find(o->profiles, o->profile);
        if (!p) {
            cb_errf(err, "unknown profile '%s'", o->profile);
            return CB_ERR_USAGE;
        }
    } else {
        p = cb_profiles_detect(o->profiles, &header);
        if (!p) {
            cb_errf(err, "%s: line %llu: the header matches no known dialect "
                    "(western A01…, tcm pinyin, n041/HIS); expected front-page "
                    "column names, or choose one with --profile", path,
                    (unsigned long long)header.line);
            return CB_ERR_PROTO;
        }
    }
    if (o->hospital) {
        supplied[0] = CB_F_ZZJGDM;
        supplied[1] = CB_F_JGMC;
    }
    if ((rc = cb_header_map_build(&ru->map, p, &header, supplied, err))) {
        cb_errf(err, "in '%s' (line %llu)", path, (unsigned long long)header.line);
        return rc;
    }
    cb_reader_splitter(rdr, &ru->splitter);
    snprintf(ru->sum->profile, sizeof(ru->sum->profile), "%s", cb_profile_name(p));
    ru->sum->columns = ru->map.ncols;
    ru->sum->ignored_columns = ru->map.nignored;
    ru->sum->encoding = cb_reader_encoding(rdr);
    ru->sum->format = cb_reader_format(rdr);
    return CB_OK;
}

static void
progress(const struct run *ru, struct cb_reader *rdr, uint64_t rows)
{
    const struct cb_import_opts *opts = ru->opts;
    uint32_t every = opts->progress_every ? opts->progress_every : 50000;
    uint64_t done, total;

    if (opts->progress && rows % every == 0) {
        cb_reader_progress(rdr, &done, &total);
        opts->progress(opts->progress_ctx, rows, done, total, 0);
    }
}

/* Check-only: every row on this thread, in order; the reader's error or CB_OK. */
static enum cb_err
check_rows(struct run *ru, struct worker *w, struct cb_reader *rdr,
           struct cb_buf *ferr)
{
    const struct cb_import_opts *opts = ru->opts;
    struct cb_import_summary *sum = ru->sum;
    struct cb_raw_row raw;
    struct cb_row row;
    enum cb_err rc;

    for (;;) {
        /* The workers' way: rows found, then split sparse. */
        rc = cb_reader_next_raw(rdr, &raw, ferr);
        if (rc == CB_EOF)
            return CB_OK;
        if (rc || (rc = cb_row_split(&ru->splitter, &raw, &w->split, &row, ferr)))
            return rc;
        if ((rc = check_row(ru, w, &row)))
            return rc;
        if (row.nfields == ru->map.ncols && (rc = check_duplicate(ru, w)))
            return rc;
        count_row(w, &sum->counts);
        count_rules(ru, w, sum->rule_records, sum->rule_issues);
        if (opts->on_row &&
            (rc = opts->on_row(opts->row_ctx, row.line, row.raw, w->rec, w->res)))
            return rc;
        progress(ru, rdr, sum->counts.read);
    }
}

/*
 * Import: reads every row into chunks for the workers. Returns the reader's
 * error (message in ferr), CB_ERR_DB when the store stopped, or CB_OK.
 */
static enum cb_err
read_rows(struct run *ru, struct cb_reader *rdr, struct cb_buf *ferr, uint64_t *nread)
{
    struct pipeline *p = &ru->pipe;
    int nrules = ru->sum->nrules;
    struct chunk *c = cb__pipe_get_free(p, nrules);
    struct cb_raw_row raw;
    enum cb_err rc;

    *nread = 0;
    if (!c)
        return CB_ERR_DB;
    for (;;) {
        rc = cb_reader_next_raw(rdr, &raw, ferr);
        if (rc == CB_EOF) {
            rc = CB_OK;
            break;
        }
        if (rc)
            break;
        if ((rc = cb__chunk_add(c, &raw))) {
            if (rc == CB_ERR_TOO_LARGE)
                cb_errf(ferr, "%s: line %llu: row too large", ru->splitter.path,
                        (unsigned long long)raw.line);
            break;
        }
        ++*nread;
        if (cb__chunk_full(c)) {
            cb__pipe_put_filled(p, c);
            if (!(c = cb__pipe_get_free(p, nrules)))
                return CB_ERR_DB; /* the store thread's message is reported */
        }
        progress(ru, rdr, *nread);
    }
    /* The rows read before an error are stored; the open batch is rolled back. */
    if (c->n)
        cb__pipe_put_filled(p, c);
    else
        cb__pipe_recycle(p, c);
    return rc;
}

struct reading {
    struct run       *ru;
    struct cb_reader *rdr;
    struct cb_buf    *ferr;
    uint64_t          nread;
    enum cb_err       rc;
};

static void *
reading_main(void *arg)
{
    struct reading *rd = arg;

    prctl(PR_SET_NAME, "cb-read", 0, 0, 0);
    behind_store();
    rd->rc = read_rows(rd->ru, rd->rdr, rd->ferr, &rd->nread);
    return NULL;
}

static int
default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

/* Starts the workers; on failure those started are left to cb_import_file. */
static enum cb_err
start_workers(struct run *ru, struct cb_buf *err)
{
    int i, n = ru->opts->workers ? (int)ru->opts->workers : default_workers();
    enum cb_err rc;

    if (n > MAX_WORKERS)
        n = MAX_WORKERS;
    /*
     * Chunks in flight: enough for the workers to keep going while the
     * store thread commits (every batch_rows rows it writes some 20 MB of
     * log) or waits for the checkpointer. With 6 for two workers they
     * stood still then; 32 chunks of 512 rows took 5-8 % off a 1M-row
     * import, wall time, and 32 of 1024 rows (32k rows in flight, peak RSS
     * 266 MB instead of 217) another 2.7 % (bench/RESULTS.md). 64 of 512
     * did about as well for more CPU time, 16 of 2048 no better, and 128
     * of 512 took 362 MB for nothing more.
     */
    if ((rc = cb__pipe_init(&ru->pipe, (size_t)(8 * n + 16), ru->sum->nrules)))
        return rc;
    if (ru->opts->drg && (rc = cb_store_drg_chooser_threads(ru->opts->drg, n)))
        return rc;
    ru->workers = cb_calloc((size_t)n, sizeof(*ru->workers));
    if (!ru->workers)
        return CB_ERR_NOMEM;
    ru->nworkers = n;
    for (i = 0; i < n; i++)
        if ((rc = worker_init(&ru->workers[i], ru, i)))
            return rc;
    for (i = 0; i < n; i++) {
        if (pthread_create(&ru->workers[i].th, NULL, worker_main, &ru->workers[i])) {
            cb_errf(err, "cannot start an import thread");
            return CB_ERR_NOMEM;
        }
        ru->workers[i].started = 1;
    }
    return CB_OK;
}

static void
join_workers(struct run *ru)
{
    int i;

    cb__pipe_close(&ru->pipe);
    for (i = 0; i < ru->nworkers; i++)
        if (ru->workers[i].started) {
            pthread_join(ru->workers[i].th, NULL);
            ru->workers[i].started = 0;
        }
}

enum cb_err
cb_import_file(const struct cb_import_opts *opts, struct cb_store *st,
               const struct cb_qc *qc, const struct cb_refdata *rd,
               const char *path, struct cb_import_summary *sum,
               struct cb_buf *err)
{
    struct run ru;
    struct store_side ss;
    struct worker solo;
    struct cb_reader *rdr = NULL;
    struct cb_buf ferr = CB_BUF_INIT, hname = CB_BUF_INIT;
    uint64_t done, total, nread = 0;
    enum cb_err rc, read_rc = CB_OK;
    pthread_t th;
    int began = 0, threaded = 0, piped = 0, i;
    uint64_t ov0 = 0, ov_first0 = 0;

    memset(&ru, 0, sizeof(ru));
    memset(&ss, 0, sizeof(ss));
    memset(&solo, 0, sizeof(solo));
    cb_buf_init(&ss.err, 1 << 16);
    cb_buf_init(&ss.ferr, 1 << 16);
    cb_buf_init(&ss.werr, 1 << 16);
    ru.opts = opts;
    ru.st = st;
    ru.qc = qc;
    ru.rd = rd;
    ru.sum = sum;
    ru.file_id = -1;
    ru.hospital = cb_str_c(opts->hospital);
    ru.hospital_name = cb_str_c(opts->hospital_name);
    /* --hospital of a hospital already known: its name fills JGMC too. */
    if (st && opts->hospital && !opts->hospital_name &&
        cb_store_hospital_name(st, opts->hospital, &hname, &ferr) == CB_OK)
        ru.hospital_name = cb_buf_str(&hname);
    cb_buf_reset(&ferr);
    cb_strmap_init(&ru.seen_keys);
    snprintf(sum->file, sizeof(sum->file), "%s", path);
    sum->nrules = cb_qc_rule_count(qc);
    ru.id02 = cb_qc_rule_find(qc, "QC-ID-02");
    ru.id03 = cb_qc_rule_find(qc, "QC-ID-03");
    sum->rule_records = cb_calloc((size_t)sum->nrules, sizeof(uint64_t));
    sum->rule_issues = cb_calloc((size_t)sum->nrules, sizeof(uint64_t));
    if (!sum->rule_records || !sum->rule_issues) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    if ((rc = cb_reader_open(&rdr, path, &opts->reader, err)))
        goto out;
    if ((rc = setup(&ru, rdr, path, err)))
        goto out;
    if (!st) {
        /* Check only: one thread, rows in order. */
        if ((rc = worker_init(&solo, &ru, 0)))
            goto out;
        read_rc = check_rows(&ru, &solo, rdr, &ferr);
        if (read_rc) {
            rc = read_rc;
            if (ferr.len) {
                sum->failed = 1;
                cb_errf(err, "%s", cb_buf_cstr(&ferr));
            }
            goto out;
        }
        sum->encoding = cb_reader_encoding(rdr);
        goto finish;
    }

    {
        struct cb_import_file f;
        char enc[16];
        snprintf(enc, sizeof(enc), "%s", cb_encoding_name(sum->encoding));
        cb_reader_progress(rdr, &done, &total);
        f.path = path;
        f.name = base_name(path);
        f.size = total;
        f.profile = sum->profile;
        f.encoding = enc;
        f.format = cb_format_name(sum->format);
        if ((rc = cb_store_file_begin(st, &f, &ru.file_id, err)))
            goto out;
    }
    piped = 1;
    if ((rc = start_workers(&ru, err)) || (rc = cb_store_bulk_begin(st, err)) ||
        (rc = cb_store_begin(st, err)))
        goto out;
    began = 1;
    cb_store_overlap_counts(st, &ov0, &ov_first0);
    ss.st = st;
    ss.file_id = ru.file_id;
    ss.batch_rows = opts->batch_rows ? opts->batch_rows : DEFAULT_BATCH;
    ss.pipe = &ru.pipe;
    ss.sum = sum;
    if (opts->drg) {
        sum->drg.on = 1;
        ss.nslots = cb_store_drg_chooser_nschemes(opts->drg);
        ss.slot = cb_calloc((size_t)ss.nslots + 1, sizeof(uint64_t));
        ss.slot_committed = cb_calloc((size_t)ss.nslots + 1, sizeof(uint64_t));
        if (!ss.slot || !ss.slot_committed) {
            rc = CB_ERR_NOMEM;
            goto out;
        }
    }
    if (pthread_create(&th, NULL, store_main, &ss) != 0) {
        cb_errf(err, "cannot start the store thread");
        rc = CB_ERR_NOMEM;
        goto out;
    }
    threaded = 1;

    {
        /* On a thread of its own (behind_store), else on this one. */
        struct reading job = { &ru, rdr, &ferr, 0, CB_OK };
        pthread_t rth;

        if (pthread_create(&rth, NULL, reading_main, &job) == 0) {
            pthread_join(rth, NULL);
            read_rc = job.rc;
            nread = job.nread;
        } else {
            read_rc = read_rows(&ru, rdr, &ferr, &nread);
        }
    }
    join_workers(&ru);
    pthread_join(th, NULL);
    threaded = 0;
    /*
     * A worker that stopped at a row stops the import there, as if the
     * reader had: its row comes before anything the reader found after.
     */
    if (ss.file_rc || ss.work_rc) {
        read_rc = ss.file_rc ? ss.file_rc : ss.work_rc;
        cb_buf_reset(&ferr);
        if (ss.file_rc)
            cb_errf(&ferr, "%s", cb_buf_cstr(&ss.ferr));
        else
            cb_errf(err, "%s", cb_buf_cstr(&ss.werr));
    }
    /*
     * The store's counts are exact (duplicates within the file pass QC and
     * are rejected by the store); after a failure only what was committed
     * counts. Rows read: those the store took when a worker stopped the
     * import, else every row the reader read (all went on to the store).
     */
    {
        uint64_t read = ss.file_rc || ss.work_rc ? ss.read : nread, ov, ov_first;
        sum->counts = read_rc ? ss.committed : ss.counts;
        sum->counts.read = read;
        if (opts->drg)
            drg_summary(sum, opts->drg, read_rc ? &ss.drg_committed : &ss.drg,
                        read_rc ? ss.slot_committed : ss.slot, ss.nslots);
        /* Overlapping stays (QC-ID-03) are found by the store. */
        cb_store_overlap_counts(st, &ov, &ov_first);
        ov -= ov0;
        ov_first -= ov_first0;
        if (!read_rc) {
            sum->counts.warnings += ov_first;
            if (ru.id03 >= 0) {
                sum->rule_records[ru.id03] += ov;
                sum->rule_issues[ru.id03] += ov;
            }
        }
    }
    if (ru.id02 >= 0) {
        sum->rule_records[ru.id02] += ss.duplicates;
        sum->rule_issues[ru.id02] += ss.duplicates;
    }
    if (ss.rc) {
        cb_errf(err, "%s", cb_buf_cstr(&ss.err));
        rc = ss.rc;
        goto out;
    }
    if (read_rc) {
        /* Malformed file: keep what was committed, drop the open batch. */
        struct cb_buf e2 = CB_BUF_INIT;
        rc = read_rc;
        if (ferr.len) {
            sum->failed = 1;
            cb_errf(err, "%s", cb_buf_cstr(&ferr));
        }
        cb_store_rollback(st);
        began = 0;
        if (cb_store_file_finish(st, ru.file_id, &sum->counts, "failed",
                                 cb_buf_cstr(ferr.len ? &ferr : err),
                                 NULL, &e2) != CB_OK)
            cb_errf(err, "%s", cb_buf_cstr(&e2));
        cb_buf_release(&e2);
        goto out;
    }
    sum->encoding = cb_reader_encoding(rdr); /* may have switched mid-file */
    if ((rc = cb_store_resolve_rejects(st, ru.file_id, err)) ||
        (rc = cb_store_file_finish(st, ru.file_id, &sum->counts, "complete",
                                   NULL, cb_encoding_name(sum->encoding), err)) ||
        (rc = cb_store_commit(st, err)))
        goto out;
    began = 0;

finish:
    if (opts->progress) {
        cb_reader_progress(rdr, &done, &total);
        opts->progress(opts->progress_ctx, sum->counts.read, done, total, 1);
    }
    rc = CB_OK;

out:
    /*
     * A file that failed before its run was recorded (unreadable, bad
     * encoding, unknown header) still leaves a failed run behind, so that
     * `carebase status` shows the attempt and why it failed.
     */
    if (st && ru.file_id < 0 && rc && rc != CB_ERR_NOMEM && rc != CB_ERR_DB) {
        struct cb_import_file f;
        struct cb_buf e2 = CB_BUF_INIT;
        uint64_t d = 0, size = 0;
        int64_t fid;

        if (rdr)
            cb_reader_progress(rdr, &d, &size);
        f.path = path;
        f.name = base_name(path);
        f.size = size;
        f.profile = sum->profile[0] ? sum->profile : NULL;
        f.encoding = rdr ? cb_encoding_name(cb_reader_encoding(rdr)) : NULL;
        f.format = rdr ? cb_format_name(cb_reader_format(rdr)) : NULL;
        if (cb_store_file_begin(st, &f, &fid, &e2) == CB_OK &&
            cb_store_file_finish(st, fid, &sum->counts, "failed",
                                 cb_buf_cstr(err), NULL, &e2) != CB_OK)
            cb_errf(err, "%s", cb_buf_cstr(&e2));
        cb_buf_release(&e2);
    }
    if (piped) {
        cb__pipe_stop(&ru.pipe); /* a failure before or while reading: let go */
        join_workers(&ru);
        if (threaded)
            pthread_join(th, NULL);
    }
    if (began)
        cb_store_rollback(st);
    if (st)
        cb_store_bulk_end(st);
    if (piped)
        cb__pipe_destroy(&ru.pipe);
    for (i = 0; i < ru.nworkers; i++)
        worker_release(&ru.workers[i]);
    cb_free(ru.workers);
    worker_release(&solo);
    cb_header_map_release(&ru.map);
    cb_reader_free(rdr);
    cb_strmap_release(&ru.seen_keys);
    cb_buf_release(&ferr);
    cb_buf_release(&hname);
    cb_buf_release(&ss.err);
    cb_buf_release(&ss.ferr);
    cb_buf_release(&ss.werr);
    cb_free(ss.slot);
    cb_free(ss.slot_committed);
    return rc;
}

enum cb_err
cb_import_drg_prepare(struct cb_store *st, const char *default_dir,
                      struct cb_store_drg_chooser **out, struct cb_buf *err)
{
    struct cb_drg_scheme *s = NULL;
    struct cb_drg_load_opts lo;
    int64_t n = 0, scheme_id;
    enum cb_err rc;

    *out = NULL;
    if ((rc = cb_store_drg_use_count(st, &n, err)))
        return rc;
    if (!n) {
        if (!default_dir) {
            cb_errf(err, "no DRG scheme is installed and there is no default");
            return CB_ERR_USAGE;
        }
        memset(&lo, 0, sizeof(lo));
        lo.skip_dicts = true;
        if ((rc = cb_drg_scheme_load(default_dir, &lo, &s, err))) {
            cb_errf(err, "cannot load the default DRG scheme from '%s'", default_dir);
            return rc;
        }
        if ((rc = cb_store_begin(st, err)))
            goto out;
        /* Checked again under the write lock: another import may have won. */
        if (!(rc = cb_store_drg_use_count(st, &n, err)) && !n &&
            !(rc = cb_store_drg_scheme_put(st, s, &scheme_id, NULL, err)))
            rc = cb_store_drg_use_add(st, scheme_id, NULL, NULL, NULL, NULL, err);
        if (!rc)
            rc = cb_store_commit(st, err);
        if (rc) {
            cb_store_rollback(st);
            goto out;
        }
    }
    if ((rc = cb_store_drg_chooser_new(st, out, err)))
        goto out;
    if (s) {
        /* Loaded already: the chooser keeps it instead of loading it again. */
        cb_store_drg_chooser_take_scheme(*out, s);
        s = NULL;
    }

out:
    cb_drg_scheme_free(s);
    return rc;
}
