/*
 * import_chunks.c - the chunks of rows an import hands from its reading
 * thread to its workers and on to its store thread, and the pipeline that
 * keeps them in file order (import_int.h).
 */
#include <pthread.h>
#include <string.h>

#include "carebase/alloc.h"
#include "import_int.h"

void
cb__chunk_free(struct chunk *c)
{
    if (!c)
        return;
    cb_buf_release(&c->text);
    cb_free(c->fld);
    cb_arena_release(&c->arena);
    cb_free(c->rule_records);
    cb_free(c->rule_issues);
    cb_buf_release(&c->err);
    cb_free(c);
}

struct chunk *
cb__chunk_new(int nrules)
{
    struct chunk *c = cb_calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    cb_buf_init(&c->text, 256u << 20);
    cb_buf_init(&c->err, 1 << 16);
    cb_arena_init(&c->arena, 1 << 20);
    c->rule_records = cb_calloc((size_t)nrules, sizeof(uint64_t));
    c->rule_issues = cb_calloc((size_t)nrules, sizeof(uint64_t));
    if (!c->rule_records || !c->rule_issues) {
        cb__chunk_free(c);
        return NULL;
    }
    return c;
}

/* Empties a chunk for the reading thread (keeps its memory). */
void
cb__chunk_reset(struct chunk *c, int nrules)
{
    cb_buf_reset(&c->text);
    c->nfld = 0;
    c->n = 0;
    cb_arena_reset(&c->arena);
    c->nout = 0;
    memset(&c->counts, 0, sizeof(c->counts));
    memset(c->rule_records, 0, (size_t)nrules * sizeof(uint64_t));
    memset(c->rule_issues, 0, (size_t)nrules * sizeof(uint64_t));
    c->rc = CB_OK;
    c->file_error = 0;
    cb_buf_reset(&c->err);
}

/* Copies a row as read into the chunk (the reader reuses its memory). */
enum cb_err
cb__chunk_add(struct chunk *c, const struct cb_raw_row *raw)
{
    struct rowin *in = &c->in[c->n];
    enum cb_err rc;

    if (raw->text.len > UINT32_MAX || c->text.len + raw->text.len > UINT32_MAX)
        return CB_ERR_TOO_LARGE;
    memset(in, 0, sizeof(*in));
    in->line = raw->line;
    in->off = (uint32_t)c->text.len;
    in->len = (uint32_t)raw->text.len;
    in->last = (uint8_t)raw->last;
    in->quoted = (uint8_t)raw->quoted;
    if ((rc = cb_buf_add(&c->text, raw->text.ptr, raw->text.len)))
        return rc;
    if (raw->fields) {
        size_t i;
        if (raw->nfields > UINT32_MAX / 2 || c->nfld + raw->nfields > UINT32_MAX / 2)
            return CB_ERR_TOO_LARGE;
        if (c->nfld + raw->nfields > c->fldcap) {
            size_t cap = c->fldcap ? c->fldcap : 1024;
            uint32_t *p;
            while (cap < c->nfld + raw->nfields)
                cap *= 2;
            if (!(p = cb_reallocarray(c->fld, cap, 2 * sizeof(uint32_t))))
                return CB_ERR_NOMEM;
            c->fld = p;
            c->fldcap = cap;
        }
        in->presplit = 1;
        in->fidx = (uint32_t)c->nfld;
        in->nf = (uint32_t)raw->nfields;
        for (i = 0; i < raw->nfields; i++) {
            if (raw->fields[i].len > UINT32_MAX || c->text.len > UINT32_MAX)
                return CB_ERR_TOO_LARGE;
            c->fld[2 * (c->nfld + i)] = (uint32_t)c->text.len;
            c->fld[2 * (c->nfld + i) + 1] = (uint32_t)raw->fields[i].len;
            if ((rc = cb_buf_add(&c->text, raw->fields[i].ptr, raw->fields[i].len)))
                return rc;
        }
        c->nfld += raw->nfields;
    }
    c->n++;
    return CB_OK;
}

