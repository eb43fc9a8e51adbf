"""Glyphgrid's shared contracts: everything both the dataset service and the trainer agree on."""

__version__ = "0.1.0"
