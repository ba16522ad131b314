"""The on-call part of the specs compiled into one Alertmanager (0.25) configuration."""
