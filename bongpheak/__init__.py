"""Composition root: settings, the command line and the app factory wiring the other packages together."""
