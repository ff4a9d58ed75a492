/*
 * import_int.h - shared only by the files under src/import/: the chunks of
 * rows between the threads of an import and the pipeline that carries them
 * (import_chunks.c). See import.c for the threads.
 */
#ifndef CB_IMPORT_INT_H
#define CB_IMPORT_INT_H

#include <pthread.h>
#include <stdint.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/reader.h"
#include "carebase/store.h"

#define CB__ROWS_PER_CHUNK 1024        /* rows handed on at a time */
#define CB__CHUNK_TEXT_SOFT (4u << 20) /* a chunk is handed on once its text is this big */
#define CB__CHUNK_FIELDS_SOFT 65536    /* ... or it holds this many pre-split fields */

/* A row as read: its text in the chunk, or its cells (xlsx: pre-split). */
struct rowin {
    uint64_t line;
    uint32_t off, len;   /* raw text in chunk->text */
    uint32_t fidx, nf;   /* pre-split: nf (offset, length) pairs from fld[2 * fidx] */
    uint8_t  last, quoted, presplit;
};

enum chunk_state { C_FILLED, C_WORKING, C_DONE };

struct chunk {
    enum chunk_state     state;
    /* input, written by the reading thread */
    struct cb_buf        text;
    struct rowin         in[CB__ROWS_PER_CHUNK];
    uint32_t            *fld;
    size_t               nfld, fldcap;  /* uint32_t pairs */
    size_t               n;
    /* output, written by a worker */
    struct cb_arena      arena;
    struct cb_store_row  rows[CB__ROWS_PER_CHUNK];
    size_t               nout;          /* rows done: n, or those before a failure */
    struct cb_import_counts counts;     /* read, accepted, rejected, warnings of them */
    uint64_t            *rule_records;  /* per rule, of them */
    uint64_t            *rule_issues;
    enum cb_err          rc;            /* why the worker stopped at row nout */
    int                  file_error;    /* ... the file's fault: it is malformed */
    struct cb_buf        err;
};

/* The chunks between the reading thread, the workers and the store thread. */
struct pipeline {
    pthread_mutex_t  mu;
    pthread_cond_t   cv;
    struct chunk   **all;        /* every chunk, for teardown */
    size_t           nall;
    struct chunk   **free_list;
    size_t           nfree;
    struct chunk   **ring;       /* in file order: filled, being worked, done */
    size_t           head, count;
    size_t           taken;      /* ring[head .. head + taken) went to workers */
    int              closed;     /* the reading thread has handed on its last chunk */
    int              stop;       /* the store thread has stopped: drop everything */
    int              ready;      /* mu and cv exist */
};

/*
 * Chunks. cb__chunk_add copies a row as read into the chunk (the reader
 * reuses its memory); cb__chunk_full says when to hand the chunk on;
 * cb__chunk_reset empties it for the reading thread, keeping its memory.
 */
struct chunk *cb__chunk_new(int nrules);
void          cb__chunk_free(struct chunk *c);
void          cb__chunk_reset(struct chunk *c, int nrules);
CB_MUST_CHECK enum cb_err cb__chunk_add(struct chunk *c, const struct cb_raw_row *raw);
int           cb__chunk_full(const struct chunk *c);

/*
 * The pipeline: nchunks chunks in all. The reading thread takes free ones
 * (cb__pipe_get_free: NULL once the pipeline has stopped) and hands them
 * on in file order (cb__pipe_put_filled), then closes it; a worker takes
 * the next filled one (cb__pipe_take_work: NULL when closed and drained,
 * or stopped) and says when it is done with it; the store thread takes
 * them back in file order once done (cb__pipe_take_done: NULL at the end)
 * and recycles them. cb__pipe_stop makes everyone give up.
 */
CB_MUST_CHECK enum cb_err cb__pipe_init(struct pipeline *p, size_t nchunks, int nrules);
void          cb__pipe_destroy(struct pipeline *p);
struct chunk *cb__pipe_get_free(struct pipeline *p, int nrules);
void          cb__pipe_put_filled(struct pipeline *p, struct chunk *c);
void          cb__pipe_close(struct pipeline *p);
struct chunk *cb__pipe_take_work(struct pipeline *p);
void          cb__pipe_work_done(struct pipeline *p, struct chunk *c);
struct chunk *cb__pipe_take_done(struct pipeline *p);
void          cb__pipe_recycle(struct pipeline *p, struct chunk *c);
void          cb__pipe_stop(struct pipeline *p);

#endif
