"""Helpers below every feature: ``timefmt`` (zones and the one time/interval/coverage format; pure
Python), ``background`` (JobRunner: reads, tool runs and purges off the GUI thread), ``mime`` (streams
dragged between widgets)."""
