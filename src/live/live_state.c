/*
 * live_state.c - the entities of the live state: hospitals, wards, beds,
 * visits and feeds, their maps, the wards file, and the object's life.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "carebase/alloc.h"
#include "carebase/tsvfile.h"
#include "live_int.h"

void
cb_live_config_default(struct cb_live_config *c)
{
    c->occupancy_threshold = 0.95;
    c->boarders_threshold = 5;
    c->feed_silence_min = 10;
    c->los_outlier_days = 30;
    c->discharged_keep_hours = 72;
    c->preadmit_keep_days = 7;
    c->alert_history = 1000;
}

/* ------------------------------------------------------------ names */

bool
lv_name_eq(const struct lv_name *n, struct cb_str s)
{
    return n->len == s.len && (s.len == 0 || memcmp(n->ptr, s.ptr, s.len) == 0);
}

struct cb_str
lv_str(const struct lv_name *n)
{
    return cb_str_make(n->ptr ? n->ptr : "", n->len);
}

enum cb_err
lv_name_set(struct lv_name *n, struct cb_str s)
{
    char *p = cb_strndup(s.len ? s.ptr : "", s.len);

    if (!p)
        return CB_ERR_NOMEM;
    cb_free(n->ptr);
    n->ptr = p;
    n->len = (uint32_t)s.len;
    return CB_OK;
}

static void
name_free(struct lv_name *n)
{
    cb_free(n->ptr);
    n->ptr = NULL;
    n->len = 0;
}

/* Grows an array to hold need elements. */
static enum cb_err
grow(void *arrp, uint32_t *cap, uint32_t need, size_t elem)
{
    void **arr = arrp, *p;
    uint32_t n;

    if (need <= *cap)
        return CB_OK;
    if (need > INT32_MAX / 2)
        return CB_ERR_TOO_LARGE;
    n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    p = cb_reallocarray(*arr, n, elem);
    if (!p)
        return CB_ERR_NOMEM;
    *arr = p;
    *cap = n;
    return CB_OK;
}

static enum cb_err
push_index(int32_t **arr, uint32_t *n, uint32_t *cap, int32_t v)
{
    enum cb_err rc = grow(arr, cap, *n + 1, sizeof(**arr));

    if (rc == CB_OK)
        (*arr)[(*n)++] = v;
    return rc;
}

/* ------------------------------------------------------------ lookups */

struct key_ctx {
    const struct cb_live *l;
    int32_t               parent;
    struct cb_str         key;
};

static bool
hosp_eq(const void *c, uint32_t i)
{
    const struct key_ctx *k = c;

    return lv_name_eq(&k->l->hosps[i].code, k->key);
}

static bool
ward_eq(const void *c, uint32_t i)
{
    const struct key_ctx *k = c;

    return k->l->wards[i].hosp == k->parent
           && lv_name_eq(&k->l->wards[i].code, k->key);
}

static bool
bed_eq(const void *c, uint32_t i)
{
    const struct key_ctx *k = c;

    return k->l->beds[i].ward == k->parent
           && lv_name_eq(&k->l->beds[i].label, k->key);
}

static bool
visit_eq(const void *c, uint32_t i)
{
    const struct key_ctx *k = c;
    const struct lv_visit *v = &k->l->visits[i];

    return v->hosp == k->parent && v->vid_len == k->key.len
           && memcmp(v->vid, k->key.ptr, k->key.len) == 0;
}

static bool
patient_eq(const void *c, uint32_t i)
{
    const struct key_ctx *k = c;
    const struct lv_visit *v = &k->l->visits[i];

    return v->hosp == k->parent && v->pid_len == k->key.len
           && memcmp(v->pid, k->key.ptr, k->key.len) == 0;
}

static bool
feed_eq(const void *c, uint32_t i)
{
    const struct key_ctx *k = c;

    return k->l->feeds[i].hosp == k->parent
           && lv_name_eq(&k->l->feeds[i].sender, k->key);
}

int32_t
lv_hosp_find(const struct cb_live *l, struct cb_str code)
{
    struct key_ctx k = { l, -1, code };

    return lv_map_get(&l->hosp_map, lv_hash(0, code), hosp_eq, &k);
}

