"""A call row's life without the IVR: calling hours, scheduling from events, claiming, pacing, placing and
what status callbacks do."""
