/*
 * drg_rules.c - compiles rules.json (FORMAT.md §7-§8) into the scheme's
 * flat condition program, MDC/rule/DRG tables, checks and normalisation
 * steps. Every error names rules.json and the JSON path of the entry.
 */
#include <jansson.h>
#include <math.h>

#include "carebase/alloc.h"
#include "drg/drg_int.h"

const char *const cb__drg_field_names[FLD__N] = {
    "age", "age_days", "weight", "los", "sex", "dept", "leaving_type", "index"
};
const char *const cb__drg_op_names[OP__N] = {
    "true", "false", "all", "any", "not",
    "pdx_in", "dx_any_in", "sdx_any_in", "ppx_in", "px_any_in",
    "num", "str_eq", "str_in", "empty", "mcc", "cc", "lists_hit", "count_in"
};
const char *const cb__drg_cmp_names[5] = { "==", "<", "<=", ">", ">=" };

struct compiler {
    struct cb_drg_scheme *s;
    struct cb_buf        *err;
    size_t                node_cap;
    size_t                mask_cap;
    char                  path[256];
};

static enum cb_err
fail(struct compiler *c, const char *fmt, const char *arg)
{
    cb_errf(c->err, "rules.json: %s: ", c->path);
    if (cb_buf_addf(c->err, fmt, arg)) { /* the message is best effort */ }
    return CB_ERR_PROTO;
}

/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
static size_t
path_push(struct compiler *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static size_t
path_push(struct compiler *c, const char *fmt, ...)
{
    size_t n = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(c->path + n, sizeof c->path - n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof c->path - n)
        c->path[n] = '\0';
    return n;
}

static void
path_pop(struct compiler *c, size_t n)
{
    c->path[n] = '\0';
}

static char *
dup_str(struct compiler *c, const char *z)
{
    char *p = cb_strdup(z);
    if (p)
        c->s->memory += strlen(z) + 1;
    return p;
}

static int
field_by_name(const char *z)
{
    for (int i = 0; i < FLD__N; i++)
        if (!strcmp(z, cb__drg_field_names[i]))
            return i;
    return -1;
}

static enum cb_err
new_node(struct compiler *c, uint32_t *out)
{
    struct cb_drg_scheme *s = c->s;
    if (s->nnodes == c->node_cap) {
        size_t cap = c->node_cap ? c->node_cap * 2 : 256;
        struct drg_node *n = cb_reallocarray(s->nodes, cap, sizeof *n);
        if (!n)
            return CB_ERR_NOMEM;
        s->nodes = n;
        c->node_cap = cap;
    }
    *out = s->nnodes++;
    memset(&s->nodes[*out], 0, sizeof s->nodes[*out]);
    return CB_OK;
}

static enum cb_err
list_ref(struct compiler *c, json_t *cond, const char *member, uint32_t *list)
{
    json_t *v = json_object_get(cond, member);
    if (!json_is_string(v))
        return fail(c, "member \"%s\" must be a list name", member);
    uint32_t id;
    if (!cb_strmap_get(&c->s->list_ids, cb_str_c(json_string_value(v)), &id))
        return fail(c, "unknown list \"%s\" (not in lists_index.tsv)",
                    json_string_value(v));
    *list = id;
    return CB_OK;
}

static enum cb_err
int_member(struct compiler *c, json_t *cond, const char *member, int32_t *out)
{
    json_t *v = json_object_get(cond, member);
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > INT32_MAX)
        return fail(c, "member \"%s\" must be a non-negative integer", member);
    *out = (int32_t)json_integer_value(v);
    return CB_OK;
}

static enum cb_err
field_member(struct compiler *c, json_t *cond, bool numeric, uint8_t *out)
{
    json_t *v = json_object_get(cond, "field");
    if (!json_is_string(v))
        return fail(c, "member \"%s\" must be a field name", "field");
    int f = field_by_name(json_string_value(v));
    if (f < 0 || (numeric && f >= FLD__NUM))
        return fail(c, numeric ? "unknown numeric field \"%s\""
                               : "unknown field \"%s\"", json_string_value(v));
    *out = (uint8_t)f;
    return CB_OK;
}

