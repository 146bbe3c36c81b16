// The CPU time-stamp counter for TokenBucket's FastClock: a read, and whether it can be trusted
// as a clock (invariant and synchronized across CPUs).
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

#endif
