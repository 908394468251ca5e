"""Where the heavy loops run: in this process (``engine: local``) or on Ray (``engine: ray``)."""
