"""The real-time decision API: the batch's snapshot, served and re-decided per session."""
