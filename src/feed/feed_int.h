/*
 * feed_int.h - shared only by the files under src/feed/.
 *
 *   feed.c         settings, start and stop, statistics, addresses, log
 *   feed_net.c     the network thread: epoll, connections, frames, parse,
 *                  check, the ACKs that need no journal
 *   feed_commit.c  the committer thread: group commit, apply, ACKs
 *   feed_ack.c     building ACKs: answers, enhanced mode, control ids,
 *                  timestamps, the minimal AR
 *
 * A message travels as a struct feed_item: made by the network thread,
 * queued to the committer (in), back to the network thread (done), freed
 * there. Only one thread touches an item at a time; the queues' mutex
 * hands them over.
 */
#ifndef CB_FEED_INT_H
#define CB_FEED_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "carebase/feed.h"
#include "carebase/journal.h"

/* The answer a journaled message gets (from check, or from the journal). */
struct feed_answer {
    char                 code[4];    /* "AA", "AE", "AR" */
    enum cb_hl7_err_code err_code;
    struct cb_str        err_text;   /* in the item's message arena */
    char                 err_seg[4]; /* "" = no location */
    unsigned             err_seq, err_field;
};

struct feed_item {
    struct feed_item  *next;
    uint64_t           conn;        /* slot | generation << 32 */
    double             t_recv;      /* monotonic: the frame was complete */
    int64_t            received_ms; /* wall clock */
    bool               journal;     /* to be stored; else ack is ready */
    bool               has_msg;     /* msg is parsed (release it) */
    struct cb_hl7_msg  msg;         /* over raw */
    enum cb_journal_status status;  /* verdict of check */
    struct feed_answer own;         /* what check said (AA when accepted) */
    struct cb_str      sender, control_id, event; /* in msg's arena */
    /* Filled by the committer. */
    int64_t            seq;         /* > 0: newly stored */
    bool               dup;         /* answered from the journal */
    bool               failed;      /* its batch was not stored */
    struct feed_answer stored;      /* the journal's answer, when dup */
    unsigned           nacks;       /* ACK messages in ack */
    struct cb_buf      ack;         /* framed ACKs to send (may be empty) */
    size_t             raw_len;
    char               raw[];       /* the payload as received */
};

struct feed_queue {
    struct feed_item *head, *tail;
    size_t            n;
};

void cb__feed_queue_push(struct feed_queue *q, struct feed_item *it);
/* Moves all of src to the end of dst. */
void cb__feed_queue_join(struct feed_queue *dst, struct feed_queue *src);
void cb__feed_item_free(struct feed_item *it);

struct feed_conn {
    int               fd;          /* -1: free slot */
    uint32_t          gen;         /* bumped at close: stale items miss */
    uint32_t          events;      /* epoll interest now */
    struct cb_mllp    dec;
    struct cb_buf     out;         /* ACK bytes; sent up to out_off */
    size_t            out_off;
    unsigned          pending;     /* items at the committer */
    size_t            pending_bytes; /* their message bytes */
    double            last_active; /* monotonic: bytes moved either way */
    bool              eof;         /* peer closed its side */
    bool              dirty;       /* out grew: try writing */
    struct feed_conn *next;        /* free list, or dirty list */
    char              peer[64];
};

struct feed_atomic_stats {
    _Atomic uint_least64_t connections_open, connections_total, connections_refused,
        connections_timed_out, received, accepted, rejected, duplicate, unparseable,
        protocol_errors, too_large, not_stored, batches, commit_failures, commit_us,
        commit_bucket[CB_FEED_LAT_BUCKETS], insert_us, checkpoint_us, replayed, acks,
        ack_bucket[CB_FEED_LAT_BUCKETS], ack_count, ack_us,
        /* The journal's, copied by the committer after each batch (the
           journal handle is the committer's alone). */
        checkpoints, forced_checkpoints, sync_us, log_frames;
};

struct cb_feed {
    struct cb_feed_config  cfg;
    char                  *listen;      /* owned copy of cfg.listen */
    struct cb_feed_handler h;
    struct cb_journal     *journal;
    int                    lfd, epfd, wake_fd;
    char                   host[80];
    int                    port;
    pthread_t              net_thread, commit_thread;
    bool                   net_started, commit_started;

    /* Queues between the threads (mu). */
    pthread_mutex_t        mu;
    pthread_cond_t         cv;           /* the committer waits on it */
    struct feed_queue      in;           /* to the committer */
    struct feed_queue      done;         /* back, with ACKs */
    bool                   in_closed;    /* no more input: drain and exit */
    bool                   commit_done;  /* the committer has exited */
    atomic_bool            stopping;

    /* The network thread's own. */
    struct feed_conn      *conns;
    unsigned               nconns;
    struct feed_conn      *free_conns;
    unsigned               nopen;

    /* ACK control ids: prefix (from the start time) + counter. */
    char                   ack_prefix[16];
    atomic_uint_least64_t  ack_counter;

    /* Log lines: at most a few per second, the rest counted. */
    pthread_mutex_t        log_mu;
    double                 log_window;
    unsigned               log_lines;
    uint64_t               log_dropped;

    struct feed_atomic_stats st;
};

/* Monotonic seconds; wall-clock milliseconds. */
double  cb__feed_mono(void);
int64_t cb__feed_now_ms(void);

/* Counts secs in a cumulative histogram over cb_feed_lat_le (CB_FEED_LAT_BUCKETS
   counters, the last +Inf) and adds it to *sum_us. */
void cb__feed_observe(_Atomic uint_least64_t *bucket, _Atomic uint_least64_t *sum_us,
                      double secs);

/* A log line (rate-limited); no message content. */
void cb__feed_log(struct cb_feed *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void *cb__feed_net_main(void *arg);
void *cb__feed_commit_main(void *arg);

/* ---- ACKs (feed_ack.c) ---- */

#define FEED_TS_MAX 32

/* MSH-7 for now: "20261122083001.123+0800". */
void cb__feed_timestamp(char out[FEED_TS_MAX]);

/*
 * Appends to it->ack the framed ACK(s) a journaled item gets: its answer
 * (it->own, or it->stored for a duplicate, or AE 207 when it->failed) in
 * original or enhanced mode. On failure (out of memory) the item gets no
 * ACK, which the sender treats like a lost one: it resends.
 */
void cb__feed_ack_journaled(struct cb_feed *f, struct feed_item *it, const char *ts,
                            struct cb_buf *scratch);

/*
 * The ACK of a refused frame that is not stored: from its MSH when
 * it->has_msg (original mode AR, enhanced CR when MSH-15 asks), else the
 * minimal AR. err_text is plain text, made safe here.
 */
void cb__feed_ack_refused(struct cb_feed *f, struct feed_item *it, enum cb_hl7_err_code code,
                          const char *err_seg, unsigned err_field, const char *err_text);

/* Copies s into the message arena, control bytes replaced by spaces,
 * at most max bytes (cut on a UTF-8 boundary). */
struct cb_str cb__feed_safe_text(struct cb_arena *a, struct cb_str s, size_t max);

#endif
