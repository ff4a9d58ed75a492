#include <stdio.h>
#include <stdlib.h>

#include "carebase/err.h"

const char *
cb_strerror(enum cb_err rc)
{
    switch (rc) { /* no default: -Wswitch reports a code without text */
    case CB_OK:            return "ok";
    case CB_AGAIN:         return "incomplete input";
    case CB_ERR_NOMEM:     return "out of memory";
    case CB_ERR_TOO_LARGE: return "limit exceeded";
    case CB_ERR_PROTO:     return "malformed input";
    case CB_ERR_NOT_FOUND: return "not found";
    case CB_ERR_DB:        return "storage error";
    case CB_ERR_IO:        return "i/o error";
    case CB_ERR_USAGE:     return "usage error";
    case CB_ERR_SCHEMA:    return "incompatible database schema";
    case CB_EOF:           return "end of input";
    }
    return "unknown error";
}

void
cb__bug(const char *file, int line, const char *msg)
{
    fprintf(stderr, "BUG: %s:%d: %s\n", file, line, msg);
    abort();
}
