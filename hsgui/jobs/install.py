"""The jobs feature: the Jobs and Log docks (bottom, tabbed with the Instances) and Cancel newest job (Ctrl+.,
which works in dialogs too)."""
from __future__ import annotations

from PySide6.QtCore import QObject

from hsgui.jobs.jobs_dock import JobsDock
from hsgui.jobs.log_dock import LogDock



class Jobs(QObject):
    def __init__(self, shell):
        super().__init__(shell.widget)
        self.shell = shell
        self.jobs = JobsDock(shell.runner, shell.widget)
        self.log_view = LogDock(shell.widget, runner=shell.runner)   # every job's end is logged
        shell.add_dock("jobs", "Jobs", self.jobs, "bottom", tabify_with="instances")
        shell.add_dock("log", "Log", self.log_view, "bottom", tabify_with="jobs")
        shell.on_close(self.log_view.detach)
        self.views = {"jobs": self.jobs, "log_view": self.log_view}

    def cancel_newest(self, _ctx=None):
        jobs = [j for j in self.shell.runner.active if j.kind.user_cancels]
        if not jobs:
            self.shell.show_status("No job to cancel", 4000)
            return None
        job = jobs[-1]
        job.cancel()
        self.shell.show_status(f"Cancelling {job.title}…", 6000)
        return job


def install(shell) -> Jobs:
    j = Jobs(shell)
    shell.actions.add("jobs.cancel", "Cancel the newest job", j.cancel_newest, menu="tools", order=110,
                      shortcut="Ctrl+.", everywhere=True, tip="Cancel the newest running job")
    shell.actions.add("jobs.show", "Jobs", lambda ctx: shell.show_dock("jobs"), menu="tools", order=800)
    return j


__all__ = ["Jobs", "install"]
