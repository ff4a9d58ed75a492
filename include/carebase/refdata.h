/*
 * refdata.h - the national reference tables: diagnosis and procedure
 * dictionaries (国家临床版 2.0) and the value sets (RC tables) of the
 * Western and TCM upload standards.
 *
 * Loaded at run time from a directory laid out like shared/data/nhc-2019/
 * (a setting: --refdata, CAREBASE_REFDATA); nothing is compiled in. Once
 * loaded the object is read-only and may be shared between threads.
 */
#ifndef CAREBASE_REFDATA_H
#define CAREBASE_REFDATA_H

#include <stdbool.h>
#include <stddef.h>

#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/str.h"

enum cb_px_category {
    CB_PXCAT_NONE = 0,
    CB_PXCAT_SURGERY,       /* 手术 */
    CB_PXCAT_INTERVENTION,  /* 介入治疗 */
    CB_PXCAT_THERAPEUTIC,   /* 治疗性操作 */
    CB_PXCAT_DIAGNOSTIC     /* 诊断性操作 */
};

/* Which standard's value-set tables to consult. */
enum cb_vs_std { CB_VS_WESTERN, CB_VS_TCM };

struct cb_refdata;

CB_MUST_CHECK enum cb_err cb_refdata_load(struct cb_refdata **out,
                                          const char *dir,
                                          struct cb_buf *err);
void cb_refdata_free(struct cb_refdata *rd);

/* The directory and its version label (the directory's base name). */
const char *cb_refdata_dir(const struct cb_refdata *rd);
const char *cb_refdata_version(const struct cb_refdata *rd);

/*
 * Diagnosis lookup. The code is matched after stripping dagger (†) and
 * asterisk (*) marks, as spec 0.3 says; name (may be NULL) receives the
 * dictionary name.
 */
bool cb_refdata_dx(const struct cb_refdata *rd, struct cb_str code,
                   struct cb_str *name);
/* Procedure lookup: category and name (either may be NULL). */
bool cb_refdata_px(const struct cb_refdata *rd, struct cb_str code,
                   enum cb_px_category *cat, struct cb_str *name);

/*
 * Value-set membership: table is "RC019" etc. For CB_VS_TCM the TCM file is
 * used where one exists, else the Western one (value-sets-tcm/index.tsv).
 * Unknown table: false.
 */
bool cb_refdata_in_set(const struct cb_refdata *rd, enum cb_vs_std std,
                       const char *table, struct cb_str code);
/* Name of a value-set member, or false. */
bool cb_refdata_set_name(const struct cb_refdata *rd, enum cb_vs_std std,
                         const char *table, struct cb_str code,
                         struct cb_str *name);

/* Iteration, for generators and reports (i < count). */
size_t cb_refdata_dx_count(const struct cb_refdata *rd);
void   cb_refdata_dx_at(const struct cb_refdata *rd, size_t i,
                        struct cb_str *code, struct cb_str *name,
                        struct cb_str *kind);
size_t cb_refdata_px_count(const struct cb_refdata *rd);
void   cb_refdata_px_at(const struct cb_refdata *rd, size_t i,
                        struct cb_str *code, struct cb_str *name,
                        enum cb_px_category *cat);
/* Members of a value set in file order; returns count, sets *codes. */
size_t cb_refdata_set_members(const struct cb_refdata *rd, enum cb_vs_std std,
                              const char *table, const struct cb_str **codes);

const char *cb_px_category_zh(enum cb_px_category c);

/* Strips † and * marks (leading or trailing) from a code; pure view. */
struct cb_str cb_code_strip_marks(struct cb_str code, bool *had_asterisk);

#endif
