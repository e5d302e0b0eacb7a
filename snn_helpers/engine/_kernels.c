/* Compiled kernels for the fast path (see kernels.py, which builds and loads this file).

   Two things dominate a CPU training step once the matrix products run over all
   time steps at once: products with spike trains, which are mostly zeros, and the
   LIF recurrence, which is many small passes over memory. Here:

   - snn_compact / snn_spike_linear_fwd / snn_spike_linear_wgrad: a product with a
     spike train [T, B, P] that skips the inputs which are silent, per sample and
     block of TB steps. It is the same product as x @ W.T, with fewer terms.
   - snn_gather_columns / snn_scatter_columns: the weight columns the inputs meet, as rows
     (for the product), and their gradient back into the columns.
   - snn_poisson: the Poisson encoder's spikes from its random draws, each written once.
   - snn_rand: those draws, torch.rand's numbers from the same generator.
   - snn_lif_fwd / snn_lif_bwd: the LIF recurrence of FusedLIF (neurons.py), one pass
     over memory each way.
   - snn_num_threads: how many OpenMP threads the kernels' parallel loops use.

   Every function splits its work over the OpenMP threads of the caller (torch's
   pool: this library links the same libgomp). Threads split the outputs between
   them, never one sum: each value these functions write is summed by one thread, in
   a fixed order, so what they return does not depend on the number of threads.
   That is a property of these kernels only; the torch operations around them (the
   gradient of x in SpikeLinear, the sum giving the bias' gradient, ...) make no
   such promise.
   Arrays are float32 (int32 for the counts and indices of snn_compact), contiguous,
   row-major; shapes are given as [T, B, N]. kernels.py checks every array's dtype,
   device, contiguity and shape before it passes its address here, and
   tests/test_kernel_edges.py checks kernels.py's ctypes signatures against the
   definitions below. */
#include <stdint.h>
#include <string.h>
#if defined(__AVX__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

#define TB 5          /* time steps per register block */
/* A register block of the products holds TB x CH vectors of accumulators. With 512-bit
   vectors (AVX-512: 32 registers) that is 5 x 4 x 16 floats; without AVX-512 the vectors
   are 256-bit and there are only 16 registers, so the block is 5 x 2 x 8 floats: wider
   blocks would spill the accumulators to memory on every step. The width changes nothing
   but the speed: each output value is summed in the same order either way. */
#if defined(__AVX512F__)
#define VW 16         /* floats per vector */
#define CH 4          /* vectors per block of columns */
#else
#define VW 8
#define CH 2
#endif
#define CW (VW * CH)  /* columns per block: N must be a multiple (64 is, on every target) */

typedef float vf __attribute__((vector_size(4 * VW)));
typedef float vf_u __attribute__((vector_size(4 * VW), aligned(4)));  /* unaligned access */

#define LOAD(p) (*(const vf_u *)(p))
#define STORE(p, v) (*(vf_u *)(p) = (v))

static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Bit i set where one of x[s * stride + i] (s < steps) is nonzero (NaN counts), for i < VW:
   one comparison of VW inputs per step, where the CPU has vector compares (AVX-512 or AVX). */
static inline unsigned nonzero_bits(const float *x, int64_t stride, int64_t steps)
{
    unsigned bits = 0;
#if defined(__AVX512F__)
    for (int64_t s = 0; s < steps; s++)
        bits |= _mm512_cmp_ps_mask(_mm512_loadu_ps(x + s * stride), _mm512_setzero_ps(), _CMP_NEQ_UQ);
#elif defined(__AVX__)
    for (int64_t s = 0; s < steps; s++)
        bits |= (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(x + s * stride), _mm256_setzero_ps(),
                                                           _CMP_NEQ_UQ));
#else
    for (int64_t s = 0; s < steps; s++)
        for (int i = 0; i < VW; i++)
            bits |= (unsigned)(x[s * stride + i] != 0.0f) << i;
#endif
    return bits;
}

