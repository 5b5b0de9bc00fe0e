"""The thin Blender layer: properties, operators, panels and the bake (imports bpy).

Everything that does not need Blender lives in ``blender_lipsync.core``.
"""

from . import engine, operators, panels, properties

_MODULES = (properties, operators, panels)


def register() -> None:
    for module in _MODULES:
        module.register()


def unregister() -> None:
    for module in reversed(_MODULES):
        module.unregister()
    engine.forget_engines()
