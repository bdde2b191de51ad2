"""Background jobs: centre notifications, the retention purge, blob clean-up and the
key-rotation check, plus the rq worker that runs them.

Every job takes ids only, never content or credentials, and is idempotent: running it
twice, or at the same time in two processes, has the effect of running it once.
"""
