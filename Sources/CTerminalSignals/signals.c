int bucketscope_signals_placeholder(void) { return 0; }
