"""shacl layer."""
