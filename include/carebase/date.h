/*
 * date.h - civil dates and date-times as plain integers, no time zones.
 *
 * Front-page times are local wall-clock times; they are stored as seconds
 * since 1970-01-01 00:00:00 of that same wall clock.
 */
#ifndef CAREBASE_DATE_H
#define CAREBASE_DATE_H

#include <stdbool.h>
#include <stdint.h>

#include "carebase/err.h"
#include "carebase/str.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (no validation). */
int64_t cb_days_from_civil(int y, int m, int d);
void    cb_civil_from_days(int64_t days, int *y, int *m, int *d);
/* Day numbers of 1900-01-01 and of 10000-01-01 (cb_days_from_civil). */
#define CB_DAY_1900  INT64_C(-25567)
#define CB_DAY_10000 INT64_C(2932897)
/* Days in month m (1..12) of year y, proleptic Gregorian. */
int     cb_days_in_month(int y, int m);

/*
 * Parses "yyyy-MM-dd", "yyyy/MM/dd", "yyyyMMdd", optionally followed by
 * " HH:mm[:ss]" or "THH:mm[:ss]" (fraction ignored). Sets *secs and
 * *has_time. CB_ERR_PROTO on anything else or an invalid calendar date.
 */
CB_MUST_CHECK enum cb_err cb_parse_datetime(struct cb_str s, int64_t *secs,
                                            bool *has_time);

/* Writes "yyyy-MM-dd" (11 bytes with NUL) / "yyyy-MM-dd HH:mm:ss" (20). */
void cb_format_date(int64_t days, char out[11]);
void cb_format_datetime(int64_t secs, char out[20]);

/* Whole years between two day numbers (birthday not reached = one less). */
int cb_completed_years(int64_t birth_day, int64_t on_day);

static inline int64_t
cb_day_of(int64_t secs)
{
    return secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
}

#endif
