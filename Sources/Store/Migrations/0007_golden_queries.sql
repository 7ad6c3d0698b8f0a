-- Golden queries per collection: known-answer vector queries whose MRR@10 a rebuilt graph
-- must keep, compared query by query with the baseline measured when the set was stored.

CREATE TABLE golden_queries (
    collection_id  bigint PRIMARY KEY REFERENCES collections (id),
    -- [{"tenant","vector":[…],"relevant":["id",…],"baseline_rr"}]
    queries        jsonb NOT NULL,
    baseline_mrr   double precision NOT NULL CHECK (baseline_mrr BETWEEN 0 AND 1),
    set_by         text NOT NULL,
    set_at         timestamptz NOT NULL DEFAULT now()
);
