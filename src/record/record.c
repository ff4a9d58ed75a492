/*
 * record.c - the canonical field catalogue and typed parsing of a record.
 */
#include <stdio.h>
#include <string.h>

#include "carebase/date.h"
#include "carebase/record.h"
#include "carebase/strmap.h"
#include "record_int.h"

static const struct cb_fp_field_info scalar_info[CB_F__SCALARS] = {
#define X(key, type, len, req, vset, zh) \
    { #key, 0, CB_T_##type, len, CB_REQ_##req, vset, zh },
#include "carebase/fields.def"
#undef X
};

static const struct cb_fp_field_info dx_info[CB_DX__FIELDS] = {
    { "JBDM", 0, CB_T_C, 20, CB_REQ_O, NULL, "出院其他诊断编码" },
    { "QTZD", 0, CB_T_C, 100, CB_REQ_O, NULL, "出院其他诊断名称" },
    { "RYBQ", 0, CB_T_K, 1, CB_REQ_C, "RC027", "其他诊断入院病情" },
};

static const struct cb_fp_field_info px_info[CB_PX__FIELDS] = {
    { "SSJCZBM", 0, CB_T_C, 20, CB_REQ_C, NULL, "手术及操作编码" },
    { "SSJCZMC", 0, CB_T_C, 100, CB_REQ_C, NULL, "手术及操作名称" },
    { "SSJCZRQ", 0, CB_T_DT, 19, CB_REQ_C, NULL, "手术及操作日期" },
    { "SSJB", 0, CB_T_K, 1, CB_REQ_C, "RC029", "手术级别" },
    { "SZ", 0, CB_T_C, 40, CB_REQ_C, NULL, "术者" },
    { "YZ", 0, CB_T_C, 40, CB_REQ_O, NULL, "Ⅰ助" },
    { "EZ", 0, CB_T_C, 40, CB_REQ_O, NULL, "Ⅱ助" },
    { "QKDJ", 0, CB_T_K, 1, CB_REQ_C, NULL, "切口等级" },
    { "QKYHLB", 0, CB_T_K, 1, CB_REQ_C, NULL, "切口愈合类别" },
    { "QKYH", 0, CB_T_K, 2, CB_REQ_O, "RC014", "切口愈合等级（合并）" },
    { "MZFS", 0, CB_T_K, 6, CB_REQ_C, "RC013", "麻醉方式" },
    { "MZYS", 0, CB_T_C, 40, CB_REQ_C, NULL, "麻醉医师" },
    { "SSLX", 0, CB_T_C, 10, CB_REQ_O, NULL, "手术类型（择期/急诊）" },
    { "SFRJSS", 0, CB_T_C, 10, CB_REQ_O, NULL, "是否日间手术" },
};

const int cb_fp_cost_items[24] = {
    CB_F_YLFUF, CB_F_ZLCZF, CB_F_HLF, CB_F_QTFY, CB_F_BLZDF, CB_F_SYSZDF,
    CB_F_YXXZDF, CB_F_LCZDXMF, CB_F_FSSZLXMF, CB_F_SSZLF, CB_F_KFF,
    CB_F_ZYZLF, CB_F_XYF, CB_F_ZCYF, CB_F_ZCYF1, CB_F_XF, CB_F_BDBLZPF,
    CB_F_QDBLZPF, CB_F_NXYZLZPF, CB_F_XBYZLZPF, CB_F_HCYYCLF, CB_F_YYCLF,
    CB_F_YCXYYCLF, CB_F_QTF,
};

/* Slot-expanded view of every field, built on first use. */
static struct cb_fp_field_info all_info[CB_FP_NFIELDS];
static char all_keys[CB_FP_NFIELDS][16];
static int all_info_ready;

static void
build_info(void)
{
    int i, n, f;

    if (all_info_ready)
        return;
    for (i = 0; i < CB_F__SCALARS; i++)
        all_info[i] = scalar_info[i];
    for (n = 1; n <= CB_FP_MAX_DX; n++)
        for (f = 0; f < CB_DX__FIELDS; f++) {
            all_info[cb_fp_dx(n, f)] = dx_info[f];
            all_info[cb_fp_dx(n, f)].slot = n;
        }
    for (n = 1; n <= CB_FP_MAX_PX; n++)
        for (f = 0; f < CB_PX__FIELDS; f++) {
            all_info[cb_fp_px(n, f)] = px_info[f];
            all_info[cb_fp_px(n, f)].slot = n;
        }
    for (i = 0; i < CB_FP_NFIELDS; i++) {
        if (all_info[i].slot)
            snprintf(all_keys[i], sizeof(all_keys[i]), "%.12s%d",
                     all_info[i].base, all_info[i].slot);
        else
            snprintf(all_keys[i], sizeof(all_keys[i]), "%.15s", all_info[i].base);
    }
    all_info_ready = 1;
}

const struct cb_fp_field_info *
cb_fp_field(int id)
{
    if (id < 0 || id >= CB_FP_NFIELDS)
        return NULL;
    build_info();
    return &all_info[id];
}

const char *
cb_fp_key_str(int id)
{
    if (id < 0 || id >= CB_FP_NFIELDS)
        return "?";
    build_info();
    return all_keys[id];
}

const char *
cb_fp_key(int id, char *buf, size_t bufsz)
{
    const struct cb_fp_field_info *fi = cb_fp_field(id);

    if (!fi)
        snprintf(buf, bufsz, "?");
    else if (fi->slot)
        snprintf(buf, bufsz, "%s%d", fi->base, fi->slot);
    else
        snprintf(buf, bufsz, "%s", fi->base);
    return buf;
}

int
cb_fp_field_by_key(struct cb_str key)
{
    int i;

    /* Linear scan is fine: used while loading profiles, not per record. */
    build_info();
    for (i = 0; i < CB_FP_NFIELDS; i++)
        if (cb_str_eqz(key, all_keys[i]))
            return i;
    return -1;
}

void
cb_fp_clear(struct cb_fp *r)
{
    memset(r->v, 0, sizeof(r->v));
    memset(r->state, 0, sizeof(r->state));
    r->ndx = 0;
    r->npx = 0;
    r->dt_date_only_rysj = 0;
    r->dt_date_only_cysj = 0;
    r->nset = 0;
    r->set_tracked = 0;
    memset(r->set_bits, 0, sizeof(r->set_bits));
    memset(r->exact_bits, 0, sizeof(r->exact_bits));
}

void
cb_fp_reset(struct cb_fp *r)
{
    uint16_t i;

    if (!r->set_tracked) {
        cb_fp_clear(r);
        r->set_tracked = 1;
        return;
    }
    for (i = 0; i < r->nset; i++) {
        r->v[r->set_ids[i]] = CB_STR_NULL;
        r->state[r->set_ids[i]] = CB_FS_EMPTY;
    }
    r->nset = 0;
    memset(r->set_bits, 0, sizeof(r->set_bits));
    memset(r->exact_bits, 0, sizeof(r->exact_bits));
    r->ndx = 0;
    r->npx = 0;
    r->dt_date_only_rysj = 0;
    r->dt_date_only_cysj = 0;
}

static void
parse_one(struct cb_fp *r, int id, enum cb_fp_type t)
{
    if (cb_str_is_empty(r->v[id])) {
        r->v[id] = CB_STR_NULL;
        r->state[id] = CB_FS_EMPTY;
        return;
    }
    /* The parsers trim (parse_money_fast hands spaces to cb_parse_money). */
    cb__fp_parse_value(r, id, t);
}

static void
note_slot(struct cb_fp *r, int id)
{
    cb_fp_note_filled(r, id);
}

void
cb_fp_parse_field(struct cb_fp *r, int id)
{
    build_info();
    parse_one(r, id, all_info[id].type);
    if (r->state[id])
        note_slot(r, id);
}

void
cb_fp_parse(struct cb_fp *r)
{
    int i;

    build_info();
    r->ndx = 0;
    r->npx = 0;
    if (r->set_tracked) {
        /* Only assigned fields can be non-empty. */
        uint16_t k;
        for (k = 0; k < r->nset; k++) {
            int id = r->set_ids[k];
            parse_one(r, id, all_info[id].type);
            if (r->state[id])
                note_slot(r, id);
        }
        return;
    }
    for (i = 0; i < CB_FP_NFIELDS; i++) {
        if (!r->v[i].len) {
            r->state[i] = CB_FS_EMPTY;
            continue;
        }
        parse_one(r, i, all_info[i].type);
        if (r->state[i])
            note_slot(r, i);
    }
}
