/*
 * buf.h - struct cb_buf, an owned, capped, growable byte buffer.
 *
 * Always NUL-terminated after a successful append. A failed append releases
 * the buffer (len 0) so a half-built output can never be used by mistake.
 * Every buffer has a maximum; appends past it fail with CB_ERR_TOO_LARGE.
 */
#ifndef CAREBASE_BUF_H
#define CAREBASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "carebase/err.h"
#include "carebase/str.h"

struct cb_buf {
    char   *ptr;  /* NULL until the first successful append */
    size_t  len;  /* bytes used, excluding the terminating NUL */
    size_t  cap;  /* bytes allocated */
    size_t  max;  /* appends past this fail with CB_ERR_TOO_LARGE */
};

#define CB_BUF_MAX_DEFAULT ((size_t)1 << 30)
#define CB_BUF_INIT { NULL, 0, 0, CB_BUF_MAX_DEFAULT }

void cb_buf_init(struct cb_buf *b, size_t max);
CB_MUST_CHECK enum cb_err cb_buf_add(struct cb_buf *b, const void *p, size_t n);
CB_MUST_CHECK enum cb_err cb_buf_adds(struct cb_buf *b, const char *z);
CB_MUST_CHECK enum cb_err cb_buf__addc_slow(struct cb_buf *b, char c);

/* Appends one byte; the common case is inline. */
CB_MUST_CHECK static inline enum cb_err
cb_buf_addc(struct cb_buf *b, char c)
{
    if (b->len + 1 < b->cap) {
        b->ptr[b->len++] = c;
        b->ptr[b->len] = '\0';
        return CB_OK;
    }
    return cb_buf__addc_slow(b, c);
}
CB_MUST_CHECK enum cb_err cb_buf_addf(struct cb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
CB_MUST_CHECK enum cb_err cb_buf_vaddf(struct cb_buf *b, const char *fmt,
                                       va_list ap);
/* Makes room for n more bytes without changing len. */
CB_MUST_CHECK enum cb_err cb_buf_reserve(struct cb_buf *b, size_t n);

/*
 * For error paths: appends like cb_buf_addf (with "; " between messages) and
 * ignores failure; the caller's return code still carries the error.
 */
void cb_errf(struct cb_buf *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void  cb_buf_reset(struct cb_buf *b);    /* len = 0, keeps memory */
void  cb_buf_release(struct cb_buf *b);  /* frees; back to the init state */
char *cb_buf_detach(struct cb_buf *b, size_t *len); /* caller owns */

static inline const char *
cb_buf_cstr(const struct cb_buf *b)
{
    return b->ptr ? b->ptr : "";
}

static inline struct cb_str
cb_buf_str(const struct cb_buf *b)
{
    return cb_str_make(cb_buf_cstr(b), b->len);
}

#endif
