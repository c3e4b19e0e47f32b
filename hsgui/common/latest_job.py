"""The newest of a series of requests: a plot curve or an XY pane re-reads on every range change, and only the
last request's answer may be drawn."""
from __future__ import annotations


class LatestJob:
    """Submitting cancels the previous job; a late result, error or cancel of an older one is dropped, and so is
    any answer once ``alive()`` says the receiver is gone. ``busy`` is true until the newest request answered."""

    def __init__(self, alive=lambda: True):
        self.job = None
        self.seq = 0
        self.pending = False
        self._alive = alive

    @property
    def busy(self) -> bool:
        return self.pending

    def submit(self, runner, title: str, fn, *args, on_result, on_error):
        self.cancel()
        seq = self.seq
        self.pending = True

        def newest(callback):
            def call(*a):
                if seq != self.seq or not self._alive():
                    return
                self.pending = False
                callback(*a)
            return call

        self.job = runner.submit(title, fn, *args, on_result=newest(on_result), on_error=newest(on_error),
                                 on_cancel=newest(lambda: None))
        return self.job

    def cancel(self) -> None:
        """Cancel the running request and drop whatever it still delivers."""
        if self.job is not None:
            self.job.cancel()
        self.seq += 1
        self.pending = False


__all__ = ["LatestJob"]
