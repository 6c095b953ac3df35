"""Reading, validating and writing the files that pass between stages."""
