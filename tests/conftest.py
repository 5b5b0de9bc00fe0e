"""Blender tests need bpy, which lives in its own environments (see build.py test).

``tests/blender`` runs there; the other tests run in the training environment, which has
no bpy.  ``python build.py test`` runs both, so nothing is silently left out.
"""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("bpy") else ["blender"]