enum cb_err
lv_hosp_get(struct cb_live *l, struct cb_str code, int32_t *out)
{
    struct lv_hosp *h;
    enum cb_err rc;
    uint32_t i;

    if ((*out = lv_hosp_find(l, code)) >= 0)
        return CB_OK;
    if ((rc = grow(&l->hosps, &l->chosps, l->nhosps + 1, sizeof(*h))))
        return rc;
    h = &l->hosps[l->nhosps];
    memset(h, 0, sizeof(*h));
    h->days = cb_calloc(LV_DAYS, sizeof(*h->days));
    if (!h->days || lv_name_set(&h->code, code) != CB_OK)
        goto nomem;
    for (i = 0; i < LV_DAYS; i++) {
        h->days[i].day = -1;
        memset(h->days[i].census, 0xff, sizeof(h->days[i].census));
    }
    h->last_hour = INT64_MIN;
    h->boarder_alert = -1;
    if (lv_map_put(&l->hosp_map, lv_hash(0, code), l->nhosps) != CB_OK)
        goto nomem;
    *out = (int32_t)l->nhosps++;
    return CB_OK;
nomem:
    cb_free(h->days);
    name_free(&h->code);
    return CB_ERR_NOMEM;
}

int32_t
lv_ward_find(const struct cb_live *l, int32_t h, struct cb_str code)
{
    struct key_ctx k = { l, h, code };

    return lv_map_get(&l->ward_map, lv_hash((uint64_t)h, code), ward_eq, &k);
}

static bool
is_ed_level(struct cb_str level)
{
    return level.len == 2 && (level.ptr[0] == 'E' || level.ptr[0] == 'e')
           && (level.ptr[1] == 'D' || level.ptr[1] == 'd');
}

enum cb_err
lv_ward_get(struct cb_live *l, int32_t h, struct cb_str code, int32_t *out)
{
    struct lv_ward *w;
    enum cb_err rc;

    if ((*out = lv_ward_find(l, h, code)) >= 0)
        return CB_OK;
    if ((rc = grow(&l->wards, &l->cwards, l->nwards + 1, sizeof(*w))))
        return rc;
    w = &l->wards[l->nwards];
    memset(w, 0, sizeof(*w));
    w->hosp = h;
    w->alert = -1;
    if (lv_name_set(&w->code, code) != CB_OK
        || lv_name_set(&w->name, code) != CB_OK
        || lv_name_set(&w->level, CB_STR_LIT("general")) != CB_OK
        || push_index(&l->hosps[h].wards, &l->hosps[h].nwards,
                      &l->hosps[h].cwards, (int32_t)l->nwards) != CB_OK)
        goto nomem;
    if (lv_map_put(&l->ward_map, lv_hash((uint64_t)h, code), l->nwards)
        != CB_OK) {
        l->hosps[h].nwards--;
        goto nomem;
    }
    *out = (int32_t)l->nwards++;
    return CB_OK;
nomem:
    name_free(&w->code);
    name_free(&w->name);
    name_free(&w->level);
    return CB_ERR_NOMEM;
}

int32_t
lv_bed_find(const struct cb_live *l, int32_t w, struct cb_str label)
{
    struct key_ctx k = { l, w, label };

    return lv_map_get(&l->bed_map, lv_hash((uint64_t)w, label), bed_eq, &k);
}

enum cb_err
lv_bed_get(struct cb_live *l, int32_t w, struct cb_str room,
           struct cb_str bed, int32_t *out)
{
    char buf[2 * CB_ADT_ID_MAX + 2];
    struct cb_str label;
    struct lv_bed *b;
    struct lv_ward *wd;
    enum cb_err rc;

    if (room.len + bed.len + 1 > sizeof(buf) - 1)
        return CB_ERR_TOO_LARGE;
    if (room.len) {
        memcpy(buf, room.ptr, room.len);
        buf[room.len] = '-';
        memcpy(buf + room.len + 1, bed.ptr, bed.len);
        label = cb_str_make(buf, room.len + 1 + bed.len);
    } else {
        label = bed;
    }
    if ((*out = lv_bed_find(l, w, label)) >= 0)
        return CB_OK;
    if ((rc = grow(&l->beds, &l->cbeds, l->nbeds + 1, sizeof(*b))))
        return rc;
    b = &l->beds[l->nbeds];
    memset(b, 0, sizeof(*b));
    b->ward = w;
    b->occupant = -1;
    wd = &l->wards[w];
    if (lv_name_set(&b->label, label) != CB_OK
        || lv_name_set(&b->room, room) != CB_OK
        || push_index(&wd->beds, &wd->nbeds, &wd->cbeds, (int32_t)l->nbeds)
               != CB_OK)
        goto nomem;
    if (lv_map_put(&l->bed_map, lv_hash((uint64_t)w, label), l->nbeds)
        != CB_OK) {
        wd->nbeds--;
        goto nomem;
    }
    *out = (int32_t)l->nbeds++;
    return CB_OK;
nomem:
    name_free(&b->label);
    name_free(&b->room);
    return CB_ERR_NOMEM;
}

