"""Shell wiring of the Annotations feature: the dock, the bands on every plot pane, the panes' requests for a
new annotation, and how they follow the connection, the time range, the zone and finished jobs."""
from __future__ import annotations

from PySide6.QtCore import Qt

from hsgui.annotations.dock import JOB_PREFIX, AnnotationsDock


def install_annotation_docks(window) -> None:
    """Add the Annotations dock to ``window`` (a MainWindow) and connect it to the plots."""
    dock = window.annotations = AnnotationsDock(window.runner, window)
    window.add_dock("annotations", "Annotations", dock, Qt.DockWidgetArea.RightDockWidgetArea,
                    tabify_with="inspector")
    window.managerChanged.connect(dock.set_manager)
    dock.sigAnnotationsLoaded.connect(window.plot_area.set_annotations)
    dock.sigJumpRequested.connect(lambda iv: window.picker.set_interval(iv, emit=True))
    dock.sigStatus.connect(lambda text: window.statusBar().showMessage(text, 10000))
    window.picker.sigRangeChanged.connect(dock.set_interval)
    window.plot_area.sigRangeChanged.connect(dock.set_interval)
    window.picker.sigTimeZoneChanged.connect(dock.set_time_zone)
    dock.set_interval(window.picker.interval())

    def annotate(start, end):
        window.docks["annotations"].show()
        window.docks["annotations"].raise_()
        dock.ask_new(start, end)

    window.plot_area.sigAnnotateRequested.connect(annotate)

    def job_finished(job):
        # a tool or an import may have written the annotations stream (the dock's own writes reload it already)
        if job.kind.writes_data and not job.title.startswith(JOB_PREFIX):
            dock.reload()

    window.runner.jobFinished.connect(job_finished)
    window.menus["tools"].addAction("Annotations", lambda: (window.docks["annotations"].show(),
                                                            window.docks["annotations"].raise_()))


__all__ = ["install_annotation_docks"]