static enum cb_err compile_cond(struct compiler *c, json_t *cond, uint32_t *out);

static enum cb_err
compile_args(struct compiler *c, json_t *cond)
{
    json_t *args = json_object_get(cond, "args");
    if (!json_is_array(args) || json_array_size(args) < 1)
        return fail(c, "member \"%s\" must be a non-empty array of conditions",
                    "args");
    for (size_t i = 0; i < json_array_size(args); i++) {
        size_t mark = path_push(c, ".args[%zu]", i);
        uint32_t child;
        enum cb_err rc = compile_cond(c, json_array_get(args, i), &child);
        if (rc)
            return rc;
        path_pop(c, mark);
    }
    return CB_OK;
}

static enum cb_err
compile_lists_hit(struct compiler *c, json_t *cond, struct drg_node *n)
{
    struct cb_drg_scheme *s = c->s;
    json_t *lists = json_object_get(cond, "lists");
    if (!json_is_array(lists) || !json_array_size(lists))
        return fail(c, "member \"%s\" must be a non-empty array of list names",
                    "lists");
    if ((size_t)s->nmasks == c->mask_cap) {
        size_t cap = c->mask_cap ? c->mask_cap * 2 : 4;
        uint64_t *m = cb_reallocarray(s->masks, cap * (size_t)s->nwords,
                                      sizeof *m);
        if (!m)
            return CB_ERR_NOMEM;
        s->masks = m;
        c->mask_cap = cap;
    }
    uint64_t *mask = s->masks + (size_t)s->nmasks * (size_t)s->nwords;
    memset(mask, 0, (size_t)s->nwords * sizeof *mask);
    for (size_t i = 0; i < json_array_size(lists); i++) {
        json_t *v = json_array_get(lists, i);
        uint32_t id;
        if (!json_is_string(v))
            return fail(c, "member \"%s\" must hold list names", "lists");
        if (!cb_strmap_get(&s->list_ids, cb_str_c(json_string_value(v)), &id))
            return fail(c, "unknown list \"%s\" (not in lists_index.tsv)",
                        json_string_value(v));
        mask[id / 64] |= (uint64_t)1 << (id % 64);
    }
    n->list = (uint32_t)s->nmasks++;
    s->memory += (size_t)s->nwords * sizeof *mask;
    return CB_OK;
}