/* ------------------------------------------------------------ visits */

int32_t
lv_visit_find(const struct cb_live *l, int32_t h, struct cb_str vid)
{
    struct key_ctx k = { l, h, vid };

    return lv_map_get(&l->visit_map, lv_hash((uint64_t)h, vid), visit_eq,
                      &k);
}

int32_t
lv_patient_head(const struct cb_live *l, int32_t h, struct cb_str pid)
{
    struct key_ctx k = { l, h, pid };

    return lv_map_get(&l->patient_map, lv_hash((uint64_t)h, pid),
                      patient_eq, &k);
}

static uint64_t
patient_hash(const struct lv_visit *v)
{
    return lv_hash((uint64_t)v->hosp, cb_str_make(v->pid, v->pid_len));
}

/* Links v into its patient's list (v->pid set). */
static enum cb_err
patient_link(struct cb_live *l, int32_t vi)
{
    struct lv_visit *v = &l->visits[vi];
    int32_t head = lv_patient_head(l, v->hosp,
                                   cb_str_make(v->pid, v->pid_len));

    v->pprev = v->pnext = -1;
    if (head < 0)
        return lv_map_put(&l->patient_map, patient_hash(v), (uint32_t)vi);
    /* after the head: the map entry stays */
    v->pprev = head;
    v->pnext = l->visits[head].pnext;
    if (v->pnext >= 0)
        l->visits[v->pnext].pprev = vi;
    l->visits[head].pnext = vi;
    return CB_OK;
}

static void
patient_unlink(struct cb_live *l, int32_t vi)
{
    struct lv_visit *v = &l->visits[vi];
    uint64_t h = patient_hash(v);

    if (v->pprev >= 0) {
        l->visits[v->pprev].pnext = v->pnext;
        if (v->pnext >= 0)
            l->visits[v->pnext].pprev = v->pprev;
    } else {
        lv_map_del(&l->patient_map, h, (uint32_t)vi);
        if (v->pnext >= 0) {
            l->visits[v->pnext].pprev = -1;
            /* cannot fail: a slot was just freed */
            if (lv_map_put(&l->patient_map, h, (uint32_t)v->pnext) != CB_OK)
                CB_BUG("live: patient map lost an entry");
        }
    }
    v->pprev = v->pnext = -1;
}

enum cb_err
lv_visit_new(struct cb_live *l, int32_t h, struct cb_str vid,
             struct cb_str pid, int32_t *out)
{
    struct lv_visit *v;
    int32_t vi;
    uint32_t gen;
    enum cb_err rc;

    if (vid.len > CB_ADT_ID_MAX || pid.len > CB_ADT_ID_MAX)
        return CB_ERR_TOO_LARGE;
    if (l->free_visit >= 0) {
        vi = l->free_visit;
    } else {
        if ((rc = grow(&l->visits, &l->cvisits, l->nvisits + 1,
                       sizeof(*v))))
            return rc;
        vi = (int32_t)l->nvisits;
        l->visits[vi].gen = 0;
    }
    v = &l->visits[vi];
    gen = v->gen;
    if ((rc = lv_map_put(&l->visit_map, lv_hash((uint64_t)h, vid),
                         (uint32_t)vi)) != CB_OK)
        return rc;
    if (vi == l->free_visit)
        l->free_visit = v->pnext;
    else
        l->nvisits++;
    memset(v, 0, sizeof(*v));
    v->gen = gen;
    v->hosp = h;
    v->ward = v->bed = -1;
    v->xfer_from_ward = v->xfer_from_bed = -1;
    v->last_ward = v->last_bed = -1;
    v->state = LV_PREADMIT;   /* the caller sets the real state */
    memcpy(v->vid, vid.ptr, vid.len);
    v->vid_len = (uint8_t)vid.len;
    if (pid.len)
        memcpy(v->pid, pid.ptr, pid.len);
    v->pid_len = (uint8_t)pid.len;
    if ((rc = patient_link(l, vi)) != CB_OK) {
        lv_map_del(&l->visit_map, lv_hash((uint64_t)h, vid), (uint32_t)vi);
        v->state = LV_FREE;
        v->pnext = l->free_visit;
        l->free_visit = vi;
        return rc;
    }
    *out = vi;
    return CB_OK;
}

