"""Khmer voice: prompt catalog and packs, number reading, composer, renderer, audio cache."""
