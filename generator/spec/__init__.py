"""Spec loading, schema, validation and the frozen model. Entry point: `build.load_services`."""
