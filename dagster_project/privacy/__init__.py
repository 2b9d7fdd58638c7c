"""Right to erasure: forget one person everywhere the platform keeps them, and keep them out.

``erasure.forget`` is the entry point; ``tombstones`` holds the keyed hashes that stop
re-delivered files from bringing an erased person back (the loader calls
``tombstones.drop_erased_rows``).
"""
