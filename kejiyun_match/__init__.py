"""kejiyun_match: the precise-matching engine (精准对接) of Kejiyun, as a pure-Python library.

It imports no Django and nothing of the platform; the platform hands it plain dataclasses.
The public surface is what `__all__` lists; everything else lives in private modules.
"""

from kejiyun_match._text import normalise_text

__all__ = ["normalise_text"]
__version__ = "0.1.0"