/* Regroup x [T, B, P] by sample and block of TB steps: block k = b * nblk + t / TB
   (nblk = ceil(T / TB)) lists in idx[k * P + i] (i < count[k]) the inputs j that are
   nonzero at one of its steps at least, and in val[(k * P + i) * TB + s] their
   values x[k's first step + s, b, j] (0 past step T - 1). The inputs are scanned VW at
   a time (nonzero_bits), and only those that fired are visited one by one, in order. */
void snn_compact(const float *x, int64_t T, int64_t B, int64_t P,
                 int32_t *count, int32_t *idx, float *val)
{
    const int64_t nblk = (T + TB - 1) / TB;
    #pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < B * nblk; k++) {
        const int64_t b = k / nblk, t0 = (k % nblk) * TB, steps = min64(TB, T - t0), stride = B * P;
        const float *xk = x + (t0 * B + b) * P;  /* x[t0, b, 0] */
        int32_t *ik = idx + k * P;
        float *vk = val + k * P * TB;
        int32_t n = 0;
        for (int64_t j0 = 0; j0 < P; j0 += VW) {
            unsigned bits;
            if (j0 + VW <= P) {
                bits = nonzero_bits(xk + j0, stride, steps);
            } else {  /* the last, partial group */
                bits = 0;
                for (int64_t j = j0; j < P; j++)
                    for (int64_t s = 0; s < steps; s++)
                        bits |= (unsigned)(xk[s * stride + j] != 0.0f) << (j - j0);
            }
            for (; bits; bits &= bits - 1) {
                const int64_t j = j0 + __builtin_ctz(bits);
                float *v = vk + (int64_t)n * TB;
                for (int64_t s = 0; s < TB; s++)
                    v[s] = s < steps ? xk[s * stride + j] : 0.0f;
                ik[n++] = (int32_t)j;
            }
        }
        count[k] = n;
    }
}

/* out [T, B, N] = x @ W.T + bias, for the x [T, B, P] that snn_compact regrouped.
   wt [P, N] is W transposed; bias [N] may be NULL. N % CW == 0. */
__attribute__((optimize("fp-contract=fast")))
void snn_spike_linear_fwd(const int32_t *count, const int32_t *idx, const float *val,
                          const float *wt, const float *bias, float *out,
                          int64_t T, int64_t B, int64_t P, int64_t N)
{
    const int64_t nblk = (T + TB - 1) / TB;
    #pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < B * nblk; k++) {
        const int64_t b = k / nblk, t0 = (k % nblk) * TB, steps = min64(TB, T - t0);
        const int32_t *ik = idx + k * P;
        const float *vk = val + k * P * TB;
        for (int64_t c = 0; c < N; c += CW) {
            vf acc[TB][CH];
            for (int h = 0; h < CH; h++) {
                const vf start = bias ? LOAD(bias + c + h * VW) : (vf){0};
                for (int s = 0; s < TB; s++) acc[s][h] = start;
            }
            for (int32_t i = 0; i < count[k]; i++) {
                const float *w = wt + (int64_t)ik[i] * N + c;
                vf wv[CH];
                for (int h = 0; h < CH; h++) wv[h] = LOAD(w + h * VW);
                for (int s = 0; s < TB; s++) {
                    const vf xs = (vf){0} + vk[(int64_t)i * TB + s];
                    for (int h = 0; h < CH; h++) acc[s][h] += xs * wv[h];
                }
            }
            for (int64_t s = 0; s < steps; s++)
                for (int h = 0; h < CH; h++) STORE(out + ((t0 + s) * B + b) * N + c + h * VW, acc[s][h]);
        }
    }
}

/* gwt [P, N] = sum over t, b of x[t, b, :]^T g[t, b, :], for the x that snn_compact
   regrouped: the gradient of W.T in x @ W.T, given g [T, B, N] = dL/d(out). N % CW == 0. */
