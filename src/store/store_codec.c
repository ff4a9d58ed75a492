/*
 * store_codec.c - the compressed frames of record payloads, read only:
 * LZ4 with a dictionary (schema v8 to v10), zstd with a dictionary (before
 * LZ4); anything else is a plain payload, passed through, as the items in
 * layout V2 that records hold from v11 on (store_items.h). The dictionary
 * is embedded at build time (src/store/dict/).
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
#include <zdict.h>
#include <zstd.h>

#include "carebase/alloc.h"
#include "store_codec.h"
#include "store_items.h"

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
#define MAX_PAYLOAD ((size_t)16 << 20)

struct cb_codec {
    const char *lz4_dict;      /* fp-2.zdict after its zstd header */
    int         lz4_dict_len;
    /* zstd: made at the first zstd frame. */
    ZSTD_DCtx  *dctx;
    ZSTD_DDict *ddict;
};

void
cb__codec_free(struct cb_codec *c)
{
    if (!c)
        return;
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
    *out = c;
    return CB_OK;
}

static enum cb_err
decompress_lz4(struct cb_codec *c, const unsigned char *p, size_t n,
               struct cb_buf *out)
{
    size_t pos = 1;
    uint64_t id, size;
    int z;
    enum cb_err rc;

    /* Both at most 4 bytes (< 2^28), as the writer wrote them. */
    if (!cb__varint_get(p, n, &pos, &id, 4) || !cb__varint_get(p, n, &pos, &size, 4))
        return CB_ERR_PROTO;
    if (id != CODEC_LZ4_DICT_FP2 || size > MAX_PAYLOAD || n - pos > INT_MAX)
        return CB_ERR_PROTO;
    if ((rc = cb_buf_reserve(out, (size_t)size)))
        return rc;
    z = LZ4_decompress_safe_usingDict((const char *)p + pos, out->ptr,
                                      (int)(n - pos), (int)size, c->lz4_dict,
                                      c->lz4_dict_len);
    if (z < 0 || (uint64_t)z != size) {
        cb_buf_reset(out);
        return CB_ERR_PROTO;
    }
    out->len = (size_t)size;
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
