"""Browse: find a stream and look at it — the channel/stream tree with its filter, the inspector
(id, meta-data, first/last, count, calculated-interval timeline) and the paged instances table."""