__attribute__((optimize("fp-contract=fast")))
void snn_spike_linear_wgrad(const int32_t *count, const int32_t *idx, const float *val,
                            const float *g, float *gwt,
                            int64_t T, int64_t B, int64_t P, int64_t N)
{
    const int64_t nblk = (T + TB - 1) / TB;
    #pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < N; c += CW) {  /* threads own columns: no two write the same value */
        for (int64_t j = 0; j < P; j++) memset(gwt + j * N + c, 0, CW * sizeof(float));
        for (int64_t k = 0; k < B * nblk; k++) {
            const int64_t b = k / nblk, t0 = (k % nblk) * TB, steps = min64(TB, T - t0);
            const int32_t *ik = idx + k * P;
            const float *vk = val + k * P * TB;
            vf gv[TB][CH];
            for (int s = 0; s < TB; s++)
                for (int h = 0; h < CH; h++)
                    gv[s][h] = s < steps ? LOAD(g + ((t0 + s) * B + b) * N + c + h * VW) : (vf){0};
            for (int32_t i = 0; i < count[k]; i++) {
                float *w = gwt + (int64_t)ik[i] * N + c;
                const float *v = vk + (int64_t)i * TB;
                vf sum[CH];
                for (int h = 0; h < CH; h++) sum[h] = v[0] * gv[0][h];
                for (int s = 1; s < TB; s++)
                    for (int h = 0; h < CH; h++) sum[h] += v[s] * gv[s][h];
                for (int h = 0; h < CH; h++) STORE(w + h * VW, LOAD(w + h * VW) + sum[h]);
            }
        }
    }
}

/* The columns of a weight matrix, as rows, and back. gather: wt[j, :] = w[:, cols[j]], for w [N, I]
   and wt [P, N] (torch: w.t().index_select(0, cols)). scatter: w = 0, then w[:, cols[j]] += wt[j, :]
   for j = 0, 1, ... (torch: zeros(N, I).index_add_(1, cols, wt.t())). Both take 16 rows of w at a
   time, so that every cache line read or written is used whole. Copies and additions to zero, in
   torch's order: the same numbers. cols: int64 [P], each in [0, I) (kernels.py checks). */
#define ROWS 16
void snn_gather_columns(const float *w, const int64_t *cols, float *wt, int64_t N, int64_t I, int64_t P)
{
    #pragma omp parallel for schedule(static)
    for (int64_t n0 = 0; n0 < N; n0 += ROWS) {
        const int64_t n1 = min64(n0 + ROWS, N);
        for (int64_t j = 0; j < P; j++)
            for (int64_t n = n0; n < n1; n++)
                wt[j * N + n] = w[n * I + cols[j]];
    }
}

void snn_scatter_columns(const float *wt, const int64_t *cols, float *w, int64_t N, int64_t I, int64_t P)
{
    #pragma omp parallel for schedule(static)
    for (int64_t n0 = 0; n0 < N; n0 += ROWS) {
        const int64_t n1 = min64(n0 + ROWS, N);
        memset(w + n0 * I, 0, (size_t)((n1 - n0) * I) * sizeof(float));
        for (int64_t j = 0; j < P; j++)
            for (int64_t n = n0; n < n1; n++)
                w[n * I + cols[j]] += wt[j * N + n];
    }
}

/* Poisson (Bernoulli) spikes out [T, N], as encoding._draw computes them in torch, without its temporaries:
   out[t, n] = 1 where probs[n] >= 1; noise[t, r] < probs[n] where 0 < probs[n] < 1 and n is the
   r-th such intensity (counting from 0, in order); else 0 (NaN too). noise [T, D] holds the
   draws, D the number of intensities strictly between 0 and 1; where [D + 1] is room for the
   list of those n. Returns 0, or 1 without writing out when D is not that number.
   One step's work is a function of its own, with restrict pointers: written inside the OpenMP
   loop, where gcc cannot tell that out does not overlap the other arrays, it ran 5 times slower. */
static void poisson_step(const float *restrict probs, const float *restrict z, const int32_t *restrict where,
                         float *restrict o, int64_t N, int64_t D)
{
    for (int64_t n = 0; n < N; n++)
        o[n] = probs[n] >= 1.0f ? 1.0f : 0.0f;
    for (int64_t i = 0; i < D; i++)
        o[where[i]] = z[i] < probs[where[i]] ? 1.0f : 0.0f;
}

