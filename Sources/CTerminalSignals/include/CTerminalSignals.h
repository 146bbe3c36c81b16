#ifndef BUCKETSCOPE_TERMINAL_SIGNALS_H
#define BUCKETSCOPE_TERMINAL_SIGNALS_H

/// Installs the dashboard's handlers:
/// - SIGINT, SIGTERM, SIGHUP only record the signal (async-signal-safe); the frame loop polls
///   `bs_signals_stop_signal` and leaves normally, restoring the terminal on the way out.
/// - SIGILL (a Swift trap on x86-64), SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGTRAP call `restore`
///   (pass curses' `endwin`) once, put back the default action and re-raise, so the process
///   still dies of the signal (and dumps core if enabled) with the terminal usable.
/// Crash handlers run on an alternate stack, so a stack overflow is caught too.
void bs_signals_install(int (*restore)(void));

/// The stop signal received since `bs_signals_install`, or 0.
int bs_signals_stop_signal(void);

/// Puts back the default action for every signal `bs_signals_install` handled.
void bs_signals_uninstall(void);

/// Default action for `sig`, unblocked in the calling thread, then raises it: ends the process
/// the way the signal would have (exit status 128 + sig in a shell).
void bs_signals_reraise(int sig);

#endif
