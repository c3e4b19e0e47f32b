"""Annotations feature: the Annotations dock and its dialog (the stream format is channels.annotations)."""
