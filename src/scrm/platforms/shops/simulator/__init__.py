"""A simulator of the five shop platforms over one shared world (see `app.py`)."""
