/*
 * json.h - writing JSON text into a struct cb_buf, with escaping.
 */
#ifndef CAREBASE_JSON_H
#define CAREBASE_JSON_H

#include "carebase/buf.h"
#include "carebase/str.h"

/* Appends s as a JSON string literal (quotes included, RFC 8259 escapes). */
CB_MUST_CHECK enum cb_err cb_json_str(struct cb_buf *b, struct cb_str s);
CB_MUST_CHECK enum cb_err cb_json_strz(struct cb_buf *b, const char *z);

#endif
