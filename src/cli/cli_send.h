/*
 * cli_send.h - the MLLP client of `carebase simulate --to`: N connections
 * to one listener, each with a window of unacknowledged messages, ACKs
 * matched by MSA-2 and counted by MSA-1, reconnection with backoff and
 * the unacknowledged messages resent (the listener deduplicates by
 * MSH-10), ACK latency measured per message.
 *
 * Usage: cli_send_new, then repeatedly cli_send_offer (a message for a
 * connection; refused while that connection's queue is full) and
 * cli_send_pump (socket I/O, waits up to a timeout), until
 * cli_send_idle; then cli_send_report. Single-threaded (poll).
 */
#ifndef CB_CLI_SEND_H
#define CB_CLI_SEND_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "carebase/buf.h"
#include "carebase/str.h"

struct cli_send_opts {
    const char *host;        /* numeric address or name */
    const char *port;
    int         connections; /* >= 1 */
    int         window;      /* unacknowledged messages per connection */
    double      rate;        /* messages/s over all connections; 0 = no cap */
    double      stall;       /* give up after this many seconds without an
                                ACK while messages wait */
};

struct cli_send_stats {
    uint64_t offered, sent, acked, resent, reconnects, unmatched;
    uint64_t aa, ae, ar, ca, ce, cr, other;
    uint64_t well_formed_not_aa;  /* well-formed answered other than AA/CA */
    uint64_t malformed_accepted;  /* malformed answered AA/CA */
    double   seconds, p50_ms, p99_ms, max_ms;
    bool     gave_up;             /* stalled: some messages never acked */
};

struct cli_send;

/* NULL on failure, with a message in err (bad address, no memory). */
struct cli_send *cli_send_new(const struct cli_send_opts *o, struct cb_buf *err);
void cli_send_free(struct cli_send *s);

/* Queues msg (copied, framed) on connection conn % N; false when that
 * queue is full (pump, then offer again). */
bool cli_send_offer(struct cli_send *s, unsigned conn, struct cb_str msg,
                    struct cb_str control_id, bool malformed);

/* Connects, writes, reads ACKs; waits at most wait_ms for something to
 * happen. Returns false once it gave up (stalled past opts.stall). */
bool cli_send_pump(struct cli_send *s, int wait_ms);

/* Every offered message acknowledged. */
bool cli_send_idle(const struct cli_send *s);

void cli_send_stats(const struct cli_send *s, struct cli_send_stats *st);

#endif
