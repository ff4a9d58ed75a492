#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "carebase/alloc.h"

/* Test-only fault injection; a process-wide counter is acceptable here. */
static long fail_countdown = -1;

void
cb_alloc_fail_after(long n)
{
    fail_countdown = n;
}

static int
should_fail(void)
{
    if (fail_countdown < 0)
        return 0;
    if (fail_countdown == 0)
        return 1;
    fail_countdown--;
    return 0;
}

void *
cb_malloc(size_t n)
{
    if (should_fail())
        return NULL;
    return malloc(n ? n : 1);
}

void *
cb_calloc(size_t count, size_t size)
{
    if (should_fail())
        return NULL;
    return calloc(count ? count : 1, size ? size : 1);
}

void *
cb_realloc(void *p, size_t n)
{
    if (should_fail())
        return NULL;
    return realloc(p, n ? n : 1);
}

void *
cb_reallocarray(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    return cb_realloc(p, count * size);
}

void
cb_free(void *p)
{
    free(p);
}

char *
cb_strndup(const char *s, size_t n)
{
    char *d = cb_malloc(n + 1);

    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *
cb_strdup(const char *s)
{
    return cb_strndup(s, strlen(s));
}
