/*
 * sim_rng.c - the simulator's random numbers: xoshiro256** seeded through
 * splitmix64, and the few distributions the patient-flow model draws from.
 * Same seed, same sequence, on every platform (no libc rand).
 */
#include <math.h>

#include "sim/sim_int.h"

static uint64_t
splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t
sim__mix(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ (b * 0xd6e8feb86659fd93ULL);

    return splitmix64(&x);
}

void
sim__rng_seed(struct sim_rng *r, uint64_t seed)
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
sim__u64(struct sim_rng *r)
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
sim__below(struct sim_rng *r, uint32_t n)
{
    return (uint32_t)(((sim__u64(r) >> 32) * (uint64_t)n) >> 32);
}

double
sim__unif(struct sim_rng *r)
{
    return (double)(sim__u64(r) >> 11) * (1.0 / 9007199254740992.0);
}

bool
sim__chance(struct sim_rng *r, double p)
{
    return sim__unif(r) < p;
}

static double
normal(struct sim_rng *r)
{
    /* Marsaglia's polar method; the second value is dropped so that the
     * state is a function of the number of draws only. */
    double u, v, s;

    do {
        u = 2.0 * sim__unif(r) - 1.0;
        v = 2.0 * sim__unif(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

double
sim__lognormal(struct sim_rng *r, double median, double sigma)
{
    double z = normal(r);

    if (z > 3.0)          /* no 40-sigma stays */
        z = 3.0;
    else if (z < -3.0)
        z = -3.0;
    return median * exp(sigma * z);
}

unsigned
sim__poisson(struct sim_rng *r, double mean)
{
    if (mean <= 0)
        return 0;
    if (mean > 30) {      /* normal approximation, plenty for arrivals */
        double x = mean + sqrt(mean) * normal(r) + 0.5;
        return x < 0 ? 0 : (unsigned)x;
    } else {              /* Knuth */
        double l = exp(-mean), p = 1.0;
        unsigned k = 0;

        do {
            k++;
            p *= sim__unif(r);
        } while (p > l);
        return k - 1;
    }
}

size_t
sim__pick(struct sim_rng *r, const double *w, size_t n)
{
    double tot = 0, x;
    size_t i;

    for (i = 0; i < n; i++)
        tot += w[i] > 0 ? w[i] : 0;
    if (tot <= 0)
        return 0;
    x = sim__unif(r) * tot;
    for (i = 0; i < n; i++) {
        double wi = w[i] > 0 ? w[i] : 0;
        if (x < wi)
            return i;
        x -= wi;
    }
    return n - 1;
}
