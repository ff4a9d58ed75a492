/*
 * drg_int.h - the compiled form of a DRG rule package, shared by the loader
 * (drg_load.c, drg_rules.c), the grouper (drg_group.c) and the trace
 * renderer (drg_explain.c).
 *
 * Codes are interned: every code that appears in a list, in the CC/MCC and
 * exclusion tables or in the translation maps gets a dense id. For each code
 * the scheme keeps the sorted ids of the lists it belongs to, its CC/MCC
 * level and table, its exclusion table as a principal, and its translation
 * targets. Grouping turns a record's codes into five list-hit bitsets
 * (principal, all diagnoses, secondaries, main procedure, all procedures),
 * so that every list predicate is one bit test.
 *
 * Conditions are a flat array of nodes in pre-order; node.end is the index
 * just past the node's subtree, so the arguments of all/any/not are the
 * nodes i+1, then node[i+1].end, ... up to node[i].end.
 */
#ifndef CB_DRG_INT_H
#define CB_DRG_INT_H

#include <stdint.h>

#include "carebase/drg.h"
#include "carebase/strmap.h"

enum drg_op {
    OP_TRUE, OP_FALSE, OP_ALL, OP_ANY, OP_NOT,
    OP_PDX_IN, OP_DX_ANY_IN, OP_SDX_ANY_IN, OP_PPX_IN, OP_PX_ANY_IN,
    OP_NUM, OP_STR_EQ, OP_STR_IN, OP_EMPTY, OP_MCC, OP_CC,
    OP_LISTS_HIT, OP_COUNT_IN,
    OP__N
};

/* Scalar record fields (FORMAT.md §3). The first four are numeric-capable. */
enum drg_field {
    FLD_AGE, FLD_AGE_DAYS, FLD_WEIGHT, FLD_LOS,
    FLD_SEX, FLD_DEPT, FLD_LEAVING_TYPE, FLD_INDEX,
    FLD__N
};
#define FLD__NUM 4

enum drg_cmp { CMP_EQ, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

/* The five list-hit bitsets of a record. */
enum drg_set { SET_PDX, SET_DX, SET_SDX, SET_PPX, SET_PX, SET__N };

struct drg_node {
    uint8_t  op;     /* enum drg_op */
    uint8_t  field;  /* enum drg_field (num, str_eq, str_in, empty) */
    uint8_t  cmp;    /* enum drg_cmp (num) */
    uint8_t  flat;   /* all/any whose arguments are all leaf tests (fast path) */
    uint32_t list;   /* list id; lists_hit: index of its mask */
    uint32_t end;    /* index just past this subtree */
    int32_t  min;    /* lists_hit, count_in */
    double   value;  /* num */
    struct cb_str str; /* str_eq value */
};

struct drg_mdc {
    const char *code;       /* "MDCA" */
    uint32_t    when;       /* node index */
    int         rule_begin, rule_end;
};

struct drg_rule {
    const char *id;         /* "AH1_1" */
    const char *adrg;       /* "AH1" */
    uint32_t    when;
    int         drg_begin, drg_end;  /* into scheme.rule_drgs */
    int         mdc;
};

struct drg_drg {
    const char *code;
    uint32_t    when;
};

struct drg_check {
    enum cb_drg_status status;
    const char *message;
    uint32_t    when;
};

enum drg_norm_op { NORM_MAP, NORM_TRUNC_DOT, NORM_TRUNC_DOT_ELSE_MAP };

struct drg_norm {
    enum drg_norm_op op;
    enum drg_field   field;
    int              nmap;
    struct cb_str   *from, *to;
};

/*
 * One interned code: its key (up to DRG_KEY_MAX bytes, zero-padded, for
 * the lookup's final comparison) and everything grouping reads about it,
 * in one 32-byte entry, so that a lookup costs one cache miss and the
 * table of a national scheme (about 50,000 codes) fits in 1.6 MB. About 1 %
 * of codes are longer (dagger-asterisk pairs); they are found through
 * code_ids.
 */
#define DRG_KEY_MAX 16
struct drg_code {
    uint64_t k[2];
    uint8_t  len;           /* key length; 0 when longer than DRG_KEY_MAX */
    int8_t   cc_level;      /* 0 none, 1 CC, 2 MCC */
    uint16_t nmemb;
    uint32_t memb;          /* offset of its sorted list ids in scheme.memb */
    int16_t  cc_table;      /* table id as a secondary, -1 none */
    int16_t  excl_table;    /* exclusion table as a principal, -1 none */
};
_Static_assert(sizeof(struct drg_code) == 32, "a code entry is half a cache line");

/*
 * The code table: open addressing with linear probing over 32-bit slots,
 * each (hash tag << DRG_ID_BITS | id + 1), 0 = empty; the table stays small
 * enough for the L2 cache and the key comparison reads the code entry,
 * which the grouper needs next anyway. Codes longer than DRG_KEY_MAX bytes
 * (none in the national packages) are found through code_ids instead.
 */
#define DRG_ID_BITS 20
#define DRG_MAX_CODES ((1 << DRG_ID_BITS) - 1)

struct cb_drg_scheme {
    char  *dir;
    char  *id, *name;
    char   digest[65];

