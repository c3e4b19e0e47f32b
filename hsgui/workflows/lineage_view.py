"""The Lineage dock: for the selected stream (any store, with or without workflows), the streams it was
computed from and the streams computed from it, the runs between them, its stale intervals with their
reasons, and "Recompute stale" (purge and recompute exactly those intervals, after a confirm that says
how many instances it deletes)."""
from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton,
                               QTextBrowser, QVBoxLayout, QWidget)

from channels.utils import UTC

from hsgui.common.background import JobKind
from hsgui.common.timefmt import format_intervals

ROLE = Qt.ItemDataRole.UserRole


def lineage_job(ctx, manager, channel_id, stream_id):
    from channels.workflows import lineage_index
    return lineage_index(manager).lineage(channel_id, stream_id)


def plan_job(ctx, manager, lineage):
    from channels.workflows import recompute_plan
    return recompute_plan(manager, lineage)


def recompute_job(ctx, manager, plan):
    from channels.workflows import recompute
    return recompute(manager, plan, progress=lambda f, n: ctx.report(f, f"{n:,} instances"), cancel=ctx.cancel_event)


class LineageView(QWidget):
    sigStreamActivated = Signal(str, object)   # channel_id, StreamId (double click on an up/downstream stream)
    sigStatus = Signal(str)

    def __init__(self, runner, parent=None):
        super().__init__(parent)
        self.runner = runner
        self._reading = (self, "lineage")   # JobRunner.latest key: only the newest stream's lineage answers
        self.manager = None
        self.stream = None
        self.lineage = None
        self.tz = UTC
        self.title = QLabel("<i>Select a stream to see where it comes from.</i>")
        self.title.setWordWrap(True)
        self.upstream = QListWidget()
        self.downstream = QListWidget()
        for lst in (self.upstream, self.downstream):
            lst.itemDoubleClicked.connect(self._activated)
        self.runs = QTextBrowser()
        self.recompute_button = QPushButton("Recompute stale…")
        self.recompute_button.setEnabled(False)
        self.recompute_button.clicked.connect(self.recompute_stale)
        lists = QVBoxLayout()   # stacked: the dock is narrow and stream ids are long
        for label, lst in (("Computed from", self.upstream), ("Used by", self.downstream)):
            lists.addWidget(QLabel(f"<b>{label}</b> <small>(double-click to select)</small>"))
            lists.addWidget(lst)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.title)
        lay.addLayout(lists, 1)
        lay.addWidget(self.runs, 1)
        lay.addWidget(self.recompute_button)

    def set_manager(self, manager) -> None:
        self.manager = manager
        self.set_stream(None)

    def set_time_zone(self, tz) -> None:
        self.tz = tz
        self._show()

    def set_stream(self, stream) -> None:
        self.stream, self.lineage = stream, None
        self.upstream.clear()
        self.downstream.clear()
        self.runs.clear()
        self.recompute_button.setEnabled(False)
        # a stream of another connection: during a store switch the tree shows the new store's streams before
        # set_manager reaches this view, and a job on the old manager would outlive its close
        if stream is None or self.manager is None or \
                self.manager.channels.get(stream.channel.channel_id) is not stream.channel:
            self.runner.cancel_latest(self._reading)
            self.title.setText("<i>Select a stream to see where it comes from.</i>")
            return
        self.title.setText(f"<b>{html.escape(str(stream.stream_id))}</b> <i>reading its runs and changes…</i>")
        self.runner.latest(self._reading, f"Lineage of {stream.stream_id}", lineage_job, self.manager,
                           stream.channel.channel_id, stream.stream_id, kind=JobKind.READ, owner=self,
                           on_result=self._loaded)

    def refresh(self) -> None:
        self.set_stream(self.stream)

    def _loaded(self, lineage) -> None:
        self.lineage = lineage
        self._show()

    def _show(self) -> None:
        lin = self.lineage
        if lin is None:
            return
        stale = lin.stale_intervals
        steps = getattr(lin, "steps", [])
        made = (f"{len(lin.writers)} run(s) wrote it" if lin.writers else
                f"computed by {len(steps)} workflow step(s) (from the stored definition)" if steps else
                "no recorded run wrote it")
        self.title.setText(f"<b>{html.escape(str(lin.stream_id))}</b> ({html.escape(lin.channel_id)}): " + made
                           + (f"; <span style='color:#6a1b9a'><b>stale</b>: "
                              f"{html.escape(format_intervals(stale, self.tz))}</span>" if not stale.is_empty else ""))
        for lst, pairs in ((self.upstream, lin.upstream), (self.downstream, lin.downstream)):
            lst.clear()
            for cid, sid in pairs:
                item = QListWidgetItem(f"{sid}  ({cid})")
                item.setData(ROLE, (cid, sid))
                lst.addItem(item)
            if not pairs:
                lst.addItem(QListWidgetItem("(none)"))
        rows = []
        for r in reversed(lin.writers):
            params = ", ".join(f"{k}={v!r}" for k, v in r.parameters.items())
            rows.append(f"<li><b>{html.escape(r.tool)}</b> v{html.escape(r.tool_version or '?')} "
                        f"({html.escape(params)}) computed {html.escape(format_intervals(r.computed, self.tz))}, "
                        f"{r.instances_written:,} instances</li>")
        for st in steps:
            f = st.factor
            params = ", ".join(f"{k}={v!r}" for k, v in f.tool.parameters.items())
            code = getattr(f.tool, "code_parameters", None) or []
            params += (", " if params and code else "") + ", ".join(f"{k}=<stored code>" for k in code)
            pv = ", ".join(f"{k}={v}" for k, v in st.plate_value) or "no plate"
            rows.append(f"<li><b>{html.escape(f.tool.name)}</b> v{html.escape(f.tool.version or '?')} "
                        f"({html.escape(params)}), workflow step for {html.escape(pv)}</li>")
        reasons = "".join(f"<li>{html.escape(format_intervals(s.intervals, self.tz))}: {html.escape(s.reason)}</li>"
                          for s in lin.stale)
        self.runs.setHtml((f"<b>Runs</b><ul>{''.join(rows)}</ul>" if rows else "")
                          + (f"<b>Stale</b><ul>{reasons}</ul>" if reasons else "<i>Nothing stale.</i>"))
        self.recompute_button.setEnabled(bool(lin.stale) and not getattr(self.stream.channel, "read_only", False))

    def _activated(self, item) -> None:
        data = item.data(ROLE)
        if data:
            self.sigStreamActivated.emit(*data)

    def recompute_stale(self) -> None:
        lin, manager = self.lineage, self.manager
        if lin is None or manager is None:
            return
        self.recompute_button.setEnabled(False)
        self.runner.submit(f"Count stale instances of {lin.stream_id}", plan_job, manager, lin, kind=JobKind.COUNT,
                           owner=self, on_result=lambda plan: self._confirm(manager, plan),
                           on_error=lambda msg: (self.sigStatus.emit(msg), self._show()))

    def _confirm(self, manager, plan) -> None:
        if manager is not self.manager:
            return
        text = (f"Purge {plan.instances:,} instance(s) of {plan.stream_id} in "
                f"{format_intervals(plan.intervals, self.tz)} and recompute them with the runs that made them?")
        box = QMessageBox(QMessageBox.Icon.Warning, "Recompute stale", text,
                          QMessageBox.StandardButton.Cancel, self)
        go = box.addButton(f"Purge {plan.instances:,} and recompute", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is not go:
            self._show()
            return
        self.runner.submit(f"Recompute stale {plan.stream_id}", recompute_job, manager, plan, kind=JobKind.TOOL,
                           owner=self,
                           on_result=lambda n: self.sigStatus.emit(f"{plan.stream_id}: recomputed "
                                                                   f"{format_intervals(plan.intervals, self.tz)}, "
                                                                   f"{n:,} instances written"),
                           on_error=lambda msg: self.sigStatus.emit(f"recompute failed: {msg}"),
                           on_finished=self.refresh)


__all__ = ["LineageView"]
