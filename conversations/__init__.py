"""Channel-agnostic dialog flows; state in PostgreSQL; emits abstract replies."""