int
cb__chunk_full(const struct chunk *c)
{
    return c->n == CB__ROWS_PER_CHUNK || c->text.len >= CB__CHUNK_TEXT_SOFT ||
           c->nfld >= CB__CHUNK_FIELDS_SOFT;
}

/* ---- the pipeline ------------------------------------------------------------ */

enum cb_err
cb__pipe_init(struct pipeline *p, size_t nchunks, int nrules)
{
    size_t i;

    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->ready = 1;
    p->all = cb_calloc(nchunks, sizeof(*p->all));
    p->free_list = cb_calloc(nchunks, sizeof(*p->free_list));
    p->ring = cb_calloc(nchunks, sizeof(*p->ring));
    if (!p->all || !p->free_list || !p->ring)
        return CB_ERR_NOMEM;
    for (i = 0; i < nchunks; i++) {
        if (!(p->all[i] = cb__chunk_new(nrules)))
            return CB_ERR_NOMEM;
        p->nall++;
        p->free_list[p->nfree++] = p->all[i];
    }
    return CB_OK;
}

void
cb__pipe_destroy(struct pipeline *p)
{
    size_t i;

    if (!p->ready)
        return;
    for (i = 0; i < p->nall; i++)
        cb__chunk_free(p->all[i]);
    cb_free(p->all);
    cb_free(p->free_list);
    cb_free(p->ring);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    p->ready = 0;
}

/* An empty chunk for the reading thread; NULL once the store has stopped. */
struct chunk *
cb__pipe_get_free(struct pipeline *p, int nrules)
{
    struct chunk *c = NULL;

    pthread_mutex_lock(&p->mu);
    while (!p->stop && !p->nfree)
        pthread_cond_wait(&p->cv, &p->mu);
    if (!p->stop)
        c = p->free_list[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    if (c)
        cb__chunk_reset(c, nrules);
    return c;
}

/* Hands a filled chunk to the workers, in file order. */
void
cb__pipe_put_filled(struct pipeline *p, struct chunk *c)
{
    pthread_mutex_lock(&p->mu);
    c->state = C_FILLED;
    p->ring[(p->head + p->count) % p->nall] = c;
    p->count++;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void
cb__pipe_close(struct pipeline *p)
{
    if (!p->ready)
        return;
    pthread_mutex_lock(&p->mu);
    p->closed = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* The next chunk in file order once a worker is done with it; NULL at the end. */
struct chunk *
cb__pipe_take_done(struct pipeline *p)
{
    struct chunk *c = NULL;

    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->stop)
            break;
        if (p->count && p->ring[p->head]->state == C_DONE) {
            c = p->ring[p->head];
            p->head = (p->head + 1) % p->nall;
            p->count--;
            p->taken--;
            break;
        }
        if (!p->count && p->closed)
            break;
        pthread_cond_wait(&p->cv, &p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

void
cb__pipe_recycle(struct pipeline *p, struct chunk *c)
{
    pthread_mutex_lock(&p->mu);
    p->free_list[p->nfree++] = c;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* The store thread stops the pipeline: the reader and the workers give up. */
void
cb__pipe_stop(struct pipeline *p)
{
    if (!p->ready)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

struct chunk *
cb__pipe_take_work(struct pipeline *p)
{
    struct chunk *c = NULL;

    pthread_mutex_lock(&p->mu);
    while (!p->stop && p->taken == p->count && !p->closed)
        pthread_cond_wait(&p->cv, &p->mu);
    if (!p->stop && p->taken < p->count) {
        c = p->ring[(p->head + p->taken) % p->nall];
        p->taken++;
        c->state = C_WORKING;
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

void
cb__pipe_work_done(struct pipeline *p, struct chunk *c)
{
    pthread_mutex_lock(&p->mu);
    c->state = C_DONE;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}
