"""Cross-cutting parts: the runtime context, rate limiting, caches, metrics and logging."""
