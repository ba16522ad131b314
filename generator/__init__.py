"""oncallgen: AI-workload signal specs compiled into Prometheus rules, Alertmanager routing and runbooks."""