static enum cb_err
compile_cond(struct compiler *c, json_t *cond, uint32_t *out)
{
    struct cb_drg_scheme *s = c->s;
    if (!json_is_object(cond))
        return fail(c, "%s", "a condition must be a JSON object");
    json_t *opv = json_object_get(cond, "op");
    if (!json_is_string(opv))
        return fail(c, "%s", "a condition needs a string member \"op\"");
    const char *opz = json_string_value(opv);
    int op = -1;
    for (int i = 0; i < OP__N; i++)
        if (!strcmp(opz, cb__drg_op_names[i]))
            op = i;
    if (op < 0)
        return fail(c, "unknown op \"%s\"", opz);

    uint32_t id;
    enum cb_err rc = new_node(c, &id);
    if (rc)
        return rc;
    struct drg_node n = { .op = (uint8_t)op };
    switch ((enum drg_op)op) {
    case OP_TRUE: case OP_FALSE: case OP_MCC: case OP_CC:
        break;
    case OP_ALL: case OP_ANY:
        if ((rc = compile_args(c, cond)))
            return rc;
        break;
    case OP_NOT: {
        size_t mark = path_push(c, ".arg");
        uint32_t child;
        if ((rc = compile_cond(c, json_object_get(cond, "arg"), &child)))
            return rc;
        path_pop(c, mark);
        break;
    }
    case OP_PDX_IN: case OP_DX_ANY_IN: case OP_SDX_ANY_IN:
    case OP_PPX_IN: case OP_PX_ANY_IN:
        if ((rc = list_ref(c, cond, "list", &n.list)))
            return rc;
        break;
    case OP_NUM: {
        if ((rc = field_member(c, cond, true, &n.field)))
            return rc;
        s->num_used |= (uint8_t)(1u << n.field);
        json_t *cmp = json_object_get(cond, "cmp");
        int k = -1;
        for (int i = 0; json_is_string(cmp) && i < 5; i++)
            if (!strcmp(json_string_value(cmp), cb__drg_cmp_names[i]))
                k = i;
        if (k < 0)
            return fail(c, "unknown comparison \"%s\"",
                        json_is_string(cmp) ? json_string_value(cmp) : "?");
        n.cmp = (uint8_t)k;
        json_t *v = json_object_get(cond, "value");
        if (!json_is_number(v))
            return fail(c, "member \"%s\" must be a number", "value");
        n.value = json_number_value(v);
        break;
    }
    case OP_STR_EQ: {
        if ((rc = field_member(c, cond, false, &n.field)))
            return rc;
        json_t *v = json_object_get(cond, "value");
        if (!json_is_string(v))
            return fail(c, "member \"%s\" must be a string", "value");
        char *z = dup_str(c, json_string_value(v));
        if (!z)
            return CB_ERR_NOMEM;
        n.str = cb_str_make(z, json_string_length(v));
        break;
    }
    case OP_STR_IN:
        if ((rc = field_member(c, cond, false, &n.field)) ||
            (rc = list_ref(c, cond, "list", &n.list)))
            return rc;
        break;
    case OP_EMPTY:
        if ((rc = field_member(c, cond, false, &n.field)))
            return rc;
        break;
    case OP_LISTS_HIT: case OP_COUNT_IN: {
        json_t *f = json_object_get(cond, "field");
        if (!json_is_string(f) || strcmp(json_string_value(f), "dx"))
            return fail(c, "member \"field\" must be \"%s\"", "dx");
        if ((rc = int_member(c, cond, "min", &n.min)))
            return rc;
        rc = op == OP_LISTS_HIT ? compile_lists_hit(c, cond, &n)
                                : list_ref(c, cond, "list", &n.list);
        if (rc)
            return rc;
        break;
    }
    case OP__N:
        break;
    }
    n.end = s->nnodes;
    if (n.op == OP_ALL || n.op == OP_ANY) {
        /* Flat when every argument is a leaf the grouper tests inline. */
        n.flat = 1;
        for (uint32_t k = id + 1; k < n.end; k = s->nodes[k].end) {
            uint8_t o = s->nodes[k].op;
            if (!((o >= OP_PDX_IN && o <= OP_PX_ANY_IN) || o == OP_MCC || o == OP_CC ||
                  o == OP_TRUE || o == OP_FALSE || o == OP_NUM || o == OP_STR_EQ))
                n.flat = 0;
        }
    }
    s->nodes[id] = n;
    *out = id;
    return CB_OK;
}

static enum cb_err
compile_when(struct compiler *c, json_t *obj, uint32_t *out)
{
    size_t mark = path_push(c, ".when");
    enum cb_err rc = compile_cond(c, json_object_get(obj, "when"), out);
    if (!rc)
        path_pop(c, mark);
    return rc;
}

static const char *
string_member(struct compiler *c, json_t *obj, const char *member)
{
    json_t *v = json_object_get(obj, member);
    if (!json_is_string(v) || !json_string_length(v)) {
        fail(c, "member \"%s\" must be a non-empty string", member);
        return NULL;
    }
    return json_string_value(v);
}

