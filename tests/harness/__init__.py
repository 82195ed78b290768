"""Shared test parts: documents, servers and ports, PostgreSQL, reliability drivers.

Imported by the tests, bench/ and scripts/ (never a test module from those).
"""
