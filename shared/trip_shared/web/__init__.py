"""HTTP conventions shared by every service: problem details, API-key auth, health, metrics."""
