"""Live objects: will a checkpoint load into these objects (``match``), and loading it (``restore``)
into TensorFlow/Keras objects (``tf``, the only place TensorFlow is imported) or numpy trees."""
