"""Import: the user's own CSV, Parquet or JSON-lines files into streams — a dialog that detects the time
column, lets the user pick value columns and meta-data, previews the first rows, and imports in a
background job with progress, cancel and a report of every malformed row by line."""
