/*
 * import.c - the front-page import pipeline (see import.h).
 *
 * Importing runs on two threads: the calling thread reads, maps,
 * normalises, checks and encodes rows into batches (struct cb_store_row in
 * a batch arena); a store thread writes the batches to SQLite and commits
 * every batch_rows rows. At most QUEUE_DEPTH batches are in flight, so
 * memory stays bounded. `carebase check` (no store) runs on one thread.
 *
 * DRG grouping (opts->drg) runs on the reading thread, right after the
 * checks, for accepted rows: the result travels in the row
 * (struct cb_store_drg, fixed size) and the store writes it after the
 * record, in the same transaction.
 */
#include <pthread.h>
#include <sys/prctl.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"
#include "carebase/import.h"
#include "carebase/strmap.h"

#define DEFAULT_BATCH 20000
#define ROWS_PER_CHUNK 512   /* rows handed to the store thread at a time */
#define QUEUE_DEPTH 4        /* chunks in flight */

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

/* A chunk of encoded rows, owned by its arena. */
struct chunk {
    struct cb_arena      arena;
    struct cb_store_row  rows[ROWS_PER_CHUNK];
    size_t               n;
};

/* The hand-over between the reading thread and the store thread. */
struct pipe {
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    struct chunk    *full[QUEUE_DEPTH + 1]; /* ring of chunks to store */
    size_t           head, count;
    struct chunk    *free_list[QUEUE_DEPTH + 2];
    size_t           nfree;
    int              closed;     /* no more chunks will come */
    int              failed;     /* the store thread stopped on an error */
};

struct store_side {
    struct cb_store          *st;
    int64_t                   file_id;
    uint32_t                  batch_rows;
    struct pipe              *pipe;
    struct cb_import_counts   counts;    /* every row stored so far */
    struct cb_import_counts   committed; /* as of the last commit */
    uint64_t                  duplicates;
    struct cb_import_drg      drg, drg_committed; /* as counts, committed */
    uint64_t                 *slot, *slot_committed; /* per chooser scheme */
    int                       nslots;
    enum cb_err               rc;
    struct cb_buf             err;
};

struct run {
    const struct cb_import_opts *opts;
    struct cb_store          *st;
    const struct cb_qc       *qc;
    const struct cb_refdata  *rd;
    struct cb_import_summary *sum;
    struct cb_header_map      map;
    struct cb_fp             *rec;
    struct cb_qc_result      *res;
    struct cb_arena           arena;      /* per-row normalisation */
    struct cb_store_encoder  *enc;        /* JSON and compression */
    int64_t                   file_id;
    struct cb_strmap          seen_keys;  /* check-only mode: key hashes */
    struct cb_str             hospital, hospital_name;
    uint8_t                  *rule_hit;   /* per rule, for the current row */
    int                       id02;       /* rule index of QC-ID-02 */
    int                       id03;       /* rule index of QC-ID-03 */
    struct pipe               pipe;
    struct chunk             *cur;
    int                       compress_here; /* compress items on this thread */
};

/* ---- the store thread ---------------------------------------------------- */

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