void
lv_visit_free(struct cb_live *l, int32_t vi)
{
    struct lv_visit *v = &l->visits[vi];

    if (v->bed >= 0 && l->beds[v->bed].occupant == vi)
        CB_BUG("live: freeing a visit still in a bed");
    patient_unlink(l, vi);
    lv_map_del(&l->visit_map,
               lv_hash((uint64_t)v->hosp, cb_str_make(v->vid, v->vid_len)),
               (uint32_t)vi);
    v->state = LV_FREE;
    v->gen++;
    v->pnext = l->free_visit;
    l->free_visit = vi;
}

enum cb_err
lv_visit_set_patient(struct cb_live *l, int32_t vi, struct cb_str pid)
{
    struct lv_visit *v = &l->visits[vi];

    if (pid.len > CB_ADT_ID_MAX)
        return CB_ERR_TOO_LARGE;
    patient_unlink(l, vi);
    memcpy(v->pid, pid.ptr, pid.len);
    v->pid_len = (uint8_t)pid.len;
    return patient_link(l, vi);
}

enum cb_err
lv_visit_rekey(struct cb_live *l, int32_t vi, struct cb_str vid)
{
    struct lv_visit *v = &l->visits[vi];
    enum cb_err rc;

    if (vid.len > CB_ADT_ID_MAX)
        return CB_ERR_TOO_LARGE;
    if (lv_visit_find(l, v->hosp, vid) >= 0)
        return CB_ERR_USAGE;
    if ((rc = lv_map_put(&l->visit_map, lv_hash((uint64_t)v->hosp, vid),
                         (uint32_t)vi)) != CB_OK)
        return rc;
    lv_map_del(&l->visit_map,
               lv_hash((uint64_t)v->hosp, cb_str_make(v->vid, v->vid_len)),
               (uint32_t)vi);
    memcpy(v->vid, vid.ptr, vid.len);
    v->vid_len = (uint8_t)vid.len;
    return CB_OK;
}

/* ------------------------------------------------------------ feeds */

enum cb_err
lv_feed_get(struct cb_live *l, int32_t h, struct cb_str sender, int32_t *out)
{
    struct key_ctx k = { l, h, sender };
    uint64_t hash = lv_hash((uint64_t)h, sender);
    struct lv_feed *f;
    struct lv_hosp *hp = &l->hosps[h];
    enum cb_err rc;

    if ((*out = lv_map_get(&l->feed_map, hash, feed_eq, &k)) >= 0)
        return CB_OK;
    if ((rc = grow(&l->feeds, &l->cfeeds, l->nfeeds + 1, sizeof(*f))))
        return rc;
    f = &l->feeds[l->nfeeds];
    memset(f, 0, sizeof(*f));
    f->hosp = h;
    f->alert = -1;
    if ((rc = lv_name_set(&f->sender, sender)) != CB_OK)
        return rc;
    if ((rc = push_index(&hp->feeds, &hp->nfeeds, &hp->cfeeds,
                         (int32_t)l->nfeeds)) != CB_OK
        || (rc = lv_map_put(&l->feed_map, hash, l->nfeeds)) != CB_OK) {
        if (rc == CB_ERR_NOMEM && hp->nfeeds
            && hp->feeds[hp->nfeeds - 1] == (int32_t)l->nfeeds)
            hp->nfeeds--;
        name_free(&f->sender);
        return rc;
    }
    *out = (int32_t)l->nfeeds++;
    return CB_OK;
}

/* ------------------------------------------------------------ expiry */

