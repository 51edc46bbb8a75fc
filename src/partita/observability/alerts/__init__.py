"""Alerts: rules over run events, incidents kept in the catalog, channels that deliver."""
