"""The builtin functions and constants, split by domain (lists, attrs, strings, …).

Each domain module registers its builtins with `registry.builtin`; importing this
package imports every domain module, which fills the registry.
"""

from . import (  # noqa: F401 - imported to register their builtins
    arith,
    attrs,
    context,
    core,
    derivations,
    files,
    json_format,
    lists,
    strings,
    toml_format,
    xml_format,
)
