"""The service's Prometheus metrics and the processes that serve them.

`web_metrics` (the web workers' operational metrics), `business_metrics` (the KPIs' names and
help texts), `collectors` (the ingest consumer's and RQ worker's metrics), `metrics_port` (the
web workers' metrics on a port of their own) and `exporter` (the business KPIs, from SQL and
Redis, in one process). The routes stay in `switchboard.routes`.
"""
