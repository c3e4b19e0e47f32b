"""Workflows: the computations HyperStream users organise — each workflow drawn as a graph coloured
by what has been computed over the current range, run in the background; the meta-data tree and
plates; the lineage of any stream with its stale intervals and "Recompute stale"."""
