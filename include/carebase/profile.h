/*
 * profile.h - the column dialects of front-page files (spec 0.2).
 *
 * A profile maps a dialect's column names to canonical keys and its values to
 * canonical (Western-standard) values. Profiles are data files,
 * <datadir>/profiles/NAME.tsv (format documented in western.tsv), so a
 * hospital's own export dialect is added without rebuilding: drop a file in
 * the profiles directory, or pass extra files with cb_profiles_add_file().
 *
 * Three ship with Carebase: western (HQMS codes A01…D34), tcm (TCM pinyin
 * codes), n041 (卫统 N041 / HIS names).
 */
#ifndef CAREBASE_PROFILE_H
#define CAREBASE_PROFILE_H

#include <stddef.h>

#include "carebase/arena.h"
#include "carebase/buf.h"
#include "carebase/err.h"
#include "carebase/qc.h"
#include "carebase/reader.h"
#include "carebase/record.h"

struct cb_profile;
struct cb_profiles;

/* Loads every *.tsv in dir. */
CB_MUST_CHECK enum cb_err cb_profiles_load(struct cb_profiles **out,
                                           const char *dir,
                                           struct cb_buf *err);
/* Adds aliases/maps from another file; it may extend an existing profile. */
CB_MUST_CHECK enum cb_err cb_profiles_add_file(struct cb_profiles *ps,
                                               const char *path,
                                               struct cb_buf *err);
void cb_profiles_free(struct cb_profiles *ps);

size_t                   cb_profiles_count(const struct cb_profiles *ps);
const struct cb_profile *cb_profiles_at(const struct cb_profiles *ps, size_t i);
const struct cb_profile *cb_profiles_find(const struct cb_profiles *ps,
                                          const char *name);

const char *cb_profile_name(const struct cb_profile *p);
const char *cb_profile_description(const struct cb_profile *p);
enum cb_std cb_profile_std(const struct cb_profile *p);

/* How the columns of one file map to canonical fields. */
struct cb_header_map {
    const struct cb_profile *profile;
    size_t  ncols;         /* columns in the header */
    int    *field_of_col;  /* canonical field id per column, -1 = ignored */
    size_t  nignored;      /* columns that map to nothing */
};

/*
 * Picks the profile whose aliases match most header columns (ties: the one
 * with more 'detect' columns present). NULL with a message if none matches
 * at least the identity columns.
 */
const struct cb_profile *cb_profiles_detect(const struct cb_profiles *ps,
                                            const struct cb_row *header);

/*
 * Builds the column map for header under profile p. Fails with
 * CB_ERR_PROTO, naming every missing required column (key, Chinese name and
 * this dialect's column name), when a required item has no column;
 * fields listed in `supplied` (may be NULL, terminated by -1) count as
 * present (e.g. ZZJGDM given on the command line).
 */
CB_MUST_CHECK enum cb_err cb_header_map_build(struct cb_header_map *m,
                                              const struct cb_profile *p,
                                              const struct cb_row *header,
                                              const int *supplied,
                                              struct cb_buf *err);
void cb_header_map_release(struct cb_header_map *m);

/*
 * Fills r from one data row: clears r, assigns each mapped column, then
 * normalises (spec 0.3, a.4, a.8, a.9, a.11): trims, empties "-",
 * upper-cases the ICD letter, applies the profile's value maps, splits the
 * combined incision code, converts the under-one age unit, merges the TCM
 * hour fields into RYSJ/CYSJ, repairs float artefacts of RC032 codes, sums
 * the TCM 中医类 costs into ZYZLF. New strings are allocated in a (reset by
 * the caller per row). The record ends parsed as by cb_fp_parse() (each
 * field is parsed as it is filled, and again if a later step changes it).
 * The row must have exactly m->ncols fields (the caller checks).
 */
CB_MUST_CHECK enum cb_err cb_profile_fill(const struct cb_header_map *m,
                                          const struct cb_row *row,
                                          struct cb_fp *r,
                                          struct cb_arena *a);

/*
 * For writers (carebase generate): the dialect's columns in file order, one
 * per canonical field the profile can express, and the raw value of a
 * canonical one. cb_profile_denormalise writes into out (reset first); for
 * the Western combined incision code pass field = cb_fp_px(n, CB_PX_QKYH)
 * and the two canonical values joined as "QKDJ/QKYHLB" (e.g. "1/1").
 */
size_t      cb_profile_ncolumns(const struct cb_profile *p);
const char *cb_profile_column(const struct cb_profile *p, size_t i,
                              int *field);
CB_MUST_CHECK enum cb_err cb_profile_denormalise(const struct cb_profile *p,
                                                 int field,
                                                 struct cb_str canonical,
                                                 struct cb_buf *out);

#endif