static enum cb_err
compile_checks(struct compiler *c, json_t *root)
{
    struct cb_drg_scheme *s = c->s;
    json_t *checks = json_object_get(root, "checks");
    snprintf(c->path, sizeof c->path, "checks");
    if (!checks)
        return CB_OK;
    if (!json_is_array(checks))
        return fail(c, "%s", "must be an array");
    s->nchecks = (int)json_array_size(checks);
    s->checks = cb_calloc((size_t)s->nchecks + 1, sizeof *s->checks);
    if (!s->checks)
        return CB_ERR_NOMEM;
    for (int i = 0; i < s->nchecks; i++) {
        json_t *e = json_array_get(checks, (size_t)i);
        snprintf(c->path, sizeof c->path, "checks[%d]", i);
        const char *st = string_member(c, e, "status");
        if (!st)
            return CB_ERR_PROTO;
        if (!cb_drg_status_parse(cb_str_c(st), &s->checks[i].status))
            return fail(c, "unknown status \"%s\"", st);
        json_t *msg = json_object_get(e, "message");
        s->checks[i].message = dup_str(c, json_is_string(msg)
                                              ? json_string_value(msg) : "");
        if (!s->checks[i].message)
            return CB_ERR_NOMEM;
        enum cb_err rc = compile_when(c, e, &s->checks[i].when);
        if (rc)
            return rc;
    }
    return CB_OK;
}

static enum cb_err
compile_map(struct compiler *c, json_t *e, struct drg_norm *n)
{
    json_t *map = json_object_get(e, "map");
    if (!json_is_object(map))
        return fail(c, "member \"%s\" must be an object of strings", "map");
    n->nmap = (int)json_object_size(map);
    n->from = cb_calloc((size_t)n->nmap + 1, sizeof *n->from);
    n->to = cb_calloc((size_t)n->nmap + 1, sizeof *n->to);
    if (!n->from || !n->to)
        return CB_ERR_NOMEM;
    const char *k;
    json_t *v;
    int i = 0;
    json_object_foreach(map, k, v) {
        if (!json_is_string(v))
            return fail(c, "map value of \"%s\" must be a string", k);
        char *fz = dup_str(c, k), *tz = dup_str(c, json_string_value(v));
        if (!fz || !tz) {
            cb_free(fz);
            cb_free(tz);
            return CB_ERR_NOMEM;
        }
        n->from[i] = cb_str_c(fz);
        n->to[i] = cb_str_make(tz, json_string_length(v));
        i++;
    }
    return CB_OK;
}

static enum cb_err
compile_normalize(struct compiler *c, json_t *root)
{
    struct cb_drg_scheme *s = c->s;
    json_t *norm = json_object_get(root, "normalize");
    snprintf(c->path, sizeof c->path, "normalize");
    if (!norm)
        return CB_OK;
    if (!json_is_array(norm))
        return fail(c, "%s", "must be an array");
    s->nnorms = (int)json_array_size(norm);
    s->norms = cb_calloc((size_t)s->nnorms + 1, sizeof *s->norms);
    if (!s->norms)
        return CB_ERR_NOMEM;
    for (int i = 0; i < s->nnorms; i++) {
        json_t *e = json_array_get(norm, (size_t)i);
        struct drg_norm *n = &s->norms[i];
        snprintf(c->path, sizeof c->path, "normalize[%d]", i);
        uint8_t f;
        enum cb_err rc = field_member(c, e, false, &f);
        if (rc)
            return rc;
        n->field = (enum drg_field)f;
        if (f < FLD__NUM)
            s->norm_touches_num = true;
        const char *op = string_member(c, e, "op");
        if (!op)
            return CB_ERR_PROTO;
        if (!strcmp(op, "map"))
            n->op = NORM_MAP;
        else if (!strcmp(op, "truncate_at_dot"))
            n->op = NORM_TRUNC_DOT;
        else if (!strcmp(op, "truncate_at_dot_else_map"))
            n->op = NORM_TRUNC_DOT_ELSE_MAP;
        else
            return fail(c, "unknown normalisation op \"%s\"", op);
        if (n->op != NORM_TRUNC_DOT && (rc = compile_map(c, e, n)))
            return rc;
    }
    return CB_OK;
}

/* Checks that a result code fits the result's fixed-size fields. */
static enum cb_err
check_code(struct compiler *c, const char *what, const char *code)
{
    if (strlen(code) >= CB_DRG_CODE_MAX || strlen(code) < 3)
        return fail(c, what, code);
    return CB_OK;
}

