"""The ``journey`` command line (``app.app``), one module per command group."""
