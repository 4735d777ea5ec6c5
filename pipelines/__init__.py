"""Entry points that are not the review app: the ``insight`` command line (``cli.py`` and the modules it registers)."""
