/*
 * cli_trace.h - the grouping trace of a stored record, for `carebase cases
 * --explain`: the record is decoded from the store and grouped again with
 * the trace on, with the scheme its stored result was made with (loaded
 * from the installed package once, and checked against the digest it was
 * installed with) and code translation on where the scheme has maps, as
 * the import groups. The stored result stays what the indicators count; a
 * different result now is pointed out in the text.
 */
#ifndef CB_CLI_TRACE_H
#define CB_CLI_TRACE_H

#include "carebase/buf.h"
#include "carebase/store.h"

struct cli_trace;

/* Reads the installed schemes of st (loaded later, when a record needs
 * one). st is borrowed until cli_trace_free. */
CB_MUST_CHECK enum cb_err cli_trace_new(struct cli_trace **out, struct cb_store *st,
                                        struct cb_buf *err);
void cli_trace_free(struct cli_trace *t);

/* A stored record as text columns of a query (all borrowed). */
struct cli_trace_record {
    const char *scheme_id;  /* drg_result.scheme_id; NULL: no result stored */
    const char *data_hex;   /* hex(record.data) */
    const char *dx, *px;    /* record.dx, record.px */
    const char *drg;        /* drg_result.drg and .status, or NULL */
    const char *status;
};

/*
 * Writes the explanation in Chinese into zh and in English into en (both
 * reset first). A record that cannot be traced (no stored result, its
 * scheme missing or changed since it was installed, a damaged payload)
 * gets the reason as its text. Fails only with CB_ERR_NOMEM. Uses st (its
 * decompression context): call it between statements or from a row
 * callback, on st's thread.
 */
CB_MUST_CHECK enum cb_err cli_trace_explain(struct cli_trace *t,
                                            const struct cli_trace_record *r,
                                            struct cb_buf *zh, struct cb_buf *en);

#endif
