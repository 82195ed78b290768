"""read layer: the answers (entity lookup, status and timeline, claim and source details)
read from the projection through its read API, never from the log.

``reader`` (the :class:`~geokb.read.reader.Reader` a KB holds, and the term lookups),
``memo`` (what answers remember, per KB and log position), ``entities``, ``about`` (the
claims about an entity, in order), ``status`` (status and timeline at a world time),
``claims``, ``paging``; the belief model's ``beliefs`` (a claim's times, speakers, grades,
links), ``disputes`` (finding conflicts as of any position), ``conflicts`` (them as
answers), ``voices`` (what an entity said or passed on), ``namekey`` (how names are
compared) and ``validity`` (the valid-at view).
"""
