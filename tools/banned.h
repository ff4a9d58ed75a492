/*
 * Force-included into every library and CLI translation unit: calls that
 * truncate silently, overflow or parse numbers unchecked are compile errors.
 * Use struct cb_buf, cb_parse_* and snprintf-with-check instead.
 */
#ifndef CB_BANNED_H
#define CB_BANNED_H

/* System headers first, so their own declarations are not rewritten. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CB_BANNED(func) sorry_##func##_is_banned

#undef strcpy
#define strcpy(x, y) CB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) CB_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) CB_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) CB_BANNED(strncat)
#undef sprintf
#define sprintf(...) CB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) CB_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) CB_BANNED(strtok)
#undef atoi
#define atoi(x) CB_BANNED(atoi)
#undef atol
#define atol(x) CB_BANNED(atol)
#undef gmtime
#define gmtime(x) CB_BANNED(gmtime)
#undef localtime
#define localtime(x) CB_BANNED(localtime)

#endif
