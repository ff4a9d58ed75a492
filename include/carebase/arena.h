/*
 * arena.h - region allocation: many small blocks freed at once.
 *
 * Pointers returned stay valid until cb_arena_reset() or cb_arena_release().
 * Reset keeps the first chunk, so a per-row arena allocates nothing in the
 * steady state.
 */
#ifndef CAREBASE_ARENA_H
#define CAREBASE_ARENA_H

#include <stddef.h>

#include "carebase/str.h"

struct cb_arena_chunk;

struct cb_arena {
    struct cb_arena_chunk *head;  /* current chunk, linked to older ones */
    size_t chunk_size;            /* default size of new chunks */
};

void  cb_arena_init(struct cb_arena *a, size_t chunk_size);
/* NULL on out-of-memory. Alignment is 8 bytes. */
void *cb_arena_alloc(struct cb_arena *a, size_t n);
/* Copies bytes into the arena; returns a view (ptr NULL on OOM). */
struct cb_str cb_arena_dup(struct cb_arena *a, const char *p, size_t n);
void  cb_arena_reset(struct cb_arena *a);
void  cb_arena_release(struct cb_arena *a);

#endif