static enum cb_err
compile_drgs(struct compiler *c, json_t *root)
{
    struct cb_drg_scheme *s = c->s;
    json_t *drgs = json_object_get(root, "drgs");
    snprintf(c->path, sizeof c->path, "drgs");
    if (!json_is_object(drgs))
        return fail(c, "%s", "must be an object of DRG split conditions");
    s->ndrgs = (int)json_object_size(drgs);
    s->drgs = cb_calloc((size_t)s->ndrgs + 1, sizeof *s->drgs);
    if (!s->drgs)
        return CB_ERR_NOMEM;
    const char *code;
    json_t *e;
    int i = 0;
    json_object_foreach(drgs, code, e) {
        snprintf(c->path, sizeof c->path, "drgs.%s", code);
        enum cb_err rc = check_code(c, "DRG code \"%s\" must have 3 to 15 bytes", code);
        if (rc)
            return rc;
        if (!json_is_object(e))
            return fail(c, "%s", "must be an object with a \"when\" condition");
        if (!(s->drgs[i].code = dup_str(c, code)))
            return CB_ERR_NOMEM;
        if ((rc = compile_when(c, e, &s->drgs[i].when)) ||
            (rc = cb_strmap_put(&s->drg_ids, cb_str_c(code), (uint32_t)i)))
            return rc;
        i++;
    }
    return CB_OK;
}

static enum cb_err
compile_rule(struct compiler *c, json_t *e, int mdc, struct cb_strmap *rule_ids,
             size_t *rd_cap)
{
    struct cb_drg_scheme *s = c->s;
    struct drg_rule *r = &s->rules[s->nrules];
    const char *id = string_member(c, e, "id");
    const char *adrg = id ? string_member(c, e, "adrg") : NULL;
    if (!adrg)
        return CB_ERR_PROTO;
    if (cb_strmap_has(rule_ids, cb_str_c(id)))
        return fail(c, "duplicate rule id \"%s\"", id);
    enum cb_err rc = check_code(c, "ADRG code \"%s\" must have 3 to 15 bytes", adrg);
    if (rc || (rc = cb_strmap_put(rule_ids, cb_str_c(id), 0)))
        return rc;
    s->nrules++;  /* counted now, so that the scheme's free sees its strings */
    if (!(r->id = dup_str(c, id)) || !(r->adrg = dup_str(c, adrg)))
        return CB_ERR_NOMEM;
    r->mdc = mdc;
    if ((rc = compile_when(c, e, &r->when)))
        return rc;
    json_t *drgs = json_object_get(e, "drgs");
    if (!json_is_array(drgs))
        return fail(c, "member \"%s\" must be an array of DRG codes", "drgs");
    r->drg_begin = s->nrule_drgs;
    for (size_t i = 0; i < json_array_size(drgs); i++) {
        json_t *d = json_array_get(drgs, i);
        uint32_t di;
        if (!json_is_string(d))
            return fail(c, "member \"%s\" must hold DRG codes", "drgs");
        if (!cb_strmap_get(&s->drg_ids, cb_str_c(json_string_value(d)), &di))
            return fail(c, "DRG \"%s\" has no split condition in \"drgs\"",
                        json_string_value(d));
        if ((size_t)s->nrule_drgs == *rd_cap) {
            size_t cap = *rd_cap ? *rd_cap * 2 : 1024;
            int *p = cb_reallocarray(s->rule_drgs, cap, sizeof *p);
            if (!p)
                return CB_ERR_NOMEM;
            s->rule_drgs = p;
            *rd_cap = cap;
        }
        s->rule_drgs[s->nrule_drgs++] = (int)di;
    }
    r->drg_end = s->nrule_drgs;
    if (r->drg_end - r->drg_begin > s->max_rule_drgs)
        s->max_rule_drgs = r->drg_end - r->drg_begin;
    return CB_OK;
}

