"""Monitoring: thresholds over the metrics snapshot, alerts without storms, alert-sink fan-out."""
