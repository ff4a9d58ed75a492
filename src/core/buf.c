#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/buf.h"

void
cb_buf_init(struct cb_buf *b, size_t max)
{
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
cb_buf_reset(struct cb_buf *b)
{
    b->len = 0;
    if (b->ptr)
        b->ptr[0] = '\0';
}

void
cb_buf_release(struct cb_buf *b)
{
    cb_free(b->ptr);
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
}

char *
cb_buf_detach(struct cb_buf *b, size_t *len)
{
    char *p = b->ptr;

    if (len)
        *len = b->len;
    b->ptr = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}

enum cb_err
cb_buf_reserve(struct cb_buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (n > b->max || b->len > b->max - n) {
        cb_buf_release(b);
        return CB_ERR_TOO_LARGE;
    }
    need = b->len + n + 1;
    if (need <= b->cap)
        return CB_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    p = cb_realloc(b->ptr, cap);
    if (!p) {
        cb_buf_release(b);
        return CB_ERR_NOMEM;
    }
    b->ptr = p;
    b->cap = cap;
    return CB_OK;
}

enum cb_err
cb_buf_add(struct cb_buf *b, const void *p, size_t n)
{
    enum cb_err rc = cb_buf_reserve(b, n);

    if (rc)
        return rc;
    if (n)
        memcpy(b->ptr + b->len, p, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    return CB_OK;
}

enum cb_err
cb_buf_adds(struct cb_buf *b, const char *z)
{
    return cb_buf_add(b, z, strlen(z));
}

enum cb_err
cb_buf__addc_slow(struct cb_buf *b, char c)
{
    return cb_buf_add(b, &c, 1);
}

enum cb_err
cb_buf_vaddf(struct cb_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    enum cb_err rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        cb_buf_release(b);
        return CB_ERR_PROTO;
    }
    rc = cb_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return CB_OK;
}

enum cb_err
cb_buf_addf(struct cb_buf *b, const char *fmt, ...)
{
    va_list ap;
    enum cb_err rc;

    va_start(ap, fmt);
    rc = cb_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void
cb_errf(struct cb_buf *err, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return;
    if (err->len && cb_buf_add(err, "; ", 2) != CB_OK)
        return;
    va_start(ap, fmt);
    (void)!cb_buf_vaddf(err, fmt, ap);
    va_end(ap);
}
