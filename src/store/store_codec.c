/*
 * store_codec.c - compression of record payloads: LZ4 with a dictionary
 * (written), zstd with a dictionary (read: databases written before LZ4),
 * plain payloads (read, passed through). The dictionaries are embedded at
 * build time (src/store/dict/).
 *
 * An LZ4 frame (ours, no LZ4 frame format): the tag byte CODEC_LZ4_TAG, a
 * varint dictionary id, a varint uncompressed length, then one LZ4 block to
 * the end of the frame. The tag starts neither a zstd frame (0x28, or a
 * skippable 0x5?) nor a plain payload (0x01 = CB_STORE_ITEMS_V1, '{' or '['
 * of the older JSON, any UTF-8 text: 0xC0 never occurs in UTF-8).
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>
#include <lz4.h>
/*
 * The CDict functions of the frame API: exported by liblz4.so (1.9.4 of
 * Debian 12 included), declared under LZ4F_STATIC_LINKING_ONLY up to 1.9.
 */
#define LZ4F_STATIC_LINKING_ONLY
#include <lz4frame.h>
#include <zdict.h>
#include <zstd.h>

#include "carebase/alloc.h"
#include "store_codec.h"

/* Dictionaries embedded at build time (cmake/embed.cmake). */
extern const unsigned char cb__fp_zdict[];
extern const size_t cb__fp_zdict_size;

#define CODEC_LZ4_TAG 0xC0
/*
 * Id 2: the content of fp-2.zdict (its bytes after the zstd header, the
 * entropy tables), used as LZ4's raw dictionary. It must never change:
 * a new dictionary gets a new id and the old one stays readable.
 */
#define CODEC_LZ4_DICT_FP2 2u
/*
 * LZ4 acceleration, chosen by measurement of the import (20k rows under
 * callgrind, 250k rows for the database size), against zstd level 1 at
 * 41.4k instructions a record, 230 MB: acceleration 1 18.8k, 260 MB;
 * 2 13.9k, 265 MB; 4 10.7k, 275 MB. 2 is the knee.
 */
#ifndef CODEC_LZ4_ACCEL /* -DCODEC_LZ4_ACCEL=n to measure: frames stay alike */
#define CODEC_LZ4_ACCEL 2
#endif
/* Our frame header: tag, id (1 byte), length (a varint of <= 4 bytes). */
#define CODEC_HEAD_MAX 8
/* Payloads up to one LZ4F block go through the frame API (see below). */
#define CODEC_LZ4F_MAX ((size_t)64 << 10)
#define MAX_PAYLOAD ((size_t)16 << 20)

struct cb_codec {
    /*
     * Compression: the frame API with a CDict attaches the dictionary's
     * hash table to the working one (LZ4_attach_dictionary, which the
     * shared library does not export on its own) instead of copying 16 KiB
     * per payload. Only its one block is kept, in our own frame.
     */
    LZ4F_cctx          *cctx;
    LZ4F_CDict         *cdict;
    LZ4F_preferences_t  prefs;
    /*
     * Payloads the frame API would split or store raw: a copy of the
     * stream with the dictionary loaded (made at the first such payload).
     */
    int          stream_ready;
    LZ4_stream_t dict_stream;
    LZ4_stream_t stream;
    const char *lz4_dict;
    int         lz4_dict_len;
    /* zstd, only to read older frames: made at the first one. */
    ZSTD_DCtx  *dctx;
    ZSTD_DDict *ddict;
};

void
cb__codec_free(struct cb_codec *c)
{
    if (!c)
        return;
    LZ4F_freeCompressionContext(c->cctx);
    LZ4F_freeCDict(c->cdict);
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeDDict(c->ddict);
    cb_free(c);
}

enum cb_err
cb__codec_new(struct cb_codec **out)
{
    struct cb_codec *c = cb_calloc(1, sizeof(*c));
    size_t head;

    *out = NULL;
    if (!c)
        return CB_ERR_NOMEM;
    head = ZDICT_getDictHeaderSize(cb__fp_zdict, cb__fp_zdict_size);
    if (ZDICT_isError(head) || head >= cb__fp_zdict_size)
        CB_BUG("codec: the embedded fp-2 dictionary has no zstd header");
    c->lz4_dict = (const char *)cb__fp_zdict + head;
    c->lz4_dict_len = (int)(cb__fp_zdict_size - head);
    c->cdict = LZ4F_createCDict(c->lz4_dict, (size_t)c->lz4_dict_len);
    if (!c->cdict ||
        LZ4F_isError(LZ4F_createCompressionContext(&c->cctx, LZ4F_VERSION))) {
        cb__codec_free(c);
        return CB_ERR_NOMEM;
    }
    /* One independent block, no checksums: only the block is kept. */
    c->prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    c->prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    c->prefs.autoFlush = 1; /* compress from src, no staging copy */
    c->prefs.compressionLevel = 1 - CODEC_LZ4_ACCEL; /* <= 0: fast mode */
    *out = c;
    return CB_OK;
}

