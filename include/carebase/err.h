/*
 * err.h - the one error vocabulary of libcarebase.
 *
 * Every fallible library function returns enum cb_err and, where detail
 * helps, appends a lower-case message to a caller-supplied struct cb_buf.
 * Library code never prints or exits; the CLI maps codes to exit statuses.
 */
#ifndef CAREBASE_ERR_H
#define CAREBASE_ERR_H

#define CB_MUST_CHECK __attribute__((warn_unused_result))

enum cb_err {
    CB_OK = 0,
    CB_AGAIN,          /* input incomplete: call again with more bytes */
    CB_ERR_NOMEM,
    CB_ERR_TOO_LARGE,  /* a configured limit was reached */
    CB_ERR_PROTO,      /* malformed input (CSV, encoding, xlsx, ...) */
    CB_ERR_NOT_FOUND,
    CB_ERR_DB,         /* storage failure; detail in the caller's err buffer */
    CB_ERR_IO,
    CB_ERR_USAGE,      /* bad arguments or configuration */
    CB_ERR_SCHEMA,     /* database schema newer than this binary */
    CB_EOF             /* no more input */
    /* Append only: these numbers may appear in logs and API error bodies. */
};

const char *cb_strerror(enum cb_err rc);

/* Aborts with file and line: for broken invariants only, never bad input. */
#define CB_BUG(msg) cb__bug(__FILE__, __LINE__, (msg))
_Noreturn void cb__bug(const char *file, int line, const char *msg);

#endif