enum cb_err
lv_expiry_push(struct lv_expiry *e, int32_t idx, uint32_t gen)
{
    if (e->len == e->cap) {
        size_t n = e->cap ? e->cap * 2 : 256, i;
        void *q = cb_reallocarray(NULL, n, sizeof(*e->q));

        if (!q)
            return CB_ERR_NOMEM;
        for (i = 0; i < e->len; i++)
            memcpy((char *)q + i * sizeof(*e->q),
                   &e->q[(e->head + i) % e->cap], sizeof(*e->q));
        cb_free(e->q);
        e->q = q;
        e->cap = n;
        e->head = 0;
    }
    e->q[(e->head + e->len) % e->cap].idx = idx;
    e->q[(e->head + e->len) % e->cap].gen = gen;
    e->len++;
    return CB_OK;
}

/* ------------------------------------------------------------ beds */

bool
lv_bed_occupied(const struct lv_bed *b)
{
    return b->occupant >= 0 || b->status == 'O';
}

bool
lv_bed_blocked(const struct lv_bed *b)
{
    return !lv_bed_occupied(b) && b->status && strchr("CHKI", b->status);
}

int32_t
lv_ward_capacity(const struct lv_ward *w)
{
    return w->staffed > 0 ? w->staffed : (int32_t)w->nbeds;
}

int32_t
lv_ward_free(const struct lv_ward *w)
{
    int32_t f = lv_ward_capacity(w) - w->occupied - w->blocked;

    return f > 0 ? f : 0;
}

/* ------------------------------------------------------------ wards API */

static enum cb_err
set_ward(struct cb_live *l, const struct cb_live_ward_def *d)
{
    int32_t h, w;
    enum cb_err rc;
    struct lv_ward *wd;

    if (d->hospital.len == 0 || d->ward.len == 0
        || d->hospital.len > CB_ADT_ID_MAX || d->ward.len > CB_ADT_ID_MAX)
        return CB_ERR_USAGE;
    if ((rc = lv_hosp_get(l, d->hospital, &h)) != CB_OK
        || (rc = lv_ward_get(l, h, d->ward, &w)) != CB_OK)
        return rc;
    wd = &l->wards[w];
    if ((rc = lv_name_set(&wd->name, d->name.len ? d->name : d->ward))
        || (rc = lv_name_set(&wd->level, d->care_level.len
                                             ? d->care_level
                                             : CB_STR_LIT("general"))))
        return rc;
    wd->is_ed = is_ed_level(d->care_level);
    wd->beds_declared = (int32_t)(d->beds > INT32_MAX ? INT32_MAX : d->beds);
    wd->staffed = (int32_t)(d->staffed > INT32_MAX ? INT32_MAX : d->staffed);
    l->version++;
    return CB_OK;
}

enum cb_err
cb_live_set_ward(struct cb_live *l, const struct cb_live_ward_def *d)
{
    enum cb_err rc;

    pthread_rwlock_wrlock(&l->lock);
    rc = set_ward(l, d);
    pthread_rwlock_unlock(&l->lock);
    return rc;
}

struct wards_ctx {
    struct cb_live *l;
    int col[6];   /* hospital ward name care_level beds staffed */
};

static const char *const ward_cols[6] = {
    "hospital", "ward", "name", "care_level", "beds", "staffed"
};

static enum cb_err
wards_header(const struct cb_tsv_line *line, void *ctx, struct cb_buf *err)
{
    struct wards_ctx *c = ctx;
    int i;

    for (i = 0; i < 6; i++) {
        c->col[i] = cb_tsv_col(line, ward_cols[i]);
        if (c->col[i] < 0) {
            cb_errf(err, "%s:%lu: missing column '%s'", line->path,
                    line->lineno, ward_cols[i]);
            return CB_ERR_PROTO;
        }
    }
    return CB_OK;
}

static enum cb_err
wards_line(const struct cb_tsv_line *line, void *ctx, struct cb_buf *err)
{
    struct wards_ctx *c = ctx;
    struct cb_live_ward_def d;
    struct cb_str v[6];
    int64_t n[2];
    int i;
    enum cb_err rc;

    for (i = 0; i < 6; i++) {
        if ((size_t)c->col[i] >= line->ncols) {
            cb_errf(err, "%s:%lu: missing field '%s'", line->path,
                    line->lineno, ward_cols[i]);
            return CB_ERR_PROTO;
        }
        v[i] = cb_str_trim(line->col[c->col[i]]);
    }
    for (i = 0; i < 2; i++)
        if (cb_parse_i64(v[4 + i], &n[i]) != CB_OK || n[i] < 0
            || n[i] > 100000) {
            cb_errf(err, "%s:%lu: field '%s': not a bed count", line->path,
                    line->lineno, ward_cols[4 + i]);
            return CB_ERR_PROTO;
        }
    d.hospital = v[0];
    d.ward = v[1];
    d.name = v[2];
    d.care_level = v[3];
    d.beds = (unsigned)n[0];
    d.staffed = (unsigned)n[1];
    rc = set_ward(c->l, &d);
    if (rc == CB_ERR_USAGE) {
        cb_errf(err, "%s:%lu: hospital and ward must be 1 to %d bytes",
                line->path, line->lineno, CB_ADT_ID_MAX);
        return CB_ERR_PROTO;
    }
    if (rc != CB_OK)
        cb_errf(err, "%s:%lu: %s", line->path, line->lineno,
                cb_strerror(rc));
    return rc;
}

