"""The shop: one Django app per bounded context, plus the event bus and a small shared kernel."""
