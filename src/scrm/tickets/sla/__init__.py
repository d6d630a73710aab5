"""SLA: business calendars, deadline maths, policies and their timers."""
