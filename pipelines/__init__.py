"""Entry points that are not the review app: the ``insight`` CLI and batch jobs."""
