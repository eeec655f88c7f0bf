"""The compiler: AST → closures over run-time environments (see `compiler.py`)."""
