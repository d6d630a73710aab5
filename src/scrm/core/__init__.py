"""The kernel: database, unit of work, events, outbox, timers, worker. It imports no domain."""
