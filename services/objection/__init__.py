"""The objection service: objections and appeals with their statutory clocks."""
