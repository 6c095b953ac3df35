"""Build hook of the blindspot package (the metadata is in pyproject.toml).

Why it exists: ``blindspot init`` copies this repository's workspace files (``dvc.yaml``,
``conf/``, the ``.dvc/plots`` templates, the ignore files) into a user's repository, so a
non-editable install must carry them. They live once, at the repository root, where this
project's own pipeline uses them; ``build_py`` copies them into the built package as
``blindspot/_skeleton/`` (the list is :mod:`blindspot.skeleton`'s), so nothing is kept twice
in git. An editable install reads them from the source tree instead.
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("_blindspot_skeleton", HERE / "src" / "blindspot" / "skeleton.py")
skeleton = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(skeleton)


class BuildWithSkeleton(build_py):
    """``build_py``, then the workspace skeleton copied into ``blindspot/_skeleton/`` of the build."""

    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds the skeleton in the source tree (blindspot.skeleton.skeleton_root)
        target = Path(self.build_lib) / "blindspot" / skeleton.PACKAGED
        for rel in skeleton.skeleton_files(HERE):
            dest = target / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / rel, dest)


setup(cmdclass={"build_py": BuildWithSkeleton})