enum cb_err
cb_live_load_wards(struct cb_live *l, const char *path, struct cb_buf *err)
{
    struct wards_ctx c;
    enum cb_err rc;
    bool had_header;

    memset(&c, 0, sizeof(c));
    c.l = l;
    c.col[0] = -1;
    pthread_rwlock_wrlock(&l->lock);
    rc = cb_tsv_read(path, wards_header, wards_line, &c, err);
    pthread_rwlock_unlock(&l->lock);
    had_header = c.col[0] >= 0;
    if (rc == CB_OK && !had_header) {
        cb_errf(err, "%s: no header line", path);
        rc = CB_ERR_PROTO;
    }
    return rc;
}

/* ------------------------------------------------------------ lifecycle */

enum cb_err
cb_live_new(const struct cb_live_config *cfg, struct cb_live **out)
{
    struct cb_live *l = cb_calloc(1, sizeof(*l));

    *out = NULL;
    if (!l)
        return CB_ERR_NOMEM;
    if (cfg)
        l->cfg = *cfg;
    else
        cb_live_config_default(&l->cfg);
    if (l->cfg.alert_history == 0)
        l->cfg.alert_history = 1;
    l->history = cb_calloc(l->cfg.alert_history, sizeof(*l->history));
    if (!l->history) {
        cb_free(l);
        return CB_ERR_NOMEM;
    }
    l->free_visit = -1;
    l->watermark_ms = INT64_MIN;
    if (pthread_rwlock_init(&l->lock, NULL) != 0) {
        cb_free(l->history);
        cb_free(l);
        return CB_ERR_NOMEM;
    }
    *out = l;
    return CB_OK;
}

void
cb_live_free(struct cb_live *l)
{
    uint32_t i;

    if (!l)
        return;
    for (i = 0; i < l->nhosps; i++) {
        name_free(&l->hosps[i].code);
        cb_free(l->hosps[i].wards);
        cb_free(l->hosps[i].feeds);
        cb_free(l->hosps[i].days);
    }
    for (i = 0; i < l->nwards; i++) {
        name_free(&l->wards[i].code);
        name_free(&l->wards[i].name);
        name_free(&l->wards[i].level);
        cb_free(l->wards[i].beds);
    }
    for (i = 0; i < l->nbeds; i++) {
        name_free(&l->beds[i].label);
        name_free(&l->beds[i].room);
    }
    for (i = 0; i < l->nfeeds; i++)
        name_free(&l->feeds[i].sender);
    cb_free(l->hosps);
    cb_free(l->wards);
    cb_free(l->beds);
    cb_free(l->visits);
    cb_free(l->feeds);
    lv_map_release(&l->hosp_map);
    lv_map_release(&l->ward_map);
    lv_map_release(&l->bed_map);
    lv_map_release(&l->visit_map);
    lv_map_release(&l->patient_map);
    lv_map_release(&l->feed_map);
    cb_free(l->discharged.q);
    cb_free(l->preadmitted.q);
    lv_alert_release(l);
    pthread_rwlock_destroy(&l->lock);
    cb_free(l);
}

uint64_t
cb_live_version(struct cb_live *l)
{
    uint64_t v;

    pthread_rwlock_rdlock(&l->lock);
    v = l->version;
    pthread_rwlock_unlock(&l->lock);
    return v;
}

int64_t
cb_live_last_seq(struct cb_live *l)
{
    int64_t v;

    pthread_rwlock_rdlock(&l->lock);
    v = l->last_seq;
    pthread_rwlock_unlock(&l->lock);
    return v;
}
