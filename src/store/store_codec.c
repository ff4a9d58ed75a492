/*
 * store_codec.c - zstd compression of record payloads with the embedded
 * dictionaries (src/store/dict/).
 */
#include <string.h>
#include <zstd.h>

#include "carebase/alloc.h"
#include "store_codec.h"

/* Dictionaries embedded at build time (cmake/embed.cmake). */
extern const unsigned char cb__fp_zdict[];
extern const size_t cb__fp_zdict_size;

#define CODEC_LEVEL 1
#define MAX_PAYLOAD ((size_t)16 << 20)

struct cb_codec {
    ZSTD_CCtx  *cctx;
    ZSTD_DCtx  *dctx;
    ZSTD_CDict *cdict;
    ZSTD_DDict *ddict;
};

void
cb__codec_free(struct cb_codec *c)
{
    if (!c)
        return;
    ZSTD_freeCCtx(c->cctx);
    ZSTD_freeDCtx(c->dctx);
    ZSTD_freeCDict(c->cdict);
    ZSTD_freeDDict(c->ddict);
    cb_free(c);
}

enum cb_err
cb__codec_new(struct cb_codec **out)
{
    struct cb_codec *c = cb_calloc(1, sizeof(*c));

    *out = NULL;
    if (!c)
        return CB_ERR_NOMEM;
    c->cctx = ZSTD_createCCtx();
    c->dctx = ZSTD_createDCtx();
    c->cdict = ZSTD_createCDict(cb__fp_zdict, cb__fp_zdict_size, CODEC_LEVEL);
    c->ddict = ZSTD_createDDict(cb__fp_zdict, cb__fp_zdict_size);
    if (!c->cctx || !c->dctx || !c->cdict || !c->ddict) {
        cb__codec_free(c);
        return CB_ERR_NOMEM;
    }
    /* Small frames: no checksum or size fields; keep the dictionary id. */
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_checksumFlag, 0);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_contentSizeFlag, 1);
    ZSTD_CCtx_setParameter(c->cctx, ZSTD_c_dictIDFlag, 1);
    if (ZSTD_isError(ZSTD_CCtx_refCDict(c->cctx, c->cdict))) {
        cb__codec_free(c);
        return CB_ERR_NOMEM;
    }
    *out = c;
    return CB_OK;
}

enum cb_err
cb__codec_compress(struct cb_codec *c, const void *src, size_t n,
                   struct cb_buf *out)
{
    size_t bound = ZSTD_compressBound(n), z;
    enum cb_err rc;

    cb_buf_reset(out);
    if (n > MAX_PAYLOAD)
        return CB_ERR_TOO_LARGE;
    if ((rc = cb_buf_reserve(out, bound)))
        return rc;
    z = ZSTD_compress2(c->cctx, out->ptr, bound, src, n);
    if (ZSTD_isError(z))
        return CB_ERR_NOMEM;
    out->len = z;
    return CB_OK;
}

size_t
cb__codec_bound(size_t n)
{
    return ZSTD_compressBound(n);
}

enum cb_err
cb__codec_compress_to(struct cb_codec *c, const void *src, size_t n, void *dst,
                      size_t cap, size_t *len)
{
    size_t z;

    if (n > MAX_PAYLOAD)
        return CB_ERR_TOO_LARGE;
    z = ZSTD_compress2(c->cctx, dst, cap, src, n);
    if (ZSTD_isError(z))
        return CB_ERR_NOMEM;
    *len = z;
    return CB_OK;
}

enum cb_err
cb__codec_decompress(struct cb_codec *c, const void *src, size_t n,
                     struct cb_buf *out)
{
    unsigned long long size;
    unsigned id;
    size_t z;
    enum cb_err rc;

    cb_buf_reset(out);
    if (n < 4 || memcmp(src, "\x28\xb5\x2f\xfd", 4) != 0) /* ZSTD_MAGICNUMBER */
        return cb_buf_add(out, src, n); /* plain text */
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
