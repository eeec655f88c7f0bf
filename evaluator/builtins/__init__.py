"""The builtin functions and constants, split by domain (lists, attrs, strings, …).

Each domain module registers its builtins with `registry.builtin`; importing this
package imports every domain module, which fills the registry.
"""

from . import core, derivations  # noqa: F401
from . import arith, attrs, context, files, json_format, lists, strings  # noqa: F401
from . import toml_format, xml_format  # noqa: F401
