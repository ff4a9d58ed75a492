/*
 * journal.h - the HL7 message journal: table hl7_message (schema v6),
 * written by the MLLP listener (src/feed) before it acknowledges anything.
 *
 * One row per message that got a stored answer, accepted or rejected (the
 * audit trail): seq (the journal order), sender, control id (MSH-10),
 * receive time, status, the MSA-1 code it was answered with, the event
 * (MSH-9.1 "^" MSH-9.2, e.g. "ADT^A01"), the message bytes as received,
 * and for a rejection its HL7 error code (table 0357) and text. A message
 * is keyed by (sender, control_id): the same key twice is a duplicate,
 * stored once and answered again with the code it first got.
 *
 * The sender is MSH-3.1 "|" MSH-4.1 (sending application and facility,
 * first components, decoded to UTF-8): "HIS|HOSP1". Control ids are unique
 * per sending system, not across the consortium, hence both parts.
 *
 * Durability: the journal has its own connection to the database;
 * cb_journal_commit returns only once the write-ahead log is on disk (one
 * fdatasync of the log, issued by the journal after COMMIT: see
 * store_hl7.c for why that equals synchronous = FULL); the store's other
 * connections keep their settings. Checkpoints run on a thread of the
 * journal with its own connection, never inside a commit; the writer
 * checkpoints itself only when that thread cannot keep up (the log past
 * 64 MiB: cb_journal_checkpoint_if_large).
 *
 * A journal handle is used by one thread at a time.
 */
#ifndef CAREBASE_JOURNAL_H
#define CAREBASE_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

enum cb_journal_status {
    CB_JOURNAL_ACCEPTED = 1,   /* answered AA (CA): applied to the live state */
    CB_JOURNAL_REJECTED = 2    /* answered AE or AR: stored for the audit */
};

/* One message to store; every view is borrowed for the call. */
struct cb_journal_entry {
    struct cb_str          sender;      /* MSH-3.1 "|" MSH-4.1, not empty */
    struct cb_str          control_id;  /* MSH-10, not empty */
    int64_t                received_ms; /* unix time, milliseconds */
    enum cb_journal_status status;
    const char            *ack_code;    /* "AA", "AE" or "AR" */
    struct cb_str          event;       /* "ADT^A01"; empty: NULL */
    struct cb_str          raw;         /* the message as received */
    int                    err_code;    /* table 0357; 0 when accepted */
    struct cb_str          err_text;    /* why, no patient data; may be empty */
};

/* What a stored message was answered with (cb_journal_put, lookup). */
struct cb_journal_answer {
    int64_t                seq;
    enum cb_journal_status status;
    char                   ack_code[4];  /* "AA", "AE", "AR" */
    int                    err_code;     /* 0 when none */
    struct cb_buf          err_text;     /* owned: cb_buf_release it */
};

struct cb_journal;

/*
 * Opens the journal of the database at path (creating the database and
 * migrating it like cb_store_open) and starts its checkpointer thread.
 */
CB_MUST_CHECK enum cb_err cb_journal_open(struct cb_journal **out, const char *path,
                                          struct cb_buf *err);
/* Rolls back an open transaction, stops the checkpointer; NULL is a no-op. */
void cb_journal_close(struct cb_journal *j);

/*
 * One transaction per batch: BEGIN IMMEDIATE ... COMMIT, durable when
 * cb_journal_commit returns CB_OK. A failed COMMIT is rolled back. When
 * the sync of the log after COMMIT fails (CB_ERR_IO), the transaction may
 * or may not be on disk, and the kernel may have dropped the pages it
 * could not write: from then on cb_journal_begin refuses (CB_ERR_IO) until
 * the journal is closed and opened again (recovery reads what is on disk).
 */
CB_MUST_CHECK enum cb_err cb_journal_begin(struct cb_journal *j, struct cb_buf *err);
CB_MUST_CHECK enum cb_err cb_journal_commit(struct cb_journal *j, struct cb_buf *err);
void cb_journal_rollback(struct cb_journal *j);

/*
 * Between transactions: the writer's fallback for keeping the write-ahead
 * log bounded. The checkpointer copies the log back from 16 MiB on; when
 * it cannot reach the end (a load that never pauses between commits, or
 * readers holding old snapshots) and the log passes 64 MiB, this runs a
 * RESTART checkpoint, waiting up to 100 ms for readers. Returns whether
 * the whole log was copied back. Takes the calling writer's time: call it
 * after the answers of a batch are out.
 */
bool cb_journal_checkpoint_if_large(struct cb_journal *j);

/* Counters since open (each read atomically; any thread). */
struct cb_journal_stats {
    uint64_t checkpoints;         /* by the checkpointer, to the log's end */
    uint64_t forced_checkpoints;  /* by the writer (cb_journal_checkpoint_if_large) */
    uint64_t syncs;               /* the commits' fdatasyncs of the log (0 when
                                     the file system needs synchronous = FULL,
                                     which syncs inside COMMIT) */
    uint64_t sync_us;             /* time in them */
    uint64_t log_frames;          /* the log's length after the last commit */
};
void cb_journal_stats(struct cb_journal *j, struct cb_journal_stats *out);

/*
 * Stores e unless a message with the same sender and control id is
 * stored already (earlier, or earlier in the same transaction). *seq: the
 * new row's seq, or 0 for a duplicate. dup (may be NULL) is filled for a
 * duplicate with the stored answer (its err_text buffer is reset first).
 * CB_ERR_USAGE for an empty sender or control id or a bad status.
 */
CB_MUST_CHECK enum cb_err cb_journal_put(struct cb_journal *j,
                                         const struct cb_journal_entry *e,
                                         int64_t *seq,
                                         struct cb_journal_answer *dup,
                                         struct cb_buf *err);

/* The stored answer for (sender, control id); CB_ERR_NOT_FOUND if none. */
CB_MUST_CHECK enum cb_err cb_journal_lookup(struct cb_journal *j, struct cb_str sender,
                                            struct cb_str control_id,
                                            struct cb_journal_answer *a,
                                            struct cb_buf *err);

/*
 * Calls fn for each accepted message with seq > after, in seq order, one
 * row at a time (nothing is loaded in bulk). The views are valid during
 * the call only. A nonzero return from fn stops the replay and is
 * returned. *last (may be NULL): the seq of the last row given to fn, or
 * after when none.
 */
typedef enum cb_err (*cb_journal_replay_fn)(void *ctx, int64_t seq, struct cb_str raw,
                                            int64_t received_ms, struct cb_str sender);
CB_MUST_CHECK enum cb_err cb_journal_replay(struct cb_journal *j, int64_t after,
                                            cb_journal_replay_fn fn, void *ctx,
                                            int64_t *last, struct cb_buf *err);

#endif
