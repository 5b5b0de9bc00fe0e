"""Blender tests need bpy, which lives in its own environments (see build.py test).

``tests/blender`` runs there; the other tests run in the training environment, which has
no bpy.  ``python build.py test`` runs both, so nothing is silently left out.
"""

import importlib.util
from pathlib import Path

import pytest

collect_ignore = [] if importlib.util.find_spec("bpy") else ["blender"]


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few seconds of real synthetic speech per split: a train and a held-out recipe."""
    from lipsync_train import corpus  # the training environment only

    root = tmp_path_factory.mktemp("corpus")
    for i, recipe in enumerate(
        r for r in corpus.default_recipes(0.004) if r.name in ("diphone", "heldout-ked")
    ):
        corpus.run_job(corpus.Job(i, recipe, 0, seed=1), root)
    return root
