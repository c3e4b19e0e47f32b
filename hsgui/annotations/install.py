"""The annotations feature: the Annotations dock, the bands on every plot pane, the panes' requests for a new
annotation, following the connection, the range, the zone and finished jobs."""
from __future__ import annotations

from PySide6.QtCore import QObject

from hsgui.annotations.dock import JOB_PREFIX, AnnotationsDock
from hsgui.shell import follow



class Annotations(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        dock = self.annotations = AnnotationsDock(shell.runner, shell.widget)
        # scroll: its button row must not widen the right dock area beyond what the inspector needs
        shell.add_dock("annotations", "Annotations", dock, "right", tabify_with="inspector", scroll=True)
        self.views = {"annotations": dock}
        follow(self, shell.state, "manager", dock.set_manager)
        follow(self, shell.state, "interval", lambda iv: iv is not None and dock.set_interval(iv))
        follow(self, shell.state, "time_zone", dock.set_time_zone)
        dock.sigAnnotationsLoaded.connect(shell.plots.set_annotations)
        dock.sigJumpRequested.connect(self._jump)
        dock.sigStatus.connect(lambda text: shell.show_status(text, 10000))
        shell.plots.sigAnnotateRequested.connect(self.annotate)
        shell.runner.jobFinished.connect(self._job_finished)

    def _jump(self, iv):
        self.shell.state.range_preset = None
        self.shell.state.interval = iv

    def annotate(self, start, end):
        self.shell.show_dock("annotations")
        self.annotations.ask_new(start, end)

    def _job_finished(self, job):
        # a tool or an import may have written the annotations stream (the dock's own writes reload it already)
        if job.kind.writes_data and not job.title.startswith(JOB_PREFIX):
            self.annotations.reload()


def install(shell) -> Annotations:
    a = Annotations(shell)
    shell.actions.add("annotations.show", "Annotations", lambda ctx: shell.show_dock("annotations"), menu="tools",
                      order=500)
    return a


__all__ = ["Annotations", "install"]
