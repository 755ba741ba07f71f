"""Adapters: what real devices send → contract messages. One module per dialect."""
