/*
 * feed.h - the MLLP listener: HL7 v2 messages from many hospital systems,
 * stored durably in the journal (journal.h) before they are acknowledged.
 *
 * It knows nothing of ADT: a handler decides what is accepted (check) and
 * what an accepted message does (apply). Two threads:
 *
 *   network thread  one epoll loop over non-blocking sockets. Per
 *                   connection an MLLP decoder (bounded message size) and
 *                   an output buffer for ACKs. Each complete frame is
 *                   parsed and checked here, then queued for the committer.
 *   committer       group commit: takes everything queued (up to
 *                   max_batch), one transaction (INSERT, a duplicate
 *                   detected by the (sender, control id) key), one durable
 *                   COMMIT (one fdatasync of the log; the journal's
 *                   checkpoints run on a thread of its own); then, in
 *                   journal order, apply() for each new accepted message;
 *                   then the ACKs, handed back to the network thread (an
 *                   eventfd wakes it).
 *
 * Guarantees:
 *   - an AA (or CA) leaves only after its message is on disk;
 *   - a duplicate (same sender MSH-3.1|MSH-4.1 and MSH-10) is stored once,
 *     applied once, and answered again with the code it first got;
 *   - per connection, ACKs come in the order the messages were received;
 *   - if a commit fails, the batch's messages get AE (enhanced: CE) with
 *     ERR 207 "internal error: not stored", and the listener goes on;
 *   - one client cannot hold up the others: a client that does not read
 *     its ACKs stops being read once max_pending messages (or 8 MiB of
 *     them) or max_output bytes of ACKs are waiting for it; a silent one
 *     is closed after idle_timeout_s; bytes outside frames are counted,
 *     never fatal. Memory per connection is bounded by these limits and
 *     max_message.
 *
 * Answers the listener gives without the journal (not stored, counted and
 * logged without content): a frame that does not parse gets AR with ERR
 * 100 and the parser's reason, built from its MSH when that could be read,
 * else a minimal AR with the default delimiters (MSH|^~\&|CAREBASE|...);
 * a message without MSH-10 gets AR 101; a frame over max_message bytes
 * gets AR 207 "message too large" when its MSH is within the first
 * max_message bytes, else it is dropped. Bytes outside frames get nothing.
 *
 * Acknowledgment modes (MSH-15/16, see hl7.h): in original mode one ACK
 * (AA, AE or AR). In enhanced mode an accept ACK (CA once stored, CR for a
 * message refused with AR, CE when it could not be stored) when MSH-15
 * asks for one, and for a message taken on (CA) the application ACK (AA or
 * AE) when MSH-16 asks for one. Each ACK has a unique MSH-10 and MSH-7 =
 * now (local time with its offset).
 */
#ifndef CAREBASE_FEED_H
#define CAREBASE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/hl7.h"
#include "carebase/str.h"

#define CB_FEED_LISTEN_DEFAULT "127.0.0.1:2575"

/* One log line (no newline), from the listener's threads; no message
 * content, no patient data: addresses, counts, control ids, reasons. */
typedef void (*cb_feed_log_fn)(void *ctx, const char *line);

struct cb_feed_config {
    const char    *listen;          /* "HOST:PORT", "[V6]:PORT", ":PORT";
                                       port 0 = ephemeral (borrowed) */
    size_t         max_message;     /* payload bytes (CB_MLLP_MAX_DEFAULT) */
    unsigned       max_connections; /* open at once; more are closed (256) */
    unsigned       idle_timeout_s;  /* a connection with nothing pending and
                                       no traffic this long is closed (300) */
    unsigned       max_batch;       /* messages per transaction (2048) */
    unsigned       max_pending;     /* per connection: messages read and
                                       not yet answered before reading
                                       pauses (1024) */
    size_t         max_output;      /* per connection: unsent ACK bytes
                                       before reading pauses (256 KiB) */
    bool           replay;          /* cb_feed_start replays the journal
                                       through apply first (true) */
    cb_feed_log_fn log;             /* may be NULL */
    void          *log_ctx;
};

/* Sets every field to its default (listen: CB_FEED_LISTEN_DEFAULT). */
void cb_feed_config_init(struct cb_feed_config *c);

enum cb_feed_verdict {
    CB_FEED_ACCEPT = 0,
    CB_FEED_REJECT = 1
};

