"""Forms: editors for structured values that more than one feature uses (asset values and tool
parameters share the value tree form; new assets and tool outputs share the meta-data editor).

``value_model`` (value trees, kinds, schema checks, JSON text, diffs) and ``schemas`` (built-in and
tool-derived schemas) are pure Python; ``value_form`` and ``meta_editor`` are their Qt faces."""
