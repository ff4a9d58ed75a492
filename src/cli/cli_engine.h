/*
 * cli_engine.h - what indicators, reference and cases share: the engine
 * loaded from the store's facts, with the names of its dimension ids, the
 * organisations, and a DRG reference mapped onto the engine's DRG ids.
 */
#ifndef CB_CLI_ENGINE_H
#define CB_CLI_ENGINE_H

#include "carebase/engine.h"
#include "carebase/reference.h"
#include "carebase/store.h"
#include "cli.h"

struct cli_engine {
    struct cb_engine     *e;
    struct cb_store_names names;  /* of the dimension ids */
    double                load_s;
};

int  cli_engine_load(struct cli_engine *ce, struct cb_store *st, const char *cmd);
void cli_engine_release(struct cli_engine *ce);

/*
 * A mask over hospital ids (allowed[id] != 0) from --hospital ZZJGDM and/or
 * --group CODE (a consortium or region); NULL mask when neither is given.
 */
int  cli_hospital_mask(struct cli_engine *ce, struct cb_store *st, const char *zzjgdm,
                       const char *group, uint8_t **mask, const char *cmd);

/* The reference mapped onto the engine's DRG ids (arrays owned). */
struct cli_ref {
    struct cb_store_ref_info info;
    struct cb_engine_ref     ref;
};
/* name NULL: the newest. Returns 1 when there is none (message in err). */
int  cli_ref_load(struct cli_ref *r, struct cli_engine *ce, struct cb_store *st,
                  const char *name, struct cb_buf *err);
void cli_ref_release(struct cli_ref *r);

/* Parses "2025", "2025Q1", "2025-03" or "2025-03-01" into fact days
 * [*from, *to] and the matching period kind; -1 when invalid. */
int  cli_parse_period(const char *s, enum cb_period *kind, uint16_t *from, uint16_t *to);
/* A date "YYYY-MM-DD" as a fact day; -1 when invalid. */
int  cli_parse_day(const char *s, uint16_t *day);
/* Formats a period key for display: 2025, 2025Q1, 2025-03, "all". */
void cli_period_text(enum cb_period p, int32_t key, char *buf, size_t n);

#endif
