"""The annotations feature: the Annotations dock, the bands on every plot pane, the panes' requests for a new
annotation, following the connection, the range, the zone and finished jobs."""
from __future__ import annotations

from PySide6.QtCore import QObject

from hsgui.annotations.dock import JOB_PREFIX, AnnotationsDock
from hsgui.common.background import guarded
from hsgui.shell import follow

#: jobs after which the annotations stream may have changed (a tool or an import may write it too)
WRITE_KINDS = {"tool", "purge", "write", "import", "workflow"}


class Annotations(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        dock = self.annotations = AnnotationsDock(shell.runner, shell.widget)
        shell.add_dock("annotations", "Annotations", dock, "right", tabify_with="inspector")
        self.views = {"annotations": dock}
        follow(self, shell.state, "manager", dock.set_manager)
        follow(self, shell.state, "interval", lambda iv: iv is not None and dock.set_interval(iv))
        follow(self, shell.state, "time_zone", dock.set_time_zone)
        dock.sigAnnotationsLoaded.connect(shell.plots.set_annotations)
        dock.sigJumpRequested.connect(self._jump)
        dock.sigStatus.connect(lambda text: shell.show_status(text, 10000))
        shell.plots.sigAnnotateRequested.connect(self.annotate)
        shell.runner.jobFinished.connect(guarded(self, self._job_finished))

    def _jump(self, iv):
        self.shell.state.range_preset = None
        self.shell.state.interval = iv

    def annotate(self, start, end):
        self.shell.show_dock("annotations")
        self.annotations.ask_new(start, end)

    def _job_finished(self, job):
        if job.kind in WRITE_KINDS and not job.title.startswith(JOB_PREFIX):  # its own: done
            self.annotations.reload()


def install(shell) -> Annotations:
    a = Annotations(shell)
    shell.actions.add("annotations.show", "Annotations", lambda ctx: shell.show_dock("annotations"), menu="tools",
                      order=500)
    return a


__all__ = ["Annotations", "install"]
