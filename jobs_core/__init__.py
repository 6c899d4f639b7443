"""Domain core: employers, jobs, relatives, workers, consent, applications, moderation, screening, matching, stats."""
