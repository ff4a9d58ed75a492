/*
 * rng.c - deterministic random numbers for the synthetic data (rng.h):
 * xoshiro256** seeded through splitmix64, and the distributions the
 * generator and the simulator draw from.
 */
#include <math.h>

#include "carebase/rng.h"

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t
cb_rng_mix(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ (b * 0xd6e8feb86659fd93ULL);

    return splitmix64(&x);
}

void
cb_rng_seed(struct cb_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    int i;

    for (i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t
cb_rng_u64(struct cb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

uint32_t
cb_rng_below(struct cb_rng *r, uint32_t n)
{
    /* Multiply-shift: unbiased enough (2^-32) for synthetic data. */
    return (uint32_t)(((cb_rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

int
cb_rng_range(struct cb_rng *r, int lo, int hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int)cb_rng_below(r, (uint32_t)(hi - lo + 1));
}

double
cb_rng_unif(struct cb_rng *r)
{
    return (double)(cb_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool
cb_rng_chance(struct cb_rng *r, double p)
{
    return cb_rng_unif(r) < p;
}

double
cb_rng_normal(struct cb_rng *r)
{
    /* Marsaglia's polar method; the second value is dropped to keep the
     * generator state a pure function of the number of draws. */
    double u, v, s;

    do {
        u = 2.0 * cb_rng_unif(r) - 1.0;
        v = 2.0 * cb_rng_unif(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

double
cb_rng_lognormal(struct cb_rng *r, double median, double sigma, double clip)
{
    double z = cb_rng_normal(r);

    if (z > clip)        /* clip the tail: no 40-sigma outliers */
        z = clip;
    else if (z < -clip)
        z = -clip;
    return median * exp(sigma * z);
}

unsigned
cb_rng_poisson(struct cb_rng *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 30) {      /* normal approximation, plenty for arrivals */
        double x = mean + sqrt(mean) * cb_rng_normal(r) + 0.5;
        return x < 0 ? 0 : (unsigned)x;
    } else {              /* Knuth */
        double l = exp(-mean), p = 1.0;
        unsigned k = 0;

        do {
            k++;
            p *= cb_rng_unif(r);
        } while (p > l);
        return k - 1;
    }
}


size_t
cb_rng_pick_cum(struct cb_rng *r, const uint32_t *cum, size_t n)
{
    uint32_t x;
    size_t lo = 0, hi = n;

    if (n == 0 || cum[n - 1] == 0)
        return 0;
    x = cb_rng_below(r, cum[n - 1]);
    while (lo < hi) {   /* first i with cum[i] > x */
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < n ? lo : n - 1;
}

size_t
cb_rng_pick_w(struct cb_rng *r, const uint16_t *w, size_t n)
{
    uint32_t tot = 0, x;
    size_t i;

    for (i = 0; i < n; i++)
        tot += w[i];
    if (tot == 0)
        return 0;
    x = cb_rng_below(r, tot);
    for (i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

size_t
cb_rng_pick(struct cb_rng *r, const double *w, size_t n)
{
    double tot = 0, x;
    size_t i;

    for (i = 0; i < n; i++)
        tot += w[i] > 0 ? w[i] : 0;
    if (tot <= 0)
        return 0;
    x = cb_rng_unif(r) * tot;
    for (i = 0; i < n; i++) {
        double wi = w[i] > 0 ? w[i] : 0;
        if (x < wi)
            return i;
        x -= wi;
    }
    return n - 1;
}
