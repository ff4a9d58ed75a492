#include <string.h>

#include "carebase/alloc.h"
#include "carebase/strmap.h"

static uint64_t
key_hash(struct cb_str k)
{
    uint64_t h = cb_hash64(k.ptr, k.len, 0);
    return h ? h : 1;
}

void
cb_strmap_init(struct cb_strmap *m)
{
    memset(m, 0, sizeof(*m));
}

void
cb_strmap_release(struct cb_strmap *m)
{
    cb_free(m->slots);
    cb_free(m->keys);
    cb_strmap_init(m);
}

static struct cb_strmap_slot *
find_slot(const struct cb_strmap *m, struct cb_str key, uint64_t h)
{
    size_t mask = m->nslots - 1, i = (size_t)h & mask;

    for (;;) {
        struct cb_strmap_slot *s = &m->slots[i];
        if (s->hash == 0)
            return s;
        if (s->hash == h && s->len == key.len &&
            memcmp(m->keys + s->off, key.ptr, key.len) == 0)
            return s;
        i = (i + 1) & mask;
    }
}

static enum cb_err
grow(struct cb_strmap *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 64, i;
    struct cb_strmap_slot *old = m->slots, *ns;
    size_t oldn = m->nslots;

    ns = cb_calloc(n, sizeof(*ns));
    if (!ns)
        return CB_ERR_NOMEM;
    m->slots = ns;
    m->nslots = n;
    for (i = 0; i < oldn; i++) {
        if (old[i].hash) {
            size_t j = (size_t)old[i].hash & (n - 1);
            while (ns[j].hash)
                j = (j + 1) & (n - 1);
            ns[j] = old[i];
        }
    }
    cb_free(old);
    return CB_OK;
}

enum cb_err
cb_strmap_put(struct cb_strmap *m, struct cb_str key, uint32_t value)
{
    uint64_t h = key_hash(key);
    struct cb_strmap_slot *s;
    enum cb_err rc;

    if (key.len > UINT32_MAX)
        return CB_ERR_TOO_LARGE;
    if ((m->count + 1) * 4 > m->nslots * 3) {
        rc = grow(m);
        if (rc)
            return rc;
    }
    s = find_slot(m, key, h);
    if (s->hash) {
        s->value = value;
        return CB_OK;
    }
    if (m->keys_len + key.len > m->keys_cap) {
        size_t cap = m->keys_cap ? m->keys_cap * 2 : 1024;
        char *k;
        while (cap < m->keys_len + key.len)
            cap *= 2;
        if (cap > UINT32_MAX)
            return CB_ERR_TOO_LARGE;
        k = cb_realloc(m->keys, cap);
        if (!k)
            return CB_ERR_NOMEM;
        m->keys = k;
        m->keys_cap = cap;
    }
    if (key.len)
        memcpy(m->keys + m->keys_len, key.ptr, key.len);
    s->hash = h;
    s->off = (uint32_t)m->keys_len;
    s->len = (uint32_t)key.len;
    s->value = value;
    m->keys_len += key.len;
    m->count++;
    return CB_OK;
}

bool
cb_strmap_get(const struct cb_strmap *m, struct cb_str key, uint32_t *value)
{
    struct cb_strmap_slot *s;

    if (!m->nslots)
        return false;
    s = find_slot(m, key, key_hash(key));
    if (!s->hash)
        return false;
    if (value)
        *value = s->value;
    return true;
}

bool
cb_strmap_slot_key(const struct cb_strmap *m, size_t i, struct cb_str *key,
                   uint32_t *value)
{
    const struct cb_strmap_slot *s;

    if (i >= m->nslots || !m->slots[i].hash)
        return false;
    s = &m->slots[i];
    *key = cb_str_make(m->keys + s->off, s->len);
    if (value)
        *value = s->value;
    return true;
}
