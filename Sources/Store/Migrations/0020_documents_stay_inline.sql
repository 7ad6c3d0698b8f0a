-- Documents stay inline and uncompressed (issue 19). A row of a 384-d embedding (1.5 KB) and
-- its passage is over PostgreSQL's 2 KB toast threshold, so every insert tried to compress the
-- floats with pglz (which rarely shrinks them) and then moved them to the TOAST table: a
-- quarter of PostgreSQL's ingest time, inside the collection's write transaction. Rows up to
-- the page's 8160 bytes now stay in the heap as they are; longer ones are still moved out of
-- line, and an embedding is never compressed (float bits do not compress).
ALTER TABLE documents SET (toast_tuple_target = 8160);
ALTER TABLE documents ALTER COLUMN embedding SET STORAGE EXTERNAL;