    /* interned codes */
    struct cb_strmap code_ids;
    uint32_t        *slots;
    uint32_t         slot_mask;
    bool             long_codes;   /* some code is longer than DRG_KEY_MAX */
    struct drg_code *codes;
    int32_t        (*map_to)[2];   /* translation target per code, dx / px; -1 absent */
    struct cb_str   *code_str;
    int              ncodes;
    uint16_t        *memb;
    size_t           nmemb;

    /* lists */
    struct cb_strmap list_ids;
    char           **list_name;
    int              nlists;
    int              nwords;       /* 64-bit words per bitset */
    uint64_t        *masks;        /* lists_hit masks, nwords each */
    int              nmasks;

    /* exclusion tables */
    struct cb_strmap table_ids;
    char           **table_name;
    int              ntables;
    int              ncc, nmcc, nexcl;

    /* the program */
    struct drg_node  *nodes;
    uint32_t          nnodes;
    struct drg_check *checks;
    int               nchecks;
    struct drg_norm  *norms;
    int               nnorms;
    bool              norm_touches_num;
    uint8_t           num_used;       /* numeric fields some condition reads */
    struct drg_mdc   *mdcs;
    int               nmdcs;
    struct drg_rule  *rules;
    int               nrules;
    int              *rule_drgs;
    int               nrule_drgs;
    int               max_rule_drgs;
    struct drg_drg   *drgs;
    int               ndrgs;
    struct cb_strmap  drg_ids;

    /* names (dict/) */
    bool              has_maps, has_dicts;
    struct cb_strmap  names[3];    /* drg, dx, px -> offset into name_blob */
    char             *name_blob;
    size_t            name_len, name_cap;

    size_t            memory;
    int               list_entries;
};

/* Per-record state held in the work (see drg.h). */
#define W_SET(w, k) ((w)->bits + (size_t)(k) * (size_t)(w)->nwords)

static inline uint64_t
drg_key_hash(const uint64_t k[2], uint32_t len)
{
    uint64_t h = (k[0] ^ 0x9E3779B97F4A7C15u) * 0xBF58476D1CE4E5B9u;
    h = (h ^ (h >> 31) ^ k[1] ^ len) * 0x94D049BB133111EBu;
    return h ^ (h >> 29);
}

static inline uint64_t
drg_load64(const void *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t
drg_load32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * Loads a code of at most DRG_KEY_MAX bytes into a zero-padded key with
 * whole-word loads that stay inside the code (overlapping at the end, as
 * little-endian words), so no byte-wise copy stalls the hash that follows.
 */
static inline void
drg_key_load(uint64_t k[2], struct cb_str code)
{
    const unsigned char *p = (const unsigned char *)code.ptr;
    size_t n = code.len;
    if (n >= 8) {
        k[0] = drg_load64(p);
        k[1] = n > 8 ? drg_load64(p + n - 8) >> (8 * (16 - n)) : 0;
    } else if (n >= 4) {
        k[0] = drg_load32(p) | drg_load32(p + n - 4) << (8 * (n - 4));
        k[1] = 0;
    } else {
        k[0] = n ? (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
                   (uint64_t)p[n - 1] << (8 * (n - 1)) : 0;
        k[1] = 0;
    }
}

/* Probes the code table from slot i (h = the key's hash). */
static inline int32_t
drg_probe(const struct cb_drg_scheme *s, uint64_t h, const uint64_t k[2],
          uint32_t len)
{
    uint32_t tag = (uint32_t)(h >> (64 - (32 - DRG_ID_BITS)));
    for (uint32_t i = (uint32_t)h & s->slot_mask;; i = (i + 1) & s->slot_mask) {
        uint32_t v = s->slots[i];
        if (!v)
            return -1;
        if (v >> DRG_ID_BITS != tag)
            continue;
        int32_t id = (int32_t)(v & DRG_MAX_CODES) - 1;
        const struct drg_code *c = &s->codes[id];
        if (c->k[0] == k[0] && c->k[1] == k[1] && c->len == len)
            return id;
    }
}

/* The id of a code, or -1 (unknown or empty). */
static inline int32_t
drg_code_lookup(const struct cb_drg_scheme *s, struct cb_str code)
{
    if (!code.len)
        return -1;
    if (code.len > DRG_KEY_MAX) {
        uint32_t v;
        return s->long_codes && cb_strmap_get(&s->code_ids, code, &v) ? (int32_t)v : -1;
    }
    uint64_t k[2];
    drg_key_load(k, code);
    return drg_probe(s, drg_key_hash(k, (uint32_t)code.len), k, (uint32_t)code.len);
}

/* drg_num.c */
double cb__drg_number(struct cb_str s);

/* drg_group.c: condition evaluation, shared with the trace renderer. */
bool cb__drg_eval(const struct cb_drg_scheme *s, const struct cb_drg_work *w,
                  uint32_t node);
int  cb__drg_lists_hit(const struct cb_drg_scheme *s, const struct cb_drg_work *w,
                       uint32_t node);
int  cb__drg_count_in(const struct cb_drg_scheme *s, const struct cb_drg_work *w,
                      uint32_t node);
bool cb__drg_code_in(const struct cb_drg_scheme *s, int32_t code, uint32_t list);

/* drg_rules.c: compiles rules.json into s (called by the loader). */
enum cb_err cb__drg_compile_rules(struct cb_drg_scheme *s, const char *text,
                                  size_t len, struct cb_buf *err);

extern const char *const cb__drg_field_names[FLD__N];
extern const char *const cb__drg_op_names[OP__N];
extern const char *const cb__drg_cmp_names[5];

#endif
