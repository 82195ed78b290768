"""The "what you would build without geokb" HTTP baseline: a plain FastAPI app over a
pyoxigraph store, answering ``GET /sparql?query=…`` with SPARQL JSON results.

    python -m bench.baseline_app --store DIR --port PORT

Loopback only; the suite starts it and kills it by its pid.
"""

from __future__ import annotations

import argparse

import pyoxigraph as ox
import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import Response


def create_app(store: ox.Store) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, int]:
        return {"ok": 1}

    @app.get("/sparql")
    def sparql(query: str = Query(...)) -> Response:  # plain def: runs in the thread pool
        result = store.query(query)
        assert isinstance(result, ox.QuerySolutions | ox.QueryBoolean)
        body = result.serialize(format=ox.QueryResultsFormat.JSON)
        return Response(body, media_type="application/sparql-results+json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    store = ox.Store(args.store)
    uvicorn.run(create_app(store), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
