"""Socket flow analysis: import resolution, the per-function flow interpreter, and its facts."""
