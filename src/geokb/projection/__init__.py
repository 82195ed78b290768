"""projection layer: events become quads (``quads``), replayed in batches (``batch``)
into the pyoxigraph store that answers reads (``store``); ``timeview`` gives the store as
of a log position and valid at a world date.
"""
