"""Activation: the outbox, channel adapters and the dispatcher that delivers each action once."""