static struct chunk *
pipe_take(struct pipe *p)
{
    struct chunk *c = NULL;

    pthread_mutex_lock(&p->mu);
    while (!p->count && !p->closed)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->count) {
        c = p->full[p->head];
        p->head = (p->head + 1) % (QUEUE_DEPTH + 1);
        p->count--;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

static void
pipe_recycle(struct pipe *p, struct chunk *c)
{
    cb_arena_reset(&c->arena);
    c->n = 0;
    pthread_mutex_lock(&p->mu);
    p->free_list[p->nfree++] = c;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *
store_main(void *arg)
{
    struct store_side *ss = arg;
    struct chunk *c;
    uint64_t in_batch = 0;
    size_t i;

    prctl(PR_SET_NAME, "cb-store", 0, 0, 0); /* visible in top and perf */
    while ((c = pipe_take(ss->pipe)) != NULL) {
        for (i = 0; i < c->n && !ss->rc; i++) {
            enum cb_put_result put;
            ss->rc = cb_store_put(ss->st, ss->file_id, &c->rows[i], &put, &ss->err);
            if (ss->rc)
                break;
            ss->counts.read++;
            if (c->rows[i].rejected || put == CB_PUT_DUPLICATE) {
                ss->counts.rejected++;
                ss->duplicates += !c->rows[i].rejected;
            } else {
                ss->counts.accepted++;
                ss->counts.warnings += c->rows[i].nissues > 0;
                ss->counts.inserted += put == CB_PUT_INSERTED;
                ss->counts.replaced += put == CB_PUT_REPLACED;
                ss->counts.unchanged += put == CB_PUT_UNCHANGED;
                count_drg(ss, &c->rows[i].drg);
            }
            if (++in_batch >= ss->batch_rows) {
                ss->rc = cb_store_commit(ss->st, &ss->err);
                if (!ss->rc) {
                    ss->committed = ss->counts;
                    commit_drg(ss);
                    ss->rc = cb_store_begin(ss->st, &ss->err);
                }
                in_batch = 0;
            }
        }
        pipe_recycle(ss->pipe, c);
        if (ss->rc) {
            pthread_mutex_lock(&ss->pipe->mu);
            ss->pipe->failed = 1;
            pthread_cond_broadcast(&ss->pipe->cv);
            pthread_mutex_unlock(&ss->pipe->mu);
            /* Drain so the reader never waits on a full queue. */
            while ((c = pipe_take(ss->pipe)) != NULL)
                pipe_recycle(ss->pipe, c);
            break;
        }
    }
    return NULL;
}

/* Hands the current chunk to the store thread; gets an empty one back. */
static enum cb_err
pipe_push(struct run *ru, struct cb_buf *err)
{
    struct pipe *p = &ru->pipe;
    struct chunk *c = ru->cur;

    pthread_mutex_lock(&p->mu);
    while (!p->failed && p->count == QUEUE_DEPTH)
        pthread_cond_wait(&p->cv, &p->mu);
    if (p->failed) {
        pthread_mutex_unlock(&p->mu);
        cb_arena_reset(&c->arena);
        c->n = 0;
        return CB_ERR_DB; /* the store thread's message is reported */
    }
    p->full[(p->head + p->count) % (QUEUE_DEPTH + 1)] = c;
    p->count++;
    pthread_cond_broadcast(&p->cv);
    while (!p->failed && !p->nfree)
        pthread_cond_wait(&p->cv, &p->mu);
    ru->cur = p->nfree ? p->free_list[--p->nfree] : NULL;
    /* A backlog means the store thread is the slower one (see enqueue). */
    ru->compress_here = p->count >= QUEUE_DEPTH / 2;
    pthread_mutex_unlock(&p->mu);
    (void)err;
    return ru->cur ? CB_OK : CB_ERR_DB;
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

/* ---- the reading thread --------------------------------------------------- */

static void
count_rules(struct run *ru)
{
    int i;

    memset(ru->rule_hit, 0, (size_t)ru->sum->nrules);
    for (i = 0; i < ru->res->n; i++) {
        int k = ru->res->issue[i].rule;
        if (k < 0 || k >= ru->sum->nrules)
            continue;
        ru->sum->rule_issues[k]++;
        if (!ru->rule_hit[k]) {
            ru->rule_hit[k] = 1;
            ru->sum->rule_records[k]++;
        }
    }
}

/* QC-ID-02 in check-only mode: a set of key fingerprints. */
static enum cb_err
check_duplicate(struct run *ru)
{
    char key[sizeof(uint64_t)];
    uint64_t h;
    struct cb_fp *r = ru->rec;

    if (!r->v[CB_F_BAH].len || !r->v[CB_F_ZYCS].len)
        return CB_OK;
    h = cb_hash64(r->v[CB_F_ZZJGDM].ptr, r->v[CB_F_ZZJGDM].len, 0);
    h = cb_hash64(r->v[CB_F_BAH].ptr, r->v[CB_F_BAH].len, h);
    h = cb_hash64(r->v[CB_F_ZYCS].ptr, r->v[CB_F_ZYCS].len, h ^ 0x9e37);
    memcpy(key, &h, sizeof(h));
    if (cb_strmap_has(&ru->seen_keys, cb_str_make(key, sizeof(h)))) {
        cb_qc_add_issue(ru->qc, ru->res, "QC-ID-02", CB_F_BAH, r->v[CB_F_BAH],
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

static enum cb_err
enqueue(struct run *ru, const struct cb_row *row, struct cb_buf *err)
{
    struct chunk *c = ru->cur;
    struct cb_store_row *sr = &c->rows[c->n];
    enum cb_err rc;

    rc = cb_store_row_encode(sr, ru->rec, ru->qc, ru->res, row->raw, row->line,
                             &c->arena, ru->enc);
    if (rc)
        return rc;
    if (!sr->rejected) {
        struct cb_str n1 = dept_name(ru->rd, sr->sval[CB_SC_CYKB]);
        struct cb_str n2 = dept_name(ru->rd, sr->sval[CB_SC_RYKB]);
        /* Names live in the reference tables, which outlive the chunk. */
        sr->sval[CB_SC_CYKB_NAME] = n1;
        sr->sval[CB_SC_RYKB_NAME] = n2;
        /* Grouping: no SQL, no allocation (the chooser holds the work). */
        if (ru->opts->drg &&
            (rc = cb_store_drg_chooser_group(ru->opts->drg, ru->rec,
                                             ru->opts->drg_translate, &sr->drg, err)))
            return rc;
        /* The indicator fact; the store fills in its dimension ids. */
        sr->has_fact = ru->opts->facts != NULL;
        sr->transfer_to = CB_STR_NULL;
        if (ru->opts->facts) {
            cb_fact_derive(ru->rec, ru->rd, ru->opts->facts,
                           sr->drg.scheme_id > 0 && sr->drg.status == CB_DRG_SUCCESS,
                           &sr->fact);
            /* #2: the store decides whether a transfer went down the consortium. */
            if ((sr->fact.flags & CB_FACT_TRANSFER) && ru->rec->v[CB_F_YZZY_YLJG].len) {
                struct cb_str t = ru->rec->v[CB_F_YZZY_YLJG];
                sr->transfer_to = cb_arena_dup(&c->arena, t.ptr, t.len);
                if (!sr->transfer_to.ptr)
                    return CB_ERR_NOMEM;
            }
        }
    } else {
        sr->has_fact = 0;
        sr->transfer_to = CB_STR_NULL;
    }
    /*
     * Balance the two threads: while the store thread has a backlog, the
     * items are compressed here instead of there.
     */
    if (ru->compress_here && (rc = cb_store_row_compress(sr, ru->enc, &c->arena)))
        return rc;
    if (++c->n == ROWS_PER_CHUNK)
        return pipe_push(ru, err);
    return CB_OK;
}

static enum cb_err
handle_row(struct run *ru, const struct cb_row *row, struct cb_buf *err)
{
    struct cb_fp *r = ru->rec;
    struct cb_import_counts *c = &ru->sum->counts;
    enum cb_err rc;

    cb_arena_reset(&ru->arena);
    ru->res->n = 0;
    ru->res->nerrors = 0;
    ru->res->nwarnings = 0;
    ru->res->ndropped = 0;
    if (row->nfields != ru->map.ncols) {
        char detail[CB_QC_DETAIL_MAX];
        cb_fp_reset(r);
        snprintf(detail, sizeof(detail), "the row has %zu fields, the header %zu",
                 row->nfields, ru->map.ncols);
        cb_qc_add_issue(ru->qc, ru->res, "QC-ROW-01", -1, CB_STR_NULL, detail);
    } else {
        if ((rc = cb_profile_fill(&ru->map, row, r, &ru->arena)))
            return rc;
        if (ru->hospital.len && !r->v[CB_F_ZZJGDM].len) {
            cb_fp_assign(r, CB_F_ZZJGDM, ru->hospital);
            r->state[CB_F_ZZJGDM] = CB_FS_TEXT;
            if (!r->v[CB_F_JGMC].len && ru->hospital_name.len) {
                cb_fp_assign(r, CB_F_JGMC, ru->hospital_name);
                r->state[CB_F_JGMC] = CB_FS_TEXT;
            }
        }
        cb_qc_check(ru->qc, r, cb_profile_std(ru->map.profile), ru->res);
        if (!ru->st && (rc = check_duplicate(ru)))
            return rc;
    }
    c->read++;
    if (ru->res->nerrors) {
        c->rejected++;
    } else {
        c->accepted++;
        c->warnings += ru->res->nwarnings > 0;
    }
    count_rules(ru);
    if (ru->st && (rc = enqueue(ru, row, err)))
        return rc;
    if (ru->opts->on_row &&
        (rc = ru->opts->on_row(ru->opts->row_ctx, row->line, row->raw, r, ru->res)))
        return rc;
    return CB_OK;
}

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
    snprintf(ru->sum->profile, sizeof(ru->sum->profile), "%s", cb_profile_name(p));
    ru->sum->columns = ru->map.ncols;
    ru->sum->ignored_columns = ru->map.nignored;
    ru->sum->encoding = cb_reader_encoding(rdr);
    ru->sum->format = cb_reader_format(rdr);
    return CB_OK;
}

static enum cb_err
pipe_init(struct run *ru)
{
    struct pipe *p = &ru->pipe;
    size_t i;

    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (i = 0; i < QUEUE_DEPTH + 2; i++) {
        struct chunk *c = cb_calloc(1, sizeof(*c));
        if (!c)
            return CB_ERR_NOMEM;
        cb_arena_init(&c->arena, 1 << 20);
        p->free_list[p->nfree++] = c;
    }
    ru->cur = p->free_list[--p->nfree];
    return CB_OK;
}

static void
pipe_destroy(struct run *ru)
{
    struct pipe *p = &ru->pipe;
    size_t i;

    if (ru->cur)
        p->free_list[p->nfree++] = ru->cur;
    ru->cur = NULL;
    for (i = 0; i < p->count; i++) /* only after a failure */
        p->free_list[p->nfree++] = p->full[(p->head + i) % (QUEUE_DEPTH + 1)];
    for (i = 0; i < p->nfree; i++) {
        cb_arena_release(&p->free_list[i]->arena);
        cb_free(p->free_list[i]);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

/* Reads every data row; returns the reader's or the pipeline's error. */
static enum cb_err
read_rows(struct run *ru, struct cb_reader *rdr, struct cb_buf *ferr,
          struct cb_buf *err)
{
    const struct cb_import_opts *opts = ru->opts;
    uint32_t every = opts->progress_every ? opts->progress_every : 50000;
    uint64_t done, total;
    struct cb_row row;
    enum cb_err rc;

    for (;;) {
        rc = cb_reader_next(rdr, &row, ferr);
        if (rc == CB_EOF)
            return CB_OK;
        if (rc)
            return rc;
        if ((rc = handle_row(ru, &row, err)))
            return rc;
        if (opts->progress && ru->sum->counts.read % every == 0) {
            cb_reader_progress(rdr, &done, &total);
            opts->progress(opts->progress_ctx, ru->sum->counts.read, done, total, 0);
        }
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
    struct cb_reader *rdr = NULL;
    struct cb_buf ferr = CB_BUF_INIT, hname = CB_BUF_INIT;
    uint64_t done, total;
    enum cb_err rc, read_rc = CB_OK;
    pthread_t th;
    int began = 0, threaded = 0, piped = 0;
    uint64_t ov0 = 0, ov_first0 = 0;

    memset(&ru, 0, sizeof(ru));
    memset(&ss, 0, sizeof(ss));
    cb_buf_init(&ss.err, 1 << 16);
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
    cb_arena_init(&ru.arena, 1 << 16);
    cb_strmap_init(&ru.seen_keys);
    snprintf(sum->file, sizeof(sum->file), "%s", path);
    sum->nrules = cb_qc_rule_count(qc);
    ru.id02 = cb_qc_rule_find(qc, "QC-ID-02");
    ru.id03 = cb_qc_rule_find(qc, "QC-ID-03");
    sum->rule_records = cb_calloc((size_t)sum->nrules, sizeof(uint64_t));
    sum->rule_issues = cb_calloc((size_t)sum->nrules, sizeof(uint64_t));
    ru.rule_hit = cb_calloc((size_t)sum->nrules, 1);
    ru.rec = cb_calloc(1, sizeof(*ru.rec));
    ru.res = cb_malloc(sizeof(*ru.res));
    if (!sum->rule_records || !sum->rule_issues || !ru.rule_hit || !ru.rec || !ru.res) {
        rc = CB_ERR_NOMEM;
        goto out;
    }
    if ((rc = cb_reader_open(&rdr, path, &opts->reader, err)))
        goto out;
    if ((rc = setup(&ru, rdr, path, err)))
        goto out;
    if (st) {
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
        piped = 1;
        if ((rc = cb_store_encoder_new(&ru.enc)) || (rc = pipe_init(&ru)) ||
            (rc = cb_store_bulk_begin(st, err)) || (rc = cb_store_begin(st, err)))
            goto out;
        began = 1;
        cb_store_overlap_counts(st, &ov0, &ov_first0);
        ss.st = st;
        ss.file_id = ru.file_id;
        ss.batch_rows = opts->batch_rows ? opts->batch_rows : DEFAULT_BATCH;
        ss.pipe = &ru.pipe;
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
    }

    read_rc = read_rows(&ru, rdr, &ferr, err);
    if (threaded) {
        /*
         * Flush the last chunk. When the file broke, only the rows of
         * complete batches go: the store commits them, and the batch in
         * progress is rolled back below.
         */
        if (read_rc && ferr.len && ru.cur) {
            uint64_t read = sum->counts.read, batch = ss.batch_rows;
            uint64_t keep_to = read / batch * batch, first = read - ru.cur->n;
            ru.cur->n = keep_to > first ? (size_t)(keep_to - first) : 0;
        }
        if ((!read_rc || ferr.len) && ru.cur && ru.cur->n) {
            enum cb_err prc = pipe_push(&ru, err);
            if (!read_rc)
                read_rc = prc;
        }
        pthread_mutex_lock(&ru.pipe.mu);
        ru.pipe.closed = 1;
        pthread_cond_broadcast(&ru.pipe.cv);
        pthread_mutex_unlock(&ru.pipe.mu);
        pthread_join(th, NULL);
        threaded = 0;
        /*
         * The store's counts are exact (duplicates within the file pass QC
         * and are rejected by the store); after a failure only what was
         * committed counts.
         */
        {
            uint64_t read = sum->counts.read, ov, ov_first;
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
    }
    if (read_rc) {
        /* Malformed file: keep what was committed, drop the open batch. */
        rc = read_rc;
        if (ferr.len) {
            sum->failed = 1;
            cb_errf(err, "%s", cb_buf_cstr(&ferr));
        }
        if (st) {
            struct cb_buf e2 = CB_BUF_INIT;
            cb_store_rollback(st);
            began = 0;
            if (cb_store_file_finish(st, ru.file_id, &sum->counts, "failed",
                                     cb_buf_cstr(ferr.len ? &ferr : err),
                                     NULL, &e2) != CB_OK)
                cb_errf(err, "%s", cb_buf_cstr(&e2));
            cb_buf_release(&e2);
        }
        goto out;
    }
    sum->encoding = cb_reader_encoding(rdr); /* may have switched mid-file */
    if (st) {
        if ((rc = cb_store_resolve_rejects(st, ru.file_id, err)) ||
            (rc = cb_store_file_finish(st, ru.file_id, &sum->counts, "complete",
                                       NULL, cb_encoding_name(sum->encoding), err)) ||
            (rc = cb_store_commit(st, err)))
            goto out;
        began = 0;
    }
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
    if (threaded) {
        pthread_mutex_lock(&ru.pipe.mu);
        ru.pipe.closed = 1;
        pthread_cond_broadcast(&ru.pipe.cv);
        pthread_mutex_unlock(&ru.pipe.mu);
        pthread_join(th, NULL);
    }
    if (began)
        cb_store_rollback(st);
    if (st)
        cb_store_bulk_end(st);
    if (piped)
        pipe_destroy(&ru);
    cb_header_map_release(&ru.map);
    cb_reader_free(rdr);
    cb_arena_release(&ru.arena);
    cb_store_encoder_free(ru.enc);
    cb_strmap_release(&ru.seen_keys);
    cb_free(ru.rule_hit);
    cb_free(ru.rec);
    cb_free(ru.res);
    cb_buf_release(&ferr);
    cb_buf_release(&hname);
    cb_buf_release(&ss.err);
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
