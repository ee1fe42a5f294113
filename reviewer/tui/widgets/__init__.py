"""Widgets grouped by screen area; none of them touches the store."""
