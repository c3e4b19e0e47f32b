"""Jobs: watch background work — the jobs dock (progress, cancel, errors) and the log dock. The runner
that every feature submits work to is :mod:`hsgui.common.background`."""
