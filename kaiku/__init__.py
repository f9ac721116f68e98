"""Kaiku's services: alerts, cases, teams, the scheduler, its database and configuration store, and the wiring
that builds the long-lived parts from settings. Under the API (api/) and the command (cli/)."""
