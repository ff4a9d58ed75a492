/*
 * testutil.h - small helpers shared by the cmocka unit tests.
 */
#ifndef CB_TESTUTIL_H
#define CB_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* $CB_SHARED/<rel> (the ../shared reference tree), in a static buffer. */
const char *tu_shared(const char *rel);
/* $CB_SOURCE/<rel> (the repository), in a static buffer. */
const char *tu_source(const char *rel);
/* A fresh temporary directory for this test process (created once). */
const char *tu_tmpdir(void);
/* Writes len bytes to <tmpdir>/<name> and returns the full path (static). */
const char *tu_write_file(const char *name, const void *data, size_t len);
/* The first column of the first row of sql on the database at path (its
 * own connection), as an integer; -1 when there is no row. */
long long tu_sql_int(const char *path, const char *sql);

#endif
