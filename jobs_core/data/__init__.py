"""Data files for jobs_core: screening terms, wage norms, the licensed-agency list (see each file)."""
