"""ndx.stdlib — what programs call beyond the core: the store, builds, fetchers, the image
writer, the registry client, and the library written in ndx itself.

Importing it registers the builtins that live here (the fetchers) in the evaluator's
builtin table, so any evaluation that can reach a store also has them.
"""

from . import override as _override  # noqa: F401,E402 - registers override
from .fetch import primops as _fetch_primops  # noqa: F401 - registers fetch builtins
from .image import layered_primops as _layered_primops  # noqa: F401,E402 - layered images
from .image import primops as _image_primops  # noqa: F401,E402 - registers buildImage
from .registry import primops as _registry_primops  # noqa: F401,E402 - registers pullImage