static enum cb_err
compile_mdcs(struct compiler *c, json_t *root)
{
    struct cb_drg_scheme *s = c->s;
    json_t *mdcs = json_object_get(root, "mdcs");
    snprintf(c->path, sizeof c->path, "mdcs");
    if (!json_is_array(mdcs) || !json_array_size(mdcs))
        return fail(c, "%s", "must be a non-empty array");
    size_t nrules = 0;
    for (size_t i = 0; i < json_array_size(mdcs); i++)
        nrules += json_array_size(json_object_get(json_array_get(mdcs, i), "rules"));
    s->nmdcs = (int)json_array_size(mdcs);
    s->mdcs = cb_calloc((size_t)s->nmdcs, sizeof *s->mdcs);
    s->rules = cb_calloc(nrules + 1, sizeof *s->rules);
    if (!s->mdcs || !s->rules)
        return CB_ERR_NOMEM;

    struct cb_strmap mdc_ids, rule_ids;
    cb_strmap_init(&mdc_ids);
    cb_strmap_init(&rule_ids);
    size_t rd_cap = 0;
    enum cb_err rc = CB_OK;
    for (int i = 0; i < s->nmdcs && !rc; i++) {
        json_t *e = json_array_get(mdcs, (size_t)i);
        struct drg_mdc *m = &s->mdcs[i];
        snprintf(c->path, sizeof c->path, "mdcs[%d]", i);
        const char *code = string_member(c, e, "mdc");
        if (!code) {
            rc = CB_ERR_PROTO;
            break;
        }
        if (cb_strmap_has(&mdc_ids, cb_str_c(code))) {
            rc = fail(c, "duplicate MDC \"%s\"", code);
            break;
        }
        if ((rc = cb_strmap_put(&mdc_ids, cb_str_c(code), 0)))
            break;
        if (!(m->code = dup_str(c, code))) {
            rc = CB_ERR_NOMEM;
            break;
        }
        if ((rc = compile_when(c, e, &m->when)))
            break;
        json_t *rules = json_object_get(e, "rules");
        if (!json_is_array(rules)) {
            rc = fail(c, "member \"%s\" must be an array", "rules");
            break;
        }
        m->rule_begin = s->nrules;
        for (size_t j = 0; j < json_array_size(rules) && !rc; j++) {
            snprintf(c->path, sizeof c->path, "mdcs[%d].rules[%zu]", i, j);
            rc = compile_rule(c, json_array_get(rules, j), i, &rule_ids, &rd_cap);
        }
        m->rule_end = s->nrules;
    }
    cb_strmap_release(&mdc_ids);
    cb_strmap_release(&rule_ids);
    return rc;
}

enum cb_err
cb__drg_compile_rules(struct cb_drg_scheme *s, const char *text, size_t len,
                      struct cb_buf *err)
{
    struct compiler c = { .s = s, .err = err };
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        cb_errf(err, "rules.json:%d:%d: invalid JSON: %s", je.line, je.column,
                je.text);
        return CB_ERR_PROTO;
    }
    enum cb_err rc = CB_OK;
    json_t *fmt = json_object_get(root, "format");
    json_t *ver = json_object_get(root, "format_version");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), "drg-rules")) {
        cb_errf(err, "rules.json: \"format\" must be \"drg-rules\"");
        rc = CB_ERR_PROTO;
    } else if (!json_is_integer(ver) || json_integer_value(ver) != 1) {
        cb_errf(err, "rules.json: format_version %lld is not supported (this "
                "Carebase reads version 1)",
                json_is_integer(ver) ? (long long)json_integer_value(ver) : -1LL);
        rc = CB_ERR_PROTO;
    }
    if (!rc)
        rc = compile_checks(&c, root);
    if (!rc)
        rc = compile_normalize(&c, root);
    if (!rc)
        rc = compile_drgs(&c, root);
    if (!rc)
        rc = compile_mdcs(&c, root);
    json_decref(root);
    if (rc == CB_ERR_NOMEM)
        cb_errf(err, "rules.json: out of memory");
    s->memory += (size_t)s->nnodes * sizeof *s->nodes
               + (size_t)s->nrules * sizeof *s->rules
               + (size_t)s->nrule_drgs * sizeof *s->rule_drgs
               + (size_t)s->ndrgs * sizeof *s->drgs;
    return rc;
}
