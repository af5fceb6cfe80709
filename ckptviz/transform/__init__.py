"""Derived checkpoints: part of a checkpoint, renamed or converted, written by ``format.writer``.

Everything here asks the source's ``ObjectGraph`` (``model.graph``) about objects, owners and
paths; nothing re-derives TensorFlow's key grammar.
"""
