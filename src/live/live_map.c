/*
 * live_map.c - the index maps of the live state (see live_int.h).
 */
#include <string.h>

#include "carebase/alloc.h"
#include "live_int.h"

uint64_t
lv_hash(uint64_t seed, struct cb_str key)
{
    uint64_t h = cb_hash64(key.ptr ? key.ptr : "", key.len,
                           seed * 0x9e3779b97f4a7c15ULL + 1);

    return h ? h : 1;
}

int32_t
lv_map_get(const struct lv_map *m, uint64_t h, lv_eq_fn eq, const void *ctx)
{
    size_t i;

    if (!m->slots)
        return -1;
    for (i = (size_t)h & m->mask; m->slots[i].hash; i = (i + 1) & m->mask)
        if (m->slots[i].hash == h && eq(ctx, m->slots[i].idx))
            return (int32_t)m->slots[i].idx;
    return -1;
}

static void
insert(struct lv_slot *slots, size_t mask, uint64_t h, uint32_t idx)
{
    size_t i = (size_t)h & mask;

    while (slots[i].hash)
        i = (i + 1) & mask;
    slots[i].hash = h;
    slots[i].idx = idx;
}

enum cb_err
lv_map_put(struct lv_map *m, uint64_t h, uint32_t idx)
{
    /* keep the load under 1/2: probes stay short */
    if (!m->slots || (m->count + 1) * 2 > m->mask + 1) {
        size_t n = m->slots ? (m->mask + 1) * 2 : 64, i;
        struct lv_slot *ns = cb_calloc(n, sizeof(*ns));

        if (!ns)
            return CB_ERR_NOMEM;
        if (m->slots)
            for (i = 0; i <= m->mask; i++)
                if (m->slots[i].hash)
                    insert(ns, n - 1, m->slots[i].hash, m->slots[i].idx);
        cb_free(m->slots);
        m->slots = ns;
        m->mask = n - 1;
    }
    insert(m->slots, m->mask, h, idx);
    m->count++;
    return CB_OK;
}

bool
lv_map_del(struct lv_map *m, uint64_t h, uint32_t idx)
{
    size_t i, j;

    if (!m->slots)
        return false;
    for (i = (size_t)h & m->mask; m->slots[i].hash; i = (i + 1) & m->mask)
        if (m->slots[i].hash == h && m->slots[i].idx == idx)
            break;
    if (!m->slots[i].hash)
        return false;
    /* backward shift: pull later entries of the cluster into the hole when
     * their home slot does not lie cyclically in (hole, j] */
    j = i;
    for (;;) {
        size_t home;

        m->slots[i].hash = 0;
        for (;;) {
            j = (j + 1) & m->mask;
            if (!m->slots[j].hash) {
                m->count--;
                return true;
            }
            home = (size_t)m->slots[j].hash & m->mask;
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        m->slots[i] = m->slots[j];
        i = j;
    }
}

void
lv_map_release(struct lv_map *m)
{
    cb_free(m->slots);
    memset(m, 0, sizeof(*m));
}
