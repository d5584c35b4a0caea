"""Rasa's own messaging connectors, adjusted where they do not fit a real deployment (see each
module). credentials.channels.yml refers to them by module path."""
