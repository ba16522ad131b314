"""Output targets: where rendered files go."""