static size_t
put_varint(unsigned char *o, size_t v)
{
    size_t k = 0;

    do {
        o[k++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return k;
}

/* Reads a varint of at most 4 bytes (< 2^28) at *pos; 0 when damaged. */
static int
get_varint(const unsigned char *p, size_t n, size_t *pos, size_t *v)
{
    size_t r = 0;
    unsigned shift = 0;

    while (*pos < n && shift < 28) {
        unsigned char b = p[(*pos)++];

        r |= (size_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 1;
        }
        shift += 7;
    }
    return 0;
}

size_t
cb__codec_bound(size_t n)
{
    LZ4F_preferences_t prefs;
    size_t a, b;

    if (n > MAX_PAYLOAD)
        return CODEC_HEAD_MAX;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.autoFlush = 1;
    a = (size_t)LZ4_compressBound((int)n);
    b = LZ4F_compressBound(n, &prefs);
    return CODEC_HEAD_MAX + (a > b ? a : b);
}

static size_t
get_le32(const unsigned char *p)
{
    return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 |
           (size_t)p[3] << 24;
}

/*
 * One LZ4 block with the frame API into dst + 8 (after LZ4F's 4-byte block
 * size at dst + 4); *z its size, 0 when LZ4F stored the block raw.
 */
static enum cb_err
compress_lz4f(struct cb_codec *c, const void *src, size_t n,
              unsigned char *dst, size_t cap, size_t *z)
{
    unsigned char scratch[LZ4F_HEADER_SIZE_MAX + 16];
    size_t r, bs;

    r = LZ4F_compressBegin_usingCDict(c->cctx, scratch, sizeof(scratch),
                                      c->cdict, &c->prefs);
    if (LZ4F_isError(r))
        return CB_ERR_NOMEM;
    r = LZ4F_compressUpdate(c->cctx, dst + 4, cap - 4, src, n, NULL);
    if (LZ4F_isError(r) || r < 4)
        return CB_ERR_NOMEM; /* the next compressBegin starts afresh */
    bs = get_le32(dst + 4);
    if (r != 4 + (bs & 0x7fffffffu)) /* more than the one block: never */
        return CB_ERR_NOMEM;
    r = LZ4F_compressEnd(c->cctx, scratch, sizeof(scratch), NULL);
    if (LZ4F_isError(r))
        return CB_ERR_NOMEM;
    *z = (bs & 0x80000000u) ? 0 : bs; /* high bit: stored uncompressed */
    return CB_OK;
}

/* The same with a copy of the prepared stream: any size, never raw. */
static enum cb_err
compress_stream(struct cb_codec *c, const void *src, size_t n,
                unsigned char *dst, size_t cap, size_t *z)
{
    int k;

    if (!c->stream_ready) {
        if (!LZ4_initStream(&c->dict_stream, sizeof(c->dict_stream)))
            CB_BUG("codec: LZ4_initStream refused an aligned stream");
        LZ4_loadDict(&c->dict_stream, c->lz4_dict, c->lz4_dict_len);
        c->stream_ready = 1;
    }
    memcpy(&c->stream, &c->dict_stream, sizeof(c->stream));
    k = LZ4_compress_fast_continue(&c->stream, src, (char *)dst, (int)n,
                                   cap > INT_MAX ? INT_MAX : (int)cap,
                                   CODEC_LZ4_ACCEL);
    if (k <= 0) /* cannot happen with cap >= the bound */
        return CB_ERR_NOMEM;
    *z = (size_t)k;
    return CB_OK;
}

enum cb_err
cb__codec_compress_to(struct cb_codec *c, const void *src, size_t n, void *dst,
                      size_t cap, size_t *len)
{
    unsigned char *o = dst;
    unsigned char head[CODEC_HEAD_MAX];
    size_t h, z = 0;
    enum cb_err rc;

    if (n > MAX_PAYLOAD)
        return CB_ERR_TOO_LARGE;
    if (cap < cb__codec_bound(n))
        return CB_ERR_USAGE;
    head[0] = CODEC_LZ4_TAG;
    h = 1 + put_varint(head + 1, CODEC_LZ4_DICT_FP2);
    h += put_varint(head + h, n);
    if (n > 0 && n <= CODEC_LZ4F_MAX) {
        if ((rc = compress_lz4f(c, src, n, o, cap, &z)))
            return rc;
        if (z) /* the block from dst + 8 to right after our header */
            memmove(o + h, o + 8, z);
    }
    if (!z && (rc = compress_stream(c, src, n, o + h, cap - h, &z)))
        return rc;
    memcpy(o, head, h);
    *len = h + z;
    return CB_OK;
}

enum cb_err
cb__codec_compress(struct cb_codec *c, const void *src, size_t n,
                   struct cb_buf *out)
{
    size_t z, bound = cb__codec_bound(n);
    enum cb_err rc;

    cb_buf_reset(out);
    if (n > MAX_PAYLOAD)
        return CB_ERR_TOO_LARGE;
    if ((rc = cb_buf_reserve(out, bound)))
        return rc;
    if ((rc = cb__codec_compress_to(c, src, n, out->ptr, bound, &z)))
        return rc;
    out->len = z;
    return CB_OK;
}

static enum cb_err
decompress_lz4(struct cb_codec *c, const unsigned char *p, size_t n,
               struct cb_buf *out)
{
    size_t pos = 1, id, size;
    int z;
    enum cb_err rc;

    if (!get_varint(p, n, &pos, &id) || !get_varint(p, n, &pos, &size))
        return CB_ERR_PROTO;
    if (id != CODEC_LZ4_DICT_FP2 || size > MAX_PAYLOAD || n - pos > INT_MAX)
        return CB_ERR_PROTO;
    if ((rc = cb_buf_reserve(out, size)))
        return rc;
    z = LZ4_decompress_safe_usingDict((const char *)p + pos, out->ptr,
                                      (int)(n - pos), (int)size, c->lz4_dict,
                                      c->lz4_dict_len);
    if (z < 0 || (size_t)z != size) {
        cb_buf_reset(out);
        return CB_ERR_PROTO;
    }
    out->len = size;
    out->ptr[size] = '\0';
    return CB_OK;
}

static enum cb_err
decompress_zstd(struct cb_codec *c, const void *src, size_t n,
                struct cb_buf *out)
{
    unsigned long long size;
    unsigned id;
    size_t z;
    enum cb_err rc;

    if (!c->dctx && !(c->dctx = ZSTD_createDCtx()))
        return CB_ERR_NOMEM;
    if (!c->ddict &&
        !(c->ddict = ZSTD_createDDict(cb__fp_zdict, cb__fp_zdict_size)))
        return CB_ERR_NOMEM;
    id = ZSTD_getDictID_fromFrame(src, n);
    if (id != 0 && id != ZSTD_getDictID_fromDDict(c->ddict))
        return CB_ERR_PROTO;
    size = ZSTD_getFrameContentSize(src, n);
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
        size > MAX_PAYLOAD)
        return CB_ERR_PROTO;
    if ((rc = cb_buf_reserve(out, (size_t)size)))
        return rc;
    z = ZSTD_decompress_usingDDict(c->dctx, out->ptr, (size_t)size, src, n, c->ddict);
    if (ZSTD_isError(z) || z != size) {
        cb_buf_reset(out);
        return CB_ERR_PROTO;
    }
    out->len = z;
    out->ptr[z] = '\0';
    return CB_OK;
}

enum cb_err
cb__codec_decompress(struct cb_codec *c, const void *src, size_t n,
                     struct cb_buf *out)
{
    const unsigned char *p = src;

    cb_buf_reset(out);
    if (n >= 1 && p[0] == CODEC_LZ4_TAG)
        return decompress_lz4(c, p, n, out);
    if (n >= 4 && memcmp(src, "\x28\xb5\x2f\xfd", 4) == 0) /* ZSTD_MAGICNUMBER */
        return decompress_zstd(c, src, n, out);
    return cb_buf_add(out, src, n); /* plain */
}
