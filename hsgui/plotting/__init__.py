"""Plotting: linked plot panes drawn from store-side summaries (raw points when zoomed in), the
zone-aware time axis, the time-range picker, CSV/PNG/SVG export; ``demo`` renders the plot images."""
