int bucketscope_signals_placeholder(void);
