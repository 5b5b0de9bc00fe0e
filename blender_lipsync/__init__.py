"""blender_lipsync: speech to lip-sync keyframes on shape keys.

The package imports without Blender: ``blender_lipsync.core`` is plain Python + numpy.
The Blender layer (properties, operators, panels, bake) is registered by ``register()``.
"""


def register() -> None:
    """Blender calls this when the extension is enabled."""
    from . import blender

    blender.register()


def unregister() -> None:
    from . import blender

    blender.unregister()
