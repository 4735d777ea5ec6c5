"""Packaged as ``insight._configs``: the default config and taxonomy ship inside the installed wheel."""
