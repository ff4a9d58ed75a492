/*
 * strmap.h - an open-addressing hash map from byte strings to uint32_t.
 *
 * Keys are copied into the map's own storage on insert; lookups take a
 * borrowed cb_str and do not allocate. Not thread-safe for writers; any
 * number of readers may look up concurrently once loading is done.
 */
#ifndef CAREBASE_STRMAP_H
#define CAREBASE_STRMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/err.h"
#include "carebase/str.h"

struct cb_strmap_slot {
    uint64_t hash;   /* 0 = empty */
    uint32_t off;    /* key offset in keys */
    uint32_t len;    /* key length */
    uint32_t value;
};

struct cb_strmap {
    struct cb_strmap_slot *slots;
    size_t  nslots;  /* power of two */
    size_t  count;
    char   *keys;    /* packed key bytes */
    size_t  keys_len;
    size_t  keys_cap;
};

void cb_strmap_init(struct cb_strmap *m);
void cb_strmap_release(struct cb_strmap *m);

/* Inserts or overwrites. */
CB_MUST_CHECK enum cb_err cb_strmap_put(struct cb_strmap *m, struct cb_str key,
                                        uint32_t value);
/* Returns true and sets *value when found; value may be NULL. */
bool cb_strmap_get(const struct cb_strmap *m, struct cb_str key,
                   uint32_t *value);

static inline bool
cb_strmap_has(const struct cb_strmap *m, struct cb_str key)
{
    return cb_strmap_get(m, key, NULL);
}

/* The i-th slot's key, for iteration over 0..nslots-1; false when empty. */
bool cb_strmap_slot_key(const struct cb_strmap *m, size_t i,
                        struct cb_str *key, uint32_t *value);

#endif
