"""Routing: teams, agents, the queue, overflow and the record of decisions."""
