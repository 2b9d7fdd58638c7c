"""Independent generators of test data."""
