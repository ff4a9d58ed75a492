/*
 * rng.h - deterministic random numbers for the synthetic data (the
 * front-page generator, the ADT simulator): xoshiro256** seeded through
 * splitmix64, and the few distributions their models draw from. The same
 * seed gives the same sequence on every platform (no libc rand); every
 * draw consumes a fixed number of words, so the state is a function of
 * the draws made. Not for anything secret.
 */
#ifndef CAREBASE_RNG_H
#define CAREBASE_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cb_rng {
    uint64_t s[4];   /* xoshiro256** state */
};

void     cb_rng_seed(struct cb_rng *r, uint64_t seed);
/* Hashes two words into one (a seed for a sub-stream). */
uint64_t cb_rng_mix(uint64_t a, uint64_t b);
uint64_t cb_rng_u64(struct cb_rng *r);
/* 0..n-1 by multiply-shift (bias under 2^-32); 0 when n is 0. */
uint32_t cb_rng_below(struct cb_rng *r, uint32_t n);
/* lo..hi inclusive; lo when hi <= lo. */
int      cb_rng_range(struct cb_rng *r, int lo, int hi);
double   cb_rng_unif(struct cb_rng *r);                 /* [0, 1) */
bool     cb_rng_chance(struct cb_rng *r, double p);
/* Standard normal (Marsaglia's polar method, second value dropped). */
double   cb_rng_normal(struct cb_rng *r);
/* median * exp(sigma * z), z normal clipped to [-clip, clip]. */
double   cb_rng_lognormal(struct cb_rng *r, double median, double sigma, double clip);
/* Poisson: Knuth's method up to a mean of 30, a normal approximation above. */
unsigned cb_rng_poisson(struct cb_rng *r, double mean);
/* Index i with probability w[i] / sum(w) (all zero: 0): from cumulative
 * sums cum[], from integer weights, or from non-negative double weights. */
size_t   cb_rng_pick_cum(struct cb_rng *r, const uint32_t *cum, size_t n);
size_t   cb_rng_pick_w(struct cb_rng *r, const uint16_t *w, size_t n);
size_t   cb_rng_pick(struct cb_rng *r, const double *w, size_t n);

#endif
