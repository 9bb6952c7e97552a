"""Notifications by email and in the app: the weekly report digest and alerts (incidents, SLA attainment)."""
