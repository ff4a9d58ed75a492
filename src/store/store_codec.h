/*
 * store_codec.h - reading the compressed frames of record payloads that
 * databases before schema v11 hold. Shared only by the files under
 * src/store/.
 *
 * A compressed payload is an LZ4 frame of ours (tag byte 0xC0, dictionary
 * id, uncompressed length, one LZ4 block; docs/architecture.md), or, older
 * still, a zstd frame; both name their dictionary, so payloads written with
 * any dictionary Carebase has shipped stay readable. Anything else is a
 * plain payload, passed through: the items in layout V2 that records hold
 * from v11 on (store_items.h) are one.
 */
#ifndef CB_STORE_CODEC_H
#define CB_STORE_CODEC_H

#include <stddef.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/err.h"

struct cb_codec;

/* One codec per thread: it holds the decompression contexts. */
CB_MUST_CHECK enum cb_err cb__codec_new(struct cb_codec **out);
void cb__codec_free(struct cb_codec *c);

/*
 * Decompresses a frame (LZ4 or zstd) into out (reset first). Other input is
 * copied unchanged (plain payloads). CB_ERR_PROTO on a damaged or truncated
 * frame, a length over 16 MiB or an unknown dictionary; out is then empty.
 */
CB_MUST_CHECK enum cb_err cb__codec_decompress(struct cb_codec *c,
                                               const void *src, size_t n,
                                               struct cb_buf *out);

#endif
