// The CPU time-stamp counter for TokenBucket's FastClock: a read, and whether it can be trusted
// as a clock (invariant and synchronized across CPUs); and a 16-byte compare-and-swap for
// Bucket's lock-free tryAcquire.
#ifndef CFASTCLOCK_H
#define CFASTCLOCK_H

#include <stdint.h>

/// The time-stamp counter (rdtsc): ticks at a constant rate on an invariant TSC. 0 where the
/// CPU has none (not x86-64); callers check cfc_tsc_usable() first.
static inline uint64_t cfc_rdtsc(void) {
#if defined(__x86_64__)
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
#else
    return 0;
#endif
}

/// 1 when the TSC can serve as a monotonic clock: the CPU reports an invariant TSC (CPUID
/// 0x80000007 EDX bit 8: constant rate across P-, C- and T-states), and, on Linux, the kernel
/// uses it as its own clocksource (it checks that the counters of all CPUs are synchronized
/// and demotes the TSC otherwise). 0 otherwise.
int cfc_tsc_usable(void);

/// A 16-byte word, 16-byte aligned, updated as a whole by cfc_pair_cas (cmpxchg16b): the
/// lock-free lane of TokenBucket's Bucket (lo: the scaled state, hi: a generation).
typedef struct __attribute__((aligned(16))) {
    uint64_t lo;
    uint64_t hi;
} cfc_pair;

/// Reads the two halves with two 64-bit acquire loads, `hi` first: the result may be torn (the
/// halves of two different values). Callers validate it: a cfc_pair_cas expecting it fails
/// unless it is the word's value, and a second cfc_pair_load_hi tells whether `hi` changed.
/// (64-bit loads of a word also written by cmpxchg16b: each half is read atomically on x86-64,
/// which is all this needs.)
static inline cfc_pair cfc_pair_load(cfc_pair *cell) {
    cfc_pair r;
    r.hi = __atomic_load_n(&cell->hi, __ATOMIC_ACQUIRE);
    r.lo = __atomic_load_n(&cell->lo, __ATOMIC_ACQUIRE);
    return r;
}

/// The `hi` half alone (acquire).
static inline uint64_t cfc_pair_load_hi(cfc_pair *cell) {
    return __atomic_load_n(&cell->hi, __ATOMIC_ACQUIRE);
}

/// Replaces the word with `desired` if it equals `expected`, atomically (lock cmpxchg16b, a
/// full barrier); returns 1 if it did. `*seen` receives the value found. Only call after
/// cfc_pair_cas_usable() said 1.
static inline int cfc_pair_cas(cfc_pair *cell, cfc_pair expected, cfc_pair desired, cfc_pair *seen) {
#if defined(__x86_64__)
    uint64_t lo = expected.lo, hi = expected.hi;
    unsigned char ok;
    __asm__ __volatile__("lock cmpxchg16b %1\n\tsete %0"
                         : "=q"(ok), "+m"(*cell), "+a"(lo), "+d"(hi)
                         : "b"(desired.lo), "c"(desired.hi)
                         : "memory", "cc");
    seen->lo = lo;
    seen->hi = hi;
    return ok;
#else
    (void)cell; (void)expected; (void)desired;
    *seen = expected;
    return 0;
#endif
}

/// The GCRA parameters of one opening of the lane (see TokenBucket's LockFreeLane).
typedef struct {
    int64_t base;
    int64_t p;
    int64_t q;
    int64_t burst;
    int64_t capacity_units;
} cfc_lane_params;

/// The lane of one Bucket: the word and the parameters it was opened with (its owner puts it
/// on a cache line of its own). Plain memory, so a Swift caller holds a pointer to it (no
/// reference counting on the lock-free path).
typedef struct {
    cfc_pair word;
    cfc_lane_params params;
} cfc_lane;

/// The parameters, each field an acquire load (written only while the lane is closed).
static inline cfc_lane_params cfc_lane_load_params(cfc_lane *lane) {
    cfc_lane_params r;
    r.base = __atomic_load_n(&lane->params.base, __ATOMIC_ACQUIRE);
    r.p = __atomic_load_n(&lane->params.p, __ATOMIC_ACQUIRE);
    r.q = __atomic_load_n(&lane->params.q, __ATOMIC_ACQUIRE);
    r.burst = __atomic_load_n(&lane->params.burst, __ATOMIC_ACQUIRE);
    r.capacity_units = __atomic_load_n(&lane->params.capacity_units, __ATOMIC_ACQUIRE);
    return r;
}

/// Publishes new parameters (release stores); only while the lane is closed.
static inline void cfc_lane_store_params(cfc_lane *lane, cfc_lane_params v) {
    __atomic_store_n(&lane->params.base, v.base, __ATOMIC_RELEASE);
    __atomic_store_n(&lane->params.p, v.p, __ATOMIC_RELEASE);
    __atomic_store_n(&lane->params.q, v.q, __ATOMIC_RELEASE);
    __atomic_store_n(&lane->params.burst, v.burst, __ATOMIC_RELEASE);
    __atomic_store_n(&lane->params.capacity_units, v.capacity_units, __ATOMIC_RELEASE);
}

/// 1 when cfc_pair_cas can run: an x86-64 CPU with cmpxchg16b (CPUID 1 ECX bit 13). 0 elsewhere.
int cfc_pair_cas_usable(void);

#endif