/*
 * check: on the network thread, after a successful parse. Accept, or
 * reject with reject->code "AE" or "AR", err_code (table 0357), err_seg,
 * err_seq, err_field (optional location) and err_text (UTF-8, no patient
 * data; it must stay valid after check returns: a literal, or memory in
 * m's arena). The other fields of *reject are ignored. A rejected message
 * is stored (status rejected) and answered with that code. NULL: accept
 * everything.
 *
 * apply: on the committer thread, for each newly stored accepted message,
 * in journal (seq) order, after its batch is durable and before its ACK is
 * sent; also what the replay at start calls. raw is the message as
 * received, sender as stored (MSH-3.1 "|" MSH-4.1); the views are valid
 * during the call only. It cannot refuse the message (it is stored
 * already): a handler that fails records that itself. NULL: nothing.
 *
 * Neither is called concurrently with itself; check and apply may run at
 * the same time (different threads).
 */
typedef enum cb_feed_verdict (*cb_feed_check_fn)(void *ctx, struct cb_hl7_msg *m,
                                                 struct cb_hl7_ack_opts *reject);
typedef void (*cb_feed_apply_fn)(void *ctx, int64_t seq, struct cb_str raw,
                                 int64_t received_ms, struct cb_str sender);

struct cb_feed_handler {
    cb_feed_check_fn check;
    cb_feed_apply_fn apply;
    void            *ctx;
};

/* ACK latency and commit duration histograms: upper bounds in seconds;
 * the last bucket is +Inf. */
#define CB_FEED_LAT_BUCKETS 12
extern const double cb_feed_lat_le[CB_FEED_LAT_BUCKETS - 1];

/* Counters since start (a snapshot; each is read atomically). */
struct cb_feed_stats {
    uint64_t connections_open;
    uint64_t connections_total;    /* accepted */
    uint64_t connections_refused;  /* over max_connections */
    uint64_t connections_timed_out;
    uint64_t received;             /* complete frames */
    uint64_t accepted;             /* new messages stored as accepted */
    uint64_t rejected;             /* new messages stored as rejected (check) */
    uint64_t duplicate;            /* answered from the journal */
    uint64_t unparseable;          /* frames that did not parse: not stored */
    uint64_t protocol_errors;      /* bytes outside frames, cut frames */
    uint64_t too_large;            /* frames over max_message */
    uint64_t not_stored;           /* messages of failed commits (AE 207) */
    uint64_t batches;              /* transactions committed or failed */
    uint64_t commit_failures;
    uint64_t commit_us;            /* time in BEGIN..durable COMMIT (the log
                                      synced), microseconds */
    uint64_t commit_bucket[CB_FEED_LAT_BUCKETS]; /* the same per batch,
                                      cumulative (le), count = batches */
    uint64_t insert_us;            /* of which BEGIN and the INSERTs */
    uint64_t sync_us;              /* of which the fdatasync of the log */
    uint64_t checkpoint_us;        /* committer's time in forced checkpoints */
    uint64_t log_frames;           /* write-ahead log length after the last
                                      commit (16 KiB pages) */
    uint64_t replayed;             /* messages applied by the replay at start */
    uint64_t checkpoints;          /* journal checkpoints that reached the
                                      log's end (its own thread) */
    uint64_t forced_checkpoints;   /* by the committer between batches:
                                      the log had passed 64 MiB */
    uint64_t acks;                 /* ACK messages sent (counted when queued
                                      for writing) */
    uint64_t ack_bucket[CB_FEED_LAT_BUCKETS]; /* cumulative (le), by frame */
    uint64_t ack_count;            /* frames answered */
    uint64_t ack_us;               /* sum of their latencies, microseconds:
                                      complete frame in -> answer queued */
};

struct cb_feed;

/*
 * Opens the journal of the database at db_path, replays it through
 * h->apply (cfg->replay), listens on cfg->listen and starts the two
 * threads. cfg and h are copied (cfg->listen too). CB_ERR_USAGE for a bad
 * address or setting, CB_ERR_IO when it cannot listen, CB_ERR_DB (message
 * in err) for the database. Nothing runs after a failure.
 */
CB_MUST_CHECK enum cb_err cb_feed_start(struct cb_feed **out, const struct cb_feed_config *cfg,
                                        const char *db_path, const struct cb_feed_handler *h,
                                        struct cb_buf *err);
/* The bound port (the ephemeral one when the address said 0). */
int cb_feed_port(const struct cb_feed *f);
/* The address as listened on: "127.0.0.1", "[::1]". */
const char *cb_feed_host(const struct cb_feed *f);
void cb_feed_stats(const struct cb_feed *f, struct cb_feed_stats *out);
/*
 * Graceful stop: stops accepting and reading, lets the committer finish
 * what was read (stored, applied), sends those ACKs (for at most two
 * seconds), closes every connection and the journal. cb_feed_stop(NULL)
 * is a no-op.
 */
void cb_feed_stop(struct cb_feed *f);

#endif
