"""Generation: model backends (narrow interface, lazily imported) and the resumable generation stage."""
