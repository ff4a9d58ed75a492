/*
 * alloc.h - the allocation wrappers every library allocation goes through.
 *
 * They return NULL on failure (the caller maps it to CB_ERR_NOMEM). Tests can
 * make the Nth allocation fail with cb_alloc_fail_after() to run error paths.
 * cb_free(NULL) is a no-op.
 */
#ifndef CAREBASE_ALLOC_H
#define CAREBASE_ALLOC_H

#include <stddef.h>

void *cb_malloc(size_t n);
void *cb_calloc(size_t count, size_t size);
/* Like realloc, but on failure the old block is left untouched. */
void *cb_realloc(void *p, size_t n);
/* Overflow-checked count * size; returns NULL (and sets nothing) on overflow. */
void *cb_reallocarray(void *p, size_t count, size_t size);
void  cb_free(void *p);
char *cb_strndup(const char *s, size_t n);
char *cb_strdup(const char *s);

/* Test hook: the allocation after the next n succeeds fails; n < 0 disables. */
void cb_alloc_fail_after(long n);

#endif