int snn_poisson(const float *probs, const float *noise, int32_t *where, float *out,
                int64_t T, int64_t N, int64_t D)
{
    int64_t r = 0;
    for (int64_t n = 0; n < N; n++) {  /* no branch but the check: where has room for one more */
        where[r] = (int32_t)n;
        r += probs[n] > 0.0f && probs[n] < 1.0f;
        if (r > D)
            return 1;
    }
    if (r != D)
        return 1;
    #pragma omp parallel for schedule(static)
    for (int64_t t = 0; t < T; t++)
        poisson_step(probs, noise + t * D, where, out + t * N, N, D);
    return 0;
}

/* torch.rand's float32 numbers from a CPU torch.Generator, the same ones, drawn faster: torch draws
   them one at a time on one thread (about 2 ns each); here each batch of 624 is made in two
   loops that vectorise. The generator is torch's MT19937 (ATen's MT19937RNGEngine.h), and
   torch.rand's float is the low 24 bits of one 32-bit output, times 2^-24 (DistributionsHelper.h).
   state is what Generator.get_state() returns (CPUGeneratorImplState, whose first part is laid out
   as below, the 624 words widened to 64 bits); it is advanced here as torch would advance it, to
   be handed back with Generator.set_state(). kernels.py checks once per process, against torch
   itself, that this gives torch's numbers and state, and uses torch.rand where it does not. */
#define MT_N 624
#define MT_M 397
struct generator_state {  /* at::CPUGeneratorImplStateLegacy, up to its words */
    uint64_t seed;
    int32_t left;         /* draws until the next twist, plus one (1: twist before the next draw) */
    int32_t seeded;
    uint64_t next;        /* the next word to temper */
    uint64_t words[MT_N];
};

static void mt_twist(uint32_t *mt)  /* the next 624 words (mt19937_engine::next_state) */
{
    int i = 0;
    for (; i < MT_N - MT_M; i++) {
        const uint32_t y = (mt[i] & 0x80000000u) | (mt[i + 1] & 0x7fffffffu);
        mt[i] = mt[i + MT_M] ^ (y >> 1) ^ ((mt[i + 1] & 1u) ? 0x9908b0dfu : 0u);
    }
    for (; i < MT_N - 1; i++) {
        const uint32_t y = (mt[i] & 0x80000000u) | (mt[i + 1] & 0x7fffffffu);
        mt[i] = mt[i + MT_M - MT_N] ^ (y >> 1) ^ ((mt[i + 1] & 1u) ? 0x9908b0dfu : 0u);
    }
    const uint32_t y = (mt[MT_N - 1] & 0x80000000u) | (mt[0] & 0x7fffffffu);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ ((mt[0] & 1u) ? 0x9908b0dfu : 0u);
}

static void mt_floats(const uint32_t *restrict mt, float *restrict out, int64_t n)  /* temper, then 24 bits */
{
    for (int64_t k = 0; k < n; k++) {
        uint32_t y = mt[k];
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        out[k] = (float)(y & 0xffffffu) * 5.9604644775390625e-8f;  /* 2^-24 */
    }
}

/* out[0..n) = the next n numbers of torch.rand from state (advanced). Returns 0, or 1 without
   touching anything when the state's counters are out of the range torch keeps them in. */
int snn_rand(uint8_t *state, float *out, int64_t n)
{
    struct generator_state g;  /* copied in and out: no assumption on the bytes' alignment */
    memcpy(&g, state, sizeof g);
    if (g.left < 1 || g.left > MT_N || g.next > MT_N)
        return 1;
    uint32_t mt[MT_N];
    for (int i = 0; i < MT_N; i++)
        mt[i] = (uint32_t)g.words[i];
    int64_t left = g.left, next = (int64_t)g.next;
    for (int64_t done = 0; done < n;) {
        if (left == 1) {  /* as torch: twist, then the draw that follows takes word 0 */
            mt_twist(mt);
            left = MT_N + 1;
            next = 0;
        }
        const int64_t k = min64(n - done, left - 1);
        mt_floats(mt + next, out + done, k);
        done += k;
        next += k;
        left -= k;
    }
    for (int i = 0; i < MT_N; i++)
        g.words[i] = mt[i];
    g.left = (int32_t)left;
    g.next = (uint64_t)next;
    memcpy(state, &g, sizeof g);
    return 0;
}

