"""blindspot: find the blind spots a single global accuracy hides."""

__version__ = "0.1.0"
