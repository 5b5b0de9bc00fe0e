"""blender_lipsync: speech to lip-sync keyframes on shape keys.

The package imports without Blender: ``blender_lipsync.core`` is plain Python + numpy.
The Blender layer (properties, operators, panels, bake) is registered by ``register()``.
"""
