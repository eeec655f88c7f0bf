"""The builtin functions and constants, split by domain (lists, attrs, strings, …).

Each domain module registers its builtins with `registry.builtin`; importing this
package imports every domain module, which fills the registry.
"""

from . import core, derivations  # noqa: F401
