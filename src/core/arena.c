#include <stdint.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/arena.h"

struct cb_arena_chunk {
    struct cb_arena_chunk *next;  /* older chunk */
    size_t used;
    size_t size;
    _Alignas(8) char data[];
};

void
cb_arena_init(struct cb_arena *a, size_t chunk_size)
{
    a->head = NULL;
    a->chunk_size = chunk_size ? chunk_size : 65536;
}

void *
cb_arena_alloc(struct cb_arena *a, size_t n)
{
    struct cb_arena_chunk *c = a->head;
    size_t need = (n + 7) & ~(size_t)7;

    if (need < n)
        return NULL;
    if (!c || c->size - c->used < need) {
        size_t sz = need > a->chunk_size ? need : a->chunk_size;
        if (sz > SIZE_MAX - sizeof(*c))
            return NULL;
        c = cb_malloc(sizeof(*c) + sz);
        if (!c)
            return NULL;
        c->next = a->head;
        c->used = 0;
        c->size = sz;
        a->head = c;
    }
    c->used += need;
    return c->data + c->used - need;
}

struct cb_str
cb_arena_dup(struct cb_arena *a, const char *p, size_t n)
{
    char *d = cb_arena_alloc(a, n + 1);

    if (!d)
        return CB_STR_NULL;
    if (n)
        memcpy(d, p, n);
    d[n] = '\0';
    return cb_str_make(d, n);
}

void
cb_arena_reset(struct cb_arena *a)
{
    struct cb_arena_chunk *c = a->head;

    if (!c)
        return;
    /* Keep the oldest chunk (the first one allocated), free the rest. */
    while (c->next) {
        struct cb_arena_chunk *next = c->next;
        cb_free(c);
        c = next;
    }
    c->used = 0;
    a->head = c;
}

void
cb_arena_release(struct cb_arena *a)
{
    struct cb_arena_chunk *c = a->head;

    while (c) {
        struct cb_arena_chunk *next = c->next;
        cb_free(c);
        c = next;
    }
    a->head = NULL;
}
