"""The control plane under `/_mock`: health, the billing clock, reset and the log of changes."""
