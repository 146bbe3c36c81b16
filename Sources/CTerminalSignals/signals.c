#define _XOPEN_SOURCE 700
#include "CTerminalSignals.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>

static volatile sig_atomic_t stop_signal = 0;
static volatile sig_atomic_t restored = 0;
static int (*restore_terminal)(void) = NULL;
static char alternate_stack[64 * 1024];

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
static const int crash_signals[] = {SIGILL, SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGTRAP};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void on_stop(int sig) { stop_signal = sig; }

static void on_crash(int sig) {
    if (!restored) {
        restored = 1;
        if (restore_terminal != NULL) restore_terminal();
    }
    // SA_RESETHAND has already put back the default action; raising delivers it now
    // (SA_NODEFER leaves the signal unblocked inside this handler).
    raise(sig);
}

void bs_signals_install(int (*restore)(void)) {
    restore_terminal = restore;
    stop_signal = 0;
    restored = 0;

    stack_t stack;
    memset(&stack, 0, sizeof stack);
    stack.ss_sp = alternate_stack;
    stack.ss_size = sizeof alternate_stack;
    sigaltstack(&stack, NULL);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    action.sa_handler = on_stop;
    action.sa_flags = 0; // no SA_RESTART: a blocking read returns, so the loop sees the flag
    for (size_t i = 0; i < COUNT(stop_signals); i++) sigaction(stop_signals[i], &action, NULL);

    action.sa_handler = on_crash;
    action.sa_flags = SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
    for (size_t i = 0; i < COUNT(crash_signals); i++) sigaction(crash_signals[i], &action, NULL);
}

int bs_signals_stop_signal(void) { return stop_signal; }

void bs_signals_uninstall(void) {
    for (size_t i = 0; i < COUNT(stop_signals); i++) signal(stop_signals[i], SIG_DFL);
    for (size_t i = 0; i < COUNT(crash_signals); i++) signal(crash_signals[i], SIG_DFL);
    restore_terminal = NULL;
}

void bs_signals_reraise(int sig) {
    signal(sig, SIG_DFL);
    // The caller may be a worker thread that blocks signals (Swift's async main runs on one):
    // unblock it here, or raise() would leave it pending and the process would exit 0.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    raise(sig);
}
