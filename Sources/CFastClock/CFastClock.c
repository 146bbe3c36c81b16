#include "CFastClock.h"
#include <stdio.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#endif

static int invariant_tsc(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (__get_cpuid_max(0x80000000, 0) < 0x80000007) return 0;
    __cpuid(0x80000007, eax, ebx, ecx, edx);
    return (edx >> 8) & 1;
#else
    return 0;
#endif
}

static int kernel_clocksource_is_tsc(void) {
#if defined(__linux__)
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (!f) return 0;
    char name[32] = {0};
    int ok = fgets(name, sizeof name, f) != NULL && strncmp(name, "tsc", 3) == 0 && (name[3] == '\n' || name[3] == 0);
    fclose(f);
    return ok;
#else
    return 0;
#endif
}

int cfc_tsc_usable(void) {
    return invariant_tsc() && kernel_clocksource_is_tsc();
}

int cfc_pair_cas_usable(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx >> 13) & 1;
#else
    return 0;
#endif
}