#define SPAN 2048  /* neurons per piece of work in the LIF kernels */

/* The LIF recurrence (FusedLIF.forward) with the step-by-step loop's operations, in
   its order: U[t] = beta * M[t-1] + I[t], S[t] = (U[t] >= threshold), and
   M[t] = U[t] * (1 - S[t]) (reset to zero) or U[t] - threshold * S[t] (subtract).
   cur, pot, spk: [T, M] (M neurons, e.g. B * N). */
void snn_lif_fwd(const float *cur, float *pot, float *spk, int64_t T, int64_t M,
                 float beta, float threshold, int subtract)
{
    #pragma omp parallel for schedule(static)
    for (int64_t m0 = 0; m0 < M; m0 += SPAN) {
        const int64_t m1 = min64(m0 + SPAN, M);
        for (int64_t t = 0; t < T; t++) {
            const float *i_t = cur + t * M, *u_prev = pot + (t > 0 ? t - 1 : 0) * M, *s_prev = spk + (t > 0 ? t - 1 : 0) * M;
            float *u_t = pot + t * M, *s_t = spk + t * M;
            for (int64_t m = m0; m < m1; m++) {
                float u = i_t[m];
                if (t > 0) {
                    const float mem = subtract ? u_prev[m] - threshold * s_prev[m]
                                               : u_prev[m] * (1.0f - s_prev[m]);
                    u = beta * mem + u;
                }
                u_t[m] = u;
                s_t[m] = u >= threshold ? 1.0f : 0.0f;
            }
        }
    }
}

/* e^x for x in [-87, 88] to about 1 ulp, in plain arithmetic so that loops of it
   vectorise: e^x = 2^n e^r with n = round(x / ln 2) and a polynomial for e^r (Cephes' expf).
   x outside [-87, 88] is clamped to it, and NaN gives NaN: 2^n is built from the bits
   of the rounding sum (which hold 0x4B400000 + n), in unsigned arithmetic, never by
   converting a float to an integer, which C leaves undefined for NaN. */
static inline float exp_poly(float x)
{
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);  /* NaN stays NaN */
    const union { float f; uint32_t i; } sum = {.f = x * 1.44269504088896341f + 12582912.0f};
    const float n = sum.f - 12582912.0f;  /* round(x / ln 2), as 1.5 * 2^23 + n rounds to an integer */
    const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;           /* x - n ln 2, in two parts */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    const union { uint32_t i; float f; } scale = {.i = (sum.i - 0x4B400000u + 127u) << 23};  /* 2^n */
    return p * scale.f;
}

/* The surrogate derivatives of neurons.py, at x = U - threshold. */
static inline float surrogate(float x, float slope, int kind)
{
    if (kind == 0) {  /* sigmoid: s (1 - s), s = sigmoid(slope x) */
        const float s = 1.0f / (1.0f + exp_poly(-slope * x));
        return s * (1.0f - s);
    }
    if (kind == 1) {  /* fast sigmoid: 1 / (1 + slope |x|)^2 */
        const float d = 1.0f + slope * (x < 0 ? -x : x);
        return 1.0f / (d * d);
    }
    const float d = 1.5707963267948966f * slope * x;  /* arctan: (slope / 2) / (1 + (pi/2 slope x)^2) */
    return (slope * 0.5f) / (1.0f + d * d);
}

/* One step of FusedLIF.backward over n neurons, for a surrogate (kind: 0 sigmoid,
   1 fast sigmoid, 2 arctan) and a reset fixed at compile time, so that the loop
   vectorises: with g = surrogate(U - threshold),
   dL/dI[t] = dL/dS[t] g + beta A dL/dI[t+1], where A = (1 - S) - U g (reset to zero)
   or 1 - threshold g (subtract). */
static inline __attribute__((always_inline))
void lif_bwd_step(const float *restrict gs, const float *restrict u, const float *restrict s,
                  const float *restrict next, float *restrict out, int64_t n,
                  float beta, float threshold, float slope, const int kind, const int subtract)
{
    for (int64_t m = 0; m < n; m++) {
        const float g = surrogate(u[m] - threshold, slope, kind);
        const float carry = subtract ? 1.0f - threshold * g : (1.0f - s[m]) - u[m] * g;
        out[m] = gs[m] * g + beta * carry * next[m];
    }
}

