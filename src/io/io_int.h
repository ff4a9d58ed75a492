/*
 * io_int.h - shared only by the files under src/io/.
 */
#ifndef CB_IO_INT_H
#define CB_IO_INT_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length of the longest valid UTF-8 prefix of p[0..n). When the bytes after
 * that prefix are the valid start of a sequence cut off by the end of the
 * buffer, *incomplete is set (more input may complete it).
 */
size_t cb__utf8_valid_prefix(const unsigned char *p, size_t n, int *incomplete);

#endif
