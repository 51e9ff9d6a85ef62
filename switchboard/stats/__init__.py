"""The statistics: SQL aggregates over the call records (`aggregates`), the figures they return
(`figures`), what each number means (`glossary`) and the exporter's KPI queries (`kpis`).

Read-only over the projection's tables; nothing here writes, serves or knows about Redis.
"""
