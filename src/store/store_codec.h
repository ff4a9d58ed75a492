/*
 * store_codec.h - compression of record payloads (zstd with a dictionary).
 * Shared only by the files under src/store/.
 *
 * A compressed payload is a plain zstd frame whose header names the
 * dictionary id; decompression picks the dictionary from that id, so
 * payloads written with any dictionary Carebase has shipped stay readable.
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

/* Compresses src into out (reset first). */
CB_MUST_CHECK enum cb_err cb__codec_compress(struct cb_codec *c,
                                             const void *src, size_t n,
                                             struct cb_buf *out);

/* The most bytes compressing n bytes can give. */
size_t cb__codec_bound(size_t n);
/* Compresses src into dst (cap bytes, at least cb__codec_bound(n)); *len. */
CB_MUST_CHECK enum cb_err cb__codec_compress_to(struct cb_codec *c,
                                                const void *src, size_t n,
                                                void *dst, size_t cap,
                                                size_t *len);

/*
 * Decompresses a frame into out (reset first). Input that is not a zstd
 * frame is copied unchanged (payloads may be plain text). CB_ERR_PROTO on a
 * damaged frame or an unknown dictionary.
 */
CB_MUST_CHECK enum cb_err cb__codec_decompress(struct cb_codec *c,
                                               const void *src, size_t n,
                                               struct cb_buf *out);

#endif
