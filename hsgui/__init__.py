"""HyperStream Studio: the Qt application over the ``channels`` library.

Layout (the rules are import-linter contracts in ``pyproject.toml``, checked by the tests):

* the shell — ``__main__`` (command line), ``app`` (QApplication, first window, screenshots),
  ``main_window`` (docks, menus, wiring), ``connect_dialog``, ``settings`` (QSettings), ``connection``
  (opening stores, the demo store; pure Python) — is the only code that imports the features;
* features, independent of each other: ``browse`` (stream tree, inspector, instances table),
  ``plotting`` (plot area, time axis, time-range picker, export), ``compute`` (tools dock, run dialog,
  parameter form, run history, purge), ``assets`` (asset editor and its dialogs), ``jobs`` (jobs and
  log docks);
* ``forms`` — editors for structured values shared by features (value tree form, meta-data editor,
  and their pure models);
* ``common`` — helpers every layer uses: time formatting (pure), the background job runner, drag-and-drop
  MIME of streams.
"""
__version__ = "0.1.0"
