"""The benchmark (``make bench``): one module per stage family, each stage in its own process."""
