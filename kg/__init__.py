"""dkg: a knowledge graph of diplomacy and security news.

The package is laid out by the stages of the flow; imports go down this list, never up:
read -> extract -> map -> validate -> load -> (serve, query); ``pipeline`` ties the stages
together and ``cli`` is a thin layer over it.
"""

__version__ = "0.1.0"
