/*
 * io_int.h - shared only by the files under src/io/.
 */
#ifndef CB_IO_INT_H
#define CB_IO_INT_H

#include <stddef.h>
#include <stdint.h>

/*
 * The vector paths are x86-64 AVX2, compiled with target attributes and
 * chosen at run time, so the binary still runs on a CPU without AVX2.
 */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define CB_IO_AVX2 1
#else
#define CB_IO_AVX2 0
#endif

/*
 * Whether the AVX2 paths are taken: the CPU has AVX2 and the environment
 * has no CB_NO_AVX2 (read once, at start-up).
 */
int cb__io_avx2(void);

/*
 * Length of the longest valid UTF-8 prefix of p[0..n). When the bytes after
 * that prefix are the valid start of a sequence cut off by the end of the
 * buffer, *incomplete is set (more input may complete it). AVX2 when
 * cb__io_avx2(), else scalar; both give the same answer.
 */
size_t cb__utf8_valid_prefix(const unsigned char *p, size_t n, int *incomplete);
/*
 * cb__utf8_valid_prefix that also copies the valid prefix to dst, which has
 * room for n bytes (bytes after the prefix may be written too).
 */
size_t cb__utf8_valid_copy(unsigned char *dst, const unsigned char *p, size_t n,
                           int *incomplete);
/* The two paths, for tests: the AVX2 one only when cb__io_avx2(). */
size_t cb__utf8_valid_prefix_scalar(const unsigned char *p, size_t n, int *incomplete);
#if CB_IO_AVX2
size_t cb__utf8_valid_prefix_avx2(const unsigned char *p, size_t n, int *incomplete);
#endif

#endif
