/*
 * store_codec.h - compression of record payloads (LZ4 with a dictionary).
 * Shared only by the files under src/store/.
 *
 * A compressed payload is an LZ4 frame of ours (tag byte 0xC0, dictionary
 * id, uncompressed length, one LZ4 block; docs/architecture.md). Older
 * databases hold zstd frames, which still decode; both kinds name their
 * dictionary, so payloads written with any dictionary Carebase has shipped
 * stay readable. Anything else is a plain payload, passed through.
 */
#ifndef CB_STORE_CODEC_H
#define CB_STORE_CODEC_H

#include <stddef.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/err.h"

struct cb_codec;

/* One codec per thread: it holds compression and decompression contexts. */
CB_MUST_CHECK enum cb_err cb__codec_new(struct cb_codec **out);
void cb__codec_free(struct cb_codec *c);

/* Compresses src (at most 16 MiB, else CB_ERR_TOO_LARGE) into out (reset
 * first). */
CB_MUST_CHECK enum cb_err cb__codec_compress(struct cb_codec *c,
                                             const void *src, size_t n,
                                             struct cb_buf *out);

/* The most bytes compressing n bytes can give. */
size_t cb__codec_bound(size_t n);
/* Compresses src into dst (cap bytes, at least cb__codec_bound(n), else
 * CB_ERR_USAGE); *len. */
CB_MUST_CHECK enum cb_err cb__codec_compress_to(struct cb_codec *c,
                                                const void *src, size_t n,
                                                void *dst, size_t cap,
                                                size_t *len);

/*
 * Decompresses a frame (LZ4 or zstd) into out (reset first). Other input is
 * copied unchanged (plain payloads). CB_ERR_PROTO on a damaged or truncated
 * frame, a length over 16 MiB or an unknown dictionary; out is then empty.
 */
CB_MUST_CHECK enum cb_err cb__codec_decompress(struct cb_codec *c,
                                               const void *src, size_t n,
                                               struct cb_buf *out);

#endif
