"""Map the fixed repository layout onto the one installed `ndx` package.

The top-level folders (lang/, evaluator/, stdlib/, grammar/, cli/) become `ndx.lang`,
`ndx.evaluator`, … in the installed distribution; `ndx` itself is a namespace package.
Sub-packages are found by walking each folder, so a new module needs no edit here.
"""

from pathlib import Path

from setuptools import find_packages, setup

ROOTS = {"lang": "ndx.lang", "evaluator": "ndx.evaluator", "stdlib": "ndx.stdlib",
         "grammar": "ndx.grammar", "cli": "ndx.cli"}

# Non-Python files each package ships (grammars, ndx library sources, shell phases).
DATA_PATTERNS = ["*.lark", "*.ndx", "*.sh", "*.json", "*.vim", "*.c", "**/*.ndx", "**/*.sh",
                 "**/*.json", "**/*.vim", "**/*.c", "**/*.patch", "*.patch"]

packages: list[str] = []
package_dir: dict[str, str] = {}
package_data: dict[str, list[str]] = {}
for folder, name in ROOTS.items():
    packages.append(name)
    package_dir[name] = folder
    package_data[name] = DATA_PATTERNS
    for sub in find_packages(where=folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = str(Path(folder, *sub.split(".")))
        package_data[f"{name}.{sub}"] = DATA_PATTERNS

setup(packages=packages, package_dir=package_dir, package_data=package_data)