#define STEP_ARGS const float *restrict gs, const float *restrict u, const float *restrict s, \
    const float *restrict next, float *restrict out, int64_t n, float beta, float threshold, float slope
#define STEP_PASS gs, u, s, next, out, n, beta, threshold, slope
typedef void (*lif_bwd_fn)(STEP_ARGS);
static void bwd_sigmoid_zero(STEP_ARGS) { lif_bwd_step(STEP_PASS, 0, 0); }
static void bwd_sigmoid_subtract(STEP_ARGS) { lif_bwd_step(STEP_PASS, 0, 1); }
static void bwd_fast_sigmoid_zero(STEP_ARGS) { lif_bwd_step(STEP_PASS, 1, 0); }
static void bwd_fast_sigmoid_subtract(STEP_ARGS) { lif_bwd_step(STEP_PASS, 1, 1); }
static void bwd_arctan_zero(STEP_ARGS) { lif_bwd_step(STEP_PASS, 2, 0); }
static void bwd_arctan_subtract(STEP_ARGS) { lif_bwd_step(STEP_PASS, 2, 1); }

/* FusedLIF.backward: grad_spk = dL/dS, pot = U, spk = S in, grad_cur = dL/dI out, all [T, M].
   kind (0 sigmoid, 1 fast sigmoid, 2 arctan: the row of the table below) and subtract
   (0 reset to zero, 1 subtract) as in lif_bwd_step. Returns 0, or 1 without touching
   memory when kind or subtract is out of range. */
int snn_lif_bwd(const float *grad_spk, const float *pot, const float *spk, float *grad_cur,
                int64_t T, int64_t M, float beta, float threshold, float slope,
                int kind, int subtract)
{
    static const lif_bwd_fn steps[3][2] = {
        {bwd_sigmoid_zero, bwd_sigmoid_subtract},
        {bwd_fast_sigmoid_zero, bwd_fast_sigmoid_subtract},
        {bwd_arctan_zero, bwd_arctan_subtract},
    };
    if (kind < 0 || kind >= (int)(sizeof steps / sizeof steps[0]) || subtract < 0 || subtract > 1)
        return 1;
    const lif_bwd_fn step = steps[kind][subtract];
    #pragma omp parallel for schedule(static)
    for (int64_t m0 = 0; m0 < M; m0 += SPAN) {
        const float zeros[SPAN] = {0};  /* dL/dI after the last step */
        const int64_t n = min64(SPAN, M - m0);
        for (int64_t t = T - 1; t >= 0; t--)
            step(grad_spk + t * M + m0, pot + t * M + m0, spk + t * M + m0,
                 t == T - 1 ? zeros : grad_cur + (t + 1) * M + m0, grad_cur + t * M + m0, n,
                 beta, threshold, slope);
    }
    return 0;
}

/* The number of OpenMP threads the parallel loops above run on (1 without OpenMP). */
int snn_num_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/* Subnormal floats flushed to zero on every thread of the OpenMP team that the loops above
   (and torch's own, on the same pool) run on: MXCSR's FTZ bit (results) and DAZ bit (inputs),
   the two that torch.set_flush_denormal sets, but on the calling thread only. Each thread
   has its own MXCSR, inherited only when the thread is created, so each sets its own here.
   on = 1 sets both bits, 0 clears both, -1 changes nothing. Returns how many of the team's
   threads had both set before, or -1 where the CPU has no MXCSR (not x86; nothing changed). */
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
int snn_set_ftz(int on)
{
#if defined(__SSE__)
    const unsigned int bits = 0x8040u;  /* FTZ (bit 15) and DAZ (bit 6) */
    int before = 0;
    #pragma omp parallel reduction(+:before)
    {
        const unsigned int csr = _mm_getcsr();
        before += (csr & bits) == bits;
        if (on == 1)
            _mm_setcsr(csr | bits);
        else if (on == 0)
            _mm_setcsr(csr & ~bits);
    }
    return before;
#else
    (void)on;
    return -1;
#endif
}
