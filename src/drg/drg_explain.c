/*
 * drg_explain.c - renders the trace of the last grouping, in Chinese or
 * English text and as JSON: the input check that fired, the principal's
 * exclusion table, each secondary that is a CC/MCC and whether an exclusion
 * table removed it, every MDC tried with the condition that decided it
 * (each test shown with its value), the rule that matched and the DRG
 * splits in order.
 *
 * Conditions are pure, so the renderer re-evaluates the leaves against the
 * work's record state rather than storing them during grouping.
 */
#include "carebase/json.h"
#include "drg/drg_int.h"

struct ctx {
    const struct cb_drg_scheme *s;
    const struct cb_drg_input  *in;
    const struct cb_drg_work   *w;
    bool                        zh;
    struct cb_buf              *out;
    enum cb_err                 rc;
};

static void
add(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
add(struct ctx *c, const char *fmt, ...)
{
    if (c->rc)
        return;
    va_list ap;
    va_start(ap, fmt);
    c->rc = cb_buf_vaddf(c->out, fmt, ap);
    va_end(ap);
}

static const char *const field_zh[FLD__N] = {
    "年龄", "年龄天数", "新生儿出生体重", "住院天数", "性别", "科室", "离院方式", "序号"
};

static const char *
yes(const struct ctx *c, bool v)
{
    return v ? (c->zh ? "✓是" : "✓yes") : (c->zh ? "✗否" : "✗no");
}

/* The code of the record's dx/px position, or its translated form. */
static struct cb_str
code_at(const struct ctx *c, int which, int i)
{
    int32_t id = which ? c->w->px_id[i] : c->w->dx_id[i];
    if (id >= 0)
        return c->s->code_str[id];
    return which ? c->in->px[i] : c->in->dx[i];
}

/* First position of dx (from..) or px whose code is in list, or -1. */
static int
first_in(const struct ctx *c, int which, int from, uint32_t list)
{
    int n = which ? c->w->npx : c->w->ndx;
    for (int i = from; i < n; i++)
        if (cb__drg_code_in(c->s, which ? c->w->px_id[i] : c->w->dx_id[i], list))
            return i;
    return -1;
}

static void
show_code(struct ctx *c, struct cb_str code)
{
    if (code.len)
        add(c, "%.*s", (int)code.len, code.ptr);
    else
        add(c, "%s", c->zh ? "(空)" : "(empty)");
}

static void
render(struct ctx *c, uint32_t i)
{
    const struct cb_drg_scheme *s = c->s;
    const struct drg_node *n = &s->nodes[i];
    bool v = cb__drg_eval(s, c->w, i);
    const char *list = n->op >= OP_PDX_IN && n->op <= OP_PX_ANY_IN
                           ? s->list_name[n->list] : "";
    int pos;
    switch ((enum drg_op)n->op) {
    case OP_TRUE:
        add(c, "%s", c->zh ? "无条件" : "always");
        return;
    case OP_FALSE:
        add(c, "%s", c->zh ? "永不" : "never");
        return;
    case OP_ALL: case OP_ANY: case OP_NOT: {
        add(c, "%s(", n->op == OP_ALL ? (c->zh ? "全部满足" : "all of ")
                      : n->op == OP_ANY ? (c->zh ? "任一满足" : "any of ")
                                        : (c->zh ? "非" : "not "));
        for (uint32_t k = i + 1; k < n->end; k = s->nodes[k].end) {
            if (k != i + 1)
                add(c, "; ");
            render(c, k);
        }
        add(c, ") %s", yes(c, v));
        return;
    }
    case OP_PDX_IN:
        add(c, "%s ", c->zh ? "主要诊断" : "principal");
        show_code(c, code_at(c, 0, 0));
        add(c, " %s %s %s", c->zh ? "属于" : "in", list, yes(c, v));
        return;
    case OP_PPX_IN:
        add(c, "%s ", c->zh ? "主要手术操作" : "main procedure");
        show_code(c, code_at(c, 1, 0));
        add(c, " %s %s %s", c->zh ? "属于" : "in", list, yes(c, v));
        return;
    case OP_DX_ANY_IN: case OP_SDX_ANY_IN: case OP_PX_ANY_IN: {
        int which = n->op == OP_PX_ANY_IN;
        pos = first_in(c, which, n->op == OP_SDX_ANY_IN, n->list);
        add(c, "%s %s %s", n->op == OP_DX_ANY_IN ? (c->zh ? "任一诊断属于" : "some diagnosis in")
                           : n->op == OP_SDX_ANY_IN ? (c->zh ? "任一其他诊断属于" : "some secondary diagnosis in")
                                                    : (c->zh ? "任一手术操作属于" : "some procedure in"),
            list, yes(c, v));
        if (pos >= 0) {
            add(c, " (");
            show_code(c, code_at(c, which, pos));
            add(c, ")");
        }
        return;
    }
    case OP_NUM: {
        struct cb_str t = c->w->str[n->field];
        add(c, "%s \"%.*s\" %s %g %s",
            c->zh ? field_zh[n->field] : cb__drg_field_names[n->field],
            (int)t.len, t.ptr, cb__drg_cmp_names[n->cmp], n->value, yes(c, v));
        return;
    }
    case OP_STR_EQ: {
        struct cb_str t = c->w->str[n->field];
        add(c, "%s \"%.*s\" == \"%.*s\" %s",
            c->zh ? field_zh[n->field] : cb__drg_field_names[n->field],
            (int)t.len, t.ptr, (int)n->str.len, n->str.ptr, yes(c, v));
        return;
    }
    case OP_STR_IN: {
        struct cb_str t = c->w->str[n->field];
        add(c, "%s \"%.*s\" %s %s %s",
            c->zh ? field_zh[n->field] : cb__drg_field_names[n->field],
            (int)t.len, t.ptr, c->zh ? "属于" : "in", s->list_name[n->list], yes(c, v));
        return;
    }
    case OP_EMPTY:
        add(c, "%s %s %s", c->zh ? field_zh[n->field] : cb__drg_field_names[n->field],
            c->zh ? "为空" : "is empty", yes(c, v));
        return;
    case OP_MCC:
        add(c, "%s %s", c->zh ? "有严重并发症或合并症(MCC)" : "has an MCC", yes(c, v));
        return;
    case OP_CC:
        add(c, "%s %s", c->zh ? "有一般并发症或合并症(CC)" : "has a CC", yes(c, v));
        return;
    case OP_LISTS_HIT: {
        const uint64_t *mask = s->masks + (size_t)n->list * (size_t)s->nwords;
        add(c, "%s [", c->zh ? "诊断涉及的不同列表" : "distinct lists hit by the diagnoses");
        bool first = true;
        for (int l = 0; l < s->nlists; l++)
            if ((mask[l >> 6] >> (l & 63)) & 1) {
                add(c, "%s%s", first ? "" : " ", s->list_name[l]);
                first = false;
            }
        add(c, "] = %d >= %d %s", cb__drg_lists_hit(s, c->w, i), n->min, yes(c, v));
        return;
    }
    case OP_COUNT_IN:
        add(c, "%s %s = %d >= %d %s", c->zh ? "诊断属于" : "diagnoses in",
            s->list_name[n->list], cb__drg_count_in(s, c->w, i), n->min, yes(c, v));
        return;
    case OP__N:
        break;
    }
}

static void
show_result(struct ctx *c, const struct cb_drg_result *r)
{
    add(c, "%.*s: %s %s %s %s", (int)c->in->index.len, c->in->index.ptr,
        c->zh ? cb_drg_status_zh(r->status) : cb_drg_status_name(r->status),
        r->mdc, r->adrg, r->drg);
    const char *name = cb_drg_drg_name(c->s, cb_str_c(r->drg));
    if (name)
        add(c, " %s", name);
    add(c, "\n");
}

static void
show_cc(struct ctx *c)
{
    const struct cb_drg_trace *t = &c->w->trace;
    const char *pt = cb_drg_table_name(c->s, t->principal_table);
    add(c, "  %s ", c->zh ? "主要诊断" : "principal");
    show_code(c, code_at(c, 0, 0));
    if (t->principal_table >= 0)
        add(c, c->zh ? "，排除表 %s\n" : ", exclusion table %s\n", pt);
    else
        add(c, "%s\n", c->zh ? "，无排除表" : ", no exclusion table");
    for (int i = 0; i < t->ncc; i++) {
        const struct cb_drg_trace_cc *e = &t->cc[i];
        const char *lv = e->level == 2 ? "MCC" : "CC";
        add(c, "  %s %d ", c->zh ? "其他诊断" : "secondary", e->pos);
        show_code(c, code_at(c, 0, e->pos));
        if (e->excluded)
            add(c, c->zh ? " %s是 %s（表 %s），被主要诊断的排除表 %s 排除\n"
                         : " is %s %s (table %s), excluded by the principal's exclusion table %s\n",
                c->zh ? "" : e->level == 2 ? "an" : "a", lv,
                cb_drg_table_name(c->s, e->table), pt);
        else
            add(c, c->zh ? " %s是 %s（表 %s），计入\n" : " is %s %s (table %s) and counts\n",
                c->zh ? "" : e->level == 2 ? "an" : "a", lv,
                cb_drg_table_name(c->s, e->table));
    }
    if (!t->ncc)
        add(c, "  %s\n", c->zh ? "无其他诊断属于 CC/MCC" : "no secondary diagnosis is a CC or MCC");
}

enum cb_err
cb_drg_explain(const struct cb_drg_scheme *s, const struct cb_drg_input *in,
               const struct cb_drg_work *w, const struct cb_drg_result *r,
               const char *lang, struct cb_buf *out)
{
    struct ctx c = { s, in, w, lang && !strcmp(lang, "zh"), out, CB_OK };
    const struct cb_drg_trace *t = &w->trace;
    show_result(&c, r);
    if (r->status == CB_DRG_ZD_NOT_MAPPING || r->status == CB_DRG_SS_NOT_MAPPING) {
        add(&c, c.zh ? "  %s第 %d 个编码 \"%.*s\" 无法转换为医保版编码\n"
                     : "  %s code %d \"%.*s\" has no insurance-edition mapping\n",
            r->status == CB_DRG_ZD_NOT_MAPPING ? (c.zh ? "诊断" : "diagnosis")
                                               : (c.zh ? "手术操作" : "procedure"),
            r->unmapped_pos + 1, (int)r->unmapped_code.len, r->unmapped_code.ptr);
        return c.rc;
    }
    if (!t->enabled) {
        add(&c, "  %s\n", c.zh ? "（未开启分组过程记录）" : "(the trace was off)");
        return c.rc;
    }
    if (t->ntranslated)
        add(&c, c.zh ? "  %d 个编码已转换为医保版\n" : "  %d codes translated to the insurance edition\n",
            t->ntranslated);
    if (t->check >= 0) {
        add(&c, c.zh ? "  输入校验未通过：%s\n    " : "  input check failed: %s\n    ",
            s->checks[t->check].message);
        render(&c, s->checks[t->check].when);
        add(&c, "\n");
        return c.rc;
    }
    show_cc(&c);
    for (int i = 0; i < t->nmdc; i++) {
        const struct cb_drg_trace_mdc *m = &t->mdc[i];
        const struct drg_mdc *md = &s->mdcs[m->mdc];
        add(&c, "  %s %s: ", md->code,
            !m->entered ? (c.zh ? "未进入" : "not entered")
            : m->rule >= 0 ? (c.zh ? "进入" : "entered")
                           : (c.zh ? "进入，但无 ADRG 规则匹配，继续下一个 MDC"
                                   : "entered, but no ADRG rule matched: fall through"));
        render(&c, md->when);
        add(&c, "\n");
        if (m->rule >= 0) {
            const struct drg_rule *ru = &s->rules[m->rule];
            add(&c, c.zh ? "    ADRG 规则 %s（%s，第 %d 条）匹配：" : "    ADRG rule %s (%s, #%d tried) matched: ",
                ru->id, ru->adrg, m->rules_tried);
            render(&c, ru->when);
            add(&c, "\n");
        }
    }
    for (int i = 0; i < t->nsplit; i++) {
        const struct drg_drg *d = &s->drgs[t->split[i].drg];
        add(&c, "    %s %s: ", c.zh ? "细分组" : "DRG split", d->code);
        render(&c, d->when);
        add(&c, "\n");
    }
    if (!t->nmdc || (t->nmdc && t->mdc[t->nmdc - 1].rule < 0))
        add(&c, "  %s\n", c.zh ? "没有 MDC 给出结果：无法入组" : "no MDC produced a result: FAIL");
    else if (t->nsplit && !t->split[t->nsplit - 1].held)
        add(&c, "  %s\n", c.zh ? "没有细分组条件成立：结果为 ADRG" : "no DRG split held: the result is the ADRG");
    return c.rc;
}

/* ---- JSON --------------------------------------------------------------- */

static void
jstr(struct ctx *c, struct cb_str v)
{
    if (!c->rc)
        c->rc = cb_json_str(c->out, v);
}

/* A condition rendered in both languages as "en" and "zh" members. */
static void
jcond(struct ctx *c, const char *key, uint32_t node)
{
    for (int lang = 0; lang < 2; lang++) {
        add(c, ",\"%s%s\":", key, lang ? "_zh" : "");
        struct cb_buf b = CB_BUF_INIT;
        struct ctx sub = *c;
        sub.out = &b;
        sub.zh = lang == 1;
        render(&sub, node);
        if (sub.rc && !c->rc)
            c->rc = sub.rc;
        jstr(c, cb_buf_str(&b));
        cb_buf_release(&b);
    }
}

enum cb_err
cb_drg_explain_json(const struct cb_drg_scheme *s, const struct cb_drg_input *in,
                    const struct cb_drg_work *w, const struct cb_drg_result *r,
                    struct cb_buf *out)
{
    struct ctx c = { s, in, w, false, out, CB_OK };
    const struct cb_drg_trace *t = &w->trace;
    add(&c, "{\"scheme\":");
    jstr(&c, cb_str_c(s->id));
    add(&c, ",\"status\":\"%s\"", cb_drg_status_name(r->status));
    if (r->unmapped_pos >= 0) {
        add(&c, ",\"unmapped\":{\"list\":\"%s\",\"pos\":%d,\"code\":",
            r->status == CB_DRG_SS_NOT_MAPPING ? "px" : "dx", r->unmapped_pos);
        jstr(&c, r->unmapped_code);
        add(&c, "}");
    }
    if (!t->enabled) {
        add(&c, "}");
        return c.rc;
    }
    add(&c, ",\"translated\":%d", t->ntranslated);
    if (t->check >= 0) {
        add(&c, ",\"check\":{\"message\":");
        jstr(&c, cb_str_c(s->checks[t->check].message));
        jcond(&c, "when", s->checks[t->check].when);
        add(&c, "}}");
        return c.rc;
    }
    add(&c, ",\"principal_table\":");
    if (t->principal_table >= 0)
        jstr(&c, cb_str_c(cb_drg_table_name(s, t->principal_table)));
    else
        add(&c, "null");
    add(&c, ",\"cc\":[");
    for (int i = 0; i < t->ncc; i++) {
        const struct cb_drg_trace_cc *e = &t->cc[i];
        add(&c, "%s{\"pos\":%d,\"code\":", i ? "," : "", e->pos);
        jstr(&c, code_at(&c, 0, e->pos));
        add(&c, ",\"level\":\"%s\",\"table\":", e->level == 2 ? "MCC" : "CC");
        jstr(&c, cb_str_c(cb_drg_table_name(s, e->table)));
        add(&c, ",\"excluded\":%s}", e->excluded ? "true" : "false");
    }
    add(&c, "],\"mdcs\":[");
    for (int i = 0; i < t->nmdc; i++) {
        const struct cb_drg_trace_mdc *m = &t->mdc[i];
        add(&c, "%s{\"mdc\":\"%s\",\"entered\":%s", i ? "," : "",
            s->mdcs[m->mdc].code, m->entered ? "true" : "false");
        jcond(&c, "when", s->mdcs[m->mdc].when);
        if (m->entered)
            add(&c, ",\"rules_tried\":%d", m->rules_tried);
        if (m->rule >= 0) {
            const struct drg_rule *ru = &s->rules[m->rule];
            add(&c, ",\"rule\":{\"id\":");
            jstr(&c, cb_str_c(ru->id));
            add(&c, ",\"adrg\":");
            jstr(&c, cb_str_c(ru->adrg));
            jcond(&c, "when", ru->when);
            add(&c, "}");
        }
        add(&c, "}");
    }
    add(&c, "],\"splits\":[");
    for (int i = 0; i < t->nsplit; i++) {
        const struct drg_drg *d = &s->drgs[t->split[i].drg];
        add(&c, "%s{\"drg\":", i ? "," : "");
        jstr(&c, cb_str_c(d->code));
        add(&c, ",\"held\":%s", t->split[i].held ? "true" : "false");
        jcond(&c, "when", d->when);
        add(&c, "}");
    }
    add(&c, "]}");
    return c.rc;
}
